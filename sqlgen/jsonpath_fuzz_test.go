package sqlgen

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzJSONPath feeds arbitrary Filter keys and Order columns to the path
// parser, the SQL builder and the Tester: a key is refused with
// ErrInvalidArgument or ErrUnknownColumn, or its statement carries the path
// only as a hex literal (no quote of the key reaches the SQL text), one
// placeholder per argument, a path that JSONPath rebuilds from its steps
// parses to the same path, and the Tester never panics on a document.
func FuzzJSONPath(f *testing.F) {
	for _, k := range []string{".theme", ".a.b", ".tags[2]", "[0]", `."a.b"[10].c`, `.""`, `."\""`,
		".it's`", ".a]b", ".$.*", "..a", "[]", "[-1]", "[99999999999999999999]", `."`, `."\u0000"`,
		".'); DROP TABLE t; --", ".é[3]", "[1][2][3]", `."\ud800"`} {
		f.Add(k, "dark", int64(2))
	}
	tb, err := newTable("t", UniqueID, pathDoc{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	benign, err := tb.pathColumn("settings.x")
	if err != nil {
		f.Fatal(err)
	}
	s := NewSchema()
	s.MustRegisterType("t", UniqueID, pathDoc{})
	docs := []map[string]any{nil, {}, {"theme": "dark", "a": map[string]any{"b": json.Number("2")}, "tags": []any{"x", true, nil}}}
	f.Fuzz(func(t *testing.T, rest, sval string, ival int64) {
		key := "settings" + rest
		c, err := tb.pathColumn(key)
		if err != nil {
			if isPathKey(key) && !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrUnknownColumn) {
				t.Fatalf("%q: %v, want ErrInvalidArgument or ErrUnknownColumn", key, err)
			}
			return
		}
		m := hexPath.FindStringSubmatch(c.path.expr)
		if m == nil || !strings.HasPrefix(c.path.expr, "JSON_EXTRACT(`settings`,_utf8mb4 0x") || strings.ContainsAny(c.path.expr, `'"\`) {
			t.Fatalf("%q: expression %s", key, c.path.expr)
		}
		if text, _ := hex.DecodeString(m[1]); string(text) != c.path.text {
			t.Fatalf("%q: hex literal %q, path %q", key, text, c.path.text)
		}
		steps := make([]any, len(c.path.steps))
		for i, st := range c.path.steps {
			if st.index >= 0 {
				steps[i] = st.index
			} else {
				steps[i] = st.key
			}
		}
		again, err := tb.pathColumn(JSONPath("settings", steps...))
		if err != nil || again.path.text != c.path.text {
			t.Fatalf("%q: JSONPath of its steps parses to %v, %v; want %s", key, again, err, c.path.text)
		}
		for _, v := range []any{sval, ival, nil, []any{sval, nil, ival}, true} {
			filter := Filter{key: v}
			q, args, err := tb.buildSelect(tb.selectSQL, filter, &SelectOptions{Order: []Order{Desc(key)}}, 0, jsonUnknown)
			if err != nil {
				t.Fatalf("%q = %#v: %v", key, v, err)
			}
			// The key changes nothing but the path's hex literal: the
			// statement is a benign key's with the other literal.
			q0, args0, err := tb.buildSelect(tb.selectSQL, Filter{"settings.x": v}, &SelectOptions{Order: []Order{Desc("settings.x")}}, 0, jsonUnknown)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ReplaceAll(q, c.path.expr, "P") != strings.ReplaceAll(q0, benign.path.expr, "P") || len(args) != len(args0) || countPlaceholders(q, true) != len(args) {
				t.Fatalf("%q = %#v: SQL %s with %d arguments", key, v, q, len(args))
			}
			tester, err := s.MakeTester("t", filter)
			if err != nil {
				t.Fatalf("MakeTester(%q = %#v): %v", key, v, err)
			}
			for _, d := range docs {
				tester.Test(&pathDoc{ID: 1, Settings: d})
			}
		}
	})
}
