package sqlgen_test

// Where statements run: the statement cache inside transactions and under
// eviction churn, transactions scoped to their *sql.DB, and context errors.
// Identifiers start with "ex".

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type exItem struct {
	ID   int64 `sql:",primary"`
	Name string
	N    int64
	Doc  map[string]any `sql:",json"`
}

type exAuto struct {
	ID   int64 `sql:",primary"`
	Name string
	Data []byte
}

func exSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("ex_items", sqlgen.UniqueID, exItem{})
	s.MustRegisterType("ex_autos", sqlgen.AutoIncrement, exAuto{})
	return s
}

// exVariant is one way of reaching the server: DSN parameters and DB
// options.
type exVariant struct {
	name string
	dsn  []sqlgentest.Option
	opts []sqlgen.Option
}

// exVariants crosses interpolateParams (which decides whether the driver
// prepares statements itself) with server-side cancellation on and off
// (which decides whether statements run on pinned connections), and adds
// opts to each.
func exVariants(opts ...sqlgen.Option) []exVariant {
	var out []exVariant
	for _, interp := range []string{"false", "true"} {
		for _, cancel := range []bool{true, false} {
			v := exVariant{
				name: "interpolateParams=" + interp,
				dsn:  []sqlgentest.Option{sqlgentest.Params("interpolateParams", interp, "parseTime", "true", "loc", "Europe/Paris")},
				opts: append([]sqlgen.Option(nil), opts...),
			}
			if cancel {
				v.name += ",serverCancel"
			} else {
				v.name += ",WithoutServerCancel"
				v.opts = append(v.opts, sqlgen.WithoutServerCancel())
			}
			out = append(out, v)
		}
	}
	return out
}

// exWithin runs f and fails the test if it has not returned within d: a
// deadlock fails instead of hanging the test binary. On a timeout, the
// server connections to database dbName are killed first, so that the
// stuck transaction releases its locks and the database can be dropped.
func exWithin(t *testing.T, dbName string, d time.Duration, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(d):
		exKillDatabase(t, dbName)
		t.Fatalf("%s: still running after %v: deadlock", what, d)
	}
}

// exKillDatabase kills every server connection to database dbName.
func exKillDatabase(t testing.TB, dbName string) {
	t.Helper()
	admin := sqlgentest.Admin(t)
	ths, err := sqlgentest.Threads(context.Background(), admin, dbName)
	if err != nil {
		t.Error(err)
		return
	}
	for _, th := range ths {
		_, _ = admin.Exec(fmt.Sprintf("KILL %d", th.ID))
	}
}

// TestExecStmtCacheOneConnection runs every kind of statement through a
// statement cache on a pool of one connection, inside transactions
// (Transact, and the own transaction of a multi-chunk InsertRows) and
// outside: reads, writes, Count, batched reads, InsertRows chunks, and the
// server look-ups (VERSION for a JSON filter, max_allowed_packet for a
// large value, auto_increment_increment for the ids of a batch). A
// statement that needed a second connection would wait forever.
func TestExecStmtCacheOneConnection(t *testing.T) {
	t.Parallel()
	for i, v := range exVariants(sqlgen.WithStmtCache(2)) {
		for _, cancellable := range []bool{false, true} {
			name := v.name + ",ctx=Background"
			if cancellable {
				name = v.name + ",ctx=WithTimeout"
			}
			t.Run(name, func(t *testing.T) {
				conn := sqlgentest.OpenSchema(t, exSchema(), v.dsn...)
				dbName := sqlgentest.DatabaseName(t, conn)
				conn.SetMaxOpenConns(1)
				db := sqlgen.NewDB(conn, exSchema(), v.opts...) // asks VERSION() at the first JSON filter
				defer db.Close()
				ctx := context.Background()
				if cancellable {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Minute)
					defer cancel()
				}
				exWithin(t, dbName, 30*time.Second, "in Transact", func() error {
					return db.Transact(ctx, func(ctx context.Context) error { return exEveryStatement(ctx, db, 100) })
				})
				exWithin(t, dbName, 30*time.Second, "outside a transaction", func() error { return exEveryStatement(ctx, db, 200) })
				exWithin(t, dbName, 30*time.Second, "batched reads", func() error { return exBatchedReads(ctx, db) })
				if i == 0 && !cancellable {
					exWithin(t, dbName, 60*time.Second, "InsertRows split by size", func() error { return exSplitBySize(ctx, db, conn) })
				}
				var n int
				if err := conn.QueryRow("SELECT COUNT(*) FROM ex_items").Scan(&n); err != nil || n != 12 {
					t.Errorf("ex_items has %d rows (%v), want the 12 committed ones", n, err)
				}
			})
		}
	}
}

