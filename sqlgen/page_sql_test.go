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

// TestSQLReadOptionsText: the SQL text and arguments of Columns, Offset
// and After, as the planner writes them.
func TestSQLReadOptionsText(t *testing.T) {
	ctx := context.Background()
	db, _, mock := sqNew(t)
	const memberCols = "`org_id`,`user_id`,`key`,`order`,`right`"
	for _, tc := range []struct {
		name string
		sql  string
		args []driver.Value
		cols []string
		run  func() error
	}{
		{"columns in table order, repeats once", "SELECT `id`,`name` FROM `sq_users` WHERE `org_id`=?", sqArgs(int64(7)), []string{"id", "name"}, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, sqlgen.Filter{"org_id": 7}, &sqlgen.SelectOptions{Columns: []string{"name", "id", "name"}})
			return err
		}},
		{"columns without the key", "SELECT `name` FROM `sq_users` WHERE `id`=? LIMIT 2", sqArgs(int64(3)), []string{"name"}, func() error {
			_, err := sqlgen.Get[sqUser](ctx, db, sqlgen.Filter{"id": 3}, &sqlgen.SelectOptions{Columns: []string{"name"}})
			return err
		}},
		{"offset with limit", sqUserSelect + " ORDER BY `id` LIMIT 20 OFFSET 40", nil, sqUserCols, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}, Limit: 20, Offset: 40})
			return err
		}},
		{"offset without limit", sqUserSelect + " ORDER BY `id` LIMIT 18446744073709551615 OFFSET 5", nil, sqUserCols, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}, Offset: 5})
			return err
		}},
		{"QueryRow's limit with an offset", sqUserSelect + " WHERE `org_id`=? ORDER BY `id` LIMIT 2 OFFSET 3", sqArgs(int64(1)), sqUserCols, func() error {
			_, err := sqlgen.Get[sqUser](ctx, db, sqlgen.Filter{"org_id": 1}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}, Offset: 3})
			return err
		}},
		{"after, one term", sqUserSelect + " WHERE `id`>? ORDER BY `id` LIMIT 10", sqArgs(int64(5)), sqUserCols, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}, Limit: 10, After: []any{5}})
			return err
		}},
		{"after with a filter", sqUserSelect + " WHERE `org_id`=? AND `id`<? ORDER BY `id` DESC", sqArgs(int64(2), int64(5)), sqUserCols, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, sqlgen.Filter{"org_id": int32(2)}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Desc("id")}, After: []any{int16(5)}})
			return err
		}},
		{"after, same direction: row value, key appended", sqUserSelect + " WHERE (`org_id`<=? AND (`org_id`,`id`)<(?,?)) ORDER BY `org_id` DESC,`id` DESC", sqArgs(int64(7), int64(7), int64(100)), sqUserCols, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Desc("org_id")}, After: []any{7, 100}})
			return err
		}},
		{"first keyset page: empty After orders by the key too", sqUserSelect + " ORDER BY `org_id`,`id` LIMIT 3", nil, sqUserCols, func() error {
			_, err := sqlgen.Select[sqUser](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("org_id")}, After: []any{}, Limit: 3})
			return err
		}},
		{"after, mixed directions: OR chain", "SELECT " + memberCols + " FROM `sq_members` WHERE (`key`>=? AND ((`key`>?) OR (`key`=? AND `order`<?) OR (`key`=? AND `order`=? AND `org_id`<?) OR (`key`=? AND `order`=? AND `org_id`=? AND `user_id`<?))) ORDER BY `key`,`order` DESC,`org_id` DESC,`user_id` DESC LIMIT 5",
			sqArgs("k", "k", "k", int64(3), "k", int64(3), int64(1), "k", int64(3), int64(1), int64(2)), []string{"org_id", "user_id", "key", "order", "right"}, func() error {
				_, err := sqlgen.Select[sqMember](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("key"), sqlgen.Desc("order")}, Limit: 5, After: []any{"k", 3, 1, 2}})
				return err
			}},
		{"after, key among the order columns", "SELECT " + memberCols + " FROM `sq_members` WHERE (`user_id`>=? AND (`user_id`,`org_id`)>(?,?)) ORDER BY `user_id`,`org_id`", sqArgs(int64(4), int64(4), int64(9)), []string{"org_id", "user_id", "key", "order", "right"}, func() error {
			_, err := sqlgen.Select[sqMember](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("user_id"), sqlgen.Asc("org_id")}, After: []any{4, 9}})
			return err
		}},
		{"all three, and columns", "SELECT `name` FROM `sq_users` WHERE `id`>? ORDER BY `id` LIMIT 2 OFFSET 1", sqArgs(int64(5)), []string{"name"}, func() error {
			var rows []*sqUser
			for r, err := range sqlgen.Iter[sqUser](ctx, db, nil, &sqlgen.SelectOptions{Columns: []string{"name"}, Order: []sqlgen.Order{sqlgen.Asc("id")}, Limit: 2, Offset: 1, After: []any{5}}) {
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
			return nil
		}},
	} {
		mock.ExpectQuery(tc.sql).WithArgs(tc.args...).WillReturnRows(sqlmock.NewRows(tc.cols)).RowsWillBeClosed()
		if err := tc.run(); err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
}

