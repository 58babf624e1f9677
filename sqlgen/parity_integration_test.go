package sqlgen_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

func newObserved(t *testing.T, opts ...sqlgentest.Option) (*sqlgen.DB, *sqlgentest.Recorder, *sql.DB) {
	t.Helper()
	conn := sqlgentest.OpenFile(t, crudSchemaFile, opts...)
	s := sqlgen.NewSchema()
	s.MustRegisterType("orgs", sqlgen.AutoIncrement, org{})
	s.MustRegisterType("users", sqlgen.AutoIncrement, user{})
	s.MustRegisterType("memberships", sqlgen.UniqueId, membership{})
	log := &sqlgentest.Recorder{}
	return sqlgen.NewDB(conn, s, sqlgen.WithObserver(log.Observe)), log, conn
}

func TestInsertRows(t *testing.T) {
	t.Parallel()
	db, log, _ := newObserved(t)
	ctx := context.Background()
	rows := make([]*user, 1200)
	for i := range rows {
		rows[i] = &user{OrgID: int64(i % 3), Name: fmt.Sprint("u", i), Status: "new", Settings: settings{Size: i}}
	}
	if err := db.InsertRows(ctx, rows, 500); err != nil {
		t.Fatal(err)
	}
	inserts, others := 0, 0
	for _, e := range log.Take() {
		if e.Op == "batch insert" {
			inserts++
		} else if e.SQL == "SELECT @@SESSION.auto_increment_increment" {
			others++
		}
	}
	if inserts != 3 || others != 1 {
		t.Errorf("1200 rows in chunks of 500 took %d INSERT statements and %d others, want 3 and the auto_increment_increment read", inserts, others)
	}
	// Every id was written back, and names the row that holds the struct's data.
	seen := map[int64]bool{}
	for i, r := range rows {
		if r.ID == 0 || seen[r.ID] {
			t.Fatalf("row %d: id %d not written back or duplicated", i, r.ID)
		}
		seen[r.ID] = true
	}
	for _, i := range []int{0, 499, 500, 1199} {
		got, err := sqlgen.Get[user](ctx, db, sqlgen.Filter{"id": rows[i].ID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rows[i], got); diff != "" {
			t.Errorf("row %d: %s", i, diff)
		}
	}

	// UpsertRows updates existing keys and inserts new ones.
	ms := []*membership{{OrgID: 1, UserID: 1, Key: "a"}, {OrgID: 1, UserID: 2, Key: "b"}}
	if err := db.UpsertRows(ctx, ms, 0); err != nil {
		t.Fatal(err)
	}
	ms[0].Key = "changed"
	ms = append(ms, &membership{OrgID: 1, UserID: 3, Key: "c"})
	if err := db.UpsertRows(ctx, ms, 2); err != nil {
		t.Fatal(err)
	}
	all, err := sqlgen.Select[membership](ctx, db, nil, &sqlgen.SelectOptions{OrderBy: "user_id"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ms, all); diff != "" {
		t.Errorf("after UpsertRows: %s", diff)
	}
	if err := db.UpsertRows(ctx, rows[:1], 0); !errors.Is(err, sqlgen.ErrUnsupported) {
		t.Errorf("UpsertRows on AutoIncrement: %v", err)
	}
	mixed := []*user{{ID: 99999, Name: "x"}, {Name: "y"}}
	if err := db.InsertRows(ctx, mixed, 0); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("mixed zero and non-zero ids: %v", err)
	}
	if err := db.InsertRows(ctx, []user{}, 0); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("[]T instead of []*T: %v", err)
	}
}

// TestInsertRowsOneStatement: a batch that fits one statement runs
// without a transaction of its own, and is still all or nothing; its ids
// are written back and are the ids the server gave, also with an
// auto_increment_increment other than 1 (read on the inserting
// connection).
func TestInsertRowsOneStatement(t *testing.T) {
	t.Parallel()
	for _, inc := range []int{1, 3} {
		db, log, conn := newObserved(t)
		ctx := context.Background()
		if inc != 1 {
			// One connection, so the session variable is the inserting one's.
			conn.SetMaxOpenConns(1)
			if _, err := conn.Exec(fmt.Sprintf("SET SESSION auto_increment_increment = %d", inc)); err != nil {
				t.Fatal(err)
			}
		}
		rows := make([]*org, 40)
		for i := range rows {
			rows[i] = &org{Name: fmt.Sprint("org", i)}
		}
		rows[39].Name = strings.Repeat("x", 300) // too long for VARCHAR(255)
		if err := db.InsertRows(ctx, rows, 100); err == nil {
			t.Fatal("InsertRows succeeded with a row too long for its column")
		}
		if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
			t.Fatalf("increment %d: %d rows written by a failed one-statement batch, want 0", inc, n)
		}
		for i, r := range rows {
			if r.ID != 0 {
				t.Fatalf("increment %d: row %d kept id %d after the failure", inc, i, r.ID)
			}
		}
		rows[39].Name = "fine"
		if err := db.InsertRows(ctx, rows, 100); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			var got *org
			if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": r.ID}, nil); err != nil || got.Name != r.Name {
				t.Fatalf("increment %d: row %d written back id %d, which holds %+v (%v)", inc, i, r.ID, got, err)
			}
			if i > 0 && r.ID-rows[i-1].ID != int64(inc) {
				t.Errorf("increment %d: ids %d then %d", inc, rows[i-1].ID, r.ID)
			}
		}
		for _, e := range log.Take() {
			if strings.HasPrefix(e.SQL, "INSERT") && e.Err == nil && e.Rows != 40 {
				t.Errorf("increment %d: %q wrote %d rows, want all 40 in one statement", inc, e.SQL[:40], e.Rows)
			}
		}
	}
}

