package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// pgItem is the table of the streaming, column-subset and pagination
// tests: grp has many ties, at is a time, note can hold NULL.
type pgItem struct {
	ID   int64 `sql:",primary"`
	Grp  int32
	Name string
	At   time.Time
	Note *string
}

var pgSchemaSQL = []string{
	"CREATE TABLE pg_items (id BIGINT AUTO_INCREMENT PRIMARY KEY, grp INT NOT NULL, name VARCHAR(64) NOT NULL, " +
		"at DATETIME(6) NOT NULL, note VARCHAR(64) NULL, KEY grp_at (grp, at), KEY at (at))",
}

const pgRows = 250

// pgOpen makes the table with pgRows rows (grp = i % 7, at one of 40
// instants a day apart, so that both have ties) under the DSN options
// given, and returns a DB on it with opts.
func pgOpen(t *testing.T, dsn []sqlgentest.Option, opts ...sqlgen.Option) (*sqlgen.DB, *sql.DB) {
	t.Helper()
	conn := sqlgentest.Open(t, pgSchemaSQL, dsn...)
	s := sqlgen.NewSchema()
	s.MustRegisterType("pg_items", sqlgen.AutoIncrement, pgItem{})
	db := sqlgen.NewDB(conn, s, opts...)
	base := time.Date(2024, 3, 10, 2, 30, 0, 123456000, time.UTC)
	rows := make([]*pgItem, pgRows)
	for i := range rows {
		var note *string
		if i%3 == 0 {
			n := fmt.Sprintf("note %d", i)
			note = &n
		}
		rows[i] = &pgItem{Grp: int32(i % 7), Name: fmt.Sprintf("item %03d", i), At: base.Add(time.Duration(i%40) * 24 * time.Hour), Note: note}
	}
	if err := db.InsertRows(context.Background(), rows, 0); err != nil {
		t.Fatal(err)
	}
	return db, conn
}

