// Package fakedb is an in-process database/sql driver that answers every
// statement with canned rows shaped exactly as go-sql-driver/mysql (v1.8+)
// hands them to database/sql, so that benchmarks built on it measure the
// mapping overhead of the library under test and nothing else: no network,
// no protocol parsing, no per-row allocation in the driver.
//
// The value shapes follow the driver's readRow functions (packets.go, both
// the text and the binary protocol): every integer column (TINYINT,
// SMALLINT, INT, BIGINT, and so TINYINT(1) booleans) arrives as int64;
// FLOAT as float32 and DOUBLE as float64; VARCHAR, TEXT, BLOB, JSON,
// DECIMAL, and DATETIME without parseTime=true as []byte; NULL as nil.
// Canned values are boxed once, when the table is registered, so handing a
// row to database/sql copies interface words and allocates nothing.
//
// Which rows a query gets is decided from its text only:
//
//   - the table is the first registered table whose name occurs in the
//     statement (so register names that do not contain one another);
//   - a SELECT is answered with the columns of its select list (`*` for
//     all of them, in table order; qualifiers and backticks are ignored),
//     resolved once per distinct select list and cached;
//   - a SELECT with a WHERE clause returns one row, [Table.Match]; one
//     without returns LIMIT n rows (a literal, or a `?` bound to the last
//     argument), or all of [Table.Rows], cycling through Rows when n is
//     larger;
//   - an INSERT, UPDATE or DELETE ... RETURNING sent as a query (as GORM
//     and bun do on MariaDB 10.5+) returns one row per VALUES group from
//     Rows, with the RETURNING columns;
//   - SELECT VERSION() (any case) returns [Server.Version], and SELECT
//     @@variable the value in [Server.Vars];
//   - Exec never fails: an INSERT reports a fresh LastInsertId and as many
//     affected rows as it has VALUES groups, UPDATE and DELETE one
//     affected row, anything else (DDL, SET, ...) zero.
//
// Arguments are accepted whatever they are: plain driver values pass as
// they are, and anything else (a driver.Valuer, an int, a named type) goes
// through database/sql's default conversion, which calls Value() — as the
// MySQL driver's own converter does — so a library that encodes JSON in a
// Valuer still pays for it.
//
// Connections implement driver.QueryerContext and driver.ExecerContext, so
// database/sql never prepares a statement, and each connection reuses one
// driver.Rows, so a query allocates nothing in the driver. An Exec
// allocates its driver.Result (16 bytes), as the MySQL driver does.
package fakedb