// TestInsertRowsAllOrNothing: a batch whose last chunk fails leaves no row
// of any chunk behind, and a caller's transaction is left to the caller.
func TestInsertRowsAllOrNothing(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	rows := make([]*org, 250)
	for i := range rows {
		rows[i] = &org{Name: fmt.Sprint("org", i)}
	}
	rows[240].Name = strings.Repeat("x", 300) // too long for VARCHAR(255)
	if err := db.InsertRows(ctx, rows, 100); err == nil {
		t.Fatal("InsertRows succeeded with a row too long for its column")
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Fatalf("%d rows written by a failed batch, want 0", n)
	}

	rows[240].Name = "fine"
	for _, r := range rows {
		r.ID = 0
	}
	txCtx, tx, err := db.WithTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InsertRows(txCtx, rows, 100); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Errorf("InsertRows committed the caller's transaction: %d rows visible outside it", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("the caller's transaction was ended by InsertRows: %v", err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Errorf("%d rows after the caller rolled back", n)
	}
}

// TestInsertRowsPlaceholderLimit: a chunk that would need more than
// 65,535 placeholders is split, not sent.
func TestInsertRowsPlaceholderLimit(t *testing.T) {
	t.Parallel()
	db, log, _ := newObserved(t)
	ctx := context.Background()
	const n = 40000 // 4 columns each: 160,000 placeholders
	rows := make([]*membership, n)
	for i := range rows {
		rows[i] = &membership{OrgID: 7, UserID: int64(i), Key: "k"}
	}
	if err := db.InsertRows(ctx, rows, n); err != nil {
		t.Fatal(err)
	}
	stmts := 0
	for _, e := range log.Take() {
		if e.Op == "batch insert" {
			stmts++
			if e.Args > sqlgen.MaxPlaceholders {
				t.Errorf("a statement with %d placeholders was sent", e.Args)
			}
		}
	}
	if stmts != 3 {
		t.Errorf("%d statements, want 3 (16383 rows of 4 columns each)", stmts)
	}
	if c, _ := db.Count(ctx, &membership{}, nil); c != n {
		t.Errorf("%d rows, want %d", c, n)
	}
}

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
	s.MustRegisterType("things", sqlgen.UniqueId, thing{})
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

func TestShardLimit(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	for _, u := range []*user{{OrgID: 42, Name: "in"}, {OrgID: 7, Name: "out"}} {
		if _, err := db.InsertRow(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	limited, err := db.WithShardLimit(sqlgen.Filter{"org_id": 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := limited.WithShardLimit(sqlgen.Filter{"org_id": 1}); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("second limit: %v", err)
	}
	var rows []*user
	if err := limited.Query(ctx, &rows, sqlgen.Filter{"org_id": int32(42)}, nil); err != nil || len(rows) != 1 {
		t.Errorf("pinned read: %v, %d rows", err, len(rows))
	}
	if err := limited.Query(ctx, &rows, sqlgen.Filter{"org_id": []int64{42}}, nil); err != nil {
		t.Errorf("IN (42): %v", err)
	}
	for _, f := range []sqlgen.Filter{nil, {"name": "out"}, {"org_id": 7}, {"org_id": []int{42, 7}}} {
		if err := limited.Query(ctx, &rows, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
			t.Errorf("read with %v: %v, want ErrLimit", f, err)
		}
		if _, err := limited.Count(ctx, &user{}, f); !errors.Is(err, sqlgen.ErrLimit) {
			t.Errorf("count with %v: %v, want ErrLimit", f, err)
		}
	}
	if _, err := limited.InsertRow(ctx, &user{OrgID: 7, Name: "sneaky"}); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("write outside the limit: %v", err)
	}
	if err := limited.InsertRows(ctx, []*user{{OrgID: 42}, {OrgID: 8}}, 0); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("batch write outside the limit: %v", err)
	}
	if _, err := limited.InsertRow(ctx, &user{OrgID: 42, Name: "ok"}); err != nil {
		t.Errorf("write inside the limit: %v", err)
	}
	// Tables without the column are not limited.
	if _, err := limited.InsertRow(ctx, &org{Name: "global"}); err != nil {
		t.Errorf("table without org_id: %v", err)
	}
	if n, _ := db.Count(ctx, &user{}, sqlgen.Filter{"org_id": 7}); n != 1 {
		t.Errorf("a refused write reached the table: %d rows for org 7", n)
	}
}

type tenantKey struct{}

type dryRunKey struct{}

func TestDynamicLimit(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	var allowed atomic.Int32
	dl := sqlgen.DynamicLimit{
		GetLimitFilter: func(ctx context.Context, table string) (sqlgen.Filter, error) {
			tenant, ok := ctx.Value(tenantKey{}).(int64)
			if !ok {
				return nil, errors.New("no tenant in context")
			}
			return sqlgen.Filter{"org_id": tenant}, nil
		},
		ShouldContinueOnError: func(ctx context.Context, table string, err error) bool {
			if ctx.Value(dryRunKey{}) != nil {
				allowed.Add(1)
				return true
			}
			return false
		},
	}
	limited, err := db.WithDynamicLimit(dl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := limited.WithDynamicLimit(dl); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("second limit: %v", err)
	}
	t42 := context.WithValue(ctx, tenantKey{}, int64(42))
	if _, err := limited.InsertRow(t42, &user{OrgID: 42, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := limited.InsertRow(t42, &user{OrgID: 43, Name: "b"}); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("write for another tenant: %v", err)
	}
	var rows []*user
	if err := limited.Query(t42, &rows, sqlgen.Filter{"org_id": 43}, nil); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("read of another tenant: %v", err)
	}
	if err := limited.Query(ctx, &rows, sqlgen.Filter{"org_id": 42}, nil); err == nil || !strings.Contains(err.Error(), "no tenant") {
		t.Errorf("no tenant: %v", err)
	}
	dry := context.WithValue(t42, dryRunKey{}, true)
	if err := limited.Query(dry, &rows, nil, nil); err != nil || allowed.Load() != 1 {
		t.Errorf("ShouldContinueOnError did not let the read through: %v (%d)", err, allowed.Load())
	}
}

func TestRefuseFullScans(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	var us []*user
	for i := 0; i < 50; i++ {
		us = append(us, &user{OrgID: int64(i % 5), Name: fmt.Sprint("u", i)})
	}
	if err := db.InsertRows(ctx, us, 0); err != nil {
		t.Fatal(err)
	}
	strict := db.RefuseFullScans()
	var rows []*user
	if err := strict.Query(ctx, &rows, sqlgen.Filter{"name": "u1"}, nil); !errors.Is(err, sqlgen.ErrNoIndex) ||
		!strings.Contains(err.Error(), `"users"`) || !strings.Contains(err.Error(), "SELECT") {
		t.Errorf("unindexed read: %v, want ErrNoIndex naming the table and the SQL", err)
	}
	if _, err := strict.Count(ctx, &user{}, sqlgen.Filter{"name": "u1"}); !errors.Is(err, sqlgen.ErrNoIndex) {
		t.Errorf("unindexed count: %v", err)
	}
	for name, f := range map[string]sqlgen.Filter{"primary key": {"id": us[3].ID}, "secondary index": {"org_id": 2}, "impossible": {"id": []int{}}} {
		if err := strict.Query(ctx, &rows, f, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	opts := &sqlgen.SelectOptions{Limit: 10}
	if err := strict.FullScanQuery(ctx, &rows, sqlgen.Filter{"name": "u1"}, opts); err != nil || len(rows) != 1 {
		t.Errorf("FullScanQuery: %v, %d rows", err, len(rows))
	}
	if opts.AllowNoIndex {
		t.Error("FullScanQuery modified the caller's options")
	}
	if err := strict.Query(ctx, &rows, sqlgen.Filter{"name": "u1"}, &sqlgen.SelectOptions{AllowNoIndex: true}); err != nil {
		t.Errorf("AllowNoIndex: %v", err)
	}
	if err := db.Query(ctx, &rows, sqlgen.Filter{"org_id": 1}, &sqlgen.SelectOptions{ForceIndex: []string{"org_id"}}); err != nil || len(rows) != 10 {
		t.Errorf("FORCE INDEX: %v, %d rows", err, len(rows))
	}
	if err := db.Query(ctx, &rows, sqlgen.Filter{"org_id": 1}, &sqlgen.SelectOptions{UseIndex: []string{"PRIMARY"}}); err != nil {
		t.Errorf("USE INDEX: %v", err)
	}
	if err := db.Query(ctx, &rows, nil, &sqlgen.SelectOptions{UseIndex: []string{"x`; DROP TABLE users; --"}}); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("hostile index name: %v", err)
	}
}

func TestSlogObserver(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.OpenFile(t, crudSchemaFile)
	s := sqlgen.NewSchema()
	s.MustRegisterType("orgs", sqlgen.AutoIncrement, org{})
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := sqlgen.NewDB(conn, s, sqlgen.WithObserver(sqlgen.SlogObserver(logger, time.Hour)))
	ctx := context.Background()
	if _, err := db.InsertRow(ctx, &org{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	_, _ = sqlgen.Get[org](ctx, db, sqlgen.Filter{"id": 12345}, nil)
	slow := sqlgen.NewDB(conn, s, sqlgen.WithObserver(sqlgen.SlogObserver(logger, time.Nanosecond)))
	_, _ = sqlgen.Select[org](ctx, slow, nil, nil)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"level=DEBUG", "table=orgs", "op=insert", "rows=1", "op=query", "level=WARN", "slow statement", "INSERT INTO `orgs`"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
