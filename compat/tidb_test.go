package compat_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/compat"
	"github.com/seed-b2691315/sqlgen/compat/tidbtest"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// useTiDB points sqlgentest (SQLGEN_TEST_DSN) at TiDB for the rest of
// the test: the cluster of SQLGEN_TIDB_DSN, or an in-process server.
func useTiDB(t *testing.T) {
	t.Helper()
	dsn := os.Getenv(compat.EnvTiDBDSN)
	if dsn == "" {
		dsn = tidbtest.Start(t)
	} else {
		t.Logf("%s=%q: testing that TiDB", compat.EnvTiDBDSN, dsn)
	}
	t.Setenv(sqlgentest.EnvDSN, dsn)
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow("SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v, "TiDB") {
		t.Fatalf("%s answers VERSION() %q: not TiDB", dsn, v)
	}
	t.Logf("TiDB %s", v)
}

// dsnParams are the DSN settings that change sqlgen's paths.
var dsnParams = [][]string{
	{"parseTime", "false", "interpolateParams", "false"},
	{"parseTime", "true", "interpolateParams", "true", "loc", "UTC"},
	{"parseTime", "true", "interpolateParams", "false", "loc", "Asia/Tokyo"},
}

type settings struct {
	Theme  string   `json:"theme"`
	Alerts []string `json:"alerts"`
}

type user struct {
	ID       int64 `sql:",primary"`
	OrgID    int64
	Name     string
	Email    *string
	Balance  float64
	Big      uint64
	Active   bool
	Data     []byte
	Created  time.Time
	Settings settings          `sql:",json"`
	Tags     map[string]string `sql:",json"`
}

type account struct {
	OrgID int64 `sql:",primary"`
	ID    int64 `sql:",primary"`
	Name  string
	Score int32
}

// doc's key does not hold org_id: under a limit, an upsert whose key is
// taken by another org's row must leave it alone and fail.
type doc struct {
	ID    int64 `sql:",primary"`
	OrgID int64
	Body  string
}

func schema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("users", sqlgen.AutoIncrement, user{})
	s.MustRegisterType("accounts", sqlgen.UniqueID, account{})
	s.MustRegisterType("docs", sqlgen.UniqueID, doc{})
	return s
}

func ptr[T any](v T) *T { return &v }

func newUser(i int) *user {
	return &user{
		OrgID: int64(i % 3), Name: fmt.Sprintf("u%03d", i), Email: ptr(fmt.Sprintf("u%d@x", i)),
		Balance: float64(i) + 0.25, Big: 1<<63 + uint64(i), Active: i%2 == 0, Data: []byte{0, byte(i), 0xff},
		Created:  time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC).Add(time.Duration(i) * time.Hour),
		Settings: settings{Theme: "dark", Alerts: []string{"a", fmt.Sprint(i)}},
		Tags:     map[string]string{"k": fmt.Sprint(i)},
	}
}

