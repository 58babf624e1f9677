package sqlgen_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

func TestTransact(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.Transact(ctx, func(ctx context.Context) error {
		if _, err := db.InsertRow(ctx, &org{Name: "rolled back"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transact returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic of fn did not go on")
			}
		}()
		_ = db.Transact(ctx, func(ctx context.Context) error {
			_, _ = db.InsertRow(ctx, &org{Name: "panicked"})
			panic("fn panics")
		})
	}()
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Fatalf("%d rows after a failed and a panicking Transact, want 0", n)
	}
	if err := db.Transact(ctx, func(ctx context.Context) error {
		_, err := db.InsertRow(ctx, &org{Name: "kept"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 1 {
		t.Fatalf("%d rows after a committed Transact, want 1", n)
	}
	txCtx, tx, _ := db.WithTx(ctx)
	defer tx.Rollback()
	if err := db.Transact(txCtx, func(context.Context) error { return nil }); !errors.Is(err, sqlgen.ErrTxInProgress) {
		t.Errorf("nested Transact: %v", err)
	}
}

// TestDeadlockRetry provokes a real deadlock between two transactions that
// lock two rows in opposite orders; the victim's error carries MySQL's
// number 1213, and TransactWithRetry runs it again to success.
func TestDeadlockRetry(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	a, b := &org{Name: "a"}, &org{Name: "b"}
	for _, o := range []*org{a, b} {
		if _, err := db.InsertRow(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var bothLocked sync.WaitGroup
	bothLocked.Add(2)
	var attempts [2]atomic.Int32
	var firstErrs [2]error
	lockThenCross := func(i int, first, second *org) func(context.Context) error {
		return func(ctx context.Context) error {
			n := attempts[i].Add(1)
			var row *org
			if err := db.QueryRow(ctx, &row, sqlgen.Filter{"id": first.ID}, &sqlgen.SelectOptions{ForUpdate: true}); err != nil {
				return err
			}
			if n == 1 { // only the first attempt waits for the other to hold its lock
				bothLocked.Done()
				bothLocked.Wait()
			}
			err := db.QueryRow(ctx, &row, sqlgen.Filter{"id": second.ID}, &sqlgen.SelectOptions{ForUpdate: true})
			if err != nil && n == 1 {
				firstErrs[i] = err
			}
			if err != nil {
				return err
			}
			row.Name += "+"
			return db.UpdateRow(ctx, row)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]*org{{a, b}, {b, a}} {
		wg.Add(1)
		go func(i int, pair [2]*org) {
			defer wg.Done()
			errs[i] = db.TransactWithRetry(ctx, 5, lockThenCross(i, pair[0], pair[1]))
		}(i, pair)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	victims := 0
	for _, err := range firstErrs {
		var me *mysql.MySQLError
		if err != nil {
			if !errors.As(err, &me) || me.Number != 1213 || !sqlgen.IsRetryable(err) {
				t.Errorf("victim's error %v is not a reachable MySQL 1213", err)
			}
			victims++
		}
	}
	if victims != 1 || attempts[0].Load()+attempts[1].Load() != 3 {
		t.Errorf("%d victims and %d+%d attempts, want 1 victim retried once", victims, attempts[0].Load(), attempts[1].Load())
	}
	var rows []*org
	if err := db.Query(ctx, &rows, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Name+rows[1].Name != "a+b+" {
		t.Errorf("after both transactions: %+v %+v", rows[0], rows[1])
	}

	// Giving up: a non-retryable error is returned at once.
	calls := 0
	err := db.TransactWithRetry(ctx, 5, func(context.Context) error { calls++; return errors.New("plain") })
	if err == nil || calls != 1 {
		t.Errorf("non-retryable error: %v after %d calls", err, calls)
	}
	// And a retryable one stops when the context ends.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	err = db.TransactWithRetry(cctx, 1000, func(context.Context) error { return &mysql.MySQLError{Number: 1213, Message: "fake"} })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("retry loop with an ended context: %v", err)
	}
}

func TestOrder(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	for _, n := range []string{"b", "c", "a"} {
		if _, err := db.InsertRow(ctx, &org{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := sqlgen.Select[org](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Desc("name")}})
	if err != nil || len(rows) != 3 || rows[0].Name != "c" || rows[2].Name != "a" {
		t.Fatalf("Order Desc(name): %v %v", rows, err)
	}
	for _, bad := range []sqlgen.Order{sqlgen.Asc("name; DROP TABLE orgs"), sqlgen.Asc("`name`"), sqlgen.Asc("nope")} {
		_, err := sqlgen.Select[org](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{bad}})
		if !errors.Is(err, sqlgen.ErrUnknownColumn) {
			t.Errorf("Order by %q: %v, want ErrUnknownColumn", bad.Column, err)
		}
	}
	_, err = sqlgen.Select[org](ctx, db, nil, &sqlgen.SelectOptions{OrderBy: "id", Order: []sqlgen.Order{sqlgen.Asc("id")}})
	if !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("Order and OrderBy: %v", err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 3 {
		t.Errorf("table damaged: %d rows", n)
	}
}
