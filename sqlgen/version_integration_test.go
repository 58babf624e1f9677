package sqlgen_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// Optimistic locking: a `sql:",version"` column.

type versioned struct {
	ID      int64 `sql:",primary"`
	Name    string
	Version int64 `sql:",version"`
}

type versionedKey struct {
	Code    string `sql:",primary"`
	Name    string
	Version uint32 `sql:",version"`
}

func TestVersionRegistration(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"string", struct {
			ID int64  `sql:",primary"`
			V  string `sql:",version"`
		}{}, "plain integer"},
		{"pointer", struct {
			ID int64  `sql:",primary"`
			V  *int64 `sql:",version"`
		}{}, "plain integer"},
		{"float", struct {
			ID int64   `sql:",primary"`
			V  float64 `sql:",version"`
		}{}, "plain integer"},
		{"two", struct {
			ID int64 `sql:",primary"`
			V  int64 `sql:",version"`
			W  int64 `sql:",version"`
		}{}, "at most one version"},
		{"primary", struct {
			ID int64 `sql:",primary,version"`
			N  string
		}{}, "primary key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlgen.NewSchema().RegisterType("t", sqlgen.UniqueID, tc.value)
			if !errors.Is(err, sqlgen.ErrBadSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("RegisterType = %v, want ErrBadSchema saying %q", err, tc.want)
			}
		})
	}
	if err := sqlgen.NewSchema().RegisterType("t", sqlgen.AutoIncrement, versioned{}); err != nil {
		t.Fatal(err)
	}
}

func newVersioned(t *testing.T, opts ...sqlgentest.Option) (*sqlgen.Schema, *sqlgen.DB) {
	t.Helper()
	s := sqlgen.NewSchema()
	s.MustRegisterType("versioned", sqlgen.AutoIncrement, versioned{})
	s.MustRegisterType("versioned_keys", sqlgen.UniqueID, versionedKey{})
	conn := sqlgentest.OpenSchema(t, s, opts...)
	return s, sqlgen.NewDB(conn, s)
}

// versionPaths are the ways a call reaches the server: the plain path,
// the statement cache, and inside Transact.
func versionPaths(t *testing.T, found string) map[string]func(func(db *sqlgen.DB, ctx context.Context) error) error {
	s, plain := newVersioned(t, sqlgentest.Params("clientFoundRows", found))
	cached := sqlgen.NewDB(plain.Conn(), s, sqlgen.WithStmtCache(8))
	t.Cleanup(func() { cached.Close() })
	return map[string]func(func(*sqlgen.DB, context.Context) error) error{
		"plain":      func(f func(*sqlgen.DB, context.Context) error) error { return f(plain, context.Background()) },
		"stmt cache": func(f func(*sqlgen.DB, context.Context) error) error { return f(cached, context.Background()) },
		"in Transact": func(f func(*sqlgen.DB, context.Context) error) error {
			return plain.Transact(context.Background(), func(ctx context.Context) error { return f(plain, ctx) })
		},
	}
}

