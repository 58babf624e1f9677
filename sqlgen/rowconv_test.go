package sqlgen_test

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"math"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

func rowconvSchema(t testing.TB) *sqlgen.Schema {
	t.Helper()
	s := sqlgen.NewSchema()
	if err := s.RegisterType("ddl_every", sqlgen.UniqueID, ddlEvery{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterType("ddl_composite", sqlgen.UniqueID, ddlComposite{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// rowconvRow builds a row in Columns order from values by column name;
// columns not named are nil.
func rowconvRow(t testing.TB, s *sqlgen.Schema, table string, byName map[string]driver.Value) []driver.Value {
	t.Helper()
	cols, err := s.Columns(table)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]driver.Value, len(cols))
	seen := 0
	for i, c := range cols {
		if v, ok := byName[c]; ok {
			row[i] = v
			seen++
		}
	}
	if seen != len(byName) {
		t.Fatalf("rowconvRow: %d of the %d named columns are not columns of %s (%v)", len(byName)-seen, len(byName), table, cols)
	}
	return row
}

func TestColumns(t *testing.T) {
	t.Parallel()
	s := rowconvSchema(t)
	got, err := s.Columns("ddl_composite")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tenant", "key", "order"}; !cmp.Equal(got, want) {
		t.Errorf("Columns = %q, want %q", got, want)
	}
	got[0] = "changed"
	if again, _ := s.Columns("ddl_composite"); again[0] != "tenant" {
		t.Error("Columns returned the schema's own slice")
	}
	if _, err := s.Columns("nope"); !errors.Is(err, sqlgen.ErrNotRegistered) {
		t.Errorf("Columns(unregistered) = %v, want ErrNotRegistered", err)
	}
}

// TestUnbuildBuildRoundTrip: UnbuildStruct then BuildStruct gives the
// original struct back, for every kind of field, zero values and NULLs.
func TestUnbuildBuildRoundTrip(t *testing.T) {
	t.Parallel()
	s := rowconvSchema(t)
	cols, _ := s.Columns("ddl_every")
	for _, want := range ddlEveryRows() {
		vals, err := s.UnbuildStruct("ddl_every", want)
		if err != nil {
			t.Fatalf("UnbuildStruct(id %d): %v", want.ID, err)
		}
		if len(vals) != len(cols) {
			t.Fatalf("UnbuildStruct gave %d values for %d columns", len(vals), len(cols))
		}
		byValue, err := s.UnbuildStruct("ddl_every", *want)
		if err != nil || !cmp.Equal(vals, byValue) {
			t.Errorf("UnbuildStruct of a T differs from that of a *T: %v\n%s", err, cmp.Diff(vals, byValue))
		}
		row := make([]driver.Value, len(vals))
		for i, v := range vals {
			switch v.(type) {
			case nil, int64, uint64, float64, bool, []byte, string, time.Time:
				row[i] = v
			default:
				t.Fatalf("column %s: UnbuildStruct gave a %T, not a plain driver.Value", cols[i], v)
			}
		}
		got, err := s.BuildStruct("ddl_every", row)
		if err != nil {
			t.Fatalf("BuildStruct(id %d): %v", want.ID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("id %d: round trip differs (-want +got):\n%s", want.ID, diff)
		}
	}
	// JSON is written as a string, NULL pointers and nil maps as nil.
	vals, _ := s.UnbuildStruct("ddl_every", ddlEveryRows()[1])
	byCol := map[string]any{}
	for i, c := range cols {
		byCol[c] = vals[i]
	}
	if _, ok := byCol["j"].(string); !ok {
		t.Errorf("JSON column j written as %T, want string", byCol["j"])
	}
	if byCol["u"] != uint64(math.MaxUint64) || byCol["i8"] != int64(math.MaxInt8) {
		t.Errorf("u = %#v, i8 = %#v", byCol["u"], byCol["i8"])
	}
	vals, _ = s.UnbuildStruct("ddl_every", &ddlEvery{ID: 1})
	for i, c := range cols {
		byCol[c] = vals[i]
	}
	for _, c := range []string{"bp", "ip", "sp", "bytes", "tp", "ns", "ni", "jp", "jm", "js", "jr", "ja", "i_null", "i_null_i", "extra_json"} {
		if byCol[c] != nil {
			t.Errorf("zero %s written as %#v, want nil", c, byCol[c])
		}
	}
}

// TestBuildStructFromCDC: values of the shapes binlog readers produce
// (int64 or narrower ints, []byte for strings, string for JSON, DATETIME
// text) build the struct.
func TestBuildStructFromCDC(t *testing.T) {
	t.Parallel()
	s := rowconvSchema(t)
	row := rowconvRow(t, s, "ddl_every", map[string]driver.Value{
		"id": int64(7), "b": int64(1), "bp": int8(0),
		"i": int64(-5), "i8": int8(-8), "i16": int16(16), "i32": int32(-32), "i64": int64(64), "ip": nil,
		"u": uint64(math.MaxUint64), "u8": uint8(200), "u16": uint16(65535), "u32": int64(4000000000), "u64": uint64(1 << 63), "up": int64(9),
		"f32": float32(1.25), "f64": float64(-2.5), "fp": nil,
		"s": []byte("héllo"), "sp": []byte(""), "label": []byte("active"), "label_p": "gone",
		"bytes": []byte{0, 1}, "t": "2024-02-29 23:59:58.123456", "tp": time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		"ns": []byte("ns"), "ni": int64(-7), "nb": int64(1), "nf": float64(0.5), "cents": int64(250), "opaque": []byte("o"),
		"j": `{"theme":"dark","sizes":[1,2]}`, "jp": []byte(`{"theme":"x"}`), "jm": `{"a":1}`, "js": `["x"]`,
		"jr": `{"raw": true}`, "ja": `[1,"a",null]`,
		"pt": []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}, "proto": []byte("P:pb"), "addr": []byte("192.0.2.1"),
		"i_null": nil, "i_null_i": int64(3), "extra_json": nil,
	})
	got, err := s.BuildStruct("ddl_every", row)
	if err != nil {
		t.Fatal(err)
	}
	u16 := ddlLabel("gone")
	want := &ddlEvery{
		ID: 7, B: true, BP: ddlPtr(false),
		I: -5, I8: -8, I16: 16, I32: -32, I64: 64,
		U: math.MaxUint64, U8: 200, U16: 65535, U32: 4000000000, U64: 1 << 63, UP: ddlPtr(uint64(9)),
		F32: 1.25, F64: -2.5, S: "héllo", SP: ddlPtr(""), Label: "active", LabelP: &u16,
		Bytes: []byte{0, 1}, T: time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC), TP: ddlPtr(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)),
		NS: sql.NullString{String: "ns", Valid: true}, NI: sql.Null[int64]{V: -7, Valid: true},
		NB: sql.NullBool{Bool: true, Valid: true}, NF: sql.NullFloat64{Float64: 0.5, Valid: true},
		Cents: ddlCents{N: 250}, Opaque: ddlOpaque{S: ddlPtr("o")},
		J: ddlPrefs{Theme: "dark", Sizes: []int{1, 2}}, JP: &ddlPrefs{Theme: "x"}, JM: map[string]int{"a": 1}, JS: []string{"x"},
		JR: json.RawMessage(`{"raw": true}`), JA: []any{json.Number("1"), "a", nil}, // numbers in an any: json.Number, exact
		Pt: point{X: 1, Y: -1}, Proto: fakeProto{Payload: "pb"}, Addr: net.ParseIP("192.0.2.1"), INullI: 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BuildStruct differs (-want +got):\n%s", diff)
	}
	// The row's []byte values are copied, not kept.
	row[rowconvIndex(t, s, "bytes")].([]byte)[0] = 99
	if got.(*ddlEvery).Bytes[0] != 0 {
		t.Error("BuildStruct kept the row's []byte")
	}
}

