package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// iterAll collects a stream, failing on an error.
func iterAll(t *testing.T, seq func(func(*pgItem, error) bool)) []*pgItem {
	t.Helper()
	var rows []*pgItem
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// TestIterBreakReturnsConnection: breaking out of the loop (or a panic
// in its body) closes the rows at once: on a pool of one connection, the
// connection is back and the next statement runs, with a plain context
// and one that can end (pinned for server-side cancellation), with and
// without a statement cache.
func TestIterBreakReturnsConnection(t *testing.T) {
	db, conn := pgOpen(t, nil)
	conn.SetMaxOpenConns(1)
	cached := sqlgen.NewDB(conn, db.Schema(), sqlgen.WithStmtCache(4))
	for name, d := range map[string]*sqlgen.DB{"plain": db, "stmtcache": cached} {
		for _, cancelable := range []bool{false, true} {
			ctx := context.Background()
			if cancelable {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Minute)
				defer cancel()
			}
			n := 0
			for r, err := range sqlgen.Iter[pgItem](ctx, d, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
				if r.ID != int64(n) {
					t.Fatalf("row %d has id %d", n, r.ID)
				}
				if n == 3 {
					break
				}
			}
			if s := conn.Stats(); s.InUse != 0 {
				t.Fatalf("%s (cancelable %v): %d connections in use after the break", name, cancelable, s.InUse)
			}
			tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if c, err := d.Count(tctx, &pgItem{}, nil); err != nil || c != pgRows {
				t.Fatalf("%s: Count after the break, on the pool of one: %d, %v", name, c, err)
			}
			cancel()
			// A panic in the loop's body.
			func() {
				defer func() {
					if recover() == nil {
						t.Fatal("no panic")
					}
				}()
				for range sqlgen.Iter[pgItem](ctx, d, nil, nil) {
					panic("body")
				}
			}()
			if s := conn.Stats(); s.InUse != 0 {
				t.Fatalf("%s (cancelable %v): %d connections in use after a panic in the loop", name, cancelable, s.InUse)
			}
		}
	}
}

