package sqlgen

import (
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
)

type pathDoc struct {
	ID       int64 `sql:",primary"`
	Name     string
	Settings map[string]any `sql:",json"`
}

func pathTable(t *testing.T) *table {
	t.Helper()
	tb, err := newTable("t", UniqueID, pathDoc{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// hexPath decodes the hex literal of the path in a condition's SQL.
var hexPath = regexp.MustCompile(`_utf8mb4 0x([0-9A-F]+)`)

func TestParsePath(t *testing.T) {
	tb := pathTable(t)
	for _, tc := range []struct {
		key, text string
	}{
		{"settings.theme", `$."theme"`},
		{"settings.a.b", `$."a"."b"`},
		{"settings.tags[2]", `$."tags"[2]`},
		{"settings[0]", `$[0]`},
		{`settings."a.b"[10].c`, `$."a.b"[10]."c"`},
		{`settings.""`, `$.""`},
		{`settings."\""`, `$."\""`},
		{`settings."\\"`, `$."\\"`},
		{"settings.é", `$."é"`},
		{"settings.<&>", `$."<&>"`},         // as JSONCodec writes member names
		{`settings."\u2028"`, `$."\u2028"`}, // as json.Marshal writes it
		{"settings.$.*", `$."$"."*"`},
		{"settings.it's`", "$.\"it's`\""},
		{"settings.a]b", `$."a]b"`},
		{JSONPath("settings", "a.b", 2, `"`, ""), `$."a.b"[2]."\"".""`},
		{JSONPath("settings", "<&>", "\n"), `$."<&>"."\n"`},
	} {
		c, err := tb.pathColumn(tc.key)
		if err != nil {
			t.Errorf("%q: %v", tc.key, err)
			continue
		}
		if c.path.text != tc.text {
			t.Errorf("%q: path %s, want %s", tc.key, c.path.text, tc.text)
		}
		m := hexPath.FindStringSubmatch(c.path.expr)
		if m == nil || !strings.HasPrefix(c.path.expr, "JSON_EXTRACT(`settings`,_utf8mb4 0x") {
			t.Errorf("%q: expression %s", tc.key, c.path.expr)
			continue
		}
		b, _ := hex.DecodeString(m[1])
		if string(b) != tc.text {
			t.Errorf("%q: the hex literal says %s, want %s", tc.key, b, tc.text)
		}
	}
	for _, tc := range []struct {
		key  string
		want error
	}{
		{"nosuch.a", ErrUnknownColumn},
		{"nosuch", ErrUnknownColumn},
		{"name.a", ErrInvalidArgument}, // not a JSON column
		{"settings.", ErrInvalidArgument},
		{"settings..a", ErrInvalidArgument},
		{"settings.a.", ErrInvalidArgument},
		{"settings[]", ErrInvalidArgument},
		{"settings[-1]", ErrInvalidArgument},
		{"settings[1", ErrInvalidArgument},
		{"settings[a]", ErrInvalidArgument},
		{"settings[1]x", ErrInvalidArgument},
		{"settings[1234567890]", ErrInvalidArgument},
		{`settings."a`, ErrInvalidArgument},
		{`settings."a"b`, ErrInvalidArgument},
		{`settings."\x"`, ErrInvalidArgument},
		{"settings.\xff", ErrInvalidArgument},
		{JSONPath("settings", 1.5), ErrInvalidArgument},
		{JSONPath("settings", -1), ErrInvalidArgument},
		{"settings" + strings.Repeat("[0]", 101), ErrInvalidArgument},
	} {
		_, err := tb.pathColumn(tc.key)
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.key, err, tc.want)
		}
	}
}

func TestPathFilterSQL(t *testing.T) {
	tb := pathTable(t)
	const e = "JSON_EXTRACT(`settings`,_utf8mb4 0x242E227468656D6522)" // $."theme"
	for _, tc := range []struct {
		v    any
		sql  string
		args []any
	}{
		{nil, "(" + e + " IS NULL OR JSON_TYPE(" + e + ")='NULL')", nil},
		{(*string)(nil), "(" + e + " IS NULL OR JSON_TYPE(" + e + ")='NULL')", nil},
		{"dark", "(CASE WHEN JSON_TYPE(" + e + ")='STRING' THEN CAST(JSON_UNQUOTE(" + e + ") AS BINARY) END)=?", []any{"dark"}},
		{int32(3), "(CASE WHEN JSON_TYPE(" + e + ") IN ('INTEGER','UNSIGNED INTEGER','DOUBLE','DECIMAL') THEN CAST(JSON_UNQUOTE(" + e + ") AS DOUBLE) END)=?", []any{3.0}},
		{true, "(CASE WHEN JSON_TYPE(" + e + ")='BOOLEAN' THEN JSON_UNQUOTE(" + e + ") END)=?", []any{"true"}},
		{[]string{"a", "b"}, "(CASE WHEN JSON_TYPE(" + e + ")='STRING' THEN CAST(JSON_UNQUOTE(" + e + ") AS BINARY) END) IN (?,?)", []any{"a", "b"}},
		{[]any{nil, 1, "x"}, "((" + e + " IS NULL OR JSON_TYPE(" + e + ")='NULL') OR (CASE WHEN JSON_TYPE(" + e + ") IN ('INTEGER','UNSIGNED INTEGER','DOUBLE','DECIMAL') THEN CAST(JSON_UNQUOTE(" + e + ") AS DOUBLE) END)=? OR (CASE WHEN JSON_TYPE(" + e + ")='STRING' THEN CAST(JSON_UNQUOTE(" + e + ") AS BINARY) END)=?)", []any{1.0, "x"}},
		{[]int{}, "FALSE", nil},
	} {
		q, args, err := tb.buildSelect(tb.countSQL, Filter{"settings.theme": tc.v}, nil, 0, jsonUnknown)
		if err != nil {
			t.Errorf("%#v: %v", tc.v, err)
			continue
		}
		if want := "SELECT COUNT(*) FROM `t` WHERE " + tc.sql; q != want {
			t.Errorf("%#v:\n got %s\nwant %s", tc.v, q, want)
		}
		if len(args) != len(tc.args) {
			t.Errorf("%#v: args %#v, want %#v", tc.v, args, tc.args)
			continue
		}
		for i := range args {
			if args[i] != tc.args[i] {
				t.Errorf("%#v: args %#v, want %#v", tc.v, args, tc.args)
			}
		}
	}
	for _, v := range []any{[]byte("x"), struct{}{}, map[string]any{}, 1.0 / zero(), [2]int{}} {
		_, _, err := tb.buildSelect(tb.selectSQL, Filter{"settings.theme": v}, nil, 0, jsonUnknown)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%#v: %v, want ErrInvalidArgument", v, err)
		}
	}
}

