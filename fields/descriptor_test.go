package fields_test

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
)

// Test types.

type (
	myBool   bool
	myInt    int16
	myUint   uint32
	myFloat  float32
	myString string
	myBytes  []byte
)

type doc struct {
	A int      `json:"a"`
	B string   `json:"b,omitempty"`
	C []string `json:"c,omitempty"`
}

// point implements encoding.BinaryMarshaler (value receiver) and
// BinaryUnmarshaler (pointer receiver).
type point struct{ X, Y int8 }

func (p point) MarshalBinary() ([]byte, error) { return []byte{byte(p.X), byte(p.Y)}, nil }

func (p *point) UnmarshalBinary(b []byte) error {
	if len(b) == 0 { // the zero value's encoding is written as two bytes, but be lenient
		*p = point{}
		return nil
	}
	if len(b) != 2 {
		return fmt.Errorf("point: want 2 bytes, got %d", len(b))
	}
	p.X, p.Y = int8(b[0]), int8(b[1])
	return nil
}

// fakeProto has the Marshal/Unmarshal method pair of protobuf-generated
// types. Unmarshal keeps its input, as generated code may for bytes
// fields, so the test can check that it received its own copy.
type fakeProto struct{ Raw []byte }

func (m *fakeProto) Marshal() ([]byte, error) { return append([]byte("P"), m.Raw...), nil }

func (m *fakeProto) Unmarshal(b []byte) error {
	if len(b) == 0 || b[0] != 'P' {
		return errors.New("fakeProto: missing P prefix")
	}
	m.Raw = b[1:] // aliases b
	return nil
}

// valuerOnly can be written but not read.
type valuerOnly struct{ S string }

func (v valuerOnly) Value() (driver.Value, error) { return v.S, nil }

// scannerOnly can be read but not written.
type scannerOnly struct{ S string }

func (s *scannerOnly) Scan(src any) error { s.S = fmt.Sprint(src); return nil }

// brokenZero is a binary type whose zero value cannot be encoded: the
// registration self-check must catch it.
type brokenZero struct{ N int }

func (b brokenZero) MarshalBinary() ([]byte, error) {
	if b.N == 0 {
		return nil, errors.New("brokenZero: zero value")
	}
	return []byte{byte(b.N)}, nil
}
func (b *brokenZero) UnmarshalBinary([]byte) error { return nil }

// stamp is a named time.Time.
type stamp time.Time

// Helpers.

const (
	tblName   = "tbl"
	colName   = "col"
	fieldName = "Row.Field"
)

func newDesc(t testing.TB, typ reflect.Type, tag string) *fields.Descriptor {
	t.Helper()
	tg, err := fields.ParseTag(tag)
	if err != nil {
		t.Fatalf("ParseTag(%q): %v", tag, err)
	}
	d, err := fields.NewDescriptor(typ, fields.Options{Table: tblName, Column: colName, Field: fieldName, Tag: tg})
	if err != nil {
		t.Fatalf("NewDescriptor(%v, %q): %v", typ, tag, err)
	}
	return d
}

func descFor[T any](t testing.TB, tag string) *fields.Descriptor {
	t.Helper()
	return newDesc(t, reflect.TypeFor[T](), tag)
}

// checkErr checks that err is a *fields.Error for the test column, with op
// and wrapping sentinel (when not nil).
func checkErr(t *testing.T, err error, op string, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %v", sentinel)
	}
	var fe *fields.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %q (%T) is not a *fields.Error", err, err)
	}
	if fe.Table != tblName || fe.Column != colName || fe.Field != fieldName || fe.Type == nil || fe.Op != op {
		t.Errorf("error %q: got Op=%q Table=%q Column=%q Field=%q Type=%v; want Op=%q Table=%q Column=%q Field=%q and a type",
			err, fe.Op, fe.Table, fe.Column, fe.Field, fe.Type, op, tblName, colName, fieldName)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %v", err, sentinel)
	}
	msg := err.Error()
	for _, part := range []string{tblName + "." + colName, fieldName, fe.Type.String()} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not mention %q", msg, part)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestNewDescriptorSupported registers every supported kind of field and
// checks what the descriptor reports about it.
func TestNewDescriptorSupported(t *testing.T) {
	tests := []struct {
		typ      reflect.Type
		tag      string
		conv     string
		nullable bool
	}{
		{reflect.TypeFor[bool](), "", "bool", false},
		{reflect.TypeFor[int](), "", "int", false},
		{reflect.TypeFor[int8](), "", "int", false},
		{reflect.TypeFor[int16](), "", "int", false},
		{reflect.TypeFor[int32](), "", "int", false},
		{reflect.TypeFor[int64](), "", "int", false},
		{reflect.TypeFor[uint](), "", "uint", false},
		{reflect.TypeFor[uint8](), "", "uint", false},
		{reflect.TypeFor[uint16](), "", "uint", false},
		{reflect.TypeFor[uint32](), "", "uint", false},
		{reflect.TypeFor[uint64](), "", "uint", false},
		{reflect.TypeFor[float32](), "", "float", false},
		{reflect.TypeFor[float64](), "", "float", false},
		{reflect.TypeFor[string](), "", "string", false},
		{reflect.TypeFor[[]byte](), "", "bytes", true},
		{reflect.TypeFor[time.Time](), "", "time", false},
		{reflect.TypeFor[myBool](), "", "bool", false},
		{reflect.TypeFor[myInt](), "", "int", false},
		{reflect.TypeFor[myUint](), "", "uint", false},
		{reflect.TypeFor[myFloat](), "", "float", false},
		{reflect.TypeFor[myString](), "", "string", false},
		{reflect.TypeFor[myBytes](), "", "bytes", true},
		{reflect.TypeFor[json.RawMessage](), "", "bytes", true}, // a []byte without the json option
		{reflect.TypeFor[*bool](), "", "bool", true},
		{reflect.TypeFor[*int8](), "", "int", true},
		{reflect.TypeFor[*int64](), "", "int", true},
		{reflect.TypeFor[*uint64](), "", "uint", true},
		{reflect.TypeFor[*float64](), "", "float", true},
		{reflect.TypeFor[*string](), "", "string", true},
		{reflect.TypeFor[*[]byte](), "", "bytes", true},
		{reflect.TypeFor[*time.Time](), "", "time", true},
		{reflect.TypeFor[*myString](), "", "string", true},
		{reflect.TypeFor[*myInt](), "", "int", true},
		{reflect.TypeFor[sql.NullString](), "", "sql", true},
		{reflect.TypeFor[sql.Null[int64]](), "", "sql", true},
		{reflect.TypeFor[sql.NullTime](), "", "sql", true},
		{reflect.TypeFor[*sql.NullString](), "", "sql", true},
		{reflect.TypeFor[doc](), ",json", "json", false},
		{reflect.TypeFor[*doc](), ",json", "json", true},
		{reflect.TypeFor[map[string]int](), ",json", "json", true},
		{reflect.TypeFor[[]string](), ",json", "json", true},
		{reflect.TypeFor[json.RawMessage](), ",json", "json", true},
		{reflect.TypeFor[any](), ",json", "json", true},
		{reflect.TypeFor[int](), ",json", "json", false},
		{reflect.TypeFor[[3]int](), ",json", "json", false},
		{reflect.TypeFor[point](), ",binary", "binary", false},
		{reflect.TypeFor[*point](), ",binary", "binary", true},
		{reflect.TypeFor[fakeProto](), ",binary", "proto", false},
		{reflect.TypeFor[*fakeProto](), ",binary", "proto", true},
		{reflect.TypeFor[[16]byte](), ",binary", "bytearray", false},
		{reflect.TypeFor[[]byte](), ",binary", "bytes", true},
		{reflect.TypeFor[[]byte](), ",string", "bytes", true},
		{reflect.TypeFor[net.IP](), ",string", "text", false},
		{reflect.TypeFor[netip.Addr](), ",string", "text", false},
		{reflect.TypeFor[*netip.Addr](), ",string", "text", true},
		{reflect.TypeFor[int64](), ",implicitnull", "int", true},
		{reflect.TypeFor[string](), ",implicitnull", "string", true},
		{reflect.TypeFor[time.Time](), ",implicitnull", "time", true},
		{reflect.TypeFor[doc](), ",json,implicitnull", "json", true},
	}
	for _, tc := range tests {
		t.Run(tc.typ.String()+tc.tag, func(t *testing.T) {
			d := newDesc(t, tc.typ, tc.tag)
			wantType, wantPtr := tc.typ, false
			if tc.typ.Kind() == reflect.Pointer {
				wantType, wantPtr = tc.typ.Elem(), true
			}
			if d.Type() != wantType || d.Kind() != wantType.Kind() || d.Ptr() != wantPtr || d.FieldType() != tc.typ {
				t.Errorf("Type=%v Kind=%v Ptr=%v FieldType=%v, want %v %v %v %v", d.Type(), d.Kind(), d.Ptr(), d.FieldType(), wantType, wantType.Kind(), wantPtr, tc.typ)
			}
			if d.Table() != tblName || d.Column() != colName || d.Field() != fieldName {
				t.Errorf("Table/Column/Field = %q/%q/%q", d.Table(), d.Column(), d.Field())
			}
			if got := d.Conversion().String(); got != tc.conv {
				t.Errorf("Conversion() = %q, want %q", got, tc.conv)
			}
			if got := d.Nullable(); got != tc.nullable {
				t.Errorf("Nullable() = %v, want %v", got, tc.nullable)
			}
			if got := d.IsJSON(); got != (tc.conv == "json") {
				t.Errorf("IsJSON() = %v", got)
			}
		})
	}
}

