package sqlgen

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	_ "github.com/go-sql-driver/mysql"
)

// exOpenServer opens a pool to the test server (SQLGEN_TEST_DSN, as
// package sqlgentest reads it, which this package's own tests cannot
// import). An unreachable server fails the test.
func exOpenServer(t *testing.T) *sql.DB {
	t.Helper()
	dsn := os.Getenv("SQLGEN_TEST_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/"
	}
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.PingContext(ctx); err != nil {
		t.Fatalf("no server answers at SQLGEN_TEST_DSN=%q (run `make db`): %v", dsn, err)
	}
	return conn
}

// TestStmtCacheKeepsEvictedInUse: a statement evicted while a caller
// holds it stays open until that caller releases it, and is closed then;
// Close of the cache waits for its users the same way.
func TestStmtCacheKeepsEvictedInUse(t *testing.T) {
	conn := exOpenServer(t)
	ctx := context.Background()
	c := &stmtCache{size: 1, byText: map[string]*list.Element{}, lru: list.New()}
	db := &DB{conn: conn}
	one := func(s *sql.Stmt) error {
		var n int
		return s.QueryRowContext(ctx, 1).Scan(&n)
	}
	a, err := c.acquire(ctx, db, "", "SELECT ? + 0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.acquire(ctx, db, "", "SELECT ? + 1") // evicts a, which a's caller still holds
	if err != nil {
		t.Fatal(err)
	}
	if c.len() != 1 {
		t.Fatalf("%d statements cached, want 1", c.len())
	}
	if err := one(a.stmt); err != nil {
		t.Fatalf("an evicted statement still in use was closed: %v", err)
	}
	c.release(a)
	if err := one(a.stmt); err == nil || !strings.Contains(err.Error(), "statement is closed") {
		t.Errorf("an evicted statement is still open after its last user released it: %v", err)
	}
	// Close while b is held: b stays open until released.
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if err := one(b.stmt); err != nil {
		t.Fatalf("Close closed a statement still in use: %v", err)
	}
	c.release(b)
	if err := one(b.stmt); err == nil {
		t.Error("a statement is still open after Close and its last release")
	}
	if _, err := c.acquire(ctx, db, "", "SELECT ? + 2"); !errors.Is(err, sql.ErrConnDone) {
		t.Errorf("acquire after Close: %v, want ErrConnDone", err)
	}
}

// exPastDeadline is a context whose deadline has passed but whose timer
// has not fired: Err is still nil.
type exPastDeadline struct{ context.Context }

func (exPastDeadline) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestWithCtxErr(t *testing.T) {
	boom := errors.New("driver: bad connection")
	if err := withCtxErr(context.Background(), boom); err != boom {
		t.Errorf("a live context changed the error: %v", err)
	}
	if err := withCtxErr(context.Background(), nil); err != nil {
		t.Errorf("nil became %v", err)
	}
	past := exPastDeadline{context.Background()}
	err := withCtxErr(past, boom)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, boom) || !strings.Contains(err.Error(), boom.Error()) {
		t.Errorf("deadline passed, timer not fired: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = withCtxErr(ctx, boom)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, boom) {
		t.Errorf("cancelled: %v", err)
	}
	already := withCtxErr(ctx, context.Canceled)
	if already != context.Canceled {
		t.Errorf("an error that already wraps the context's was wrapped again: %v", already)
	}
}

// exConn stands for a driver connection: large enough that the runtime
// does not batch it with other objects in one allocation.
type exConn struct {
	buf [256]byte
}

// TestConnIDsForgetsCollected: the server ids of connections that have
// been garbage collected are dropped, so the map does not grow with the
// connections a long-running pool opens and closes.
func TestConnIDsForgetsCollected(t *testing.T) {
	c := connIDs{ids: map[weak.Pointer[byte]]int64{}, sweepAt: 64}
	keep := make([]*exConn, 10)
	for i := range keep {
		keep[i] = &exConn{}
		c.put(weak.Make(&keep[i].buf[0]), int64(i+1))
	}
	for i := 0; i < 1000; i++ {
		gone := &exConn{}
		c.put(weak.Make(&gone.buf[0]), int64(1000+i))
		if i%100 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	c.put(weak.Make(&keep[0].buf[0]), 1)
	if n := c.len(); n > 200 {
		t.Errorf("%d ids remembered for 10 live connections and 1000 collected ones", n)
	}
	for i, k := range keep {
		if got := c.get(weak.Make(&k.buf[0])); got != int64(i+1) {
			t.Errorf("live connection %d: id %d, want %d", i, got, i+1)
		}
	}
	runtime.KeepAlive(keep)
}
