package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type org struct {
	ID   int64 `sql:",primary"`
	Name string
}

type user struct {
	ID       int64 `sql:",primary"`
	OrgID    int64
	Name     string
	Email    *string
	Status   status
	Settings settings `sql:",json"`
}

// membership has a composite key and reserved-word column names.
type membership struct {
	OrgID  int64  `sql:",primary"`
	UserID int64  `sql:",primary"`
	Key    string `sql:"key"`
	Order  int    `sql:"order"`
}

// crudSchemaFile holds the tables of the CRUD, InsertRows, batching,
// limit and transaction tests, shared through the repository's testdata.
const crudSchemaFile = "../testdata/crud.sql"

func newCRUD(t *testing.T, opts ...sqlgentest.Option) (*sqlgen.DB, *sql.DB) {
	t.Helper()
	conn := sqlgentest.OpenFile(t, crudSchemaFile, opts...)
	s := sqlgen.NewSchema()
	s.MustRegisterType("orgs", sqlgen.AutoIncrement, org{})
	s.MustRegisterType("users", sqlgen.AutoIncrement, user{})
	s.MustRegisterType("memberships", sqlgen.UniqueID, membership{})
	return sqlgen.NewDB(conn, s), conn
}

// newObserved is newCRUD with a Recorder observing the DB.
func newObserved(t *testing.T, opts ...sqlgentest.Option) (*sqlgen.DB, *sqlgentest.Recorder, *sql.DB) {
	t.Helper()
	conn := sqlgentest.OpenFile(t, crudSchemaFile, opts...)
	s := sqlgen.NewSchema()
	s.MustRegisterType("orgs", sqlgen.AutoIncrement, org{})
	s.MustRegisterType("users", sqlgen.AutoIncrement, user{})
	s.MustRegisterType("memberships", sqlgen.UniqueID, membership{})
	log := &sqlgentest.Recorder{}
	return sqlgen.NewDB(conn, s, sqlgen.WithObserver(log.Observe)), log, conn
}

