package reliability_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
)

// The fuzz targets here complement fields.FuzzScanJSON (no panic, what
// is read can be written) and sqlgen.FuzzBuildStruct (driver values into
// whole rows): they check that a JSON column's value is a fixed point of
// one write and read, and that DATETIME text is read as Go reads it.
// Their seed corpora are in testdata/fuzz/<name>/; `go test` runs the
// seeds, `make fuzz-short` fuzzes each for a few seconds.

type fzInner struct {
	N  int8             `json:"n"`
	U  uint64           `json:"u"`
	F  float32          `json:"f"`
	B  []byte           `json:"b"`
	T  time.Time        `json:"t"`
	M  map[int64]string `json:"m"`
	A  [3]int           `json:"a"`
	Up *fzInner         `json:"up"`
}

type fzDoc struct {
	fzInner
	S    string              `json:"s"`
	X    any                 `json:"x"`
	L    []fzInner           `json:"l"`
	P    map[string]*fzInner `json:"p"`
	Opt  *string             `json:"opt,omitempty"`
	Skip string              `json:"-"`
}

type fzNamedMap map[string][]float64

// jsonShapes are the Go types a JSON column is read into.
var jsonShapes = []reflect.Type{
	reflect.TypeFor[fzDoc](),
	reflect.TypeFor[*fzDoc](),
	reflect.TypeFor[map[string]any](),
	reflect.TypeFor[map[string]int64](),
	reflect.TypeFor[fzNamedMap](),
	reflect.TypeFor[map[int64]string](),
	reflect.TypeFor[[]any](),
	reflect.TypeFor[[]string](),
	reflect.TypeFor[*[]int](),
	reflect.TypeFor[[2]float64](),
	reflect.TypeFor[any](),
	reflect.TypeFor[json.RawMessage](),
	reflect.TypeFor[*json.RawMessage](),
	reflect.TypeFor[string](),
	reflect.TypeFor[*bool](),
}

// sameJSON compares raw documents by their compact form (as encoding/json
// writes a RawMessage nested in a struct), nil being the text null. A
// RawMessage column itself is compared byte for byte by the fixed-point
// check below.
func sameJSON(a, b json.RawMessage) bool {
	norm := func(r json.RawMessage) []byte {
		if r == nil {
			return []byte("null")
		}
		var c bytes.Buffer
		if err := json.Compact(&c, r); err != nil {
			return r
		}
		return c.Bytes()
	}
	return bytes.Equal(norm(a), norm(b))
}

