package sqlgen_test

// Integration tests of the tenant guard (WithShardLimit, WithDynamicLimit)
// over every read and write method, with another tenant's rows present:
// what the table holds afterwards is read with raw SQL.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type gItem struct {
	ID    int64 `sql:",primary"`
	OrgID int64
	Email string
	Name  string
	N     int32
}

// gPlan is a global table: it has no org_id.
type gPlan struct {
	ID   int64 `sql:",primary"`
	Name string
}

// gMember has the limited column in its primary key, and a unique key.
type gMember struct {
	OrgID  int64 `sql:",primary"`
	UserID int64 `sql:",primary"`
	Handle string
}

type gAuto struct {
	ID    uint64 `sql:",primary"`
	OrgID int64
	Name  string
}

var guardDDL = []string{
	"CREATE TABLE g_items (id BIGINT PRIMARY KEY, org_id BIGINT NOT NULL, email VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL, n INT NOT NULL, UNIQUE KEY (email), KEY (org_id))",
	"CREATE TABLE g_plans (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL)",
	"CREATE TABLE g_members (org_id BIGINT NOT NULL, user_id BIGINT NOT NULL, handle VARCHAR(64) NOT NULL, PRIMARY KEY (org_id, user_id), UNIQUE KEY (handle))",
	"CREATE TABLE g_autos (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, org_id BIGINT NOT NULL, name VARCHAR(64) NOT NULL, KEY (org_id))",
}

const (
	ownOrg   = 42
	otherOrg = 7
)

func guardSchema(t testing.TB) *sqlgen.Schema {
	t.Helper()
	s := sqlgen.NewSchema()
	s.MustRegisterType("g_items", sqlgen.UniqueID, gItem{})
	s.MustRegisterType("g_plans", sqlgen.UniqueID, gPlan{})
	s.MustRegisterType("g_members", sqlgen.UniqueID, gMember{})
	s.MustRegisterType("g_autos", sqlgen.AutoIncrement, gAuto{})
	return s
}

// guardSeed empties the tables and fills them with the rows of two
// tenants, 7 (the other) and 42 (the limited DB's own).
func guardSeed(t testing.TB, conn *sql.DB) {
	t.Helper()
	sqlgentest.Exec(t, conn,
		"DELETE FROM g_items", "DELETE FROM g_plans", "DELETE FROM g_members", "DELETE FROM g_autos",
		"INSERT INTO g_items VALUES (1,7,'a7@x','seven a',1),(2,7,'b7@x','seven b',2),(10,42,'a42@x','own a',10),(11,42,'b42@x','own b',11)",
		"INSERT INTO g_plans VALUES (1,'free')",
		"INSERT INTO g_members VALUES (7,1,'h7'),(42,1,'h42')",
		"INSERT INTO g_autos (id, org_id, name) VALUES (1,7,'seven'),(2,42,'own')",
		"ALTER TABLE g_autos AUTO_INCREMENT = 3", // DELETE keeps the counter
	)
}

