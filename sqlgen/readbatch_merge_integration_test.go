package sqlgen_test

// WithBatching merges: concurrent lookups become one statement, each
// caller given its own row, with IS NULL and composite filters. (The
// batched-read paths, bad rows, bounds and fall-backs are in
// batcher_integration_test.go.)

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// TestBatchedReads: 100 concurrent lookups under WithBatching cost one
// statement, and every caller gets its own row.
func TestBatchedReads(t *testing.T) {
	t.Parallel()
	db, log, _ := newObserved(t)
	ctx := context.Background()
	orgs := make([]*org, 100)
	for i := range orgs {
		orgs[i] = &org{Name: fmt.Sprint("org-", i)}
	}
	if err := db.InsertRows(ctx, orgs, 0); err != nil {
		t.Fatal(err)
	}
	users := make([]*user, 0, 300)
	for _, o := range orgs[:50] {
		for j := 0; j < 3; j++ {
			users = append(users, &user{OrgID: o.ID, Name: fmt.Sprint(o.Name, "/", j), Status: "s"})
		}
	}
	if err := db.InsertRows(ctx, users, 0); err != nil {
		t.Fatal(err)
	}
	log.Take()

	// A full batch is sent at once: with a size of 100 and a long window,
	// the 100 reads of each table make exactly one batch each, however
	// slowly the goroutines start on a loaded machine.
	bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(30*time.Second), sqlgen.BatchSize(100))
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i, o := range orgs {
		wg.Add(2)
		go func(o *org) { // QueryRow with an int32 filter on a BIGINT key
			defer wg.Done()
			var got *org
			if err := db.QueryRow(bctx, &got, sqlgen.Filter{"id": int32(o.ID)}, nil); err != nil {
				errs <- err
				return
			}
			if !cmp.Equal(got, o) {
				errs <- fmt.Errorf("org %d: got %+v", o.ID, got)
			}
		}(o)
		go func(i int, o *org) { // Query of each org's users
			defer wg.Done()
			var got []*user
			if err := db.Query(bctx, &got, sqlgen.Filter{"org_id": o.ID}, nil); err != nil {
				errs <- err
				return
			}
			want := 3
			if i >= 50 {
				want = 0
			}
			if len(got) != want {
				errs <- fmt.Errorf("org %d: %d users, want %d", o.ID, len(got), want)
			}
			for _, u := range got {
				if u.OrgID != o.ID {
					errs <- fmt.Errorf("org %d got user %+v", o.ID, u)
				}
			}
		}(i, o)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	events := log.Take()
	if len(events) != 2 {
		t.Fatalf("200 concurrent reads took %d statements, want 2 (one per table):\n%v", len(events), events)
	}
	for _, e := range events {
		if !strings.Contains(e.SQL, " IN (") || e.Args != 100 {
			t.Errorf("batched statement %q has %d args, want an IN list of 100", e.SQL, e.Args)
		}
	}

	// Duplicate keys: two callers, one row each, distinct structs; a miss
	// is sql.ErrNoRows for that caller only.
	bctx = sqlgen.WithBatching(ctx, sqlgen.BatchWindow(30*time.Second), sqlgen.BatchSize(3))
	var a, b, miss *org
	var errA, errB, errMiss error
	var wg2 sync.WaitGroup
	wg2.Add(3)
	go func() { defer wg2.Done(); errA = db.QueryRow(bctx, &a, sqlgen.Filter{"id": orgs[0].ID}, nil) }()
	go func() { defer wg2.Done(); errB = db.QueryRow(bctx, &b, sqlgen.Filter{"id": orgs[0].ID}, nil) }()
	go func() { defer wg2.Done(); errMiss = db.QueryRow(bctx, &miss, sqlgen.Filter{"id": 1 << 40}, nil) }()
	wg2.Wait()
	if errA != nil || errB != nil || a == b || !cmp.Equal(a, b) {
		t.Errorf("duplicate lookups: %v %v, distinct=%v", errA, errB, a != b)
	}
	if !errors.Is(errMiss, sql.ErrNoRows) {
		t.Errorf("missing row: %v", errMiss)
	}
	if n := len(log.Take()); n != 1 {
		t.Errorf("3 lookups took %d statements, want 1", n)
	}

	// A caller whose context is cancelled gets its error; the others don't.
	bctx = sqlgen.WithBatching(ctx, sqlgen.BatchWindow(50*time.Millisecond))
	cctx, cancel := context.WithCancel(bctx)
	cancel()
	var c1, c2 *org
	var e1, e2 error
	var wg3 sync.WaitGroup
	wg3.Add(2)
	go func() { defer wg3.Done(); e1 = db.QueryRow(cctx, &c1, sqlgen.Filter{"id": orgs[1].ID}, nil) }()
	go func() { defer wg3.Done(); e2 = db.QueryRow(bctx, &c2, sqlgen.Filter{"id": orgs[2].ID}, nil) }()
	wg3.Wait()
	if !errors.Is(e1, context.Canceled) {
		t.Errorf("cancelled caller: %v", e1)
	}
	if e2 != nil || c2.ID != orgs[2].ID {
		t.Errorf("other caller: %v, %+v", e2, c2)
	}

	// Strings, options and transactions are not merged but still work.
	log.Take()
	var wg4 sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg4.Add(1)
		go func(i int) {
			defer wg4.Done()
			var got *org
			if err := db.QueryRow(bctx, &got, sqlgen.Filter{"name": orgs[i].Name}, nil); err != nil || got.ID != orgs[i].ID {
				t.Errorf("string lookup: %v", err)
			}
		}(i)
	}
	wg4.Wait()
	if n := len(log.Take()); n != 3 {
		t.Errorf("string lookups: %d statements, want 3 (not merged)", n)
	}
}

