package sqlgen_test

// Server-side cancellation, seen through information_schema.PROCESSLIST.
// Identifiers start with "ex".

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// exBusy lists the threads of database dbName that run a statement (other
// than a KILL), as information_schema.PROCESSLIST shows them.
func exBusy(t testing.TB, admin *sql.DB, dbName string) []sqlgentest.Thread {
	t.Helper()
	ths, err := sqlgentest.Threads(context.Background(), admin, dbName)
	if err != nil {
		t.Fatal(err)
	}
	var out []sqlgentest.Thread
	for _, th := range ths {
		if th.Command != "Sleep" && !strings.HasPrefix(strings.ToUpper(th.Info), "KILL") {
			out = append(out, th)
		}
	}
	return out
}

// exWaitIdle waits up to within for dbName to have no busy thread, and
// returns how long it took, or -1 if it did not happen.
func exWaitIdle(t testing.TB, admin *sql.DB, dbName string, within time.Duration) (time.Duration, []sqlgentest.Thread) {
	t.Helper()
	start := time.Now()
	for {
		busy := exBusy(t, admin, dbName)
		if len(busy) == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > within {
			return -1, busy
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exKillBusy stops (KILL QUERY) the statements still running in dbName,
// so that the next case starts clean and the database can be dropped.
func exKillBusy(t testing.TB, admin *sql.DB, dbName string) {
	t.Helper()
	for _, th := range exBusy(t, admin, dbName) {
		if _, err := admin.Exec(fmt.Sprintf("KILL QUERY %d", th.ID)); err != nil {
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1094 { // unknown thread: it ended meanwhile
				t.Error(err)
			}
		}
	}
	if d, busy := exWaitIdle(t, admin, dbName, 10*time.Second); d < 0 {
		t.Fatalf("threads still busy 10 s after KILL QUERY: %+v", busy)
	}
}

// TestExecServerCancel ends the context of calls while the server works
// on their statement (a slow read, a read waiting for a table lock, writes
// waiting for a row lock, in and out of transactions): the statement
// leaves the server's process list within 3 s (SLEEP(5) would take 5), the call returns the
// context's error, and a write stopped this way is not applied once the
// lock is free. With WithoutServerCancel, the statement goes on.
func TestExecServerCancel(t *testing.T) {
	t.Parallel()
	for _, interp := range []string{"false", "true"} {
		t.Run("interpolateParams="+interp, func(t *testing.T) {
			conn := sqlgentest.OpenSchema(t, exSchema(), sqlgentest.Params("interpolateParams", interp))
			conn.SetMaxOpenConns(8)
			admin := sqlgentest.Admin(t)
			dbName := sqlgentest.DatabaseName(t, conn)
			log := &sqlgentest.Recorder{}
			db := sqlgen.NewDB(conn, exSchema(), sqlgen.WithObserver(log.Observe))
			cached := sqlgen.NewDB(conn, exSchema(), sqlgen.WithStmtCache(16))
			defer cached.Close()
			off := sqlgen.NewDB(conn, exSchema(), sqlgen.WithoutServerCancel())
			bg := context.Background()
			for i := int64(1); i <= 3; i++ {
				if _, err := db.InsertRow(bg, &exItem{ID: i, Name: fmt.Sprint("row", i), N: i}); err != nil {
					t.Fatal(err)
				}
			}
			const timeout = 200 * time.Millisecond
			slow := &sqlgen.SelectOptions{Where: "SLEEP(5) = 0"}

			// call runs f with a context that ends after timeout (a
			// deadline, or a cancel), checks its error and how soon it
			// came, and then that the server's statement is gone within a
			// second (or, with stays, still there after one).
			call := func(t *testing.T, cancel bool, stays bool, f func(ctx context.Context) error) (reached bool) {
				t.Helper()
				// Whether the statement reached the server before the
				// context ended: on a loaded machine the deadline can pass
				// while the call still waits for a connection, and then
				// there is nothing on the server to stop.
				var seen atomic.Bool
				pollDone := make(chan struct{})
				pollStop := make(chan struct{})
				go func() {
					defer close(pollDone)
					for {
						if ths, err := sqlgentest.Threads(bg, admin, dbName); err == nil {
							for _, th := range ths {
								if th.Command != "Sleep" && !strings.HasPrefix(strings.ToUpper(th.Info), "KILL") {
									seen.Store(true)
								}
							}
						}
						select {
						case <-pollStop:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
				defer func() { reached = seen.Load() }()
				defer func() { close(pollStop); <-pollDone }()
				ctx, stop := context.WithTimeout(bg, timeout)
				want := context.DeadlineExceeded
				if cancel {
					ctx, stop = context.WithCancel(bg)
					time.AfterFunc(timeout, stop)
					want = context.Canceled
				}
				defer stop()
				start := time.Now()
				err := f(ctx)
				if !errors.Is(err, want) {
					t.Errorf("error %v, want one that wraps %v", err, want)
				}
				if late := time.Since(start) - timeout; late > time.Second {
					t.Errorf("the call returned %v after its context ended", late)
				}
				d, busy := exWaitIdle(t, admin, dbName, 3*time.Second) // well before SLEEP(5) would end by itself; a loaded server can take a while to act on a KILL
				switch {
				case stays && d >= 0:
					t.Errorf("without server-side cancellation, the statement left the server after %v", d)
				case stays:
					t.Logf("without server-side cancellation, still running 3 s later: %+v", busy)
					exKillBusy(t, admin, dbName)
				case d < 0:
					t.Errorf("the statement still runs on the server 3 s after the context ended: %+v; kills: %+v", busy, log.Op("kill"))
					exKillBusy(t, admin, dbName)
				default:
					t.Logf("%v; the statement left the server %v after the call returned", err, d.Round(time.Millisecond))
				}
				return // reached is set by the deferred function above
			}
			// holdRow locks row id in a transaction (with a row that
			// does not exist yet, inserts it uncommitted) and returns the
			// function that rolls it back.
			holdRow := func(t *testing.T, id int64) func() {
				t.Helper()
				hctx, htx, err := off.WithTx(bg)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := off.UpsertRow(hctx, &exItem{ID: id, Name: "held"}); err != nil {
					t.Fatal(err)
				}
				return func() { _ = htx.Rollback() }
			}
			rowN := func(t *testing.T, id int64) (int64, bool) {
				t.Helper()
				got, err := sqlgen.Get[exItem](bg, db, sqlgen.Filter{"id": id}, nil)
				if errors.Is(err, sql.ErrNoRows) {
					return 0, false
				}
				if err != nil {
					t.Fatal(err)
				}
				return got.N, true
			}

			t.Run("slow Query, deadline", func(t *testing.T) {
				before := len(log.Op("kill"))
				// Up to three tries for the statement to reach the server
				// before its deadline (see call); only then is a KILL due.
				reached := false
				for try := 0; try < 3 && !reached; try++ {
					before = len(log.Op("kill"))
					reached = call(t, false, false, func(ctx context.Context) error {
						_, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"id": 1}, slow)
						return err
					})
				}
				if !reached {
					t.Fatal("in three tries the statement never reached the server before its 200 ms deadline")
				}
				// The statement has left the server (call checked it); the
				// observer's report of the KILL comes from the goroutine
				// that sent it, which a loaded machine may run late.
				deadline := time.Now().Add(5 * time.Second)
				for len(log.Op("kill")) == before && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if kills := log.Op("kill"); len(kills) == before {
					t.Log("the statement left the server, but the observer saw no kill within 5 s")
				} else if k := kills[len(kills)-1]; k.Err != nil || k.Table != "ex_items" || !strings.HasPrefix(k.SQL, "KILL QUERY ") {
					t.Errorf("the observer's kill event: %+v", k)
				}
			})
			t.Run("slow QueryRow, cancel", func(t *testing.T) {
				call(t, true, false, func(ctx context.Context) error {
					_, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": 2}, slow)
					return err
				})
			})
			t.Run("Count waiting for a table lock", func(t *testing.T) {
				lock, err := admin.Conn(bg)
				if err != nil {
					t.Fatal(err)
				}
				defer lock.Close()
				if _, err := lock.ExecContext(bg, "LOCK TABLES `"+dbName+"`.ex_items WRITE"); err != nil {
					t.Fatal(err)
				}
				defer lock.ExecContext(bg, "UNLOCK TABLES")
				call(t, false, false, func(ctx context.Context) error {
					_, err := db.Count(ctx, &exItem{}, sqlgen.Filter{"n": 1})
					return err
				})
			})
			t.Run("UpdateRow waiting for a row lock", func(t *testing.T) {
				release := holdRow(t, 2)
				call(t, false, false, func(ctx context.Context) error {
					return db.UpdateRow(ctx, &exItem{ID: 2, Name: "late", N: 200})
				})
				release()
				time.Sleep(100 * time.Millisecond)
				if n, _ := rowN(t, 2); n != 2 {
					t.Errorf("row 2 has n=%d after a timed-out update was stopped, want 2: the update was applied late", n)
				}
			})
			t.Run("InsertRow waiting for a row lock", func(t *testing.T) {
				release := holdRow(t, 50)
				call(t, true, false, func(ctx context.Context) error {
					_, err := db.InsertRow(ctx, &exItem{ID: 50, Name: "late", N: 50})
					return err
				})
				release()
				time.Sleep(100 * time.Millisecond)
				if _, ok := rowN(t, 50); ok {
					t.Error("row 50 exists after a timed-out insert was stopped: it was applied late")
				}
			})
			t.Run("Transact waiting for a row lock", func(t *testing.T) {
				release := holdRow(t, 3)
				call(t, false, false, func(ctx context.Context) error {
					return db.Transact(ctx, func(ctx context.Context) error {
						return db.UpdateRow(ctx, &exItem{ID: 3, Name: "late", N: 300})
					})
				})
				release()
				if n, _ := rowN(t, 3); n != 3 {
					t.Errorf("row 3 has n=%d after a timed-out transaction, want 3", n)
				}
			})
			t.Run("slow Query in Transact with the statement cache", func(t *testing.T) {
				call(t, false, false, func(ctx context.Context) error {
					return cached.Transact(ctx, func(ctx context.Context) error {
						_, err := sqlgen.Select[exItem](ctx, cached, sqlgen.Filter{"id": 1}, slow)
						return err
					})
				})
			})
			t.Run("InsertRows in its own transaction waiting for a row lock", func(t *testing.T) {
				release := holdRow(t, 105)
				rows := make([]*exItem, 10)
				for i := range rows {
					rows[i] = &exItem{ID: 100 + int64(i), Name: "batch"}
				}
				call(t, false, false, func(ctx context.Context) error { return db.InsertRows(ctx, rows, 2) })
				release()
				if n, err := db.Count(bg, &exItem{}, sqlgen.Filter{"name": "batch"}); err != nil || n != 0 {
					t.Errorf("%d rows of a timed-out InsertRows are in the table (%v), want 0", n, err)
				}
			})
			t.Run("WithoutServerCancel", func(t *testing.T) {
				call(t, false, true, func(ctx context.Context) error {
					_, err := sqlgen.Select[exItem](ctx, off, sqlgen.Filter{"id": 1}, slow)
					return err
				})
			})
		})
	}
}

// TestExecServerCancelNeverHitsAnotherStatement: contexts that end at
// random around the end of their statements make KILLs race with the
// statements' completion. A KILL must never reach a later statement that
// the connection serves: calls with contexts that never end, sharing the
// small pool, must all succeed (a stray KILL QUERY would fail one with
// error 1317, "Query execution was interrupted").
func TestExecServerCancelNeverHitsAnotherStatement(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.OpenSchema(t, exSchema())
	conn.SetMaxOpenConns(4)
	log := &sqlgentest.Recorder{}
	db := sqlgen.NewDB(conn, exSchema(), sqlgen.WithObserver(log.Observe))
	bg := context.Background()
	if _, err := db.InsertRow(bg, &exItem{ID: 1, Name: "one"}); err != nil {
		t.Fatal(err)
	}
	brief := &sqlgen.SelectOptions{Where: "SLEEP(0.003) = 0"}
	var stopped atomic.Bool
	var wg sync.WaitGroup
	var innocentCalls atomic.Int64
	errs := make(chan error, 100)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stopped.Load(); i++ {
				var err error
				if i%2 == 0 {
					_, err = sqlgen.Get[exItem](bg, db, sqlgen.Filter{"id": 1}, brief)
				} else {
					err = db.UpdateRow(bg, &exItem{ID: 1, Name: "one", N: int64(i)})
				}
				innocentCalls.Add(1)
				if err != nil {
					errs <- fmt.Errorf("a call whose context never ends failed: %w", err)
					return
				}
			}
		}(w)
	}
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 150; i++ {
				ctx, cancel := context.WithTimeout(bg, time.Duration(rand.Int64N(int64(6*time.Millisecond))))
				var err error
				if i%3 == 2 {
					err = db.Transact(ctx, func(ctx context.Context) error {
						_, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": 1}, brief)
						return err
					})
				} else {
					_, err = sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": 1}, brief)
				}
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					errs <- fmt.Errorf("a call whose context ended failed with %w, not the context's error", err)
					return
				}
			}
		}(w)
	}
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		// The cancelled callers end by themselves; then the others stop.
		time.Sleep(3 * time.Second)
		stopped.Store(true)
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("still running after a minute")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	time.Sleep(200 * time.Millisecond) // the last KILLs report
	kills := log.Op("kill")
	t.Logf("%d calls with contexts that never end, %d KILLs sent", innocentCalls.Load(), len(kills))
	if len(kills) == 0 {
		t.Error("no KILL was sent: the test did not exercise server-side cancellation")
	}
}