// FuzzJSONRoundTrip reads arbitrary bytes, as []byte and as string (the
// two forms drivers give), into a JSON column of every shape. A value
// that is refused is a *fields.Error for the column; a value that is read
// is written back (a nil map, slice, pointer or interface as SQL NULL, all
// else as valid JSON text in valid UTF-8, a RawMessage byte for byte),
// read again into the same Go value, and written again into
// the same text: after one round trip, write and read are a fixed point.
func FuzzJSONRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`null`, `{}`, `[]`, `""`, `0`, `-0`, `1e308`, `true`,
		`{"n":127,"u":18446744073709551615,"f":3.4028235e38,"b":"AQID","t":"2024-02-29T23:59:59.123456789+05:30","m":{"-1":"x","01":"y"},"a":[1,2,3,4]}`,
		`{"s":"\u0000\ud800<>&","x":{"k":[null,1.5,"s",false]},"l":[{"n":1}],"p":{"a":null,"b":{"up":{"n":-128}}},"opt":"o"}`,
		`{"N":1,"n":2}`, `[1, 2, {"a" : [ ]}]`, " \t\n{\"a\":1}\n", `{"k":[1e-320,5e-324,-1.7976931348623157e308]}`,
		`"a\xffb"`, `{"a\xfe":"\xc3"}`, `{"r":[1,2}`, `[[[[[[[[[[]]]]]]]]]]`, `{"t":"0000-01-01T00:00:00Z"}`, `{"b":"AR=="}`,
	} {
		f.Add([]byte(seed))
	}
	descs := make([]*fields.Descriptor, len(jsonShapes))
	for i, typ := range jsonShapes {
		d, err := fields.NewDescriptor(typ, fields.Options{Table: "fz", Column: "doc", Field: "Row.Doc", Tag: fields.Tag{Encoding: fields.EncodingJSON}})
		if err != nil {
			f.Fatalf("%v: %v", typ, err)
		}
		descs[i] = d
	}
	opts := cmp.Options{
		cmp.Comparer(sameJSON),
		cmp.AllowUnexported(fzDoc{}), // the embedded fzInner
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, d := range descs {
			typ := jsonShapes[i]
			raw := typ == reflect.TypeFor[json.RawMessage]() || typ == reflect.TypeFor[*json.RawMessage]()
			for _, src := range []any{data, string(data)} {
				v1 := reflect.New(typ).Elem()
				s := d.Scanner()
				s.Target(v1)
				if err := s.Scan(src); err != nil {
					var fe *fields.Error
					if !errors.As(err, &fe) || fe.Op != "scan" || fe.Table != "fz" || fe.Column != "doc" {
						t.Fatalf("%v from %q: error %v (%T) is not a *fields.Error for fz.doc", typ, data, err, err)
					}
					continue
				}
				w1, err := d.Value(v1)
				if err != nil {
					t.Fatalf("%v from %q read as %#v, which cannot be written: %v", typ, data, v1.Interface(), err)
				}
				if w1 == nil {
					if !isNilish(v1) {
						t.Fatalf("%v from %q: %#v written as NULL", typ, data, v1.Interface())
					}
				} else {
					text, ok := w1.(string)
					if !ok {
						t.Fatalf("%v: written as a %T, want a string", typ, w1)
					}
					if !json.Valid([]byte(text)) {
						t.Fatalf("%v from %q written as invalid JSON %q", typ, data, text)
					}
					if !utf8.ValidString(text) {
						t.Fatalf("%v from %q written as invalid UTF-8 %q", typ, data, text)
					}
					if raw && text != string(data) {
						t.Fatalf("%v from %q written as %q, not byte for byte", typ, data, text)
					}
				}
				v2 := reflect.New(typ).Elem()
				s.Target(v2)
				if err := s.Scan(w1); err != nil {
					t.Fatalf("%v: reading back %q (from %q): %v", typ, w1, data, err)
				}
				// reflect.DeepEqual first: it is linear, while go-cmp's slice
				// comparison takes time exponential in the nesting depth
				// ([[[[...{}]]]] 28 deep hung the fuzzer); cmp's looser
				// rules (times by instant, RawMessage by compact form) only
				// for values DeepEqual tells apart.
				if !reflect.DeepEqual(v1.Interface(), v2.Interface()) && !cmp.Equal(v1.Interface(), v2.Interface(), opts) {
					t.Fatalf("%v from %q: one round trip changed the value (-first +second):\n%s", typ, data, cmp.Diff(v1.Interface(), v2.Interface(), opts))
				}
				w2, err := d.Value(v2)
				if err != nil || !reflect.DeepEqual(w1, w2) {
					t.Fatalf("%v from %q: written as %q, then as %q (%v)", typ, data, w1, w2, err)
				}
			}
		}
	})
}