// The package documentation lists "named types of all of these" among the
// supported types, time.Time included.
func TestNewDescriptorNamedTime(t *testing.T) {
	tg := fields.Tag{}
	d, err := fields.NewDescriptor(reflect.TypeFor[stamp](), fields.Options{Table: tblName, Column: colName, Field: fieldName, Tag: tg})
	if err != nil {
		t.Fatalf("NewDescriptor(stamp), a named time.Time: %v", err)
	}
	want := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	var s stamp
	sc := d.Scanner()
	sc.Target(reflect.ValueOf(&s).Elem())
	if err := sc.Scan(want); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if !time.Time(s).Equal(want) {
		t.Errorf("Scan = %v, want %v", time.Time(s), want)
	}
	v, err := d.Value(reflect.ValueOf(s))
	if err != nil || !cmp.Equal(v, driver.Value("2024-02-03 04:05:06")) {
		t.Errorf("Value = %#v, %v; want %v as UTC text", v, err, want)
	}
}

func TestNewDescriptorRefused(t *testing.T) {
	tests := []struct {
		typ      reflect.Type
		tag      string
		sentinel error
		mention  string // besides the field and the type
	}{
		{reflect.TypeFor[chan int](), "", fields.ErrUnsupportedType, "chan"},
		{reflect.TypeFor[func()](), "", fields.ErrUnsupportedType, "func"},
		{reflect.TypeFor[complex128](), "", fields.ErrUnsupportedType, "complex128"},
		{reflect.TypeFor[complex64](), ",json", fields.ErrUnsupportedType, "JSON"},
		{reflect.TypeFor[chan int](), ",json", fields.ErrUnsupportedType, "JSON"},
		{reflect.TypeFor[[4]byte](), "", fields.ErrUnsupportedType, "array"},
		{reflect.TypeFor[map[string]int](), "", fields.ErrUnsupportedType, "json"},
		{reflect.TypeFor[doc](), "", fields.ErrUnsupportedType, "json"},
		{reflect.TypeFor[*doc](), "", fields.ErrUnsupportedType, "json"},
		{reflect.TypeFor[[]string](), "", fields.ErrUnsupportedType, "json"},
		{reflect.TypeFor[any](), "", fields.ErrUnsupportedType, "interface"},
		{reflect.TypeFor[**int](), "", fields.ErrUnsupportedType, "pointer to pointer"},
		{reflect.TypeFor[**doc](), ",json", fields.ErrUnsupportedType, "pointer to pointer"},
		{reflect.TypeFor[*int64](), ",implicitnull", fields.ErrBadTag, "implicitnull"},
		{reflect.TypeFor[*string](), "x,implicitnull", fields.ErrBadTag, "implicitnull"},
		{reflect.TypeFor[valuerOnly](), "", fields.ErrUnsupportedType, "sql.Scanner"},
		{reflect.TypeFor[scannerOnly](), "", fields.ErrUnsupportedType, "driver.Valuer"},
		{reflect.TypeFor[int64](), ",binary", fields.ErrUnsupportedType, "binary"},
		{reflect.TypeFor[doc](), ",binary", fields.ErrUnsupportedType, "binary"},
		{reflect.TypeFor[string](), ",string", fields.ErrUnsupportedType, "TextMarshaler"},
		{reflect.TypeFor[point](), ",string", fields.ErrUnsupportedType, "TextMarshaler"},
		{reflect.TypeFor[brokenZero](), ",binary", nil, "zero value"},
	}
	for _, tc := range tests {
		t.Run(tc.typ.String()+tc.tag, func(t *testing.T) {
			tg, err := fields.ParseTag(tc.tag)
			if err != nil {
				t.Fatal(err)
			}
			d, err := fields.NewDescriptor(tc.typ, fields.Options{Table: tblName, Column: colName, Field: fieldName, Tag: tg})
			if d != nil {
				t.Errorf("NewDescriptor returned a descriptor with its error")
			}
			checkErr(t, err, "register", tc.sentinel)
			if err == nil {
				return
			}
			var fe *fields.Error
			errors.As(err, &fe)
			if fe.Type != tc.typ {
				t.Errorf("Error.Type = %v, want the field's type %v", fe.Type, tc.typ)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

// A nil Codec means encoding/json; a custom codec is used for both ways.
type upperCodec struct{ calls *int }

func (c upperCodec) Marshal(v any) ([]byte, error) {
	*c.calls++
	b, err := json.Marshal(v)
	return []byte(strings.ToUpper(string(b))), err
}
func (c upperCodec) Unmarshal(b []byte, v any) error {
	*c.calls++
	return json.Unmarshal([]byte(strings.ToLower(string(b))), v)
}

func TestCustomCodec(t *testing.T) {
	calls := 0
	d, err := fields.NewDescriptor(reflect.TypeFor[map[string]string](), fields.Options{Tag: fields.Tag{Encoding: fields.EncodingJSON}, Codec: upperCodec{&calls}})
	if err != nil {
		t.Fatal(err)
	}
	calls = 0
	v, err := d.Value(reflect.ValueOf(map[string]string{"k": "v"}))
	if err != nil || v != `{"K":"V"}` {
		t.Errorf("Value = %#v, %v; want the custom codec's output", v, err)
	}
	var m map[string]string
	s := d.Scanner()
	s.Target(reflect.ValueOf(&m).Elem())
	if err := s.Scan([]byte(`{"A":"B"}`)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"a": "b"}, m); diff != "" {
		t.Errorf("scan mismatch (-want +got):\n%s", diff)
	}
	if calls != 2 {
		t.Errorf("codec called %d times, want 2", calls)
	}
}

// valueCase is one Descriptor.Value example: field is a value of the field
// type.
type valueCase struct {
	name  string
	tag   string
	field any
	want  driver.Value
}

func TestValue(t *testing.T) {
	when := time.Date(2024, 2, 3, 4, 5, 6, 7000, time.UTC)
	tests := []valueCase{
		{"bool", "", true, true},
		{"named bool", "", myBool(true), true},
		{"int", "", int(-7), int64(-7)},
		{"int8", "", int8(-128), int64(-128)},
		{"int16", "", int16(300), int64(300)},
		{"int32", "", int32(math.MinInt32), int64(math.MinInt32)},
		{"int64", "", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"named int", "", myInt(9), int64(9)},
		{"uint", "", uint(7), int64(7)},
		{"uint8", "", uint8(255), int64(255)},
		{"uint16", "", uint16(65535), int64(65535)},
		{"uint32", "", uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"uint64 max int64", "", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"uint64 above max int64", "", uint64(math.MaxInt64 + 1), uint64(math.MaxInt64 + 1)},
		{"uint64 max", "", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"named uint", "", myUint(3), int64(3)},
		{"float32", "", float32(1.5), float64(1.5)},
		{"float64", "", 2.25, 2.25},
		{"named float", "", myFloat(0.5), float64(0.5)},
		{"string", "", "héllo", "héllo"},
		{"empty string", "", "", ""},
		{"named string", "", myString("x"), "x"},
		{"bytes", "", []byte{0, 1, 2}, []byte{0, 1, 2}},
		{"empty bytes", "", []byte{}, []byte{}},
		{"nil bytes", "", []byte(nil), nil},
		{"named bytes", "", myBytes("ab"), []byte("ab")},
		{"time", "", when, "2024-02-03 04:05:06.000007"},
		{"time nanoseconds truncated", "", when.Add(999), "2024-02-03 04:05:06.000007"},
		{"time in another zone", "", when.In(time.FixedZone("X", -5*3600)), "2024-02-03 04:05:06.000007"},
		{"time whole seconds", "", when.Truncate(time.Second), "2024-02-03 04:05:06"},
		{"zero time", "", time.Time{}, "0000-00-00"},
		{"NullTime", "", sql.NullTime{Time: when.In(time.FixedZone("Y", 3600)), Valid: true}, "2024-02-03 04:05:06.000007"},
		{"NullTime null", "", sql.NullTime{}, nil},
		{"Null[time.Time]", "", sql.Null[time.Time]{V: when, Valid: true}, "2024-02-03 04:05:06.000007"},
		{"byte array", ",binary", [4]byte{1, 2, 3, 4}, []byte{1, 2, 3, 4}},
		{"binary bytes", ",binary", []byte{5, 6}, []byte{5, 6}},
		{"string bytes", ",string", []byte("txt"), []byte("txt")},
		{"nil *int64", "", (*int64)(nil), nil},
		{"*int64", "", ptrTo(int64(5)), int64(5)},
		{"*uint64 high", "", ptrTo(uint64(math.MaxUint64)), uint64(math.MaxUint64)},
		{"*string", "", ptrTo("s"), "s"},
		{"*named string", "", ptrTo(myString("n")), "n"},
		{"nil *time", "", (*time.Time)(nil), nil},
		{"*time", "", &when, "2024-02-03 04:05:06.000007"},
		{"nil *[]byte", "", (*[]byte)(nil), nil},
		{"NullString null", "", sql.NullString{}, nil},
		{"NullString", "", sql.NullString{String: "x", Valid: true}, "x"},
		{"nil *NullString", "", (*sql.NullString)(nil), nil},
		{"Null[int64] null", "", sql.Null[int64]{}, nil},
		{"Null[int64]", "", sql.Null[int64]{V: 42, Valid: true}, int64(42)},
		{"json struct", ",json", doc{A: 1, B: "x"}, `{"a":1,"b":"x"}`},
		{"json zero struct", ",json", doc{}, `{"a":0}`},
		{"json *struct", ",json", &doc{A: 2}, `{"a":2}`},
		{"json nil *struct", ",json", (*doc)(nil), nil},
		{"json map", ",json", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{"json nil map", ",json", map[string]int(nil), nil},
		{"json empty map", ",json", map[string]int{}, "{}"},
		{"json slice", ",json", []string{"x", "y"}, `["x","y"]`},
		{"json nil slice", ",json", []string(nil), nil},
		{"json empty slice", ",json", []string{}, "[]"},
		{"json raw", ",json", json.RawMessage(`{"k": [1, 2]}`), `{"k": [1, 2]}`}, // byte for byte
		{"json raw html", ",json", json.RawMessage(`["&","<b>"]`), `["&","<b>"]`},
		{"json raw null text", ",json", json.RawMessage(`null`), `null`},
		{"json html", ",json", doc{B: "a&b<c>"}, `{"a":0,"b":"a&b<c>"}`}, // a column is not HTML
		{"json nil raw", ",json", json.RawMessage(nil), nil},
		{"json int", ",json", 5, "5"},
		{"binary", ",binary", point{X: 1, Y: -1}, []byte{1, 0xff}},
		{"binary ptr", ",binary", &point{X: 2, Y: 3}, []byte{2, 3}},
		{"binary nil ptr", ",binary", (*point)(nil), nil},
		{"proto", ",binary", fakeProto{Raw: []byte("ab")}, []byte("Pab")},
		{"proto ptr", ",binary", &fakeProto{Raw: []byte("c")}, []byte("Pc")},
		{"net.IP", ",string", net.IPv4(10, 0, 0, 1), "10.0.0.1"},
		{"netip.Addr", ",string", netip.MustParseAddr("2001:db8::1"), "2001:db8::1"},
		{"*netip.Addr nil", ",string", (*netip.Addr)(nil), nil},
		{"implicitnull zero int", ",implicitnull", int64(0), nil},
		{"implicitnull int", ",implicitnull", int64(3), int64(3)},
		{"implicitnull zero string", ",implicitnull", "", nil},
		{"implicitnull string", ",implicitnull", "s", "s"},
		{"implicitnull zero time", ",implicitnull", time.Time{}, nil},
		{"implicitnull time", ",implicitnull", when, "2024-02-03 04:05:06.000007"},
		{"json *map to nil map", ",json", ptrTo(map[string]int(nil)), nil},
		{"json nested raw escape", ",json", struct{ R json.RawMessage }{json.RawMessage(`"\ufffd"`)}, `{"R":"\ufffd"}`},
		{"json nested raw escape in []any", ",json", []any{json.RawMessage(`{"k":"\ufffd"}`)}, `[{"k":"\ufffd"}]`},
		{"implicitnull zero json", ",json,implicitnull", doc{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := reflect.TypeOf(tc.field)
			d := newDesc(t, typ, tc.tag)
			// A non-addressable value, an addressable one and the Valuer
			// proxy must all agree.
			addr := reflect.New(typ).Elem()
			addr.Set(reflect.ValueOf(tc.field))
			for _, f := range []func() (driver.Value, error){
				func() (driver.Value, error) { return d.Value(reflect.ValueOf(tc.field)) },
				func() (driver.Value, error) { return d.Value(addr) },
				func() (driver.Value, error) { return d.Valuer(addr).Value() },
			} {
				got, err := f()
				if err != nil {
					t.Fatalf("Value: %v", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Value mismatch (-want +got):\n%s", diff)
				}
				if got != nil && !driver.IsValue(got) {
					if _, ok := got.(uint64); !ok {
						t.Errorf("Value returned a %T, not a plain driver.Value", got)
					}
				}
			}
		})
	}
}

func TestValueErrors(t *testing.T) {
	// A JSON encoding failure and a failing Valuer are *fields.Errors that
	// keep the cause.
	d := descFor[any](t, ",json")
	var v any = func() {}
	_, err := d.Value(reflect.ValueOf(&v).Elem())
	checkErr(t, err, "value", nil)
	var ute *json.UnsupportedTypeError
	if !errors.As(err, &ute) {
		t.Errorf("error %q does not keep the *json.UnsupportedTypeError", err)
	}

	// Invalid UTF-8 in a string (or a map key) would be replaced with
	// U+FFFD by the encoder: refused, naming the column. A real U+FFFD, and
	// a backslash followed by the letters "ufffd", are data and go through.
	dm := descFor[map[string]string](t, ",json")
	for _, bad := range []map[string]string{{"k": "a\xffb"}, {"k\x80": "v"}, {"k": `\\` + "\xc3"}} {
		_, err = dm.Value(reflect.ValueOf(bad))
		checkErr(t, err, "value", fields.ErrConvert)
	}
	for _, good := range []map[string]string{{"k": "a\uFFFDb"}, {"k": `\ufffd`}, {"k": `\\ufffd`}} {
		got, err := dm.Value(reflect.ValueOf(good))
		if err != nil {
			t.Errorf("%q: %v", good["k"], err)
			continue
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(got.(string)), &back); err != nil || back["k"] != good["k"] {
			t.Errorf("%q: wrote %s, reads back %q (%v)", good["k"], got, back["k"], err)
		}
	}
	draw := descFor[json.RawMessage](t, ",json")
	if got, err := draw.Value(reflect.ValueOf(json.RawMessage(`"\ufffd"`))); err != nil || got != `"\ufffd"` {
		t.Errorf("RawMessage with a \\ufffd escape: %v, %v", got, err)
	}
	// A RawMessage is stored as it is, so it must already be what a JSON
	// column holds: one JSON value, in UTF-8.
	for _, bad := range []string{"\"a\xffb\"", `{"k":`, `1 2`, ` `, `{"a":1}x`} {
		_, err = draw.Value(reflect.ValueOf(json.RawMessage(bad)))
		checkErr(t, err, "value", fields.ErrConvert)
	}

	d = descFor[failingValuer](t, "")
	_, err = d.Value(reflect.ValueOf(failingValuer{fail: true}))
	checkErr(t, err, "value", errValuer)

	d = descFor[netip.Addr](t, ",string")
	_, err = d.Value(reflect.ValueOf(netip.Addr{}))
	if err != nil {
		t.Errorf("zero netip.Addr: %v", err)
	}
}

var errValuer = errors.New("valuer failed")

type failingValuer struct{ fail bool }

func (f failingValuer) Value() (driver.Value, error) {
	if f.fail {
		return nil, errValuer
	}
	return nil, nil
}
func (f *failingValuer) Scan(any) error { return nil }

// scanCase is one Scan example: a field of type typ (a reflect.Type of
// the field), optionally set to init first, receives src.
type scanCase struct {
	name    string
	typ     reflect.Type
	tag     string
	init    any // initial field value; nil means the zero value
	src     any
	want    any   // the field afterwards, when wantErr is nil
	wantErr error // a sentinel, or errAny for "some *fields.Error"
}

var errAny = errors.New("any error")

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func scanCases() []scanCase {
	when := time.Date(2024, 2, 3, 4, 5, 6, 123456000, time.UTC)
	day := time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)
	i64, u64, i8, u8, u32 := typeOf[int64](), typeOf[uint64](), typeOf[int8](), typeOf[uint8](), typeOf[uint32]()
	f32, f64, str, bl, byt, tm := typeOf[float32](), typeOf[float64](), typeOf[string](), typeOf[bool](), typeOf[[]byte](), typeOf[time.Time]()
	return []scanCase{
		// Signed integers.
		{"int64<-int64", i64, "", nil, int64(-42), int64(-42), nil},
		{"int64<-uint64", i64, "", nil, uint64(42), int64(42), nil},
		{"int64<-uint64 max int64", i64, "", nil, uint64(math.MaxInt64), int64(math.MaxInt64), nil},
		{"int64<-uint64 overflow", i64, "", nil, uint64(math.MaxInt64 + 1), nil, fields.ErrConvert},
		{"int64<-[]byte", i64, "", nil, []byte("-9223372036854775808"), int64(math.MinInt64), nil},
		{"int64<-[]byte overflow", i64, "", nil, []byte("9223372036854775808"), nil, fields.ErrConvert},
		{"int64<-[]byte garbage", i64, "", nil, []byte("12x"), nil, fields.ErrConvert},
		{"int64<-[]byte decimal", i64, "", nil, []byte("1.0"), nil, fields.ErrConvert},
		{"int64<-string", i64, "", nil, "17", int64(17), nil},
		{"int64<-bool", i64, "", nil, true, int64(1), nil},
		{"int64<-float64", i64, "", nil, 1.5, nil, fields.ErrConvert},
		{"int64<-time", i64, "", nil, when, nil, fields.ErrConvert},
		{"int64<-nil", i64, "", nil, nil, nil, fields.ErrUnexpectedNull},
		{"int8<-int64 300", i8, "", nil, int64(300), nil, fields.ErrConvert},
		{"int8<-int64 -129", i8, "", nil, int64(-129), nil, fields.ErrConvert},
		{"int8<-int64 -128", i8, "", nil, int64(-128), int8(-128), nil},
		{"int8<-[]byte 127", i8, "", nil, []byte("127"), int8(127), nil},
		{"int8<-[]byte 128", i8, "", nil, []byte("128"), nil, fields.ErrConvert},
		{"int8<-uint64 200", i8, "", nil, uint64(200), nil, fields.ErrConvert},
		{"named int<-int64", typeOf[myInt](), "", nil, int64(-3), myInt(-3), nil},
		{"named int<-int64 overflow", typeOf[myInt](), "", nil, int64(40000), nil, fields.ErrConvert},
		// Unsigned integers.
		{"uint8<-int64 -1", u8, "", nil, int64(-1), nil, fields.ErrConvert},
		{"uint8<-int64 255", u8, "", nil, int64(255), uint8(255), nil},
		{"uint8<-int64 256", u8, "", nil, int64(256), nil, fields.ErrConvert},
		{"uint8<-uint64 255", u8, "", nil, uint64(255), uint8(255), nil},
		{"uint32<-string overflow", u32, "", nil, "4294967296", nil, fields.ErrConvert},
		{"uint64<-uint64 max", u64, "", nil, uint64(math.MaxUint64), uint64(math.MaxUint64), nil},
		{"uint64<-int64 negative", u64, "", nil, int64(-1), nil, fields.ErrConvert},
		{"uint64<-int64 min", u64, "", nil, int64(math.MinInt64), nil, fields.ErrConvert},
		{"uint64<-[]byte max", u64, "", nil, []byte("18446744073709551615"), uint64(math.MaxUint64), nil},
		{"uint64<-[]byte negative", u64, "", nil, []byte("-1"), nil, fields.ErrConvert},
		{"uint64<-bool", u64, "", nil, false, uint64(0), nil},
		{"uint64<-float64", u64, "", nil, 2.0, nil, fields.ErrConvert},
		{"uint64<-nil", u64, "", nil, nil, nil, fields.ErrUnexpectedNull},
		// Floats.
		{"float64<-float64", f64, "", nil, 2.5, 2.5, nil},
		{"float64<-int64", f64, "", nil, int64(-3), -3.0, nil},
		{"float64<-uint64", f64, "", nil, uint64(1 << 60), float64(1 << 60), nil},
		{"float64<-[]byte", f64, "", nil, []byte("1e3"), 1000.0, nil},
		{"float64<-string", f64, "", nil, "0.25", 0.25, nil},
		{"float64<-[]byte garbage", f64, "", nil, []byte("one"), nil, fields.ErrConvert},
		{"float64<-time", f64, "", nil, when, nil, fields.ErrConvert},
		{"float64<-bool", f64, "", nil, true, nil, fields.ErrConvert},
		{"float32<-float64", f32, "", nil, 1.5, float32(1.5), nil},
		{"float32<-float64 overflow", f32, "", nil, 1e300, nil, fields.ErrConvert},
		{"float32<-float64 inf", f32, "", nil, math.Inf(-1), nil, fields.ErrConvert}, // no column holds infinity
		{"float32<-[]byte", f32, "", nil, []byte("-0.5"), float32(-0.5), nil},
		{"named float<-int64", typeOf[myFloat](), "", nil, int64(2), myFloat(2), nil},
		// Strings.
		{"string<-[]byte", str, "", nil, []byte("héllo"), "héllo", nil},
		{"string<-string", str, "", nil, "s", "s", nil},
		{"string<-int64", str, "", nil, int64(-12), "-12", nil},
		{"string<-uint64", str, "", nil, uint64(math.MaxUint64), "18446744073709551615", nil},
		{"string<-float64", str, "", nil, 1.5, "1.5", nil},
		{"string<-bool", str, "", nil, true, "true", nil},
		{"string<-time", str, "", nil, when, "2024-02-03T04:05:06.123456Z", nil},
		{"string<-nil", str, "", nil, nil, nil, fields.ErrUnexpectedNull},
		{"named string<-[]byte", typeOf[myString](), "", nil, []byte("n"), myString("n"), nil},
		// Booleans.
		{"bool<-bool", bl, "", nil, true, true, nil},
		{"bool<-int64 0", bl, "", true, int64(0), false, nil},
		{"bool<-int64 2", bl, "", nil, int64(2), true, nil},
		{"bool<-uint64 1", bl, "", nil, uint64(1), true, nil},
		{"bool<-[]byte 1", bl, "", nil, []byte("1"), true, nil},
		{"bool<-[]byte false", bl, "", true, []byte("false"), false, nil},
		{"bool<-string true", bl, "", nil, "true", true, nil},
		{"bool<-[]byte yes", bl, "", nil, []byte("yes"), nil, fields.ErrConvert},
		{"bool<-float64", bl, "", nil, 1.0, nil, fields.ErrConvert},
		{"bool<-nil", bl, "", nil, nil, nil, fields.ErrUnexpectedNull},
		// Bytes.
		{"[]byte<-[]byte", byt, "", nil, []byte{0, 1}, []byte{0, 1}, nil},
		{"[]byte<-empty []byte", byt, "", nil, []byte{}, []byte{}, nil},
		{"[]byte<-string", byt, "", nil, "ab", []byte("ab"), nil},
		{"[]byte<-nil", byt, "", []byte("old"), nil, []byte(nil), nil},
		{"[]byte<-int64", byt, "", nil, int64(1), nil, fields.ErrConvert},
		{"named bytes<-[]byte", typeOf[myBytes](), "", nil, []byte("x"), myBytes("x"), nil},
		// Times.
		{"time<-time", tm, "", nil, when, when, nil},
		{"time<-time in the driver's loc", tm, "", nil, time.Date(2024, 2, 3, 4, 5, 6, 123456000, time.FixedZone("X", 5*3600+1800)), when, nil},
		{"time<-zero time", tm, "", when, time.Time{}, time.Time{}, nil},
		{"NullTime<-time in the driver's loc", typeOf[sql.NullTime](), "", nil, time.Date(2024, 2, 3, 4, 5, 6, 123456000, time.FixedZone("X", -4*3600)), sql.NullTime{Time: when, Valid: true}, nil},
		{"NullTime<-[]byte", typeOf[sql.NullTime](), "", nil, []byte("2024-02-03 04:05:06.123456"), sql.NullTime{Time: when, Valid: true}, nil},
		{"byte array<-[]byte", typeOf[[3]byte](), ",binary", nil, []byte{1, 2, 3}, [3]byte{1, 2, 3}, nil},
		{"byte array<-short []byte", typeOf[[3]byte](), ",binary", nil, []byte{1, 2}, nil, fields.ErrConvert},
		{"byte array<-nil", typeOf[[3]byte](), ",binary", nil, nil, nil, fields.ErrUnexpectedNull},
		{"*byte array<-nil", typeOf[*[3]byte](), ",binary", &[3]byte{1}, nil, (*[3]byte)(nil), nil},
		{"binary []byte<-[]byte", byt, ",binary", nil, []byte{9}, []byte{9}, nil},
		{"string []byte<-[]byte", byt, ",string", nil, []byte("t"), []byte("t"), nil},
		{"time<-[]byte micro", tm, "", nil, []byte("2024-02-03 04:05:06.123456"), when, nil},
		{"time<-[]byte nano", tm, "", nil, []byte("2024-02-03 04:05:06.123456789"), time.Date(2024, 2, 3, 4, 5, 6, 123456789, time.UTC), nil},
		{"time<-[]byte seconds", tm, "", nil, []byte("2024-02-03 04:05:06"), time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC), nil},
		{"time<-[]byte T", tm, "", nil, []byte("2024-02-03T04:05:06.1"), time.Date(2024, 2, 3, 4, 5, 6, 100000000, time.UTC), nil},
		{"time<-[]byte date", tm, "", nil, []byte("2024-02-03"), day, nil},
		{"time<-string", tm, "", nil, "2024-02-03", day, nil},
		{"time<-[]byte zero datetime", tm, "", when, []byte("0000-00-00 00:00:00"), time.Time{}, nil},
		{"time<-[]byte zero date", tm, "", when, []byte("0000-00-00"), time.Time{}, nil},
		{"time<-[]byte zero micro", tm, "", when, []byte("0000-00-00 00:00:00.000000"), time.Time{}, nil},
		{"time<-[]byte garbage", tm, "", nil, []byte("garbage"), nil, fields.ErrConvert},
		{"time<-[]byte empty", tm, "", nil, []byte(""), nil, fields.ErrConvert},
		{"time<-[]byte month 13", tm, "", nil, []byte("2024-13-01"), nil, fields.ErrConvert},
		{"time<-[]byte hour 24", tm, "", nil, []byte("2024-02-03 24:00:00"), nil, fields.ErrConvert},
		{"time<-[]byte letters", tm, "", nil, []byte("2024-0a-03"), nil, fields.ErrConvert},
		{"time<-[]byte bare dot", tm, "", nil, []byte("2024-02-03 04:05:06."), nil, fields.ErrConvert},
		{"time<-[]byte 10 digits", tm, "", nil, []byte("2024-02-03 04:05:06.1234567890"), nil, fields.ErrConvert},
		{"time<-[]byte slash", tm, "", nil, []byte("2024/02/03"), nil, fields.ErrConvert},
		{"time<-[]byte sign", tm, "", nil, []byte("+024-02-03"), nil, fields.ErrConvert},
		{"time<-int64", tm, "", nil, int64(1), nil, fields.ErrConvert},
		{"time<-nil", tm, "", nil, nil, nil, fields.ErrUnexpectedNull},
		// Pointers.
		{"*int64<-int64", typeOf[*int64](), "", nil, int64(5), ptrTo(int64(5)), nil},
		{"*int64<-nil", typeOf[*int64](), "", ptrTo(int64(1)), nil, (*int64)(nil), nil},
		{"*int64<-[]byte garbage", typeOf[*int64](), "", nil, []byte("x"), nil, fields.ErrConvert},
		{"*int8<-int64 overflow", typeOf[*int8](), "", nil, int64(1000), nil, fields.ErrConvert},
		{"*string<-[]byte", typeOf[*string](), "", nil, []byte("p"), ptrTo("p"), nil},
		{"*string<-nil", typeOf[*string](), "", ptrTo("old"), nil, (*string)(nil), nil},
		{"*time<-[]byte", typeOf[*time.Time](), "", nil, []byte("2024-02-03"), &day, nil},
		{"*time<-nil", typeOf[*time.Time](), "", &when, nil, (*time.Time)(nil), nil},
		{"*[]byte<-nil", typeOf[*[]byte](), "", nil, nil, (*[]byte)(nil), nil},
		{"*bool<-int64", typeOf[*bool](), "", nil, int64(1), ptrTo(true), nil},
		{"*uint64<-uint64", typeOf[*uint64](), "", nil, uint64(math.MaxUint64), ptrTo(uint64(math.MaxUint64)), nil},
		// implicitnull.
		{"implicitnull int64<-nil", i64, ",implicitnull", int64(7), nil, int64(0), nil},
		{"implicitnull int64<-int64", i64, ",implicitnull", nil, int64(7), int64(7), nil},
		{"implicitnull string<-nil", str, ",implicitnull", "old", nil, "", nil},
		{"implicitnull time<-nil", tm, ",implicitnull", when, nil, time.Time{}, nil},
		// Types with their own Scanner.
		{"NullString<-nil", typeOf[sql.NullString](), "", sql.NullString{String: "old", Valid: true}, nil, sql.NullString{}, nil},
		{"NullString<-[]byte", typeOf[sql.NullString](), "", nil, []byte("x"), sql.NullString{String: "x", Valid: true}, nil},
		{"Null[int64]<-int64", typeOf[sql.Null[int64]](), "", nil, int64(5), sql.Null[int64]{V: 5, Valid: true}, nil},
		{"Null[int64]<-nil", typeOf[sql.Null[int64]](), "", sql.Null[int64]{V: 5, Valid: true}, nil, sql.Null[int64]{}, nil},
		{"Null[int64]<-[]byte garbage", typeOf[sql.Null[int64]](), "", nil, []byte("x"), nil, errAny},
		{"*NullString<-nil", typeOf[*sql.NullString](), "", &sql.NullString{Valid: true}, nil, (*sql.NullString)(nil), nil},
		{"*NullString<-string", typeOf[*sql.NullString](), "", nil, "y", &sql.NullString{String: "y", Valid: true}, nil},
		// JSON.
		{"json struct<-[]byte", typeOf[doc](), ",json", nil, []byte(`{"a":1,"c":["x"]}`), doc{A: 1, C: []string{"x"}}, nil},
		{"json struct<-string", typeOf[doc](), ",json", nil, `{"b":"s"}`, doc{B: "s"}, nil},
		{"json struct resets", typeOf[doc](), ",json", doc{A: 9, B: "old"}, []byte(`{"c":[]}`), doc{C: []string{}}, nil},
		{"json struct<-nil", typeOf[doc](), ",json", doc{A: 1}, nil, doc{}, nil},
		{"json struct<-bad", typeOf[doc](), ",json", nil, []byte(`{"a":`), nil, errAny},
		{"json struct<-wrong shape", typeOf[doc](), ",json", nil, []byte(`[1]`), nil, errAny},
		{"json struct<-int64", typeOf[doc](), ",json", nil, int64(1), nil, fields.ErrConvert},
		{"json *struct<-[]byte", typeOf[*doc](), ",json", nil, []byte(`{"a":3}`), &doc{A: 3}, nil},
		{"json *struct<-nil", typeOf[*doc](), ",json", &doc{A: 1}, nil, (*doc)(nil), nil},
		{"json map<-[]byte", typeOf[map[string]int](), ",json", nil, []byte(`{"a":1}`), map[string]int{"a": 1}, nil},
		{"json map no merge", typeOf[map[string]int](), ",json", map[string]int{"old": 1, "a": 5}, []byte(`{"a":2}`), map[string]int{"a": 2}, nil},
		{"json map<-nil", typeOf[map[string]int](), ",json", map[string]int{"old": 1}, nil, map[string]int(nil), nil},
		{"json map<-{}", typeOf[map[string]int](), ",json", map[string]int{"old": 1}, []byte(`{}`), map[string]int{}, nil},
		{"json slice<-[]byte", typeOf[[]int](), ",json", []int{7, 8, 9}, []byte(`[1]`), []int{1}, nil},
		{"json slice<-nil", typeOf[[]int](), ",json", []int{1}, nil, []int(nil), nil},
		{"json slice<-[]", typeOf[[]int](), ",json", nil, []byte(`[]`), []int{}, nil},
		{"json any<-object", typeOf[any](), ",json", nil, []byte(`{"a":[1,"x",null]}`), map[string]any{"a": []any{json.Number("1"), "x", nil}}, nil},
		{"json any<-big integer", typeOf[any](), ",json", nil, []byte(`9007199254740993`), json.Number("9007199254740993"), nil},
		{"json map[string]any<-big integer", typeOf[map[string]any](), ",json", nil, []byte(`{"n":9007199254740993,"f":1.10}`), map[string]any{"n": json.Number("9007199254740993"), "f": json.Number("1.10")}, nil},
		{"json []any<-numbers", typeOf[[]any](), ",json", nil, []byte(`[1e0, -0, 18446744073709551616]`), []any{json.Number("1e0"), json.Number("-0"), json.Number("18446744073709551616")}, nil},
		{"json struct with any<-numbers", typeOf[struct{ X any }](), ",json", nil, []byte(`{"X":12345678901234567890}`), struct{ X any }{json.Number("12345678901234567890")}, nil},
		{"json map[string]int<-number", typeOf[map[string]int](), ",json", nil, []byte(`{"n":7}`), map[string]int{"n": 7}, nil},
		{"json any<-trailing garbage", typeOf[any](), ",json", nil, []byte(`{} x`), nil, errAny},
		{"json any<-raw duplicate keys", typeOf[json.RawMessage](), ",json", nil, []byte(`{"a":1,"a":2}`), json.RawMessage(`{"a":1,"a":2}`), nil},
		{"json any<-nil", typeOf[any](), ",json", "old", nil, nil, nil},
		{"json raw<-[]byte", typeOf[json.RawMessage](), ",json", nil, []byte(` {"k": 1}`), json.RawMessage(` {"k": 1}`), nil},
		{"json raw<-string", typeOf[json.RawMessage](), ",json", json.RawMessage(`1`), `["&",  "\u0026"]`, json.RawMessage(`["&",  "\u0026"]`), nil},
		{"json raw<-invalid", typeOf[json.RawMessage](), ",json", nil, []byte(`{"k":`), nil, fields.ErrConvert},
		{"json raw<-empty", typeOf[json.RawMessage](), ",json", nil, []byte{}, nil, fields.ErrConvert},
		{"json raw<-bad utf8", typeOf[json.RawMessage](), ",json", nil, []byte("\"a\xffb\""), nil, fields.ErrConvert},
		{"json int<-[]byte", typeOf[int](), ",json", nil, []byte(`12`), 12, nil},
		{"json implicitnull<-nil", typeOf[doc](), ",json,implicitnull", doc{A: 1}, nil, doc{}, nil},
		// binary, proto and text.
		{"binary<-[]byte", typeOf[point](), ",binary", nil, []byte{1, 0xfe}, point{1, -2}, nil},
		{"binary<-string", typeOf[point](), ",binary", nil, "\x03\x04", point{3, 4}, nil},
		{"binary<-bad", typeOf[point](), ",binary", nil, []byte{1}, nil, errAny},
		{"binary<-int64", typeOf[point](), ",binary", nil, int64(1), nil, fields.ErrConvert},
		{"binary<-nil", typeOf[point](), ",binary", nil, nil, nil, fields.ErrUnexpectedNull},
		{"*binary<-nil", typeOf[*point](), ",binary", &point{1, 1}, nil, (*point)(nil), nil},
		{"proto<-[]byte", typeOf[fakeProto](), ",binary", nil, []byte("Pxyz"), fakeProto{Raw: []byte("xyz")}, nil},
		{"proto<-bad", typeOf[fakeProto](), ",binary", nil, []byte("xyz"), nil, errAny},
		{"net.IP<-[]byte", typeOf[net.IP](), ",string", nil, []byte("10.1.2.3"), net.IPv4(10, 1, 2, 3), nil},
		{"net.IP<-bad", typeOf[net.IP](), ",string", nil, []byte("10.1.2"), nil, errAny},
		{"netip.Addr<-string", typeOf[netip.Addr](), ",string", nil, "::1", netip.MustParseAddr("::1"), nil},
		{"netip.Addr<-bad", typeOf[netip.Addr](), ",string", nil, []byte("zzz"), nil, errAny},
		{"*netip.Addr<-nil", typeOf[*netip.Addr](), ",string", nil, nil, (*netip.Addr)(nil), nil},
	}
}

func TestScan(t *testing.T) {
	for _, tc := range scanCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesc(t, tc.typ, tc.tag)
			field := reflect.New(tc.typ).Elem()
			if tc.init != nil {
				field.Set(reflect.ValueOf(tc.init))
			}
			s := d.Scanner()
			if s.Descriptor() != d {
				t.Errorf("Scanner().Descriptor() is not its descriptor")
			}
			s.Target(field)
			err := s.Scan(tc.src)
			if tc.wantErr != nil {
				if tc.wantErr == errAny {
					checkErr(t, err, "scan", nil)
				} else {
					checkErr(t, err, "scan", tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Scan(%#v): %v", tc.src, err)
			}
			got := field.Interface()
			want := tc.want
			if want == nil { // a nil interface field
				want = reflect.Zero(tc.typ).Interface()
			}
			opts := cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("Scan(%#v) mismatch (-want +got):\n%s", tc.src, diff)
			}
			// Times read from text are UTC.
			if tt, ok := got.(time.Time); ok && !tt.IsZero() && tt.Location() != time.UTC {
				t.Errorf("Scan(%#v) gave location %v, want UTC", tc.src, tt.Location())
			}
		})
	}
}

// JSON text null read into a JSON column must give the same Go value as
// SQL NULL, as encoding/json does: the package documentation says decoding
// "starts from the zero value", and the zero value of a pointer is nil, so
// a pointer field must not get a pointer to a zero value.
func TestScanJSONNullText(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		init any
	}{
		{typeOf[map[string]int](), map[string]int{"a": 1}},
		{typeOf[[]int](), []int{1}},
		{typeOf[any](), "x"},
		{typeOf[*doc](), &doc{A: 1}},
		{typeOf[*doc](), nil},
		{typeOf[*map[string]int](), nil},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			d := newDesc(t, tc.typ, ",json")
			field := reflect.New(tc.typ).Elem()
			if tc.init != nil {
				field.Set(reflect.ValueOf(tc.init))
			}
			s := d.Scanner()
			s.Target(field)
			if err := s.Scan([]byte("null")); err != nil {
				t.Fatal(err)
			}
			if !field.IsNil() {
				t.Errorf("JSON null read into a %v gave %#v, want nil (as SQL NULL gives)", tc.typ, field.Interface())
			}
		})
	}
}

