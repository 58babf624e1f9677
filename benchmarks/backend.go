package benchmarks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/seed-b2691315/sqlgen/benchmarks/fakedb"
)

// EnvDSN is the variable holding the real server's DSN, shared with the
// library's tests; DefaultDSN is used when it is not set.
const (
	EnvDSN     = "SQLGEN_TEST_DSN"
	DefaultDSN = "root@tcp(127.0.0.1:3306)/"
	// EnvInterpolate set to 0 keeps the driver's default of a prepared
	// statement per query with arguments (three round trips instead of
	// one for every library but bun, which always inlines its values).
	EnvInterpolate = "SQLGEN_BENCH_INTERPOLATE"
)

// Backend is a database with the libraries built on it.
type Backend struct {
	Name string
	Conn *sql.DB
	Libs []*Lib
	Fake *fakedb.Server // the fake backend's server, else nil

	// PrepareDelete returns n ids of rows that exist, for Delete.
	PrepareDelete func(n int) ([]int64, error)
	// Cleanup removes what the write operations added.
	Cleanup func() error
	// Close releases the backend (and drops the real server's database).
	Close func() error
}

func (be *Backend) buildLibs() error {
	for _, name := range Libs {
		l, err := NewLib(name, be.Conn)
		if err != nil {
			return fmt.Errorf("%s backend: library %s: %w", be.Name, name, err)
		}
		be.Libs = append(be.Libs, l)
	}
	return nil
}

// NewFakeBackend returns the backend of the in-process fake driver.
func NewFakeBackend() (*Backend, error) {
	srv := fakedb.New(FakeTables()...)
	conn := srv.OpenDB()
	conn.SetMaxIdleConns(4)
	next := int64(1 << 30)
	be := &Backend{
		Name: "Fake",
		Conn: conn,
		Fake: srv,
		PrepareDelete: func(n int) ([]int64, error) {
			ids := make([]int64, n)
			for i := range ids {
				next++
				ids[i] = next
			}
			return ids, nil
		},
		Cleanup: func() error { return nil },
		Close:   conn.Close,
	}
	if err := be.buildLibs(); err != nil {
		return nil, err
	}
	return be, nil
}

// DSN returns the real server's DSN from the environment.
func DSN() string {
	if d := os.Getenv(EnvDSN); d != "" {
		return d
	}
	return DefaultDSN
}

// ErrNoServer is wrapped when no server answers at the DSN.
var ErrNoServer = errors.New("no MySQL/MariaDB server")

// NewMySQLBackend creates a database sqlgen_bench_<random> on the server
// at DSN(), with the two tables seeded with SeedRows rows each. Close
// drops it.
func NewMySQLBackend() (*Backend, error) {
	dsn := DSN()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s=%q is not a valid DSN: %w", EnvDSN, dsn, err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("%w answers at %q: %v\n"+
			"Start one with `make db` (a throwaway MariaDB on 127.0.0.1), "+
			"or set %s to a server you can create databases on", ErrNoServer, dsn, err, EnvDSN)
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := "sqlgen_bench_" + hex.EncodeToString(suffix[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		return nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
		return errors.Join(err, admin.Close())
	}
	cfg.DBName = name
	cfg.InterpolateParams = os.Getenv(EnvInterpolate) != "0"
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, errors.Join(err, drop())
	}
	conn.SetMaxIdleConns(4)
	be := &Backend{Name: "MySQL", Conn: conn}
	be.Close = func() error { return errors.Join(conn.Close(), drop()) }
	if err := seed(ctx, conn); err != nil {
		return nil, errors.Join(fmt.Errorf("seeding database %s: %w", name, err), be.Close())
	}
	be.PrepareDelete = func(n int) ([]int64, error) { return insertForDelete(conn, n) }
	be.Cleanup = func() error {
		_, err1 := conn.Exec("DELETE FROM models WHERE id > ?", SeedRows)
		_, err2 := conn.Exec("DELETE FROM profiles WHERE id > ?", SeedRows)
		return errors.Join(err1, err2)
	}
	if err := be.buildLibs(); err != nil {
		return nil, errors.Join(err, be.Close())
	}
	// The same database through the driver's default DSN, for the
	// prepared-statement libraries.
	pcfg := cfg.Clone()
	pcfg.InterpolateParams = false
	prepared, err := sql.Open("mysql", pcfg.FormatDSN())
	if err != nil {
		return nil, errors.Join(err, be.Close())
	}
	prepared.SetMaxIdleConns(4)
	closeMain := be.Close
	be.Close = func() error {
		be.closeStmts()
		return errors.Join(prepared.Close(), closeMain())
	}
	for _, name := range PreparedLibs {
		l, err := NewLib(name, prepared)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("MySQL backend: library %s: %w", name, err), be.Close())
		}
		be.Libs = append(be.Libs, l)
	}
	return be, nil
}

// closeStmts closes the statement caches of the libraries that have one.
func (be *Backend) closeStmts() {
	for _, l := range be.Libs {
		if l.Close != nil {
			_ = l.Close()
		}
	}
}

const seedChunk = 500

func seed(ctx context.Context, conn *sql.DB) error {
	for _, stmt := range DDL {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	for start := int64(1); start <= SeedRows; start += seedChunk {
		n := min(seedChunk, SeedRows-start+1)
		args := make([]any, 0, 8*n)
		pargs := make([]any, 0, 3*n)
		for i := start; i < start+n; i++ {
			m, p := ModelRow(i), ProfileRow(i)
			args = append(args, m.ID, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter)
			pargs = append(pargs, p.ID, p.Name, string(SettingsJSON(p.Settings)))
		}
		if _, err := conn.ExecContext(ctx, insertModelsSQL(int(n), true), args...); err != nil {
			return err
		}
		q := "INSERT INTO profiles (id, name, settings) VALUES " + repeatJoin("(?, ?, ?)", int(n))
		if _, err := conn.ExecContext(ctx, q, pargs...); err != nil {
			return err
		}
	}
	return nil
}

func repeatJoin(s string, n int) string {
	out := make([]byte, 0, n*(len(s)+2))
	for i := range n {
		if i > 0 {
			out = append(out, ", "...)
		}
		out = append(out, s...)
	}
	return string(out)
}

// insertForDelete inserts n rows and returns their ids (a multi-row
// INSERT gets consecutive ids in InnoDB's default lock modes; checked).
func insertForDelete(conn *sql.DB, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	for len(ids) < n {
		k := min(seedChunk, n-len(ids))
		args := make([]any, 0, 7*k)
		for i := range k {
			m := NewModel(int64(i))
			m.Name = "to-delete"
			args = append(args, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter)
		}
		res, err := conn.Exec(insertModelsSQL(k, false), args...)
		if err != nil {
			return nil, err
		}
		first, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		for i := range int64(k) {
			ids = append(ids, first+i)
		}
	}
	var count int
	if err := conn.QueryRow("SELECT COUNT(*) FROM models WHERE id BETWEEN ? AND ? AND name = 'to-delete'", ids[0], ids[len(ids)-1]).Scan(&count); err != nil {
		return nil, err
	}
	if count != n {
		return nil, fmt.Errorf("inserted %d rows to delete, but ids %d..%d hold %d", n, ids[0], ids[len(ids)-1], count)
	}
	return ids, nil
}
