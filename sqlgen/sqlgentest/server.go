package sqlgentest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// Admin opens a second pool to the server of [DSN], with no default
// database, for KILL, the process list and server settings. t.Cleanup
// closes it.
func Admin(t testing.TB) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(DSN())
	if err != nil {
		t.Fatalf("sqlgentest: %s=%q is not a valid DSN: %v", EnvDSN, DSN(), err)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("sqlgentest: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	return admin
}

// DatabaseName returns the name of the database conn is connected to
// (SELECT DATABASE()).
func DatabaseName(t testing.TB, conn *sql.DB) string {
	t.Helper()
	var name string
	if err := conn.QueryRow("SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatalf("sqlgentest: %v", err)
	}
	return name
}

// Thread is one row of the server's process list.
type Thread struct {
	ID      int64
	Command string // such as "Sleep", "Query", "Execute"
	State   string
	Info    string // the statement it runs, if any
	Time    float64
}

// Threads lists the server threads connected to database dbName, other
// than the caller's own, in the order of their ids, as
// information_schema.PROCESSLIST shows them. admin is a pool such as
// [Admin] returns.
func Threads(ctx context.Context, admin *sql.DB, dbName string) ([]Thread, error) {
	rows, err := admin.QueryContext(ctx,
		"SELECT ID, COMMAND, COALESCE(STATE, ''), COALESCE(INFO, ''), TIME FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() ORDER BY ID", dbName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Thread
	for rows.Next() {
		var th Thread
		if err := rows.Scan(&th.ID, &th.Command, &th.State, &th.Info, &th.Time); err != nil {
			return nil, err
		}
		out = append(out, th)
	}
	return out, rows.Err()
}