// equalUser compares what was written with what was read (times as
// instants: without parseTime the driver's loc is not applied).
func equalUser(t *testing.T, what string, got, want *user) {
	t.Helper()
	g, w := *got, *want
	if !g.Created.Equal(w.Created) {
		t.Errorf("%s: Created %v, want %v", what, g.Created, w.Created)
	}
	g.Created, w.Created = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func open(t *testing.T, params []string, opts ...sqlgen.Option) (*sqlgen.DB, *sql.DB) {
	t.Helper()
	s := schema()
	conn := sqlgentest.OpenSchema(t, s, sqlgentest.Params(params...))
	sqlgentest.Exec(t, conn, "CREATE INDEX users_org ON users (org_id)")
	db := sqlgen.NewDB(conn, s, opts...)
	t.Cleanup(func() { db.Close() })
	return db, conn
}

func TestTiDB(t *testing.T) {
	useTiDB(t)
	t.Run("CRUD", testCRUD)
	t.Run("JSON", testJSON)
	t.Run("JSONPath", testJSONPath)
	t.Run("Batching", testBatching)
	t.Run("InsertRows", testInsertRows)
	t.Run("InsertRowsConcurrent", testInsertRowsConcurrent)
	t.Run("UpsertRows", testUpsertRows)
	t.Run("Check", testCheck)
	t.Run("RefuseFullScans", testRefuseFullScans)
	t.Run("TooLarge", testTooLarge)
}

// testJSONPath checks JSON path filters and orders against the Tester on
// TiDB, which answers as MySQL 8 does (binary JSON, keys and strings
// compared decoded): the same differential test as on MariaDB.
func testJSONPath(t *testing.T) {
	sqlgentest.JSONPathDifferential(t, 12, 60, 300)
}

func testCRUD(t *testing.T) {
	for _, params := range dsnParams {
		for _, inTx := range []bool{false, true} {
			for _, cache := range []bool{false, true} {
				name := fmt.Sprintf("%v/tx=%v/stmtcache=%v", params, inTx, cache)
				t.Run(name, func(t *testing.T) {
					var opts []sqlgen.Option
					if cache {
						opts = append(opts, sqlgen.WithStmtCache(16))
					}
					db, _ := open(t, params, opts...)
					ctx := context.Background()
					if inTx {
						c, tx, err := db.WithTx(ctx)
						if err != nil {
							t.Fatal(err)
						}
						defer func() {
							if err := tx.Commit(); err != nil {
								t.Error(err)
							}
						}()
						ctx = c
					}
					u := newUser(1)
					if _, err := db.InsertRow(ctx, u); err != nil {
						t.Fatal(err)
					}
					if u.ID == 0 {
						t.Fatal("InsertRow wrote back no id")
					}
					var got *user
					if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": u.ID}, nil); err != nil {
						t.Fatal(err)
					}
					equalUser(t, "QueryRow", got, u)
					u.Name, u.Email, u.Settings.Theme = "renamed", nil, "light"
					if err := db.UpdateRow(ctx, u); err != nil {
						t.Fatal(err)
					}
					g2, err := sqlgen.Get[user](ctx, db, sqlgen.Filter{"id": u.ID}, nil)
					if err != nil {
						t.Fatal(err)
					}
					equalUser(t, "after UpdateRow", g2, u)
					a := &account{OrgID: 1, ID: 7, Name: "a", Score: 1}
					if _, err := db.UpsertRow(ctx, a); err != nil {
						t.Fatal(err)
					}
					a.Score = 2
					if _, err := db.UpsertRow(ctx, a); err != nil {
						t.Fatal(err)
					}
					as, err := sqlgen.Select[account](ctx, db, sqlgen.Filter{"org_id": int64(1)}, nil)
					if err != nil || len(as) != 1 || *as[0] != *a {
						t.Fatalf("Select after two upserts: %v %+v", err, as)
					}
					if n, err := db.Count(ctx, &user{}, sqlgen.Filter{"org_id": u.OrgID}); err != nil || n != 1 {
						t.Fatalf("Count: %d, %v", n, err)
					}
					if err := db.DeleteRow(ctx, u); err != nil {
						t.Fatal(err)
					}
					if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": u.ID}, nil); !errors.Is(err, sql.ErrNoRows) {
						t.Fatalf("QueryRow after DeleteRow: %v", err)
					}
				})
			}
		}
	}
}

func testJSON(t *testing.T) {
	for _, params := range dsnParams {
		t.Run(fmt.Sprint(params), func(t *testing.T) {
			var sqls []string
			var mu sync.Mutex
			db, _ := open(t, params, sqlgen.WithObserver(func(_ context.Context, e sqlgen.Event) {
				mu.Lock()
				sqls = append(sqls, e.SQL)
				mu.Unlock()
			}))
			ctx := context.Background()
			for i := 0; i < 4; i++ {
				if _, err := db.InsertRow(ctx, newUser(i)); err != nil {
					t.Fatal(err)
				}
			}
			// A filter on a JSON column: the document compares as JSON
			// (key order and spacing do not matter).
			want := newUser(2)
			var got []*user
			if err := db.Query(ctx, &got, sqlgen.Filter{"settings": settings{Theme: "dark", Alerts: []string{"a", "2"}}}, nil); err != nil {
				t.Fatalf("filter on a JSON column: %v", err)
			}
			if len(got) != 1 || got[0].Name != want.Name {
				t.Fatalf("filter on a JSON column found %d rows: %+v", len(got), got)
			}
			if err := db.Query(ctx, &got, sqlgen.Filter{"tags": map[string]string{"k": "3"}}, nil); err != nil || len(got) != 1 || got[0].Name != "u003" {
				t.Fatalf("filter on a JSON map: %v, %d rows", err, len(got))
			}
			mu.Lock()
			defer mu.Unlock()
			for _, q := range sqls {
				if strings.Contains(q, "JSON_EQUALS") {
					t.Errorf("TiDB has no JSON_EQUALS, but sqlgen sent: %s", q)
				}
			}
		})
	}
}

