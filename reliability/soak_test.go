package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/internal/leakcheck"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type soakDoc struct {
	Version int64    `json:"v"`
	Owner   int32    `json:"o"`
	Notes   []string `json:"n"`
}

type soakRow struct {
	ID      int64 `sql:",primary"`
	Owner   int32
	Version int64
	Name    string
	Doc     soakDoc `sql:",json"`
	Updated time.Time
}

type counter struct {
	ID    int64 `sql:",primary"`
	Value int64
}

var soakDDL = []string{
	"CREATE TABLE soak (id BIGINT PRIMARY KEY, owner INT NOT NULL, version BIGINT NOT NULL, name VARCHAR(64) NOT NULL, " +
		"doc JSON NULL, updated DATETIME(6) NOT NULL, KEY (owner)) CHARACTER SET utf8mb4",
	"CREATE TABLE counters (id BIGINT PRIMARY KEY, value BIGINT NOT NULL)",
}

const (
	soakWorkers  = 16
	soakCounters = 4
	soakMaxRows  = 150 // live rows per worker, so memory stays bounded however long the soak
	heapSlack    = 8 << 20
)

// errRollback makes Transact roll back on purpose.
var errRollback = errors.New("rollback on purpose")

// soakStats counts what the workers did.
type soakStats struct {
	ops                              sync.Map // op name -> *atomic.Int64
	rowsChecked, retried, rolledBack atomic.Int64
	committed, noRowReads            atomic.Int64
	problems                         atomic.Int64
	mu                               sync.Mutex
	firstProblems                    []string
	counterWant                      [soakCounters + 1]atomic.Int64
}

func (s *soakStats) op(name string) {
	v, _ := s.ops.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (s *soakStats) problem(format string, args ...any) {
	s.problems.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.firstProblems) < 20 {
		s.firstProblems = append(s.firstProblems, fmt.Sprintf(format, args...))
	}
}

// soakWorker owns the rows whose id is owner*1e9 + n, so that its model of
// them is exact; the counters are shared by all workers.
type soakWorker struct {
	owner int32
	db    *sqlgen.DB
	g     *gen
	model map[int64]*soakRow
	next  int64
	st    *soakStats
}

func (w *soakWorker) newRow() *soakRow {
	w.next++
	return w.changed(&soakRow{ID: int64(w.owner)*1_000_000_000 + w.next, Owner: w.owner})
}

// changed returns a copy of r with a new version and new content.
func (w *soakWorker) changed(r *soakRow) *soakRow {
	c := *r
	c.Version++
	c.Name = w.g.str(64)
	c.Doc = soakDoc{Version: c.Version, Owner: c.Owner}
	for i := w.g.r.IntN(4); i > 0; i-- {
		c.Doc.Notes = append(c.Doc.Notes, w.g.str(20))
	}
	c.Updated = w.g.datetime()
	if c.Updated.IsZero() {
		c.Updated = minDatetime
	}
	return &c
}

