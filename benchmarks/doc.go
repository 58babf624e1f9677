// Package benchmarks compares sqlgen with hand-written database/sql code
// (raw), sqlx, GORM and bun on the same operations, against two backends:
// an in-process fake driver (package fakedb) that isolates each library's
// mapping overhead, and a real MySQL/MariaDB server. See README.md.
//
// It is a module of its own so that the other libraries never reach
// sqlgen's go.mod.
package benchmarks
