package benchmarks

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

var (
	fakeOnce sync.Once
	fakeBE   *Backend
	fakeErr  error

	mysqlOnce sync.Once
	mysqlBE   *Backend
	mysqlErr  error
)

var mysqlMu sync.Mutex // guards mysqlBE against the signal handler

func mysqlBackendIfOpen() *Backend {
	mysqlMu.Lock()
	defer mysqlMu.Unlock()
	return mysqlBE
}

func fakeBackend(tb testing.TB) *Backend {
	tb.Helper()
	fakeOnce.Do(func() { fakeBE, fakeErr = NewFakeBackend() })
	if fakeErr != nil {
		tb.Fatal(fakeErr)
	}
	return fakeBE
}

// mysqlBackend creates the real server's database on first use; TestMain
// drops it when the run ends. No server is a failure, never a skip.
func mysqlBackend(tb testing.TB) *Backend {
	tb.Helper()
	mysqlOnce.Do(func() {
		be, err := NewMySQLBackend()
		mysqlMu.Lock()
		mysqlBE, mysqlErr = be, err
		mysqlMu.Unlock()
	})
	if mysqlErr != nil {
		tb.Fatalf("MySQL backend: %v", mysqlErr)
	}
	return mysqlBE
}

func TestMain(m *testing.M) {
	// An interrupted run still drops the real server's database.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		if be := mysqlBackendIfOpen(); be != nil {
			_ = be.Close()
		}
		os.Exit(2)
	}()
	code := m.Run()
	if be := mysqlBackendIfOpen(); be != nil {
		if err := be.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the MySQL backend:", err)
			code = 1
		}
	}
	if fakeBE != nil {
		_ = fakeBE.Close()
	}
	os.Exit(code)
}

// BenchmarkFake runs every operation of every library on the in-process
// fake driver: the figures are the libraries' own overhead.
func BenchmarkFake(b *testing.B) { runBackend(b, fakeBackend(b)) }

// BenchmarkMySQL runs the same code on the real server at
// $SQLGEN_TEST_DSN.
func BenchmarkMySQL(b *testing.B) { runBackend(b, mysqlBackend(b)) }

func runBackend(b *testing.B, be *Backend) {
	for _, op := range Ops {
		b.Run(op, func(b *testing.B) {
			for _, lib := range be.Libs {
				f := lib.Ops[op]
				if f == nil {
					continue
				}
				b.Run(lib.Name, func(b *testing.B) { runOp(b, be, lib, op, f) })
			}
		})
	}
}

// seq gives Update a value no earlier update wrote, so that every update
// changes the row (GORM's Save falls back to an upsert when MySQL reports
// no changed row).
var seq atomic.Int64

func runOp(b *testing.B, be *Backend, lib *Lib, op string, f Op) {
	b.ReportAllocs()
	ctx := context.Background()
	var ids []int64
	switch op {
	case OpDelete:
		var err error
		if ids, err = be.PrepareDelete(b.N + 1); err != nil {
			b.Fatalf("%s: preparing %d rows to delete: %v", be.Name, b.N+1, err)
		}
		fallthrough
	case OpInsert, OpInsertMulti, OpInsertJSON, OpUpdate:
		b.Cleanup(func() {
			if err := be.Cleanup(); err != nil {
				b.Errorf("%s: cleaning up: %v", be.Name, err)
			}
		})
	}
	arg := func(i int) int64 {
		if ids != nil {
			return ids[i]
		}
		return seq.Add(1)
	}
	// One call outside the timer: warms caches (GORM's and bun's schema
	// parsing, sqlgen's scanner pool) and checks the result.
	if err := f(ctx, arg(b.N)); err != nil {
		b.Fatalf("%s %s on %s: %v", lib.Name, op, be.Name, err)
	}
	if err := lib.Check(op); err != nil {
		b.Fatalf("%s %s on %s: %v", lib.Name, op, be.Name, err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := f(ctx, arg(i)); err != nil {
			b.Fatalf("%s %s on %s: %v", lib.Name, op, be.Name, err)
		}
	}
	b.StopTimer()
}

// TestLibsFake runs every operation of every library once on the fake
// backend and checks what it read.
func TestLibsFake(t *testing.T) { testLibs(t, fakeBackend(t)) }

// TestLibsMySQL does the same on the real server.
func TestLibsMySQL(t *testing.T) { testLibs(t, mysqlBackend(t)) }

func testLibs(t *testing.T, be *Backend) {
	ctx := context.Background()
	for _, lib := range be.Libs {
		for _, op := range Ops {
			f := lib.Ops[op]
			if f == nil {
				continue
			}
			t.Run(lib.Name+"/"+op, func(t *testing.T) {
				n := seq.Add(1)
				if op == OpDelete {
					ids, err := be.PrepareDelete(1)
					if err != nil {
						t.Fatal(err)
					}
					n = ids[0]
				}
				if err := f(ctx, n); err != nil {
					t.Fatal(err)
				}
				if err := lib.Check(op); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	if err := be.Cleanup(); err != nil {
		t.Fatal(err)
	}
}