// anyID returns one of the worker's live ids, or a deleted one.
func (w *soakWorker) anyID() (int64, bool) {
	if len(w.model) == 0 || w.g.pct(5) {
		return int64(w.owner)*1_000_000_000 + w.next + 1, false // never written
	}
	ids := make([]int64, 0, len(w.model))
	for id := range w.model {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids[w.g.r.IntN(len(ids))], true
}

func (w *soakWorker) ownRows() []*soakRow {
	rows := make([]*soakRow, 0, len(w.model))
	for _, r := range w.model {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows
}

// step does one random operation, checking reads against the model. It
// returns false when the worker must stop (its model is then unsure).
func (w *soakWorker) step(ctx context.Context) bool {
	db, st := w.db, w.st
	n := w.g.r.IntN(100)
	if len(w.model) >= soakMaxRows && n >= 40 && n < 57 {
		n = 70 // full: delete instead of insert
	}
	fail := func(op string, err error) bool {
		st.problem("worker %d, %s: %v", w.owner, op, err)
		return false
	}
	switch {
	case n < 20: // read one row by key
		st.op("QueryRow")
		id, live := w.anyID()
		got, err := sqlgen.Get[soakRow](ctx, db, sqlgen.Filter{"id": id}, nil)
		switch {
		case !live && errors.Is(err, sql.ErrNoRows):
			st.noRowReads.Add(1)
		case err != nil:
			return fail("QueryRow", err)
		case !cmp.Equal(w.model[id], got):
			st.problem("worker %d: row %d read back differs from the model:\n%s", w.owner, id, cmp.Diff(w.model[id], got))
		default:
			st.rowsChecked.Add(1)
		}
	case n < 28: // filtered read of all own rows
		st.op("Query")
		got, err := sqlgen.Select[soakRow](ctx, db, sqlgen.Filter{"owner": w.owner}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
		if err != nil {
			return fail("Query", err)
		}
		if want := w.ownRows(); !cmp.Equal(want, got) {
			st.problem("worker %d: its rows differ from the model:\n%s", w.owner, cmp.Diff(want, got))
		}
		st.rowsChecked.Add(int64(len(got)))
	case n < 32: // count
		st.op("Count")
		c, err := db.Count(ctx, &soakRow{}, sqlgen.Filter{"owner": w.owner})
		if err != nil {
			return fail("Count", err)
		}
		if c != int64(len(w.model)) {
			st.problem("worker %d: Count %d, model %d", w.owner, c, len(w.model))
		}
	case n < 36: // concurrent reads merged by the batcher
		st.op("BatchedQueryRow")
		bctx := sqlgen.WithBatching(ctx)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			id, live := w.anyID()
			want := w.model[id]
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := sqlgen.Get[soakRow](bctx, db, sqlgen.Filter{"id": id}, nil)
				switch {
				case !live && errors.Is(err, sql.ErrNoRows):
				case err != nil:
					st.problem("worker %d, batched QueryRow: %v", w.owner, err)
				case !cmp.Equal(want, got):
					st.problem("worker %d: batched read of row %d differs:\n%s", w.owner, id, cmp.Diff(want, got))
				default:
					st.rowsChecked.Add(1)
				}
			}()
		}
		wg.Wait()
	case n < 48: // insert one
		st.op("InsertRow")
		r := w.newRow()
		if _, err := db.InsertRow(ctx, r); err != nil {
			return fail("InsertRow", err)
		}
		w.model[r.ID] = r
	case n < 53: // insert a batch
		st.op("InsertRows")
		rows := make([]*soakRow, 2+w.g.r.IntN(19))
		for i := range rows {
			rows[i] = w.newRow()
		}
		if err := db.InsertRows(ctx, rows, 7); err != nil {
			return fail("InsertRows", err)
		}
		for _, r := range rows {
			w.model[r.ID] = r
		}
	case n < 67: // update
		id, live := w.anyID()
		if !live {
			return true
		}
		st.op("UpdateRow")
		r := w.changed(w.model[id])
		if err := db.UpdateRow(ctx, r); err != nil {
			return fail("UpdateRow", err)
		}
		w.model[id] = r
	case n < 72: // upsert, new or existing
		st.op("UpsertRow")
		var r *soakRow
		if id, live := w.anyID(); live && w.g.pct(50) {
			r = w.changed(w.model[id])
		} else {
			r = w.newRow()
		}
		if _, err := db.UpsertRow(ctx, r); err != nil {
			return fail("UpsertRow", err)
		}
		w.model[r.ID] = r
	case n < 77: // delete
		id, live := w.anyID()
		if !live {
			return true
		}
		st.op("DeleteRow")
		if err := db.DeleteRow(ctx, w.model[id]); err != nil {
			return fail("DeleteRow", err)
		}
		delete(w.model, id)
	case n < 95: // transaction: two own rows and two shared counters
		st.op("TransactWithRetry")
		var changes []*soakRow
		for i := 0; i < 2; i++ {
			if id, live := w.anyID(); live && !slices.ContainsFunc(changes, func(r *soakRow) bool { return r.ID == id }) {
				changes = append(changes, w.changed(w.model[id]))
			}
		}
		a, b := int64(1+w.g.r.IntN(soakCounters)), int64(1+w.g.r.IntN(soakCounters))
		attempts := 0
		err := db.TransactWithRetry(ctx, 20, func(ctx context.Context) error {
			attempts++
			for _, r := range changes {
				if err := db.UpdateRow(ctx, r); err != nil {
					return err
				}
			}
			for _, cid := range []int64{a, b} { // in random order: deadlocks happen
				c, err := sqlgen.Get[counter](ctx, db, sqlgen.Filter{"id": cid}, &sqlgen.SelectOptions{ForUpdate: true})
				if err != nil {
					return err
				}
				c.Value++
				if err := db.UpdateRow(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if attempts > 1 {
			st.retried.Add(int64(attempts - 1))
		}
		if err != nil {
			return fail(fmt.Sprintf("TransactWithRetry after %d attempts", attempts), err)
		}
		st.committed.Add(1)
		st.counterWant[a].Add(1)
		st.counterWant[b].Add(1)
		for _, r := range changes {
			w.model[r.ID] = r
		}
	default: // a transaction rolled back on purpose
		st.op("TransactRolledBack")
		id, live := w.anyID()
		var changed *soakRow
		if live {
			changed = w.changed(w.model[id])
		}
		added := w.newRow()
		err := db.Transact(ctx, func(ctx context.Context) error {
			if changed != nil {
				if err := db.UpdateRow(ctx, changed); err != nil {
					return err
				}
			}
			if _, err := db.InsertRow(ctx, added); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			return fail("Transact rolled back", err)
		}
		st.rolledBack.Add(1)
		if c, err := db.Count(ctx, &soakRow{}, sqlgen.Filter{"id": added.ID}); err != nil || c != 0 {
			st.problem("worker %d: a rolled-back insert is there (%d, %v)", w.owner, c, err)
		}
		if live {
			got, err := sqlgen.Get[soakRow](ctx, db, sqlgen.Filter{"id": id}, nil)
			if err != nil || !cmp.Equal(w.model[id], got) {
				st.problem("worker %d: a rolled-back update is visible: %v\n%s", w.owner, err, cmp.Diff(w.model[id], got))
			}
			st.rowsChecked.Add(1)
		}
	}
	return true
}

// heapInUse returns HeapInuse after two garbage collections.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestSoak runs 16 goroutines for SQLGEN_SOAK (default 3s) against the
// real server, each doing a random mix of reads by key, filtered reads,
// counts, batched concurrent reads, inserts, batch inserts, updates,
// upserts, deletes, transactions that update two of its rows and two
// shared counters (locked in random order, so deadlocks happen and
// TransactWithRetry retries them) and transactions rolled back on
// purpose. Each goroutine keeps a model of its rows and checks every read
// against it. At the end every row of the table matches the models (no
// write lost, none duplicated, no rolled-back write visible), each shared
// counter equals the number of committed increments, every connection is
// back in the pool and idle, the heap in use is back within 8 MiB of its
// starting level, and no goroutine is left (the test runs under -race in
// `make test`).
func TestSoak(t *testing.T) {
	leakcheck.Check(t)
	duration := envDuration(t, "SQLGEN_SOAK", 3*time.Second)
	seed := testSeed(t)
	conn := sqlgentest.Open(t, soakDDL)
	conn.SetMaxOpenConns(2 * soakWorkers)
	conn.SetMaxIdleConns(2 * soakWorkers)
	s := sqlgen.NewSchema()
	s.MustRegisterType("soak", sqlgen.UniqueID, soakRow{})
	s.MustRegisterType("counters", sqlgen.UniqueID, counter{})
	db := sqlgen.NewDB(conn, s)
	ctx := context.Background()
	var counters []*counter
	for i := int64(1); i <= soakCounters; i++ {
		counters = append(counters, &counter{ID: i})
	}
	if err := db.InsertRows(ctx, counters, 0); err != nil {
		t.Fatal(err)
	}
	zeroDates := !strings.Contains(sqlMode(t, conn), "NO_ZERO_DATE")
	st := &soakStats{}
	workers := make([]*soakWorker, soakWorkers)
	for i := range workers {
		workers[i] = &soakWorker{owner: int32(i + 1), db: db, model: map[int64]*soakRow{}, st: st,
			g: &gen{r: rand.New(rand.NewPCG(seed, uint64(i))), zeroDates: zeroDates}}
	}
	// Warm up: every worker's first steps open the pool's connections
	// and fill the scanner pools before the heap is measured.
	for _, w := range workers {
		for i := 0; i < 5; i++ {
			w.step(ctx)
		}
	}
	heapBefore := heapInUse()
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && w.step(ctx) {
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Every row matches the models: none lost, none extra, none changed.
	all, err := sqlgen.Select[soakRow](ctx, db, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]*soakRow{}
	for _, w := range workers {
		for id, r := range w.model {
			want[id] = r
		}
	}
	var lost, extra, differ int
	seen := map[int64]bool{}
	for _, r := range all {
		if seen[r.ID] {
			extra++ // a primary key makes this impossible; checked anyway
		}
		seen[r.ID] = true
		switch m, ok := want[r.ID]; {
		case !ok:
			extra++
			if extra <= 5 {
				t.Errorf("row %d is in the table but not in any model (a rolled-back or deleted write): %+v", r.ID, r)
			}
		case !cmp.Equal(m, r):
			differ++
			if differ <= 5 {
				t.Errorf("row %d differs from the model:\n%s", r.ID, cmp.Diff(m, r))
			}
		}
	}
	for id := range want {
		if !seen[id] {
			lost++
			if lost <= 5 {
				t.Errorf("row %d of the model is not in the table (a lost write)", id)
			}
		}
	}
	gotCounters, err := sqlgen.Select[counter](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
	if err != nil {
		t.Fatal(err)
	}
	var increments int64
	for _, c := range gotCounters {
		w := st.counterWant[c.ID].Load()
		increments += w
		if c.Value != w {
			t.Errorf("counter %d is %d after %d committed increments", c.ID, c.Value, w)
			lost++
		}
	}
	for _, p := range st.firstProblems {
		t.Error(p)
	}
	if n := st.problems.Load(); n > len64(st.firstProblems) {
		t.Errorf("... and %d more problems", n-len64(st.firstProblems))
	}

	// The pool: every connection back and idle.
	stats := waitIdle(t, conn)
	if stats.InUse != 0 || stats.Idle != stats.OpenConnections {
		t.Errorf("pool after the soak: %d open, %d in use, %d idle", stats.OpenConnections, stats.InUse, stats.Idle)
	}
	// The heap: back to where it started (the models are bounded).
	all, want = nil, nil
	heapAfter := heapInUse()
	growth := int64(heapAfter) - int64(heapBefore)
	if growth > heapSlack {
		t.Errorf("heap in use grew by %.1f MiB (from %.1f to %.1f MiB), more than %d MiB",
			mib(growth), mib(int64(heapBefore)), mib(int64(heapAfter)), heapSlack>>20)
	}

	var total int64
	var kinds []string
	st.ops.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		total += n
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
		return true
	})
	sort.Strings(kinds)
	t.Logf("%d operations in %v by %d goroutines: %s", total, elapsed.Round(time.Millisecond), soakWorkers, strings.Join(kinds, " "))
	figure(t, "duration", elapsed.Round(time.Millisecond))
	figure(t, "goroutines", soakWorkers)
	figure(t, "operations", total)
	figure(t, "ops_per_second", int64(float64(total)/elapsed.Seconds()))
	figure(t, "operation_mix", strings.Join(kinds, ","))
	figure(t, "transactions_committed", st.committed.Load())
	figure(t, "transactions_rolled_back_on_purpose", st.rolledBack.Load())
	figure(t, "deadlock_retries", st.retried.Load())
	figure(t, "counter_increments", increments)
	figure(t, "rows_checked", st.rowsChecked.Load()+int64(len(seen)))
	figure(t, "rows_at_end", len(seen))
	figure(t, "lost_writes", lost)
	figure(t, "duplicated_or_phantom_writes", extra)
	figure(t, "rows_differing", differ)
	figure(t, "read_problems", st.problems.Load())
	figure(t, "pool_open_idle_inuse", fmt.Sprintf("%d/%d/%d", stats.OpenConnections, stats.Idle, stats.InUse))
	figure(t, "heap_growth_mib", fmt.Sprintf("%.2f", mib(growth)))
}

func len64[T any](s []T) int64 { return int64(len(s)) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }
