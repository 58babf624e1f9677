#!/usr/bin/env bash
# Counts the machine instructions per operation of raw and sqlgen on the
# fake backend with valgrind's callgrind: unlike ns/op, the count does not
# depend on what else the machine is doing, so a change of a few percent
# shows. Each figure is (I(n2) - I(n1)) / (n2 - n1) for two runs of
# -benchtime n1x and n2x, which cancels the setup. The garbage collector
# is off (GOGC=off): its work depends on timing and would make the counts
# jitter by a few per cent; what a library allocates is measured
# separately, as allocs/op and B/op.
#
#   ./icount.sh                 # the read and write operations
#   OPS='Read ReadWhere' ./icount.sh
#   BIN=/tmp/old.test ./icount.sh   # another build of the suite
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "icount.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

OPS=${OPS:-Read ReadWhere ReadSlice ReadJSON Insert Update Delete InsertJSON}
LIBS=${LIBS:-raw sqlgen}
BIN=${BIN:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$BIN" ]; then
	BIN=$tmp/bench.test
	go test -c -o "$BIN" .
fi

# instructions BENCH N: the instructions of one run of BENCH with N
# iterations. Go programs under valgrind now and then die of a signal;
# such a run is repeated.
instructions() {
	for _ in 1 2 3 4 5; do
		if GOGC=off GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind \
			--callgrind-out-file="$tmp/cg" "$BIN" -test.run '^$' -test.bench "$1" \
			-test.benchtime "${2}x" >"$tmp/out" 2>&1 && grep -q '^PASS' "$tmp/out"; then
			awk '/^summary:/ {print $2}' "$tmp/cg"
			return
		fi
	done
	echo "icount.sh: $1 did not run under valgrind" >&2
	exit 1
}

printf '| op |'; for lib in $LIBS; do printf ' %s |' "$lib"; done; printf ' sqlgen ×raw |\n'
printf '|---|'; for _ in $LIBS; do printf -- '---:|'; done; printf -- '---:|\n'
for op in $OPS; do
	n1=10000 n2=30000
	case $op in ReadSlice | InsertMulti) n1=300 n2=900 ;; esac
	printf '| %s |' "$op"
	declare -A per=()
	for lib in $LIBS; do
		re="Fake/^$op\$/^$lib\$"
		a=$(instructions "$re" $n1)
		b=$(instructions "$re" $n2)
		per[$lib]=$(((b - a) / (n2 - n1)))
		printf ' %s |' "${per[$lib]}"
	done
	if [ -n "${per[raw]:-}" ] && [ -n "${per[sqlgen]:-}" ]; then
		awk -v s="${per[sqlgen]}" -v r="${per[raw]}" 'BEGIN { printf " %.3f× |\n", s / r }'
	else
		printf ' – |\n'
	fi
	unset per
done
