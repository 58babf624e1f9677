package fields_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/fields"
)

func FuzzParseTag(f *testing.F) {
	for _, tc := range parseTagCases {
		f.Add(tc.tag)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := fields.ParseTag(s)
		if err != nil {
			if !errors.Is(err, fields.ErrBadTag) && !errors.Is(err, fields.ErrBadName) {
				t.Fatalf("ParseTag(%q) error %q wraps neither ErrBadTag nor ErrBadName", s, err)
			}
			return
		}
		if tag.Name != "" {
			if err := fields.ValidateName(tag.Name); err != nil {
				t.Fatalf("ParseTag(%q) accepted name %q, which ValidateName refuses: %v", s, tag.Name, err)
			}
		}
		if tag.Skip && (tag.Name != "" || tag.Primary || tag.ImplicitNull || tag.Encoding != fields.EncodingNone) {
			t.Fatalf("ParseTag(%q) = %+v: a skipped field with options", s, tag)
		}
		if tag.Encoding > fields.EncodingText {
			t.Fatalf("ParseTag(%q) = %+v: unknown encoding", s, tag)
		}
	})
}

type fuzzDoc struct {
	A int               `json:"a"`
	B string            `json:"b"`
	C []float64         `json:"c"`
	D map[string]any    `json:"d"`
	E *fuzzDoc          `json:"e"`
	F json.RawMessage   `json:"f"`
	G map[string]string `json:"g"`
}

func FuzzScanJSON(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `{}`, `[]`, `0`, `"s"`, `true`,
		`{"a":1,"b":"x","c":[1.5,2],"d":{"k":[null]},"e":{"a":2},"f":{"z":1},"g":{"k":"v"}}`,
		`{"a":1e400}`, `{"a":"1"}`, `[1,2,3]`, `{"e":{"e":{"e":null}}}`,
		`{"a":`, `{"a":1}}`, "\xff", `{"b":"\ud800"}`, `{"k":1,"k":2}`,
	} {
		f.Add([]byte(seed))
	}
	types := []reflect.Type{
		reflect.TypeFor[fuzzDoc](),
		reflect.TypeFor[*fuzzDoc](),
		reflect.TypeFor[map[string]any](),
		reflect.TypeFor[map[string]int](),
		reflect.TypeFor[[]string](),
		reflect.TypeFor[[]int8](),
		reflect.TypeFor[*[]int](),
		reflect.TypeFor[any](),
		reflect.TypeFor[json.RawMessage](),
		reflect.TypeFor[int8](),
	}
	descs := make([]*fields.Descriptor, len(types))
	for i, typ := range types {
		descs[i] = newDesc(f, typ, ",json")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i, d := range descs {
			for _, src := range []any{b, string(b)} {
				field := reflect.New(types[i]).Elem()
				s := d.Scanner()
				s.Target(field)
				err := s.Scan(src)
				if err != nil {
					var fe *fields.Error
					if !errors.As(err, &fe) || fe.Column != colName || fe.Op != "scan" {
						t.Fatalf("Scan(%q) into %v: error %q (%T) is not a *fields.Error for the column", b, types[i], err, err)
					}
					continue
				}
				// Whatever was read can be written back, but for a
				// document with a key twice in one object (kept by a
				// json.RawMessage), which is refused on the way in.
				if _, err := d.Value(field); err != nil && !(errors.Is(err, fields.ErrConvert) && strings.Contains(err.Error(), "appears twice")) {
					t.Fatalf("Scan(%q) into %v gave %#v, which cannot be written back: %v", b, types[i], field.Interface(), err)
				}
			}
		}
	})
}

// FuzzJSONCodecMarshal checks JSONCodec.Marshal against the standard
// library's own unescaped form, a json.Encoder with SetEscapeHTML(false),
// for arbitrary strings as a value, as a map key and inside a
// json.Marshaler's output.
func FuzzJSONCodecMarshal(f *testing.F) {
	for _, seed := range []string{"", "a&b", "<script>", `\u0026`, `\\u0026`, "\\", "\\\\<", "\u2028\u2029", "\x00\x1f&", "\xff<", `"&"`, "é&ü"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{s, map[string]string{s: s}, []any{s, 1, json.RawMessage(`["<&>"]`)}} {
			got, err := fields.JSONCodec{}.Marshal(v)
			if err != nil {
				t.Fatalf("Marshal(%#v): %v", v, err)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			if string(got)+"\n" != want.String() {
				t.Fatalf("Marshal(%#v) = %s, want %s", v, got, want.String())
			}
		}
	})
}
