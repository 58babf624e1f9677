package sqlgentest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// EnvDSN is the environment variable that holds the test server's DSN.
const EnvDSN = "SQLGEN_TEST_DSN"

// DefaultDSN is used when EnvDSN is not set.
const DefaultDSN = "root@tcp(127.0.0.1:3306)/"

// DSN returns the server DSN from the environment, or [DefaultDSN].
func DSN() string {
	if d := os.Getenv(EnvDSN); d != "" {
		return d
	}
	return DefaultDSN
}

// Option adjusts the DSN of the database that [Open] returns.
type Option func(*mysql.Config)

// Params sets DSN parameters such as parseTime or interpolateParams.
func Params(kv ...string) Option {
	return func(c *mysql.Config) {
		for i := 0; i+1 < len(kv); i += 2 {
			switch kv[i] {
			case "parseTime":
				c.ParseTime = kv[i+1] == "true"
			case "interpolateParams":
				c.InterpolateParams = kv[i+1] == "true"
			case "clientFoundRows":
				c.ClientFoundRows = kv[i+1] == "true"
			default:
				if c.Params == nil {
					c.Params = map[string]string{}
				}
				c.Params[kv[i]] = kv[i+1]
			}
		}
	}
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// Open creates a database for t and returns a connection pool to it. The
// database and the pool are dropped and closed by t.Cleanup. schemaSQL,
// if given, are statements run in the new database first (such as CREATE
// TABLE statements).
func Open(t testing.TB, schemaSQL []string, opts ...Option) *sql.DB {
	t.Helper()
	dsn := NewDatabase(t, opts...)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("sqlgentest: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, stmt := range schemaSQL {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("sqlgentest: %v\n%s", err, stmt)
		}
	}
	return db
}

// NewDatabase creates a database for t, to be dropped by t.Cleanup, and
// returns the DSN that connects to it (with opts applied), for code that
// opens its own connections.
func NewDatabase(t testing.TB, opts ...Option) string {
	t.Helper()
	dsn := DSN()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("sqlgentest: %s=%q is not a valid DSN: %v", EnvDSN, dsn, err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("sqlgentest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("sqlgentest: no MySQL/MariaDB server answers at %q: %v\n"+
			"Start one with `make db` (it starts a throwaway MariaDB on 127.0.0.1), "+
			"or point %s at a server you can create databases on.", dsn, err, EnvDSN)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := strings.ToLower(t.Name())
	name = unsafeChars.ReplaceAllString(name, "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = "sqlgen_" + name + "_" + hex.EncodeToString(suffix[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		t.Fatalf("sqlgentest: creating database %s: %v", name, err)
	}
	// Registered before the caller's own clean-ups, so it runs after them:
	// connections to the database are closed by the time it is dropped.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("sqlgentest: dropping database %s: %v", name, err)
		}
		admin.Close()
	})
	cfg.DBName = name
	for _, o := range opts {
		o(cfg)
	}
	return cfg.FormatDSN()
}

// Exec runs statements on db, failing the test on the first error.
func Exec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("sqlgentest: %v\n%s", err, s)
		}
	}
}

// String describes where tests run, for log lines.
func String() string { return fmt.Sprintf("%s=%q", EnvDSN, DSN()) }

// OpenSchema is [Open] with the tables of schema created by
// [sqlgen.Schema.CreateTableSQL], in the order [sqlgen.Schema.Tables]
// returns them, which is no particular order (the statements name no
// other table, so the order does not matter).
func OpenSchema(t testing.TB, schema *sqlgen.Schema, opts ...Option) *sql.DB {
	t.Helper()
	var stmts []string
	for _, table := range schema.Tables() {
		stmt, err := schema.CreateTableSQL(table)
		if err != nil {
			t.Fatalf("sqlgentest: %v", err)
		}
		stmts = append(stmts, stmt)
	}
	return Open(t, stmts, opts...)
}

// OpenFile is [Open] with the statements of the SQL file at path (see
// [ReadSQLFile]).
func OpenFile(t testing.TB, path string, opts ...Option) *sql.DB {
	t.Helper()
	stmts, err := ReadSQLFile(path)
	if err != nil {
		t.Fatalf("sqlgentest: %v", err)
	}
	return Open(t, stmts, opts...)
}

// ReadSQLFile returns the statements of a SQL file: each ends with a ';'
// at the end of a line; lines that start with "--" and blank lines are
// left out. (It does not parse SQL: a ';' ending a line inside a string
// literal would end the statement there.)
func ReadSQLFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(strings.TrimRight(line, " \t\r"))
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		return nil, fmt.Errorf("%s: the last statement has no ';' at the end of its line: %.60q", path, rest)
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("%s: no statements", path)
	}
	return stmts, nil
}
