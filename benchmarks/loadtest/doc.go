// Command loadtest is a macro benchmark of sqlgen against hand-written
// database/sql (raw), sqlx and GORM: an HTTP server on 127.0.0.1 answers
// GET /models with SliceLimit (100) rows of model A as JSON, read with one
// library at a time, while a load generator in the same process sends a
// bounded number of requests at a fixed concurrency and checks every
// answer. A sampler reads runtime/metrics every few milliseconds, so that
// the report gives, per library, requests/s, the peak heap in use, the
// bytes allocated and the GC cycles, under the load of many requests in
// flight rather than one operation in a loop.
//
// Every library runs with the requests served (database query + JSON
// encoding) unbounded, and with at most -limits of them at once (a
// semaphore), in several interleaved rounds whose median is reported.
//
// Run it from benchmarks/ (needs a MySQL/MariaDB at $SQLGEN_TEST_DSN,
// default root@tcp(127.0.0.1:3306)/; `make db` at the root starts one):
//
//	go run ./loadtest                     # table on stdout
//	go run ./loadtest -out LOADTEST.md    # also the report and charts/loadtest_heap.svg
//
// It creates a database sqlgen_bench_<random>, seeds it, and drops it at
// the end, also on SIGINT/SIGTERM.
package main