// TestBatchedReadsNullAndComposite covers IS NULL and several columns.
func TestBatchedReadsNullAndComposite(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{"CREATE TABLE things (a BIGINT NOT NULL, b BIGINT NOT NULL, c BIGINT NULL, flag TINYINT(1) NOT NULL, PRIMARY KEY (a, b))"})
	type thing struct {
		A    int64 `sql:",primary"`
		B    int64 `sql:",primary"`
		C    *int64
		Flag bool
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("things", sqlgen.UniqueID, thing{})
	log := &sqlgentest.Recorder{}
	db := sqlgen.NewDB(conn, s, sqlgen.WithObserver(log.Observe))
	ctx := context.Background()
	var rows []*thing
	for a := int64(1); a <= 3; a++ {
		for b := int64(1); b <= 3; b++ {
			th := &thing{A: a, B: b, Flag: b == 2}
			if b != 3 {
				th.C = ptr(a * b)
			}
			rows = append(rows, th)
		}
	}
	if err := db.InsertRows(ctx, rows, 0); err != nil {
		t.Fatal(err)
	}
	log.Take()
	bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(500*time.Millisecond))
	type lookup struct {
		filter sqlgen.Filter
		want   int
	}
	lookups := []lookup{
		{sqlgen.Filter{"a": 1, "b": int8(2)}, 1},
		{sqlgen.Filter{"a": int64(3), "b": uint(3)}, 1},
		{sqlgen.Filter{"a": 9, "b": 9}, 0},
		{sqlgen.Filter{"a": 2, "c": nil}, 1},
		{sqlgen.Filter{"a": 1, "c": nil}, 1},
	}
	var wg sync.WaitGroup
	for _, l := range lookups {
		wg.Add(1)
		go func(l lookup) {
			defer wg.Done()
			var got []*thing
			if err := db.Query(bctx, &got, l.filter, nil); err != nil {
				t.Error(err)
				return
			}
			if len(got) != l.want {
				t.Errorf("%v: %d rows, want %d", l.filter, len(got), l.want)
			}
			for _, g := range got {
				if a := l.filter["a"]; fmt.Sprint(g.A) != fmt.Sprint(a) {
					t.Errorf("%v: got row %+v that does not match", l.filter, g)
				}
				if _, isNull := l.filter["c"]; isNull && g.C != nil {
					t.Errorf("%v: got row %+v with c not NULL", l.filter, g)
				}
			}
		}(l)
	}
	var nullRows, flagRows []*thing
	wg.Add(2)
	go func() { defer wg.Done(); nullRows, _ = sqlgen.Select[thing](bctx, db, sqlgen.Filter{"c": nil}, nil) }()
	go func() {
		defer wg.Done()
		flagRows, _ = sqlgen.Select[thing](bctx, db, sqlgen.Filter{"flag": true}, nil)
	}()
	wg.Wait()
	if len(nullRows) != 3 || len(flagRows) != 3 {
		t.Errorf("IS NULL: %d rows, bool: %d rows; want 3 and 3", len(nullRows), len(flagRows))
	}
	// Groups by column set: {a,b}, {a,c}, {c}, {flag}.
	if n := len(log.Take()); n != 4 {
		t.Errorf("%d statements, want 4", n)
	}
}
