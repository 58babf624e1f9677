package fields_test

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/internal/rowscan"
)

// These tests pin the allocations of the per-row and per-value paths. A
// change in a figure is a change in the cost of every row read or value
// written: update the figure only with a reason.

func allocs(t *testing.T, f func()) float64 {
	t.Helper()
	if testing.Short() {
		t.Skip("allocation counts need a warm run; skipped in -short mode")
	}
	f() // warm up: first-use allocations (type caches and so on) do not count
	return testing.AllocsPerRun(1000, f)
}

func pinAllocs(t *testing.T, what string, got, want float64, why string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %v allocations per run, want %v (%s)", what, got, want, why)
	}
}

// scanAllocs measures Scan of src into a fresh field of type T (the field
// itself is allocated outside the measured function).
func scanAllocs[T any](t *testing.T, tag string, src any) float64 {
	t.Helper()
	d := descFor[T](t, tag)
	s := d.Scanner()
	field := reflect.New(reflect.TypeFor[T]()).Elem()
	return allocs(t, func() {
		s.Target(field)
		if err := s.Scan(src); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAllocsScan(t *testing.T) {
	pinAllocs(t, "Scan int64 into int64", scanAllocs[int64](t, "", any(int64(1234567))), 0,
		"a type switch and reflect.Value.SetInt: nothing escapes")
	pinAllocs(t, "Scan uint64 into uint64", scanAllocs[uint64](t, "", any(uint64(1<<63))), 0,
		"as for int64")
	pinAllocs(t, "Scan []byte into string", scanAllocs[string](t, "", any([]byte("a string of some length"))), 1,
		"the string copy of the driver's buffer, which must not be kept")
	pinAllocs(t, "Scan []byte into []byte", scanAllocs[[]byte](t, "", any([]byte("some bytes"))), 1,
		"the copy of the driver's buffer")
	pinAllocs(t, "Scan time.Time into time.Time", scanAllocs[time.Time](t, "", any(time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC))), 0,
		"a struct copy through the field's address")
	pinAllocs(t, "Scan []byte DATETIME into time.Time", scanAllocs[time.Time](t, "", any([]byte("2024-02-03 04:05:06.123456"))), 0,
		"parseDateTime reads the digits in place and time.Date with time.UTC does not allocate")
	pinAllocs(t, "Scan nil into *int64", scanAllocs[*int64](t, "", nil), 0,
		"a nil pointer is stored, nothing is allocated")
	pinAllocs(t, "Scan int64 into *int64", scanAllocs[*int64](t, "", any(int64(5))), 1,
		"the new int64 the pointer points at")
}

func TestAllocsValue(t *testing.T) {
	d := descFor[int64](t, "")
	var sink driver.Value
	measure := func(n int64) float64 {
		field := reflect.New(reflect.TypeFor[int64]()).Elem()
		field.SetInt(n)
		return allocs(t, func() {
			v, err := d.Value(field)
			if err != nil {
				t.Fatal(err)
			}
			sink = v
		})
	}
	pinAllocs(t, "Value of int64 field 7", measure(7), 0,
		"boxing an integer below 256 uses the runtime's static table")
	pinAllocs(t, "Value of int64 field 1234567", measure(1234567), 1,
		"boxing a larger int64 into the driver.Value interface allocates 8 bytes")
	_ = sink
}

func TestAllocsValueOf(t *testing.T) {
	d := descFor[int64](t, "")
	var x any = int64(1234567)
	var got driver.Value
	n := allocs(t, func() {
		var err error
		if got, err = d.ValueOf(x); err != nil {
			t.Fatal(err)
		}
	})
	pinAllocs(t, "ValueOf(int64) on an int64 column", n, 0,
		"the documented fast path returns the caller's own interface value, with no new box")

	ds := descFor[string](t, "")
	var s any = "a filter string"
	n = allocs(t, func() {
		var err error
		if got, err = ds.ValueOf(s); err != nil {
			t.Fatal(err)
		}
	})
	pinAllocs(t, "ValueOf(string) on a string column", n, 0,
		"the documented fast path returns the caller's own interface value, with no new box")
	_ = got
}

func TestAllocsValueJSON(t *testing.T) {
	type settings struct {
		Theme string         `json:"theme"`
		Tags  []string       `json:"tags"`
		Caps  map[string]int `json:"caps"`
	}
	doc := settings{Theme: "dark", Tags: []string{"a", "b"}, Caps: map[string]int{"x": 1, "y": 2}}
	var sink driver.Value
	// What hand-written code does: json.Marshal, then string(doc) as the
	// argument (a copy, and the string boxed into the interface).
	marshal := allocs(t, func() {
		b, err := json.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		sink = string(b)
	})
	d := descFor[settings](t, ",json")
	field := reflect.ValueOf(&doc).Elem()
	value := allocs(t, func() {
		v, err := d.Value(field)
		if err != nil {
			t.Fatal(err)
		}
		sink = v
	})
	_ = sink
	pinAllocs(t, "Value of a JSON column, against json.Marshal + string()", value, marshal-1,
		"the document json.Marshal returns becomes the driver's string without a copy")
	int32Col := descFor[int32](t, "")
	var x any = 1234567 // an int filter value on an INT column
	n := allocs(t, func() {
		v, err := int32Col.ValueOf(x)
		if err != nil {
			t.Fatal(err)
		}
		sink = v
	})
	pinAllocs(t, "ValueOf(int) on an int32 column", n, 1,
		"the int64 box of the converted value; no reflect.New of an int32")
}

// TestDirectValue checks which fields are their own driver.Value, and
// that Value of such a field of a struct copy (not addressable) points
// into the copy: the right value, no allocation, and NaN, nil []byte
// and implicitnull keep their meaning.
func TestDirectValue(t *testing.T) {
	type named string
	for _, c := range []struct {
		typ  reflect.Type
		tag  string
		want bool
	}{
		{reflect.TypeFor[string](), "", true},
		{reflect.TypeFor[int64](), "", true},
		{reflect.TypeFor[float64](), "", true},
		{reflect.TypeFor[[]byte](), "", true},
		{reflect.TypeFor[time.Time](), "", false}, // sent as UTC text, see TestAllocsValueTime
		{reflect.TypeFor[string](), ",implicitnull", true},
		{reflect.TypeFor[*string](), "", false},
		{reflect.TypeFor[named](), "", false},
		{reflect.TypeFor[int32](), "", false},
		{reflect.TypeFor[bool](), "", false},
		{reflect.TypeFor[[]string](), ",json", false},
		{reflect.TypeFor[string](), ",json", false},
	} {
		d := newDesc(t, c.typ, c.tag)
		if got := rowscan.DirectValue(d); got != c.want {
			t.Errorf("%v %q: DirectValue %v, want %v", c.typ, c.tag, got, c.want)
		}
	}

	type row struct {
		S  string
		N  int64
		F  float64
		B  []byte
		Z  string `sql:",implicitnull"`
		NB []byte
	}
	src := row{S: "text", N: 1 << 40, F: 2.5, B: []byte("xy")}
	cp := reflect.ValueOf(any(src)) // a copy in an interface: not addressable
	want := []driver.Value{"text", int64(1 << 40), 2.5, []byte("xy"), nil, nil}
	tags := []string{"", "", "", "", ",implicitnull", ""}
	var sink driver.Value
	for i := range want {
		d := newDesc(t, cp.Field(i).Type(), tags[i])
		got, err := d.Value(cp.Field(i))
		if err != nil || !reflect.DeepEqual(got, want[i]) {
			t.Errorf("field %d: %#v, %v; want %#v", i, got, err, want[i])
		}
		n := allocs(t, func() {
			sink, _ = d.Value(cp.Field(i))
		})
		pinAllocs(t, "Value of a non-addressable "+cp.Field(i).Type().String(), n, 0, "an interface pointing into the copy")
	}
	_ = sink
	d := descFor[float64](t, "")
	if _, err := d.Value(reflect.ValueOf(any(struct{ F float64 }{math.NaN()})).Field(0)); !errors.Is(err, fields.ErrConvert) {
		t.Errorf("NaN in a struct copy: %v, want ErrConvert", err)
	}
}

// A time.Time is sent as the text of its UTC wall clock (see
// fields.TimeValue): one allocation holds the text and the string header
// the driver.Value points at. (Before the text, a time.Time was boxed:
// also one allocation, or none when it pointed into a struct copy.)
func TestAllocsValueTime(t *testing.T) {
	d := descFor[time.Time](t, "")
	when := time.Date(2024, 2, 3, 4, 5, 6, 7000, time.FixedZone("X", 3600))
	var sink driver.Value
	for _, v := range []reflect.Value{reflect.ValueOf(&when).Elem(), reflect.ValueOf(any(struct{ T time.Time }{when})).Field(0)} {
		got, err := d.Value(v)
		if err != nil || got != "2024-02-03 03:05:06.000007" {
			t.Fatalf("Value = %#v, %v", got, err)
		}
		pinAllocs(t, "Value of a time.Time", allocs(t, func() { sink, _ = d.Value(v) }), 1,
			"the UTC text and its string header, in one allocation")
	}
	_ = sink
}
