#!/usr/bin/env bash
# db.sh - make sure a MySQL/MariaDB server answers at the SQLGEN_TEST_DSN
# address (default root@tcp(127.0.0.1:3306)/), for `make db` / `make test`.
#
#   1. If a server already accepts the DSN credentials: say so, touch nothing.
#   2. If something else holds the port: fail with a clear message.
#   3. Find mariadbd/mysqld (on Debian as root: apt-get install mariadb-server).
#   4. Start a throwaway server with its data dir under /tmp/sqlgen-db.XXXXXX.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DSN="${SQLGEN_TEST_DSN:-root@tcp(127.0.0.1:3306)/}"
WAIT_SECONDS=60

say() { echo "db: $*"; }
die() { echo "db: $*" >&2; exit 1; }

# --- Parse the DSN: user[:pass]@net(addr)/dbname?params -------------------
# Split like the driver does: the last '/' starts the database name, the
# last '@' before it ends the user info, the first ':' in that ends the user.
[[ "$DSN" == */* ]] || die "bad SQLGEN_TEST_DSN '$DSN': missing '/' before the database name"
rest="${DSN%/*}"            # user[:pass]@net(addr)
dbname="${DSN##*/}"
dbname="${dbname%%\?*}"     # drop ?params
user="" pass=""
if [[ "$rest" == *@* ]]; then
	userinfo="${rest%@*}"
	rest="${rest##*@}"
	user="${userinfo%%:*}"
	[[ "$userinfo" == *:* ]] && pass="${userinfo#*:}"
fi
[[ -n "$user" ]] || user=root

net="${rest%%(*}"
addr=""
[[ "$rest" == *"("*")"* ]] && { addr="${rest#*(}"; addr="${addr%)}"; }
net="${net:-tcp}"
[[ "$net" == tcp ]] || die "only tcp(host:port) DSNs are supported, got '$net' in SQLGEN_TEST_DSN"

host="" port=""
if [[ "$addr" == \[* ]]; then # [ipv6]:port
	host="${addr#[}"; host="${host%%]*}"
	[[ "$addr" == *]:* ]] && port="${addr##*]:}"
elif [[ "$addr" == *:* ]]; then
	host="${addr%:*}"; port="${addr##*:}"
else
	host="$addr"
fi
host="${host:-127.0.0.1}"
port="${port:-3306}"
[[ "$port" =~ ^[0-9]+$ ]] || die "bad port '$port' in SQLGEN_TEST_DSN"
where="$user@$host:$port"

# --- Helpers ---------------------------------------------------------------

# admin_tool prints mariadb-admin or mysqladmin, if installed.
admin_tool() { command -v mariadb-admin || command -v mysqladmin || true; }

# answers succeeds if a server at host:port accepts the DSN credentials.
# Note: `mysqladmin ping` exits 0 even on "Access denied", so use `status`.
answers() {
	local admin
	admin="$(admin_tool)"
	if [[ -n "$admin" ]]; then
		MYSQL_PWD="$pass" "$admin" --no-defaults --protocol=TCP --connect-timeout=3 \
			-h "$host" -P "$port" -u "$user" status >/dev/null 2>&1
	else
		SQLGEN_TEST_DSN="$DSN" go run ./scripts/dbping >/dev/null 2>&1
	fi
}

# port_busy succeeds if anything accepts TCP connections at host:port.
port_busy() {
	local t=()
	command -v timeout >/dev/null && t=(timeout 3)
	${t[@]+"${t[@]}"} bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

# find_bin prints the first of the given programs found in PATH or the usual
# server directories.
find_bin() {
	local name dir
	for name in "$@"; do
		if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
		for dir in /usr/sbin /usr/local/bin /usr/local/mysql/bin; do
			if [[ -x "$dir/$name" ]]; then echo "$dir/$name"; return 0; fi
		done
	done
	return 1
}

# sql_str quotes $1 as an SQL string literal.
sql_str() {
	local s="${1//\\/\\\\}"
	printf "'%s'" "${s//\'/\'\'}"
}

# --- Step 1: already running? ---------------------------------------------
if answers; then
	say "server already running at $where"
	exit 0
fi

# --- Step 2: port taken by something else? --------------------------------
if port_busy; then
	alt=$((port == 3407 ? 3408 : 3407))
	die "something listens on $host:$port but does not accept user '$user' with the given password;
    fix the credentials in SQLGEN_TEST_DSN or point it at a free port to get a
    throwaway server, e.g. SQLGEN_TEST_DSN='root@tcp(127.0.0.1:$alt)/' make test"
fi

bind=127.0.0.1
case "$host" in
127.0.0.1 | localhost) ;;
::1) bind=::1 ;;
*) die "no server answers at $host:$port; a throwaway server can only be started on 127.0.0.1, localhost or ::1" ;;
esac

