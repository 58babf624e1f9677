package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type Counter struct {
	ID    int64 `sql:",primary"`
	Owner int64
	Name  string
	N     int64
}

const counterDDL = "CREATE TABLE counter (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL, name VARCHAR(50) COLLATE utf8mb4_bin NOT NULL, n BIGINT NOT NULL, KEY (owner))"

func counterSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("counter", sqlgen.AutoIncrement, Counter{})
	return s
}

type result struct {
	rows []*Counter
	err  error
}

// watch runs Watch in a goroutine and sends what it yields; it returns
// once the watcher is registered.
func watch(t testing.TB, f *Feed, db *sqlgen.DB, filter sqlgen.Filter) <-chan result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan result, 100000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rows, err := range Watch[Counter](ctx, f, db, filter) {
			ch <- result{rows, err}
			if ctx.Err() != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

func ids(rows []*Counter) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func expectIDs(t *testing.T, ch <-chan result, want ...int64) {
	t.Helper()
	r := next(t, ch, 10*time.Second)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := ids(r.rows); fmt.Sprint(got) != fmt.Sprint(append([]int64{}, want...)) {
		t.Fatalf("got rows %v, want %v", got, want)
	}
}

func expectQuiet(t *testing.T, ch <-chan result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("a result for a change that touches no matching row: %v %v", ids(r.rows), r.err)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestWatchFollowsFilter: a watch yields its rows now, then after each
// change whose before or after image matches, and not after others.
func TestWatchFollowsFilter(t *testing.T) {
	for _, p := range []string{"", "interpolateParams=true"} {
		t.Run("dsn="+p, func(t *testing.T) {
			dsn, db := newDatabase(t, p, counterDDL, "INSERT INTO counter VALUES (1, 1, 'a', 0), (2, 2, 'b', 0)")
			s := counterSchema()
			f := openFeed(t, dsn, s)
			sdb := sqlgen.NewDB(db, s)
			ch := watch(t, f, sdb, sqlgen.Filter{"owner": int32(1)})
			expectIDs(t, ch, 1)
			exec1(t, db, "INSERT INTO counter VALUES (3, 1, 'c', 0)") // after image matches
			expectIDs(t, ch, 1, 3)
			exec1(t, db, "INSERT INTO counter VALUES (4, 2, 'd', 0)") // no match
			expectQuiet(t, ch)
			exec1(t, db, "UPDATE counter SET owner = 1 WHERE id = 4") // moves in
			expectIDs(t, ch, 1, 3, 4)
			exec1(t, db, "UPDATE counter SET owner = 9 WHERE id = 1") // moves out: the before image matches
			expectIDs(t, ch, 3, 4)
			exec1(t, db, "DELETE FROM counter WHERE id = 3")
			expectIDs(t, ch, 4)
			exec1(t, db, "UPDATE counter SET n = n + 1 WHERE owner = 2")
			expectQuiet(t, ch)
		})
	}
}

// TestWatchNotStale: under concurrent writers, every result a watch
// yields is at least as new as the previous one, and the last one shows
// the final state. A re-read that raced a commit (MariaDB sends a
// transaction before its commit is visible) would leave a stale result.
func TestWatchNotStale(t *testing.T) {
	dsn, db := newDatabase(t, "", counterDDL)
	for i := range 20 {
		exec1(t, db, "INSERT INTO counter VALUES (?, ?, 'x', 0)", i, i%4)
	}
	s := counterSchema()
	f := openFeed(t, dsn, s)
	sdb := sqlgen.NewDB(db, s)
	chans := make([]<-chan result, 4)
	for o := range 4 {
		chans[o] = watch(t, f, sdb, sqlgen.Filter{"owner": o})
	}
	const perWriter = 60
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				if _, err := db.Exec("UPDATE counter SET n = n + 1 WHERE id = ?", w*5+rand.IntN(5)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	final := map[int64]int64{}
	rows, err := db.Query("SELECT id, n FROM counter")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, n int64
		rows.Scan(&id, &n)
		final[id] = n
	}
	rows.Close()
	for o, ch := range chans {
		last := map[int64]int64{}
		deadline := time.After(15 * time.Second)
	loop:
		for {
			select {
			case r := <-ch:
				if r.err != nil {
					t.Fatal(r.err)
				}
				for _, row := range r.rows {
					if row.N < last[row.ID] {
						t.Fatalf("owner %d: row %d went back from %d to %d", o, row.ID, last[row.ID], row.N)
					}
					last[row.ID] = row.N
				}
				done := true
				for id, n := range final {
					if id%4 == int64(o) && last[id] != n {
						done = false
					}
				}
				if done {
					break loop
				}
			case <-deadline:
				t.Fatalf("owner %d: stale: last result %v, final %v", o, last, final)
			}
		}
	}
}

// TestIndexAgreesWithScan: the watcher index finds exactly the watchers
// that testing every watcher finds, for filters of every shape.
func TestIndexAgreesWithScan(t *testing.T) {
	type Named string
	type NamedInt int16
	s := counterSchema()
	f := &Feed{schema: s, watch: map[string]*tableWatchers{}, subs: map[*sub]struct{}{}}
	zero, _ := s.UnbuildStruct("counter", &Counter{})
	r := rand.New(rand.NewPCG(1, 2))
	filters := func() sqlgen.Filter {
		o := r.Int64N(5)
		switch r.IntN(10) {
		case 0:
			return sqlgen.Filter{"owner": o}
		case 1:
			return sqlgen.Filter{"owner": int32(o), "n": r.Int64N(3)}
		case 2:
			return sqlgen.Filter{"owner": []int{int(o), int(o + 1)}}
		case 3:
			return sqlgen.Filter{"name": Named(fmt.Sprint("n", o))}
		case 4:
			return sqlgen.Filter{"owner": &o} // a pointer: not keyed, scanned
		case 5:
			return sqlgen.Filter{"owner": []int{}} // matches nothing
		case 6:
			return sqlgen.Filter{"n": NamedInt(o), "name": []string{"n1", "n2"}}
		case 7:
			return sqlgen.Filter{"owner": uint8(o), "name": fmt.Sprint("n", r.IntN(3))}
		case 8:
			return sqlgen.Filter{}
		default:
			return sqlgen.Filter{"id": []any{o, int64(o + 2)}}
		}
	}
	var all []*watcher
	for range 500 {
		flt := filters()
		ts, err := s.MakeTester("counter", flt)
		if err != nil {
			t.Fatal(err)
		}
		w := &watcher{table: "counter", tester: ts, notify: make(chan struct{}, 1)}
		if err := f.addWatcher(w, flt, zero); err != nil {
			t.Fatal(err)
		}
		all = append(all, w)
	}
	keyed := 0
	for _, w := range all {
		if w.col != "" {
			keyed++
		}
	}
	if keyed < len(all)/2 {
		t.Fatalf("only %d of %d watchers are indexed", keyed, len(all))
	}
	row := func() *Counter {
		return &Counter{ID: r.Int64N(8), Owner: r.Int64N(6), Name: fmt.Sprint("n", r.IntN(4)), N: r.Int64N(4)}
	}
	for range 2000 {
		c := Change{Table: "counter"}
		switch r.IntN(3) {
		case 0:
			c.After = row()
		case 1:
			c.Before = row()
		default:
			c.Before, c.After = row(), row()
		}
		seen := map[*watcher]bool{}
		var hit []*watcher
		f.match(c, seen, &hit)
		want := 0
		for _, w := range all {
			m := (c.Before != nil && w.tester.Test(c.Before)) || (c.After != nil && w.tester.Test(c.After))
			if m {
				want++
			}
			if m != seen[w] {
				t.Fatalf("change %+v/%+v: watcher on %q keys %v: index says %v, tester %v", c.Before, c.After, w.col, w.keys, seen[w], m)
			}
		}
		if want != len(hit) {
			t.Fatalf("hit %d, want %d", len(hit), want)
		}
	}
	for _, w := range all {
		f.removeWatcher(w)
	}
	if len(f.watch) != 0 {
		t.Fatalf("watchers left after removal: %v", f.watch)
	}
}

type Member struct {
	Org  int64  `sql:",primary"`
	User string `sql:",primary"`
	Role string
}

// TestWatchCompositeKey: a table with a composite primary key (the
// visibility read by (org, user) pairs) and a string filter.
func TestWatchCompositeKey(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE member (org BIGINT NOT NULL, user VARCHAR(20) NOT NULL, role VARCHAR(10) COLLATE utf8mb4_bin NOT NULL, PRIMARY KEY (org, user))")
	s := sqlgen.NewSchema()
	s.MustRegisterType("member", sqlgen.UniqueID, Member{})
	f := openFeed(t, dsn, s)
	sdb := sqlgen.NewDB(db, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan []*Member, 100)
	go func() {
		for rows, err := range Watch[Member](ctx, f, sdb, sqlgen.Filter{"role": []string{"admin", "owner"}}) {
			if err != nil {
				close(ch)
				return
			}
			ch <- rows
		}
	}()
	if got := next(t, ch, 10*time.Second); len(got) != 0 {
		t.Fatalf("initial %v", got)
	}
	exec1(t, db, "INSERT INTO member VALUES (1, 'ann', 'admin'), (1, 'bob', 'user'), (2, 'ann', 'owner')")
	if got := next(t, ch, 10*time.Second); len(got) != 2 {
		t.Fatalf("after insert: %d rows", len(got))
	}
	exec1(t, db, "UPDATE member SET role = 'user' WHERE org = 2 AND user = 'ann'")
	if got := next(t, ch, 10*time.Second); len(got) != 1 || got[0].Org != 1 {
		t.Fatalf("after update: %+v", got)
	}
}

// TestVisibilityWaitNotHeldByLaterTransaction: a later transaction that
// locks a row the logged one changed (and stays open) does not stall the
// feed for the server's lock wait timeout: holding the lock proves the
// logged transaction committed.
func TestVisibilityWaitNotHeldByLaterTransaction(t *testing.T) {
	dsn, db := newDatabase(t, "", counterDDL, "INSERT INTO counter VALUES (1, 1, 'a', 0)")
	reached, locked := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(c *config) {
		c.hookBeforeWait = func() {
			once.Do(func() {
				close(reached)
				<-locked
			})
		}
	}
	f := openFeed(t, dsn, counterSchema(), hook)
	ch := collect(t, f)
	exec1(t, db, "UPDATE counter SET n = 1 WHERE id = 1")
	next(t, reached, 10*time.Second)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE counter SET n = 2 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	close(locked)
	start := time.Now()
	got := next(t, ch, 10*time.Second)
	if got.err != nil || got.c.After.(*Counter).N != 1 {
		t.Fatalf("got %+v", got)
	}
	t.Logf("delivered %v after the later transaction locked the row", time.Since(start).Round(time.Millisecond))
}
