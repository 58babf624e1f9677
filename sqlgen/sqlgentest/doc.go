// Package sqlgentest gives each test a throwaway MySQL or MariaDB database,
// and the fixtures the repository's tests share.
//
// [Open] (or [OpenSchema], [OpenFile]) reads the server's DSN from the environment variable
// SQLGEN_TEST_DSN (default "root@tcp(127.0.0.1:3306)/"), creates a database
// with a unique name, returns a *sql.DB connected to it, and drops the
// database when the test ends; [NewDatabase] does the same and returns the
// DSN, for code that opens its own connections. A server that cannot be
// reached fails the test with a message that says how to start one; it
// never skips.
//
// [Recorder] is an observer ([sqlgen.WithObserver]) that records the
// statements a DB runs. [Admin], [DatabaseName] and [Threads] look at the
// server's side: a pool with no default database (for KILL and settings),
// the name of a pool's database, and the server threads connected to it.
//
// [StartServer] (and [NewServer]) start a throwaway server of the test's
// own, on a free port with its data under a temporary directory, for the
// tests that need a server setting the shared one must not have (a binary
// log, a replica, a small max_allowed_packet) or a server they can kill.
package sqlgentest