// TestIterErrors: an error is yielded once, as (nil, err), and ends the
// sequence: an unregistered type, a context canceled mid-stream, the
// DB's limit, RefuseFullScans.
func TestIterErrors(t *testing.T) {
	db, _ := pgOpen(t, nil)
	ctx := context.Background()
	count := func(seq func(func(*pgItem, error) bool)) (rows, errs int, last error) {
		for r, err := range seq {
			if err != nil {
				if r != nil {
					t.Fatal("a row with the error")
				}
				errs++
				last = err
				continue
			}
			rows++
		}
		return
	}
	for r, err := range sqlgen.Iter[sqUnregistered](ctx, db, nil, nil) {
		if r != nil || !errors.Is(err, sqlgen.ErrNotRegistered) {
			t.Fatalf("unregistered: %v, %v", r, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, errs := 0, 0
	var last error
	for r, err := range sqlgen.Iter[pgItem](cctx, db, nil, nil) {
		if err != nil {
			errs++
			last = err
			continue
		}
		_ = r
		n++
		if n == 1 {
			cancel()
			// database/sql closes the rows when it sees the context end
			// (the rows may all be in the driver's buffer already).
			time.Sleep(50 * time.Millisecond)
		}
	}
	if errs != 1 || !errors.Is(last, context.Canceled) || n >= pgRows {
		t.Fatalf("canceled mid-stream: %d rows, %d errors, last %v", n, errs, last)
	}
	limited, err := db.WithShardLimit(sqlgen.Filter{"grp": 3})
	if err != nil {
		t.Fatal(err)
	}
	if rows, errs, err := count(sqlgen.Iter[pgItem](ctx, limited, nil, nil)); rows != 0 || errs != 1 || !errors.Is(err, sqlgen.ErrLimit) {
		t.Fatalf("outside the limit: %d rows, %d errors, %v", rows, errs, err)
	}
	if rows, errs, _ := count(sqlgen.Iter[pgItem](ctx, limited, sqlgen.Filter{"grp": 3}, nil)); rows == 0 || errs != 0 {
		t.Fatalf("inside the limit: %d rows, %d errors", rows, errs)
	}
	strict := db.RefuseFullScans()
	if rows, errs, err := count(sqlgen.Iter[pgItem](ctx, strict, sqlgen.Filter{"name": "item 001"}, nil)); rows != 0 || errs != 1 || !errors.Is(err, sqlgen.ErrNoIndex) {
		t.Fatalf("full scan: %d rows, %d errors, %v", rows, errs, err)
	}
	if rows, errs, _ := count(sqlgen.Iter[pgItem](ctx, strict, sqlgen.Filter{"name": "item 001"}, &sqlgen.SelectOptions{AllowNoIndex: true})); rows != 1 || errs != 0 {
		t.Fatalf("AllowNoIndex: %d rows, %d errors", rows, errs)
	}
}

// TestIterContexts: a stream under WithBatching is its own statement,
// never merged; in a transaction (Transact, WithTx) it sees the
// transaction's writes.
func TestIterContexts(t *testing.T) {
	log := &sqlgentest.Recorder{}
	db, _ := pgOpen(t, nil, sqlgen.WithObserver(log.Observe))
	ctx := context.Background()
	bctx := sqlgen.WithBatching(ctx)
	log.Take()
	var wg sync.WaitGroup
	for i := 1; i <= 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := iterAll(t, sqlgen.Iter[pgItem](bctx, db, sqlgen.Filter{"id": i}, nil))
			if len(rows) != 1 || rows[0].ID != int64(i) {
				t.Errorf("Iter of id %d under batching: %v", i, pgIDs(rows))
			}
		}()
	}
	wg.Wait()
	for _, e := range log.Take() {
		if e.Op == "query" && strings.Contains(e.SQL, " IN (") {
			t.Errorf("a stream was merged: %s", e.SQL)
		}
	}
	err := db.Transact(ctx, func(ctx context.Context) error {
		if _, err := db.InsertRow(ctx, &pgItem{Grp: 99, Name: "in tx", At: time.Now()}); err != nil {
			return err
		}
		rows := iterAll(t, sqlgen.Iter[pgItem](ctx, db, sqlgen.Filter{"grp": 99}, nil))
		if len(rows) != 1 || rows[0].Name != "in tx" {
			t.Errorf("Iter in Transact: %d rows", len(rows))
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Transact: no error")
	}
	tctx, tx, err := db.WithTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := db.InsertRow(tctx, &pgItem{Grp: 98, Name: "in WithTx", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if rows := iterAll(t, sqlgen.Iter[pgItem](tctx, db, sqlgen.Filter{"grp": 98}, nil)); len(rows) != 1 {
		t.Errorf("Iter in WithTx: %d rows", len(rows))
	}
	if rows := iterAll(t, sqlgen.Iter[pgItem](ctx, db, sqlgen.Filter{"grp": 98}, nil)); len(rows) != 0 {
		t.Errorf("Iter outside the transaction sees its write: %d rows", len(rows))
	}
}

// TestIterConcurrent: streams of the same table in many goroutines, some
// breaking early, under -race, on a small pool.
func TestIterConcurrent(t *testing.T) {
	db, conn := pgOpen(t, nil, sqlgen.WithStmtCache(8))
	conn.SetMaxOpenConns(4)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 5; round++ {
				opts := &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}}
				if g%3 == 1 {
					opts.Columns = []string{"id", "name"}
				}
				n := 0
				for r, err := range sqlgen.Iter[pgItem](ctx, db, nil, opts) {
					if err != nil {
						t.Error(err)
						return
					}
					n++
					if r.ID != int64(n) || r.Name != fmt.Sprintf("item %03d", n-1) {
						t.Errorf("row %d: %+v", n, r)
						return
					}
					if g%2 == 0 && n == 10+g {
						break
					}
				}
				if want := pgRows; g%2 != 0 && n != want {
					t.Errorf("goroutine %d: %d rows, want %d", g, n, want)
				}
			}
		}()
	}
	wg.Wait()
	if s := conn.Stats(); s.InUse != 0 {
		t.Fatalf("%d connections in use", s.InUse)
	}
}

// TestIterReplica: on a DB with a replica (here a second pool of the same
// server), a stream reads the replica; killed there after it yielded a
// row, it yields the error and is not run again elsewhere (which would
// yield rows twice), while a Query killed the same way runs again and
// succeeds.
func TestIterReplica(t *testing.T) {
	_, conn := pgOpen(t, nil)
	// More rows, so that the stream is still coming when it is killed.
	sqlgentest.Exec(t, conn, "INSERT INTO pg_items (grp, name, at) SELECT grp, name, at FROM pg_items",
		"INSERT INTO pg_items (grp, name, at) SELECT grp, name, at FROM pg_items",
		"INSERT INTO pg_items (grp, name, at) SELECT grp, name, at FROM pg_items",
		"INSERT INTO pg_items (grp, name, at) SELECT grp, name, at FROM pg_items")
	var total int
	if err := conn.QueryRow("SELECT COUNT(*) FROM pg_items").Scan(&total); err != nil {
		t.Fatal(err)
	}
	rep := openSame(t, sqlgentest.DatabaseName(t, conn))
	log := &sqlgentest.Recorder{}
	s := sqlgen.NewSchema()
	s.MustRegisterType("pg_items", sqlgen.AutoIncrement, pgItem{})
	db := sqlgen.NewDB(conn, s, sqlgen.WithReplicas(rep), sqlgen.WithObserver(log.Observe),
		sqlgen.WithReplicaOptions(sqlgen.ReplicaOptions{RetryAfter: time.Millisecond}))
	admin := sqlgentest.Admin(t)
	ctx := context.Background()
	slow := &sqlgen.SelectOptions{Where: "SLEEP(0.0002) = 0", AllowNoIndex: true, Order: []sqlgen.Order{sqlgen.Asc("id")}}
	kill := func() error {
		for i := 0; i < 500; i++ {
			var id int64
			err := admin.QueryRow("SELECT id FROM information_schema.processlist WHERE info LIKE '%SLEEP(0.0002)%' AND info NOT LIKE '%processlist%' LIMIT 1").Scan(&id)
			if err == nil {
				_, err = admin.Exec("KILL QUERY " + strconv.FormatInt(id, 10))
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
		return errors.New("the read was not seen")
	}

	// Not killed: read on the replica.
	log.Take()
	if rows := iterAll(t, sqlgen.Iter[pgItem](ctx, db, sqlgen.Filter{"id": 3}, nil)); len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	if ev := log.Op("query"); len(ev) != 1 || ev[0].Replica != 1 {
		t.Fatalf("the stream did not read the replica: %+v", ev)
	}

	// Columns and After on the replica.
	log.Take()
	page, err := sqlgen.Select[pgItem](ctx, db, nil, &sqlgen.SelectOptions{Columns: []string{"name"}, Order: []sqlgen.Order{sqlgen.Desc("grp")}, After: []any{6, 100}, Limit: 3})
	if err != nil || len(page) != 3 || page[0].ID != 0 || page[0].Name == "" {
		t.Fatalf("Columns and After on the replica: %+v, %v", page, err)
	}
	if ev := log.Op("query"); len(ev) != 1 || ev[0].Replica != 1 {
		t.Fatalf("the page did not read the replica: %+v", ev)
	}

	// Killed after a row went out.
	log.Take()
	seen := map[int64]bool{}
	n, errs := 0, 0
	var last error
	for r, err := range sqlgen.Iter[pgItem](ctx, db, nil, slow) {
		if err != nil {
			errs++
			last = err
			continue
		}
		if seen[r.ID] {
			t.Fatalf("row %d yielded twice", r.ID)
		}
		seen[r.ID] = true
		n++
		if n == 1 {
			if err := kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if errs != 1 || n == 0 || n >= total {
		t.Fatalf("stream killed on the replica: %d rows of %d, %d errors (%v); want some rows, then the error once", n, total, errs, last)
	}
	queries := 0
	for _, e := range log.Take() {
		if e.Op == "query" {
			queries++
		}
	}
	if queries != 1 {
		t.Fatalf("the stream ran %d times, want once (no retry after a row went out)", queries)
	}

	// A Query killed the same way is run again, and succeeds.
	time.Sleep(5 * time.Millisecond) // the replica's RetryAfter
	done := make(chan error, 1)
	go func() { done <- kill() }()
	rows, err := sqlgen.Select[pgItem](ctx, db, nil, slow)
	if kerr := <-done; kerr != nil {
		t.Fatal(kerr)
	}
	if err != nil || len(rows) != total {
		t.Fatalf("Query killed on the replica: %d rows, %v; want a retry with every row", len(rows), err)
	}
}

// openSame opens a second pool on the test's database dbName.
func openSame(t *testing.T, dbName string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(sqlgentest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = dbName
	dsn := cfg.FormatDSN()
	c, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