// A nil []byte and a []byte{} are different values: make sure the table
// above could tell them apart (cmp.Diff does, reflect.DeepEqual too).
func TestScanNilVersusEmptyBytes(t *testing.T) {
	if cmp.Diff([]byte(nil), []byte{}) == "" {
		t.Fatal("cmp.Diff does not tell nil from empty slices; the Scan table is not meaningful")
	}
	d := descFor[[]byte](t, "")
	var b []byte
	s := d.Scanner()
	s.Target(reflect.ValueOf(&b).Elem())
	if err := s.Scan([]byte{}); err != nil {
		t.Fatal(err)
	}
	if b == nil {
		t.Errorf("Scan([]byte{}) gave a nil slice, which would be written back as NULL")
	}
}

// The driver's []byte is only valid until the next row: every field that
// keeps bytes must have its own copy.
func TestScanCopiesBytes(t *testing.T) {
	check := func(t *testing.T, name string, d *fields.Descriptor, field reflect.Value, src []byte, get func() string) {
		t.Helper()
		s := d.Scanner()
		s.Target(field)
		if err := s.Scan(src); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before := get()
		for i := range src {
			src[i] = '#'
		}
		if after := get(); after != before {
			t.Errorf("%s: the field changed from %q to %q when the driver's buffer was overwritten", name, before, after)
		}
	}
	var b []byte
	check(t, "[]byte", descFor[[]byte](t, ""), reflect.ValueOf(&b).Elem(), []byte("bytes"), func() string { return string(b) })
	var pb *[]byte
	check(t, "*[]byte", descFor[*[]byte](t, ""), reflect.ValueOf(&pb).Elem(), []byte("bytes"), func() string { return string(*pb) })
	var mb myBytes
	check(t, "myBytes", descFor[myBytes](t, ""), reflect.ValueOf(&mb).Elem(), []byte("bytes"), func() string { return string(mb) })
	var s string
	check(t, "string", descFor[string](t, ""), reflect.ValueOf(&s).Elem(), []byte("text"), func() string { return s })
	var ns sql.NullString
	check(t, "NullString", descFor[sql.NullString](t, ""), reflect.ValueOf(&ns).Elem(), []byte("text"), func() string { return ns.String })
	var raw json.RawMessage
	check(t, "json raw", descFor[json.RawMessage](t, ",json"), reflect.ValueOf(&raw).Elem(), []byte(`{"a":"b"}`), func() string { return string(raw) })
	var m map[string]string
	check(t, "json map", descFor[map[string]string](t, ",json"), reflect.ValueOf(&m).Elem(), []byte(`{"a":"b"}`), func() string { return fmt.Sprint(m) })
	var p fakeProto
	check(t, "proto", descFor[fakeProto](t, ",binary"), reflect.ValueOf(&p).Elem(), []byte("Pkeep"), func() string { return string(p.Raw) })
	var ip net.IP
	check(t, "net.IP", descFor[net.IP](t, ",string"), reflect.ValueOf(&ip).Elem(), []byte("10.0.0.1"), func() string { return ip.String() })
}

