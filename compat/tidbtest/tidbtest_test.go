package tidbtest_test

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/compat/tidbtest"
)

func TestStart(t *testing.T) {
	dsn := tidbtest.Start(t)
	if !strings.HasSuffix(dsn, "/") {
		t.Fatalf("DSN %q does not end in /", dsn)
	}
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow("SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v, "TiDB") {
		t.Fatalf("VERSION() = %q, want a TiDB version", v)
	}
}