// TestSQLReadOptionsRefused: what the options refuse, before anything is
// sent (sqlmock fails any statement).
func TestSQLReadOptionsRefused(t *testing.T) {
	ctx := context.Background()
	db, _, _ := sqNew(t)
	id := []sqlgen.Order{sqlgen.Asc("id")}
	for _, tc := range []struct {
		name string
		opts sqlgen.SelectOptions
		want error
	}{
		{"unknown column", sqlgen.SelectOptions{Columns: []string{"name", "nope"}}, sqlgen.ErrUnknownColumn},
		{"empty column name", sqlgen.SelectOptions{Columns: []string{""}}, sqlgen.ErrUnknownColumn},
		{"negative offset", sqlgen.SelectOptions{Offset: -1}, sqlgen.ErrInvalidArgument},
		{"after without order", sqlgen.SelectOptions{After: []any{1}}, sqlgen.ErrInvalidArgument},
		{"empty after without order", sqlgen.SelectOptions{After: []any{}}, sqlgen.ErrInvalidArgument},
		{"after with OrderBy", sqlgen.SelectOptions{OrderBy: "`id`", After: []any{1}}, sqlgen.ErrInvalidArgument},
		{"too few values", sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("org_id")}, After: []any{1}}, sqlgen.ErrInvalidArgument},
		{"too many values", sqlgen.SelectOptions{Order: id, After: []any{1, 2}}, sqlgen.ErrInvalidArgument},
		{"nullable order column", sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("email")}, After: []any{"a", 1}}, sqlgen.ErrInvalidArgument},
		{"JSON order column", sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("settings")}, After: []any{"{}", 1}}, sqlgen.ErrInvalidArgument},
		{"NULL value", sqlgen.SelectOptions{Order: id, After: []any{nil}}, sqlgen.ErrInvalidArgument},
		{"unconvertible value", sqlgen.SelectOptions{Order: id, After: []any{"x"}}, nil},
		{"unknown order column", sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("nope")}, After: []any{1, 2}}, sqlgen.ErrUnknownColumn},
	} {
		opts := tc.opts
		_, err := sqlgen.Select[sqUser](ctx, db, nil, &opts)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: Select: %v, want %v", tc.name, err, tc.want)
		}
		n := 0
		for _, err := range sqlgen.Iter[sqUser](ctx, db, nil, &opts) {
			n++
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: Iter: %v, want %v", tc.name, err, tc.want)
			}
		}
		if n != 1 {
			t.Errorf("%s: Iter yielded %d times, want the error once", tc.name, n)
		}
	}
}

// TestCursor: the values After takes, from a row: the Order columns',
// then the key's that Order does not name; bad input is an error.
func TestCursor(t *testing.T) {
	db, _, _ := sqNew(t)
	m := &sqMember{OrgID: 1, UserID: 2, Key: "k", Order: 3}
	got, err := db.Cursor(m, sqlgen.Desc("order"), sqlgen.Asc("user_id"))
	if err != nil || len(got) != 3 || got[0] != int32(3) || got[1] != int64(2) || got[2] != int64(1) {
		t.Fatalf("Cursor: %#v, %v; want [3 2 1]", got, err)
	}
	if got, err := db.Cursor(*m, sqlgen.Asc("key")); err != nil || len(got) != 3 || got[0] != "k" {
		t.Fatalf("Cursor of a struct value: %#v, %v", got, err)
	}
	var nilRow *sqMember
	for name, c := range map[string]struct {
		row   any
		order []sqlgen.Order
		want  error
	}{
		"nil row":         {nilRow, []sqlgen.Order{sqlgen.Asc("key")}, sqlgen.ErrInvalidArgument},
		"not a struct":    {42, []sqlgen.Order{sqlgen.Asc("key")}, sqlgen.ErrInvalidArgument},
		"unregistered":    {&sqUnregistered{}, []sqlgen.Order{sqlgen.Asc("id")}, sqlgen.ErrNotRegistered},
		"no order":        {m, nil, sqlgen.ErrInvalidArgument},
		"unknown column":  {m, []sqlgen.Order{sqlgen.Asc("nope")}, sqlgen.ErrUnknownColumn},
		"nullable column": {&sqUser{}, []sqlgen.Order{sqlgen.Asc("email")}, sqlgen.ErrInvalidArgument},
	} {
		if _, err := db.Cursor(c.row, c.order...); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
