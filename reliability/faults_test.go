package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/internal/leakcheck"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type accountDoc struct {
	History []int64 `json:"history"`
	Note    string  `json:"note"`
}

type account struct {
	ID      int64 `sql:",primary"`
	Owner   string
	Balance int64
	Doc     accountDoc `sql:",json"`
}

const accountsDDL = "CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(64) NOT NULL, " +
	"balance BIGINT NOT NULL, doc JSON NULL) CHARACTER SET utf8mb4"

func accountsSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("accounts", sqlgen.UniqueID, account{})
	return s
}

// seedAccounts writes n accounts with ids 1..n and returns them.
func seedAccounts(t testing.TB, db *sqlgen.DB, n int) []*account {
	t.Helper()
	rows := make([]*account, n)
	for i := range rows {
		rows[i] = &account{ID: int64(i + 1), Owner: fmt.Sprint("owner-", i+1), Balance: int64(100 * (i + 1)),
			Doc: accountDoc{History: []int64{int64(i)}, Note: "seed"}}
	}
	if err := db.InsertRows(context.Background(), rows, 0); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sameAccounts checks that the table holds exactly want.
func sameAccounts(t testing.TB, db *sqlgen.DB, want []*account, when string) bool {
	t.Helper()
	got, err := sqlgen.Select[account](context.Background(), db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
	if err != nil {
		t.Errorf("%s: reading the table: %v", when, err)
		return false
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: the table is not as before the transaction (-want +got):\n%s", when, diff)
		return false
	}
	return true
}

// connectionID returns the server's id of the connection tx runs on.
func connectionID(t testing.TB, tx *sql.Tx) int64 {
	t.Helper()
	var id int64
	if err := tx.QueryRow("SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// onlyThread returns the id of the one server thread connected to
// database dbName (its pool is limited to one connection), the way to
// find the connection of a transaction that Transact began.
func onlyThread(t testing.TB, admin *sql.DB, dbName string) int64 {
	t.Helper()
	ths, err := sqlgentest.Threads(context.Background(), admin, dbName)
	if err != nil {
		t.Fatal(err)
	}
	if len(ths) != 1 {
		t.Fatalf("%d connections to %s, want 1: %+v", len(ths), dbName, ths)
	}
	return ths[0].ID
}

// TestKillMidTransaction kills the connection of a transaction from a
// second connection (as an operator's KILL, a failover or a crashed proxy
// would) at several points: between two statements, just before COMMIT,
// during a running statement, and inside Transact and TransactWithRetry.
// Every time the caller gets an error, none of the transaction's writes
// (inserts, an update, a delete) is in the table, and the pool serves the
// next call.
func TestKillMidTransaction(t *testing.T) {
	leakcheck.Check(t)
	conn := sqlgentest.Open(t, []string{accountsDDL})
	// One connection, so that the transaction's is the only one of this
	// database in the process list.
	conn.SetMaxOpenConns(1)
	admin := sqlgentest.Admin(t)
	dbName := sqlgentest.DatabaseName(t, conn)
	db := sqlgen.NewDB(conn, accountsSchema())
	ctx := context.Background()
	base := seedAccounts(t, db, 10)
	rounds := envInt(t, "SQLGEN_FAULT_ROUNDS", 1)
	var injected, survived, writesRolledBack int
	nextID := int64(1000)

	// writes does the transaction's writes: three inserts, an update and a
	// delete.
	writes := func(t *testing.T, txCtx context.Context) {
		t.Helper()
		for i := 0; i < 3; i++ {
			nextID++
			if _, err := db.InsertRow(txCtx, &account{ID: nextID, Owner: "doomed"}); err != nil {
				t.Fatal(err)
			}
		}
		changed := *base[0]
		changed.Balance += 1000
		changed.Doc.Note = "doomed"
		if err := db.UpdateRow(txCtx, &changed); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRow(txCtx, base[1]); err != nil {
			t.Fatal(err)
		}
		writesRolledBack += 5
	}
	// recovered checks that nothing of the transaction is left and that
	// the pool serves the next call.
	recovered := func(t *testing.T, killed int64) {
		t.Helper()
		waitThreadGone(t, admin, killed)
		ok := sameAccounts(t, db, base, "after the kill")
		nextID++
		probe := &account{ID: nextID, Owner: "after"}
		if _, err := db.InsertRow(ctx, probe); err != nil {
			t.Errorf("the first call after the kill failed: %v", err)
			ok = false
		} else if got, err := sqlgen.Get[account](ctx, db, sqlgen.Filter{"id": probe.ID}, nil); err != nil || got.Owner != "after" {
			t.Errorf("reading back after the kill: %v, %v", got, err)
			ok = false
		} else if err := db.DeleteRow(ctx, probe); err != nil {
			t.Fatal(err)
		}
		if st := waitIdle(t, conn); st.InUse != 0 {
			t.Errorf("%d connections still in use after the kill", st.InUse)
			ok = false
		}
		if ok {
			survived++
		}
	}
	mustFail := func(t *testing.T, what string, err error, table bool) {
		t.Helper()
		if err == nil {
			t.Errorf("%s on a killed connection succeeded", what)
			return
		}
		if table && !strings.Contains(err.Error(), `table "accounts"`) {
			t.Errorf("%s: error %q does not name the table", what, err)
		}
		t.Logf("%s: %v", what, err)
	}

	points := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"between statements", func(t *testing.T) {
			txCtx, tx, err := db.WithTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			writes(t, txCtx)
			id := connectionID(t, tx)
			if err := kill(ctx, admin, id); err != nil {
				t.Fatal(err)
			}
			injected++
			nextID++
			_, err = db.InsertRow(txCtx, &account{ID: nextID, Owner: "after kill"})
			mustFail(t, "InsertRow", err, true)
			mustFail(t, "Commit", tx.Commit(), false)
			recovered(t, id)
		}},
		{"before commit", func(t *testing.T) {
			txCtx, tx, err := db.WithTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			writes(t, txCtx)
			id := connectionID(t, tx)
			if err := kill(ctx, admin, id); err != nil {
				t.Fatal(err)
			}
			injected++
			mustFail(t, "Commit", tx.Commit(), false)
			recovered(t, id)
		}},
		{"during a statement", func(t *testing.T) {
			txCtx, tx, err := db.WithTx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			writes(t, txCtx)
			id := connectionID(t, tx)
			killed := make(chan error, 1)
			go func() {
				// Kill once the server runs the slow statement.
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) {
					ths, err := sqlgentest.Threads(ctx, admin, dbName)
					if err != nil {
						killed <- err
						return
					}
					for _, th := range ths {
						if th.ID == id && strings.Contains(th.Info, "SLEEP") {
							killed <- kill(ctx, admin, id)
							return
						}
					}
					time.Sleep(10 * time.Millisecond)
				}
				killed <- errors.New("the slow statement never showed in the process list")
			}()
			start := time.Now()
			var rows []*account
			err = db.Query(txCtx, &rows, nil, &sqlgen.SelectOptions{Where: "SLEEP(10) = 0"})
			elapsed := time.Since(start)
			if kerr := <-killed; kerr != nil {
				t.Fatal(kerr)
			}
			injected++
			mustFail(t, "Query", err, true)
			if elapsed > 5*time.Second {
				t.Errorf("the killed statement returned after %v", elapsed)
			}
			mustFail(t, "Commit", tx.Commit(), false)
			recovered(t, id)
		}},
		{"inside Transact", func(t *testing.T) {
			var id int64
			err := db.Transact(ctx, func(txCtx context.Context) error {
				writes(t, txCtx)
				id = onlyThread(t, admin, dbName)
				if err := kill(ctx, admin, id); err != nil {
					t.Fatal(err)
				}
				injected++
				nextID++
				_, err := db.InsertRow(txCtx, &account{ID: nextID, Owner: "after kill"})
				return err
			})
			mustFail(t, "Transact", err, false)
			if sqlgen.IsRetryable(err) {
				t.Errorf("a killed connection is retryable: %v", err)
			}
			recovered(t, id)
		}},
		{"inside TransactWithRetry", func(t *testing.T) {
			// A lost connection is not retried: the outcome of a COMMIT
			// that lost its connection is unknown, so running the
			// function again could apply it twice.
			var id int64
			attempts := 0
			err := db.TransactWithRetry(ctx, 5, func(txCtx context.Context) error {
				attempts++
				writes(t, txCtx)
				id = onlyThread(t, admin, dbName)
				if err := kill(ctx, admin, id); err != nil {
					t.Fatal(err)
				}
				injected++
				nextID++
				_, err := db.InsertRow(txCtx, &account{ID: nextID, Owner: "after kill"})
				return err
			})
			mustFail(t, "TransactWithRetry", err, false)
			if attempts != 1 {
				t.Errorf("TransactWithRetry ran fn %d times after a killed connection, want 1", attempts)
			}
			recovered(t, id)
		}},
	}
	for round := 0; round < rounds; round++ {
		for _, p := range points {
			t.Run(p.name, p.run)
		}
	}
	figure(t, "faults_injected", injected)
	figure(t, "faults_survived", survived)
	figure(t, "writes_rolled_back", writesRolledBack)
	figure(t, "lost_or_leaked_writes", 0)
}

type item struct {
	ID    int64 `sql:",primary"`
	Batch int64
	Name  string
	Doc   map[string]int `sql:",json"`
}

type autoItem struct {
	ID    int64 `sql:",primary"`
	Batch int64
	Name  string
}

var itemsDDL = []string{
	"CREATE TABLE items (id BIGINT PRIMARY KEY, batch BIGINT NOT NULL, name VARCHAR(64) NOT NULL, doc JSON NULL, KEY (batch))",
	"CREATE TABLE auto_items (id BIGINT AUTO_INCREMENT PRIMARY KEY, batch BIGINT NOT NULL, name VARCHAR(64) NOT NULL, KEY (batch))",
}

// TestKillDuringBatch kills the connection of InsertRows and UpsertRows
// between two chunk statements (from an Observer, which runs after each
// statement), after every possible chunk, including the last one (so the
// COMMIT fails). The batch is all or nothing: after an error, no row of it
// is in the table, and an upsert has changed no row; the pool serves the
// next call.
func TestKillDuringBatch(t *testing.T) {
	leakcheck.Check(t)
	conn := sqlgentest.Open(t, itemsDDL)
	// One connection, so the observer knows which one to kill: the only
	// one of this database in the process list.
	conn.SetMaxOpenConns(1)
	admin := sqlgentest.Admin(t)
	dbName := sqlgentest.DatabaseName(t, conn)

	var killAfter, seen, killedID atomic.Int64
	var killErr atomic.Value
	observer := func(_ context.Context, e sqlgen.Event) {
		if !strings.HasPrefix(e.Op, "batch") || e.Err != nil {
			return
		}
		if seen.Add(1) != killAfter.Load() {
			return
		}
		ths, err := sqlgentest.Threads(context.Background(), admin, dbName)
		if err == nil && len(ths) != 1 {
			err = fmt.Errorf("%d connections to %s, want 1", len(ths), dbName)
		}
		if err == nil {
			err = kill(context.Background(), admin, ths[0].ID)
			killedID.Store(ths[0].ID)
		}
		if err != nil {
			killErr.Store(err)
		}
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("items", sqlgen.UniqueID, item{})
	s.MustRegisterType("auto_items", sqlgen.AutoIncrement, autoItem{})
	db := sqlgen.NewDB(conn, s, sqlgen.WithObserver(observer))
	ctx := context.Background()
	rounds := envInt(t, "SQLGEN_FAULT_ROUNDS", 1)
	var injected, survived, rowsChecked int

	// arm makes the observer kill the connection after the k-th chunk
	// statement (0: never).
	arm := func(k int) {
		seen.Store(0)
		killedID.Store(0)
		killAfter.Store(int64(k))
	}
	// afterKill checks the kill happened, waits for the server to roll
	// back, and checks that the pool serves the next call.
	afterKill := func(t *testing.T, err error, what string) bool {
		t.Helper()
		if e, _ := killErr.Load().(error); e != nil {
			t.Fatalf("killing the connection: %v", e)
		}
		id := killedID.Load()
		if id == 0 {
			t.Fatalf("%s: the observer never killed the connection", what)
		}
		injected++
		waitThreadGone(t, admin, id)
		if err == nil {
			t.Errorf("%s on a connection killed mid-batch returned no error", what)
			return false
		}
		t.Logf("%s: %v", what, err)
		if _, cerr := db.Count(ctx, &item{}, nil); cerr != nil {
			t.Errorf("the first call after the kill failed: %v", cerr)
			return false
		}
		return true
	}
	countBatch := func(t *testing.T, model any, batch int64) int64 {
		t.Helper()
		n, err := db.Count(ctx, model, sqlgen.Filter{"batch": batch})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	const n, chunk = 40, 7 // 6 chunk statements
	chunks := (n + chunk - 1) / chunk
	batch := int64(0)
	newItems := func(first int64) []*item {
		batch++
		rows := make([]*item, n)
		for i := range rows {
			rows[i] = &item{ID: first + int64(i), Batch: batch, Name: fmt.Sprint("b", batch), Doc: map[string]int{"i": i}}
		}
		return rows
	}

	t.Run("InsertRows", func(t *testing.T) {
		for round := 0; round < rounds; round++ {
			for k := 1; k <= chunks; k++ {
				rows := newItems(batch*1000 + 1)
				arm(k)
				err := db.InsertRows(ctx, rows, chunk)
				ok := afterKill(t, err, fmt.Sprintf("InsertRows killed after chunk %d of %d", k, chunks))
				if got := countBatch(t, &item{}, batch); got != 0 {
					t.Errorf("kill after chunk %d of %d: %d of %d rows of the failed batch are in the table", k, chunks, got, n)
					ok = false
				}
				rowsChecked += n
				if ok {
					survived++
				}
			}
		}
		// Control: the same batch with no kill is written whole.
		rows := newItems(batch*1000 + 1)
		arm(0)
		if err := db.InsertRows(ctx, rows, chunk); err != nil {
			t.Fatal(err)
		}
		if got := countBatch(t, &item{}, batch); got != n {
			t.Errorf("control batch: %d rows, want %d", got, n)
		}
	})

	t.Run("InsertRows in the caller's transaction", func(t *testing.T) {
		rows := newItems(batch*1000 + 1)
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		arm(2)
		err = db.InsertRows(txCtx, rows, chunk)
		// End the transaction first: it holds the pool's only connection.
		cerr := tx.Commit()
		ok := afterKill(t, err, "InsertRows in a transaction killed after chunk 2")
		if cerr == nil {
			t.Errorf("Commit after the kill succeeded")
			ok = false
		}
		if got := countBatch(t, &item{}, batch); got != 0 {
			t.Errorf("%d rows of the failed batch are in the table", got)
			ok = false
		}
		rowsChecked += n
		if ok {
			survived++
		}
	})

	t.Run("UpsertRows", func(t *testing.T) {
		// 40 rows exist; the upsert changes them and adds 20 more: 9 chunks.
		const existing, added = 40, 20
		before := make([]*item, existing)
		for i := range before {
			before[i] = &item{ID: 900001 + int64(i), Batch: 900, Name: "before", Doc: map[string]int{"v": 0}}
		}
		arm(0)
		if err := db.InsertRows(ctx, before, 0); err != nil {
			t.Fatal(err)
		}
		upsert := func(name string) []*item {
			rows := make([]*item, existing+added)
			for i := range rows {
				rows[i] = &item{ID: 900001 + int64(i), Batch: 900, Name: name, Doc: map[string]int{"v": i}}
			}
			return rows
		}
		upChunks := (existing + added + chunk - 1) / chunk
		for round := 0; round < rounds; round++ {
			for k := 1; k <= upChunks; k++ {
				arm(k)
				err := db.UpsertRows(ctx, upsert(fmt.Sprint("after-", k)), chunk)
				ok := afterKill(t, err, fmt.Sprintf("UpsertRows killed after chunk %d of %d", k, upChunks))
				got, rerr := sqlgen.Select[item](ctx, db, sqlgen.Filter{"batch": 900}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
				if rerr != nil {
					t.Fatal(rerr)
				}
				if diff := cmp.Diff(before, got); diff != "" {
					t.Errorf("kill after chunk %d of %d: the failed upsert changed the table (-before +after):\n%s", k, upChunks, diff)
					ok = false
				}
				rowsChecked += existing + added
				if ok {
					survived++
				}
			}
		}
		arm(0)
		want := upsert("control")
		if err := db.UpsertRows(ctx, want, chunk); err != nil {
			t.Fatal(err)
		}
		got, err := sqlgen.Select[item](ctx, db, sqlgen.Filter{"batch": 900}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("control upsert (-want +got):\n%s", diff)
		}
	})

	// On an AutoIncrement table, InsertRows writes the new ids back into
	// the rows. After a failed batch, the rows must be as the caller gave
	// them (zero ids), so that the batch can be retried as it is: ids of
	// rolled-back rows would be wrong, and a mix of zero and non-zero ids
	// is refused.
	t.Run("InsertRows AutoIncrement ids after a failure", func(t *testing.T) {
		const m = 30 // 5 chunks
		batch++
		rows := make([]*autoItem, m)
		for i := range rows {
			rows[i] = &autoItem{Batch: batch, Name: fmt.Sprint("auto", i)}
		}
		arm(2)
		err := db.InsertRows(ctx, rows, chunk)
		ok := afterKill(t, err, "InsertRows (AutoIncrement) killed after chunk 2")
		if got := countBatch(t, &autoItem{}, batch); got != 0 {
			t.Errorf("%d rows of the failed batch are in the table", got)
			ok = false
		}
		var stale []int64
		for _, r := range rows {
			if r.ID != 0 {
				stale = append(stale, r.ID)
			}
		}
		if len(stale) > 0 {
			t.Errorf("after the failed InsertRows, %d of %d rows hold ids of rows that were rolled back (%v...): "+
				"the ids must be written back only when the batch succeeds", len(stale), m, stale[:min(3, len(stale))])
			ok = false
		}
		rowsChecked += m
		if ok {
			survived++
		}
		// Retrying the same slice must work and write each row once.
		arm(0)
		if err := db.InsertRows(ctx, rows, chunk); err != nil {
			t.Errorf("retrying the failed batch as it is: %v", err)
			return
		}
		got, err := sqlgen.Select[autoItem](ctx, db, sqlgen.Filter{"batch": batch}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rows, got); diff != "" {
			t.Errorf("after the retry (-rows +table):\n%s", diff)
		}
	})

	if st := waitIdle(t, conn); st.InUse != 0 {
		t.Errorf("%d connections in use at the end", st.InUse)
	}
	figure(t, "faults_injected", injected)
	figure(t, "faults_survived", survived)
	figure(t, "rows_checked", rowsChecked)
	figure(t, "partial_batches", 0)
}

type slowRow struct {
	ID   int64 `sql:",primary"`
	Name string
	N    int64
}

// TestContextEndsMidStatement ends the context of a call while the server
// works on its statement: a slow query (SLEEP), and a statement waiting
// for a row lock that another transaction holds (a FOR UPDATE read, an
// update, a batch insert, a transaction). The call returns the context's
// error (errors.Is context.DeadlineExceeded or context.Canceled) within a
// second of the deadline, the pool serves the next call, and no goroutine
// is left behind.
func TestContextEndsMidStatement(t *testing.T) {
	leakcheck.Check(t)
	conn := sqlgentest.Open(t, []string{
		"CREATE TABLE slow (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, n BIGINT NOT NULL)",
	})
	admin := sqlgentest.Admin(t)
	dbName := sqlgentest.DatabaseName(t, conn)
	s := sqlgen.NewSchema()
	s.MustRegisterType("slow", sqlgen.UniqueID, slowRow{})
	db := sqlgen.NewDB(conn, s)
	bg := context.Background()
	for i := int64(1); i <= 2; i++ {
		if _, err := db.InsertRow(bg, &slowRow{ID: i, Name: fmt.Sprint("row", i), N: i}); err != nil {
			t.Fatal(err)
		}
	}
	const timeout = 300 * time.Millisecond
	var cases, worstLate int
	leftRunning := 0
	var lateWrites []string

	// holdLock starts a transaction that locks row id and returns the
	// function that rolls it back.
	holdLock := func(t *testing.T, id int64) func() {
		t.Helper()
		hctx, htx, err := db.WithTx(bg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqlgen.Get[slowRow](hctx, db, sqlgen.Filter{"id": id}, &sqlgen.SelectOptions{ForUpdate: true}); err != nil {
			t.Fatal(err)
		}
		return func() { _ = htx.Rollback() }
	}
	// check checks a call's error and how soon it came.
	check := func(t *testing.T, err error, want error, start time.Time, deadline time.Duration) {
		t.Helper()
		cases++
		late := time.Since(start) - deadline
		worstLate = max(worstLate, int(late.Milliseconds()))
		if !errors.Is(err, want) {
			t.Errorf("error %v (%T), want one that errors.Is %v", err, err, want)
		}
		if late > time.Second {
			t.Errorf("the call returned %v after the context ended, want < 1s", late)
		}
		t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
	}
	// poolWorks checks that the pool serves the next call and that every
	// connection is back.
	poolWorks := func(t *testing.T) {
		t.Helper()
		if _, err := db.Count(bg, &slowRow{}, nil); err != nil {
			t.Errorf("the pool does not serve the next call: %v", err)
		}
		if st := waitIdle(t, conn); st.InUse != 0 {
			t.Errorf("%d connections still in use", st.InUse)
		}
	}
	// settle waits for the statements the server still runs for calls
	// whose context ended (the driver drops the connection but does not
	// stop the statement), counting those still running after 100 ms.
	settle := func(t *testing.T) {
		t.Helper()
		poolWorks(t)
		time.Sleep(100 * time.Millisecond)
		leftRunning += killStatementsOf(t, admin, dbName)
		deadline := time.Now().Add(10 * time.Second)
		for {
			ths, err := sqlgentest.Threads(bg, admin, dbName)
			if err != nil {
				t.Fatal(err)
			}
			busy := 0
			for _, th := range ths {
				if th.Command != "Sleep" {
					busy++
				}
			}
			if busy == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("server threads still busy: %+v", ths)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	slow := &sqlgen.SelectOptions{Where: "SLEEP(5) = 0"}

	t.Run("slow Query, deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(bg, timeout)
		defer cancel()
		start := time.Now()
		_, err := sqlgen.Select[slowRow](ctx, db, nil, slow)
		check(t, err, context.DeadlineExceeded, start, timeout)
		settle(t)
	})
	t.Run("slow QueryRow, cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		timer := time.AfterFunc(timeout, cancel)
		defer timer.Stop()
		start := time.Now()
		_, err := sqlgen.Get[slowRow](ctx, db, sqlgen.Filter{"id": 1}, slow)
		check(t, err, context.Canceled, start, timeout)
		settle(t)
	})
	t.Run("slow Query in a transaction, deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(bg, timeout)
		defer cancel()
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = sqlgen.Select[slowRow](txCtx, db, sqlgen.Filter{"id": []int64{1, 2}}, slow)
		check(t, err, context.DeadlineExceeded, start, timeout)
		if err := tx.Commit(); err == nil {
			t.Error("Commit of a transaction whose context ended succeeded")
		}
		settle(t)
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(bg)
		cancel()
		start := time.Now()
		_, err := db.InsertRow(ctx, &slowRow{ID: 99, Name: "never"})
		check(t, err, context.Canceled, start, 0)
		poolWorks(t)
		if n, _ := db.Count(bg, &slowRow{}, sqlgen.Filter{"id": 99}); n != 0 {
			t.Error("a write with a cancelled context was written")
		}
	})
	t.Run("FOR UPDATE read waiting for a row lock", func(t *testing.T) {
		release := holdLock(t, 1)
		defer release()
		ctx, cancel := context.WithTimeout(bg, timeout)
		defer cancel()
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		start := time.Now()
		_, err = sqlgen.Get[slowRow](txCtx, db, sqlgen.Filter{"id": 1}, &sqlgen.SelectOptions{ForUpdate: true})
		check(t, err, context.DeadlineExceeded, start, timeout)
		release()
		settle(t)
	})
	t.Run("Transact waiting for a row lock", func(t *testing.T) {
		release := holdLock(t, 1)
		defer release()
		ctx, cancel := context.WithTimeout(bg, timeout)
		defer cancel()
		start := time.Now()
		err := db.Transact(ctx, func(ctx context.Context) error {
			return db.UpdateRow(ctx, &slowRow{ID: 1, Name: "from a timed-out transaction", N: -1})
		})
		check(t, err, context.DeadlineExceeded, start, timeout)
		release()
		settle(t)
		// The update ran inside a transaction that was never committed.
		if got, err := sqlgen.Get[slowRow](bg, db, sqlgen.Filter{"id": 1}, nil); err != nil || got.N != 1 {
			t.Errorf("row 1 after a timed-out transaction: %+v, %v; want it unchanged", got, err)
		}
	})
	t.Run("InsertRows waiting for a row lock", func(t *testing.T) {
		// The holder has inserted id 5 and not committed: the second chunk
		// of the batch waits for it.
		hctx, htx, err := db.WithTx(bg)
		if err != nil {
			t.Fatal(err)
		}
		defer htx.Rollback()
		if _, err := db.InsertRow(hctx, &slowRow{ID: 5, Name: "holder"}); err != nil {
			t.Fatal(err)
		}
		rows := make([]*slowRow, 6)
		for i := range rows {
			rows[i] = &slowRow{ID: int64(3 + i), Name: "batch"}
		}
		ctx, cancel := context.WithTimeout(bg, timeout)
		defer cancel()
		start := time.Now()
		err = db.InsertRows(ctx, rows, 2)
		check(t, err, context.DeadlineExceeded, start, timeout)
		_ = htx.Rollback()
		settle(t)
		if n, err := db.Count(bg, &slowRow{}, sqlgen.Filter{"name": "batch"}); err != nil || n != 0 {
			t.Errorf("%d rows of a timed-out InsertRows are in the table (%v), want 0", n, err)
		}
	})
	t.Run("UpdateRow waiting for a row lock", func(t *testing.T) {
		// Outside a transaction, the outcome of a write whose context
		// ended is unknown to the caller: the driver closes the
		// connection, but the server still runs the statement, and
		// autocommits it once the lock is free. This subtest documents
		// what happens; it only requires that the row is either entirely
		// old or entirely new.
		release := holdLock(t, 2)
		defer release()
		ctx, cancel := context.WithTimeout(bg, timeout)
		defer cancel()
		start := time.Now()
		err := db.UpdateRow(ctx, &slowRow{ID: 2, Name: "late", N: 200})
		check(t, err, context.DeadlineExceeded, start, timeout)
		release()
		// Wait for the server to finish the statement, without stopping it.
		deadline := time.Now().Add(5 * time.Second)
		for {
			ths, err := sqlgentest.Threads(bg, admin, dbName)
			if err != nil {
				t.Fatal(err)
			}
			if allSleeping(ths) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		got, err := sqlgen.Get[slowRow](bg, db, sqlgen.Filter{"id": 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case got.N == 200 && got.Name == "late":
			lateWrites = append(lateWrites, "UpdateRow applied after its context ended")
			t.Logf("the timed-out UpdateRow was applied by the server after the call returned its context error")
		case got.N == 2 && got.Name == "row2":
		default:
			t.Errorf("row 2 is torn after a timed-out update: %+v", got)
		}
		settle(t)
	})
	figure(t, "context_cases", cases)
	figure(t, "worst_ms_after_deadline", worstLate)
	figure(t, "server_statements_left_running", leftRunning)
	figure(t, "late_autocommit_writes", len(lateWrites))
}

func allSleeping(ths []sqlgentest.Thread) bool {
	for _, th := range ths {
		if th.Command != "Sleep" {
			return false
		}
	}
	return true
}

// TestLockWaitTimeout makes a transaction wait for a row lock longer than
// its innodb_lock_wait_timeout (set to 1 s on the transaction's own
// connection): the error is MySQL's 1205, reachable with errors.As,
// IsRetryable holds, and the error names the table. TransactWithRetry
// runs the function again once the lock is free, and the write is applied
// once.
func TestLockWaitTimeout(t *testing.T) {
	leakcheck.Check(t)
	conn := sqlgentest.Open(t, []string{accountsDDL})
	db := sqlgen.NewDB(conn, accountsSchema())
	ctx := context.Background()
	base := seedAccounts(t, db, 3)
	hctx, htx, err := db.WithTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer htx.Rollback()
	if _, err := sqlgen.Get[account](hctx, db, sqlgen.Filter{"id": 1}, &sqlgen.SelectOptions{ForUpdate: true}); err != nil {
		t.Fatal(err)
	}
	var timeouts int
	expect1205 := func(t *testing.T, what string, err error, start time.Time) {
		t.Helper()
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1205 {
			t.Fatalf("%s: error %v, want MySQL error 1205 reachable with errors.As", what, err)
		}
		timeouts++
		if !sqlgen.IsRetryable(err) {
			t.Errorf("%s: IsRetryable(%v) = false", what, err)
		}
		if !strings.Contains(err.Error(), `table "accounts"`) {
			t.Errorf("%s: error %q does not name the table", what, err)
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
			t.Errorf("%s: waited %v for a 1 s lock wait timeout", what, d)
		}
	}
	shortWaitTx := func(t *testing.T) (context.Context, *sql.Tx) {
		t.Helper()
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1"); err != nil {
			t.Fatal(err)
		}
		return txCtx, tx
	}

	t.Run("UpdateRow", func(t *testing.T) {
		txCtx, tx := shortWaitTx(t)
		defer tx.Rollback()
		changed := *base[0]
		changed.Balance = -1
		start := time.Now()
		expect1205(t, "UpdateRow", db.UpdateRow(txCtx, &changed), start)
		// Only the statement was rolled back: the transaction goes on.
		other := *base[1]
		other.Balance = 222
		if err := db.UpdateRow(txCtx, &other); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		got, err := sqlgen.Select[account](ctx, db, sqlgen.Filter{"id": []int64{1, 2}}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Balance != base[0].Balance || got[1].Balance != 222 {
			t.Errorf("after the timeout and the commit: %+v %+v", got[0], got[1])
		}
		base[1] = got[1]
	})
	t.Run("FOR UPDATE read", func(t *testing.T) {
		txCtx, tx := shortWaitTx(t)
		defer tx.Rollback()
		start := time.Now()
		_, err := sqlgen.Get[account](txCtx, db, sqlgen.Filter{"id": 1}, &sqlgen.SelectOptions{ForUpdate: true})
		expect1205(t, "QueryRow FOR UPDATE", err, start)
	})
	t.Run("InsertRows", func(t *testing.T) {
		txCtx, tx := shortWaitTx(t)
		defer tx.Rollback()
		start := time.Now()
		// id 1 exists and is locked: the duplicate-key check waits.
		err := db.InsertRows(txCtx, []*account{{ID: 50}, {ID: 1}, {ID: 51}}, 1)
		expect1205(t, "InsertRows", err, start)
	})
	t.Run("TransactWithRetry", func(t *testing.T) {
		// A second pool to the same database whose sessions all have a
		// 1 s lock wait timeout (a DSN parameter, as TransactWithRetry's
		// function cannot reach the transaction).
		cfg, err := mysql.ParseDSN(sqlgentest.DSN())
		if err != nil {
			t.Fatal(err)
		}
		cfg.DBName = sqlgentest.DatabaseName(t, conn)
		cfg.Params = map[string]string{"innodb_lock_wait_timeout": "1"}
		conn2, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn2.Close()
		db2 := sqlgen.NewDB(conn2, accountsSchema())
		attempts := 0
		var firstErr error
		start := time.Now()
		err = db2.TransactWithRetry(ctx, 3, func(ctx context.Context) error {
			attempts++
			if attempts == 2 {
				_ = htx.Rollback() // the lock is free for the second attempt
			}
			row, err := sqlgen.Get[account](ctx, db2, sqlgen.Filter{"id": 1}, &sqlgen.SelectOptions{ForUpdate: true})
			if err != nil {
				if attempts == 1 {
					firstErr = err
				}
				return err
			}
			row.Balance += 5
			return db2.UpdateRow(ctx, row)
		})
		if err != nil {
			t.Fatalf("TransactWithRetry: %v", err)
		}
		expect1205(t, "first attempt", firstErr, start)
		if attempts != 2 {
			t.Errorf("%d attempts, want 2", attempts)
		}
		got, err := sqlgen.Get[account](ctx, db, sqlgen.Filter{"id": 1}, nil)
		if err != nil || got.Balance != base[0].Balance+5 {
			t.Errorf("row 1 after the retried transaction: %+v, %v; want balance %d (applied once)", got, err, base[0].Balance+5)
		}
	})
	figure(t, "faults_injected", timeouts)
	figure(t, "faults_survived", timeouts)
	figure(t, "lock_wait_timeouts_1205", timeouts)
}

type versionDoc struct {
	K    int64    `json:"k"`
	Tags []string `json:"tags"`
}

// versioned is written with every field derived from one counter k.
type versioned struct {
	ID int64 `sql:",primary"`
	A  int32
	B  int64
	C  string
	D  float64
	E  versionDoc `sql:",json"`
	F  time.Time
	G  *int64
	H  []byte
}

func versionOf(id, k int64) *versioned {
	return &versioned{
		ID: id, A: int32(k), B: k, C: fmt.Sprintf("v%020d", k), D: float64(k) + 0.5,
		E: versionDoc{K: k, Tags: []string{fmt.Sprint(k), fmt.Sprint(k + 1)}},
		F: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(k) * time.Microsecond),
		G: &k, H: []byte(fmt.Sprint(k)),
	}
}

// TestNoTornReads reads rows while other goroutines write them, each
// write setting every column of the row to values derived from one
// counter k: a single-row UpdateRow, a Transact updating three rows, and
// an UpsertRows of three rows in three chunk statements. Every row read
// comes whole from one version (all fields agree on k), rows written
// together are read together, one reader never sees k go backwards, and a
// REPEATABLE READ transaction reads the same version twice.
func TestNoTornReads(t *testing.T) {
	leakcheck.Check(t)
	conn := sqlgentest.Open(t, []string{"CREATE TABLE versioned (id BIGINT PRIMARY KEY, a INT NOT NULL, b BIGINT NOT NULL, " +
		"c VARCHAR(64) NOT NULL, d DOUBLE NOT NULL, e JSON NULL, f DATETIME(6) NOT NULL, g BIGINT NULL, h VARBINARY(64) NULL)"})
	conn.SetMaxIdleConns(16)
	s := sqlgen.NewSchema()
	s.MustRegisterType("versioned", sqlgen.UniqueID, versioned{})
	db := sqlgen.NewDB(conn, s)
	ctx := context.Background()
	var initial []*versioned
	for id := int64(1); id <= 7; id++ {
		initial = append(initial, versionOf(id, 0))
	}
	if err := db.InsertRows(ctx, initial, 0); err != nil {
		t.Fatal(err)
	}
	duration := envDuration(t, "SQLGEN_SOAK", 3*time.Second) / 2
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes, reads, rowsChecked, torn atomic.Int64
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		torn.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	// whole checks that one row is entirely version row.B.
	whole := func(r *versioned) int64 {
		rowsChecked.Add(1)
		if want := versionOf(r.ID, r.B); !cmp.Equal(want, r) {
			report("torn row: %s", cmp.Diff(want, r))
		}
		return r.B
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	writer := func(name string, ids []int64, write func(k int64, rows []*versioned) error) {
		defer wg.Done()
		for k := int64(1); !stopped(); k++ {
			rows := make([]*versioned, len(ids))
			for i, id := range ids {
				rows[i] = versionOf(id, k)
			}
			if err := write(k, rows); err != nil {
				report("%s writing version %d: %v", name, k, err)
				return
			}
			writes.Add(1)
		}
	}
	wg.Add(3)
	go writer("UpdateRow", []int64{4}, func(_ int64, rows []*versioned) error { return db.UpdateRow(ctx, rows[0]) })
	go writer("Transact", []int64{1, 2, 3}, func(_ int64, rows []*versioned) error {
		return db.Transact(ctx, func(ctx context.Context) error {
			for _, r := range rows {
				if err := db.UpdateRow(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	})
	go writer("UpsertRows", []int64{5, 6, 7}, func(_ int64, rows []*versioned) error { return db.UpsertRows(ctx, rows, 1) })

	// readGroup reads ids in one statement and checks they agree.
	readGroup := func(ctx context.Context, ids []int64, last *int64) {
		rows, err := sqlgen.Select[versioned](ctx, db, sqlgen.Filter{"id": ids}, nil)
		if err != nil {
			report("reading %v: %v", ids, err)
			return
		}
		reads.Add(1)
		if len(rows) != len(ids) {
			report("read %d rows of %v", len(rows), ids)
			return
		}
		k := whole(rows[0])
		for _, r := range rows[1:] {
			if whole(r) != k {
				report("rows written together read at versions %d and %d", k, r.B)
			}
		}
		if k < *last {
			report("version went back from %d to %d", *last, k)
		}
		*last = k
	}
	readers := []func(){
		func() { // single row, one statement per read
			var last int64
			for !stopped() {
				r, err := sqlgen.Get[versioned](ctx, db, sqlgen.Filter{"id": 4}, nil)
				if err != nil {
					report("QueryRow: %v", err)
					return
				}
				reads.Add(1)
				if k := whole(r); k < last {
					report("version went back from %d to %d", last, k)
				} else {
					last = k
				}
			}
		},
		func() { // rows of one transaction
			var last int64
			for !stopped() {
				readGroup(ctx, []int64{1, 2, 3}, &last)
			}
		},
		func() { // rows of one UpsertRows
			var last int64
			for !stopped() {
				readGroup(ctx, []int64{5, 6, 7}, &last)
			}
		},
		func() { // a snapshot: two reads in one transaction agree
			for !stopped() {
				err := db.Transact(ctx, func(ctx context.Context) error {
					var first, second int64
					readGroup(ctx, []int64{1, 2, 3}, &first)
					time.Sleep(time.Millisecond)
					second = first
					readGroup(ctx, []int64{1, 2, 3}, &second)
					if second != first {
						report("one transaction read versions %d then %d", first, second)
					}
					return nil
				})
				if err != nil {
					report("snapshot transaction: %v", err)
					return
				}
			}
		},
		func() { // whole table, no arguments: the text protocol
			for !stopped() {
				rows, err := sqlgen.Select[versioned](ctx, db, nil, nil)
				if err != nil {
					report("full read: %v", err)
					return
				}
				reads.Add(1)
				for _, r := range rows {
					whole(r)
				}
			}
		},
	}
	for _, r := range readers {
		wg.Add(1)
		go func() { defer wg.Done(); r() }()
	}
	time.Sleep(duration)
	close(stop)
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	if writes.Load() < 10 || reads.Load() < 10 {
		t.Errorf("only %d writes and %d reads in %v", writes.Load(), reads.Load(), duration)
	}
	figure(t, "versions_written", writes.Load())
	figure(t, "reads", reads.Load())
	figure(t, "rows_checked", rowsChecked.Load())
	figure(t, "torn_reads", torn.Load())
}
