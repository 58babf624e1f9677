package leakcheck_test

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m, leakcheck.StrictSQL())) }

// fakeTB records what Check reports.
type fakeTB struct {
	mu       sync.Mutex
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(s string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(s, a...))
}

// end runs the cleanups, last registered first, as testing does.
func (f *fakeTB) end() []string {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	return f.errors
}

//go:noinline
func blockedLeaker(stop <-chan struct{}) { <-stop }

func TestReportsALeakedGoroutine(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	tb := &fakeTB{}
	leakcheck.Check(tb, leakcheck.Timeout(100*time.Millisecond))
	go blockedLeaker(stop)
	errs := tb.end()
	if len(errs) != 1 || !strings.Contains(errs[0], "blockedLeaker") || !strings.Contains(errs[0], "chan receive") {
		t.Fatalf("Check reported %q, want one report naming blockedLeaker", errs)
	}
}

func TestWaitsForGoroutinesThatEnd(t *testing.T) {
	tb := &fakeTB{}
	leakcheck.Check(tb, leakcheck.Timeout(5*time.Second))
	for i := 0; i < 10; i++ {
		go func() { time.Sleep(time.Duration(i*20) * time.Millisecond) }()
	}
	start := time.Now()
	if errs := tb.end(); len(errs) != 0 {
		t.Fatalf("goroutines that end within the timeout reported: %q", errs)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the check took %v, want it to return as soon as they end", d)
	}
}

func TestGoroutinesOfTheSnapshotAreNotLeaks(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go blockedLeaker(stop)
	tb := &fakeTB{}
	leakcheck.Check(tb, leakcheck.Timeout(50*time.Millisecond))
	if errs := tb.end(); len(errs) != 0 {
		t.Fatalf("a goroutine that existed before the snapshot was reported: %q", errs)
	}
}

func TestIgnoreFunction(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	tb := &fakeTB{}
	leakcheck.Check(tb, leakcheck.Timeout(50*time.Millisecond),
		leakcheck.IgnoreFunction("github.com/seed-b2691315/sqlgen/internal/leakcheck_test.blockedLeaker"))
	go blockedLeaker(stop)
	if errs := tb.end(); len(errs) != 0 {
		t.Fatalf("an ignored function was reported: %q", errs)
	}
}

// TestSQLPool: an open *sql.DB has a connection-opener goroutine, ignored
// by default and reported under StrictSQL until the pool is closed.
// sql.Open does not connect, so no server is needed.
func TestSQLPool(t *testing.T) {
	snap := leakcheck.Take()
	db, err := sql.Open("mysql", "nobody@tcp(127.0.0.1:1)/none")
	if err != nil {
		t.Fatal(err)
	}
	if leaked := snap.Leaks(leakcheck.Timeout(50 * time.Millisecond)); len(leaked) != 0 {
		t.Errorf("an open pool's goroutines reported by default: %s", leakcheck.Describe(leaked))
	}
	leaked := snap.Leaks(leakcheck.Timeout(50*time.Millisecond), leakcheck.StrictSQL())
	if len(leaked) != 1 || !strings.Contains(leaked[0].Stack, "database/sql.(*DB).connectionOpener") {
		t.Errorf("StrictSQL with an open pool: %s, want the connection opener", leakcheck.Describe(leaked))
	}
	db.Close()
	if leaked := snap.Leaks(leakcheck.StrictSQL()); len(leaked) != 0 {
		t.Errorf("a closed pool's goroutines still reported: %s", leakcheck.Describe(leaked))
	}
}

func TestParse(t *testing.T) {
	dump := `goroutine 1 [running]:
main.main()
	/src/main.go:5 +0x1d

goroutine 42 [chan receive, 3 minutes]:
database/sql.(*DB).connectionOpener(0xc000120000, {0x7f1c, 0xc00001c0a0})
	/go/src/database/sql/sql.go:1261 +0x87
created by database/sql.OpenDB in goroutine 7
	/go/src/database/sql/sql.go:841 +0x130

goroutine 43 [select]:
example.com/x.worker[...](0x1)
	/src/x.go:9 +0x2
...additional frames elided...
created by example.com/x.Start
	/src/x.go:3 +0x1
`
	gs := leakcheck.Parse([]byte(dump))
	if len(gs) != 3 {
		t.Fatalf("parsed %d goroutines, want 3", len(gs))
	}
	g := gs[1]
	if g.ID != 42 || g.State != "chan receive" || g.CreatedBy != "database/sql.OpenDB" ||
		len(g.Functions) != 1 || g.Functions[0] != "database/sql.(*DB).connectionOpener" {
		t.Errorf("parsed %+v", g)
	}
	if gs[0].CreatedBy != "" || gs[0].Functions[0] != "main.main" {
		t.Errorf("parsed %+v", gs[0])
	}
	if gs[2].Functions[0] != "example.com/x.worker[...]" || gs[2].CreatedBy != "example.com/x.Start" {
		t.Errorf("parsed %+v", gs[2])
	}
}
