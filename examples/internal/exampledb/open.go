package exampledb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvDSN is the environment variable that points the examples at a real
// server. When it is empty they start an embedded one.
const EnvDSN = "SQLGEN_DSN"

// DefaultDatabase is the database the examples use on a server whose DSN
// names none (created if missing), and the name of the embedded server's
// database.
const DefaultDatabase = "sqlgen_examples"

// Target is the database an example runs against.
type Target struct {
	Conn *sql.DB
	// Embedded reports whether Conn reaches an embedded server started by
	// [Open] rather than one named by a DSN.
	Embedded bool
	// Desc says, for a person, which server and database this is.
	Desc string
	// DSN is the go-sql-driver/mysql DSN Conn was opened with, its
	// database name filled in.
	DSN      string
	embedded *Embedded
}

// Open connects to the server at dsn (a go-sql-driver/mysql DSN) or,
// when dsn is empty, to a new database on the embedded in-memory server
// (see [StartEmbedded]). A DSN without a database name gets [DefaultDatabase], created if
// it does not exist. The server is pinged, so an unreachable one fails
// here.
func Open(ctx context.Context, dsn string) (*Target, error) {
	t := &Target{}
	if dsn == "" {
		e, err := StartEmbedded(DefaultDatabase)
		if err != nil {
			return nil, err
		}
		t.embedded, t.Embedded, dsn = e, true, e.DSN
		t.Desc = fmt.Sprintf("an embedded go-mysql-server (in memory, in this process, on %s, database %s); set %s to use your own server",
			e.Addr, e.Database, EnvDSN)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("%s: %w", EnvDSN, err)
	}
	if !t.Embedded {
		if cfg.DBName == "" {
			cfg.DBName = DefaultDatabase
			if err := createDatabase(ctx, cfg); err != nil {
				return nil, err
			}
		}
		t.Desc = fmt.Sprintf("the server at %s %s (database %s)", cfg.Net, cfg.Addr, cfg.DBName)
	}
	t.DSN = cfg.FormatDSN()
	conn, err := sql.Open("mysql", t.DSN)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Conn = conn
	if err := ping(ctx, conn); err != nil {
		t.Close()
		return nil, fmt.Errorf("cannot reach %s: %w", t.Desc, err)
	}
	return t, nil
}

// Server returns the DSN's server version, as it reports it.
func (t *Target) Server(ctx context.Context) string {
	var v string
	if err := t.Conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "unknown version"
	}
	return v
}

// Close closes the connections and stops the embedded server, if any.
func (t *Target) Close() error {
	var err error
	if t.Conn != nil {
		err = t.Conn.Close()
	}
	if t.embedded != nil {
		if cerr := t.embedded.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func ping(ctx context.Context, conn *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return conn.PingContext(ctx)
}

func createDatabase(ctx context.Context, cfg *mysql.Config) error {
	admin := cfg.Clone()
	admin.DBName = ""
	conn, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := ping(ctx, conn); err != nil {
		return fmt.Errorf("cannot reach the server at %s %s: %w", cfg.Net, cfg.Addr, err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+cfg.DBName+"`"); err != nil {
		return fmt.Errorf("creating database %s: %w", cfg.DBName, err)
	}
	return nil
}
