// Package sqlgentest gives each test a throwaway MySQL or MariaDB database.
//
// [Open] (or [OpenSchema], [OpenFile]) reads the server's DSN from the environment variable
// SQLGEN_TEST_DSN (default "root@tcp(127.0.0.1:3306)/"), creates a database
// with a unique name, returns a *sql.DB connected to it, and drops the
// database when the test ends. A server that cannot be reached fails the
// test with a message that says how to start one; it never skips.
package sqlgentest
