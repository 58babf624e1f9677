package sqlgen_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// TestJSONTesterDifferential checks that the Tester's answer on a JSON
// column is the server's: random documents (key order, white space,
// numbers spelled 1, 1.0, 1e0, 10e-1, big integers, numbers past a
// double's precision, strings with and without unicode escapes, nested
// arrays and objects) are written through sqlgen, and for each filter
// document the rows the server returns are exactly those the Tester
// accepts, on the rows as read back and as written.
//
// Documents with a key twice in one object must be refused, by writes,
// by Filter and by MakeTester alike (MySQL keeps the last value, MariaDB
// keeps both, so no answer could be right on both).
func TestJSONTesterDifferential(t *testing.T) {
	t.Parallel()
	type jrow struct {
		ID  int64           `sql:",primary"`
		Doc json.RawMessage `sql:",json"`
		Val any             `sql:",json"`
	}
	conn := sqlgentest.Open(t, []string{"CREATE TABLE jd (id BIGINT PRIMARY KEY, doc JSON NULL, val JSON NULL)"})
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("jd", sqlgen.UniqueID, jrow{})
	db := sqlgen.NewDB(conn, schema)
	ctx := context.Background()

	var version string
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	mariadb := strings.Contains(strings.ToLower(version), "mariadb")
	if !mariadb {
		// MySQL decodes string escapes and holds numbers as doubles: the
		// documented differences of the Tester. Spell strings one way and
		// keep numbers within a double's precision there.
		t.Logf("server %s is MySQL: strings spelled one way, numbers within a double's precision", version)
	}
	seed := uint64(7)
	if s := os.Getenv("SQLGEN_JSON_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SQLGEN_JSON_SEED=%q: %v", s, err)
		}
		seed = n
	}
	t.Logf("seed %d (set SQLGEN_JSON_SEED to change it)", seed)
	g := &jgen{r: rand.New(rand.NewPCG(seed, 11)), mysql: !mariadb}

	// Trees, each stored in several spellings.
	var trees []*jnode
	for range 40 {
		trees = append(trees, g.tree(0))
	}
	var stored []*jrow
	id := int64(0)
	for _, tr := range trees {
		for range 3 {
			id++
			doc := g.text(tr)
			r := &jrow{ID: id, Doc: json.RawMessage(doc)}
			var v any
			dec := json.NewDecoder(strings.NewReader(doc))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("generated %s: %v", doc, err)
			}
			r.Val = v
			if _, err := db.InsertRow(ctx, r); err != nil {
				t.Fatalf("InsertRow %s: %v", doc, err)
			}
			stored = append(stored, r)
		}
	}
	var read []*jrow
	if err := db.Query(ctx, &read, nil, &sqlgen.SelectOptions{OrderBy: "`id`"}); err != nil {
		t.Fatal(err)
	}
	if len(read) != len(stored) {
		t.Fatalf("read %d rows, stored %d", len(read), len(stored))
	}

	check := func(col string, filterDoc any, what string) {
		t.Helper()
		f := sqlgen.Filter{col: filterDoc}
		var got []*jrow
		if err := db.Query(ctx, &got, f, nil); err != nil {
			t.Fatalf("Query %s = %s: %v", col, what, err)
		}
		server := map[int64]bool{}
		for _, r := range got {
			server[r.ID] = true
		}
		tester, err := schema.MakeTester("jd", f)
		if err != nil {
			t.Fatalf("MakeTester %s = %s: %v", col, what, err)
		}
		for i, r := range read {
			for _, row := range []*jrow{r, stored[i]} {
				if tester.Test(row) != server[r.ID] {
					t.Errorf("%s = %s, row %d (%s): the Tester says %v, the server %v", col, what, r.ID, r.Doc, !server[r.ID], server[r.ID])
				}
			}
		}
	}
	matched := 0
	for i, tr := range append(trees, g.trees(20)...) {
		for range 2 {
			doc := g.text(tr)
			check("doc", json.RawMessage(doc), doc)
			var v any
			dec := json.NewDecoder(strings.NewReader(doc))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			check("val", v, fmt.Sprintf("%#v", v))
			if i < len(trees) {
				matched++
			}
		}
	}
	if matched == 0 {
		t.Fatal("no filter was built from a stored tree")
	}

	// Duplicate keys (decoded keys compared): a written document is
	// stored as given, as the server stores it from any client, and reads
	// back byte for byte, so what was read can be written back; as a
	// filter value or in a Tester it is refused, since MySQL (keeps the
	// last) and MariaDB (keeps both) would compare differently.
	for i, doc := range []string{`{"a":1,"a":2}`, `{"a":1,"\u0061":1}`, `[{"k":[]},{"x":{"k":1,"k":1}}]`} {
		id := int64(1000 + i)
		if _, err := db.InsertRow(ctx, &jrow{ID: id, Doc: json.RawMessage(doc), Val: map[string]any{"nested": json.RawMessage(doc)}}); err != nil {
			t.Errorf("InsertRow of %s: %v", doc, err)
			continue
		}
		back, err := sqlgen.Get[jrow](ctx, db, sqlgen.Filter{"id": id}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(back.Doc) != doc {
			t.Errorf("document %s read back as %s", doc, back.Doc)
		}
		if err := db.UpdateRow(ctx, back); err != nil {
			t.Errorf("writing back the row read with %s: %v", doc, err)
		}
		var rows []*jrow
		if err := db.Query(ctx, &rows, sqlgen.Filter{"doc": json.RawMessage(doc)}, nil); !errors.Is(err, sqlgen.ErrConvert) {
			t.Errorf("Query with %s: %v, want ErrConvert", doc, err)
		}
		if _, err := schema.MakeTester("jd", sqlgen.Filter{"doc": json.RawMessage(doc)}); !errors.Is(err, sqlgen.ErrConvert) {
			t.Errorf("MakeTester with %s: %v, want ErrConvert", doc, err)
		}
	}
}

