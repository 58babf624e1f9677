package sqlgen_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type shapeRow struct {
	ID    int64 `sql:",primary"`
	Email *string
	Nick  string `sql:",implicitnull"`
}

// TestShapeCache reads through the same DB with filters on the same
// columns but different shapes (a value, NULL, an implicitnull zero, an IN
// list, a limit); each must get its own text, also when repeated, so the
// cache can never hand one shape the text of another. Three rounds: the
// first builds and caches each text, the second finds it in the shape
// cache and makes the first few plain-equality shapes hints (more of them
// than a table keeps), the third reads through the hints.
func TestShapeCache(t *testing.T) {
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := sqlgen.NewSchema()
	s.MustRegisterType("shapes", sqlgen.UniqueID, shapeRow{})
	db := sqlgen.NewDB(conn, s)
	ctx := context.Background()
	const sel = "SELECT `id`,`email`,`nick` FROM `shapes`"
	cases := []struct {
		filter sqlgen.Filter
		count  bool
		sql    string
		args   []any
	}{
		{sqlgen.Filter{"email": "a@x"}, false, sel + " WHERE `email`=?", []any{"a@x"}},
		{sqlgen.Filter{"email": nil}, false, sel + " WHERE `email` IS NULL", nil},
		{sqlgen.Filter{"nick": ""}, false, sel + " WHERE `nick` IS NULL", nil},
		{sqlgen.Filter{"nick": "n"}, false, sel + " WHERE `nick`=?", []any{"n"}},
		{sqlgen.Filter{"nick": "n", "email": nil}, false, sel + " WHERE `email` IS NULL AND `nick`=?", []any{"n"}},
		{sqlgen.Filter{"email": []string{"a", "b"}}, false, sel + " WHERE `email` IN (?,?)", []any{"a", "b"}},
		{sqlgen.Filter{"email": "a@x"}, true, "SELECT COUNT(*) FROM `shapes` WHERE `email`=?", []any{"a@x"}},
		{nil, false, sel, nil},
		{nil, true, "SELECT COUNT(*) FROM `shapes`", nil},
		{sqlgen.Filter{"id": 5}, false, sel + " WHERE `id`=?", []any{int64(5)}},
		{sqlgen.Filter{"id": int32(6)}, false, sel + " WHERE `id`=?", []any{int64(6)}},
		{sqlgen.Filter{"id": int64(7)}, true, "SELECT COUNT(*) FROM `shapes` WHERE `id`=?", []any{int64(7)}},
		{sqlgen.Filter{"id": int64(8), "email": "e"}, false, sel + " WHERE `email`=? AND `id`=?", []any{"e", int64(8)}},
		{sqlgen.Filter{"id": int64(8), "nick": "k"}, false, sel + " WHERE `id`=? AND `nick`=?", []any{int64(8), "k"}},
		{sqlgen.Filter{"email": "e", "nick": "k"}, false, sel + " WHERE `email`=? AND `nick`=?", []any{"e", "k"}},
		{sqlgen.Filter{"id": 9, "email": "e", "nick": "k"}, false, sel + " WHERE `email`=? AND `id`=? AND `nick`=?", []any{"e", int64(9), "k"}},
		{sqlgen.Filter{"id": 9, "email": nil, "nick": "k"}, false, sel + " WHERE `email` IS NULL AND `id`=? AND `nick`=?", []any{int64(9), "k"}},
		{sqlgen.Filter{"id": 10}, false, sel + " WHERE `id`=? LIMIT 2", []any{int64(10)}},
		{sqlgen.Filter{"id": nil}, false, sel + " WHERE `id` IS NULL LIMIT 2", nil},
		{sqlgen.Filter{"nick": "n"}, false, sel + " WHERE `nick`=? LIMIT 2", []any{"n"}},
		{sqlgen.Filter{"nick": ""}, false, sel + " WHERE `nick` IS NULL LIMIT 2", nil},
		{sqlgen.Filter{"nick": []string{"a"}}, false, sel + " WHERE `nick` IN (?) LIMIT 2", []any{"a"}},
		{sqlgen.Filter{"email": "a", "nick": "b"}, false, sel + " WHERE `email`=? AND `nick`=? LIMIT 2", []any{"a", "b"}},
	}
	firstRow := len(cases) - 6 // the cases from here on are QueryRow's (LIMIT 2)
	limited := []struct {
		filter sqlgen.Filter
		opts   *sqlgen.SelectOptions
		row    bool
		sql    string
		args   []any
	}{
		{nil, &sqlgen.SelectOptions{Limit: 100}, false, sel + " LIMIT 100", nil},
		{sqlgen.Filter{"nick": "n"}, &sqlgen.SelectOptions{Limit: 5}, false, sel + " WHERE `nick`=? LIMIT 5", []any{"n"}},
		{sqlgen.Filter{"nick": "n"}, &sqlgen.SelectOptions{Limit: 6, AllowNoIndex: true}, false, sel + " WHERE `nick`=? LIMIT 6", []any{"n"}},
		{sqlgen.Filter{"nick": "n"}, &sqlgen.SelectOptions{Limit: 5, OrderBy: "`id` DESC"}, false, sel + " WHERE `nick`=? ORDER BY `id` DESC LIMIT 5", []any{"n"}},
		{sqlgen.Filter{"nick": "n"}, &sqlgen.SelectOptions{Limit: 5, ForUpdate: true}, false, sel + " WHERE `nick`=? LIMIT 5 FOR UPDATE", []any{"n"}},
		{sqlgen.Filter{"id": 3}, &sqlgen.SelectOptions{Limit: 1}, true, sel + " WHERE `id`=? LIMIT 1", []any{int64(3)}},
		{sqlgen.Filter{"id": 3}, &sqlgen.SelectOptions{Limit: 10}, true, sel + " WHERE `id`=? LIMIT 2", []any{int64(3)}},
	}
	for round := 0; round < 3; round++ {
		for i, c := range cases {
			args := append([]any(nil), c.args...)
			q := mock.ExpectQuery(c.sql)
			if len(args) > 0 {
				q = q.WithArgs(toDriver(args)...)
			}
			if c.count {
				q.WillReturnRows(sqlmock.NewRows([]string{"COUNT(*)"}).AddRow(0))
				if _, err := db.Count(ctx, &shapeRow{}, c.filter); err != nil {
					t.Fatalf("round %d, Count %v: %v", round, c.filter, err)
				}
				continue
			}
			q.WillReturnRows(sqlmock.NewRows([]string{"id", "email", "nick"}))
			if i >= firstRow {
				var row *shapeRow
				if err := db.QueryRow(ctx, &row, c.filter, nil); !errors.Is(err, sql.ErrNoRows) {
					t.Fatalf("round %d, QueryRow %v: %v, want sql.ErrNoRows", round, c.filter, err)
				}
				continue
			}
			var rows []*shapeRow
			if err := db.Query(ctx, &rows, c.filter, nil); err != nil {
				t.Fatalf("round %d, Query %v: %v", round, c.filter, err)
			}
		}
	}
	// Options that only set a Limit share the cache; the others must not.
	for round := 0; round < 3; round++ {
		for _, c := range limited {
			q := mock.ExpectQuery(c.sql)
			if len(c.args) > 0 {
				q = q.WithArgs(toDriver(c.args)...)
			}
			q.WillReturnRows(sqlmock.NewRows([]string{"id", "email", "nick"}))
			if c.row {
				var row *shapeRow
				if err := db.QueryRow(ctx, &row, c.filter, c.opts); !errors.Is(err, sql.ErrNoRows) {
					t.Fatalf("round %d, QueryRow %v %+v: %v, want sql.ErrNoRows", round, c.filter, c.opts, err)
				}
				continue
			}
			var rows []*shapeRow
			if err := db.Query(ctx, &rows, c.filter, c.opts); err != nil {
				t.Fatalf("round %d, Query %v %+v: %v", round, c.filter, c.opts, err)
			}
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

func toDriver(args []any) []driver.Value {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}
