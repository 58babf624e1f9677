package vitesstest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/seed-b2691315/sqlgen/compat/vitess"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
	"vitess.io/vitess/go/vt/vttablet/tabletserver/tabletenv/tabletenvtest"
)

type item struct {
	OrgID int64 `sql:"org_id,primary"`
	ID    int64 `sql:",primary"`
	Name  string
	Score int64
}

type event struct {
	ID    int64 `sql:",primary"`
	OrgID int64 `sql:"org_id"`
	Kind  string
}

type plan struct {
	ID   int64 `sql:",primary"`
	Name string
}

func schema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("items", sqlgen.UniqueID, item{})
	s.MustRegisterType("events", sqlgen.AutoIncrement, event{})
	s.MustRegisterType("plans", sqlgen.UniqueID, plan{})
	return s
}

// vschema shards keyspace ks by a hash vindex on org_id; plans live in
// the unsharded keyspace global. (events has no Vitess sequence here:
// vtexplain's fake tablets do not answer a sequence's "select next
// values", and the routing of its INSERTs, by org_id, is the same.)
const vschema = `{
  "ks": {
    "sharded": true,
    "vindexes": {"hash": {"type": "hash"}},
    "tables": {
      "items": {"column_vindexes": [{"column": "org_id", "name": "hash"}]},
      "events": {"column_vindexes": [{"column": "org_id", "name": "hash"}]}
    }
  },
  "global": {
    "sharded": false,
    "tables": {"plans": {}}
  }
}`

const numShards = 4

func setup(t *testing.T) (*vitesstest.Explainer, string) {
	t.Helper()
	tabletenvtest.LoadTabletEnvFlags()
	s := schema()
	var ddl []string
	for _, name := range s.Tables() {
		stmt, err := s.CreateTableSQL(name)
		if err != nil {
			t.Fatal(err)
		}
		ddl = append(ddl, stmt)
	}
	e, err := vitesstest.NewExplainer(vschema, strings.Join(ddl, ";\n")+";", "ks", numShards)
	if err != nil {
		t.Fatalf("vtexplain: %v", err)
	}
	t.Cleanup(e.Stop)
	dsn := sqlgentest.NewDatabase(t)
	conn, err := (&vitesstest.Recorder{}).Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range ddl {
		if _, err := conn.Exec(stmt); err != nil {
			t.Fatalf("%v\n%s", err, stmt)
		}
	}
	conn.Close()
	return e, dsn
}

// shardsOf runs fn on a fresh recorder and returns each unit it sent
// (a statement, or a transaction) with the shards vtexplain routes it to.
func shardsOf(t *testing.T, e *vitesstest.Explainer, rec *vitesstest.Recorder, what string, fn func() error) (units []vitesstest.Unit, shards [][]string) {
	t.Helper()
	rec.Take()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, u := range vitesstest.Units(rec.Take()) {
		sh, err := e.UnitShards(u)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		units = append(units, u)
		shards = append(shards, sh)
	}
	if len(units) == 0 {
		t.Fatalf("%s: no statement recorded", what)
	}
	return units, shards
}

