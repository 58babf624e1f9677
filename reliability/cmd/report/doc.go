// Command report runs the reliability tests and writes RELIABILITY.md:
// each promise, the tests that check it, whether they passed, and the
// figures of the run (faults injected and survived, inputs tried, rows
// checked, writes lost).
//
//	go run ./reliability/cmd/report [-o RELIABILITY.md] [-run regexp] [-race=false]
//
// It runs `go test -json -count=1 -race -v ./reliability/` (with the
// environment it was given, so SQLGEN_TEST_DSN, SQLGEN_SOAK, SQLGEN_SEED
// ... apply), collects the lines the tests log as
//
//	RELIABILITY: key=value
//
// and the result of each test, and writes the report even when tests
// fail (a failing test documents a library bug; the report says which).
// It exits with status 1 when the tests failed, 2 when they could not be
// run.
package main