// exEveryStatement runs each kind of statement once, with ids from base.
func exEveryStatement(ctx context.Context, db *sqlgen.DB, base int64) error {
	it := &exItem{ID: base, Name: "one", N: 1, Doc: map[string]any{"k": "v"}}
	if _, err := db.InsertRow(ctx, it); err != nil {
		return err
	}
	got, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": base}, nil)
	if err != nil || got.Name != "one" {
		return fmt.Errorf("Get: %+v %v", got, err)
	}
	if _, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": base}, &sqlgen.SelectOptions{ForUpdate: true}); err != nil {
		return err
	}
	it.N = 2
	if err := db.UpdateRow(ctx, it); err != nil {
		return err
	}
	if _, err := db.UpsertRow(ctx, &exItem{ID: base + 1, Name: "two", N: 2}); err != nil {
		return err
	}
	// A filter on a JSON column: asks the server's version (once per DB).
	byDoc, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"doc": map[string]any{"k": "v"}, "id": []int64{base, base + 1}}, nil)
	if err != nil || len(byDoc) != 1 {
		return fmt.Errorf("JSON filter: %d rows, %v", len(byDoc), err)
	}
	if n, err := db.Count(ctx, &exItem{}, sqlgen.Filter{"id": []int64{base, base + 1, base + 2}}); err != nil || n != 2 {
		return fmt.Errorf("Count: %d %v", n, err)
	}
	// A multi-chunk batch: its own transaction outside the caller's.
	batch := make([]*exItem, 5)
	for i := range batch {
		batch[i] = &exItem{ID: base + 10 + int64(i), Name: "batch"}
	}
	if err := db.InsertRows(ctx, batch, 2); err != nil {
		return err
	}
	if err := db.UpsertRows(ctx, batch, 2); err != nil {
		return err
	}
	if err := db.DeleteRow(ctx, &exItem{ID: base + 1}); err != nil {
		return err
	}
	// Ids of a multi-chunk batch need auto_increment_increment; a value
	// of 1 MiB or more needs max_allowed_packet.
	autos := make([]*exAuto, 5)
	for i := range autos {
		autos[i] = &exAuto{Name: "auto"}
	}
	autos[4].Data = make([]byte, 1<<20)
	if err := db.InsertRows(ctx, autos, 2); err != nil {
		return err
	}
	single := []*exAuto{{Name: "a"}, {Name: "b"}}
	if err := db.InsertRows(ctx, single, 10); err != nil {
		return err
	}
	if autos[4].ID == 0 || single[1].ID != single[0].ID+1 {
		return fmt.Errorf("ids not written back: %d, %d %d", autos[4].ID, single[0].ID, single[1].ID)
	}
	if _, err := db.InsertRow(ctx, &exAuto{Name: "large", Data: make([]byte, 1<<20)}); err != nil {
		return err
	}
	return nil
}

// exBatchedReads reads five rows by id concurrently under WithBatching.
func exBatchedReads(ctx context.Context, db *sqlgen.DB) error {
	bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(5*time.Millisecond))
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = sqlgen.Get[exItem](bctx, db, sqlgen.Filter{"id": 200 + 10 + int64(i)}, nil)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// exSplitBySize inserts a batch that fits one chunk by count but not by
// size: the ids pin a connection, and the transaction of the split runs
// on it.
func exSplitBySize(ctx context.Context, db *sqlgen.DB, conn *sql.DB) error {
	var maxPacket int
	if err := conn.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&maxPacket); err != nil {
		return err
	}
	rows := []*exAuto{{Name: "x", Data: make([]byte, maxPacket/2*6/10)}, {Name: "y", Data: make([]byte, maxPacket/2*6/10)}}
	if err := db.InsertRows(ctx, rows, 10); err != nil {
		return err
	}
	if rows[0].ID == 0 || rows[1].ID == 0 {
		return fmt.Errorf("ids not written back: %d %d", rows[0].ID, rows[1].ID)
	}
	return nil
}