// TestLimitedStatementsRouteToOneShard runs every kind of call sqlgen
// makes under WithShardLimit(org_id) on the real server, and asserts that
// vtgate would route each statement, and each transaction, to exactly one
// shard (or, for statements on no table of ks, none).
func TestLimitedStatementsRouteToOneShard(t *testing.T) {
	e, dsn := setup(t)
	for _, path := range []struct {
		name string
		opts []sqlgen.Option
	}{
		{"plain", nil},
		{"stmtcache", []sqlgen.Option{sqlgen.WithStmtCache(32)}},
	} {
		t.Run(path.name, func(t *testing.T) {
			rec := &vitesstest.Recorder{}
			conn, err := rec.Open(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var observed []string
			var mu sync.Mutex
			obs := func(_ context.Context, ev sqlgen.Event) {
				mu.Lock()
				observed = append(observed, ev.SQL)
				mu.Unlock()
			}
			base := sqlgen.NewDB(conn, schema(), append(path.opts, sqlgen.OnVitess("org_id"), sqlgen.WithObserver(obs))...)
			defer base.Close()
			org := int64(42)
			if path.name != "plain" {
				org = 43
			}
			db, err := base.WithShardLimit(sqlgen.Filter{"org_id": org})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			items := func(from, n int) []*item {
				var out []*item
				for i := from; i < from+n; i++ {
					out = append(out, &item{OrgID: org, ID: int64(i), Name: "n", Score: int64(i)})
				}
				return out
			}
			calls := []struct {
				name string
				fn   func() error
			}{
				{"InsertRow", func() error { _, err := db.InsertRow(ctx, &item{OrgID: org, ID: 1, Name: "a"}); return err }},
				{"InsertRows one statement", func() error { return db.InsertRows(ctx, items(10, 5), 0) }},
				{"InsertRows in chunks", func() error { return db.InsertRows(ctx, items(100, 7), 3) }},
				{"UpsertRow", func() error { _, err := db.UpsertRow(ctx, &item{OrgID: org, ID: 1, Name: "b"}); return err }},
				{"UpsertRows", func() error { return db.UpsertRows(ctx, items(10, 5), 0) }},
				{"UpsertRows in chunks", func() error { return db.UpsertRows(ctx, items(100, 7), 3) }},
				{"UpdateRow", func() error { return db.UpdateRow(ctx, &item{OrgID: org, ID: 1, Name: "c"}) }},
				{"QueryRow", func() error {
					var it *item
					return db.QueryRow(ctx, &it, sqlgen.Filter{"org_id": org, "id": int64(1)}, nil)
				}},
				{"Query", func() error {
					var out []*item
					return db.Query(ctx, &out, sqlgen.Filter{"org_id": org}, nil)
				}},
				{"Query IN", func() error {
					var out []*item
					return db.Query(ctx, &out, sqlgen.Filter{"org_id": org, "id": []int64{10, 11, 12}}, nil)
				}},
				{"Count", func() error { _, err := db.Count(ctx, &item{}, sqlgen.Filter{"org_id": org}); return err }},
				{"Select", func() error {
					_, err := sqlgen.Select[item](ctx, db, sqlgen.Filter{"org_id": org}, &sqlgen.SelectOptions{Limit: 3})
					return err
				}},
				{"batched reads", func() error {
					bctx := sqlgen.WithBatching(ctx)
					var wg sync.WaitGroup
					errs := make([]error, 4)
					for i := range errs {
						wg.Add(1)
						go func() {
							defer wg.Done()
							var it *item
							errs[i] = db.QueryRow(bctx, &it, sqlgen.Filter{"org_id": org, "id": int64(10 + i)}, nil)
						}()
					}
					wg.Wait()
					return errors.Join(errs...)
				}},
				{"transaction", func() error {
					return db.Transact(ctx, func(ctx context.Context) error {
						var it *item
						if err := db.QueryRow(ctx, &it, sqlgen.Filter{"org_id": org, "id": int64(1)}, nil); err != nil {
							return err
						}
						it.Score++
						if err := db.UpdateRow(ctx, it); err != nil {
							return err
						}
						if err := db.UpsertRows(ctx, items(200, 3), 0); err != nil {
							return err
						}
						if err := db.InsertRows(ctx, items(300, 3), 0); err != nil {
							return err
						}
						return db.DeleteRow(ctx, &item{OrgID: org, ID: 300})
					})
				}},
				{"InsertRows AutoIncrement", func() error {
					evs := []*event{{OrgID: org, Kind: "a"}, {OrgID: org, Kind: "b"}, {OrgID: org, Kind: "c"}}
					if err := db.InsertRows(ctx, evs, 0); err != nil {
						return err
					}
					for _, ev := range evs {
						if ev.ID == 0 {
							return errors.New("an event got no id")
						}
					}
					return nil
				}},
				{"DeleteRow", func() error { return db.DeleteRow(ctx, &item{OrgID: org, ID: 1}) }},
			}
			for _, c := range calls {
				mu.Lock()
				observed = nil
				mu.Unlock()
				units, shards := shardsOf(t, e, rec, c.name, c.fn)
				tableUnits := 0
				for i, u := range units {
					if len(shards[i]) > 1 {
						t.Errorf("%s: vtgate routes %d shards %v for %s", c.name, len(shards[i]), shards[i], u)
					}
					if len(shards[i]) == 1 {
						tableUnits++
					}
				}
				if tableUnits == 0 {
					t.Errorf("%s: no statement routed to a shard of ks: %v", c.name, units)
				}
				// Every statement the Observer saw was checked. The
				// BEGIN, COMMIT and ROLLBACK of a transaction sqlgen
				// begins (InsertRows's own) are reported with that SQL,
				// and recorded as steps of their own kind.
				mu.Lock()
				for _, q := range observed {
					kind, isTx := map[string]vitesstest.Kind{"BEGIN": vitesstest.Begin, "COMMIT": vitesstest.Commit, "ROLLBACK": vitesstest.Rollback}[q]
					found := false
					for _, u := range units {
						for _, s := range u.Steps {
							if isTx {
								found = found || s.Kind == kind
							} else {
								found = found || s.Kind == vitesstest.Stmt && s.SQL == q
							}
						}
					}
					if !found {
						t.Errorf("%s: observed statement %q was not recorded", c.name, q)
					}
				}
				mu.Unlock()
			}
		})
	}
}

// TestExplainerSeesCrossShard shows that the check can fail: a read
// without the shard key, and a multi-row INSERT of rows of several orgs
// by a DB not told it is on Vitess, go to several shards; OnVitess
// refuses the latter before anything is sent.
func TestExplainerSeesCrossShard(t *testing.T) {
	e, dsn := setup(t)
	rec := &vitesstest.Recorder{}
	conn, err := rec.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	plain := sqlgen.NewDB(conn, schema())
	rows := []*item{{OrgID: 1, ID: 1, Name: "a"}, {OrgID: 2, ID: 2, Name: "b"}, {OrgID: 3, ID: 3, Name: "c"}, {OrgID: 4, ID: 4, Name: "d"}}
	units, shards := shardsOf(t, e, rec, "InsertRows across orgs", func() error { return plain.InsertRows(ctx, rows, 0) })
	if len(units) != 1 || len(shards[0]) < 2 {
		t.Errorf("a multi-row INSERT of 4 orgs: %d units, shards %v; want one statement on several shards", len(units), shards)
	}
	_, shards = shardsOf(t, e, rec, "Query without org_id", func() error {
		var out []*item
		return plain.Query(ctx, &out, sqlgen.Filter{"id": int64(1)}, nil)
	})
	if len(shards[0]) != numShards {
		t.Errorf("a read without the shard key: shards %v, want all %d", shards[0], numShards)
	}
	vt := sqlgen.NewDB(conn, schema(), sqlgen.OnVitess("org_id"))
	rows2 := []*item{{OrgID: 1, ID: 11, Name: "a"}, {OrgID: 2, ID: 12, Name: "b"}}
	rec.Take()
	if err := vt.InsertRows(ctx, rows2, 0); !errors.Is(err, sqlgen.ErrCrossShard) {
		t.Fatalf("OnVitess InsertRows across orgs: %v, want ErrCrossShard", err)
	}
	if steps := rec.Take(); len(steps) != 0 {
		t.Errorf("a refused batch sent %d statements", len(steps))
	}
}

// TestShardColumnOutsideKey pins what the README says sqlgen does not
// handle: on a table whose shard column is not in its primary key,
// UpdateRow sets that column (to its own value under a limit), which
// vtgate refuses. If Vitess or sqlgen changes, this test says so.
func TestShardColumnOutsideKey(t *testing.T) {
	e, dsn := setup(t)
	rec := &vitesstest.Recorder{}
	conn, err := rec.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	base := sqlgen.NewDB(conn, schema(), sqlgen.OnVitess("org_id"))
	db, err := base.WithShardLimit(sqlgen.Filter{"org_id": int64(42)})
	if err != nil {
		t.Fatal(err)
	}
	ev := &event{OrgID: 42, Kind: "a"}
	if _, err := db.InsertRow(ctx, ev); err != nil {
		t.Fatal(err)
	}
	rec.Take()
	ev.Kind = "b"
	if err := db.UpdateRow(ctx, ev); err != nil {
		t.Fatal(err)
	}
	units := vitesstest.Units(rec.Take())
	if len(units) != 1 {
		t.Fatalf("UpdateRow sent %d units", len(units))
	}
	_, err = e.UnitShards(units[0])
	if err == nil || !strings.Contains(err.Error(), "vindex") {
		t.Errorf("vtgate on %s: %v; the README says it refuses the update of a vindex column", units[0], err)
	}
}
