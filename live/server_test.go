package live

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/live/livetest"
)

// The tests run against a throwaway MariaDB with a binary log
// (livetest.Start), started on first use on a free port, data under /tmp,
// and killed by PID when the test binary ends (TestMain; with the binary
// too, should it crash). If it cannot be started, every test that needs it
// fails (none skips).
var (
	binlogDSN  string // root@tcp(127.0.0.1:PORT)/
	binlogOnce sync.Once
	dbCounter  atomic.Int64
)

func TestMain(m *testing.M) { livetest.Main(m) }

// needServer fails the test when the throwaway server is not there.
func needServer(t testing.TB) {
	t.Helper()
	dsn := livetest.Start(t)
	binlogOnce.Do(func() { binlogDSN = dsn })
}

// newDatabase creates a database on the binlog server, with stmts run in
// it, and returns its DSN (extra DSN params appended); it is dropped at
// the end of the test.
func newDatabase(t testing.TB, params string, stmts ...string) (string, *sql.DB) {
	t.Helper()
	needServer(t)
	name := fmt.Sprintf("live_%d_%d", os.Getpid(), dbCounter.Add(1))
	root, err := sql.Open("mysql", binlogDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	if _, err := root.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
	dsn := binlogDSN + name
	if params != "" {
		dsn += "?" + params
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = false
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return dsn, db
}

func exec1(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
