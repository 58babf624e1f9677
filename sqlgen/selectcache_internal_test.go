package sqlgen

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

type hintRow struct {
	ID   int64 `sql:",primary"`
	A, B string
	C    int32
	Doc  map[string]int `sql:",json"`
}

// TestFastShapes checks which shapes become fast shapes (plain equality only,
// from the second read of a shape on, at most maxFastShapes) and that a read
// through a hint gets the same text and arguments as the general path.
func TestFastShapes(t *testing.T) {
	s := NewSchema()
	s.MustRegisterType("hints", UniqueID, hintRow{})
	tb, err := s.tableByName("hints")
	if err != nil {
		t.Fatal(err)
	}
	noJSON := jsonEquals
	read := func(f Filter, limit int) (string, []any) {
		t.Helper()
		var buf [maxShapeColumns + 1]any
		q, args, ok, err := tb.cachedSelect(buf[:0], false, f, limit, noJSON)
		if !ok || err != nil {
			t.Fatalf("%v: ok %v, err %v", f, ok, err)
		}
		return q, append([]any(nil), args...)
	}
	hints := func() int {
		n := 0
		for i := range tb.fastShapes {
			if tb.fastShapes[i].Load() != nil {
				n++
			}
		}
		return n
	}
	// Never hints: a NULL, a JSON column.
	for _, f := range []Filter{{"a": nil}, {"doc": map[string]int{"k": 1}}, {"id": 1, "b": nil}} {
		read(f, 0)
		read(f, 0)
	}
	if n := hints(); n != 0 {
		t.Fatalf("%d hints after reads with NULL and JSON conditions", n)
	}
	filters := []Filter{{"id": 1}, {"a": "x"}, {"a": "x", "b": "y"}, {"c": 3, "a": "x"}, {"id": 2, "c": int32(4)}, {"b": "y"}, {"c": 5}, {"id": 3, "a": "x", "b": "y", "c": 6}, {"a": "x", "b": "y", "c": 7}, {"id": 4, "b": "y"}}
	want := make([]string, len(filters))
	for i, f := range filters {
		q, args := read(f, 2) // builds the text
		want[i] = fmt.Sprint(q, args)
	}
	if n := hints(); n != 0 {
		t.Fatalf("%d hints after one read of each shape, want 0", n)
	}
	for round := 0; round < 2; round++ {
		for i, f := range filters {
			q, args := read(f, 2)
			if got := fmt.Sprint(q, args); got != want[i] {
				t.Errorf("round %d, %v: %s, want %s", round, f, got, want[i])
			}
		}
		if n := hints(); n != maxFastShapes {
			t.Fatalf("%d hints after reading %d plain-equality shapes twice, want %d", n, len(filters), maxFastShapes)
		}
	}
	// A hint's columns with other values, NULL or a list fall back.
	for _, f := range []Filter{{"id": nil}, {"a": []string{"x", "y"}}, {"a": "x", "b": nil}, {"c": int64(1) << 40}} {
		var buf [maxShapeColumns + 1]any
		if _, _, hit := tb.fastShapeRead(buf[:0], f, false, 2); hit {
			t.Errorf("%v went through a hint", f)
		}
	}
	var buf [maxShapeColumns + 1]any
	if q, args, hit := tb.fastShapeRead(buf[:0], Filter{"id": 99}, false, 2); !hit || len(args) != 1 || args[0] != int64(99) || q != "SELECT `id`,`a`,`b`,`c`,`doc` FROM `hints` WHERE `id`=? LIMIT 2" {
		t.Errorf("read by id through its hint: %q %v %v", q, args, hit)
	}
	if _, _, hit := tb.fastShapeRead(buf[:0], Filter{"id": 99}, false, 0); hit {
		t.Error("a read without LIMIT went through the LIMIT 2 hint")
	}
}