// guardDump reads every row of the guard tables with raw SQL, one string
// per row.
func guardDump(t testing.TB, conn *sql.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		"SELECT CONCAT_WS('|', 'item', id, org_id, email, name, n) FROM g_items ORDER BY id",
		"SELECT CONCAT_WS('|', 'plan', id, name) FROM g_plans ORDER BY id",
		"SELECT CONCAT_WS('|', 'member', org_id, user_id, handle) FROM g_members ORDER BY org_id, user_id",
		"SELECT CONCAT_WS('|', 'auto', id, org_id, name) FROM g_autos ORDER BY id",
	} {
		rows, err := conn.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// guardSeedDump is guardDump right after guardSeed.
var guardSeedDump = []string{
	"item|1|7|a7@x|seven a|1", "item|2|7|b7@x|seven b|2", "item|10|42|a42@x|own a|10", "item|11|42|b42@x|own b|11",
	"plan|1|free",
	"member|7|1|h7", "member|42|1|h42",
	"auto|1|7|seven", "auto|2|42|own",
}

// edit returns guardSeedDump with the rows of del taken out and add put
// in, in order.
func edit(del []string, add ...string) []string {
	var out []string
	for _, r := range guardSeedDump {
		keep := true
		for _, d := range del {
			if strings.HasPrefix(r, d+"|") {
				keep = false
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	out = append(out, add...)
	return sortDump(out)
}

// sortDump orders rows as guardDump does (by table, then key).
func sortDump(rows []string) []string {
	order := map[string]int{"item": 0, "plan": 1, "member": 2, "auto": 3}
	key := func(r string) string {
		f := strings.Split(r, "|")
		k := fmt.Sprintf("%d", order[f[0]])
		for _, x := range f[1:3] {
			k += fmt.Sprintf("|%020s", x)
		}
		return k
	}
	out := append([]string(nil), rows...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if key(out[j]) < key(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

type tenantCtx struct{}

// dryRunCtx marks a call whose limit errors ShouldContinueOnError lets
// through.
type dryRunCtx struct{}

// guardModes are the two kinds of limit, each with the context of a call
// made for tenant 42.
var guardModes = []struct {
	name  string
	limit func(db *sqlgen.DB) (*sqlgen.DB, error)
	ctx   func(ctx context.Context) context.Context
}{
	{"static", func(db *sqlgen.DB) (*sqlgen.DB, error) {
		return db.WithShardLimit(sqlgen.Filter{"org_id": int32(ownOrg)})
	}, func(ctx context.Context) context.Context { return ctx }},
	{"dynamic", func(db *sqlgen.DB) (*sqlgen.DB, error) {
		return db.WithDynamicLimit(sqlgen.DynamicLimit{GetLimitFilter: func(ctx context.Context, table string) (sqlgen.Filter, error) {
			tenant, ok := ctx.Value(tenantCtx{}).(int64)
			if !ok {
				return nil, errors.New("no tenant in the context")
			}
			if table == "g_plans" {
				return nil, nil // a global table
			}
			return sqlgen.Filter{"org_id": tenant}, nil
		}})
	}, func(ctx context.Context) context.Context { return context.WithValue(ctx, tenantCtx{}, int64(ownOrg)) }},
}

// guardDSNs are the driver settings that change the path of a guarded
// write: placeholders sent in the text protocol, and the affected-rows
// count of clientFoundRows.
var guardDSNs = []struct {
	name string
	opts []sqlgentest.Option
}{
	{"prepared", nil},
	{"interpolate", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}},
	{"clientFoundRows", []sqlgentest.Option{sqlgentest.Params("clientFoundRows", "true")}},
	{"interpolate+clientFoundRows+parseTime", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true", "clientFoundRows", "true", "parseTime", "true", "loc", "Europe/Paris")}},
}

// guardWrite is one write under the limit and what the tables must hold
// after it.
type guardWrite struct {
	name string
	do   func(ctx context.Context, db *sqlgen.DB) error
	want error    // nil, or an error the write's error must wrap
	rows []string // the tables afterwards; nil: unchanged
}

func guardWrites() []guardWrite {
	items := func(rows ...*gItem) []*gItem { return rows }
	var ws []guardWrite
	ws = append(ws,
		guardWrite{name: "InsertRow of another tenant's row", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.InsertRow(ctx, &gItem{ID: 30, OrgID: otherOrg, Email: "c@x"})
			return err
		}},
		guardWrite{name: "InsertRow of an own row", rows: edit(nil, "item|30|42|c@x|new|3"), do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.InsertRow(ctx, &gItem{ID: 30, OrgID: ownOrg, Email: "c@x", Name: "new", N: 3})
			return err
		}},
		guardWrite{name: "InsertRow with another tenant's key", want: &mysql.MySQLError{Number: 1062}, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.InsertRow(ctx, &gItem{ID: 1, OrgID: ownOrg, Email: "c@x"})
			return err
		}},
		guardWrite{name: "InsertRows with a row of another tenant", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.InsertRows(ctx, items(&gItem{ID: 30, OrgID: ownOrg, Email: "c@x"}, &gItem{ID: 31, OrgID: otherOrg, Email: "d@x"}), 1)
		}},
		guardWrite{name: "InsertRows of own rows", rows: edit(nil, "item|30|42|c@x||0", "item|31|42|d@x||0", "item|32|42|e@x||0"), do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.InsertRows(ctx, items(&gItem{ID: 30, OrgID: ownOrg, Email: "c@x"}, &gItem{ID: 31, OrgID: ownOrg, Email: "d@x"}, &gItem{ID: 32, OrgID: ownOrg, Email: "e@x"}), 2)
		}},
		guardWrite{name: "UpsertRow of another tenant's row", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 1, OrgID: otherOrg, Email: "a7@x", Name: "x"})
			return err
		}},
		guardWrite{name: "UpsertRow colliding on the primary key", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 1, OrgID: ownOrg, Email: "new@x", Name: "hijack", N: 99})
			return err
		}},
		guardWrite{name: "UpsertRow colliding on a unique key", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 30, OrgID: ownOrg, Email: "a7@x", Name: "hijack", N: 99})
			return err
		}},
		guardWrite{name: "UpsertRow updating an own row", rows: edit([]string{"item|10"}, "item|10|42|z@x|renamed|99"), do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 10, OrgID: ownOrg, Email: "z@x", Name: "renamed", N: 99})
			return err
		}},
		guardWrite{name: "UpsertRow updating an own row by its unique key", rows: edit([]string{"item|10"}, "item|10|42|a42@x|by email|5"), do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 30, OrgID: ownOrg, Email: "a42@x", Name: "by email", N: 5})
			return err
		}},
		guardWrite{name: "UpsertRow inserting an own row", rows: edit(nil, "item|30|42|c@x|new|3"), do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 30, OrgID: ownOrg, Email: "c@x", Name: "new", N: 3})
			return err
		}},
		guardWrite{name: "UpdateRow of another tenant's row", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.UpdateRow(ctx, &gItem{ID: 1, OrgID: otherOrg, Email: "a7@x", Name: "x"})
		}},
		guardWrite{name: "UpdateRow of another tenant's key", do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.UpdateRow(ctx, &gItem{ID: 1, OrgID: ownOrg, Email: "new@x", Name: "hijack", N: 99})
		}},
		guardWrite{name: "UpdateRow of an own row", rows: edit([]string{"item|11"}, "item|11|42|z@x|renamed|99"), do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.UpdateRow(ctx, &gItem{ID: 11, OrgID: ownOrg, Email: "z@x", Name: "renamed", N: 99})
		}},
		guardWrite{name: "DeleteRow of another tenant's row", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.DeleteRow(ctx, &gItem{ID: 1, OrgID: otherOrg})
		}},
		guardWrite{name: "DeleteRow of another tenant's key", do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.DeleteRow(ctx, &gItem{ID: 1, OrgID: ownOrg})
		}},
		guardWrite{name: "DeleteRow of an own row", rows: edit([]string{"item|10"}), do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.DeleteRow(ctx, &gItem{ID: 10, OrgID: ownOrg})
		}},
		// The limited column in the primary key, and a unique key.
		guardWrite{name: "member UpsertRow colliding on a unique key", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gMember{OrgID: ownOrg, UserID: 5, Handle: "h7"})
			return err
		}},
		guardWrite{name: "member UpsertRow of an own row", rows: edit([]string{"member|42|1"}, "member|42|1|h42b"), do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.UpsertRow(ctx, &gMember{OrgID: ownOrg, UserID: 1, Handle: "h42b"})
			return err
		}},
		guardWrite{name: "member UpsertRows colliding on a unique key", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.UpsertRows(ctx, []*gMember{{OrgID: ownOrg, UserID: 1, Handle: "h42b"}, {OrgID: ownOrg, UserID: 5, Handle: "h7"}}, 0)
		}},
		guardWrite{name: "member UpdateRow", rows: edit([]string{"member|42|1"}, "member|42|1|hh"), do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.UpdateRow(ctx, &gMember{OrgID: ownOrg, UserID: 1, Handle: "hh"})
		}},
		guardWrite{name: "member DeleteRow", rows: edit([]string{"member|42|1"}), do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.DeleteRow(ctx, &gMember{OrgID: ownOrg, UserID: 1})
		}},
		// A global table is not limited.
		guardWrite{name: "plan UpsertRow", rows: edit([]string{"plan|1"}, "plan|1|pro", "plan|2|team"), do: func(ctx context.Context, db *sqlgen.DB) error {
			if _, err := db.UpsertRow(ctx, &gPlan{ID: 1, Name: "pro"}); err != nil {
				return err
			}
			return db.UpsertRows(ctx, []*gPlan{{ID: 2, Name: "team"}}, 0)
		}},
		// AutoIncrement: ids written back under the limit.
		guardWrite{name: "auto InsertRow of another tenant's row", want: sqlgen.ErrLimit, do: func(ctx context.Context, db *sqlgen.DB) error {
			_, err := db.InsertRow(ctx, &gAuto{OrgID: otherOrg, Name: "x"})
			return err
		}},
		guardWrite{name: "auto InsertRow and InsertRows", rows: edit(nil, "auto|3|42|a", "auto|4|42|b", "auto|5|42|c"), do: func(ctx context.Context, db *sqlgen.DB) error {
			a := &gAuto{OrgID: ownOrg, Name: "a"}
			if _, err := db.InsertRow(ctx, a); err != nil {
				return err
			}
			bc := []*gAuto{{OrgID: ownOrg, Name: "b"}, {OrgID: ownOrg, Name: "c"}}
			if err := db.InsertRows(ctx, bc, 0); err != nil {
				return err
			}
			if a.ID != 3 || bc[0].ID != 4 || bc[1].ID != 5 {
				return fmt.Errorf("ids %d, %d, %d written back, want 3, 4, 5", a.ID, bc[0].ID, bc[1].ID)
			}
			return nil
		}},
		guardWrite{name: "auto DeleteRow of another tenant's key", do: func(ctx context.Context, db *sqlgen.DB) error {
			return db.DeleteRow(ctx, &gAuto{ID: 1, OrgID: ownOrg})
		}},
	)
	// UpsertRows, in one statement and in several: the colliding row first,
	// in the middle and last, on the primary and on a unique key.
	own := func() []*gItem {
		return []*gItem{
			{ID: 30, OrgID: ownOrg, Email: "c@x", Name: "new", N: 3},       // an insert
			{ID: 10, OrgID: ownOrg, Email: "a42@x", Name: "upd", N: 4},     // an update
			{ID: 31, OrgID: ownOrg, Email: "d@x", Name: "new2", N: 5},      // an insert
			{ID: 32, OrgID: ownOrg, Email: "b42@x", Name: "by mail", N: 6}, // an update of row 11 by its unique key
		}
	}
	for _, chunk := range []int{1, 2, 0} {
		for _, coll := range []struct {
			name string
			row  *gItem
		}{
			{"the primary key", &gItem{ID: 2, OrgID: ownOrg, Email: "zz@x", Name: "hijack", N: 99}},
			{"a unique key", &gItem{ID: 33, OrgID: ownOrg, Email: "b7@x", Name: "hijack", N: 99}},
		} {
			for pos := range []int{0, 2, 4} {
				pos := []int{0, 2, 4}[pos]
				ws = append(ws, guardWrite{
					name: fmt.Sprintf("UpsertRows chunk %d colliding on %s at row %d", chunk, coll.name, pos), want: sqlgen.ErrLimit,
					do: func(ctx context.Context, db *sqlgen.DB) error {
						rows := own()
						c := *coll.row
						rows = append(rows[:pos], append([]*gItem{&c}, rows[pos:]...)...)
						return db.UpsertRows(ctx, rows, chunk)
					},
				})
			}
		}
		ws = append(ws, guardWrite{
			name: fmt.Sprintf("UpsertRows chunk %d of own rows", chunk),
			rows: edit([]string{"item|10", "item|11"}, "item|10|42|a42@x|upd|4", "item|11|42|b42@x|by mail|6", "item|30|42|c@x|new|3", "item|31|42|d@x|new2|5"),
			do:   func(ctx context.Context, db *sqlgen.DB) error { return db.UpsertRows(ctx, own(), chunk) },
		})
	}
	return ws
}

