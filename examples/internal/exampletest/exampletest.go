package exampletest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// ServerDSN creates a database named sqlgen_ex_<random> on the server of
// SQLGEN_TEST_DSN (default root@tcp(127.0.0.1:3306)/) and returns a DSN
// for it; t.Cleanup drops it. A server that cannot be reached fails the
// test (it never skips) with a hint to run `make db`.
func ServerDSN(t testing.TB) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(sqlgentest.DSN())
	if err != nil {
		t.Fatalf("%s=%q is not a valid DSN: %v", sqlgentest.EnvDSN, sqlgentest.DSN(), err)
	}
	admin := cfg.Clone()
	admin.DBName = ""
	conn, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.PingContext(ctx); err != nil {
		t.Fatalf("cannot reach the MySQL/MariaDB server at %s %s (%s=%q): %v\n"+
			"start one with `make db` from the repository root, or point %s at one",
			cfg.Net, cfg.Addr, sqlgentest.EnvDSN, sqlgentest.DSN(), err, sqlgentest.EnvDSN)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "sqlgen_ex_" + hex.EncodeToString(b[:])
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}