// pgDSNs are the DSN settings whose values cross the library: times in
// After, read back and compared.
var pgDSNs = []struct {
	name string
	opts []sqlgentest.Option
}{
	{"plain", nil},
	{"parseTime+loc", []sqlgentest.Option{sqlgentest.Params("parseTime", "true", "loc", "America/New_York")}},
	{"interpolate+parseTime=false+loc", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true", "loc", "Asia/Tokyo")}},
}

func pgIDs(rows []*pgItem) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// pgWalk reads the whole table page by page with After (the first page
// with an empty After), size rows a page, through read, and returns the
// ids in the order read.
func pgWalk(t *testing.T, db *sqlgen.DB, order []sqlgen.Order, size int, read func(*sqlgen.SelectOptions) ([]*pgItem, error)) []int64 {
	t.Helper()
	var ids []int64
	after := []any{}
	for pages := 0; ; pages++ {
		if pages > pgRows {
			t.Fatal("the walk does not end")
		}
		page, err := read(&sqlgen.SelectOptions{Order: order, Limit: size, After: after})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pgIDs(page)...)
		if len(page) < size {
			return ids
		}
		if after, err = db.Cursor(page[len(page)-1], order...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKeysetWalk: walking the table page by page with After gives every
// row once, in the order of one ordered read, for orders with ties, mixed
// directions, times (under each DSN's parseTime and loc), the key among
// the order columns, and through every path (plain, statement cache,
// batching context, transaction, Iter).
func TestKeysetWalk(t *testing.T) {
	t.Parallel()
	for _, dsn := range pgDSNs {
		t.Run(dsn.name, func(t *testing.T) {
			db, _ := pgOpen(t, dsn.opts, sqlgen.WithStmtCache(32))
			plain := sqlgen.NewDB(db.Conn(), db.Schema())
			ctx := context.Background()
			orders := [][]sqlgen.Order{
				{sqlgen.Asc("grp")},
				{sqlgen.Desc("grp")},
				{sqlgen.Asc("grp"), sqlgen.Desc("at")},
				{sqlgen.Desc("at"), sqlgen.Asc("name")},
				{sqlgen.Asc("at")},
				{sqlgen.Desc("id")},
				{sqlgen.Asc("grp"), sqlgen.Asc("id"), sqlgen.Desc("name")},
			}
			for _, order := range orders {
				// The reference: one ordered read, the key breaking ties as
				// After does.
				full := slices.Clone(order)
				if !slices.ContainsFunc(order, func(o sqlgen.Order) bool { return o.Column == "id" }) {
					full = append(full, sqlgen.Order{Column: "id", Desc: order[len(order)-1].Desc})
				}
				all, err := sqlgen.Select[pgItem](ctx, plain, nil, &sqlgen.SelectOptions{Order: full})
				if err != nil {
					t.Fatal(err)
				}
				want := pgIDs(all)
				if len(want) != pgRows {
					t.Fatalf("%d rows", len(want))
				}
				paths := map[string]func(*sqlgen.SelectOptions) ([]*pgItem, error){
					"plain": func(o *sqlgen.SelectOptions) ([]*pgItem, error) { return sqlgen.Select[pgItem](ctx, plain, nil, o) },
					"stmtcache": func(o *sqlgen.SelectOptions) ([]*pgItem, error) {
						return sqlgen.Select[pgItem](ctx, db, nil, o)
					},
					"batching": func(o *sqlgen.SelectOptions) ([]*pgItem, error) {
						return sqlgen.Select[pgItem](sqlgen.WithBatching(ctx), plain, sqlgen.Filter{"grp": []int{0, 1, 2, 3, 4, 5, 6}}, o)
					},
					"transaction": func(o *sqlgen.SelectOptions) (rows []*pgItem, err error) {
						err = plain.Transact(ctx, func(ctx context.Context) error {
							rows, err = sqlgen.Select[pgItem](ctx, plain, nil, o)
							return err
						})
						return rows, err
					},
					"iter": func(o *sqlgen.SelectOptions) (rows []*pgItem, err error) {
						for r, err := range sqlgen.Iter[pgItem](ctx, db, nil, o) {
							if err != nil {
								return nil, err
							}
							rows = append(rows, r)
						}
						return rows, nil
					},
				}
				for name, read := range paths {
					sizes := []int{13} // pages end inside runs of ties (36 rows a grp)
					if name == "plain" {
						sizes = append(sizes, 40)
						if len(order) == 2 && order[0].Desc != order[1].Desc {
							sizes = append(sizes, 1) // a page per row, for one order: 250 reads
						}
					}
					for _, size := range sizes {
						if got := pgWalk(t, db, order, size, read); !slices.Equal(got, want) {
							t.Errorf("order %v, %s, pages of %d: walked\n%v\nwant\n%v", order, name, size, got, want)
						}
					}
				}
				// Offset pages give the same rows.
				var got []int64
				for off := 0; off < pgRows; off += 40 {
					page, err := sqlgen.Select[pgItem](ctx, db, nil, &sqlgen.SelectOptions{Order: full, Limit: 40, Offset: off})
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, pgIDs(page)...)
				}
				if !slices.Equal(got, want) {
					t.Errorf("order %v: Offset pages differ from one read", order)
				}
			}
		})
	}
}

// TestKeysetTimeValues: a time in After compares with the stored time
// whatever the DSN's parseTime and loc, given in any time zone.
func TestKeysetTimeValues(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, dsn := range pgDSNs {
		t.Run(dsn.name, func(t *testing.T) {
			db, _ := pgOpen(t, dsn.opts)
			ctx := context.Background()
			// The 10th instant (a wall clock that New York skips on its
			// first day is the base), given in Tokyo time: rows strictly
			// after it, by at then id.
			at := time.Date(2024, 3, 10, 2, 30, 0, 123456000, time.UTC).Add(9 * 24 * time.Hour).In(tokyo)
			rows, err := sqlgen.Select[pgItem](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("at")}, After: []any{at, int64(1 << 40)}})
			if err != nil {
				t.Fatal(err)
			}
			// Instants 10..39 of 40, each held by the rows i with i%40 == k.
			want := 0
			for i := 0; i < pgRows; i++ {
				if i%40 >= 10 {
					want++
				}
			}
			if len(rows) != want {
				t.Fatalf("%d rows after %v, want %d", len(rows), at, want)
			}
			for _, r := range rows {
				if !r.At.After(at) {
					t.Fatalf("row %d at %v is not after %v", r.ID, r.At, at)
				}
			}
			// Its own value back: the read continues after that row.
			first := rows[0]
			next, err := sqlgen.Select[pgItem](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("at")}, After: []any{first.At, first.ID}, Limit: 1})
			if err != nil || len(next) != 1 || next[0].ID != rows[1].ID {
				t.Fatalf("after the first row: %v, %v; want row %d", pgIDs(next), err, rows[1].ID)
			}
		})
	}
}