// TestExecServerCancelCostsBackgroundNothing: a read with a context that
// cannot end allocates as much with server-side cancellation (on by
// default) as without it: it takes no connection of its own and reads no
// connection id.
func TestExecServerCancelCostsBackgroundNothing(t *testing.T) {
	conn := sqlgentest.OpenSchema(t, exSchema())
	on := sqlgen.NewDB(conn, exSchema())
	off := sqlgen.NewDB(conn, exSchema(), sqlgen.WithoutServerCancel())
	bg := context.Background()
	if _, err := on.InsertRow(bg, &exItem{ID: 1, Name: "one"}); err != nil {
		t.Fatal(err)
	}
	var got *exItem
	read := func(db *sqlgen.DB) func() error {
		return func() error { return db.QueryRow(bg, &got, sqlgen.Filter{"id": 1}, nil) }
	}
	a, b := alMeasure(t, read(off)), alMeasure(t, read(on))
	t.Logf("QueryRow with context.Background(): %v allocations without server-side cancellation, %v with", a, b)
	alCheck(t, "QueryRow(context.Background()) with server-side cancellation minus without", b-a, 0, false,
		"a context that cannot end pays nothing")
}

// TestExecServerCancelOneConnection: with a pool of one connection, the
// KILL gets the connection the cancelled statement gave back (the driver
// closed it): outside a transaction at once, in Transact once the
// transaction has rolled back. The call does not wait for it longer than
// a moment.
func TestExecServerCancelOneConnection(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.OpenSchema(t, exSchema())
	conn.SetMaxOpenConns(1)
	admin := sqlgentest.Admin(t)
	dbName := sqlgentest.DatabaseName(t, conn)
	db := sqlgen.NewDB(conn, exSchema())
	bg := context.Background()
	if _, err := db.InsertRow(bg, &exItem{ID: 1, Name: "one"}); err != nil {
		t.Fatal(err)
	}
	slow := &sqlgen.SelectOptions{Where: "SLEEP(5) = 0"}
	for _, tc := range []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"Query", func(ctx context.Context) error {
			_, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"id": 1}, slow)
			return err
		}},
		{"Transact", func(ctx context.Context) error {
			return db.Transact(ctx, func(ctx context.Context) error {
				_, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"id": 1}, slow)
				return err
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.f(ctx)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want one that wraps context.DeadlineExceeded", err)
			}
			if took > 800*time.Millisecond {
				t.Errorf("the call took %v with a deadline of 200ms", took)
			}
			if d, busy := exWaitIdle(t, admin, dbName, 2*time.Second); d < 0 {
				t.Errorf("the statement still runs on the server 2 s after the call: %+v", busy)
				exKillBusy(t, admin, dbName)
			} else {
				t.Logf("the call returned after %v; the statement left the server %v later", took.Round(time.Millisecond), d.Round(time.Millisecond))
			}
			if _, err := sqlgen.Get[exItem](bg, db, sqlgen.Filter{"id": 1}, nil); err != nil {
				t.Errorf("the pool does not serve the next call: %v", err)
			}
		})
	}
}
