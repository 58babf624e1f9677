package sqlgen_test

// Integration tests of OnVitess on the test server: a batch whose rows
// span shard keys is refused before anything is sent, and the ids of an
// AutoIncrement batch come one statement per row.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type vtItem struct {
	OrgID int64 `sql:"org_id,primary"`
	ID    int64 `sql:",primary"`
	Name  string
}

type vtEvent struct {
	ID    int64 `sql:",primary"`
	OrgID int64 `sql:"org_id"`
	Name  string
}

type vtPlan struct {
	ID   int64 `sql:",primary"`
	Name string
}

func vitessSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("vt_items", sqlgen.UniqueId, vtItem{})
	s.MustRegisterType("vt_events", sqlgen.AutoIncrement, vtEvent{})
	s.MustRegisterType("vt_plans", sqlgen.UniqueId, vtPlan{})
	return s
}

// vtStatementLog is an Observer that keeps the statements of one table.
type vtStatementLog struct {
	mu   sync.Mutex
	ops  []string
	sqls []string
}

func (l *vtStatementLog) observe(_ context.Context, e sqlgen.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, e.Op)
	l.sqls = append(l.sqls, e.SQL)
}

func (l *vtStatementLog) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.sqls {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

func TestOnVitessRefusesCrossShardBatch(t *testing.T) {
	schema := vitessSchema()
	conn := sqlgentest.OpenSchema(t, schema)
	ctx := context.Background()
	for _, path := range []struct {
		name string
		opts []sqlgen.Option
		tx   bool
	}{
		{"plain", nil, false},
		{"stmtcache", []sqlgen.Option{sqlgen.WithStmtCache(16)}, false},
		{"tx", nil, true},
	} {
		t.Run(path.name, func(t *testing.T) {
			var log vtStatementLog
			db := sqlgen.NewDB(conn, schema, append(path.opts, sqlgen.OnVitess("org_id"), sqlgen.WithObserver(log.observe))...)
			sqlgentest.Exec(t, conn, "DELETE FROM vt_items", "DELETE FROM vt_plans")
			c := ctx
			if path.tx {
				cc, tx, err := db.WithTx(ctx)
				c = cc
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
			}
			span := []*vtItem{{OrgID: 1, ID: 1, Name: "a"}, {OrgID: 1, ID: 2, Name: "b"}, {OrgID: 2, ID: 3, Name: "c"}}
			if err := db.InsertRows(c, span, 0); !errors.Is(err, sqlgen.ErrCrossShard) {
				t.Fatalf("InsertRows across org_id 1 and 2: %v, want ErrCrossShard", err)
			} else if !strings.Contains(err.Error(), "vt_items") || !strings.Contains(err.Error(), "org_id") {
				t.Errorf("error does not name the table and column: %v", err)
			}
			if err := db.UpsertRows(c, span, 2); !errors.Is(err, sqlgen.ErrCrossShard) {
				t.Fatalf("UpsertRows across org_id 1 and 2: %v, want ErrCrossShard", err)
			}
			if n := log.count("INSERT"); n != 0 {
				t.Fatalf("%d INSERT statements sent for refused batches, want 0", n)
			}
			var n int64
			if err := db.Conn().QueryRowContext(c, "SELECT COUNT(*) FROM vt_items").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d rows written by refused batches", n)
			}
			// One shard key: written, in one statement per chunk.
			same := []*vtItem{{OrgID: 7, ID: 1, Name: "a"}, {OrgID: 7, ID: 2, Name: "b"}, {OrgID: 7, ID: 3, Name: "c"}}
			if err := db.InsertRows(c, same, 0); err != nil {
				t.Fatalf("InsertRows of one org: %v", err)
			}
			if err := db.UpsertRows(c, same, 2); err != nil {
				t.Fatalf("UpsertRows of one org: %v", err)
			}
			// A table without the shard column is one shard: not checked.
			plans := []*vtPlan{{ID: 1, Name: "free"}, {ID: 2, Name: "pro"}}
			if err := db.InsertRows(c, plans, 0); err != nil {
				t.Fatalf("InsertRows into a table without org_id: %v", err)
			}
			// Without OnVitess the same batch is one statement, as before.
			plain := sqlgen.NewDB(conn, schema)
			if err := plain.InsertRows(c, []*vtItem{{OrgID: 1, ID: 10, Name: "x"}, {OrgID: 2, ID: 11, Name: "y"}}, 0); err != nil {
				t.Fatalf("InsertRows across orgs without OnVitess: %v", err)
			}
		})
	}
}

func TestOnVitessAutoIncrementOneRowPerStatement(t *testing.T) {
	schema := vitessSchema()
	for _, params := range [][]string{
		{"interpolateParams", "false"},
		{"interpolateParams", "true"},
	} {
		t.Run(params[0]+"="+params[1], func(t *testing.T) {
			conn := sqlgentest.OpenSchema(t, schema, sqlgentest.Params(params...))
			ctx := context.Background()
			var log vtStatementLog
			db := sqlgen.NewDB(conn, schema, sqlgen.OnVitess("org_id"), sqlgen.WithObserver(log.observe))
			// Ids that are not consecutive across statements, as a
			// Vitess sequence or another writer would make them.
			sqlgentest.Exec(t, conn, "ALTER TABLE vt_events AUTO_INCREMENT = 100")
			rows := []*vtEvent{{OrgID: 3, Name: "a"}, {OrgID: 3, Name: "b"}, {OrgID: 3, Name: "c"}, {OrgID: 3, Name: "d"}}
			if err := db.InsertRows(ctx, rows, 0); err != nil {
				t.Fatal(err)
			}
			if n := log.count("INSERT"); n != len(rows) {
				t.Errorf("%d INSERT statements for %d AutoIncrement rows on Vitess, want one per row", n, len(rows))
			}
			for _, r := range rows {
				var name string
				if err := conn.QueryRow("SELECT name FROM vt_events WHERE id = ?", r.ID).Scan(&name); err != nil {
					t.Fatalf("row %q got id %d: %v", r.Name, r.ID, err)
				}
				if name != r.Name {
					t.Errorf("row %q got id %d, which holds %q", r.Name, r.ID, name)
				}
			}
			// A failing row rolls the whole batch back (one transaction).
			bad := []*vtEvent{{OrgID: 4, Name: "ok"}, {OrgID: 4, Name: strings.Repeat("x", 1000)}}
			if err := db.InsertRows(ctx, bad, 0); err == nil {
				t.Fatal("InsertRows of a too-long name succeeded")
			}
			var n int64
			if err := conn.QueryRow("SELECT COUNT(*) FROM vt_events WHERE org_id = 4").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 || bad[0].ID != 0 {
				t.Errorf("failed batch left %d rows and id %d, want 0 and 0", n, bad[0].ID)
			}
			// Spanning shard keys is refused here too.
			if err := db.InsertRows(ctx, []*vtEvent{{OrgID: 1, Name: "a"}, {OrgID: 2, Name: "b"}}, 0); !errors.Is(err, sqlgen.ErrCrossShard) {
				t.Errorf("InsertRows across orgs: %v, want ErrCrossShard", err)
			}
		})
	}
}