func TestCRUD(t *testing.T) {
	t.Parallel()
	db, _ := newCRUD(t)
	ctx := context.Background()

	o := &org{Name: "acme"}
	if _, err := db.InsertRow(ctx, o); err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 {
		t.Fatal("InsertRow did not write the AutoIncrement id back")
	}
	// An explicit id is kept.
	o2 := &org{ID: 100, Name: "explicit"}
	if _, err := db.InsertRow(ctx, o2); err != nil {
		t.Fatal(err)
	}
	var got *org
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 100}, nil); err != nil || got.Name != "explicit" {
		t.Fatalf("explicit id: %v, %+v", err, got)
	}

	users := []*user{
		{OrgID: o.ID, Name: "ann", Email: ptr("ann@x"), Status: "active", Settings: settings{Theme: "dark"}},
		{OrgID: o.ID, Name: "bob", Status: "active"},
		{OrgID: o.ID, Name: "cid", Status: "gone"},
		{OrgID: o2.ID, Name: "dan", Status: "active"},
	}
	for _, u := range users {
		if _, err := db.InsertRow(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	queries := []struct {
		name   string
		filter sqlgen.Filter
		opts   *sqlgen.SelectOptions
		want   []string
	}{
		{"all", nil, nil, []string{"ann", "bob", "cid", "dan"}},
		{"one column", sqlgen.Filter{"org_id": o.ID}, nil, []string{"ann", "bob", "cid"}},
		{"int32 on BIGINT", sqlgen.Filter{"org_id": int32(o2.ID)}, nil, []string{"dan"}},
		{"named type", sqlgen.Filter{"status": status("gone")}, nil, []string{"cid"}},
		{"plain string for a named type", sqlgen.Filter{"status": "gone"}, nil, []string{"cid"}},
		{"two columns", sqlgen.Filter{"org_id": o.ID, "status": "active"}, nil, []string{"ann", "bob"}},
		{"IS NULL", sqlgen.Filter{"email": nil}, nil, []string{"bob", "cid", "dan"}},
		{"nil pointer is IS NULL", sqlgen.Filter{"email": (*string)(nil)}, nil, []string{"bob", "cid", "dan"}},
		{"IN", sqlgen.Filter{"name": []string{"ann", "dan", "zed"}}, nil, []string{"ann", "dan"}},
		{"IN of int32", sqlgen.Filter{"id": []int32{int32(users[1].ID), int32(users[2].ID)}}, nil, []string{"bob", "cid"}},
		{"empty IN", sqlgen.Filter{"name": []string{}}, nil, nil},
		{"IN with nil", sqlgen.Filter{"email": []*string{ptr("ann@x"), nil}}, nil, []string{"ann", "bob", "cid", "dan"}},
		{"JSON equality", sqlgen.Filter{"settings": settings{Theme: "dark"}}, nil, []string{"ann"}},
		{"Where", sqlgen.Filter{"org_id": o.ID}, &sqlgen.SelectOptions{Where: "name > ?", Values: []any{"ann"}}, []string{"bob", "cid"}},
		{"OrderBy and Limit", nil, &sqlgen.SelectOptions{OrderBy: "name DESC", Limit: 2}, []string{"dan", "cid"}},
	}
	for _, q := range queries {
		var rows []*user
		if err := db.Query(ctx, &rows, q.filter, q.opts); err != nil {
			t.Errorf("%s: %v", q.name, err)
			continue
		}
		var names []string
		for _, r := range rows {
			names = append(names, r.Name)
		}
		if q.opts == nil || q.opts.OrderBy == "" {
			slices.Sort(names)
		}
		if !cmp.Equal(names, q.want) {
			t.Errorf("%s: got %q, want %q", q.name, names, q.want)
		}
		if n, err := db.Count(ctx, &user{}, q.filter); q.opts == nil && (err != nil || n != int64(len(q.want))) {
			t.Errorf("%s: Count = %d, %v; want %d", q.name, n, err, len(q.want))
		}
	}

	// QueryRow: none, one, several.
	var u *user
	if err := db.QueryRow(ctx, &u, sqlgen.Filter{"name": "nobody"}, nil); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("no row: %v, want sql.ErrNoRows", err)
	}
	if err := db.QueryRow(ctx, &u, sqlgen.Filter{"org_id": o.ID}, nil); !errors.Is(err, sqlgen.ErrTooManyRows) {
		t.Errorf("several rows: %v, want ErrTooManyRows", err)
	}
	if u != nil {
		t.Errorf("result set by a failed QueryRow: %+v", u)
	}
	if err := db.QueryRow(ctx, &u, sqlgen.Filter{"id": users[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(users[0], u); diff != "" {
		t.Errorf("QueryRow: %s", diff)
	}

	// Update and delete by primary key.
	u.Settings.Theme = "light"
	u.Settings.Tags = []string{"t"}
	u.Email = nil
	if err := db.UpdateRow(ctx, u); err != nil {
		t.Fatal(err)
	}
	var after *user
	if err := db.QueryRow(ctx, &after, sqlgen.Filter{"id": u.ID}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u, after); diff != "" {
		t.Errorf("after UpdateRow: %s", diff)
	}
	if err := db.DeleteRow(ctx, after); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &user{}, sqlgen.Filter{"id": u.ID}); n != 0 {
		t.Errorf("row still there after DeleteRow")
	}
	if n, _ := db.Count(ctx, &user{}, nil); n != 3 {
		t.Errorf("DeleteRow removed more than one row: %d left", n)
	}

	// Upserts are refused on AutoIncrement tables.
	if _, err := db.UpsertRow(ctx, u); !errors.Is(err, sqlgen.ErrUnsupported) {
		t.Errorf("UpsertRow on AutoIncrement: %v", err)
	}
	// Unknown columns are refused before anything is sent.
	var rows []*user
	if err := db.Query(ctx, &rows, sqlgen.Filter{"nope": 1}, nil); !errors.Is(err, sqlgen.ErrUnknownColumn) {
		t.Errorf("unknown column: %v", err)
	}
}

func TestUpsertCompositeKey(t *testing.T) {
	t.Parallel()
	db, _ := newCRUD(t, sqlgentest.Params("interpolateParams", "true"))
	ctx := context.Background()
	m := &membership{OrgID: 1, UserID: 2, Key: "k", Order: 1}
	for i := 0; i < 2; i++ { // insert, then a no-op upsert
		if _, err := db.UpsertRow(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	other := &membership{OrgID: 1, UserID: 3, Key: "other", Order: 9}
	if _, err := db.UpsertRow(ctx, other); err != nil {
		t.Fatal(err)
	}
	m.Key, m.Order = "changed", 2
	if _, err := db.UpsertRow(ctx, m); err != nil {
		t.Fatal(err)
	}
	var all []*membership
	if err := db.Query(ctx, &all, sqlgen.Filter{"org_id": 1}, &sqlgen.SelectOptions{OrderBy: "`user_id`"}); err != nil {
		t.Fatal(err)
	}
	want := []*membership{m, other}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("after upserts (-want +got):\n%s", diff)
	}
	if err := db.DeleteRow(ctx, &membership{OrgID: 1, UserID: 3}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &membership{}, nil); n != 1 {
		t.Errorf("composite DeleteRow: %d rows left, want 1", n)
	}
	if n, _ := db.Count(ctx, &membership{}, sqlgen.Filter{"key": "changed", "order": 2}); n != 1 {
		t.Errorf("reserved-word filter found %d rows", n)
	}
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	db, _ := newCRUD(t)
	ctx := context.Background()

	// Rolled back: nothing is there.
	txCtx, tx, err := db.WithTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !db.HasTx(txCtx) || db.HasTx(ctx) {
		t.Fatal("HasTx is wrong")
	}
	if _, _, err := db.WithTx(txCtx); !errors.Is(err, sqlgen.ErrTxInProgress) {
		t.Errorf("nested WithTx: %v", err)
	}
	if _, err := db.InsertRow(txCtx, &org{Name: "rolled back"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(txCtx, &org{}, nil); n != 1 {
		t.Errorf("inside the transaction: %d rows, want 1", n)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Errorf("outside the transaction: %d rows, want 0 before commit", n)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &org{}, nil); n != 0 {
		t.Errorf("after rollback: %d rows", n)
	}

	// Committed, with a caller's own transaction and FOR UPDATE.
	own, err := db.Conn().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	txCtx, err = db.WithExistingTx(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	o := &org{Name: "kept"}
	if _, err := db.InsertRow(txCtx, o); err != nil {
		t.Fatal(err)
	}
	var locked *org
	if err := db.QueryRow(txCtx, &locked, sqlgen.Filter{"id": o.ID}, &sqlgen.SelectOptions{ForUpdate: true}); err != nil {
		t.Fatal(err)
	}
	locked.Name = "kept and updated"
	if err := db.UpdateRow(txCtx, locked); err != nil {
		t.Fatal(err)
	}
	if err := own.Commit(); err != nil {
		t.Fatal(err)
	}
	var got *org
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": o.ID}, nil); err != nil || got.Name != "kept and updated" {
		t.Errorf("after commit: %+v, %v", got, err)
	}
	if _, err := db.WithExistingTx(ctx, nil); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("WithExistingTx(nil): %v", err)
	}
}

// TestConcurrentReads has many goroutines read different rows through the
// pooled scanners at once; every row must come back exactly as written,
// with nothing from another query.
func TestConcurrentReads(t *testing.T) {
	t.Parallel()
	db, _ := newCRUD(t)
	ctx := context.Background()
	const n = 200
	want := make(map[int64]*user, n)
	for i := 0; i < n; i++ {
		u := &user{OrgID: int64(i % 7), Name: fmt.Sprintf("user-%03d", i), Status: status(fmt.Sprint("s", i)),
			Settings: settings{Theme: fmt.Sprint("theme-", i), Size: i, Tags: []string{fmt.Sprint(i)}}}
		if i%2 == 0 {
			u.Email = ptr(fmt.Sprintf("u%d@x", i))
		}
		if _, err := db.InsertRow(ctx, u); err != nil {
			t.Fatal(err)
		}
		want[u.ID] = u
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				id := int64((g*61+i*13)%n + 1)
				var got *user
				if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": id}, nil); err != nil {
					errs <- err
					return
				}
				if diff := cmp.Diff(want[id], got); diff != "" {
					errs <- fmt.Errorf("row %d: %s", id, diff)
					return
				}
				var rows []*user
				orgID := int64((g + i) % 7)
				if err := db.Query(ctx, &rows, sqlgen.Filter{"org_id": orgID}, nil); err != nil {
					errs <- err
					return
				}
				for _, r := range rows {
					if diff := cmp.Diff(want[r.ID], r); r.OrgID != orgID || diff != "" {
						errs <- fmt.Errorf("org %d row %d: %s", orgID, r.ID, diff)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