func zero() float64 { return 0 }

// TestPathShapeCache: the shape cache keys on the path: two paths of the
// same shape get their own text, and a cached read gives the same text
// and arguments as one built the general way.
func TestPathShapeCache(t *testing.T) {
	tb := pathTable(t)
	var buf [4]any
	for range 2 {
		for _, f := range []Filter{
			{"settings.a": "x", "id": int64(1)},
			{"settings.b": "x", "id": int64(1)},
			{"settings.a": 2, "id": int64(1)},
			{"settings.a": nil, "id": int64(1)},
			{"settings[0]": true},
			{`settings."a"`: "y"}, // the same path as settings.a, its own key
		} {
			q, args, ok, err := tb.shapeSelect(buf[:0], false, f, 0, jsonUnknown)
			if err != nil || !ok {
				t.Fatalf("%v: ok %v, %v", f, ok, err)
			}
			wq, wargs, err := tb.buildSelect(tb.selectSQL, f, nil, 0, jsonUnknown)
			if err != nil {
				t.Fatal(err)
			}
			if q != wq || len(args) != len(wargs) {
				t.Fatalf("%v: cached %s %v, built %s %v", f, q, args, wq, wargs)
			}
			for i := range args {
				if args[i] != wargs[i] {
					t.Fatalf("%v: cached args %v, built %v", f, args, wargs)
				}
			}
		}
	}
	m := tb.shapes.texts.Load()
	if m == nil || len(*m) != 6 {
		t.Fatalf("%d shapes cached, want 6", len(*m))
	}
}

// TestPathOrderSQL: an Order on a path sorts by its three keys, each
// taking the direction; orderExpr gives them joined.
func TestPathOrderSQL(t *testing.T) {
	tb := pathTable(t)
	q, _, err := tb.buildSelect(tb.selectSQL, nil, &SelectOptions{Order: []Order{Desc("settings.n"), Asc("id")}}, 0, jsonUnknown)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(q, " END) DESC"); n != 3 || !strings.HasSuffix(q, "END) DESC,`id`") {
		t.Errorf("ORDER BY: %s", q)
	}
	expr, c, err := tb.orderExpr(Asc("settings.n"))
	if err != nil || c.path == nil || strings.Count(expr, "(CASE WHEN") != 3 {
		t.Errorf("orderExpr: %s, %v", expr, err)
	}
	if _, _, err := tb.orderExpr(Asc("name.n")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("order on a path of a non-JSON column: %v", err)
	}
	if _, _, err := tb.orderExpr(Asc("nosuch")); !errors.Is(err, ErrUnknownColumn) {
		t.Errorf("order on an unknown column: %v", err)
	}
}
