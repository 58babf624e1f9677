// Package leakcheck finds goroutines that a test started and left behind.
//
// It takes a snapshot of the goroutines that exist (runtime.Stack with
// all=true), and after the test waits, up to a timeout (5 s by default),
// for every goroutine that was not in the snapshot to end. Those still
// running are reported with their stacks.
//
// Goroutines that legitimately outlive a test are ignored: those of the
// testing package and the runtime (test runners, the fuzzing engine,
// signal handling), and, unless [StrictSQL] is given, the background
// goroutines of an open *sql.DB (database/sql's connection opener and
// cleaner) and of the MySQL driver's open connections (the context
// watcher of each connection), which live until the pool is closed.
//
// Use [Check] at the start of a test (before the test opens its pools, so
// that its check runs after their cleanups close them), or [Main] in
// TestMain for the whole package:
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
//
// The package is a small stand-in for go.uber.org/goleak, which the module
// does not depend on.
package leakcheck
