package sqlgentest

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// PathRow is the row type of [JSONPathDifferential].
type PathRow struct {
	ID  int64 `sql:",primary"`
	Doc any   `sql:",json"`
}

// PathKeys are the member names the documents of [JSONPathDifferential]
// are made of: plain ones, and hostile ones (quotes, backslashes,
// backticks, $, *, path syntax, SQL syntax, unicode, the empty name,
// numbers as names, characters JSON escapes).
var PathKeys = []string{
	"a", "b", "theme", `"`, `\`, `'`, "`", "$", "*", ".", "a.b", "[0]", "0", "1", "",
	"é", "日本", "😀", "<&>", "a b", "\n", "\u2028", "\x01", "?", "'; DROP TABLE t; --", `\"`, "$.a",
}

// pathScalars are the scalars of the documents and the filter values:
// numbers spelled several ways (json.Number keeps the spelling), strings
// that look like other types, booleans, null.
var pathScalars = []any{
	json.Number("1"), json.Number("1.0"), json.Number("1e0"), json.Number("10e-1"), json.Number("2"),
	json.Number("-0"), json.Number("0"), json.Number("1.5"), json.Number("15e-1"), json.Number("-3"),
	json.Number("9007199254740993"), json.Number("0.1"),
	"1", "true", "null", "a", "", "é", `x"y`, `\`, "<&>", "\u2028", "A",
	true, false, nil,
}

func randDoc(r *rand.Rand, depth int) any {
	n := r.IntN(10)
	switch {
	case depth > 2 || n < 4:
		return pathScalars[r.IntN(len(pathScalars))]
	case n < 7:
		m := map[string]any{}
		for range r.IntN(5) {
			m[PathKeys[r.IntN(len(PathKeys))]] = randDoc(r, depth+1)
		}
		return m
	default:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randDoc(r, depth+1)
		}
		return a
	}
}

func randPath(r *rand.Rand, keys []string) (string, []any) {
	steps := make([]any, 1+r.IntN(3))
	for i := range steps {
		if r.IntN(4) == 0 {
			steps[i] = r.IntN(3)
		} else {
			steps[i] = keys[r.IntN(len(keys))]
		}
	}
	return sqlgen.JSONPath("doc", steps...), steps
}

// existingPath returns a path into doc that leads somewhere (with luck,
// to a scalar), and a filter value equal to what is there.
func existingPath(r *rand.Rand, doc any, tidb bool) (string, []any, any) {
	var steps []any
	v := doc
	for len(steps) < 3 {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				break
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			k := keys[r.IntN(len(keys))]
			if tidb && k == "*" {
				break
			}
			steps, v = append(steps, k), x[k]
			continue
		case []any:
			if len(x) == 0 {
				break
			}
			i := r.IntN(len(x))
			steps, v = append(steps, i), x[i]
			continue
		}
		break
	}
	if len(steps) == 0 {
		steps = []any{"a"}
	}
	val := v
	if n, ok := v.(json.Number); ok {
		f, _ := strconv.ParseFloat(string(n), 64)
		val = f
		if r.IntN(2) == 0 && f == float64(int64(f)) {
			val = int64(f)
		}
	}
	switch val.(type) {
	case map[string]any, []any:
		val = filterScalar(r)
	}
	return sqlgen.JSONPath("doc", steps...), steps, val
}

// walk is the reference walk of a decoded document: member names in
// objects, indexes in arrays, [0] on anything else the value itself (as
// MySQL and MariaDB do); absent is reported by ok.
func walk(v any, steps []any) (any, bool) {
	for _, s := range steps {
		switch s := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			a, ok := v.([]any)
			switch {
			case ok && s < len(a):
				v = a[s]
			case !ok && s == 0:
			default:
				return nil, false
			}
		}
	}
	return v, true
}

// filterScalar is a filter value: a Go value of the types a path
// compares with.
func filterScalar(r *rand.Rand) any {
	switch v := pathScalars[r.IntN(len(pathScalars))].(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		switch r.IntN(3) {
		case 0:
			if f == float64(int64(f)) {
				return int64(f)
			}
			return f
		case 1:
			return f
		}
		return v
	default:
		return v
	}
}

func randFilterValue(r *rand.Rand) any {
	switch r.IntN(6) {
	case 0:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = filterScalar(r)
		}
		return l
	case 1:
		return []string{"a", "1", ""}[:r.IntN(4)]
	case 2:
		return []int{1, 2, -3}[:1+r.IntN(3)]
	}
	return filterScalar(r)
}

// JSONPathDifferential checks on the server of [DSN] (MariaDB, MySQL or
// TiDB) that a Filter on a JSON path selects exactly the rows the Tester
// accepts, and that an Order on it sorts as documented, over rows
// random documents written through sqlgen (from seed) and many random
// paths and values, through a plain DB, one with a statement cache and
// a DSN with interpolateParams=true, and under WithBatching.
func JSONPathDifferential(t *testing.T, seed uint64, rows, filters int) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 1))
	pd := newPathDiff(t, r, rows)
	matches, valueMatches := 0, 0
	for i := range filters {
		key, steps := randPath(r, pd.keys)
		val := randFilterValue(r)
		if i%2 == 0 {
			// A path that exists in a row, compared with its value.
			key, steps, val = existingPath(r, pd.back[r.IntN(len(pd.back))].Doc, pd.tidb)
		}
		db := pd.dbs[i%len(pd.dbs)]
		c := ctx
		if i%5 == 4 {
			c = sqlgen.WithBatching(ctx)
		}
		n := pd.check(c, db, seed, key, val)
		matches += n
		if val != nil && n > 0 {
			valueMatches++
		}
		if i%4 == 0 {
			checkPathOrder(t, db, key, steps, pd.back, i%8 == 0)
		}
	}
	if valueMatches < filters/8 {
		t.Fatalf("only %d of %d filters on a value matched a row: the generator tests too little", valueMatches, filters)
	}
	t.Logf("%d rows, %d filters, %d matches, %d filters on a value matched", rows, filters, matches, valueMatches)
}

// pathDiff is the set-up of [JSONPathDifferential]: the rows as written
// and as read back, the DBs to read them through, the member names paths
// may use.
type pathDiff struct {
	t         *testing.T
	schema    *sqlgen.Schema
	dbs       []*sqlgen.DB
	all, back []*PathRow
	keys      []string
	tidb      bool
}

func newPathDiff(t *testing.T, r *rand.Rand, rows int) *pathDiff {
	t.Helper()
	ctx := context.Background()
	pd := &pathDiff{t: t, schema: sqlgen.NewSchema(), keys: PathKeys}
	pd.schema.MustRegisterType("pd", sqlgen.UniqueID, PathRow{})
	ddl := []string{"CREATE TABLE pd (id BIGINT PRIMARY KEY, doc JSON NULL)"}
	conn := Open(t, ddl)
	pd.dbs = []*sqlgen.DB{sqlgen.NewDB(conn, pd.schema), sqlgen.NewDB(conn, pd.schema, sqlgen.WithStmtCache(64))}
	conn2 := Open(t, ddl, Params("interpolateParams", "true"))
	pd.all = make([]*PathRow, rows)
	for i := range pd.all {
		pd.all[i] = &PathRow{ID: int64(i + 1)}
		if i > 0 { // row 1: a NULL column
			pd.all[i].Doc = randDoc(r, 0)
		}
	}
	if err := pd.dbs[0].InsertRows(ctx, pd.all, 0); err != nil {
		t.Fatal(err)
	}
	pd.dbs = append(pd.dbs, sqlgen.NewDB(conn2, pd.schema))
	if err := pd.dbs[2].InsertRows(ctx, pd.all, 0); err != nil {
		t.Fatal(err)
	}
	var err error
	pd.back, err = sqlgen.Select[PathRow](ctx, pd.dbs[0], nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
	if err != nil {
		t.Fatal(err)
	}
	// TiDB (v8.4) reads a member name "*", quoted or not, as the
	// wildcard (a TiDB bug; MySQL reads the quoted name as a name): no
	// path there names it.
	var version string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	pd.tidb = strings.Contains(version, "TiDB")
	if pd.tidb {
		pd.keys = slices.DeleteFunc(slices.Clone(PathKeys), func(k string) bool { return k == "*" })
		t.Logf("%s: no path names the member \"*\" (TiDB reads it as the wildcard)", version)
	}
	return pd
}

// check compares the rows the server selects for Filter{key: val} through
// db with the rows the Tester accepts, and returns how many match.
func (pd *pathDiff) check(ctx context.Context, db *sqlgen.DB, seed uint64, key string, val any) int {
	t := pd.t
	t.Helper()
	f := sqlgen.Filter{key: val}
	tester, err := pd.schema.MakeTester("pd", f)
	if err != nil {
		t.Fatalf("MakeTester(%q: %#v): %v", key, val, err)
	}
	var want []int64
	for _, row := range pd.back {
		if tester.Test(row) {
			want = append(want, row.ID)
		}
	}
	for _, row := range pd.all { // as written: the same answer
		if tester.Test(row) != slices.Contains(want, row.ID) {
			t.Fatalf("filter %q = %#v: Tester differs on row %d as written and as read back (%s)", key, val, row.ID, docText(row.Doc))
		}
	}
	got, err := sqlgen.Select[PathRow](ctx, db, f, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
	if err != nil {
		t.Fatalf("filter %q = %#v: %v", key, val, err)
	}
	gotIDs := make([]int64, len(got))
	for j, g := range got {
		gotIDs[j] = g.ID
	}
	if !slices.Equal(gotIDs, want) {
		t.Errorf("filter %q = %#v (seed %d): the server selects %v, the Tester %v", key, val, seed, gotIDs, want)
		for _, row := range pd.back {
			if slices.Contains(gotIDs, row.ID) != slices.Contains(want, row.ID) {
				t.Logf("row %d: %s", row.ID, docText(row.Doc))
			}
		}
		t.FailNow()
	}
	// Without an Order the read takes the shape cache: the same rows.
	got, err = sqlgen.Select[PathRow](ctx, db, f, nil)
	if err != nil || len(got) != len(want) {
		t.Fatalf("filter %q = %#v without options: %d rows, %v; want %d", key, val, len(got), err, len(want))
	}
	return len(want)
}

func docText(v any) string {
	b, _ := fields.JSONCodec{}.Marshal(v)
	return string(b)
}

// pathSortKey is the documented order of a path's values: absent or null,
// numbers by value, strings and booleans by their bytes (false and
// true as the text), objects and arrays.
type pathSortKey struct {
	rank int
	num  float64
	text string
}

func sortKeyOf(v any) pathSortKey {
	switch x := v.(type) {
	case nil:
		return pathSortKey{}
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return pathSortKey{rank: 1, num: f}
	case float64:
		return pathSortKey{rank: 1, num: x}
	case string:
		return pathSortKey{rank: 2, text: x}
	case bool:
		if x {
			return pathSortKey{rank: 3, text: "true"}
		}
		return pathSortKey{rank: 3, text: "false"}
	}
	return pathSortKey{rank: 4}
}

func checkPathOrder(t *testing.T, db *sqlgen.DB, key string, steps []any, back []*PathRow, desc bool) {
	t.Helper()
	o := sqlgen.Asc(key)
	if desc {
		o = sqlgen.Desc(key)
	}
	got, err := sqlgen.Select[PathRow](context.Background(), db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{o, sqlgen.Asc("id")}})
	if err != nil {
		t.Fatalf("order by %q: %v", key, err)
	}
	want := slices.Clone(back)
	keyOf := func(r *PathRow) pathSortKey {
		v, _ := walk(r.Doc, steps)
		return sortKeyOf(v)
	}
	slices.SortStableFunc(want, func(a, b *PathRow) int {
		ka, kb := keyOf(a), keyOf(b)
		c := cmp.Or(cmp.Compare(ka.rank, kb.rank), cmp.Compare(ka.num, kb.num), cmp.Compare(ka.text, kb.text))
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.ID, b.ID))
	})
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("order by %q (desc %v): position %d is row %d (%s), want row %d (%s)", key, desc, i, got[i].ID, docText(got[i].Doc), want[i].ID, docText(want[i].Doc))
		}
	}
}