// TestExecStmtCacheEvictionChurn: many goroutines run many distinct
// statements through caches of one and two statements, so that a
// statement is evicted while others still use it. None may fail ("sql:
// statement is closed" before the fix), outside transactions and with
// some in transactions (more of them at once than the pool has
// connections).
func TestExecStmtCacheEvictionChurn(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2} {
		for vi, v := range exVariants(sqlgen.WithStmtCache(size))[:2] {
			withTx := vi == 1
			t.Run(fmt.Sprintf("size=%d,%s,transactions=%v", size, v.name, withTx), func(t *testing.T) {
				conn := sqlgentest.OpenSchema(t, exSchema(), v.dsn...)
				dbName := sqlgentest.DatabaseName(t, conn)
				conn.SetMaxOpenConns(6)
				db := sqlgen.NewDB(conn, exSchema(), v.opts...)
				defer db.Close()
				ctx := context.Background()
				items := make([]*exItem, 20)
				for i := range items {
					items[i] = &exItem{ID: int64(i + 1), Name: fmt.Sprint("n", i+1), N: int64(i)}
				}
				if err := db.InsertRows(ctx, items, 0); err != nil {
					t.Fatal(err)
				}
				const workers, rounds = 8, 150
				var wg sync.WaitGroup
				errs := make(chan error, workers)
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						r := rand.New(rand.NewPCG(uint64(w), uint64(size)))
						for i := 0; i < rounds; i++ {
							var err error
							if withTx && i%10 == 0 {
								err = db.Transact(ctx, func(ctx context.Context) error {
									for j := 0; j < 3; j++ {
										if err := exChurnStep(ctx, db, r, w); err != nil {
											return err
										}
									}
									return nil
								})
							} else {
								err = exChurnStep(ctx, db, r, w)
							}
							if err != nil {
								errs <- fmt.Errorf("worker %d, round %d: %w", w, i, err)
								return
							}
						}
					}(w)
				}
				exWithin(t, dbName, time.Minute, "churn", func() error {
					wg.Wait()
					close(errs)
					var all []error
					for err := range errs {
						all = append(all, err)
					}
					return errors.Join(all...)
				})
			})
		}
	}
}

// exChurnStep runs one statement picked at random among many texts.
func exChurnStep(ctx context.Context, db *sqlgen.DB, r *rand.Rand, w int) error {
	switch r.IntN(6) {
	case 0:
		ids := make([]int64, 1+r.IntN(6)) // IN lists of 1 to 6: six texts
		for i := range ids {
			ids[i] = 1 + r.Int64N(20)
		}
		_, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"id": ids}, nil)
		return err
	case 1:
		_, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": 1 + r.Int64N(20)}, nil)
		return err
	case 2:
		f := []sqlgen.Filter{{"n": 3}, {"name": "n3"}, {"id": 3}, {"n": 3, "id": 3}}[r.IntN(4)]
		_, err := db.Count(ctx, &exItem{}, f)
		return err
	case 3:
		return db.UpdateRow(ctx, &exItem{ID: 1 + r.Int64N(20), Name: "updated", N: int64(w)})
	case 4:
		id := 1000 + int64(w)*1000 + r.Int64N(1000)
		if _, err := db.UpsertRow(ctx, &exItem{ID: id, Name: "upserted"}); err != nil {
			return err
		}
		return db.DeleteRow(ctx, &exItem{ID: id})
	default:
		_, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"n": r.Int64N(5)}, &sqlgen.SelectOptions{Limit: 1 + r.IntN(4)})
		return err
	}
}

