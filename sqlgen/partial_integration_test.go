package sqlgen_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// UpdateColumns: partial updates by primary key.

type partialRow struct {
	ID      int64 `sql:",primary"`
	OrgID   int64
	Name    string
	Email   string
	Score   int
	Version int64 `sql:",version"`
}

type partialPlain struct {
	ID    int64 `sql:",primary"`
	Name  string
	Email string
}

func newPartial(t *testing.T, opts ...sqlgentest.Option) (*sqlgen.Schema, *sqlgen.DB) {
	t.Helper()
	s := sqlgen.NewSchema()
	s.MustRegisterType("partial_rows", sqlgen.AutoIncrement, partialRow{})
	s.MustRegisterType("partial_plain", sqlgen.AutoIncrement, partialPlain{})
	return s, sqlgen.NewDB(sqlgentest.OpenSchema(t, s, opts...), s)
}

func TestUpdateColumnsArguments(t *testing.T) {
	_, db := newPartial(t)
	ctx := context.Background()
	r := &partialRow{OrgID: 1, Name: "a"}
	if _, err := db.InsertRow(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cols []string
		want error
	}{
		{"none", nil, sqlgen.ErrInvalidArgument},
		{"unknown", []string{"name", "nope"}, sqlgen.ErrUnknownColumn},
		{"field name, not column name", []string{"OrgID"}, sqlgen.ErrUnknownColumn},
		{"key", []string{"id"}, sqlgen.ErrInvalidArgument},
		{"version", []string{"version"}, sqlgen.ErrInvalidArgument},
		{"twice", []string{"name", "name"}, sqlgen.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice, the second from the cache if it were cached.
			for range 2 {
				if _, err := db.UpdateColumns(ctx, r, tc.cols...); !errors.Is(err, tc.want) {
					t.Fatalf("UpdateColumns(%q) = %v, want %v", tc.cols, err, tc.want)
				}
			}
		})
	}
	if _, err := db.UpdateColumns(ctx, partialRow{ID: 1}, "name"); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Fatalf("UpdateColumns of a struct value = %v, want ErrInvalidArgument", err)
	}
	if r.Version != 1 {
		t.Fatalf("refused calls moved the version to %d", r.Version)
	}
}

