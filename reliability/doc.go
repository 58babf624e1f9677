// Package reliability holds the reliability tests of sqlgen: faults
// injected into a real MySQL/MariaDB server, hostile and oversized input,
// a randomised round-trip property test, fuzz targets and a soak test.
// The package itself is empty; everything is in its _test.go files, and
// the report generator is in reliability/cmd/report.
//
// The tests run against the server at SQLGEN_TEST_DSN (default
// root@tcp(127.0.0.1:3306)/, see package sqlgentest), one throwaway
// database per test, and are part of `go test ./...`. A default run takes
// well under a minute; environment variables make it longer:
//
//   - SQLGEN_SOAK: duration of the soak and torn-read tests (default 3s
//     and 1.5s; SQLGEN_SOAK=60s runs both for a minute).
//   - SQLGEN_ROUNDTRIP_N: rows of the round-trip property test per driver
//     variant (default 1200 in batches, plus a tenth of that one by one).
//   - SQLGEN_FAULT_ROUNDS: how many times each injected fault is repeated
//     (default 1).
//   - SQLGEN_SEED: seed of every random choice (default fixed, so runs are
//     reproducible; "random" picks one from the clock). Each test logs the
//     seed it used.
//
// Each test logs the figures of the report as lines of the form
//
//	RELIABILITY: key=value
//
// and `go run ./reliability/cmd/report` (the Makefile's reliability
// target) runs the tests and writes them into RELIABILITY.md, with the
// promise each test checks.
//
// What is promised, and by which test:
//
//   - A connection killed by the server mid-transaction (KILL from another
//     connection) fails the call, leaves none of the transaction's writes,
//     and the pool serves the next call: TestKillMidTransaction.
//   - A batch write (InsertRows, UpsertRows) whose connection is killed
//     between two chunk statements leaves every row of the batch or none:
//     TestKillDuringBatch.
//   - A context that ends during a statement (a slow query, a row lock)
//     returns the context's error within a second of its deadline, the
//     pool stays usable and no goroutine is left: TestContextEndsMidStatement.
//   - A lock wait timeout is MySQL error 1205, reachable with errors.As,
//     and retryable: TestLockWaitTimeout.
//   - Rows read while another goroutine writes them are never torn:
//     TestNoTornReads.
//   - Quotes, comments, NUL bytes and unicode in values are data; in
//     names (filter keys, Order, index hints, registration) they are
//     refused before anything is sent: TestInjection*.
//   - Data that does not fit its column is an error naming the column or
//     table, never silently changed, never a panic, and nothing is
//     written: TestDataThatDoesNotFit, TestOversizedDocument,
//     TestBatchLargerThanPacket, TestNonFiniteFloats,
//     TestFloat32ReadsExactly, TestInvalidStoredDate; what happens to
//     invalid UTF-8 in JSON is recorded by TestInvalidUTF8InJSON.
//   - Every supported column type round-trips exactly:
//     TestRoundTripProperty, and the fuzz targets FuzzJSONRoundTrip and
//     FuzzDateTimeText (with fields.FuzzScanJSON and
//     sqlgen.FuzzBuildStruct, written elsewhere).
//
// Tests that fail document open library bugs; RELIABILITY.md lists them
// with the fix each needs.
//   - Under a concurrent mix of reads, writes and transactions, no write is
//     lost or duplicated, connections return to the pool, memory returns
//     to its starting level and no goroutine leaks: TestSoak.
package reliability
