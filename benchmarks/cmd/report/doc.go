// Command report turns `go test -bench` output of the benchmarks package
// (best run with -count 6 or so) into RESULTS.md: the median ns/op, B/op
// and allocs/op of every benchmark, each library's ratio to raw, a check
// of the performance targets, and bar charts (SVG and PNG) made with
// gonum.org/v1/plot.
//
//	go test -run '^$' -bench . -count 6 . | tee results.txt
//	go run ./cmd/report -in results.txt -out RESULTS.md -charts charts
package main