// rowconvDriverValues converts the []any of UnbuildStruct to the
// []driver.Value of BuildStruct.
func rowconvDriverValues(vals []any) []driver.Value {
	row := make([]driver.Value, len(vals))
	for i, v := range vals {
		row[i] = v
	}
	return row
}

func rowconvIndex(t testing.TB, s *sqlgen.Schema, column string) int {
	t.Helper()
	cols, _ := s.Columns("ddl_every")
	for i, c := range cols {
		if c == column {
			return i
		}
	}
	t.Fatalf("no column %q", column)
	return -1
}

// TestBuildStructErrors: bad values give errors naming the column and the
// field.
func TestBuildStructErrors(t *testing.T) {
	t.Parallel()
	s := rowconvSchema(t)
	good := func() []driver.Value {
		vals, err := s.UnbuildStruct("ddl_every", &ddlEvery{ID: 1})
		if err != nil {
			t.Fatal(err)
		}
		return rowconvDriverValues(vals)
	}
	if _, err := s.BuildStruct("ddl_every", good()); err != nil {
		t.Fatalf("the good row does not build: %v", err)
	}
	tests := []struct {
		column string
		value  driver.Value
		field  string
		is     error
	}{
		{"i8", int64(300), "ddlEvery.I8", sqlgen.ErrConvert},
		{"u8", int64(-1), "ddlEvery.U8", sqlgen.ErrConvert},
		{"i64", uint64(math.MaxUint64), "ddlEvery.I64", sqlgen.ErrConvert},
		{"i", "twelve", "ddlEvery.I", sqlgen.ErrConvert},
		{"i", nil, "ddlEvery.I", sqlgen.ErrUnexpectedNull},
		{"s", nil, "ddlEvery.S", sqlgen.ErrUnexpectedNull},
		{"f32", float64(1e300), "ddlEvery.F32", sqlgen.ErrConvert},
		{"b", "maybe", "ddlEvery.B", sqlgen.ErrConvert},
		{"t", "yesterday", "ddlEvery.T", sqlgen.ErrConvert},
		{"t", int64(5), "ddlEvery.T", sqlgen.ErrConvert},
		{"j", `{"theme": 5}`, "ddlEvery.J", nil},
		{"j", int64(5), "ddlEvery.J", sqlgen.ErrConvert},
		{"jm", "{bad", "ddlEvery.JM", nil},
		{"pt", []byte("abc"), "ddlEvery.Pt", nil},
		{"addr", "not an ip", "ddlEvery.Addr", nil},
		{"bytes", int64(1), "ddlEvery.Bytes", sqlgen.ErrConvert},
		{"ni", "x", "ddlEvery.NI", nil},
		{"s", struct{}{}, "ddlEvery.S", sqlgen.ErrConvert},
	}
	for _, tc := range tests {
		row := good()
		row[rowconvIndex(t, s, tc.column)] = tc.value
		got, err := s.BuildStruct("ddl_every", row)
		if err == nil {
			t.Errorf("%s = %#v: no error", tc.column, tc.value)
			continue
		}
		if got != nil {
			t.Errorf("%s = %#v: a result with the error", tc.column, tc.value)
		}
		var fe *fields.Error
		if !errors.As(err, &fe) || fe.Table != "ddl_every" || fe.Column != tc.column || fe.Field != tc.field {
			t.Errorf("%s = %#v: error %v does not name ddl_every.%s (%s)", tc.column, tc.value, err, tc.column, tc.field)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s = %#v: error %v is not %v", tc.column, tc.value, err, tc.is)
		}
	}

	// Wrong length.
	_, err := s.BuildStruct("ddl_every", good()[:3])
	n := len(good())
	if !errors.Is(err, sqlgen.ErrInvalidArgument) || !strings.Contains(err.Error(), " 3 values") || !strings.Contains(err.Error(), " "+strconv.Itoa(n)+" columns") {
		t.Errorf("short row: got %v, want ErrInvalidArgument giving 3 and %d", err, n)
	}
	if _, err := s.BuildStruct("nope", nil); !errors.Is(err, sqlgen.ErrNotRegistered) {
		t.Errorf("unregistered: got %v", err)
	}
}