// Only the named columns are written, through the plain path, the
// statement cache and inside Transact, with both clientFoundRows.
func TestUpdateColumns(t *testing.T) {
	for _, found := range []string{"false", "true"} {
		s, plain := newPartial(t, sqlgentest.Params("clientFoundRows", found))
		cached := sqlgen.NewDB(plain.Conn(), s, sqlgen.WithStmtCache(8))
		t.Cleanup(func() { cached.Close() })
		paths := map[string]func(func(*sqlgen.DB, context.Context) error) error{
			"plain":      func(f func(*sqlgen.DB, context.Context) error) error { return f(plain, context.Background()) },
			"stmt cache": func(f func(*sqlgen.DB, context.Context) error) error { return f(cached, context.Background()) },
			"in Transact": func(f func(*sqlgen.DB, context.Context) error) error {
				return plain.Transact(context.Background(), func(ctx context.Context) error { return f(plain, ctx) })
			},
		}
		for name, run := range paths {
			t.Run("clientFoundRows="+found+"/"+name, func(t *testing.T) {
				if err := run(func(db *sqlgen.DB, ctx context.Context) error { return checkUpdateColumns(ctx, db, found == "true") }); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func checkUpdateColumns(ctx context.Context, db *sqlgen.DB, foundRows bool) error {
	r := &partialRow{OrgID: 1, Name: "a", Email: "a@x", Score: 5}
	if _, err := db.InsertRow(ctx, r); err != nil {
		return err
	}
	r.Name, r.Email, r.Score = "b", "never written", 99
	res, err := db.UpdateColumns(ctx, r, "name", "score")
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("RowsAffected = %d, %v; want 1", n, err)
	}
	if r.Version != 2 {
		return fmt.Errorf("version %d after UpdateColumns, want 2", r.Version)
	}
	var got *partialRow
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": r.ID}, nil); err != nil {
		return err
	}
	want := partialRow{ID: r.ID, OrgID: 1, Name: "b", Email: "a@x", Score: 99, Version: 2}
	if *got != want {
		return fmt.Errorf("stored %+v, want %+v", *got, want)
	}
	// A stale version conflicts.
	stale := *got
	stale.Version = 1
	if _, err := db.UpdateColumns(ctx, &stale, "email"); !errors.Is(err, sqlgen.ErrConflict) {
		return fmt.Errorf("stale UpdateColumns = %v, want ErrConflict", err)
	}
	// Without a version column: RowsAffected as the server says.
	p := &partialPlain{Name: "p", Email: "p@x"}
	if _, err := db.InsertRow(ctx, p); err != nil {
		return err
	}
	for i, wantN := range []int64{1, map[bool]int64{true: 1, false: 0}[foundRows]} {
		p.Name = "q"
		res, err := db.UpdateColumns(ctx, p, "name")
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != wantN {
			return fmt.Errorf("update %d of partial_plain: RowsAffected = %d, %v; want %d", i, n, err, wantN)
		}
	}
	// A missing row is no error without a version column.
	res, err = db.UpdateColumns(ctx, &partialPlain{ID: p.ID + 1000, Name: "x"}, "name")
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 0 {
		return fmt.Errorf("missing row: RowsAffected = %d", n)
	}
	return nil
}

// Under a limit: the row must hold the limit's values, and a row of
// another tenant with that key is not touched.
func TestUpdateColumnsLimit(t *testing.T) {
	_, db := newPartial(t)
	ctx := context.Background()
	mine, other := &partialPlain{Name: "mine"}, &partialRow{OrgID: 2, Name: "theirs"}
	if _, err := db.InsertRow(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertRow(ctx, other); err != nil {
		t.Fatal(err)
	}
	limited, err := db.WithShardLimit(sqlgen.Filter{"org_id": 1})
	if err != nil {
		t.Fatal(err)
	}
	// A row outside the limit is refused before anything is sent.
	o := *other
	o.Name = "changed"
	if _, err := limited.UpdateColumns(ctx, &o, "name"); !errors.Is(err, sqlgen.ErrLimit) {
		t.Fatalf("UpdateColumns of another tenant's row = %v, want ErrLimit", err)
	}
	// A row claiming the limit's tenant but keyed on another tenant's row
	// matches nothing: with a version column that is a conflict.
	o.OrgID = 1
	if _, err := limited.UpdateColumns(ctx, &o, "name"); !errors.Is(err, sqlgen.ErrConflict) {
		t.Fatalf("UpdateColumns keyed on another tenant's row = %v, want ErrConflict", err)
	}
	var got *partialRow
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": other.ID}, nil); err != nil {
		t.Fatal(err)
	}
	if got.Name != "theirs" || got.Version != 1 {
		t.Fatalf("another tenant's row changed: %+v", *got)
	}
	// Inside the limit it writes (partial_plain has no org_id: not limited).
	mine.Name = "renamed"
	if _, err := limited.UpdateColumns(ctx, mine, "name"); err != nil {
		t.Fatal(err)
	}
	r := &partialRow{OrgID: 1, Name: "in"}
	if _, err := limited.InsertRow(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Name = "in2"
	if res, err := limited.UpdateColumns(ctx, r, "name"); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("RowsAffected = %d, want 1", n)
	}
}

// N goroutines update different columns of the same row from the same
// version: exactly one succeeds, the others get ErrConflict.
func TestUpdateColumnsConcurrentConflicts(t *testing.T) {
	_, db := newPartial(t)
	ctx := context.Background()
	r := &partialRow{OrgID: 1, Name: "start"}
	if _, err := db.InsertRow(ctx, r); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var ok, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := *r
			mine.Name, mine.Score = fmt.Sprint("w", i), i
			col := []string{"name", "score"}[i%2]
			switch _, err := db.UpdateColumns(ctx, &mine, col); {
			case err == nil:
				ok.Add(1)
				if mine.Version != 2 {
					t.Errorf("winner's version %d, want 2", mine.Version)
				}
			case errors.Is(err, sqlgen.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d succeeded, %d conflicted; want 1 and %d", ok.Load(), conflicts.Load(), n-1)
	}
}