// jnode is a JSON value whose leaves are chosen from spelling groups:
// one group is one value written several ways.
type jnode struct {
	kind  byte // 'o' object, 'a' array, 'n' number, 's' string, 'l' literal
	keys  []string
	kids  []*jnode
	group int
}

var jNumberGroups = [][]string{
	{"1", "1.0", "1e0", "10e-1", "0.1e1", "1E+0"},
	{"0", "-0", "0.0", "0e5", "-0.0"},
	{"9007199254740993"},
	{"9007199254740992", "9007199254740992.0", "9.007199254740992e15"},
	{"1.5", "1.50", "15e-1"},
	{"-2.5e-3", "-0.0025"},
	{"18446744073709551615"},
	{"12345678901234567890123", "1.2345678901234567890123e22"},
	{"1.50000000000000000001"},      // past a double's precision
	{"100000000000000000000000001"}, // past 64 bits
}

// jNumberGroupsMySQL leave out what MySQL holds as a double.
var jNumberGroupsMySQL = 6

var jStringGroups = [][]string{
	{`"é"`, `"\u00e9"`, `"\u00E9"`},
	{`"/"`, `"\/"`},
	{`"A"`, `"\u0041"`},
	{`"a\nb"`, `"a\u000ab"`},
	{`""`},
	{`"😀"`, `"\ud83d\ude00"`},
	{`"a"`},
	{`"<&>"`, `"\u003c\u0026\u003e"`},
}

var jKeys = []string{"a", "b", "c", "é", "k"}

type jgen struct {
	r     *rand.Rand
	mysql bool
}

func (g *jgen) trees(n int) []*jnode {
	out := make([]*jnode, n)
	for i := range out {
		out[i] = g.tree(0)
	}
	return out
}

func (g *jgen) tree(depth int) *jnode {
	k := g.r.IntN(10)
	if depth > 2 {
		k = 4 + g.r.IntN(6)
	}
	switch {
	case k < 2:
		n := &jnode{kind: 'o'}
		keys := slices.Clone(jKeys)
		g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		for _, key := range keys[:g.r.IntN(4)] {
			n.keys = append(n.keys, key)
			n.kids = append(n.kids, g.tree(depth+1))
		}
		return n
	case k < 4:
		n := &jnode{kind: 'a'}
		for range g.r.IntN(4) {
			n.kids = append(n.kids, g.tree(depth+1))
		}
		return n
	case k < 7:
		groups := len(jNumberGroups)
		if g.mysql {
			groups = jNumberGroupsMySQL
		}
		return &jnode{kind: 'n', group: g.r.IntN(groups)}
	case k < 9:
		return &jnode{kind: 's', group: g.r.IntN(len(jStringGroups))}
	}
	return &jnode{kind: 'l', group: g.r.IntN(3)}
}

// text writes n with random spellings, key order and white space.
func (g *jgen) text(n *jnode) string {
	var b strings.Builder
	g.write(&b, n)
	return b.String()
}

func (g *jgen) ws(b *strings.Builder) {
	b.WriteString([]string{"", "", " ", "\n\t", "  "}[g.r.IntN(5)])
}

func (g *jgen) write(b *strings.Builder, n *jnode) {
	g.ws(b)
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		order := g.r.Perm(len(n.keys))
		for i, j := range order {
			if i > 0 {
				b.WriteByte(',')
			}
			g.ws(b)
			key := n.keys[j]
			if key == "é" && !g.mysql && g.r.IntN(2) == 0 {
				b.WriteString(`"\u00e9"`)
			} else {
				b.WriteString(`"` + key + `"`)
			}
			g.ws(b)
			b.WriteByte(':')
			g.write(b, n.kids[j])
		}
		g.ws(b)
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(',')
			}
			g.write(b, k)
		}
		g.ws(b)
		b.WriteByte(']')
	case 'n':
		sp := jNumberGroups[n.group]
		b.WriteString(sp[g.r.IntN(len(sp))])
	case 's':
		sp := jStringGroups[n.group]
		if g.mysql {
			b.WriteString(sp[0])
		} else {
			b.WriteString(sp[g.r.IntN(len(sp))])
		}
	case 'l':
		b.WriteString([]string{"true", "false", "null"}[n.group])
	}
	g.ws(b)
}

// TestJSONPathDifferential checks JSON path filters and orders on the
// server against the Tester (see sqlgentest.JSONPathDifferential; compat
// runs the same on TiDB, which answers as MySQL does).
func TestJSONPathDifferential(t *testing.T) {
	t.Parallel()
	seed := uint64(12)
	if s := os.Getenv("SQLGEN_JSON_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SQLGEN_JSON_SEED=%q: %v", s, err)
		}
		seed = n
	}
	sqlgentest.JSONPathDifferential(t, seed, 80, 400)
}