func TestUnbuildStructErrors(t *testing.T) {
	t.Parallel()
	s := rowconvSchema(t)
	for _, v := range []any{nil, (*ddlEvery)(nil), &ddlComposite{}, ddlComposite{}, 5, &ddlGolden{}} {
		if _, err := s.UnbuildStruct("ddl_every", v); !errors.Is(err, sqlgen.ErrInvalidArgument) || !strings.Contains(err.Error(), "ddl_every") {
			t.Errorf("UnbuildStruct(%T): got %v, want ErrInvalidArgument naming the table", v, err)
		}
	}
	if _, err := s.UnbuildStruct("nope", &ddlEvery{}); !errors.Is(err, sqlgen.ErrNotRegistered) {
		t.Errorf("unregistered: got %v", err)
	}
	_, err := s.UnbuildStruct("ddl_every", &ddlEvery{JA: math.NaN()})
	var fe *fields.Error
	if !errors.As(err, &fe) || fe.Column != "ja" || fe.Field != "ddlEvery.JA" {
		t.Errorf("NaN in JSON: %v does not name column ja", err)
	}
}

// TestBuildStructOddValues: values of any Go type, in any column, give an
// error or a struct, never a panic.
func TestBuildStructOddValues(t *testing.T) {
	t.Parallel()
	s := rowconvSchema(t)
	cols, _ := s.Columns("ddl_every")
	odd := []driver.Value{
		nil, int64(math.MinInt64), uint64(math.MaxUint64), math.NaN(), math.Inf(-1), float32(math.MaxFloat32),
		true, []byte{}, []byte(nil), []byte{0xff, 0xfe}, "", "null", "0000-00-00", "2024-13-45 99:99:99", "1234567890123456789012345678",
		time.Time{}, time.Unix(1, 2), struct{}{}, []int{1}, map[string]int{}, make(chan int), func() {}, new(int), (*int)(nil),
		json.RawMessage("{}"), ddlLabel("x"), int8(-1), uint16(7), complex(1, 2), []string{"a"},
	}
	for i := range cols {
		for _, v := range odd {
			vals, _ := s.UnbuildStruct("ddl_every", &ddlEvery{})
			row := rowconvDriverValues(vals)
			row[i] = v
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("column %s, value %#v: panic: %v", cols[i], v, r)
					}
				}()
				_, _ = s.BuildStruct("ddl_every", row)
			}()
		}
	}
}