// TestExecTxScopedToDB: a context carries one transaction per *sql.DB. A
// DB on another database neither sees nor uses it, and can have its own
// in the same context; copies of a DB share its transaction.
func TestExecTxScopedToDB(t *testing.T) {
	t.Parallel()
	connA := sqlgentest.OpenSchema(t, exSchema())
	connB := sqlgentest.OpenSchema(t, exSchema())
	dbA, dbB := sqlgen.NewDB(connA, exSchema()), sqlgen.NewDB(connB, exSchema())
	bg := context.Background()
	count := func(conn *sql.DB) int {
		t.Helper()
		var n int
		if err := conn.QueryRow("SELECT COUNT(*) FROM ex_items").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	ctx, txA, err := dbA.WithTx(bg)
	if err != nil {
		t.Fatal(err)
	}
	if !dbA.HasTx(ctx) || dbB.HasTx(ctx) {
		t.Fatalf("HasTx: A %v, B %v; want true, false", dbA.HasTx(ctx), dbB.HasTx(ctx))
	}
	if _, err := dbA.InsertRow(ctx, &exItem{ID: 1, Name: "in A's transaction"}); err != nil {
		t.Fatal(err)
	}
	// B's write with A's context runs in B's database, outside A's
	// transaction: it is there at once, and stays after A rolls back.
	if _, err := dbB.InsertRow(ctx, &exItem{ID: 2, Name: "B, autocommitted"}); err != nil {
		t.Fatal(err)
	}
	if n := count(connB); n != 1 {
		t.Errorf("B's database has %d rows after B's write with A's context, want 1 (autocommitted)", n)
	}
	// Copies share A's transaction.
	limited, err := dbA.WithShardLimit(sqlgen.Filter{"n": 0})
	if err != nil {
		t.Fatal(err)
	}
	if !limited.HasTx(ctx) || !sqlgen.NewDB(connA, exSchema()).HasTx(ctx) {
		t.Error("a copy of A, or another DB on A's *sql.DB, does not see A's transaction")
	}
	if _, err := limited.InsertRow(ctx, &exItem{ID: 3, Name: "copy of A"}); err != nil {
		t.Fatal(err)
	}
	// B can begin its own transaction in the same context, A cannot.
	if _, _, err := dbA.WithTx(ctx); !errors.Is(err, sqlgen.ErrTxInProgress) {
		t.Errorf("a second WithTx on A: %v, want ErrTxInProgress", err)
	}
	if err := dbA.Transact(ctx, func(context.Context) error { return nil }); !errors.Is(err, sqlgen.ErrTxInProgress) {
		t.Errorf("Transact on A in A's transaction: %v, want ErrTxInProgress", err)
	}
	err = dbB.Transact(ctx, func(ctx context.Context) error {
		if !dbA.HasTx(ctx) || !dbB.HasTx(ctx) {
			return errors.New("inside B's Transact, the context does not carry both transactions")
		}
		if _, err := dbB.InsertRow(ctx, &exItem{ID: 4, Name: "B's transaction"}); err != nil {
			return err
		}
		if _, err := dbA.InsertRow(ctx, &exItem{ID: 5, Name: "still A's transaction"}); err != nil {
			return err
		}
		// Each DB reads its own database, in its own transaction.
		a, err := sqlgen.Select[exItem](ctx, dbA, nil, nil)
		if err != nil {
			return err
		}
		b, err := sqlgen.Select[exItem](ctx, dbB, nil, nil)
		if err != nil {
			return err
		}
		if len(a) != 3 || len(b) != 2 {
			return fmt.Errorf("inside both transactions A reads %d rows, B %d; want 3 and 2", len(a), len(b))
		}
		return errors.New("roll B back")
	})
	if err == nil || err.Error() != "roll B back" {
		t.Fatalf("B's Transact: %v", err)
	}
	if err := txA.Rollback(); err != nil {
		t.Fatal(err)
	}
	if a, b := count(connA), count(connB); a != 0 || b != 1 {
		t.Errorf("after both rolled back, A has %d rows and B %d; want 0 and 1", a, b)
	}

	// WithExistingTx is scoped the same way.
	txB, err := connB.BeginTx(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer txB.Rollback()
	ctxB, err := dbB.WithExistingTx(bg, txB)
	if err != nil {
		t.Fatal(err)
	}
	if dbA.HasTx(ctxB) || !dbB.HasTx(ctxB) {
		t.Error("WithExistingTx on B is seen by A, or not by B")
	}
	if _, err := dbA.WithExistingTx(ctxB, txB); err != nil {
		t.Errorf("A refuses a context that carries only B's transaction: %v", err)
	}
}

// TestExecContextErrors runs hundreds of calls with deadlines of 0 to 2
// ms, and cancellations after 0 to 2 ms: every error must wrap the
// context's error, whatever failed first (a dropped connection, a
// transaction database/sql already rolled back, an i/o timeout).
func TestExecContextErrors(t *testing.T) {
	t.Parallel()
	variants := []exVariant{
		exVariants()[0], // server-side cancellation
		exVariants()[1], // without it
		exVariants(sqlgen.WithStmtCache(8))[0],
		exVariants()[2], // interpolateParams=true
	}
	for vi, v := range variants {
		t.Run(v.name+fmt.Sprint(",", vi), func(t *testing.T) {
			conn := sqlgentest.OpenSchema(t, exSchema(), v.dsn...)
			conn.SetMaxOpenConns(8)
			db := sqlgen.NewDB(conn, exSchema(), v.opts...)
			defer db.Close()
			bg := context.Background()
			for i := int64(1); i <= 10; i++ {
				if _, err := db.InsertRow(bg, &exItem{ID: i, Name: "seed"}); err != nil {
					t.Fatal(err)
				}
			}
			guarded := db.RefuseFullScans()
			var next atomic.Int64
			next.Store(1000)
			ops := []struct {
				name string
				f    func(ctx context.Context) error
			}{
				{"Transact", func(ctx context.Context) error {
					return db.Transact(ctx, func(ctx context.Context) error {
						if _, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": 1}, nil); err != nil {
							return err
						}
						_, err := db.InsertRow(ctx, &exItem{ID: next.Add(1), Name: "tx"})
						return err
					})
				}},
				{"QueryRow", func(ctx context.Context) error {
					_, err := sqlgen.Get[exItem](ctx, db, sqlgen.Filter{"id": 2}, nil)
					return err
				}},
				{"InsertRow", func(ctx context.Context) error {
					_, err := db.InsertRow(ctx, &exItem{ID: next.Add(1), Name: "row"})
					return err
				}},
				{"InsertRows", func(ctx context.Context) error {
					rows := make([]*exItem, 5)
					for i := range rows {
						rows[i] = &exItem{ID: next.Add(1), Name: "rows"}
					}
					return db.InsertRows(ctx, rows, 2)
				}},
				{"Query", func(ctx context.Context) error {
					_, err := sqlgen.Select[exItem](ctx, db, sqlgen.Filter{"id": []int64{1, 2, 3}}, nil)
					return err
				}},
				{"Count", func(ctx context.Context) error {
					_, err := db.Count(ctx, &exItem{}, sqlgen.Filter{"name": "seed"})
					return err
				}},
				{"Query with EXPLAIN (RefuseFullScans)", func(ctx context.Context) error {
					_, err := sqlgen.Select[exItem](ctx, guarded, sqlgen.Filter{"id": []int64{1, 2}}, nil)
					return err
				}},
				{"batched QueryRow", func(ctx context.Context) error {
					_, err := sqlgen.Get[exItem](sqlgen.WithBatching(ctx), db, sqlgen.Filter{"id": 3}, nil)
					return err
				}},
			}
			rounds := 150
			if vi > 0 {
				rounds = 60
			}
			failures := map[string]int{}
			for _, op := range ops {
				// A fast operation may outrun every deadline of 0-2 ms:
				// it then gets more rounds, with deadlines of 0-200 µs,
				// until one ends mid-call (or 10 times the rounds pass).
				for i := 0; i < rounds || failures[op.name] == 0 && i < 10*rounds; i++ {
					span := 2 * time.Millisecond
					if i >= rounds {
						span = 200 * time.Microsecond
					}
					d := time.Duration(rand.Int64N(int64(span)))
					var ctx context.Context
					var cancel context.CancelFunc
					want := context.DeadlineExceeded
					if i%2 == 0 {
						ctx, cancel = context.WithTimeout(bg, d)
					} else {
						want = context.Canceled
						ctx, cancel = context.WithCancel(bg)
						time.AfterFunc(d, cancel)
					}
					err := op.f(ctx)
					cancel()
					if err == nil {
						continue
					}
					failures[op.name]++
					if !errors.Is(err, want) {
						t.Errorf("%s with a context ending after %v: %v does not wrap %v", op.name, d, err, want)
					}
				}
			}
			t.Logf("calls that failed (all with the context's error): %v", failures)
			if len(failures) < len(ops) {
				t.Errorf("only %d of %d operations ever failed: the contexts did not end mid-call", len(failures), len(ops))
			}
			// The pool still serves calls.
			if _, err := sqlgen.Get[exItem](bg, db, sqlgen.Filter{"id": 1}, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
