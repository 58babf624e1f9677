package sqlgen_test

// Integration tests of AUTO_INCREMENT ids above MaxInt64 (BIGINT UNSIGNED):
// they reach uint64 fields, and a write whose id does not fit its field
// says whether its rows were written.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type bigU struct {
	ID   uint64 `sql:",primary"`
	Name string
}

// bigI has an int64 key on a BIGINT UNSIGNED column: Check reports it,
// and ids past MaxInt64 do not fit it.
type bigI struct {
	ID   int64 `sql:",primary"`
	Name string
}

var bigDDL = []string{
	"CREATE TABLE big_u (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL)",
	"CREATE TABLE big_i (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL)",
}

func bigSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("big_u", sqlgen.AutoIncrement, bigU{})
	s.MustRegisterType("big_i", sqlgen.AutoIncrement, bigI{})
	return s
}

// bigIDs reads the ids of table by name, with raw SQL.
func bigIDs(t *testing.T, conn *sql.DB, table string) map[string]uint64 {
	t.Helper()
	rows, err := conn.Query("SELECT name, id FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var name string
		var id uint64
		if err := rows.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		out[name] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// bigReset empties table and sets its next id.
func bigReset(t *testing.T, conn *sql.DB, table string, next uint64) {
	t.Helper()
	sqlgentest.Exec(t, conn, "DELETE FROM "+table, fmt.Sprintf("ALTER TABLE %s AUTO_INCREMENT = %d", table, next))
}

var bigVariants = []struct {
	name string
	opts []sqlgentest.Option
}{
	{"prepared", nil},
	{"interpolate", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}},
}

// TestUnsignedAutoIncrementIDs: ids past MaxInt64 are written back into a
// uint64 field by InsertRow and InsertRows (one statement and several),
// in and out of a transaction, and are the ids the server stored.
func TestUnsignedAutoIncrementIDs(t *testing.T) {
	t.Parallel()
	for _, v := range bigVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, bigDDL, v.opts...)
			for _, cached := range []bool{false, true} {
				var opts []sqlgen.Option
				if cached {
					opts = append(opts, sqlgen.WithStmtCache(16))
				}
				db := sqlgen.NewDB(conn, bigSchema(), opts...)
				t.Cleanup(func() { db.Close() })
				for _, inTx := range []bool{false, true} {
					for _, start := range []uint64{1 << 63, 1<<63 + 1, math.MaxUint64 - 100} {
						t.Run(fmt.Sprintf("stmtcache=%v/tx=%v/from=%d", cached, inTx, start), func(t *testing.T) {
							bigReset(t, conn, "big_u", start)
							ctx := context.Background()
							var tx *sql.Tx
							if inTx {
								var err error
								if ctx, tx, err = db.WithTx(ctx); err != nil {
									t.Fatal(err)
								}
								defer tx.Rollback()
							}
							a := &bigU{Name: "a"}
							if _, err := db.InsertRow(ctx, a); err != nil {
								t.Fatalf("InsertRow: %v", err)
							}
							one := []*bigU{{Name: "b"}, {Name: "c"}, {Name: "d"}}
							if err := db.InsertRows(ctx, one, 0); err != nil {
								t.Fatalf("InsertRows in one statement: %v", err)
							}
							several := []*bigU{{Name: "e"}, {Name: "f"}, {Name: "g"}}
							if err := db.InsertRows(ctx, several, 2); err != nil {
								t.Fatalf("InsertRows in several statements: %v", err)
							}
							if tx != nil {
								if err := tx.Commit(); err != nil {
									t.Fatal(err)
								}
							}
							got := map[string]uint64{}
							for _, r := range append(append([]*bigU{a}, one...), several...) {
								got[r.Name] = r.ID
							}
							stored := bigIDs(t, conn, "big_u")
							for i, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
								if want := start + uint64(i); got[name] != want || stored[name] != want {
									t.Errorf("row %s: id %d written back, %d stored; want %d", name, got[name], stored[name], want)
								}
							}
						})
					}
				}
			}
		})
	}
}

