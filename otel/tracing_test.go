package sqlgenotel_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	sqlgenotel "github.com/seed-b2691315/sqlgen/otel"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type item struct {
	ID   int64  `sql:",primary"`
	Body string `sql:"body"`
}

var itemsSQL = []string{"CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(64) NOT NULL)"}

func schema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("items", sqlgen.AutoIncrement, item{})
	return s
}

// setup returns a traced DB on a database of its own, the recorder of its
// spans, a context holding a parent span and that span, and the family
// the server says it is ("mysql" or "mariadb").
func setup(t *testing.T, opts ...sqlgen.Option) (*sqlgen.DB, *tracetest.SpanRecorder, context.Context, trace.Span, string) {
	t.Helper()
	conn := sqlgentest.Open(t, itemsSQL)
	var version string
	if err := conn.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	family := "mysql"
	if strings.Contains(strings.ToLower(version), "mariadb") {
		family = "mariadb"
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	db := sqlgen.NewDB(conn, schema(), append(opts, sqlgenotel.WithTracing(tp))...)
	t.Cleanup(func() { db.Close() })
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	return db, rec, ctx, parent, family
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// checkSpan checks a statement's span: its name, parent, kind and the
// database attributes.
func checkSpan(t *testing.T, s sdktrace.ReadOnlySpan, name string, parent trace.SpanContext, system, op, table, sqlPart string) {
	t.Helper()
	if s.Name() != name {
		t.Errorf("span %q, want %q", s.Name(), name)
	}
	if s.Parent().SpanID() != parent.SpanID() || s.SpanContext().TraceID() != parent.TraceID() {
		t.Errorf("span %q: parent %v, want %v", s.Name(), s.Parent().SpanID(), parent.SpanID())
	}
	if s.SpanKind() != trace.SpanKindClient {
		t.Errorf("span %q: kind %v, want client", s.Name(), s.SpanKind())
	}
	a := attrs(s)
	if got := a["db.system.name"].AsString(); got != system {
		t.Errorf("span %q: db.system.name %q, want %q", s.Name(), got, system)
	}
	if got := a["db.operation.name"].AsString(); got != op {
		t.Errorf("span %q: db.operation.name %q, want %q", s.Name(), got, op)
	}
	if got, ok := a["db.collection.name"]; table == "" && ok || table != "" && got.AsString() != table {
		t.Errorf("span %q: db.collection.name %q (set: %v), want %q", s.Name(), got.AsString(), ok, table)
	}
	if got := a["db.query.text"].AsString(); !strings.Contains(got, sqlPart) {
		t.Errorf("span %q: db.query.text %q, want it to hold %q", s.Name(), got, sqlPart)
	}
}

// noValues fails if an attribute or event of a span holds one of values.
func noValues(t *testing.T, spans []sdktrace.ReadOnlySpan, values ...string) {
	t.Helper()
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			for _, v := range values {
				if strings.Contains(kv.Value.Emit(), v) {
					t.Errorf("span %q: attribute %s holds the value %q: %s", s.Name(), kv.Key, v, kv.Value.Emit())
				}
			}
		}
	}
}

