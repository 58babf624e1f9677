// Command quickstart walks through sqlgen on two related types, an
// organisation and its users, printing every step with the SQL it ran and
// the rows it got.
//
// With SQLGEN_DSN set (a go-sql-driver/mysql DSN such as
// root@tcp(127.0.0.1:3306)/) it runs against that MySQL or MariaDB server,
// in the DSN's database or, if it names none, in sqlgen_examples (created
// if missing). Without it, it starts an embedded in-memory
// go-mysql-server, so nothing needs to be installed:
//
//	cd examples && go run ./quickstart
//
// It creates the tables organizations, users and org_features, refuses to
// run if they already exist, and drops them at the end (unless -keep).
package main