// TestGuardWrites runs every write under a static and a dynamic limit,
// with and without a transaction, plain and with the statement cache,
// under the DSN settings that change the statements' path, and checks
// what the tables hold afterwards.
func TestGuardWrites(t *testing.T) {
	t.Parallel()
	for _, dsn := range guardDSNs {
		t.Run(dsn.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, guardDDL, dsn.opts...)
			schema := guardSchema(t)
			for _, cached := range []bool{false, true} {
				var opts []sqlgen.Option
				if cached {
					opts = append(opts, sqlgen.WithStmtCache(64))
				}
				base := sqlgen.NewDB(conn, schema, opts...)
				t.Cleanup(func() { base.Close() })
				for _, mode := range guardModes {
					db, err := mode.limit(base)
					if err != nil {
						t.Fatal(err)
					}
					for _, inTx := range []bool{false, true} {
						name := fmt.Sprintf("%s/stmtcache=%v/tx=%v", mode.name, cached, inTx)
						t.Run(name, func(t *testing.T) {
							for _, w := range guardWrites() {
								guardSeed(t, conn)
								ctx := mode.ctx(context.Background())
								var err error
								if inTx {
									// A careless caller: it commits whatever the write
									// returned, so that what the write left in the
									// transaction shows.
									txCtx, tx, txErr := db.WithTx(ctx)
									if txErr != nil {
										t.Fatal(txErr)
									}
									err = w.do(txCtx, db)
									if cErr := tx.Commit(); cErr != nil {
										t.Fatalf("%s: commit: %v", w.name, cErr)
									}
								} else {
									err = w.do(ctx, db)
								}
								switch want := w.want.(type) {
								case nil:
									if err != nil {
										t.Errorf("%s: %v", w.name, err)
									}
								case *mysql.MySQLError:
									var me *mysql.MySQLError
									if !errors.As(err, &me) || me.Number != want.Number {
										t.Errorf("%s: %v, want MySQL error %d", w.name, err, want.Number)
									}
								default:
									if !errors.Is(err, want) {
										t.Errorf("%s: %v, want an error wrapping %v", w.name, err, want)
									}
								}
								want := w.rows
								if want == nil {
									want = guardSeedDump
								}
								if diff := cmp.Diff(want, guardDump(t, conn)); diff != "" {
									t.Errorf("%s: the tables afterwards (-want +got):\n%s", w.name, diff)
								}
							}
						})
					}
				}
			}
		})
	}
}

