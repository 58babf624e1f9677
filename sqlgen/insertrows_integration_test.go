package sqlgen_test

// InsertRows: chunking by rows and by placeholders, ids written back, one
// statement when the batch fits, and all or nothing across chunks.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

func TestInsertRows(t *testing.T) {
	t.Parallel()
	db, log, _ := newObserved(t)
	ctx := context.Background()
	rows := make([]*user, 1200)
	for i := range rows {
		rows[i] = &user{OrgID: int64(i % 3), Name: fmt.Sprint("u", i), Status: "new", Settings: settings{Size: i}}
	}
	if err := db.InsertRows(ctx, rows, 500); err != nil {
		t.Fatal(err)
	}
	inserts, others := 0, 0
	for _, e := range log.Take() {
		if e.Op == "batch insert" {
			inserts++
		} else if e.SQL == "SELECT @@SESSION.auto_increment_increment" {
			others++
		}
	}
	if inserts != 3 || others != 1 {
		t.Errorf("1200 rows in chunks of 500 took %d INSERT statements and %d others, want 3 and the auto_increment_increment read", inserts, others)
	}
	// Every id was written back, and names the row that holds the struct's data.
	seen := map[int64]bool{}
	for i, r := range rows {
		if r.ID == 0 || seen[r.ID] {
			t.Fatalf("row %d: id %d not written back or duplicated", i, r.ID)
		}
		seen[r.ID] = true
	}
	for _, i := range []int{0, 499, 500, 1199} {
		got, err := sqlgen.Get[user](ctx, db, sqlgen.Filter{"id": rows[i].ID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rows[i], got); diff != "" {
			t.Errorf("row %d: %s", i, diff)
		}
	}

	// UpsertRows updates existing keys and inserts new ones.
	ms := []*membership{{OrgID: 1, UserID: 1, Key: "a"}, {OrgID: 1, UserID: 2, Key: "b"}}
	if err := db.UpsertRows(ctx, ms, 0); err != nil {
		t.Fatal(err)
	}
	ms[0].Key = "changed"
	ms = append(ms, &membership{OrgID: 1, UserID: 3, Key: "c"})
	if err := db.UpsertRows(ctx, ms, 2); err != nil {
		t.Fatal(err)
	}
	all, err := sqlgen.Select[membership](ctx, db, nil, &sqlgen.SelectOptions{OrderBy: "user_id"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ms, all); diff != "" {
		t.Errorf("after UpsertRows: %s", diff)
	}
	if err := db.UpsertRows(ctx, rows[:1], 0); !errors.Is(err, sqlgen.ErrUnsupported) {
		t.Errorf("UpsertRows on AutoIncrement: %v", err)
	}
	mixed := []*user{{ID: 99999, Name: "x"}, {Name: "y"}}
	if err := db.InsertRows(ctx, mixed, 0); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("mixed zero and non-zero ids: %v", err)
	}
	if err := db.InsertRows(ctx, []user{}, 0); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("[]T instead of []*T: %v", err)
	}
}

// TestInsertRowsOneStatement: a batch that fits one statement runs
// without a transaction of its own, and is still all or nothing; its ids
// are written back and are the ids the server gave, also with an
// auto_increment_increment other than 1 (read on the inserting
// connection).
func TestInsertRowsOneStatement(t *testing.T) {
	t.Parallel()
	for _, inc := range []int{1, 3} {
		db, log, conn := newObserved(t)
		ctx := context.Background()
		if inc != 1 {
			// One connection, so the session variable is the inserting one's.
			conn.SetMaxOpenConns(1)
			if _, err := conn.Exec(fmt.Sprintf("SET SESSION auto_increment_increment = %d", inc)); err != nil {
				t.Fatal(err)
			}
		}
		rows := make([]*org, 40)
		for i := range rows {
			rows[i] = &org{Name: fmt.Sprint("org", i)}
		}
		rows[39].Name = strings.Repeat("x", 300) // too long for VARCHAR(255)
		if err := db.InsertRows(ctx, rows, 100); err == nil {
			t.Fatal("InsertRows succeeded with a row too long for its column")
		}
		if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
			t.Fatalf("increment %d: %d rows written by a failed one-statement batch, want 0", inc, n)
		}
		for i, r := range rows {
			if r.ID != 0 {
				t.Fatalf("increment %d: row %d kept id %d after the failure", inc, i, r.ID)
			}
		}
		rows[39].Name = "fine"
		if err := db.InsertRows(ctx, rows, 100); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			var got *org
			if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": r.ID}, nil); err != nil || got.Name != r.Name {
				t.Fatalf("increment %d: row %d written back id %d, which holds %+v (%v)", inc, i, r.ID, got, err)
			}
			if i > 0 && r.ID-rows[i-1].ID != int64(inc) {
				t.Errorf("increment %d: ids %d then %d", inc, rows[i-1].ID, r.ID)
			}
		}
		for _, e := range log.Take() {
			if strings.HasPrefix(e.SQL, "INSERT") && e.Err == nil && e.Rows != 40 {
				t.Errorf("increment %d: %q wrote %d rows, want all 40 in one statement", inc, e.SQL[:40], e.Rows)
			}
		}
	}
}

// TestInsertRowsAllOrNothing: a batch whose last chunk fails leaves no row
// of any chunk behind, and a caller's transaction is left to the caller.
func TestInsertRowsAllOrNothing(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	rows := make([]*org, 250)
	for i := range rows {
		rows[i] = &org{Name: fmt.Sprint("org", i)}
	}
	rows[240].Name = strings.Repeat("x", 300) // too long for VARCHAR(255)
	if err := db.InsertRows(ctx, rows, 100); err == nil {
		t.Fatal("InsertRows succeeded with a row too long for its column")
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Fatalf("%d rows written by a failed batch, want 0", n)
	}

	rows[240].Name = "fine"
	for _, r := range rows {
		r.ID = 0
	}
	txCtx, tx, err := db.WithTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertRows(txCtx, rows, 100); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Errorf("InsertRows committed the caller's transaction: %d rows visible outside it", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("the caller's transaction was ended by InsertRows: %v", err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Errorf("%d rows after the caller rolled back", n)
	}
}

// TestInsertRowsPlaceholderLimit: a chunk that would need more than
// 65,535 placeholders is split, not sent.
func TestInsertRowsPlaceholderLimit(t *testing.T) {
	t.Parallel()
	db, log, _ := newObserved(t)
	ctx := context.Background()
	const n = 40000 // 4 columns each: 160,000 placeholders
	rows := make([]*membership, n)
	for i := range rows {
		rows[i] = &membership{OrgID: 7, UserID: int64(i), Key: "k"}
	}
	if err := db.InsertRows(ctx, rows, n); err != nil {
		t.Fatal(err)
	}
	stmts := 0
	for _, e := range log.Take() {
		if e.Op == "batch insert" {
			stmts++
			if e.Args > sqlgen.MaxPlaceholders {
				t.Errorf("a statement with %d placeholders was sent", e.Args)
			}
		}
	}
	if stmts != 3 {
		t.Errorf("%d statements, want 3 (16383 rows of 4 columns each)", stmts)
	}
	if c, _ := db.Count(ctx, &membership{}, nil); c != n {
		t.Errorf("%d rows, want %d", c, n)
	}
}