func TestScannerTarget(t *testing.T) {
	d := descFor[int64](t, "")
	s := d.Scanner()
	// No target at all.
	checkErr(t, s.Scan(int64(1)), "scan", nil)

	// Scan forgets its target, so a second Scan without Target fails and
	// does not write to the old field.
	var n int64
	s.Target(reflect.ValueOf(&n).Elem())
	if err := s.Scan(int64(5)); err != nil || n != 5 {
		t.Fatalf("Scan = %v, n = %d", err, n)
	}
	checkErr(t, s.Scan(int64(6)), "scan", nil)
	if n != 5 {
		t.Errorf("a Scan after the first wrote %d into the old target", n)
	}
	// Nor after a failed Scan.
	s.Target(reflect.ValueOf(&n).Elem())
	checkErr(t, s.Scan(nil), "scan", fields.ErrUnexpectedNull)
	checkErr(t, s.Scan(int64(7)), "scan", nil)
	// Reset drops the target.
	s.Target(reflect.ValueOf(&n).Elem())
	s.Reset()
	checkErr(t, s.Scan(int64(8)), "scan", nil)
	if n != 5 {
		t.Errorf("n = %d after Reset and Scan, want 5", n)
	}
}

// Scanners of one descriptor are independent.
func TestScannersIndependent(t *testing.T) {
	d := descFor[string](t, "")
	var a, b string
	s1, s2 := d.Scanner(), d.Scanner()
	if s1 == s2 {
		t.Fatal("Scanner() returned the same scanner twice")
	}
	s1.Target(reflect.ValueOf(&a).Elem())
	s2.Target(reflect.ValueOf(&b).Elem())
	if err := s2.Scan("b"); err != nil {
		t.Fatal(err)
	}
	if err := s1.Scan("a"); err != nil {
		t.Fatal(err)
	}
	if a != "a" || b != "b" {
		t.Errorf("a, b = %q, %q", a, b)
	}
}