// TestGuardReads runs every read under a static and a dynamic limit, with
// and without a transaction and with batching.
func TestGuardReads(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, guardDDL)
	guardSeed(t, conn)
	schema := guardSchema(t)
	for _, cached := range []bool{false, true} {
		var opts []sqlgen.Option
		if cached {
			opts = append(opts, sqlgen.WithStmtCache(64))
		}
		base := sqlgen.NewDB(conn, schema, opts...)
		t.Cleanup(func() { base.Close() })
		for _, mode := range guardModes {
			db, err := mode.limit(base)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"plain", "tx", "batching"} {
				t.Run(fmt.Sprintf("%s/stmtcache=%v/%s", mode.name, cached, path), func(t *testing.T) {
					ctx := mode.ctx(context.Background())
					switch path {
					case "tx":
						txCtx, tx, err := db.WithTx(ctx)
						if err != nil {
							t.Fatal(err)
						}
						defer tx.Rollback()
						ctx = txCtx
					case "batching":
						ctx = sqlgen.WithBatching(ctx)
					}
					guardReads(t, ctx, db)
				})
			}
		}
	}
	if diff := cmp.Diff(guardSeedDump, guardDump(t, conn)); diff != "" {
		t.Errorf("reads changed the tables (-want +got):\n%s", diff)
	}
}

