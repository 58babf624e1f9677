// Command dbping checks that a MySQL/MariaDB server accepts the DSN in
// SQLGEN_TEST_DSN (default "root@tcp(127.0.0.1:3306)/").
//
// It exits 0 if the server accepts the credentials within 3 seconds and 1
// otherwise. Like mariadb-admin, it ignores the database name in the DSN:
// only the server and the credentials are checked. scripts/db.sh falls back
// to it when mariadb-admin/mysqladmin is not installed:
//
//	go run ./scripts/dbping
package main
