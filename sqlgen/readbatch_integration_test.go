package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// batchPath is one way to run the batched-read tests: a DSN setting that
// changes how rows arrive (text or binary protocol) and a DB option.
type batchPath struct {
	name  string
	dsn   []sqlgentest.Option
	cache bool
}

var batchPaths = []batchPath{
	{name: "binary"},
	{name: "interpolateParams", dsn: []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}},
	{name: "parseTime+loc", dsn: []sqlgentest.Option{sqlgentest.Params("parseTime", "true", "loc", "Asia/Tokyo")}},
	{name: "stmtCache", cache: true},
	{name: "stmtCache+interpolateParams", dsn: []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}, cache: true},
}

// openBatchPath opens a database with ddl for path, and a DB over it that
// logs its statements.
func openBatchPath(t *testing.T, p batchPath, ddl []string, register func(*sqlgen.Schema)) (*sqlgen.DB, *sqlgentest.Recorder, *sql.DB) {
	t.Helper()
	conn := sqlgentest.Open(t, ddl, p.dsn...)
	s := sqlgen.NewSchema()
	register(s)
	log := &sqlgentest.Recorder{}
	opts := []sqlgen.Option{sqlgen.WithObserver(log.Observe)}
	if p.cache {
		opts = append(opts, sqlgen.WithStmtCache(64))
	}
	db := sqlgen.NewDB(conn, s, opts...)
	t.Cleanup(func() { db.Close() })
	return db, log, conn
}

type narrowRow struct {
	ID    int64 `sql:",primary"`
	Grp   int64
	Small int8 // the column is a SMALLINT: 300 does not fit
}

// TestBatchedReadsIsolateBadRows: one caller's row does not convert (300
// in an int8 field). In one merged statement, that caller alone gets the
// error, naming its column; every other caller gets its rows and no
// error, so nothing of the bad row reaches them. Query callers whose
// group holds the bad row fail; the others do not.
func TestBatchedReadsIsolateBadRows(t *testing.T) {
	t.Parallel()
	for _, p := range batchPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			db, log, conn := openBatchPath(t, p,
				[]string{"CREATE TABLE narrow (id BIGINT PRIMARY KEY, grp BIGINT NOT NULL, small SMALLINT NOT NULL, KEY (grp))"},
				func(s *sqlgen.Schema) { s.MustRegisterType("narrow", sqlgen.UniqueID, narrowRow{}) })
			const n = 60
			var values []string
			for i := 1; i <= n; i++ {
				small := i % 100
				if i == 17 {
					small = 300
				}
				values = append(values, fmt.Sprintf("(%d,%d,%d)", i, i%10, small))
			}
			sqlgentest.Exec(t, conn, "INSERT INTO narrow VALUES "+strings.Join(values, ","))
			ctx := context.Background()
			log.Take()

			bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(250*time.Millisecond), sqlgen.BatchSize(n))
			var wg sync.WaitGroup
			errs := make([]error, n+1)
			got := make([]*narrowRow, n+1)
			for i := 1; i <= n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					errs[i] = db.QueryRow(bctx, &got[i], sqlgen.Filter{"id": i}, nil)
				}(i)
			}
			wg.Wait()
			for i := 1; i <= n; i++ {
				if i == 17 {
					var fe *fields.Error
					if !errors.Is(errs[i], sqlgen.ErrConvert) || !errors.As(errs[i], &fe) || fe.Column != "small" {
						t.Errorf("caller of the bad row: %v, want ErrConvert naming column small", errs[i])
					}
					continue
				}
				if errs[i] != nil {
					t.Errorf("caller %d got another caller's error: %v", i, errs[i])
					continue
				}
				if want := (narrowRow{ID: int64(i), Grp: int64(i % 10), Small: int8(i % 100)}); *got[i] != want {
					t.Errorf("caller %d: %+v, want %+v", i, *got[i], want)
				}
			}
			if ev := bpStatements(t, log.Take()); len(ev) != 1 {
				t.Errorf("%d QueryRows took %d statements, want 1 merged: %v", n, len(ev), ev)
			}

			// Query by a non-key column: group 7 holds row 17.
			bctx = sqlgen.WithBatching(ctx, sqlgen.BatchWindow(250*time.Millisecond), sqlgen.BatchSize(10))
			groups := make([][]*narrowRow, 10)
			gerrs := make([]error, 10)
			for g := range groups {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					gerrs[g] = db.Query(bctx, &groups[g], sqlgen.Filter{"grp": g}, nil)
				}(g)
			}
			wg.Wait()
			for g := range groups {
				if g == 7 {
					if !errors.Is(gerrs[g], sqlgen.ErrConvert) || groups[g] != nil {
						t.Errorf("group 7: %v, %d rows; want ErrConvert and no rows", gerrs[g], len(groups[g]))
					}
					continue
				}
				if gerrs[g] != nil || len(groups[g]) != n/10 {
					t.Errorf("group %d: %v, %d rows; want %d rows", g, gerrs[g], len(groups[g]), n/10)
				}
				for _, r := range groups[g] {
					if r.Grp != int64(g) {
						t.Errorf("group %d got row %+v", g, r)
					}
				}
			}
			if ev := bpStatements(t, log.Take()); len(ev) != 1 {
				t.Errorf("10 Queries took %d statements, want 1 merged: %v", len(ev), ev)
			}
		})
	}
}