func testBatching(t *testing.T) {
	var mu sync.Mutex
	reads := 0
	db, _ := open(t, dsnParams[0], sqlgen.WithObserver(func(_ context.Context, e sqlgen.Event) {
		if e.Op == "query" || e.Op == "batch" {
			mu.Lock()
			reads++
			mu.Unlock()
		}
	}))
	ctx := context.Background()
	var us []*user
	for i := 0; i < 20; i++ {
		us = append(us, newUser(i))
	}
	if err := db.InsertRows(ctx, us, 0); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	reads = 0
	mu.Unlock()
	bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(250*time.Millisecond))
	var wg sync.WaitGroup
	got := make([]*user, len(us))
	errs := make([]error, len(us))
	for i := range us {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.QueryRow(bctx, &got[i], sqlgen.Filter{"id": us[i].ID}, nil)
		}()
	}
	wg.Wait()
	for i := range us {
		if errs[i] != nil {
			t.Fatalf("read %d: %v", i, errs[i])
		}
		equalUser(t, fmt.Sprint("batched read ", i), got[i], us[i])
	}
	mu.Lock()
	defer mu.Unlock()
	if reads >= len(us) {
		t.Errorf("%d statements for %d batched reads: nothing merged", reads, len(us))
	}
}

// usersByName reads name -> id with raw SQL.
func usersByName(t *testing.T, conn *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := conn.Query("SELECT name, id FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var n string
		var id int64
		if err := rows.Scan(&n, &id); err != nil {
			t.Fatal(err)
		}
		out[n] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkIDs(t *testing.T, conn *sql.DB, us []*user) {
	t.Helper()
	ids := usersByName(t, conn)
	for _, u := range us {
		if id, ok := ids[u.Name]; !ok || id != u.ID {
			t.Errorf("%s: written back id %d, stored id %d (found %v)", u.Name, u.ID, id, ok)
		}
	}
}

func testInsertRows(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params []string
		ddl    []string
	}{
		{"default", dsnParams[0], nil},
		{"interpolated", dsnParams[1], nil},
		{"increment 3", append([]string{"auto_increment_increment", "3"}, dsnParams[0]...), nil},
		{"AUTO_ID_CACHE 1", dsnParams[0], []string{"DROP TABLE users", "", "CREATE INDEX users_org ON users (org_id)"}},
		{"gaps", dsnParams[0], []string{"ALTER TABLE users AUTO_INCREMENT = 1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, conn := open(t, tc.params)
			for _, s := range tc.ddl {
				if s == "" {
					// users again, with TiDB's MySQL-compatible allocator
					// (one central allocator instead of per-server caches).
					ddl, err := schema().CreateTableSQL("users")
					if err != nil {
						t.Fatal(err)
					}
					s = ddl + " AUTO_ID_CACHE 1"
				}
				if _, err := conn.Exec(s); err != nil {
					t.Fatalf("%v\n%s", err, s)
				}
			}
			ctx := context.Background()
			for _, chunk := range []int{0, 7} {
				var us []*user
				for i := 0; i < 30; i++ {
					us = append(us, newUser(1000*chunk+i))
				}
				if err := db.InsertRows(ctx, us, chunk); err != nil {
					t.Fatal(err)
				}
				checkIDs(t, conn, us)
				// And in the caller's transaction.
				var more []*user
				for i := 0; i < 10; i++ {
					more = append(more, newUser(1000*chunk+500+i))
				}
				if err := db.Transact(ctx, func(ctx context.Context) error { return db.InsertRows(ctx, more, chunk) }); err != nil {
					t.Fatal(err)
				}
				checkIDs(t, conn, more)
			}
		})
	}
}

// testInsertRowsConcurrent interleaves batches of several connections:
// TiDB allocates each statement's ids in one block, so the ids written
// back must still match the stored rows.
func testInsertRowsConcurrent(t *testing.T) {
	db, conn := open(t, dsnParams[0])
	ctx := context.Background()
	const workers, batches, rowsPer = 4, 5, 25
	all := make([][]*user, workers*batches)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				var us []*user
				for i := 0; i < rowsPer; i++ {
					us = append(us, newUser(10000*w+100*b+i))
				}
				all[w*batches+b] = us
				if err := db.InsertRows(ctx, us, 10); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, us := range all {
		checkIDs(t, conn, us)
	}
}

func testUpsertRows(t *testing.T) {
	for _, params := range dsnParams[:2] {
		t.Run(fmt.Sprint(params), func(t *testing.T) {
			db, conn := open(t, params)
			ctx := context.Background()
			var as []*account
			for i := 0; i < 25; i++ {
				as = append(as, &account{OrgID: 5, ID: int64(i), Name: fmt.Sprint("a", i), Score: int32(i)})
			}
			if err := db.UpsertRows(ctx, as, 10); err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				a.Score += 100
			}
			as = append(as, &account{OrgID: 5, ID: 99, Name: "new"})
			if err := db.UpsertRows(ctx, as, 10); err != nil {
				t.Fatal(err)
			}
			got, err := sqlgen.Select[account](ctx, db, sqlgen.Filter{"org_id": int64(5)}, &sqlgen.SelectOptions{OrderBy: "`id`"})
			if err != nil || len(got) != len(as) {
				t.Fatalf("Select: %v, %d rows", err, len(got))
			}
			for i := range got {
				if *got[i] != *as[i] {
					t.Errorf("row %d: %+v, want %+v", i, *got[i], *as[i])
				}
			}
			// Under a limit: a key taken by another org's row is left
			// alone and nothing of the batch is written.
			if _, err := conn.Exec("INSERT INTO accounts (org_id, id, name, score) VALUES (6, 1000, 'other', 1)"); err != nil {
				t.Fatal(err)
			}
			// accounts' key is (org_id, id): no collision across orgs
			// is possible, so the guard has nothing to refuse here; the
			// limit still refuses a row of another org.
			limited, err := db.WithShardLimit(sqlgen.Filter{"org_id": int64(5)})
			if err != nil {
				t.Fatal(err)
			}
			if err := limited.UpsertRows(ctx, []*account{{OrgID: 5, ID: 1}, {OrgID: 6, ID: 1000, Name: "stolen"}}, 0); !errors.Is(err, sqlgen.ErrLimit) {
				t.Fatalf("UpsertRows with a row of another org: %v, want ErrLimit", err)
			}
			var name string
			if err := conn.QueryRow("SELECT name FROM accounts WHERE org_id = 6 AND id = 1000").Scan(&name); err != nil || name != "other" {
				t.Fatalf("other org's row: %q, %v", name, err)
			}
			// A key taken by another org's row: TiDB must report the
			// guard's LAST_INSERT_ID(expr) as MySQL does.
			sqlgentest.Exec(t, conn, "INSERT INTO docs (id, org_id, body) VALUES (1, 6, 'theirs')")
			if _, err := limited.UpsertRow(ctx, &doc{ID: 1, OrgID: 5, Body: "mine"}); !errors.Is(err, sqlgen.ErrLimit) {
				t.Errorf("UpsertRow onto another org's key: %v, want ErrLimit", err)
			}
			batch := []*doc{{ID: 2, OrgID: 5, Body: "new"}, {ID: 1, OrgID: 5, Body: "mine"}}
			if err := limited.UpsertRows(ctx, batch, 0); !errors.Is(err, sqlgen.ErrLimit) {
				t.Errorf("UpsertRows onto another org's key: %v, want ErrLimit", err)
			}
			var body string
			var n int
			if err := conn.QueryRow("SELECT body FROM docs WHERE id = 1").Scan(&body); err != nil || body != "theirs" {
				t.Errorf("other org's doc: %q, %v", body, err)
			}
			if err := conn.QueryRow("SELECT COUNT(*) FROM docs").Scan(&n); err != nil || n != 1 {
				t.Errorf("%d docs after the refused batch (%v), want 1", n, err)
			}
			if err := limited.UpsertRows(ctx, batch[:1], 0); err != nil {
				t.Errorf("UpsertRows of a free key: %v", err)
			}
		})
	}
}

