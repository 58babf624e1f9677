package sqlgen_test

// FuzzFilter: identifiers start with "fz".

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type fzItem struct {
	ID    int64 `sql:",primary"`
	Name  string
	Level int8
	Note  *string
	Data  []byte
	Tags  []string `sql:",json"`
	Key   string   `sql:"key"`
	Count uint32   `sql:",implicitnull"`
}

var fzColumns = []string{"id", "name", "level", "note", "data", "tags", "key", "count"}

const fzHead = "SELECT `id`,`name`,`level`,`note`,`data`,`tags`,`key`,`count` FROM `fz_items`"

// fzCapture is both the query matcher and the value converter of a
// sqlmock: it accepts any statement and records its text and arguments,
// refusing arguments that are not plain driver values.
type fzCapture struct {
	mu   sync.Mutex
	sql  []string
	args []driver.Value
}

// fzVersionSQL is the query by which a DB asks its server's version, the
// first time a JSON column is filtered. It carries no values.
const fzVersionSQL = "SELECT VERSION()"

// Match matches the version query to its own expectation, and records
// every other statement.
func (c *fzCapture) Match(expected, actual string) error {
	if (actual == fzVersionSQL) != (expected == fzVersionSQL) {
		return errors.New("fzCapture: the version query goes to its own expectation")
	}
	if actual == fzVersionSQL {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// With MatchExpectationsInOrder(false), sqlmock matches the chosen
	// expectation twice in a row: record the statement once.
	if n := len(c.sql); n == 0 || c.sql[n-1] != actual {
		c.sql = append(c.sql, actual)
	}
	return nil
}

// fzVersions are server versions for which sqlgen compares JSON
// documents in each of its three ways.
var fzVersions = []string{"10.6.5-MariaDB", "10.11.19-MariaDB", "8.0.36"}

func (c *fzCapture) ConvertValue(v any) (driver.Value, error) {
	switch v.(type) {
	case nil, int64, uint64, float64, bool, []byte, string, time.Time:
	default:
		return nil, fmt.Errorf("a %T is not a plain driver.Value", v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.args = append(c.args, v)
	return v, nil
}

// fzRun runs a Query with filter on a server of the given version and
// returns the statement sent, if any, besides the version query.
func fzRun(t *testing.T, s *sqlgen.Schema, version string, filter sqlgen.Filter) (sent bool, query string, args []driver.Value, err error) {
	t.Helper()
	c := &fzCapture{}
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(c), sqlmock.ValueConverterOption(c))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mock.MatchExpectationsInOrder(false)
	mock.ExpectQuery(fzVersionSQL).WillReturnRows(sqlmock.NewRows([]string{"VERSION()"}).AddRow(version))
	mock.ExpectQuery("").WillReturnRows(sqlmock.NewRows(fzColumns))
	var rows []*fzItem
	err = sqlgen.NewDB(conn, s).Query(context.Background(), &rows, filter, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sql) > 1 {
		t.Fatalf("one Query sent %d statements: %q", len(c.sql), c.sql)
	}
	if len(c.sql) == 1 {
		return true, c.sql[0], c.args, err
	}
	return false, "", nil, err
}

// fzReplaceStrings returns a copy of filter with every string (and
// []byte) replaced by a fixed one: the shape of the statement must not
// depend on the contents of the values.
func fzReplaceStrings(filter sqlgen.Filter) sqlgen.Filter {
	out := sqlgen.Filter{}
	for k, v := range filter {
		switch x := v.(type) {
		case string:
			v = "zzzz"
		case []byte:
			v = []byte("zzzz")
		case []string:
			r := make([]string, len(x))
			for i := range r {
				r[i] = "zzzz" + strings.Repeat("z", i) // keep the elements distinct
			}
			v = r
		case []any:
			r := make([]any, len(x))
			for i, e := range x {
				if _, ok := e.(string); ok {
					e = "zzzz"
				}
				r[i] = e
			}
			v = r
		}
		out[k] = v
	}
	return out
}

func FuzzFilter(f *testing.F) {
	f.Add("name", "alice", int64(1))
	f.Add("level", "x", int64(300))
	f.Add("level", "-128", int64(-128))
	f.Add("nope", "DROP TABLE fz_items", int64(-1))
	f.Add("key", "`; DELETE FROM fz_items; --", int64(0))
	f.Add("note", "' OR 1=1 --", int64(42))
	f.Add("data", "\x00\xff\xfe", int64(7))
	f.Add("tags", `["a","b"]`, int64(0))
	f.Add("count", "", int64(0))
	f.Add("count", "1", int64(-5))
	f.Add("`id`", "id", int64(1))
	f.Add("id", "1", int64(math.MinInt64))
	f.Add("ID", "?", int64(math.MaxInt64))
	f.Add("", "", int64(0))
	f.Add("name", "?) OR (1=1", int64(0))
	f.Add("name", " IS NULL", int64(0))
	f.Add("name", "JSON_CONTAINS(`tags`,?)", int64(0))

	s := sqlgen.NewSchema()
	s.MustRegisterType("fz_items", sqlgen.UniqueID, fzItem{})
	known := map[string]bool{}
	for _, c := range fzColumns {
		known[c] = true
	}

	f.Fuzz(func(t *testing.T, col, sval string, ival int64) {
		version := fzVersions[uint64(ival)%uint64(len(fzVersions))]
		filters := []sqlgen.Filter{
			{col: sval},
			{col: ival},
			{col: []any{sval, ival, nil}},
			{col: []string{sval, sval + "x"}},
			{
				"name":  sval,
				"level": ival,
				"note":  []any{sval, nil},
				"data":  []byte(sval),
				"key":   []string{sval, "k" + sval},
				"tags":  []string{sval},
				"count": ival,
				"id":    []any{ival},
			},
			{"name": sval, col: sval},
		}
		for _, filter := range filters {
			sent, query, args, err := fzRun(t, s, version, filter)
			unknown, hasUnknown := "", false
			for k := range filter {
				// A JSON path (column.key, column[2]) is known when its
				// column is: a path on a column that is not JSON is
				// ErrInvalidArgument.
				base, _, isPath := strings.Cut(strings.Replace(k, "[", ".", 1), ".")
				if !known[k] && !(isPath && known[base]) {
					unknown, hasUnknown = k, true
				}
			}
			if err != nil {
				if sent {
					t.Fatalf("filter %#v: statement %q was sent, then error %v", filter, query, err)
				}
				if hasUnknown && !errors.Is(err, sqlgen.ErrUnknownColumn) {
					t.Fatalf("filter %#v with unknown column %q: error %v, want ErrUnknownColumn", filter, unknown, err)
				}
				named := strings.Contains(err.Error(), fmt.Sprintf("column %q", unknown)) || strings.Contains(err.Error(), fmt.Sprintf("JSON path %q", unknown))
				if errors.Is(err, sqlgen.ErrUnknownColumn) && (!hasUnknown || !named) {
					t.Fatalf("filter %#v: ErrUnknownColumn %q, but the unknown column is %q", filter, err, unknown)
				}
				if !errors.Is(err, sqlgen.ErrUnknownColumn) && !errors.Is(err, sqlgen.ErrConvert) && !errors.Is(err, sqlgen.ErrInvalidArgument) {
					t.Fatalf("filter %#v: unexpected error %v", filter, err)
				}
				continue
			}
			if hasUnknown {
				t.Fatalf("filter %#v with unknown column %q succeeded", filter, unknown)
			}
			if !sent {
				t.Fatalf("filter %#v: Query succeeded without sending a statement", filter)
			}
			if !strings.HasPrefix(query, fzHead) {
				t.Fatalf("filter %#v: statement %q does not start with %q", filter, query, fzHead)
			}
			if n := strings.Count(query, "?"); n != len(args) {
				t.Fatalf("filter %#v: statement %q has %d placeholders for %d arguments", filter, query, n, len(args))
			}
			// The values are bound, never part of the text: the same filter
			// with other strings gives the same text, and a string value
			// long enough to be recognisable is not in it.
			_, fixed, _, ferr := fzRun(t, s, version, fzReplaceStrings(filter))
			if ferr != nil {
				t.Fatalf("filter %#v succeeded but the same with fixed strings failed: %v", filter, ferr)
			}
			if fixed != query {
				t.Fatalf("filter %#v: statement text depends on the values:\n%q\n%q", filter, query, fixed)
			}
			for _, v := range []string{sval, sval + "x", "k" + sval} {
				if len(v) >= 4 && !strings.Contains(fixed, v) && strings.Contains(query, v) {
					t.Fatalf("filter %#v: value %q appears in the statement %q", filter, v, query)
				}
			}
		}
	})
}
