package sqlgen_test

// Allocation pins of the read path, against a minimal fake database/sql
// driver (sqlmock allocates too much of its own to measure through).
// Identifiers start with "al".

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// alDriver is registered as "sqlgen-alloc-test-fake". Its DSN is the
// number of rows every query returns; each row holds the same canned
// values, boxed once, so the driver itself allocates nothing per row.
type alDriver struct{}

type alConn struct{ rows int }

type alRows struct{ left int }

var (
	alColumns = []string{"id", "org_id", "name", "email", "score"}
	alValues  = []driver.Value{int64(1000), int64(2000), []byte("alice"), []byte("alice@example.com"), int64(3000)}
)

func (alDriver) Open(dsn string) (driver.Conn, error) {
	n, err := strconv.Atoi(dsn)
	if err != nil {
		return nil, err
	}
	return &alConn{rows: n}, nil
}

func (c *alConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("alConn: Prepare is not supported; QueryContext is")
}
func (c *alConn) Close() error              { return nil }
func (c *alConn) Begin() (driver.Tx, error) { return nil, errors.New("alConn: no transactions") }

// ExecContext implements driver.ExecerContext, likewise.
func (c *alConn) ExecContext(_ context.Context, _ string, _ []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}

// QueryContext implements driver.QueryerContext, so database/sql never
// prepares.
func (c *alConn) QueryContext(_ context.Context, _ string, _ []driver.NamedValue) (driver.Rows, error) {
	return &alRows{left: c.rows}, nil
}

func (r *alRows) Columns() []string { return alColumns }
func (r *alRows) Close() error      { return nil }
func (r *alRows) Next(dest []driver.Value) error {
	if r.left == 0 {
		return io.EOF
	}
	r.left--
	copy(dest, alValues)
	return nil
}

var alRegister sync.Once

// alUser has five columns, two of them strings.
type alUser struct {
	ID    int64 `sql:",primary"`
	OrgID int64
	Name  string
	Email string
	Score int64
}

const alSelect = "SELECT `id`,`org_id`,`name`,`email`,`score` FROM `al_users`"

func alOpen(t *testing.T, rows int) (*sqlgen.DB, *sql.DB) {
	t.Helper()
	alRegister.Do(func() { sql.Register("sqlgen-alloc-test-fake", alDriver{}) })
	conn, err := sql.Open("sqlgen-alloc-test-fake", strconv.Itoa(rows))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	t.Cleanup(func() { conn.Close() })
	s := sqlgen.NewSchema()
	s.MustRegisterType("al_users", sqlgen.UniqueID, alUser{})
	return sqlgen.NewDB(conn, s), conn
}