// FuzzBuildStruct feeds arbitrary bytes, integers, floats and strings to
// the columns: BuildStruct must not panic, and a struct it builds must
// survive UnbuildStruct and BuildStruct unchanged. Each input is tried in
// every column alone (the others holding a valid zero row), then mixed
// over all the columns at once.
func FuzzBuildStruct(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7}, []byte(`{"theme":"x","sizes":[1]}`), int64(1), "2024-01-02 03:04:05.5", 1.5)
	f.Add([]byte{2, 2, 2, 2}, []byte("192.0.2.1"), int64(-1), `["a"]`, math.Copysign(0, -1))
	f.Add([]byte{3}, []byte{0, 0, 0, 1, 0, 0, 0, 2}, int64(math.MaxInt64), "P:x", math.Inf(1))
	f.Add([]byte{1, 3, 5, 7}, []byte("null"), int64(math.MinInt64), "1", 1e300)
	s := rowconvSchema(f)
	cols, _ := s.Columns("ddl_every")
	zeroVals, err := s.UnbuildStruct("ddl_every", &ddlEvery{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sel, b []byte, i int64, str string, fl float64) {
		if len(sel) == 0 {
			sel = []byte{0}
		}
		value := func(k byte) driver.Value {
			switch k % 9 {
			case 1:
				return b
			case 2:
				return i
			case 3:
				return str
			case 4:
				return fl
			case 5:
				return i&1 == 1
			case 6:
				return uint64(i) | 1<<63
			case 7:
				return time.Unix(i%(1<<40), i%1e9).UTC()
			case 8:
				return float32(fl)
			}
			return nil
		}
		check := func(row []driver.Value) {
			got, err := s.BuildStruct("ddl_every", row)
			if err != nil {
				if got != nil {
					t.Fatalf("a result with error %v", err)
				}
				return
			}
			vals, err := s.UnbuildStruct("ddl_every", got)
			if err != nil {
				t.Fatalf("UnbuildStruct of a built struct: %v", err)
			}
			again, err := s.BuildStruct("ddl_every", rowconvDriverValues(vals))
			if err != nil {
				t.Fatalf("BuildStruct of UnbuildStruct: %v\nvalues: %#v", err, vals)
			}
			// Times are written to the microsecond (fields.TimeValue).
			micro := cmp.Comparer(func(a, b time.Time) bool { return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond)) })
			// reflect.DeepEqual first: linear, while go-cmp takes time
			// exponential in the nesting depth of JSON arrays; cmp's looser
			// rules (NaN, microseconds) only when DeepEqual tells them apart.
			if reflect.DeepEqual(got, again) {
				return
			}
			if diff := cmp.Diff(got, again, cmpopts.EquateNaNs(), micro); diff != "" {
				t.Fatalf("Build(Unbuild(x)) differs from x (-x +again):\n%s", diff)
			}
		}
		for j := range cols {
			row := rowconvDriverValues(zeroVals)
			row[j] = value(sel[0])
			check(row)
		}
		row := make([]driver.Value, len(cols))
		for j := range row {
			row[j] = value(sel[j%len(sel)])
		}
		check(row)
	})
}