func ids(rows []*gItem) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func guardReads(t *testing.T, ctx context.Context, db *sqlgen.DB) {
	t.Helper()
	refused := []sqlgen.Filter{nil, {"id": 1}, {"org_id": otherOrg}, {"org_id": []int64{ownOrg, otherOrg}}, {"org_id": otherOrg, "id": 1}, {"email": "a7@x"}}
	// Run concurrently, so that batched reads merge; one at a time in a
	// transaction, whose connection runs one statement at a time.
	var wg sync.WaitGroup
	spawn := func(f func()) {
		if db.HasTx(ctx) {
			f()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	errs := make(chan string, 200)
	fail := func(format string, args ...any) { errs <- fmt.Sprintf(format, args...) }
	for _, f := range refused {
		spawn(func() {
			var rows []*gItem
			if err := db.Query(ctx, &rows, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
				fail("Query %v: %v, %v; want ErrLimit", f, err, ids(rows))
			}
		})
		spawn(func() {
			var row *gItem
			if err := db.QueryRow(ctx, &row, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
				fail("QueryRow %v: %v, %+v; want ErrLimit", f, err, row)
			}
		})
		spawn(func() {
			if n, err := db.Count(ctx, &gItem{}, f); !errors.Is(err, sqlgen.ErrLimit) {
				fail("Count %v: %d, %v; want ErrLimit", f, n, err)
			}
		})
		spawn(func() {
			if r, err := sqlgen.Get[gItem](ctx, db, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
				fail("Get %v: %+v, %v; want ErrLimit", f, r, err)
			}
		})
		spawn(func() {
			if rs, err := sqlgen.Select[gItem](ctx, db, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
				fail("Select %v: %v, %v; want ErrLimit", f, ids(rs), err)
			}
		})
		spawn(func() {
			var rows []*gItem
			if err := db.FullScanQuery(ctx, &rows, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
				fail("FullScanQuery %v: %v, %v; want ErrLimit", f, err, ids(rows))
			}
		})
	}
	for _, c := range []struct {
		f    sqlgen.Filter
		want []int64
	}{
		{sqlgen.Filter{"org_id": ownOrg}, []int64{10, 11}},
		{sqlgen.Filter{"org_id": []int32{ownOrg}}, []int64{10, 11}},
		{sqlgen.Filter{"org_id": ownOrg, "id": 1}, []int64{}},
		{sqlgen.Filter{"org_id": ownOrg, "id": []int64{1, 2, 10}}, []int64{10}},
		{sqlgen.Filter{"org_id": ownOrg, "id": 11}, []int64{11}},
		{sqlgen.Filter{"org_id": ownOrg, "email": "a7@x"}, []int64{}},
	} {
		spawn(func() {
			var rows []*gItem
			if err := db.Query(ctx, &rows, c.f, nil); err != nil || !cmp.Equal(ids(rows), c.want) {
				fail("Query %v: %v, %v; want %v", c.f, err, ids(rows), c.want)
			}
		})
		spawn(func() {
			rows, err := sqlgen.Select[gItem](ctx, db, c.f, &sqlgen.SelectOptions{Limit: 10})
			if err != nil || !cmp.Equal(ids(rows), c.want) {
				fail("Select %v: %v, %v; want %v", c.f, err, ids(rows), c.want)
			}
		})
		spawn(func() {
			if n, err := db.Count(ctx, &gItem{}, c.f); err != nil || n != int64(len(c.want)) {
				fail("Count %v: %d, %v; want %d", c.f, n, err, len(c.want))
			}
		})
		spawn(func() {
			r, err := sqlgen.Get[gItem](ctx, db, c.f, nil)
			switch len(c.want) {
			case 0:
				if !errors.Is(err, sql.ErrNoRows) {
					fail("Get %v: %+v, %v; want no row", c.f, r, err)
				}
			case 1:
				if err != nil || r.ID != c.want[0] {
					fail("Get %v: %+v, %v; want row %d", c.f, r, err, c.want[0])
				}
			default:
				if !errors.Is(err, sqlgen.ErrTooManyRows) {
					fail("Get %v: %+v, %v; want ErrTooManyRows", c.f, r, err)
				}
			}
		})
	}
	// A global table is read freely.
	spawn(func() {
		var plans []*gPlan
		if err := db.Query(ctx, &plans, nil, nil); err != nil || len(plans) != 1 {
			fail("Query of the global table: %v, %d rows", err, len(plans))
		}
	})
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestGuardUnknownColumn: a limit on a column no table has is refused, and
// a dynamic limit that names a column the table lacks fails the call.
func TestGuardUnknownColumn(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, guardDDL)
	guardSeed(t, conn)
	db := sqlgen.NewDB(conn, guardSchema(t))
	ctx := context.Background()
	for _, c := range []struct {
		f    sqlgen.Filter
		want error
	}{
		{sqlgen.Filter{"orgid": 42}, sqlgen.ErrUnknownColumn},
		{sqlgen.Filter{"org_id": 42, "tenant": 1}, sqlgen.ErrUnknownColumn},
		{sqlgen.Filter{"org_id": nil}, sqlgen.ErrInvalidArgument},
		{sqlgen.Filter{"org_id": []int64{42}}, sqlgen.ErrInvalidArgument},
		{sqlgen.Filter{"org_id": "forty-two"}, sqlgen.ErrConvert},
		{sqlgen.Filter{}, sqlgen.ErrInvalidArgument},
	} {
		if _, err := db.WithShardLimit(c.f); !errors.Is(err, c.want) {
			t.Errorf("WithShardLimit(%v): %v, want %v", c.f, err, c.want)
		}
	}
	// A column some tables have limits those and leaves the others.
	if _, err := db.WithShardLimit(sqlgen.Filter{"org_id": 42}); err != nil {
		t.Errorf("WithShardLimit on org_id: %v", err)
	}

	var asked atomic.Int32
	for _, c := range []struct {
		name string
		f    func(table string) sqlgen.Filter
		msg  []string
		want error
	}{
		{"misspelled", func(string) sqlgen.Filter { return sqlgen.Filter{"orgid": int64(42)} }, []string{`"g_items"`, `"orgid"`}, sqlgen.ErrUnknownColumn},
		{"same filter for every table", func(string) sqlgen.Filter { return sqlgen.Filter{"org_id": int64(42)} }, []string{`"g_plans"`, `"org_id"`}, sqlgen.ErrUnknownColumn},
		{"nil value", func(string) sqlgen.Filter { return sqlgen.Filter{"org_id": nil} }, []string{`"org_id"`}, sqlgen.ErrInvalidArgument},
		{"slice value", func(string) sqlgen.Filter { return sqlgen.Filter{"org_id": []int64{42, 7}} }, []string{`"org_id"`}, sqlgen.ErrInvalidArgument},
	} {
		ldb, err := db.WithDynamicLimit(sqlgen.DynamicLimit{
			GetLimitFilter:        func(_ context.Context, table string) (sqlgen.Filter, error) { return c.f(table), nil },
			ShouldContinueOnError: func(context.Context, string, error) bool { asked.Add(1); return true },
		})
		if err != nil {
			t.Fatal(err)
		}
		calls := []struct {
			name string
			do   func() error
		}{
			{"Query", func() error { var r []*gItem; return ldb.Query(ctx, &r, sqlgen.Filter{"org_id": 42}, nil) }},
			{"QueryRow", func() error { var r *gItem; return ldb.QueryRow(ctx, &r, sqlgen.Filter{"org_id": 42, "id": 10}, nil) }},
			{"Count", func() error { _, err := ldb.Count(ctx, &gItem{}, sqlgen.Filter{"org_id": 42}); return err }},
			{"batched QueryRow", func() error {
				var r *gItem
				return ldb.QueryRow(sqlgen.WithBatching(ctx), &r, sqlgen.Filter{"org_id": 42, "id": 10}, nil)
			}},
			{"InsertRow", func() error { _, err := ldb.InsertRow(ctx, &gItem{ID: 30, OrgID: 42, Email: "c@x"}); return err }},
			{"InsertRows", func() error { return ldb.InsertRows(ctx, []*gItem{{ID: 30, OrgID: 42, Email: "c@x"}}, 0) }},
			{"UpsertRow", func() error { _, err := ldb.UpsertRow(ctx, &gItem{ID: 1, OrgID: 42, Email: "c@x"}); return err }},
			{"UpsertRows", func() error { return ldb.UpsertRows(ctx, []*gItem{{ID: 1, OrgID: 42, Email: "c@x"}}, 0) }},
			{"UpdateRow", func() error { return ldb.UpdateRow(ctx, &gItem{ID: 1, OrgID: 42, Email: "c@x"}) }},
			{"DeleteRow", func() error { return ldb.DeleteRow(ctx, &gItem{ID: 1, OrgID: 42}) }},
		}
		if c.name == "same filter for every table" {
			calls = []struct {
				name string
				do   func() error
			}{
				{"Query", func() error { var r []*gPlan; return ldb.Query(ctx, &r, nil, nil) }},
				{"UpsertRow", func() error { _, err := ldb.UpsertRow(ctx, &gPlan{ID: 1, Name: "x"}); return err }},
				{"DeleteRow", func() error { return ldb.DeleteRow(ctx, &gPlan{ID: 1}) }},
			}
		}
		for _, call := range calls {
			err := call.do()
			if !errors.Is(err, c.want) {
				t.Errorf("%s: %s: %v, want %v", c.name, call.name, err, c.want)
				continue
			}
			for _, m := range c.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%s: %s: %q does not name %s", c.name, call.name, err, m)
				}
			}
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("ShouldContinueOnError was asked %d times about configuration errors", n)
	}
	if diff := cmp.Diff(guardSeedDump, guardDump(t, conn)); diff != "" {
		t.Errorf("refused calls changed the tables (-want +got):\n%s", diff)
	}
}

// TestGuardShouldContinueOnError: a dynamic limit whose
// ShouldContinueOnError says yes lets each breaking call through as if
// the DB had no limit, after asking with an error wrapping ErrLimit.
func TestGuardShouldContinueOnError(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, guardDDL)
	base := sqlgen.NewDB(conn, guardSchema(t))
	var asked atomic.Int32
	db, err := base.WithDynamicLimit(sqlgen.DynamicLimit{
		GetLimitFilter: func(ctx context.Context, table string) (sqlgen.Filter, error) {
			if table == "g_plans" {
				return nil, nil
			}
			return sqlgen.Filter{"org_id": ctx.Value(tenantCtx{})}, nil
		},
		ShouldContinueOnError: func(ctx context.Context, table string, err error) bool {
			if !errors.Is(err, sqlgen.ErrLimit) {
				t.Errorf("ShouldContinueOnError asked with %v, which does not wrap ErrLimit", err)
			}
			asked.Add(1)
			return ctx.Value(dryRunCtx{}) != nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), tenantCtx{}, int64(ownOrg))
	dry := context.WithValue(ctx, dryRunCtx{}, true)
	for _, c := range []struct {
		name  string
		do    func(ctx context.Context) error
		asked int32
		rows  []string // after the call let through
	}{
		{"read without the pin", func(ctx context.Context) error {
			var rows []*gItem
			if err := db.Query(ctx, &rows, nil, nil); err != nil {
				return err
			}
			if len(rows) != 4 {
				return fmt.Errorf("%d rows, want all 4", len(rows))
			}
			return nil
		}, 1, guardSeedDump},
		{"InsertRow of another tenant's row", func(ctx context.Context) error {
			_, err := db.InsertRow(ctx, &gItem{ID: 30, OrgID: otherOrg, Email: "c@x"})
			return err
		}, 1, edit(nil, "item|30|7|c@x||0")},
		{"UpsertRow colliding on the primary key", func(ctx context.Context) error {
			_, err := db.UpsertRow(ctx, &gItem{ID: 1, OrgID: ownOrg, Email: "a7@x", Name: "taken"})
			return err
		}, 1, edit([]string{"item|1"}, "item|1|42|a7@x|taken|0")},
		{"UpsertRows colliding on a unique key", func(ctx context.Context) error {
			return db.UpsertRows(ctx, []*gItem{{ID: 30, OrgID: ownOrg, Email: "c@x"}, {ID: 31, OrgID: ownOrg, Email: "b7@x", Name: "taken"}}, 1)
		}, 1, edit([]string{"item|2"}, "item|2|42|b7@x|taken|0", "item|30|42|c@x||0")},
		{"UpdateRow of another tenant's row", func(ctx context.Context) error {
			return db.UpdateRow(ctx, &gItem{ID: 1, OrgID: otherOrg, Email: "a7@x", Name: "renamed"})
		}, 1, edit([]string{"item|1"}, "item|1|7|a7@x|renamed|0")},
		{"DeleteRow of another tenant's row", func(ctx context.Context) error {
			return db.DeleteRow(ctx, &gItem{ID: 1, OrgID: otherOrg})
		}, 1, edit([]string{"item|1"})},
		{"InsertRows with another tenant's rows", func(ctx context.Context) error {
			return db.InsertRows(ctx, []*gItem{{ID: 30, OrgID: otherOrg, Email: "c@x"}, {ID: 31, OrgID: otherOrg, Email: "d@x"}}, 0)
		}, 2, edit(nil, "item|30|7|c@x||0", "item|31|7|d@x||0")},
	} {
		// Refused without the dry-run flag, nothing written.
		guardSeed(t, conn)
		asked.Store(0)
		if err := c.do(ctx); !errors.Is(err, sqlgen.ErrLimit) {
			t.Errorf("%s: %v, want ErrLimit", c.name, err)
		}
		if diff := cmp.Diff(guardSeedDump, guardDump(t, conn)); diff != "" {
			t.Errorf("%s: refused, but the tables changed (-want +got):\n%s", c.name, diff)
		}
		if asked.Load() != 1 {
			t.Errorf("%s: ShouldContinueOnError asked %d times before refusing, want 1", c.name, asked.Load())
		}
		// Let through with it.
		asked.Store(0)
		if err := c.do(dry); err != nil {
			t.Errorf("%s: let through: %v", c.name, err)
		}
		if asked.Load() != c.asked {
			t.Errorf("%s: ShouldContinueOnError asked %d times, want %d", c.name, asked.Load(), c.asked)
		}
		if diff := cmp.Diff(c.rows, guardDump(t, conn)); diff != "" {
			t.Errorf("%s: let through, the tables (-want +got):\n%s", c.name, diff)
		}
	}
}

// gHidden's table has an AUTO_INCREMENT column no field maps to: the
// server then reports the generated id in place of the collision marker.
type gHidden struct {
	ID    int64 `sql:",primary"`
	OrgID int64
	Email string
}

func TestGuardUpsertHiddenAutoIncrement(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{
		"CREATE TABLE g_hidden (id BIGINT PRIMARY KEY, org_id BIGINT NOT NULL, email VARCHAR(64) NOT NULL, seq BIGINT NOT NULL AUTO_INCREMENT, UNIQUE KEY (email), UNIQUE KEY (seq))",
	})
	s := sqlgen.NewSchema()
	s.MustRegisterType("g_hidden", sqlgen.UniqueID, gHidden{})
	base := sqlgen.NewDB(conn, s)
	db, err := base.WithShardLimit(sqlgen.Filter{"org_id": ownOrg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dump := func() string {
		var out string
		if err := conn.QueryRow("SELECT COALESCE(GROUP_CONCAT(CONCAT_WS('|', id, org_id, email) ORDER BY id), '') FROM g_hidden").Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	sqlgentest.Exec(t, conn, "INSERT INTO g_hidden (id, org_id, email) VALUES (1, 7, 'a7@x'), (10, 42, 'a42@x')")
	const seed = "1|7|a7@x,10|42|a42@x"
	if _, err := db.UpsertRow(ctx, &gHidden{ID: 1, OrgID: ownOrg, Email: "x@x"}); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("UpsertRow colliding on the primary key: %v, want ErrLimit", err)
	}
	if _, err := db.UpsertRow(ctx, &gHidden{ID: 2, OrgID: ownOrg, Email: "a7@x"}); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("UpsertRow colliding on a unique key: %v, want ErrLimit", err)
	}
	if err := db.UpsertRows(ctx, []*gHidden{{ID: 20, OrgID: ownOrg, Email: "b@x"}, {ID: 1, OrgID: ownOrg, Email: "c@x"}}, 1); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("UpsertRows of one row a statement, colliding: %v, want ErrLimit", err)
	}
	// Two new rows in one statement: the generated ids would hide a
	// collision, so the batch is refused and rolled back.
	err = db.UpsertRows(ctx, []*gHidden{{ID: 20, OrgID: ownOrg, Email: "b@x"}, {ID: 1, OrgID: ownOrg, Email: "c@x"}}, 0)
	if !errors.Is(err, sqlgen.ErrUnsupported) || !strings.Contains(err.Error(), "AUTO_INCREMENT") {
		t.Errorf("UpsertRows of a multi-row statement that generates ids: %v, want ErrUnsupported", err)
	}
	if got := dump(); got != seed {
		t.Errorf("after refused upserts: %s, want %s", got, seed)
	}
	if _, err := db.UpsertRow(ctx, &gHidden{ID: 20, OrgID: ownOrg, Email: "b@x"}); err != nil {
		t.Errorf("UpsertRow of a new row: %v", err)
	}
	if err := db.UpsertRows(ctx, []*gHidden{{ID: 21, OrgID: ownOrg, Email: "c@x"}, {ID: 10, OrgID: ownOrg, Email: "d@x"}}, 1); err != nil {
		t.Errorf("UpsertRows one row a statement: %v", err)
	}
	if got, want := dump(), "1|7|a7@x,10|42|d@x,20|42|b@x,21|42|c@x"; got != want {
		t.Errorf("after upserts: %s, want %s", got, want)
	}
}