func TestVersionRules(t *testing.T) {
	for _, found := range []string{"false", "true"} {
		for name, run := range versionPaths(t, found) {
			t.Run("clientFoundRows="+found+"/"+name, func(t *testing.T) {
				err := run(func(db *sqlgen.DB, ctx context.Context) error {
					// Insert starts the version at 1.
					r := &versioned{Name: "a"}
					if _, err := db.InsertRow(ctx, r); err != nil {
						return err
					}
					if r.Version != 1 {
						return fmt.Errorf("after InsertRow: version %d, want 1", r.Version)
					}
					// An update that changes nothing else still matches (the
					// version moves on), with either clientFoundRows.
					if err := db.UpdateRow(ctx, r); err != nil {
						return fmt.Errorf("unchanged UpdateRow: %w", err)
					}
					if r.Version != 2 {
						return fmt.Errorf("after UpdateRow: version %d, want 2", r.Version)
					}
					var got *versioned
					if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": r.ID}, nil); err != nil {
						return err
					}
					if got.Version != 2 {
						return fmt.Errorf("stored version %d, want 2", got.Version)
					}
					// A stale copy conflicts, and is left as it was.
					stale := *r
					stale.Version = 1
					stale.Name = "stale"
					if err := db.UpdateRow(ctx, &stale); !errors.Is(err, sqlgen.ErrConflict) {
						return fmt.Errorf("stale UpdateRow = %v, want ErrConflict", err)
					}
					if stale.Version != 1 {
						return fmt.Errorf("stale row's version moved to %d", stale.Version)
					}
					if err := db.DeleteRow(ctx, &stale); !errors.Is(err, sqlgen.ErrConflict) {
						return fmt.Errorf("stale DeleteRow = %v, want ErrConflict", err)
					}
					// A missing row conflicts too.
					if err := db.UpdateRow(ctx, &versioned{ID: r.ID + 1000, Version: 1}); !errors.Is(err, sqlgen.ErrConflict) {
						return fmt.Errorf("UpdateRow of a missing row = %v, want ErrConflict", err)
					}
					// The current version deletes.
					if err := db.DeleteRow(ctx, r); err != nil {
						return fmt.Errorf("DeleteRow: %w", err)
					}
					if n, err := db.Count(ctx, &versioned{}, sqlgen.Filter{"id": r.ID}); err != nil || n != 0 {
						return fmt.Errorf("after DeleteRow: %d rows, %v", n, err)
					}
					// InsertRows and UpsertRow start at 1 too; a set version is kept.
					rows := []*versioned{{Name: "b"}, {Name: "c", Version: 7}}
					if err := db.InsertRows(ctx, rows, 0); err != nil {
						return err
					}
					if rows[0].Version != 1 || rows[1].Version != 7 {
						return fmt.Errorf("after InsertRows: versions %d, %d, want 1, 7", rows[0].Version, rows[1].Version)
					}
					k := &versionedKey{Code: "k-" + found, Name: "k"}
					if _, err := db.UpsertRow(ctx, k); err != nil {
						return err
					}
					if k.Version != 1 {
						return fmt.Errorf("after UpsertRow: version %d, want 1", k.Version)
					}
					if err := db.UpdateRow(ctx, k); err != nil || k.Version != 2 {
						return fmt.Errorf("UpdateRow of a uint32 version: %v, version %d", err, k.Version)
					}
					return db.DeleteRow(ctx, k)
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// A failed insert leaves a zero version as it was.
func TestVersionInsertFailureKeepsZero(t *testing.T) {
	_, db := newVersioned(t)
	ctx := context.Background()
	k := &versionedKey{Code: "dup", Name: "x"}
	if _, err := db.InsertRow(ctx, k); err != nil {
		t.Fatal(err)
	}
	dup := &versionedKey{Code: "dup", Name: "y"}
	if _, err := db.InsertRow(ctx, dup); err == nil {
		t.Fatal("duplicate InsertRow succeeded")
	}
	if dup.Version != 0 {
		t.Fatalf("failed InsertRow left version %d, want 0", dup.Version)
	}
	rows := []*versionedKey{{Code: "new", Name: "n"}, {Code: "dup", Name: "z"}}
	if err := db.InsertRows(ctx, rows, 0); err == nil {
		t.Fatal("InsertRows with a duplicate succeeded")
	}
	if rows[0].Version != 0 || rows[1].Version != 0 {
		t.Fatalf("failed InsertRows left versions %d, %d, want 0, 0", rows[0].Version, rows[1].Version)
	}
}

// N writers update the same row from the same version: exactly one wins,
// the others get ErrConflict; then each retries after reading again until
// all N updates are in.
func TestVersionConcurrent(t *testing.T) {
	_, db := newVersioned(t, sqlgentest.Params("clientFoundRows", "false"))
	ctx := context.Background()
	r := &versioned{Name: "start"}
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
			mine.Name = fmt.Sprint("writer ", i)
			switch err := db.UpdateRow(ctx, &mine); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, sqlgen.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d updates succeeded and %d conflicted, want 1 and %d", ok.Load(), conflicts.Load(), n-1)
	}
	// With retries, every writer gets its update in.
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var cur *versioned
				if err := db.QueryRow(ctx, &cur, sqlgen.Filter{"id": r.ID}, nil); err != nil {
					t.Error(err)
					return
				}
				cur.Name = fmt.Sprint("retry ", i)
				err := db.UpdateRow(ctx, cur)
				if err == nil {
					return
				}
				if !errors.Is(err, sqlgen.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got *versioned
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": r.ID}, nil); err != nil {
		t.Fatal(err)
	}
	if got.Version != 2+n {
		t.Fatalf("version %d after %d successful updates, want %d", got.Version, 1+n, 2+n)
	}
}
