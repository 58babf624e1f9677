// Package exampledb holds what the examples share: the tables they use,
// their DDL, sample data, and the choice between a real MySQL/MariaDB
// server and an embedded in-memory one (see [Open]).
package exampledb
