package jsontext

import (
	"encoding/json"
	"errors"
	"testing"
)

// The pairs MariaDB 10.11's JSON_EQUALS was seen to answer (see the
// package documentation); TestJSONTesterDifferential in sqlgen checks
// them against the live server.
func TestCanonicalEquality(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		equal bool
	}{
		{`1`, `1.0`, true},
		{`1`, `1e0`, true},
		{`1`, `10e-1`, true},
		{`1E+0`, `0.1e1`, true},
		{`0`, `-0`, true},
		{`0`, `-0.0e7`, true},
		{`100`, `1e2`, true},
		{`0.1`, `1e-1`, true},
		{`1.5`, `1.50`, true},
		{`9007199254740993`, `9007199254740992`, false},
		{`1.5`, `1.50000000000000000001`, false},
		{`12345678901234567890`, `12345678901234567891`, false},
		{`1e400`, `10e399`, true},
		{`1e400`, `2e400`, false},
		{`1e-400`, `0`, false},
		{`1e99999999999999999999`, `10e99999999999999999998`, true},
		{`{"a":1,"b":2}`, `{"b":2, "a":1}`, true},
		{`{"a":1}`, `{"a":1,"b":null}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`{}`, `[]`, false},
		{`"\u00e9"`, `"é"`, false},
		{`"\u00E9"`, `"\u00e9"`, false},
		{`"\/"`, `"/"`, false},
		{`{"\u0061":1}`, `{"a":1}`, false},
		{`"a"`, `"A"`, false},
		{`true`, `1`, false},
		{`1`, `"1"`, false},
		{` [ 1 , { "k" : [ ] } ] `, `[1,{"k":[]}]`, true},
		{`null`, `null`, true},
	} {
		ca, err := Canonical([]byte(c.a))
		if err != nil {
			t.Fatalf("Canonical(%s): %v", c.a, err)
		}
		cb, err := Canonical([]byte(c.b))
		if err != nil {
			t.Fatalf("Canonical(%s): %v", c.b, err)
		}
		if (ca == cb) != c.equal {
			t.Errorf("%s (%s) and %s (%s): equal %v, want %v", c.a, ca, c.b, cb, ca == cb, c.equal)
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	for _, c := range []struct {
		doc string
		key string
	}{
		{`{"a":1,"a":2}`, "a"},
		{`{"a":1,"\u0061":2}`, "a"},
		{`[1,{"x":{"k":1,"b":2,"k":3}}]`, "k"},
		{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":0}`, "a"},
		{`{"\ud83d\ude00":1,"😀":2}`, "😀"},
		{`{"a":1,"b":{"a":1}}`, ""},
		{`{"A":1,"a":2}`, ""},
		{`[]`, ""},
	} {
		k, dup := DuplicateKey([]byte(c.doc))
		if dup != (c.key != "") || k != c.key {
			t.Errorf("DuplicateKey(%s) = %q, %v; want %q", c.doc, k, dup, c.key)
		}
		_, err := Canonical([]byte(c.doc))
		if errors.Is(err, ErrDuplicateKey) != (c.key != "") {
			t.Errorf("Canonical(%s): %v", c.doc, err)
		}
	}
}

// FuzzCanonical checks the parser against encoding/json: it accepts what
// json.Valid accepts (but documents with a key twice), and its canonical
// form is itself valid JSON with the same canonical form.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`1`, `-0.0e+00`, `{"a":[1,"\u00e9",{}],"b":null}`, `[`, `{"a":1,"a":2}`, `"\ud800"`, `01`, `1.`, `.5`, `1e`, "\"\x01\"", `"\x"`, " \t\n1 ", `{"a" 1}`, `[1,]`, `tru`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Canonical(b)
		valid := json.Valid(b)
		if err != nil {
			if valid && !errors.Is(err, ErrDuplicateKey) {
				t.Fatalf("Canonical(%q) refused valid JSON: %v", b, err)
			}
			if _, dup := DuplicateKey(b); valid && !dup {
				t.Fatalf("Canonical(%q) says duplicate, DuplicateKey does not", b)
			}
			return
		}
		if !valid {
			t.Fatalf("Canonical(%q) accepted invalid JSON", b)
		}
		if !json.Valid([]byte(c)) {
			t.Fatalf("Canonical(%q) = %q, not valid JSON", b, c)
		}
		c2, err := Canonical([]byte(c))
		if err != nil || c2 != c {
			t.Fatalf("Canonical(Canonical(%q)) = %q, %v; want %q", b, c2, err, c)
		}
	})
}