// TestGuardedUpsertKeepsValues: a guarded upsert of an own row stores every
// type exactly as an unguarded one does (the IF() around each assignment
// changes no value).
func TestGuardedUpsertKeepsValues(t *testing.T) {
	t.Parallel()
	for _, v := range dsnVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, []string{allTypesDDL}, v.opts...)
			base := sqlgen.NewDB(conn, newAllTypesSchema(t))
			const tenant = 77
			db, err := base.WithShardLimit(sqlgen.Filter{"i64": tenant})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			cases := allTypesCases()
			for _, c := range cases {
				c.I64 = tenant
				if _, err := db.InsertRow(ctx, &allTypes{ID: c.ID, I64: tenant, T: c.T, TS: c.TS}); err != nil {
					t.Fatal(err)
				}
			}
			check := func(how string) {
				t.Helper()
				for _, want := range cases {
					var got *allTypes
					if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": want.ID, "i64": tenant}, nil); err != nil {
						t.Fatal(err)
					}
					w := *want
					wantJSONAny(&w)
					if diff := cmp.Diff(&w, got, cmp.AllowUnexported(allTypes{})); diff != "" {
						t.Errorf("%s, id %d: read back differs (-wrote +read):\n%s", how, want.ID, diff)
					}
				}
			}
			for _, c := range cases {
				if _, err := db.UpsertRow(ctx, c); err != nil {
					t.Fatalf("UpsertRow(id %d): %v", c.ID, err)
				}
			}
			check("UpsertRow")
			for _, c := range cases {
				if _, err := db.InsertRow(ctx, &allTypes{ID: c.ID + 100, I64: tenant, T: c.T, TS: c.TS}); err != nil {
					t.Fatal(err)
				}
				c.ID += 100
			}
			if err := db.UpsertRows(ctx, cases, 0); err != nil {
				t.Fatal(err)
			}
			check("UpsertRows")
		})
	}
}