// TestTrivialOptionsKnowsEveryOption fails when SelectOptions gains a
// field: trivialOptions (plan.go) must then learn whether the field
// changes the SQL text, or reads with it would get the cached text of
// reads without it (and batchable whether a merged read could keep to it).
func TestTrivialOptionsKnowsEveryOption(t *testing.T) {
	known := map[string]bool{"Where": true, "Values": true, "OrderBy": true, "Order": true, "Limit": true,
		"ForUpdate": true, "UseIndex": true, "ForceIndex": true, "AllowNoIndex": true,
		"Offset": true, "Columns": true, "After": true}
	typ := reflect.TypeFor[SelectOptions]()
	for i := 0; i < typ.NumField(); i++ {
		if !known[typ.Field(i).Name] {
			t.Errorf("SelectOptions.%s is new: teach trivialOptions and batchable about it", typ.Field(i).Name)
		}
	}
	for _, c := range []struct {
		opts     *SelectOptions
		rowLimit int
		want     int
		plain    bool
	}{
		{nil, 0, 0, true},
		{nil, 2, 2, true},
		{&SelectOptions{Limit: 100}, 0, 100, true},
		{&SelectOptions{Limit: 1}, 2, 1, true},
		{&SelectOptions{Limit: 10}, 2, 2, true},
		{&SelectOptions{AllowNoIndex: true}, 0, 0, true},
		{&SelectOptions{Limit: 5, Where: "1=1"}, 0, 0, false},
		{&SelectOptions{Values: []any{1}}, 0, 0, false},
		{&SelectOptions{OrderBy: "id"}, 0, 0, false},
		{&SelectOptions{Order: []Order{Asc("id")}}, 0, 0, false},
		{&SelectOptions{ForUpdate: true}, 0, 0, false},
		{&SelectOptions{UseIndex: []string{"i"}}, 0, 0, false},
		{&SelectOptions{ForceIndex: []string{"i"}}, 0, 0, false},
		{&SelectOptions{Offset: 3}, 0, 0, false},
		{&SelectOptions{Columns: []string{"id"}}, 0, 0, false},
		{&SelectOptions{After: []any{}}, 0, 0, false},
		{&SelectOptions{Columns: []string{}}, 0, 0, true},
	} {
		got, plain := effectiveLimit(c.opts, c.rowLimit), trivialOptions(c.opts)
		if plain != c.plain || (plain && got != c.want) {
			t.Errorf("effectiveLimit, trivialOptions(%+v, %d) = %d, %v; want %d, %v", c.opts, c.rowLimit, got, plain, c.want, c.plain)
		}
	}
}

// TestRecentTypes: the first four types looked up are remembered, the
// others still found through the registry, with no allocation once
// the slots are full.
func TestRecentTypes(t *testing.T) {
	type r1 struct {
		ID int64 `sql:",primary"`
	}
	type r2 r1
	type r3 r1
	type r4 r1
	type r5 r1
	type r6 r1
	s := NewSchema()
	types := []any{r1{}, r2{}, r3{}, r4{}, r5{}, r6{}}
	for i, v := range types {
		s.MustRegisterType(fmt.Sprint("t", i), UniqueID, v)
	}
	for round := 0; round < 2; round++ {
		for i, v := range types {
			tb, err := s.tableByType(reflect.TypeOf(v))
			if err != nil || tb.name != fmt.Sprint("t", i) {
				t.Fatalf("round %d, type %d: %v, %v", round, i, tb, err)
			}
		}
	}
	for i := range s.recent {
		if e := s.recent[i].Load(); e == nil || e.typ != reflect.TypeOf(types[i]) {
			t.Errorf("slot %d holds %v, want the %d-th type looked up", i, e, i)
		}
	}
	if _, err := s.tableByType(reflect.TypeFor[struct{ X int }]()); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("unregistered type: %v", err)
	}
	last := reflect.TypeOf(types[5])
	if n := testing.AllocsPerRun(100, func() { _, _ = s.tableByType(last) }); n != 0 {
		t.Errorf("lookup of a type outside the slots: %v allocations", n)
	}
}