// TestBatchedQueryRowBounded: a QueryRow whose filter is not the primary
// key is not merged (a merged statement cannot say LIMIT 2 per caller):
// each runs alone, with LIMIT 2, and reads at most two rows, however many
// match. QueryRows by the primary key are merged, and each reads at
// most its one row.
func TestBatchedQueryRowBounded(t *testing.T) {
	t.Parallel()
	for _, p := range batchPaths[:2] {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			db, log, conn := openBatchPath(t, p,
				[]string{"CREATE TABLE narrow (id BIGINT PRIMARY KEY, grp BIGINT NOT NULL, small SMALLINT NOT NULL, KEY (grp))"},
				func(s *sqlgen.Schema) { s.MustRegisterType("narrow", sqlgen.UniqueID, narrowRow{}) })
			// 20,000 rows of group 1, in one statement.
			digits := "(SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 " +
				"UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
			sqlgentest.Exec(t, conn, "INSERT INTO narrow (id, grp, small) SELECT 1 + d0.n + 10*d1.n + 100*d2.n + 1000*d3.n + 10000*d4.n, 1, 0 FROM "+
				digits+" d0, "+digits+" d1, "+digits+" d2, "+digits+" d3, "+digits+" d4 WHERE d4.n < 2")
			ctx := context.Background()
			log.Take()

			const callers = 30
			bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(250*time.Millisecond), sqlgen.BatchSize(callers))
			var wg sync.WaitGroup
			errs := make(chan error, 2*callers)
			for i := 0; i < callers; i++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					var r *narrowRow
					if err := db.QueryRow(bctx, &r, sqlgen.Filter{"grp": 1}, nil); !errors.Is(err, sqlgen.ErrTooManyRows) {
						errs <- fmt.Errorf("QueryRow by grp: %v, want ErrTooManyRows", err)
					}
				}()
				go func(i int) {
					defer wg.Done()
					var r *narrowRow
					if err := db.QueryRow(bctx, &r, sqlgen.Filter{"id": i + 1}, nil); err != nil || r.ID != int64(i+1) {
						errs <- fmt.Errorf("QueryRow by id %d: %v", i+1, err)
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var byGrp, byID int
			for _, e := range bpStatements(t, log.Take()) {
				switch {
				case strings.Contains(e.SQL, "WHERE `grp`"):
					byGrp++
					if !strings.HasSuffix(e.SQL, " LIMIT 2") || e.Rows > 2 {
						t.Errorf("QueryRow by grp read %d rows with %q; want at most 2, with LIMIT 2", e.Rows, e.SQL)
					}
				default:
					byID++
					if e.Rows > callers {
						t.Errorf("merged QueryRows by id read %d rows for %d callers", e.Rows, callers)
					}
				}
			}
			if byGrp != callers || byID != 1 {
				t.Errorf("statements: %d by grp (want %d, one each), %d by id (want 1, merged)", byGrp, callers, byID)
			}
		})
	}
}