// TestGuardConcurrent: tenants upserting at once, each also trying to take
// the others' keys, never modify a row of another tenant; the guards are
// built concurrently by the first calls.
func TestGuardConcurrent(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, guardDDL)
	base := sqlgen.NewDB(conn, guardSchema(t), sqlgen.WithStmtCache(32))
	t.Cleanup(func() { base.Close() })
	static := map[int64]*sqlgen.DB{}
	const tenants, rounds = 6, 15
	for i := int64(0); i < tenants; i++ {
		db, err := base.WithShardLimit(sqlgen.Filter{"org_id": 100 + i})
		if err != nil {
			t.Fatal(err)
		}
		static[100+i] = db
	}
	dynamic, err := base.WithDynamicLimit(sqlgen.DynamicLimit{GetLimitFilter: func(ctx context.Context, table string) (sqlgen.Filter, error) {
		return sqlgen.Filter{"org_id": ctx.Value(tenantCtx{})}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Each tenant owns ids 1000*tenant+k and emails t<tenant>-<k>.
	row := func(tenant, owner int64, k int, name string) *gItem {
		return &gItem{ID: 1000*owner + int64(k), OrgID: tenant, Email: fmt.Sprintf("t%d-%d", owner, k), Name: name}
	}
	// Every tenant's rows exist before anyone tries to take them (taking
	// a key nobody holds yet is an ordinary insert).
	for i := int64(0); i < tenants; i++ {
		ctx := context.WithValue(context.Background(), tenantCtx{}, 100+i)
		if err := static[100+i].UpsertRows(ctx, []*gItem{row(100+i, 100+i, 1, "first"), row(100+i, 100+i, 2, "first")}, 0); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, tenants*rounds*4)
	for i := int64(0); i < tenants; i++ {
		tenant := 100 + i
		victim := 100 + (i+1)%tenants
		db := static[tenant]
		if i%2 == 1 {
			db = dynamic
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.WithValue(context.Background(), tenantCtx{}, tenant)
			for r := 0; r < rounds; r++ {
				own := fmt.Sprintf("own %d", r)
				if err := db.UpsertRows(ctx, []*gItem{row(tenant, tenant, 1, own), row(tenant, tenant, 2, own)}, 1); err != nil {
					errs <- fmt.Errorf("tenant %d: own upsert: %w", tenant, err)
				}
				// The victim's key, then its email under an own id.
				if _, err := db.UpsertRow(ctx, row(tenant, victim, 1, "stolen")); err != nil && !errors.Is(err, sqlgen.ErrLimit) {
					errs <- fmt.Errorf("tenant %d: upsert over %d: %w", tenant, victim, err)
				}
				stolen := row(tenant, victim, 2, "stolen")
				stolen.ID = 1000*tenant + 50
				if err := db.UpsertRows(ctx, []*gItem{row(tenant, tenant, 3, own), stolen}, 0); err != nil && !errors.Is(err, sqlgen.ErrLimit) {
					errs <- fmt.Errorf("tenant %d: batch over %d: %w", tenant, victim, err)
				}
				if err := db.UpdateRow(ctx, row(tenant, victim, 1, "stolen")); err != nil {
					errs <- fmt.Errorf("tenant %d: update of %d's key: %w", tenant, victim, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// InnoDB may pick a deadlock victim among upserts of the same
		// keys: rolled back, it is not a guard failure (the table's
		// contents are checked below).
		if !sqlgen.IsRetryable(err) {
			t.Error(err)
		}
	}
	rows, err := conn.Query("SELECT id, org_id, email, name FROM g_items ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, org int64
		var email, name string
		if err := rows.Scan(&id, &org, &email, &name); err != nil {
			t.Fatal(err)
		}
		n++
		if id/1000 != org || !strings.HasPrefix(email, fmt.Sprintf("t%d-", org)) || name == "stolen" {
			t.Errorf("row %d: org %d, email %s, name %q: written by another tenant", id, org, email, name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != tenants*2 {
		t.Errorf("%d rows, want %d (each tenant's two; the batches with a stolen key wrote nothing)", n, tenants*2)
	}
}
