package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// tstRow has a column of each kind a filter compares differently.
type tstRow struct {
	ID     int64 `sql:",primary"`
	Name   string
	Label  ddlLabel
	Age    int32
	Big    uint64
	Score  float64
	Ratio  float32
	Active bool
	Email  *string
	Nick   string `sql:",implicitnull"`
	Blob   []byte
	When   time.Time
	WhenP  *time.Time
	Doc    map[string]any `sql:",json"`
	Prefs  ddlPrefs       `sql:",json"`
	Tags   []string       `sql:",json"`
	NS     sql.NullString
	Addr   net.IP `sql:",string"`
}

var (
	tstT1 = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	tstT2 = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
)

func tstRows() []*tstRow {
	return []*tstRow{
		{ID: 1, Name: "ann", Label: "admin", Age: 30, Big: math.MaxUint64, Score: 0.1, Ratio: 1.5, Active: true,
			Email: ddlPtr("ann@x"), Nick: "annie", Blob: []byte{1, 2}, When: tstT1, WhenP: &tstT1,
			Doc: map[string]any{"a": 1, "b": []any{"x", map[string]any{"c": true}}}, Prefs: ddlPrefs{Theme: "dark", Sizes: []int{1, 2}},
			Tags: []string{"a", "b"}, NS: sql.NullString{String: "ns1", Valid: true}, Addr: net.ParseIP("10.0.0.1").To4()},
		{ID: 2, Name: "bob", Label: "user", Age: 40, Big: 1, Score: 2.5, Ratio: 0.25, Active: false,
			Email: nil, Nick: "", Blob: nil, When: tstT2, WhenP: nil,
			Doc: map[string]any{"a": 2}, Prefs: ddlPrefs{Theme: "light"}, Tags: nil, NS: sql.NullString{},
			Addr: net.ParseIP("2001:db8::1")},
		{ID: 3, Name: "cid", Label: "user", Age: 30, Big: 0, Score: -1, Ratio: 1.5, Active: true,
			Email: ddlPtr("cid@x"), Nick: "c", Blob: []byte{}, When: tstT1, WhenP: &tstT2,
			Doc: nil, Prefs: ddlPrefs{Theme: "dark", Sizes: []int{1, 2}}, Tags: []string{}, NS: sql.NullString{String: "", Valid: true},
			Addr: net.ParseIP("10.0.0.2").To4()},
		{ID: 4, Name: "dee", Label: "guest", Age: -5, Big: 1 << 63, Score: 0, Ratio: 1.1, Active: false,
			Email: ddlPtr(""), Nick: "", Blob: []byte{0}, When: tstT2, WhenP: &tstT1,
			Doc: map[string]any{"a": 1.0, "b": []any{"x", map[string]any{"c": true}}}, Prefs: ddlPrefs{}, Tags: []string{"b"},
			NS: sql.NullString{String: "ns1", Valid: true}, Addr: net.ParseIP("10.0.0.1").To4()},
	}
}

