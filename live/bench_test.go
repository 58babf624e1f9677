package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// BenchmarkWatchers1000 runs 1,000 watchers (Watch with filter owner=i)
// over a table of 2,000 rows while 4 writers update random rows, one
// autocommit UPDATE per op, each setting the row's n to a unique number.
// It reports the latency from the start of the UPDATE to the yield of a
// result holding it (p50, p99, max), and the CPU time of this process
// (feed, matching, re-reads, writers' client side) per change. "indexed"
// uses int filters (the feed's index finds the one watcher a change
// touches); "scanned" the same filters as *int64, which the index does not
// key, so every change is tested against all 1,000 watchers.
//
//	go test -run '^$' -bench Watchers1000 -benchtime 3000x ./live/
func BenchmarkWatchers1000(b *testing.B) {
	for _, mode := range []string{"baseline", "feed", "indexed", "scanned"} {
		b.Run(mode, func(b *testing.B) { benchWatchers(b, mode) })
	}
}

// benchWatchers: mode "baseline" runs the same writes with no feed, for
// the write rate and the writers' own CPU on this machine.
func benchWatchers(b *testing.B, mode string) {
	indexed := mode == "indexed"
	const watchers, perOwner, writers = 1000, 2, 4
	dsn, db := newDatabase(b, "", counterDDL)
	tx, _ := db.Begin()
	for i := range watchers * perOwner {
		if _, err := tx.Exec("INSERT INTO counter VALUES (?, ?, 'x', 0)", i, i%watchers); err != nil {
			b.Fatal(err)
		}
	}
	tx.Commit()
	db.SetMaxOpenConns(64)
	s := counterSchema()
	var f *Feed
	if mode != "baseline" {
		f = openFeed(b, dsn, s)
	}
	sdb := sqlgen.NewDB(db, s)

	var mu sync.Mutex
	start := map[int64]time.Time{} // n: when its UPDATE started
	lastSeen := map[int64]int64{}  // row: its n in the last result
	var lat []time.Duration
	var seen, yields atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ready, done sync.WaitGroup
	nw := watchers
	if mode == "baseline" || mode == "feed" {
		nw = 0
	}
	for o := range nw {
		ready.Add(1)
		done.Add(1)
		owner := int64(o)
		var flt sqlgen.Filter
		if indexed {
			flt = sqlgen.Filter{"owner": owner}
		} else {
			flt = sqlgen.Filter{"owner": &owner}
		}
		go func() {
			defer done.Done()
			first := true
			last := map[int64]int64{}
			for rows, err := range Watch[Counter](ctx, f, sdb, flt) {
				now := time.Now()
				yields.Add(1)
				if first {
					first = false
					ready.Done()
				}
				if err != nil {
					return
				}
				mu.Lock()
				for _, r := range rows {
					lastSeen[r.ID] = r.N
					if r.N != last[r.ID] {
						last[r.ID] = r.N
						if t0, ok := start[r.N]; ok {
							lat = append(lat, now.Sub(t0))
							delete(start, r.N)
							seen.Add(1)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	ready.Wait()

	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	var seq atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				n := seq.Add(1)
				if n > int64(b.N) {
					return
				}
				id := int64(r.IntN(watchers * perOwner))
				mu.Lock()
				start[n] = time.Now()
				mu.Unlock()
				if _, err := db.Exec("UPDATE counter SET n = ? WHERE id = ?", n, id); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	// Wait until every row's final value was yielded (an earlier value
	// overwritten before its watcher re-read is coalesced, not lost).
	final := map[int64]int64{}
	if nw > 0 {
		rows, err := db.Query("SELECT id, n FROM counter WHERE n > 0")
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id, n int64
			rows.Scan(&id, &n)
			final[id] = n
		}
		rows.Close()
	}
	pending := func() int {
		mu.Lock()
		defer mu.Unlock()
		p := 0
		for id, n := range final {
			if lastSeen[id] != n {
				p++
			}
		}
		return p
	}
	for nw > 0 && pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Microsecond)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if p := pending(); p > 0 {
		b.Errorf("%d rows never showed their final value", p)
	}
	if got := seen.Load(); nw > 0 && got < int64(b.N) {
		b.Logf("%d of %d values seen; the others were overwritten before a re-read (coalesced)", got, b.N)
	}
	b.ReportMetric(float64(yields.Load()-int64(nw))/float64(b.N), "rereads/change")
	cancel()
	done.Wait()
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
	mu.Lock()
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/change")
	mu.Unlock()
	_ = fmt.Sprint
}

// BenchmarkMatch1000 is the in-memory cost of finding the watchers a
// change touches among 1,000 (filter owner=i): through the index, and by
// testing every watcher (filters the index does not key).
func BenchmarkMatch1000(b *testing.B) {
	for _, indexed := range []bool{true, false} {
		name := map[bool]string{true: "indexed", false: "scanned"}[indexed]
		b.Run(name, func(b *testing.B) {
			s := counterSchema()
			f := &Feed{schema: s, watch: map[string]*tableWatchers{}, subs: map[*sub]struct{}{}}
			zero, _ := s.UnbuildStruct("counter", &Counter{})
			for o := range 1000 {
				owner := int64(o)
				flt := sqlgen.Filter{"owner": owner}
				if !indexed {
					flt = sqlgen.Filter{"owner": &owner}
				}
				ts, err := s.MakeTester("counter", flt)
				if err != nil {
					b.Fatal(err)
				}
				if err := f.addWatcher(&watcher{table: "counter", tester: ts, notify: make(chan struct{}, 1)}, flt, zero); err != nil {
					b.Fatal(err)
				}
			}
			c := Change{Table: "counter", Before: &Counter{ID: 1, Owner: 5}, After: &Counter{ID: 1, Owner: 5, N: 1}}
			b.ReportAllocs()
			for b.Loop() {
				seen := map[*watcher]bool{}
				var hit []*watcher
				f.match(c, seen, &hit)
				if len(hit) != 1 {
					b.Fatalf("%d hits", len(hit))
				}
			}
		})
	}
}