func testCheck(t *testing.T) {
	s := schema()
	conn := sqlgentest.OpenSchema(t, s)
	ctx := context.Background()
	if err := s.Check(ctx, conn); err != nil {
		t.Fatalf("Check on tables made by CreateTableSQL: %v", err)
	}
	// Drift is found on TiDB too.
	sqlgentest.Exec(t, conn, "ALTER TABLE accounts DROP COLUMN score")
	err := s.Check(ctx, conn)
	if !errors.Is(err, sqlgen.ErrSchemaDrift) || !strings.Contains(err.Error(), "score") {
		t.Fatalf("Check after dropping a column: %v, want ErrSchemaDrift naming score", err)
	}
}

func testRefuseFullScans(t *testing.T) {
	for _, params := range dsnParams[:2] {
		t.Run(fmt.Sprint(params), func(t *testing.T) {
			base, _ := open(t, params)
			ctx := context.Background()
			var us []*user
			for i := 0; i < 50; i++ {
				us = append(us, newUser(i))
			}
			if err := base.InsertRows(ctx, us, 0); err != nil {
				t.Fatal(err)
			}
			for _, inTx := range []bool{false, true} {
				db := base.RefuseFullScans()
				c := ctx
				if inTx {
					cc, tx, err := db.WithTx(ctx)
					if err != nil {
						t.Fatal(err)
					}
					defer tx.Rollback()
					c = cc
				}
				var rows []*user
				if err := db.Query(c, &rows, sqlgen.Filter{"name": "u001"}, nil); !errors.Is(err, sqlgen.ErrNoIndex) || !strings.Contains(err.Error(), `"users"`) {
					t.Errorf("tx=%v: read on an unindexed column: %v, want ErrNoIndex naming the table", inTx, err)
				}
				if _, err := db.Count(c, &user{}, sqlgen.Filter{"name": "u001"}); !errors.Is(err, sqlgen.ErrNoIndex) {
					t.Errorf("tx=%v: unindexed count: %v, want ErrNoIndex", inTx, err)
				}
				if err := db.Query(c, &rows, nil, &sqlgen.SelectOptions{Limit: 5}); !errors.Is(err, sqlgen.ErrNoIndex) {
					t.Errorf("tx=%v: read of the whole table: %v, want ErrNoIndex", inTx, err)
				}
				for name, f := range map[string]sqlgen.Filter{
					"primary key":   {"id": us[3].ID},
					"primary IN":    {"id": []int64{us[1].ID, us[2].ID}},
					"index":         {"org_id": int64(2)},
					"index and col": {"org_id": int64(2), "name": "u002"},
					"impossible":    {"id": []int64{}},
				} {
					if err := db.Query(c, &rows, f, nil); err != nil {
						t.Errorf("tx=%v: %s: %v", inTx, name, err)
					}
				}
				if err := db.FullScanQuery(c, &rows, sqlgen.Filter{"name": "u001"}, nil); err != nil || len(rows) != 1 {
					t.Errorf("tx=%v: FullScanQuery: %v, %d rows", inTx, err, len(rows))
				}
				if err := db.Query(c, &rows, sqlgen.Filter{"name": "u001"}, &sqlgen.SelectOptions{AllowNoIndex: true}); err != nil {
					t.Errorf("tx=%v: AllowNoIndex: %v", inTx, err)
				}
			}
		})
	}
}

func testTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params []string
		limit  int // the entry size limit the session has
	}{
		{"default limit", dsnParams[0], 6 << 20},
		{"session limit 2 MiB", append([]string{"tidb_txn_entry_size_limit", "2097152"}, dsnParams[1]...), 2 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, conn := open(t, tc.params)
			var limit int
			if err := conn.QueryRow("SELECT @@tidb_txn_entry_size_limit").Scan(&limit); err == nil && limit > 0 && limit != tc.limit {
				t.Fatalf("tidb_txn_entry_size_limit is %d, want %d", limit, tc.limit)
			}
			ctx := context.Background()
			fits := newUser(1)
			fits.Data = bytes.Repeat([]byte{1}, tc.limit/2)
			if _, err := db.InsertRow(ctx, fits); err != nil {
				t.Fatalf("a row of half the entry limit: %v", err)
			}
			for name, mk := range map[string]func(u *user){
				"one value past the limit": func(u *user) { u.Data = bytes.Repeat([]byte{2}, tc.limit+1) },
				"a row past the limit": func(u *user) {
					u.Data = bytes.Repeat([]byte{3}, tc.limit*2/3)
					u.Name = strings.Repeat("n", 200)
					u.Email = ptr(strings.Repeat("e", tc.limit/2))
				},
			} {
				for _, batch := range []bool{false, true} {
					u := newUser(2)
					mk(u)
					var err error
					if batch {
						err = db.InsertRows(ctx, []*user{newUser(3), u}, 0)
					} else {
						_, err = db.InsertRow(ctx, u)
					}
					if !errors.Is(err, sqlgen.ErrTooLarge) || !strings.Contains(err.Error(), "txn-entry-size-limit") {
						t.Errorf("%s (batch %v): %v, want ErrTooLarge naming TiDB's txn-entry-size-limit", name, batch, err)
					}
				}
			}
			var n int
			if err := conn.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 1 {
				t.Errorf("%d rows after the refused writes (%v), want 1", n, err)
			}
		})
	}
}