func tstSchema(t testing.TB) *sqlgen.Schema {
	t.Helper()
	s := sqlgen.NewSchema()
	if err := s.RegisterType("tst_rows", sqlgen.UniqueID, tstRow{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// tstFilters are the filters both the Tester and the server evaluate, with
// the ids of tstRows they select.
var tstFilters = []struct {
	name   string
	filter sqlgen.Filter
	want   []int64
}{
	{"no conditions", nil, []int64{1, 2, 3, 4}},
	{"empty filter", sqlgen.Filter{}, []int64{1, 2, 3, 4}},
	{"int64 key", sqlgen.Filter{"id": int64(3)}, []int64{3}},
	{"int key", sqlgen.Filter{"id": 3}, []int64{3}},
	{"int8 into int32", sqlgen.Filter{"age": int8(30)}, []int64{1, 3}},
	{"uint into int32", sqlgen.Filter{"age": uint16(40)}, []int64{2}},
	{"negative", sqlgen.Filter{"age": -5}, []int64{4}},
	{"pointer to value", sqlgen.Filter{"age": ddlPtr(int32(40))}, []int64{2}},
	{"nil pointer is NULL", sqlgen.Filter{"email": (*string)(nil)}, []int64{2}},
	{"max uint64", sqlgen.Filter{"big": uint64(math.MaxUint64)}, []int64{1}},
	{"uint64 high bit", sqlgen.Filter{"big": uint64(1 << 63)}, []int64{4}},
	{"uint64 from int", sqlgen.Filter{"big": 1}, []int64{2}},
	{"float", sqlgen.Filter{"score": 0.1}, []int64{1}},
	{"int into float", sqlgen.Filter{"score": -1}, []int64{3}},
	{"float zero", sqlgen.Filter{"score": 0.0}, []int64{4}},
	{"float32", sqlgen.Filter{"ratio": 1.5}, []int64{1, 3}},
	{"float32 from float32", sqlgen.Filter{"ratio": float32(0.25)}, []int64{2}},
	{"float IN", sqlgen.Filter{"ratio": []float64{1.1, 0.25}}, []int64{2, 4}},
	{"float64 into float32, inexact", sqlgen.Filter{"ratio": 1.1}, []int64{4}},
	{"float32, inexact", sqlgen.Filter{"ratio": float32(1.1)}, []int64{4}},
	{"bool true", sqlgen.Filter{"active": true}, []int64{1, 3}},
	{"bool false", sqlgen.Filter{"active": false}, []int64{2, 4}},
	{"bool IN", sqlgen.Filter{"active": []bool{true, false}}, []int64{1, 2, 3, 4}},
	{"string", sqlgen.Filter{"name": "bob"}, []int64{2}},
	{"string IN", sqlgen.Filter{"name": []string{"ann", "dee", "zed"}}, []int64{1, 4}},
	{"named string type", sqlgen.Filter{"label": ddlLabel("user")}, []int64{2, 3}},
	{"plain string on a named type", sqlgen.Filter{"label": "guest"}, []int64{4}},
	{"named IN", sqlgen.Filter{"label": []ddlLabel{"admin", "guest"}}, []int64{1, 4}},
	{"pointer column value", sqlgen.Filter{"email": "cid@x"}, []int64{3}},
	{"pointer column empty string", sqlgen.Filter{"email": ""}, []int64{4}},
	{"IS NULL", sqlgen.Filter{"email": nil}, []int64{2}},
	{"IN with NULL", sqlgen.Filter{"email": []any{"ann@x", nil}}, []int64{1, 2}},
	{"IN with only NULL", sqlgen.Filter{"email": []*string{nil}}, []int64{2}},
	{"empty IN", sqlgen.Filter{"email": []string{}}, nil},
	{"empty IN on a NOT NULL column", sqlgen.Filter{"age": []int{}}, nil},
	{"implicitnull zero is NULL", sqlgen.Filter{"nick": ""}, []int64{2, 4}},
	{"implicitnull nil", sqlgen.Filter{"nick": nil}, []int64{2, 4}},
	{"implicitnull value", sqlgen.Filter{"nick": "annie"}, []int64{1}},
	{"implicitnull IN with zero", sqlgen.Filter{"nick": []string{"c", ""}}, []int64{2, 3, 4}},
	{"bytes equality", sqlgen.Filter{"blob": []byte{1, 2}}, []int64{1}},
	{"bytes empty", sqlgen.Filter{"blob": []byte{}}, []int64{3}},
	{"bytes NULL", sqlgen.Filter{"blob": nil}, []int64{2}},
	{"bytes IN", sqlgen.Filter{"blob": [][]byte{{0}, {1, 2}}}, []int64{1, 4}},
	{"bytes from string", sqlgen.Filter{"blob": "\x00"}, []int64{4}},
	{"time", sqlgen.Filter{"when": tstT1}, []int64{1, 3}},
	{"time pointer column", sqlgen.Filter{"when_p": tstT2}, []int64{3}},
	{"time pointer NULL", sqlgen.Filter{"when_p": nil}, []int64{2}},
	{"time IN", sqlgen.Filter{"when_p": []time.Time{tstT1, tstT2}}, []int64{1, 3, 4}},
	{"JSON object, other key order", sqlgen.Filter{"doc": map[string]any{"b": []any{"x", map[string]any{"c": true}}, "a": 1}}, []int64{1, 4}},
	{"JSON object", sqlgen.Filter{"doc": map[string]any{"a": 2}}, []int64{2}},
	{"JSON object, no match", sqlgen.Filter{"doc": map[string]any{"a": 2, "z": 1}}, nil},
	{"JSON NULL", sqlgen.Filter{"doc": nil}, []int64{3}},
	{"JSON struct", sqlgen.Filter{"prefs": ddlPrefs{Theme: "dark", Sizes: []int{1, 2}}}, []int64{1, 3}},
	{"JSON zero struct", sqlgen.Filter{"prefs": ddlPrefs{}}, []int64{4}},
	{"JSON slice is one value", sqlgen.Filter{"tags": []string{"a", "b"}}, []int64{1}},
	{"JSON empty slice is one value", sqlgen.Filter{"tags": []string{}}, []int64{3}},
	{"JSON nil slice is NULL", sqlgen.Filter{"tags": []string(nil)}, []int64{2}},
	{"Scanner type", sqlgen.Filter{"ns": sql.NullString{String: "ns1", Valid: true}}, []int64{1, 4}},
	{"Scanner type, empty", sqlgen.Filter{"ns": sql.NullString{String: "", Valid: true}}, []int64{3}},
	{"Scanner type, NULL", sqlgen.Filter{"ns": sql.NullString{}}, []int64{2}},
	{"text encoding", sqlgen.Filter{"addr": net.ParseIP("10.0.0.1")}, []int64{1, 4}},
	{"text encoding IN", sqlgen.Filter{"addr": []net.IP{net.ParseIP("10.0.0.2"), net.ParseIP("2001:db8::1")}}, []int64{2, 3}},
	{"ANDed", sqlgen.Filter{"age": 30, "active": true, "label": "user"}, []int64{3}},
	{"ANDed with NULL", sqlgen.Filter{"email": nil, "age": 40}, []int64{2}},
	{"ANDed, no match", sqlgen.Filter{"age": 30, "name": "bob"}, nil},
}

func tstIDs(ts sqlgen.Tester, rows []*tstRow) []int64 {
	var ids []int64
	for _, r := range rows {
		if ts.Test(r) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func TestTester(t *testing.T) {
	t.Parallel()
	s := tstSchema(t)
	rows := tstRows()
	for _, tc := range tstFilters {
		ts, err := s.MakeTester("tst_rows", tc.filter)
		if err != nil {
			t.Errorf("%s: MakeTester: %v", tc.name, err)
			continue
		}
		if got := tstIDs(ts, rows); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v matches %v, want %v", tc.name, tc.filter, got, tc.want)
		}
		// A T matches as its *T does.
		for _, r := range rows {
			if ts.Test(*r) != ts.Test(r) {
				t.Errorf("%s: row %d: Test(T) != Test(*T)", tc.name, r.ID)
			}
		}
	}
}

func TestTesterRowTypes(t *testing.T) {
	t.Parallel()
	s := tstSchema(t)
	ts, err := s.MakeTester("tst_rows", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []any{nil, (*tstRow)(nil), &ddlEvery{}, ddlEvery{}, 5, "x", &[]tstRow{}} {
		if ts.Test(row) {
			t.Errorf("Test(%T) = true, want false", row)
		}
	}
	if !ts.Test(&tstRow{}) || !ts.Test(tstRow{}) {
		t.Error("Test of a zero row with no conditions = false")
	}
}

func TestTesterStringsCompareExactly(t *testing.T) {
	t.Parallel()
	s := tstSchema(t)
	ts, err := s.MakeTester("tst_rows", sqlgen.Filter{"name": "ann"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Ann", "ANN", "ann ", "ánn"} {
		if ts.Test(&tstRow{Name: name}) {
			t.Errorf("%q matches \"ann\"; the Tester compares strings exactly", name)
		}
	}
}

func TestMakeTesterErrors(t *testing.T) {
	t.Parallel()
	s := tstSchema(t)
	tests := []struct {
		name   string
		filter sqlgen.Filter
		is     error
		column string
	}{
		{"unknown column", sqlgen.Filter{"nope": 1}, sqlgen.ErrUnknownColumn, "nope"},
		{"string for an int", sqlgen.Filter{"age": "thirty"}, sqlgen.ErrConvert, "age"},
		{"overflow", sqlgen.Filter{"age": int64(1) << 40}, sqlgen.ErrConvert, "age"},
		{"negative for a uint", sqlgen.Filter{"big": -1}, sqlgen.ErrConvert, "big"},
		{"bad list element", sqlgen.Filter{"age": []any{1, "x"}}, sqlgen.ErrConvert, "age"},
		{"JSON text for a map", sqlgen.Filter{"doc": `{"a":1}`}, sqlgen.ErrConvert, "doc"},
		{"IN on a JSON column", sqlgen.Filter{"doc": []map[string]any{{"a": 1}}}, sqlgen.ErrInvalidArgument, "doc"},
		{"IN on a JSON slice column", sqlgen.Filter{"tags": [][]string{{"a"}}}, sqlgen.ErrInvalidArgument, "tags"},
		{"int for a time", sqlgen.Filter{"when": 5}, sqlgen.ErrConvert, "when"},
	}
	for _, tc := range tests {
		ts, err := s.MakeTester("tst_rows", tc.filter)
		if !errors.Is(err, tc.is) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.is)
			continue
		}
		if ts != nil {
			t.Errorf("%s: a Tester with the error", tc.name)
		}
		if want := fmt.Sprintf("%q", tc.column); !strings.Contains(err.Error(), `"tst_rows"`) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v does not name the table and column %s", tc.name, err, want)
		}
	}
	if _, err := s.MakeTester("nope", nil); !errors.Is(err, sqlgen.ErrNotRegistered) {
		t.Errorf("unregistered table: got %v", err)
	}
	// A JSON list of only NULLs is IS NULL, as in a query.
	if _, err := s.MakeTester("tst_rows", sqlgen.Filter{"doc": []any{nil}}); err != nil {
		t.Errorf("JSON list of NULL: %v", err)
	}
}

// TestTesterConcurrent: one Tester is used from many goroutines.
func TestTesterConcurrent(t *testing.T) {
	t.Parallel()
	s := tstSchema(t)
	ts, err := s.MakeTester("tst_rows", sqlgen.Filter{"doc": map[string]any{"a": 2}, "email": []any{nil, "x"}})
	if err != nil {
		t.Fatal(err)
	}
	rows := tstRows()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if got := tstIDs(ts, rows); !slices.Equal(got, []int64{2}) {
					t.Errorf("got %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestTesterAgreesWithServer: for every filter, the Tester selects the
// rows the server returns for the same filter, both from the structs
// written and from the structs read back.
func TestTesterAgreesWithServer(t *testing.T) {
	t.Parallel()
	s := tstSchema(t)
	ddl, err := s.CreateTableSQL("tst_rows")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		name string
		opts []sqlgentest.Option
	}{
		{"prepared", nil},
		{"interpolate", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true", "parseTime", "true")}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, []string{ddl}, v.opts...)
			db := sqlgen.NewDB(conn, s)
			ctx := context.Background()
			written := tstRows()
			for _, r := range written {
				if _, err := db.InsertRow(ctx, r); err != nil {
					t.Fatalf("InsertRow(%d): %v", r.ID, err)
				}
			}
			var read []*tstRow
			if err := db.Query(ctx, &read, nil, &sqlgen.SelectOptions{OrderBy: "`id`"}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range tstFilters {
				var got []*tstRow
				if err := db.Query(ctx, &got, tc.filter, &sqlgen.SelectOptions{OrderBy: "`id`"}); err != nil {
					t.Errorf("%s: Query: %v", tc.name, err)
					continue
				}
				var server []int64
				for _, r := range got {
					server = append(server, r.ID)
				}
				ts, err := s.MakeTester("tst_rows", tc.filter)
				if err != nil {
					t.Errorf("%s: MakeTester: %v", tc.name, err)
					continue
				}
				if mem := tstIDs(ts, written); !slices.Equal(mem, server) {
					t.Errorf("%s: %v: the server returns %v, the Tester selects %v of the rows written", tc.name, tc.filter, server, mem)
				}
				if mem := tstIDs(ts, read); !slices.Equal(mem, server) {
					t.Errorf("%s: %v: the server returns %v, the Tester selects %v of the rows read", tc.name, tc.filter, server, mem)
				}
				if !slices.Equal(server, tc.want) {
					t.Errorf("%s: the server returns %v, the test expects %v", tc.name, server, tc.want)
				}
			}

			// The documented difference: the default collation ignores case.
			var got []*tstRow
			if err := db.Query(ctx, &got, sqlgen.Filter{"name": "ANN"}, nil); err != nil {
				t.Fatal(err)
			}
			ts, _ := s.MakeTester("tst_rows", sqlgen.Filter{"name": "ANN"})
			if mem := tstIDs(ts, read); mem != nil {
				t.Errorf("the Tester matches %v for \"ANN\", want none", mem)
			}
			t.Logf("name = \"ANN\": the server returns %d row(s) under the table's default collation, the Tester none", len(got))
		})
	}
}

// BenchmarkTester measures Test on a filter of plain columns and on one
// with a JSON column.
func BenchmarkTester(b *testing.B) {
	s := tstSchema(b)
	row := tstRows()[0]
	for _, bc := range []struct {
		name   string
		filter sqlgen.Filter
	}{
		{"plain", sqlgen.Filter{"age": 30, "name": []string{"ann", "bob"}, "email": []any{nil, "ann@x"}, "big": uint64(math.MaxUint64)}},
		{"json", sqlgen.Filter{"doc": map[string]any{"a": 1, "b": []any{"x", map[string]any{"c": true}}}}},
	} {
		ts, err := s.MakeTester("tst_rows", bc.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !ts.Test(row) {
					b.Fatal("no match")
				}
			}
		})
	}
}