# --- Step 3: find (or install) a server binary ----------------------------
server="$(find_bin mariadbd mysqld || true)"
if [[ -z "$server" ]]; then
	if [[ -f /etc/debian_version && "$(id -u)" == 0 ]]; then
		say "no MySQL/MariaDB server found; installing mariadb-server with apt-get"
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server
		# The package may have started the distro service.
		if answers; then
			say "server now running at $where (distro mariadb-server)"
			exit 0
		fi
		server="$(find_bin mariadbd mysqld || true)"
	fi
	if [[ -z "$server" ]]; then
		die "no MySQL/MariaDB server found. Install one, then rerun 'make db':
    Debian/Ubuntu: sudo apt-get install mariadb-server
    Fedora/RHEL:   sudo dnf install mariadb-server
    macOS:         brew install mariadb
  or point SQLGEN_TEST_DSN at an existing server."
	fi
fi

# apt may have started a server on our port that rejects the credentials.
if port_busy; then
	die "something listens on $host:$port but does not accept user '$user' with the given password;
    set SQLGEN_TEST_DSN to credentials that work, or to a free port"
fi

# --- Step 4: start a throwaway server -------------------------------------
dir="$(mktemp -d /tmp/sqlgen-db.XXXXXX)"
data="$dir/data"
log="$dir/error.log"
run_as=()
[[ "$(id -u)" == 0 ]] && run_as=(--user=root)

fail() {
	echo "db: $*" >&2
	if [[ -f "$log" ]]; then
		echo "db: last lines of $log:" >&2
		tail -n 25 "$log" >&2
	fi
	echo "db: data dir left in $dir for inspection" >&2
	exit 1
}

extra=()
if "$server" --version 2>/dev/null | grep -qi mariadb; then
	flavour=MariaDB
	installer="$(find_bin mariadb-install-db mysql_install_db || true)"
	[[ -n "$installer" ]] || fail "found $server but not mariadb-install-db"
	# 'normal' root auth: root@localhost/127.0.0.1/::1 with an empty password.
	"$installer" --no-defaults --datadir="$data" ${run_as[@]+"${run_as[@]}"} \
		--auth-root-authentication-method=normal --skip-test-db \
		>"$dir/install.log" 2>&1 ||
		{ cat "$dir/install.log" >>"$log"; fail "mariadb-install-db failed"; }
else
	flavour=MySQL
	extra=(--mysqlx=OFF) # X protocol would also grab port 33060
	# --initialize-insecure: root@localhost with an empty password.
	"$server" --no-defaults --initialize-insecure --datadir="$data" ${run_as[@]+"${run_as[@]}"} \
		--log-error="$log" ||
		fail "mysqld --initialize-insecure failed"
fi

# At first start: create the DSN user (or set root's password) and the DSN
# database, if any.
: >"$dir/init.sql"
if [[ "$user" != root || -n "$pass" ]]; then
	u="$(sql_str "$user")" p="$(sql_str "$pass")"
	for h in localhost 127.0.0.1 ::1 %; do
		cat <<-EOF
			CREATE USER IF NOT EXISTS $u@'$h' IDENTIFIED BY $p;
			ALTER USER $u@'$h' IDENTIFIED BY $p;
			GRANT ALL PRIVILEGES ON *.* TO $u@'$h' WITH GRANT OPTION;
		EOF
	done >>"$dir/init.sql"
fi
if [[ -n "$dbname" ]]; then
	echo "CREATE DATABASE IF NOT EXISTS \`${dbname//\`/\`\`}\`;" >>"$dir/init.sql"
fi
[[ -s "$dir/init.sql" ]] && extra+=(--init-file="$dir/init.sql")

# setsid + nohup: the server outlives make and ignores its signals.
detach=(nohup)
command -v setsid >/dev/null && detach=(setsid nohup)
"${detach[@]}" "$server" --no-defaults \
	--datadir="$data" \
	--port="$port" \
	--bind-address="$bind" \
	--socket="$dir/mysql.sock" \
	--pid-file="$dir/mysqld.pid" \
	--log-error="$log" \
	--skip-log-bin \
	${run_as[@]+"${run_as[@]}"} ${extra[@]+"${extra[@]}"} \
	</dev/null >>"$log" 2>&1 &
pid=$!

for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
	if answers; then
		[[ -f "$dir/mysqld.pid" ]] && pid="$(cat "$dir/mysqld.pid")"
		say "started throwaway $flavour ($server) at $where, pid $pid"
		say "data dir: $dir"
		say "stop it:  kill \$(cat $dir/mysqld.pid) && rm -rf $dir"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || fail "$flavour server exited during startup"
	sleep 0.5
done
kill "$pid" 2>/dev/null || true
fail "$flavour server did not answer at $where within ${WAIT_SECONDS}s (stopped it)"