// TestColumnsRead: Columns reads those columns only, the rest zero,
// through Query, QueryRow/Get, Select, Iter, the statement cache, a
// batching context (not merged) and a transaction; and a row read so and
// written back with UpdateRow overwrites the columns it did not read, as
// the documentation of Columns says.
func TestColumnsRead(t *testing.T) {
	db, conn := pgOpen(t, []sqlgentest.Option{sqlgentest.Params("parseTime", "true")})
	cached := sqlgen.NewDB(conn, db.Schema(), sqlgen.WithStmtCache(8))
	ctx := context.Background()
	check := func(what string, rows []*pgItem, err error, n int) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(rows) != n {
			t.Fatalf("%s: %d rows, want %d", what, len(rows), n)
		}
		for _, r := range rows {
			if r.Name == "" || !strings.HasPrefix(r.Name, "item ") || r.Grp != 3 {
				t.Fatalf("%s: read columns missing: %+v", what, r)
			}
			if r.ID != 0 || !r.At.IsZero() || r.Note != nil {
				t.Fatalf("%s: a column not asked for was read: %+v", what, r)
			}
		}
	}
	opts := &sqlgen.SelectOptions{Columns: []string{"name", "grp"}}
	f := sqlgen.Filter{"grp": 3}
	want := 0
	for i := 0; i < pgRows; i++ {
		if i%7 == 3 {
			want++
		}
	}
	for name, d := range map[string]*sqlgen.DB{"plain": db, "stmtcache": cached} {
		rows, err := sqlgen.Select[pgItem](ctx, d, f, opts)
		check(name+" Select", rows, err, want)
		var q []*pgItem
		err = d.Query(sqlgen.WithBatching(ctx), &q, f, opts)
		check(name+" batching Query", q, err, want)
		var it []*pgItem
		for r, err := range sqlgen.Iter[pgItem](ctx, d, f, opts) {
			if err != nil {
				t.Fatal(err)
			}
			it = append(it, r)
		}
		check(name+" Iter", it, nil, want)
		err = d.Transact(ctx, func(ctx context.Context) error {
			rows, err = sqlgen.Select[pgItem](ctx, d, f, opts)
			return err
		})
		check(name+" transaction", rows, err, want)
		one, err := sqlgen.Get[pgItem](ctx, d, sqlgen.Filter{"id": 4}, opts)
		check(name+" Get", []*pgItem{one}, err, 1)
	}
	// Concurrent reads of several column sets share their projections.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := [][]string{{"name", "grp"}, {"grp", "name", "grp"}}[g%2]
			for i := 0; i < 20; i++ {
				rows, err := sqlgen.Select[pgItem](ctx, cached, f, &sqlgen.SelectOptions{Columns: cols})
				if err != nil || len(rows) != want || rows[0].ID != 0 || rows[0].Name == "" {
					t.Errorf("concurrent Columns read: %d rows, %v", len(rows), err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// The documented rule: UpdateRow writes every column, so a row read
	// with Columns and written back loses the columns it did not read.
	full, err := sqlgen.Get[pgItem](ctx, db, sqlgen.Filter{"id": 4}, nil)
	if err != nil || full.Note == nil || full.At.IsZero() {
		t.Fatalf("row 4: %+v, %v", full, err)
	}
	part, err := sqlgen.Get[pgItem](ctx, db, sqlgen.Filter{"id": 4}, &sqlgen.SelectOptions{Columns: []string{"id", "name"}})
	if err != nil {
		t.Fatal(err)
	}
	part.Name = "renamed"
	if err := db.UpdateRow(ctx, part); err != nil {
		t.Fatal(err)
	}
	after, err := sqlgen.Get[pgItem](ctx, db, sqlgen.Filter{"id": 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != "renamed" || after.Note != nil || after.Grp != 0 || !after.At.Equal(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) && !after.At.IsZero() {
		t.Fatalf("UpdateRow of a row read with Columns: %+v; want the unread columns overwritten with zero values", after)
	}
}

// TestOffsetAndCount: Offset with and without Limit, on QueryRow too.
func TestOffsetRead(t *testing.T) {
	db, _ := pgOpen(t, nil)
	ctx := context.Background()
	id := []sqlgen.Order{sqlgen.Asc("id")}
	rows, err := sqlgen.Select[pgItem](ctx, db, nil, &sqlgen.SelectOptions{Order: id, Offset: pgRows - 3})
	if err != nil || len(rows) != 3 || rows[0].ID != pgRows-2 {
		t.Fatalf("Offset without Limit: %v, %v", pgIDs(rows), err)
	}
	one, err := sqlgen.Get[pgItem](ctx, db, sqlgen.Filter{"grp": 2}, &sqlgen.SelectOptions{Order: id, Offset: 1, Limit: 1})
	if err != nil || one.ID != 10 {
		t.Fatalf("Get with Offset 1: %+v, %v; want id 10 (ids 3, 10, ... have grp 2)", one, err)
	}
	if _, err := sqlgen.Get[pgItem](ctx, db, sqlgen.Filter{"grp": 2}, &sqlgen.SelectOptions{Order: id, Offset: 1}); !errors.Is(err, sqlgen.ErrTooManyRows) {
		t.Fatalf("Get with Offset and more rows after: %v, want ErrTooManyRows", err)
	}
	rows, err = sqlgen.Select[pgItem](ctx, db, nil, &sqlgen.SelectOptions{Order: id, Offset: pgRows})
	if err != nil || len(rows) != 0 {
		t.Fatalf("Offset past the end: %v, %v", pgIDs(rows), err)
	}
}