func isNilish(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// FuzzDateTimeText reads arbitrary text as a DATETIME value (what the
// driver gives without parseTime=true) into time.Time, a named time
// type, *time.Time and sql.NullTime. It never panics; a refusal is a
// *fields.Error wrapping ErrConvert; what Go's own parser reads with
// MySQL's layout is read the same; and a time that is read, formatted
// back as MySQL writes it, reads as the same instant.
func FuzzDateTimeText(f *testing.F) {
	for _, seed := range []string{
		"2024-02-29 23:59:59.123456", "1000-01-01 00:00:00", "9999-12-31 23:59:59.999999", "0000-00-00 00:00:00",
		"0000-00-00", "2024-01-02", "2024-01-02T03:04:05", "2024-01-02 03:04:05.1", "2024-01-02 03:04:05.123456789",
		"2024-13-01 00:00:00", "2024-01-02 24:00:00", "2024-01-02 03:04:05.", "2024-02-31 00:00:00", "", "x", "2024-1-2",
		"+024-01-02", "2024-01-02 03:04:05.1234567890",
	} {
		f.Add(seed)
	}
	type named time.Time
	types := []reflect.Type{reflect.TypeFor[time.Time](), reflect.TypeFor[named](), reflect.TypeFor[*time.Time](), reflect.TypeFor[sql.NullTime]()}
	descs := make([]*fields.Descriptor, len(types))
	for i, typ := range types {
		d, err := fields.NewDescriptor(typ, fields.Options{Table: "fz", Column: "t", Field: "Row.T"})
		if err != nil {
			f.Fatalf("%v: %v", typ, err)
		}
		descs[i] = d
	}
	asTime := func(v reflect.Value) time.Time {
		switch x := v.Interface().(type) {
		case time.Time:
			return x
		case named:
			return time.Time(x)
		case *time.Time:
			return *x
		case sql.NullTime:
			return x.Time
		}
		panic(v.Type())
	}
	const layout = "2006-01-02 15:04:05.999999999"
	f.Fuzz(func(t *testing.T, text string) {
		// Compare with Go's parser on the shapes MySQL writes (Go also
		// takes others, such as a one-digit hour).
		goTime, goErr := time.Parse(layout, text)
		if goErr != nil {
			goTime, goErr = time.Parse("2006-01-02", text)
		}
		if !mysqlDateTimeShape(text) {
			goErr = errors.New("not a shape MySQL writes")
		}
		for i, d := range descs {
			for _, src := range []any{[]byte(text), text} {
				v := reflect.New(types[i]).Elem()
				s := d.Scanner()
				s.Target(v)
				err := s.Scan(src)
				if err != nil {
					var fe *fields.Error
					if !errors.As(err, &fe) || fe.Column != "t" {
						t.Fatalf("%v from %q: error %v is not a *fields.Error for the column", types[i], text, err)
					}
					if goErr == nil {
						t.Fatalf("%v: %q refused (%v), but Go reads it as %v", types[i], text, err, goTime)
					}
					continue
				}
				got := asTime(v)
				if goErr == nil && !got.Equal(goTime) {
					t.Fatalf("%v: %q read as %v, Go reads it as %v", types[i], text, got, goTime)
				}
				if got.IsZero() {
					continue
				}
				back := got.UTC().Format(layout)
				v2 := reflect.New(types[i]).Elem()
				s.Target(v2)
				if err := s.Scan([]byte(back)); err != nil {
					t.Fatalf("%v: %q read as %v, formatted as %q, which is refused: %v", types[i], text, got, back, err)
				}
				if again := asTime(v2); !again.Equal(got) {
					t.Fatalf("%v: %q read as %v, formatted as %q, read again as %v", types[i], text, got, back, again)
				}
			}
		}
	})
}

// mysqlDateTimeShape reports whether s has the shape of MySQL's DATE,
// DATETIME or DATETIME(n) text: "2006-01-02", "2006-01-02 15:04:05" and
// that with a dot and 1 to 9 digits. Only the digits are not checked for
// range.
func mysqlDateTimeShape(s string) bool {
	n := len(s)
	if n != 10 && n != 19 && (n < 21 || n > 29) {
		return false
	}
	for i := 0; i < n; i++ {
		var ok bool
		switch {
		case i == 4 || i == 7:
			ok = s[i] == '-'
		case i == 10:
			ok = s[i] == ' '
		case i == 13 || i == 16:
			ok = s[i] == ':'
		case i == 19:
			ok = s[i] == '.'
		default:
			ok = '0' <= s[i] && s[i] <= '9'
		}
		if !ok {
			return false
		}
	}
	return true
}