// TestAutoIncrementIDThatDoesNotFit: an id that does not fit the key
// field is checked before the commit where the batch has a transaction of
// its own (rolled back, nothing written, retryable); where the row is
// already written, the error wraps ErrRowsWritten and says so.
func TestAutoIncrementIDThatDoesNotFit(t *testing.T) {
	t.Parallel()
	for _, v := range bigVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, bigDDL, v.opts...)
			db := sqlgen.NewDB(conn, bigSchema())
			ctx := context.Background()
			count := func() int {
				return len(bigIDs(t, conn, "big_i"))
			}
			rows := func(names ...string) []*bigI {
				var out []*bigI
				for _, n := range names {
					out = append(out, &bigI{Name: n})
				}
				return out
			}

			// Several statements in the batch's own transaction: the third
			// id (MaxInt64+1) does not fit, so nothing is written.
			bigReset(t, conn, "big_i", math.MaxInt64-1)
			rs := rows("a", "b", "c")
			err := db.InsertRows(ctx, rs, 1)
			if !errors.Is(err, sqlgen.ErrConvert) || errors.Is(err, sqlgen.ErrRowsWritten) || !strings.Contains(err.Error(), "nothing was written") {
				t.Errorf("InsertRows in its own transaction: %v; want ErrConvert, not ErrRowsWritten, saying nothing was written", err)
			}
			if n := count(); n != 0 {
				t.Errorf("%d rows after a refused batch, want 0", n)
			}
			for _, r := range rs {
				if r.ID != 0 {
					t.Errorf("row %s keeps id %d after a refused batch, want 0 (retryable as it is)", r.Name, r.ID)
				}
			}

			// One statement, no transaction: written, and the error says so.
			bigReset(t, conn, "big_i", math.MaxInt64-1)
			err = db.InsertRows(ctx, rows("a", "b", "c"), 0)
			if !errors.Is(err, sqlgen.ErrRowsWritten) || !errors.Is(err, sqlgen.ErrConvert) || !strings.Contains(err.Error(), "were inserted") {
				t.Errorf("InsertRows in one statement: %v; want ErrRowsWritten and ErrConvert", err)
			}
			if n := count(); n != 3 {
				t.Errorf("%d rows after InsertRows reported them written, want 3", n)
			}

			// InsertRow: written, and the error says so.
			bigReset(t, conn, "big_i", 1<<63)
			r := &bigI{Name: "x"}
			_, err = db.InsertRow(ctx, r)
			if !errors.Is(err, sqlgen.ErrRowsWritten) || !errors.Is(err, sqlgen.ErrConvert) || !strings.Contains(err.Error(), "9223372036854775808") {
				t.Errorf("InsertRow: %v; want ErrRowsWritten and ErrConvert naming the id", err)
			}
			if n := count(); n != 1 || r.ID != 0 {
				t.Errorf("InsertRow: %d rows, id %d; want 1 row and the field left zero", n, r.ID)
			}

			// In the caller's transaction: written in it, and the error says so.
			for _, chunk := range []int{0, 1} {
				bigReset(t, conn, "big_i", math.MaxInt64)
				txCtx, tx, err := db.WithTx(ctx)
				if err != nil {
					t.Fatal(err)
				}
				err = db.InsertRows(txCtx, rows("a", "b"), chunk)
				if !errors.Is(err, sqlgen.ErrRowsWritten) || !strings.Contains(err.Error(), "caller's transaction") {
					t.Errorf("InsertRows chunk %d in the caller's transaction: %v; want ErrRowsWritten naming the transaction", chunk, err)
				}
				if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				if n := count(); n != 0 {
					t.Errorf("%d rows after the caller rolled back, want 0", n)
				}
			}
		})
	}
}