func TestErrorMessage(t *testing.T) {
	err := &fields.Error{Op: "scan", Table: "t", Column: "c", Field: "S.F", Type: reflect.TypeFor[int8](), Err: fields.ErrConvert}
	want := "fields: reading into column t.c field S.F (int8): " + fields.ErrConvert.Error()
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	err.Op = "value"
	if got := err.Error(); !strings.HasPrefix(got, "fields: writing from column t.c") {
		t.Errorf("Error() = %q", got)
	}
	err.Op = "register"
	if got := err.Error(); !strings.HasPrefix(got, "fields: registering column t.c") {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, fields.ErrConvert) {
		t.Error("Unwrap does not reach Err")
	}
}

func TestValueOf(t *testing.T) {
	when := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	type named int32
	tests := []struct {
		name    string
		col     reflect.Type
		tag     string
		x       any
		want    driver.Value
		wantErr error
	}{
		{"int64<-int64", typeOf[int64](), "", int64(12345), int64(12345), nil},
		{"int64<-int32", typeOf[int64](), "", int32(7), int64(7), nil},
		{"int64<-int", typeOf[int64](), "", 7, int64(7), nil},
		{"int64<-int8", typeOf[int64](), "", int8(-7), int64(-7), nil},
		{"int64<-uint16", typeOf[int64](), "", uint16(7), int64(7), nil},
		{"int64<-named", typeOf[int64](), "", named(3), int64(3), nil},
		{"int64<-*int64", typeOf[int64](), "", ptrTo(int64(9)), int64(9), nil},
		{"int64<-*int32", typeOf[int64](), "", ptrTo(int32(9)), int64(9), nil},
		{"int64<-nil *int64", typeOf[int64](), "", (*int64)(nil), nil, nil},
		{"int64<-nil *int32", typeOf[int64](), "", (*int32)(nil), nil, nil},
		{"int64<-nil", typeOf[int64](), "", nil, nil, nil},
		{"int64<-uint64 max", typeOf[int64](), "", uint64(math.MaxUint64), nil, fields.ErrConvert},
		{"int64<-string", typeOf[int64](), "", "7", nil, fields.ErrConvert},
		{"int64<-float64", typeOf[int64](), "", 1.0, nil, fields.ErrConvert},
		{"int64<-bool", typeOf[int64](), "", true, nil, fields.ErrConvert},
		{"int64<-[]byte", typeOf[int64](), "", []byte("7"), nil, fields.ErrConvert},
		{"int8<-int 300", typeOf[int8](), "", 300, nil, fields.ErrConvert},
		{"int8<-int -128", typeOf[int8](), "", -128, int64(-128), nil},
		{"int8<-int64 128", typeOf[int8](), "", int64(128), nil, fields.ErrConvert},
		{"int8<-uint8 200", typeOf[int8](), "", uint8(200), nil, fields.ErrConvert},
		{"int32<-int max", typeOf[int32](), "", math.MaxInt32, int64(math.MaxInt32), nil},
		{"int32<-int min", typeOf[int32](), "", math.MinInt32, int64(math.MinInt32), nil},
		{"int32<-int max+1", typeOf[int32](), "", math.MaxInt32 + 1, nil, fields.ErrConvert},
		{"int32<-int64 min-1", typeOf[int32](), "", int64(math.MinInt32 - 1), nil, fields.ErrConvert},
		{"int16<-int32 40000", typeOf[int16](), "", int32(40000), nil, fields.ErrConvert},
		{"named int32<-int32", typeOf[named](), "", int32(-5), int64(-5), nil},
		{"*int64<-int64", typeOf[*int64](), "", int64(4), int64(4), nil},
		{"*int64<-*int64", typeOf[*int64](), "", ptrTo(int64(4)), int64(4), nil},
		{"uint64<-uint64 max", typeOf[uint64](), "", uint64(math.MaxUint64), uint64(math.MaxUint64), nil},
		{"uint64<-int", typeOf[uint64](), "", 5, int64(5), nil},
		{"uint64<-int -1", typeOf[uint64](), "", -1, nil, fields.ErrConvert},
		{"uint8<-int 256", typeOf[uint8](), "", 256, nil, fields.ErrConvert},
		{"float64<-float32", typeOf[float64](), "", float32(1.5), 1.5, nil},
		{"float64<-int", typeOf[float64](), "", 2, 2.0, nil},
		{"float64<-uint64", typeOf[float64](), "", uint64(3), 3.0, nil},
		{"float64<-string", typeOf[float64](), "", "2", nil, fields.ErrConvert},
		{"float32<-float64", typeOf[float32](), "", 0.5, 0.5, nil},
		{"string<-string", typeOf[string](), "", "s", "s", nil},
		{"string<-named", typeOf[string](), "", myString("n"), "n", nil},
		{"string<-*string", typeOf[string](), "", ptrTo("p"), "p", nil},
		{"string<-*named", typeOf[string](), "", ptrTo(myString("p")), "p", nil},
		{"string<-int", typeOf[string](), "", 65, nil, fields.ErrConvert},
		{"string<-rune", typeOf[string](), "", 'A', nil, fields.ErrConvert},
		{"string<-[]byte", typeOf[string](), "", []byte("b"), nil, fields.ErrConvert},
		{"named string<-string", typeOf[myString](), "", "s", "s", nil},
		{"named string<-named", typeOf[myString](), "", myString("s"), "s", nil},
		{"bool<-bool", typeOf[bool](), "", true, true, nil},
		{"bool<-named", typeOf[bool](), "", myBool(true), true, nil},
		{"bool<-int", typeOf[bool](), "", 1, nil, fields.ErrConvert},
		{"[]byte<-[]byte", typeOf[[]byte](), "", []byte("ab"), []byte("ab"), nil},
		{"[]byte<-string", typeOf[[]byte](), "", "ab", []byte("ab"), nil},
		{"[]byte<-named", typeOf[[]byte](), "", myBytes("ab"), []byte("ab"), nil},
		{"[]byte<-nil []byte", typeOf[[]byte](), "", []byte(nil), nil, nil},
		{"time<-time", typeOf[time.Time](), "", when, "2024-02-03 04:05:06", nil},
		{"time<-*time", typeOf[time.Time](), "", &when, "2024-02-03 04:05:06", nil},
		{"time<-time elsewhere", typeOf[time.Time](), "", when.In(time.FixedZone("X", -7*3600)), "2024-02-03 04:05:06", nil},
		{"*time<-time", typeOf[*time.Time](), "", when, "2024-02-03 04:05:06", nil},
		{"NullTime<-NullTime", typeOf[sql.NullTime](), "", sql.NullTime{Time: when, Valid: true}, "2024-02-03 04:05:06", nil},
		{"json any<-struct", typeOf[any](), ",json", doc{A: 1}, `{"a":1}`, nil},
		{"json any<-map", typeOf[any](), ",json", map[string]int{"k": 1}, `{"k":1}`, nil},
		{"json any<-slice", typeOf[any](), ",json", []int{1, 2}, `[1,2]`, nil},
		{"json any<-int", typeOf[any](), ",json", 7, `7`, nil},
		{"json any<-typed nil", typeOf[any](), ",json", (*doc)(nil), nil, nil},
		{"json any<-raw", typeOf[any](), ",json", json.RawMessage(`{"z": 1}`), `{"z":1}`, nil}, // as a field holding it is written
		{"json struct<-raw", typeOf[doc](), ",json", json.RawMessage(`{"a":1}`), `{"a":1}`, nil},
		{"json struct<-raw duplicate", typeOf[doc](), ",json", json.RawMessage(`{"a":1,"a":1}`), nil, fields.ErrConvert},
		{"json struct<-raw invalid", typeOf[doc](), ",json", json.RawMessage(`{`), nil, fields.ErrConvert},
		{"time<-string", typeOf[time.Time](), "", "2024-02-03", nil, fields.ErrConvert},
		{"implicitnull<-0", typeOf[int64](), ",implicitnull", int64(0), nil, nil},
		{"implicitnull<-int32 0", typeOf[int64](), ",implicitnull", int32(0), nil, nil},
		{"implicitnull<-int 0", typeOf[int64](), ",implicitnull", 0, nil, nil},
		{"implicitnull<-5", typeOf[int64](), ",implicitnull", int64(5), int64(5), nil},
		{"implicitnull string<-empty", typeOf[string](), ",implicitnull", "", nil, nil},
		{"json<-struct", typeOf[doc](), ",json", doc{A: 1}, `{"a":1}`, nil},
		{"json<-*struct", typeOf[doc](), ",json", &doc{A: 1}, `{"a":1}`, nil},
		{"json<-nil", typeOf[doc](), ",json", nil, nil, nil},
		{"json slice<-slice", typeOf[[]string](), ",json", []string{"a"}, `["a"]`, nil},
		{"json<-other struct", typeOf[doc](), ",json", point{}, nil, fields.ErrConvert},
		{"NullString<-NullString", typeOf[sql.NullString](), "", sql.NullString{String: "x", Valid: true}, "x", nil},
		{"netip<-netip", typeOf[netip.Addr](), ",string", netip.MustParseAddr("::1"), "::1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesc(t, tc.col, tc.tag)
			got, err := d.ValueOf(tc.x)
			if tc.wantErr != nil {
				checkErr(t, err, "value", tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ValueOf(%#v): %v", tc.x, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ValueOf(%#v) mismatch (-want +got):\n%s", tc.x, diff)
			}
		})
	}
}

// A float32 is widened exactly and reads back as the same float32.
func TestFloat32RoundTrip(t *testing.T) {
	d := descFor[float32](t, "")
	v, err := d.Value(reflect.ValueOf(float32(0.1)))
	if err != nil {
		t.Fatal(err)
	}
	var f float32
	s := d.Scanner()
	s.Target(reflect.ValueOf(&f).Elem())
	if err := s.Scan(v); err != nil {
		t.Fatal(err)
	}
	if f != float32(0.1) {
		t.Errorf("float32 round trip gave %v, want exactly 0.1 as float32", f)
	}
	if v != float64(float32(0.1)) {
		t.Errorf("Value(float32(0.1)) = %v, want the float32 widened exactly", v)
	}
}

// A field of an interface type (any) holding a typed nil, or a pointer to
// a nil map, is SQL NULL like an untyped nil: IS NULL must find it.
func TestValueJSONInterfaceNil(t *testing.T) {
	type row struct{ F any }
	d := newDesc(t, typeOf[any](), ",json")
	for _, v := range []any{nil, (*doc)(nil), map[string]int(nil), []int(nil), ptrTo(map[string]int(nil)), json.RawMessage(nil), json.RawMessage("null")} {
		r := row{F: v}
		for _, f := range []reflect.Value{reflect.ValueOf(&r).Elem().Field(0), reflect.ValueOf(r).Field(0)} {
			got, err := d.Value(f)
			if err != nil || got != nil {
				t.Errorf("Value of any(%#v) = %#v, %v; want nil (SQL NULL)", v, got, err)
			}
		}
		if got, err := d.ValueOf(v); err != nil || got != nil {
			t.Errorf("ValueOf(%#v) = %#v, %v; want nil (IS NULL)", v, got, err)
		}
	}
	// A non-nullable JSON column keeps the text null of a Marshaler.
	dn := newDesc(t, typeOf[nullMarshaler](), ",json")
	if got, err := dn.Value(reflect.ValueOf(nullMarshaler{})); err != nil || got != "null" {
		t.Errorf("Value of a struct whose MarshalJSON writes null = %#v, %v; want the text null", got, err)
	}
}

type nullMarshaler struct{}

func (nullMarshaler) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Invalid UTF-8 in a Go string is still refused when the document also
// copies a \ufffd escape from a json.RawMessage; the escape alone is not.
func TestValueJSONInvalidUTF8(t *testing.T) {
	type inner struct {
		R json.RawMessage
		S string
	}
	d := newDesc(t, typeOf[inner](), ",json")
	if _, err := d.Value(reflect.ValueOf(inner{R: json.RawMessage(`"\ufffd"`), S: "ok"})); err != nil {
		t.Errorf("escaped U+FFFD in a nested json.RawMessage: %v", err)
	}
	for _, v := range []inner{{R: json.RawMessage(`"\ufffd"`), S: "bad\xff"}, {R: json.RawMessage(`1`), S: "bad\xff"}} {
		_, err := d.Value(reflect.ValueOf(v))
		checkErr(t, err, "value", fields.ErrConvert)
	}
	if _, err := d.Value(reflect.ValueOf(inner{R: json.RawMessage("\"\xff\"")})); !errors.Is(err, fields.ErrConvert) {
		t.Errorf("invalid UTF-8 bytes in a nested json.RawMessage: %v, want ErrConvert", err)
	}
	dm := newDesc(t, typeOf[map[string]any](), ",json")
	if _, err := dm.Value(reflect.ValueOf(map[string]any{"k\xff": 1})); !errors.Is(err, fields.ErrConvert) {
		t.Errorf("invalid UTF-8 in a map key: %v, want ErrConvert", err)
	}
	// A key twice in one object: written as given (the server stores it
	// from any client, and what was read must be writable back), refused
	// as a filter value, where MySQL and MariaDB would compare differently.
	dup := map[string]any{"k": []any{json.RawMessage(`{"a":1,"\u0061":2}`)}}
	if _, err := dm.Value(reflect.ValueOf(dup)); err != nil {
		t.Errorf("writing a duplicate key in a nested json.RawMessage: %v", err)
	}
	if _, err := dm.ValueOf(dup); !errors.Is(err, fields.ErrConvert) {
		t.Errorf("a duplicate key in a nested json.RawMessage as a filter value: %v, want ErrConvert", err)
	}
	raw := newDesc(t, typeOf[json.RawMessage](), ",json")
	if v, err := raw.Value(reflect.ValueOf(json.RawMessage(`{"a":1,"a":2}`))); err != nil || v != `{"a":1,"a":2}` {
		t.Errorf("writing a json.RawMessage with a key twice: %q, %v; want it byte for byte", v, err)
	}
	if _, err := raw.ValueOf(json.RawMessage(`{"a":1,"a":2}`)); !errors.Is(err, fields.ErrConvert) {
		t.Errorf("a json.RawMessage with a key twice as a filter value: %v, want ErrConvert", err)
	}
}

func TestIsList(t *testing.T) {
	type uuid [16]byte
	for _, c := range []struct {
		col  reflect.Type
		tag  string
		val  any
		list bool
	}{
		{typeOf[int64](), "", []int64{1}, true},
		{typeOf[int64](), "", [2]int64{1, 2}, false},
		{typeOf[int64](), "", []any{1, nil}, true},
		{typeOf[string](), "", []byte("x"), false},
		{typeOf[string](), "", json.RawMessage(`1`), false},
		{typeOf[[]byte](), "", []byte("x"), false},
		{typeOf[[]byte](), "", [][]byte{[]byte("x")}, true},
		{typeOf[[16]byte](), ",binary", [16]byte{}, false},
		{typeOf[[16]byte](), ",binary", [][16]byte{{}}, true},
		{typeOf[uuid](), ",binary", uuid{}, false},
		{typeOf[[]int](), ",json", []int{1}, false},
		{typeOf[[]int](), ",json", [][]int{{1}}, true},
		{typeOf[[2]int](), ",json", [2]int{1, 2}, false},
		{typeOf[any](), ",json", []int{1}, false},
		{typeOf[any](), ",json", []any{nil}, false},
		{typeOf[sql.NullString](), "", []sql.NullString{}, true},
		{typeOf[int64](), "", valuerSlice{}, false},
	} {
		d := newDesc(t, c.col, c.tag)
		if got := d.IsList(reflect.TypeOf(c.val)); got != c.list {
			t.Errorf("column %v%s: IsList(%T) = %v, want %v", c.col, c.tag, c.val, got, c.list)
		}
	}
}

type valuerSlice []int

func (valuerSlice) Value() (driver.Value, error) { return "x", nil }

func TestValueImplicitNullZeroTimeInLocation(t *testing.T) {
	d := newDesc(t, typeOf[time.Time](), ",implicitnull")
	zero := time.Time{}.In(time.FixedZone("X", 3600))
	if got, err := d.Value(reflect.ValueOf(zero)); err != nil || got != nil {
		t.Errorf("Value of a zero time in a location = %#v, %v; want nil (NULL)", got, err)
	}
}

// TestTimeValueYearRange: a time is written for every year the servers
// store, 0 to 9999 (a DATETIME read of 0000-01-10 gives a time that must
// be writable back), and refused outside it.
func TestTimeValueYearRange(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(0, 1, 10, 0, 0, 0, 0, time.UTC), "0000-01-10 00:00:00"},
		{time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), "0001-01-02 00:00:00"}, // (the zero time.Time, 0001-01-01, is the zero date)
		{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31 23:59:59.999999"},
	} {
		v, err := fields.TimeValue(tc.in)
		if err != nil || v != tc.want {
			t.Errorf("TimeValue(%v) = %#v, %v; want %q", tc.in, v, err, tc.want)
		}
	}
	for _, in := range []time.Time{
		time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("west", -3600*2)), // year 10000 in UTC
	} {
		if v, err := fields.TimeValue(in); !errors.Is(err, fields.ErrConvert) {
			t.Errorf("TimeValue(%v) = %#v, %v; want ErrConvert", in, v, err)
		}
	}
}
