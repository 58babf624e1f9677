#!/usr/bin/env bash
# Runs the benchmark suite and writes RESULTS.md and the charts.
#
# The suite runs ROUNDS times over (each round runs every benchmark COUNT
# times): interleaving the libraries this way means a burst of load on the
# machine hits different libraries in different rounds, so the medians the
# report takes are robust. Each round creates and drops its own database
# on the server at $SQLGEN_TEST_DSN (default root@tcp(127.0.0.1:3306)/;
# `make db` starts one).
#
#   ./run.sh                              # 6 rounds, 200ms per benchmark
#   ROUNDS=3 BENCHTIME=100ms ./run.sh     # quicker
#   BENCH='Fake/Read' ./run.sh            # a subset (-bench regexp)
#   LIB=HEAD ./run.sh                     # the library as committed at a git
#                                         # revision, not the work tree
#
# The test binary is left in bench.test, so that profiles (make profile
# BIN=bench.test) measure exactly the code the results came from.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-6}
COUNT=${COUNT:-1}
BENCHTIME=${BENCHTIME:-200ms}
BENCH=${BENCH:-.}
OUT=${OUT:-results.txt}

bin=$PWD/bench.test
modflag=()
if [ -n "${LIB:-}" ]; then
	# Build against a snapshot of the library at git revision $LIB.
	snap=$(mktemp -d)
	trap 'rm -rf "$snap"' EXIT
	git -C .. archive "$LIB" | tar -x -C "$snap"
	sed "s#=> \.\./*\$#=> $snap#" go.mod >"$snap/bench.mod"
	cp go.sum "$snap/bench.sum"
	modflag=(-modfile="$snap/bench.mod")
	rev="$(git -C .. rev-parse --short "$LIB") (committed snapshot)"
else
	rev=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C .. diff --quiet HEAD -- sqlgen fields 2>/dev/null || rev="$rev + uncommitted changes in the work tree"
fi
go test "${modflag[@]}" -c -o "$bin" .

: >"$OUT"
for i in $(seq "$ROUNDS"); do
	echo "run.sh: round $i of $ROUNDS" >&2
	"$bin" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" \
		-test.count "$COUNT" -test.timeout 60m | tee -a "$OUT"
done

go run ./cmd/report -in "$OUT" -out RESULTS.md -charts charts -notes NOTES.md -rev "$rev" \
	-cmd "ROUNDS=$ROUNDS COUNT=$COUNT BENCHTIME=$BENCHTIME BENCH='$BENCH' ./run.sh"