// TestTracing: one span per statement, the child of the caller's span,
// with the semantic conventions' attributes; a query's span ends once its
// rows are read; a failed statement's span has an error status.
func TestTracing(t *testing.T) {
	t.Parallel()
	db, rec, ctx, parent, family := setup(t)
	const secret = "value-never-recorded"
	for i := range 3 {
		if _, err := db.InsertRow(ctx, &item{Body: fmt.Sprintf("%s-%d", secret, i)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []*item
	opts := &sqlgen.SelectOptions{Where: "SLEEP(?) = 0", Values: []any{0.05}}
	begun := time.Now()
	if err := db.Query(ctx, &got, sqlgen.Filter{"body": []string{secret + "-0", secret + "-1", secret + "-2"}}, opts); err != nil || len(got) != 3 {
		t.Fatalf("Query: %d rows, %v", len(got), err)
	}
	returned := time.Now()
	// A duplicate key: error 1062.
	_, dupErr := db.InsertRow(ctx, &item{ID: got[0].ID, Body: secret})
	if dupErr == nil {
		t.Fatal("a duplicate key was inserted")
	}
	parent.End()

	spans := rec.Ended()
	if len(spans) != 6 {
		for _, s := range spans {
			t.Logf("span %q %v", s.Name(), s.Attributes())
		}
		t.Fatalf("%d spans ended, want 6 (3 inserts, a query, a failed insert, the parent)", len(spans))
	}
	pc := parent.SpanContext()
	for _, s := range spans[:3] {
		checkSpan(t, s, "INSERT items", pc, "mysql", "INSERT", "items", "INSERT INTO `items` (`body`) VALUES (?)")
		if s.Status().Code != codes.Unset {
			t.Errorf("an insert's status: %v", s.Status())
		}
	}
	q := spans[3]
	checkSpan(t, q, "SELECT items", pc, "mysql", "SELECT", "items", "`body` IN (?,?,?)")
	if n := attrs(q)["db.response.returned_rows"]; n.AsInt64() != 3 {
		t.Errorf("db.response.returned_rows %v, want 3", n.Emit())
	}
	// The span covers the statement until its last row was read (three
	// rows of SLEEP(0.05)), and ended before Query returned.
	if d := q.EndTime().Sub(q.StartTime()); d < 150*time.Millisecond {
		t.Errorf("the query's span lasted %v, less than its three SLEEP(0.05) rows", d)
	}
	if q.StartTime().Before(begun) || q.EndTime().After(returned) {
		t.Errorf("the query's span [%v, %v] is not within the call [%v, %v]", q.StartTime(), q.EndTime(), begun, returned)
	}
	f := spans[4]
	checkSpan(t, f, "INSERT items", pc, "mysql", "INSERT", "items", "INSERT INTO `items` (`id`,`body`) VALUES (?,?)")
	if f.Status().Code != codes.Error || !strings.Contains(f.Status().Description, "Duplicate") {
		t.Errorf("the failed insert's status: %+v", f.Status())
	}
	if a := attrs(f); a["db.response.status_code"].AsString() != "1062" || a["error.type"].AsString() != "1062" {
		t.Errorf("the failed insert's attributes: %v", f.Attributes())
	}
	if ev := f.Events(); len(ev) != 1 || ev[0].Name != "exception" {
		t.Errorf("the failed insert's events: %+v", ev)
	}
	noValues(t, spans, secret)

	// Once the DB knows its server (a JSON filter, read replicas or
	// WithServerVersion), MariaDB is named.
	if family == "mariadb" {
		db2, rec2, ctx2, _, _ := setup(t, sqlgen.WithServerVersion("10.11.6-MariaDB"))
		if _, err := sqlgen.Select[item](ctx2, db2, nil, nil); err != nil {
			t.Fatal(err)
		}
		if s := rec2.Ended(); len(s) != 1 || attrs(s[0])["db.system.name"].AsString() != "mariadb" {
			t.Errorf("with WithServerVersion of MariaDB: %d spans, %v", len(s), s)
		}
	}
}

// TestTracingTransactions: BEGIN, the statements and COMMIT or ROLLBACK,
// each a span of its own, children of the caller's span, in order.
func TestTracingTransactions(t *testing.T) {
	t.Parallel()
	db, rec, ctx, parent, _ := setup(t)
	pc := parent.SpanContext()
	errRollback := errors.New("roll back")
	if err := db.Transact(ctx, func(ctx context.Context) error {
		_, err := db.InsertRow(ctx, &item{Body: "a"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Transact(ctx, func(ctx context.Context) error {
		if _, err := db.InsertRow(ctx, &item{Body: "b"}); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if err := db.InsertRows(ctx, []*item{{Body: "c"}, {Body: "d"}, {Body: "e"}}, 2); err != nil {
		t.Fatal(err)
	}
	var names []string
	var prev sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		a := attrs(s)
		if a["db.operation.name"].AsString() == "SELECT" && strings.Contains(a["db.query.text"].AsString(), "CONNECTION_ID()") {
			continue // read once per connection, for server-side cancellation
		}
		names = append(names, s.Name())
		if s.Parent().SpanID() != pc.SpanID() {
			t.Errorf("span %q: parent %v, want the caller's %v", s.Name(), s.Parent().SpanID(), pc.SpanID())
		}
		if prev != nil && s.StartTime().Before(prev.EndTime()) {
			t.Errorf("span %q starts before %q ended", s.Name(), prev.Name())
		}
		prev = s
	}
	want := []string{
		"BEGIN", "INSERT items", "COMMIT",
		"BEGIN", "INSERT items", "ROLLBACK",
		"BEGIN items", "SELECT items", "INSERT items", "INSERT items", "COMMIT items",
	}
	if strings.Join(names, ", ") != strings.Join(want, ", ") {
		t.Errorf("spans:\n%s\nwant:\n%s", strings.Join(names, ", "), strings.Join(want, ", "))
	}
	for _, s := range rec.Ended() {
		a := attrs(s)
		switch s.Name() {
		case "BEGIN", "COMMIT", "ROLLBACK":
			if a["db.query.text"].AsString() != s.Name() || a["db.operation.name"].AsString() != s.Name() {
				t.Errorf("span %q: %v", s.Name(), s.Attributes())
			}
		}
	}
}

// TestTracingStmtCache: the prepare of a cached statement is a span of
// its own, the child of the statement's span; concurrent calls are traced
// each under its own parent.
func TestTracingStmtCache(t *testing.T) {
	t.Parallel()
	db, rec, ctx, parent, _ := setup(t, sqlgen.WithStmtCache(8))
	if _, err := db.InsertRow(ctx, &item{Body: "a"}); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	if len(spans) != 2 || spans[0].Name() != "PREPARE items" || spans[1].Name() != "INSERT items" {
		t.Fatalf("spans %v, want PREPARE items inside INSERT items", spans)
	}
	if spans[0].Parent().SpanID() != spans[1].SpanContext().SpanID() || spans[1].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("PREPARE's parent %v, INSERT's %v: want INSERT (%v) and the caller's (%v)",
			spans[0].Parent().SpanID(), spans[1].Parent().SpanID(), spans[1].SpanContext().SpanID(), parent.SpanContext().SpanID())
	}
	if a := attrs(spans[0]); a["db.operation.name"].AsString() != "PREPARE" || !strings.HasPrefix(a["db.query.text"].AsString(), "INSERT INTO `items`") {
		t.Errorf("PREPARE's attributes: %v", spans[0].Attributes())
	}

	// Concurrently, each call under a parent of its own.
	const n = 8
	var wg sync.WaitGroup
	parents := make([]trace.SpanContext, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, p := trace.SpanFromContext(ctx).TracerProvider().Tracer("test").Start(ctx, fmt.Sprintf("call %d", i))
			defer p.End()
			parents[i] = p.SpanContext()
			if _, err := sqlgen.Get[item](c, db, sqlgen.Filter{"body": "a"}, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	byParent := map[trace.SpanID]int{}
	for _, s := range rec.Ended()[2:] {
		if s.Name() == "SELECT items" {
			byParent[s.Parent().SpanID()]++
		}
	}
	for i, p := range parents {
		if byParent[p.SpanID()] != 1 {
			t.Errorf("call %d: %d SELECT spans under it, want 1", i, byParent[p.SpanID()])
		}
	}
}

// TestTracingTwoProviders: two tracing hooks on one DB each end their own
// span (the context After gets holds both).
func TestTracingTwoProviders(t *testing.T) {
	t.Parallel()
	rec2 := tracetest.NewSpanRecorder()
	tp2 := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec2))
	db, rec, ctx, parent, _ := setup(t, sqlgenotel.WithTracing(tp2))
	if _, err := db.InsertRow(ctx, &item{Body: "a"}); err != nil {
		t.Fatal(err)
	}
	parent.End() // of the first provider
	for i, r := range []*tracetest.SpanRecorder{rec, rec2} {
		ended, started := r.Ended(), r.Started()
		if len(started) != len(ended) || len(ended) == 0 || ended[0].Name() != "INSERT items" {
			t.Errorf("provider %d: %d spans started, %d ended: %v", i+1, len(started), len(ended), ended)
		}
	}
}