type richDoc struct {
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
	Inner *struct {
		N []int `json:"n"`
	} `json:"inner"`
}

type richRow struct {
	ID   int64 `sql:",primary"`
	Name *string
	Data []byte
	Doc  richDoc        `sql:",json"`
	Map  map[string]int `sql:",json"`
	List []int64        `sql:",json"`
	When *time.Time
}

// TestBatchedReadsNoAliasing: many callers asking for the same row, in
// one merged statement, each get a struct that shares nothing with the
// others': each mutates every pointer, byte slice, map and slice of its
// own copy, deeply and concurrently (the race detector would see a
// shared one), and every copy must still equal the row as stored.
func TestBatchedReadsNoAliasing(t *testing.T) {
	t.Parallel()
	for _, p := range batchPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			db, log, _ := openBatchPath(t, p,
				[]string{"CREATE TABLE rich (id BIGINT PRIMARY KEY, name VARCHAR(64) NULL, data LONGBLOB NULL, doc JSON NULL, map JSON NULL, list JSON NULL, `when` DATETIME(6) NULL)"},
				func(s *sqlgen.Schema) { s.MustRegisterType("rich", sqlgen.UniqueID, richRow{}) })
			ctx := context.Background()
			name := "shared"
			when := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
			stored := &richRow{ID: 1, Name: &name, Data: []byte("blob bytes"), When: &when,
				Doc: richDoc{Tags: []string{"a", "b"}, Attrs: map[string]string{"k": "v"}, Inner: &struct {
					N []int `json:"n"`
				}{N: []int{1, 2, 3}}},
				Map: map[string]int{"x": 1}, List: []int64{10, 20}}
			if _, err := db.InsertRow(ctx, stored); err != nil {
				t.Fatal(err)
			}
			want, err := sqlgen.Get[richRow](ctx, db, sqlgen.Filter{"id": 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			log.Take()

			const callers = 40
			bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(250*time.Millisecond), sqlgen.BatchSize(callers))
			got := make([]*richRow, callers)
			var start, mutated sync.WaitGroup
			start.Add(callers)
			mutated.Add(callers)
			errs := make([]error, callers)
			for i := 0; i < callers; i++ {
				go func(i int) {
					defer mutated.Done()
					if i%2 == 0 {
						errs[i] = db.QueryRow(bctx, &got[i], sqlgen.Filter{"id": 1}, nil)
					} else {
						var rows []*richRow
						if errs[i] = db.Query(bctx, &rows, sqlgen.Filter{"id": 1}, nil); errs[i] == nil && len(rows) == 1 {
							got[i] = rows[0]
						}
					}
					start.Done()
					start.Wait() // every caller has its row before anyone mutates
					r := got[i]
					if r == nil {
						return
					}
					*r.Name = fmt.Sprint("mutated ", i)
					r.Data[0] = 'X'
					r.Doc.Tags[0] = "changed"
					r.Doc.Attrs["k"] = "changed"
					r.Doc.Inner.N[1] = -1
					r.Map["x"] = i
					r.List[0] = int64(i)
					*r.When = r.When.Add(time.Hour)
				}(i)
			}
			mutated.Wait()
			for i, err := range errs {
				if err != nil || got[i] == nil {
					t.Fatalf("caller %d: %v", i, err)
				}
			}
			if ev := bpStatements(t, log.Take()); len(ev) != 1 {
				t.Errorf("%d reads of one row took %d statements, want 1 merged", callers, len(ev))
			}
			for i := range got {
				for j := range got {
					if i != j && (got[i] == got[j] || got[i].Name == got[j].Name || &got[i].Data[0] == &got[j].Data[0] || got[i].When == got[j].When) {
						t.Fatalf("callers %d and %d share memory", i, j)
					}
				}
			}
			// Each caller changed only its own copy: undo its own
			// changes, and it must equal the stored row again.
			for i, r := range got {
				if *r.Name != fmt.Sprint("mutated ", i) || r.Map["x"] != i || r.List[0] != int64(i) {
					t.Errorf("caller %d: its changes were overwritten by another caller's: %+v", i, r)
				}
				*r.Name = name
				r.Data[0] = 'b'
				r.Doc.Tags[0] = "a"
				r.Doc.Attrs["k"] = "v"
				r.Doc.Inner.N[1] = 2
				r.Map["x"] = 1
				r.List[0] = 10
				*r.When = r.When.Add(-time.Hour)
				if diff := cmp.Diff(want, r); diff != "" {
					t.Errorf("caller %d: another caller's change reached this copy (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

type nullableRow struct {
	ID  int64 `sql:",primary"`
	Opt int64 // the column is NULL-able: a NULL does not fit
}

// TestBatchedReadsFallBack: when the merged statement cannot tell whose
// a row is (here a NULL in a filter column whose field cannot hold it),
// each caller runs its read on its own and gets what it would have got
// without batching: the caller asking for IS NULL its ErrUnexpectedNull,
// the others their rows.
func TestBatchedReadsFallBack(t *testing.T) {
	t.Parallel()
	for _, p := range batchPaths[:2] {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			db, log, conn := openBatchPath(t, p,
				[]string{"CREATE TABLE nullable (id BIGINT PRIMARY KEY, opt BIGINT NULL)"},
				func(s *sqlgen.Schema) { s.MustRegisterType("nullable", sqlgen.UniqueID, nullableRow{}) })
			sqlgentest.Exec(t, conn, "INSERT INTO nullable VALUES (1, 5), (2, NULL), (3, 5), (4, 6)")
			ctx := context.Background()
			log.Take()
			bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(250*time.Millisecond), sqlgen.BatchSize(3))
			filters := []sqlgen.Filter{{"opt": 5}, {"opt": nil}, {"opt": 6}}
			got := make([][]*nullableRow, len(filters))
			errs := make([]error, len(filters))
			var wg sync.WaitGroup
			for i, f := range filters {
				wg.Add(1)
				go func(i int, f sqlgen.Filter) {
					defer wg.Done()
					errs[i] = db.Query(bctx, &got[i], f, nil)
				}(i, f)
			}
			wg.Wait()
			if errs[0] != nil || len(got[0]) != 2 || errs[2] != nil || len(got[2]) != 1 || got[2][0].ID != 4 {
				t.Errorf("opt=5: %v, %d rows; opt=6: %v, %v", errs[0], len(got[0]), errs[2], got[2])
			}
			if !errors.Is(errs[1], sqlgen.ErrUnexpectedNull) {
				t.Errorf("opt IS NULL: %v, want ErrUnexpectedNull", errs[1])
			}
			if ev := bpStatements(t, log.Take()); len(ev) != 4 {
				t.Errorf("%d statements, want 4 (the merged one, then each read alone): %v", len(ev), ev)
			}
		})
	}
}

// bpStatements returns the events of ev but the prepares of the statement
// cache (Op "prepare"), checking that each of those prepared, once, the
// text of a statement that then ran.
func bpStatements(t *testing.T, ev []sqlgen.Event) []sqlgen.Event {
	t.Helper()
	var ran []sqlgen.Event
	prepared := map[string]int{}
	for _, e := range ev {
		if e.Op == "prepare" {
			prepared[e.SQL]++
			continue
		}
		ran = append(ran, e)
	}
	for q, n := range prepared {
		found := false
		for _, e := range ran {
			found = found || e.SQL == q
		}
		if !found || n > 1 {
			t.Errorf("a statement prepared %d times, and run: %v: %s", n, found, q)
		}
	}
	return ran
}