// alRace reports whether the test binary was built with -race. The race
// detector makes sync.Pool drop a quarter of what is Put at random, so
// the pooled scanners of a table are sometimes rebuilt: figures that go
// through the pool are then only upper bounds.
func alRace() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// alMeasure returns the allocations of one run of f, after a warm-up run.
func alMeasure(t *testing.T, f func() error) float64 {
	t.Helper()
	if testing.Short() {
		t.Skip("allocation counts are skipped in -short mode")
	}
	if err := f(); err != nil {
		t.Fatal(err)
	}
	var err error
	n := testing.AllocsPerRun(500, func() {
		if e := f(); e != nil && err == nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var alSink any

// alPoolMiss is what one rebuilt scanner set of alUser costs (the set,
// its two slices and five scanners): under -race, sync.Pool drops a
// quarter of the sets put back, so a figure that goes through the pool
// may exceed its pin by up to this much on average, but never more.
const alPoolMiss = 8

// alCheck checks a figure against its pin: exactly (or at most, when
// atMost is set) without -race; within alPoolMiss above it with -race.
func alCheck(t *testing.T, what string, got, want float64, atMost bool, why string) {
	t.Helper()
	switch {
	case alRace():
		if got > want+alPoolMiss || (!atMost && got < want-alPoolMiss) {
			t.Errorf("%s: %v allocations, want %v (within %d under -race) (%s)", what, got, want, alPoolMiss, why)
		}
	case atMost:
		if got > want {
			t.Errorf("%s: %v allocations, want at most %v (%s)", what, got, want, why)
		}
	default:
		if got != want {
			t.Errorf("%s: %v allocations, want exactly %v (%s)", what, got, want, why)
		}
	}
}

// sqlgen's QueryRow costs no more allocations than the same read written
// by hand with database/sql: both allocate the struct and its two strings
// plus database/sql's own. The SQL text comes from the table's shape cache
// (no builder), the scanner set from the table's pool, rows are closed
// twice as Row.Scan does (Next at EOF and the deferred Close), the args
// slice of an unfiltered read has capacity 0, and the per-row callback
// does not escape.
func TestAllocsQueryRow(t *testing.T) {
	db, conn := alOpen(t, 1)
	ctx := context.Background()
	want := alUser{ID: 1000, OrgID: 2000, Name: "alice", Email: "alice@example.com", Score: 3000}

	raw := alMeasure(t, func() error {
		u := new(alUser)
		alSink = u
		return conn.QueryRowContext(ctx, alSelect+" LIMIT 2").Scan(&u.ID, &u.OrgID, &u.Name, &u.Email, &u.Score)
	})
	var got *alUser
	gen := alMeasure(t, func() error { return db.QueryRow(ctx, &got, nil, nil) })
	if *got != want {
		t.Fatalf("QueryRow = %+v, want %+v", *got, want)
	}
	t.Logf("QueryRow: raw database/sql %v allocs, sqlgen %v", raw, gen)
	if raw < 3 {
		t.Fatalf("raw database/sql read: %v allocations, fewer than the struct and its two strings: the measurement is broken", raw)
	}
	alCheck(t, "sqlgen QueryRow minus raw QueryRowContext+Scan", gen-raw, 0, true,
		"the SQL text comes from the table's shape cache and rows are closed once")
}

// Each extra row of a Query costs exactly the new struct and one string
// per string column: the scanners are reused and write in place. Between
// 10 and 110 rows the result slice also grows three more times (cap 16 to
// 32, 64 and 128).
//
// Query appending each row with reflect.Append costs one more allocation
// per row (reflect.Value.extendSlice heap-allocates a slice header on
// every call); growing an addressable slice in place with
// reflect.Value.Grow/SetLen/Index(n).Set does not.
func TestAllocsQueryPerRow(t *testing.T) {
	ctx := context.Background()
	measure := func(rows int) float64 {
		db, _ := alOpen(t, rows)
		var got []*alUser
		n := alMeasure(t, func() error { return db.Query(ctx, &got, nil, nil) })
		if len(got) != rows || got[rows-1].Email != "alice@example.com" {
			t.Fatalf("Query returned %d rows, want %d", len(got), rows)
		}
		return n
	}
	const (
		perRow = 3 // 1 struct + 2 string columns
		growth = 3 // slice reallocations between 10 and 110 rows
	)
	a10, a110 := measure(10), measure(110)
	t.Logf("Query: 10 rows %v allocs, 110 rows %v: %v per row", a10, a110, (a110-a10-growth)/100)
	alCheck(t, "Query: allocations of 100 extra rows", a110-a10, 100*perRow+growth, false,
		"per row: the struct and its two strings; plus three reallocations of the result slice")
}

// A one-column equality filter costs one allocation over an unfiltered
// read: database/sql's []driver.NamedValue. sqlgen's args stay in a
// buffer on its stack (database/sql is called directly, not through an
// interface), and the int64 value is passed on as the caller's own
// interface value, not boxed again.
func TestAllocsFilter(t *testing.T) {
	db, _ := alOpen(t, 1)
	ctx := context.Background()
	var got *alUser
	filter := sqlgen.Filter{"id": int64(12345)}
	none := alMeasure(t, func() error { return db.QueryRow(ctx, &got, nil, nil) })
	one := alMeasure(t, func() error { return db.QueryRow(ctx, &got, filter, nil) })
	t.Logf("QueryRow: no filter %v allocs, Filter{id: int64(12345)} %v", none, one)
	alCheck(t, "QueryRow: Filter{id: int64(12345)} minus no filter", one-none, 1, false,
		"database/sql's NamedValue slice")
}

// One-row writes cost less than the same statement written by hand: the
// hand-written call boxes each argument (here five: two strings and three
// int64s above 255); sqlgen copies the struct once and the arguments
// point into the copy, in a buffer on sqlgen's stack. A delete has one
// argument, boxed as by hand.
func TestAllocsWrites(t *testing.T) {
	db, conn := alOpen(t, 1)
	ctx := context.Background()
	u := &alUser{ID: 1000, OrgID: 2000, Name: "alice", Email: "alice@example.com", Score: 3000}
	const upd = "UPDATE `al_users` SET `org_id`=?,`name`=?,`email`=?,`score`=? WHERE `id`=?"
	raw := alMeasure(t, func() error {
		_, err := conn.ExecContext(ctx, upd, u.OrgID, u.Name, u.Email, u.Score, u.ID)
		return err
	})
	gen := alMeasure(t, func() error { return db.UpdateRow(ctx, u) })
	t.Logf("UpdateRow: raw %v allocs, sqlgen %v", raw, gen)
	alCheck(t, "sqlgen UpdateRow minus raw ExecContext", gen-raw, -4, false,
		"one struct copy (the key included) instead of five boxed arguments, and no variadic []any")
	rawDel := alMeasure(t, func() error {
		_, err := conn.ExecContext(ctx, "DELETE FROM `al_users` WHERE `id`=?", u.ID)
		return err
	})
	genDel := alMeasure(t, func() error { return db.DeleteRow(ctx, u) })
	alCheck(t, "sqlgen DeleteRow minus raw ExecContext", genDel-rawDel, 0, true, "no allocation of its own")
}

// Iter allocates per row what Query does, less the result slice: the
// struct and its two strings. A read of a column subset costs no more per
// row, its scanners coming from the subset's own pool.
func TestAllocsIterPerRow(t *testing.T) {
	ctx := context.Background()
	measure := func(rows int, opts *sqlgen.SelectOptions) float64 {
		db, _ := alOpen(t, rows)
		return alMeasure(t, func() error {
			n := 0
			for r, err := range sqlgen.Iter[alUser](ctx, db, nil, opts) {
				if err != nil {
					return err
				}
				if r.Name != "alice" {
					return errors.New("bad row")
				}
				n++
			}
			if n != rows {
				return errors.New("rows missing")
			}
			return nil
		})
	}
	a10, a110 := measure(10, nil), measure(110, nil)
	t.Logf("Iter: 10 rows %v allocs, 110 rows %v", a10, a110)
	alCheck(t, "Iter: allocations of 100 extra rows", a110-a10, 100*3, false, "per row: the struct and its two strings")
	// The fake driver always returns all five columns: the "subset" names
	// them all, in another order, which still takes the projection's
	// path (its own SELECT list and scanner pool).
	sub := &sqlgen.SelectOptions{Columns: []string{"score", "email", "name", "org_id", "id"}}
	s10, s110 := measure(10, sub), measure(110, sub)
	t.Logf("Iter with Columns: 10 rows %v allocs, 110 rows %v", s10, s110)
	alCheck(t, "Iter with Columns: allocations of 100 extra rows", s110-s10, 100*3, false, "per row: the struct and its two strings")
}
