package sqlgen_test

// Unit tests of the exact SQL text and arguments of every statement kind,
// against go-sqlmock: no database needed. The identifiers of this file
// start with "sq" so as not to collide with the other tests of the package.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type sqStatus string

type sqSettings struct {
	Theme string   `json:"theme,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

type sqUser struct {
	ID       int64 `sql:",primary"`
	OrgID    int64
	Name     string
	Email    *string
	Status   sqStatus
	Settings *sqSettings `sql:",json"`
	Avatar   []byte
}

// sqMember has a composite key and reserved words for column names.
type sqMember struct {
	OrgID  int64  `sql:",primary"`
	UserID int64  `sql:",primary"`
	Key    string `sql:"key"`
	Order  int32  `sql:"order"`
	Right  bool   `sql:"right"`
}

// sqPair has only key columns.
type sqPair struct {
	A int64  `sql:",primary"`
	B string `sql:",primary"`
}

// sqDoc has a JSON column that can hold anything, including values that
// cannot be encoded.
type sqDoc struct {
	ID  string `sql:",primary"`
	Doc any    `sql:",json"`
}

type sqUnregistered struct {
	ID int64 `sql:",primary"`
}

const (
	sqUserSelect   = "SELECT `id`,`org_id`,`name`,`email`,`status`,`settings`,`avatar` FROM `sq_users`"
	sqMemberSelect = "SELECT `org_id`,`user_id`,`key`,`order`,`right` FROM `sq_members`"
)

var sqUserCols = []string{"id", "org_id", "name", "email", "status", "settings", "avatar"}

func sqSchema(t testing.TB) *sqlgen.Schema {
	t.Helper()
	s := sqlgen.NewSchema()
	for _, r := range []struct {
		name string
		pk   sqlgen.PrimaryKeyType
		v    any
	}{
		{"sq_users", sqlgen.AutoIncrement, sqUser{}},
		{"sq_members", sqlgen.UniqueID, sqMember{}},
		{"sq_pairs", sqlgen.UniqueID, &sqPair{}},
		{"sq_docs", sqlgen.UniqueID, sqDoc{}},
	} {
		if err := s.RegisterType(r.name, r.pk, r.v); err != nil {
			t.Fatalf("RegisterType(%q): %v", r.name, err)
		}
	}
	return s
}

// sqExactSQL is sqlmock.QueryMatcherEqual, and then byte-for-byte
// equality, which QueryMatcherEqual does not check (it folds white space).
var sqExactSQL = sqlmock.QueryMatcherFunc(func(expected, actual string) error {
	if err := sqlmock.QueryMatcherEqual.Match(expected, actual); err != nil {
		return err
	}
	if expected != actual {
		return fmt.Errorf("actual SQL %q differs from the expected %q in white space", actual, expected)
	}
	return nil
})

// sqStrictConverter refuses anything but the plain values the fields
// package promises to send (driver.Value, plus uint64 above MaxInt64), so
// that the arguments reaching sqlmock are what sqlgen sent, not what
// database/sql's default converter made of them (which would turn an
// int32 into an int64 and hide a missed conversion). It also applies to
// the expected arguments given to WithArgs.
type sqStrictConverter struct{}

func (sqStrictConverter) ConvertValue(v any) (driver.Value, error) {
	switch v.(type) {
	case nil, int64, uint64, float64, bool, []byte, string, time.Time:
		return v, nil
	}
	return nil, fmt.Errorf("a %T (%#v) is not a plain driver.Value", v, v)
}

// sqNew returns a DB on a fresh sqlmock whose expectations must all be met
// when the test ends.
func sqNew(t *testing.T) (*sqlgen.DB, *sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqExactSQL), sqlmock.ValueConverterOption(sqStrictConverter{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mock.ExpectationsWereMet(); err != nil {
			t.Errorf("sqlmock: %v", err)
		}
		conn.Close()
	})
	return sqlgen.NewDB(conn, sqSchema(t)), conn, mock
}

func sqArgs(args ...driver.Value) []driver.Value { return args }

// Server versions, and the JSON comparison sqlgen picks for each.
const (
	sqOldMariaDB = "10.6.5-MariaDB"             // JSON_CONTAINS both ways
	sqNewMariaDB = "10.11.19-MariaDB-0+deb12u1" // IS NOT NULL AND JSON_EQUALS
	sqMySQL      = "8.0.36"                     // = CAST(? AS JSON)
)

// sqExpectVersion expects the query by which a DB learns its server's
// version: once per DB, the first time a JSON column is filtered.
func sqExpectVersion(mock sqlmock.Sqlmock, version string) {
	mock.ExpectQuery("SELECT VERSION()").WithoutArgs().
		WillReturnRows(sqlmock.NewRows([]string{"VERSION()"}).AddRow(version))
}

func sqStr(s string) *string { return &s }

// sqWantErr checks that err wraps want and mentions each of mention.
func sqWantErr(t *testing.T, err, want error, mention ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %v", err, want)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

func TestSQLQueryNoFilter(t *testing.T) {
	db, _, mock := sqNew(t)
	ctx := context.Background()
	rows := sqlmock.NewRows(sqUserCols).
		AddRow(int64(1), int64(7), []byte("bob"), nil, []byte("active"), []byte(`{"theme":"dark","tags":["a"]}`), []byte{1, 2}).
		AddRow(int64(2), int64(7), []byte("amy"), []byte("amy@example.com"), []byte("gone"), nil, nil)
	mock.ExpectQuery(sqUserSelect).WithoutArgs().WillReturnRows(rows).RowsWillBeClosed()
	mock.ExpectQuery(sqUserSelect).WithoutArgs().WillReturnRows(sqlmock.NewRows(sqUserCols)).RowsWillBeClosed()

	var got []*sqUser
	if err := db.Query(ctx, &got, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := []*sqUser{
		{ID: 1, OrgID: 7, Name: "bob", Status: "active", Settings: &sqSettings{Theme: "dark", Tags: []string{"a"}}, Avatar: []byte{1, 2}},
		{ID: 2, OrgID: 7, Name: "amy", Email: sqStr("amy@example.com"), Status: "gone"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Query mismatch (-want +got):\n%s", diff)
	}

	// An empty, non-nil filter is no filter; no rows replace the slice
	// with an empty, non-nil one.
	if err := db.Query(ctx, &got, sqlgen.Filter{}, &sqlgen.SelectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != 0 {
		t.Errorf("Query with no rows left %#v, want an empty non-nil slice", got)
	}
}

func TestSQLQueryFilter(t *testing.T) {
	seven := int64(7)
	dark := `{"theme":"dark"}`
	tests := []struct {
		name   string
		filter sqlgen.Filter
		opts   *sqlgen.SelectOptions
		sql    string // after sqUserSelect
		args   []driver.Value
	}{
		{"one", sqlgen.Filter{"org_id": int64(7)}, nil, " WHERE `org_id`=?", sqArgs(int64(7))},
		{"int", sqlgen.Filter{"org_id": 7}, nil, " WHERE `org_id`=?", sqArgs(int64(7))},
		{"int32 sends int64", sqlgen.Filter{"org_id": int32(7)}, nil, " WHERE `org_id`=?", sqArgs(int64(7))},
		{"uint8 sends int64", sqlgen.Filter{"org_id": uint8(7)}, nil, " WHERE `org_id`=?", sqArgs(int64(7))},
		{"pointer", sqlgen.Filter{"org_id": &seven}, nil, " WHERE `org_id`=?", sqArgs(int64(7))},
		{"named string sends string", sqlgen.Filter{"status": sqStatus("active")}, nil, " WHERE `status`=?", sqArgs("active")},
		{"plain string on named column", sqlgen.Filter{"status": "active"}, nil, " WHERE `status`=?", sqArgs("active")},
		{"several sorted by column",
			sqlgen.Filter{"status": sqStatus("active"), "org_id": 7, "name": "bob", "id": int16(3)}, nil,
			" WHERE `id`=? AND `name`=? AND `org_id`=? AND `status`=?", sqArgs(int64(3), "bob", int64(7), "active")},
		{"nil", sqlgen.Filter{"email": nil}, nil, " WHERE `email` IS NULL", nil},
		{"nil pointer", sqlgen.Filter{"email": (*string)(nil)}, nil, " WHERE `email` IS NULL", nil},
		{"nil and value", sqlgen.Filter{"email": nil, "name": "x"}, nil, " WHERE `email` IS NULL AND `name`=?", sqArgs("x")},
		{"slice", sqlgen.Filter{"id": []int64{3, 1, 2}}, nil, " WHERE `id` IN (?,?,?)", sqArgs(int64(3), int64(1), int64(2))},
		{"one-element slice", sqlgen.Filter{"id": []int64{3}}, nil, " WHERE `id` IN (?)", sqArgs(int64(3))},
		{"[]int32 slice", sqlgen.Filter{"id": []int32{1, 2}}, nil, " WHERE `id` IN (?,?)", sqArgs(int64(1), int64(2))},
		{"named strings", sqlgen.Filter{"status": []sqStatus{"a", "b"}}, nil, " WHERE `status` IN (?,?)", sqArgs("a", "b")},
		{"empty slice", sqlgen.Filter{"id": []int64{}}, nil, " WHERE FALSE", nil},
		{"nil slice", sqlgen.Filter{"id": []int64(nil)}, nil, " WHERE FALSE", nil},
		{"empty slice and value", sqlgen.Filter{"id": []int64{}, "org_id": 7}, nil, " WHERE FALSE AND `org_id`=?", sqArgs(int64(7))},
		{"slice with nil pointer", sqlgen.Filter{"email": []*string{sqStr("a"), nil}}, nil,
			" WHERE (`email` IN (?) OR `email` IS NULL)", sqArgs("a")},
		{"[]any with nil", sqlgen.Filter{"email": []any{"a", nil, "b"}}, nil,
			" WHERE (`email` IN (?,?) OR `email` IS NULL)", sqArgs("a", "b")},
		{"only nil elements", sqlgen.Filter{"email": []any{nil, nil}}, nil, " WHERE `email` IS NULL", nil},
		{"bytes column, bytes value", sqlgen.Filter{"avatar": []byte{1, 2}}, nil, " WHERE `avatar`=?", sqArgs([]byte{1, 2})},
		{"bytes column, list of bytes", sqlgen.Filter{"avatar": [][]byte{{1}, {2}}}, nil, " WHERE `avatar` IN (?,?)", sqArgs([]byte{1}, []byte{2})},
		{"json, old MariaDB", sqlgen.Filter{"settings": sqSettings{Theme: "dark"}}, nil,
			" WHERE JSON_CONTAINS(`settings`,?) AND JSON_CONTAINS(?,`settings`)", sqArgs(dark, dark)},
		{"json pointer, old MariaDB", sqlgen.Filter{"settings": &sqSettings{Theme: "dark"}}, nil,
			" WHERE JSON_CONTAINS(`settings`,?) AND JSON_CONTAINS(?,`settings`)", sqArgs(dark, dark)},
		{"json, MariaDB 10.7+", sqlgen.Filter{"settings": sqSettings{Theme: "dark"}}, nil,
			" WHERE (`settings` IS NOT NULL AND JSON_EQUALS(CONCAT(CHAR(91 USING utf8mb4),`settings`,CHAR(93 USING utf8mb4)),CONCAT(CHAR(91 USING utf8mb4),?,CHAR(93 USING utf8mb4))))", sqArgs(dark)},
		{"json, MariaDB 11", sqlgen.Filter{"settings": sqSettings{Theme: "dark"}}, nil,
			" WHERE (`settings` IS NOT NULL AND JSON_EQUALS(CONCAT(CHAR(91 USING utf8mb4),`settings`,CHAR(93 USING utf8mb4)),CONCAT(CHAR(91 USING utf8mb4),?,CHAR(93 USING utf8mb4))))", sqArgs(dark)},
		{"json, MySQL", sqlgen.Filter{"settings": sqSettings{Theme: "dark"}, "org_id": 7}, nil,
			" WHERE `org_id`=? AND `settings`=CAST(? AS JSON)", sqArgs(int64(7), dark)},
		{"json nil", sqlgen.Filter{"settings": nil}, nil, " WHERE `settings` IS NULL", nil},
		{"where", sqlgen.Filter{"org_id": 7}, &sqlgen.SelectOptions{Where: "`name` LIKE ?", Values: []any{"b%"}},
			" WHERE `org_id`=? AND (`name` LIKE ?)", sqArgs(int64(7), "b%")},
		{"where only", nil, &sqlgen.SelectOptions{Where: "`id` > ? OR `id` < ?", Values: []any{int64(9), int64(2)}},
			" WHERE (`id` > ? OR `id` < ?)", sqArgs(int64(9), int64(2))},
		{"order by", nil, &sqlgen.SelectOptions{OrderBy: "`id` DESC"}, " ORDER BY `id` DESC", nil},
		{"order", nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Desc("org_id"), sqlgen.Asc("id")}},
			" ORDER BY `org_id` DESC,`id`", nil},
		{"limit", nil, &sqlgen.SelectOptions{Limit: 10}, " LIMIT 10", nil},
		{"zero limit", nil, &sqlgen.SelectOptions{Limit: 0}, "", nil},
		{"negative limit", nil, &sqlgen.SelectOptions{Limit: -1}, "", nil},
		{"for update", nil, &sqlgen.SelectOptions{ForUpdate: true}, " FOR UPDATE", nil},
		{"everything", sqlgen.Filter{"org_id": 7, "email": nil},
			&sqlgen.SelectOptions{Where: "`name` LIKE ?", Values: []any{"b%"}, OrderBy: "`id` DESC", Limit: 10, ForUpdate: true},
			" WHERE `email` IS NULL AND `org_id`=? AND (`name` LIKE ?) ORDER BY `id` DESC LIMIT 10 FOR UPDATE",
			sqArgs(int64(7), "b%")},
	}
	// The cases that filter a JSON column, and the server version each
	// is run against: the DB asks it first.
	versions := map[string]string{
		"json, old MariaDB":         sqOldMariaDB,
		"json pointer, old MariaDB": sqOldMariaDB,
		"json, MariaDB 10.7+":       sqNewMariaDB,
		"json, MariaDB 11":          "11.4.2-MariaDB",
		"json, MySQL":               sqMySQL,
		// "json nil" asks nothing: IS NULL needs no JSON comparison.
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _, mock := sqNew(t)
			if v, ok := versions[tc.name]; ok {
				sqExpectVersion(mock, v)
			}
			e := mock.ExpectQuery(sqUserSelect + tc.sql)
			if tc.args == nil {
				e.WithoutArgs()
			} else {
				e.WithArgs(tc.args...)
			}
			e.WillReturnRows(sqlmock.NewRows(sqUserCols)).RowsWillBeClosed()
			got := []*sqUser{{ID: 99}}
			if err := db.Query(context.Background(), &got, tc.filter, tc.opts); err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != 0 {
				t.Errorf("Query returned %v, want an empty slice", got)
			}
		})
	}
}

// Filters that cannot be turned into SQL fail before any statement is sent
// (sqNew's sqlmock has no expectation, so a statement would fail the test).
func TestSQLFilterErrors(t *testing.T) {
	tests := []struct {
		name    string
		filter  sqlgen.Filter
		opts    *sqlgen.SelectOptions
		want    error
		mention []string
	}{
		{"unknown column", sqlgen.Filter{"nope": 1}, nil, sqlgen.ErrUnknownColumn, []string{`"nope"`, "sq_users"}},
		{"unknown among known", sqlgen.Filter{"id": 1, "zzz": 2}, nil, sqlgen.ErrUnknownColumn, []string{`"zzz"`}},
		{"field name, not column", sqlgen.Filter{"OrgID": 1}, nil, sqlgen.ErrUnknownColumn, []string{`"OrgID"`}},
		{"quoted column", sqlgen.Filter{"`id`": 1}, nil, sqlgen.ErrUnknownColumn, []string{"`id`"}},
		{"string for int", sqlgen.Filter{"org_id": "seven"}, nil, sqlgen.ErrConvert, []string{"org_id"}},
		{"int for string", sqlgen.Filter{"name": 65}, nil, sqlgen.ErrConvert, []string{"name"}},
		{"out of range", sqlgen.Filter{"org_id": uint64(1 << 63)}, nil, sqlgen.ErrConvert, []string{"org_id"}},
		{"bad list element", sqlgen.Filter{"org_id": []any{1, "x"}}, nil, sqlgen.ErrConvert, []string{"org_id", "element 1"}},
		{"json list", sqlgen.Filter{"settings": []sqSettings{{}, {}}}, nil, sqlgen.ErrInvalidArgument, []string{"settings", "JSON"}},
		{"unknown order column", nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("nope")}}, sqlgen.ErrUnknownColumn, []string{`"nope"`}},
		{"order and order by", nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}, OrderBy: "`id`"}, sqlgen.ErrInvalidArgument, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _, mock := sqNew(t)
			// No case here compares a JSON document (a JSON IN list is
			// refused first), so the server version is never asked.
			_ = mock
			var got []*sqUser
			err := db.Query(context.Background(), &got, tc.filter, tc.opts)
			sqWantErr(t, err, tc.want, tc.mention...)
			var row *sqUser
			sqWantErr(t, db.QueryRow(context.Background(), &row, tc.filter, tc.opts), tc.want, tc.mention...)
			if tc.opts == nil {
				_, err := db.Count(context.Background(), &sqUser{}, tc.filter)
				sqWantErr(t, err, tc.want, tc.mention...)
			}
			if errors.Is(tc.want, sqlgen.ErrConvert) {
				var fe *fields.Error
				if !errors.As(err, &fe) || fe.Table != "sq_users" || fe.Column == "" {
					t.Errorf("error %q does not carry a *fields.Error naming the column", err)
				}
			}
		})
	}
}

func TestSQLReservedWords(t *testing.T) {
	db, _, mock := sqNew(t)
	mock.ExpectQuery(sqMemberSelect+" WHERE `key`=? AND `order`=? AND `right`=?").
		WithArgs("k", int64(3), true).
		WillReturnRows(sqlmock.NewRows([]string{"org_id", "user_id", "key", "order", "right"}).
			AddRow(int64(1), int64(2), []byte("k"), int64(3), int64(1)))
	var got []*sqMember
	if err := db.Query(context.Background(), &got, sqlgen.Filter{"key": "k", "order": 3, "right": true}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*sqMember{{OrgID: 1, UserID: 2, Key: "k", Order: 3, Right: true}}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestSQLQueryRow(t *testing.T) {
	ctx := context.Background()
	row := func() *sqlmock.Rows {
		return sqlmock.NewRows(sqUserCols).AddRow(int64(5), int64(7), []byte("bob"), nil, []byte("active"), nil, nil)
	}
	want := &sqUser{ID: 5, OrgID: 7, Name: "bob", Status: "active"}

	t.Run("found", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectQuery(sqUserSelect + " WHERE `id`=? LIMIT 2").WithArgs(int64(5)).WillReturnRows(row()).RowsWillBeClosed()
		var got *sqUser
		if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 5}, nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("limits", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectQuery(sqUserSelect + " LIMIT 1").WithoutArgs().WillReturnRows(row())
		mock.ExpectQuery(sqUserSelect + " LIMIT 2").WithoutArgs().WillReturnRows(row())
		mock.ExpectQuery(sqUserSelect + " WHERE `id`=? ORDER BY `id` LIMIT 2 FOR UPDATE").WithArgs(int64(5)).WillReturnRows(row())
		var got *sqUser
		for _, opts := range []*sqlgen.SelectOptions{
			{Limit: 1},
			{Limit: 5},
		} {
			if err := db.QueryRow(ctx, &got, nil, opts); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": int64(5)}, &sqlgen.SelectOptions{OrderBy: "`id`", ForUpdate: true}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no rows", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectQuery(sqUserSelect + " WHERE `id`=? LIMIT 2").WithArgs(int64(5)).WillReturnRows(sqlmock.NewRows(sqUserCols)).RowsWillBeClosed()
		prev := &sqUser{ID: 1}
		got := prev
		err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 5}, nil)
		sqWantErr(t, err, sql.ErrNoRows, "sq_users")
		if got != prev {
			t.Errorf("QueryRow changed *result on error")
		}
	})
	t.Run("two rows", func(t *testing.T) {
		db, _, mock := sqNew(t)
		rows := row().AddRow(int64(6), int64(7), []byte("amy"), nil, []byte("active"), nil, nil)
		mock.ExpectQuery(sqUserSelect + " WHERE `org_id`=? LIMIT 2").WithArgs(int64(7)).WillReturnRows(rows).RowsWillBeClosed()
		var got *sqUser
		err := db.QueryRow(ctx, &got, sqlgen.Filter{"org_id": 7}, nil)
		sqWantErr(t, err, sqlgen.ErrTooManyRows, "sq_users")
		if errors.Is(err, sql.ErrNoRows) {
			t.Errorf("ErrTooManyRows error %q also matches sql.ErrNoRows", err)
		}
		if got != nil {
			t.Errorf("QueryRow set *result to %+v on error", got)
		}
	})
	t.Run("driver error", func(t *testing.T) {
		db, _, mock := sqNew(t)
		boom := errors.New("boom")
		mock.ExpectQuery(sqUserSelect + " LIMIT 2").WillReturnError(boom)
		var got *sqUser
		sqWantErr(t, db.QueryRow(ctx, &got, nil, nil), boom, "sq_users")
	})
	t.Run("row error", func(t *testing.T) {
		db, _, mock := sqNew(t)
		boom := errors.New("boom")
		mock.ExpectQuery(sqUserSelect + " LIMIT 2").WillReturnRows(row().RowError(0, boom))
		var got *sqUser
		sqWantErr(t, db.QueryRow(ctx, &got, nil, nil), boom)
		if got != nil {
			t.Errorf("QueryRow set *result on error")
		}
	})
}

func TestSQLCount(t *testing.T) {
	db, _, mock := sqNew(t)
	mock.ExpectQuery("SELECT COUNT(*) FROM `sq_users` WHERE `org_id`=? AND `status` IN (?,?)").
		WithArgs(int64(7), "a", "b").
		WillReturnRows(sqlmock.NewRows([]string{"COUNT(*)"}).AddRow(int64(3)))
	mock.ExpectQuery("SELECT COUNT(*) FROM `sq_members`").WithoutArgs().
		WillReturnRows(sqlmock.NewRows([]string{"COUNT(*)"}).AddRow(int64(0)))
	n, err := db.Count(context.Background(), &sqUser{}, sqlgen.Filter{"org_id": int32(7), "status": []string{"a", "b"}})
	if err != nil || n != 3 {
		t.Errorf("Count = %d, %v; want 3", n, err)
	}
	n, err = db.Count(context.Background(), (*sqMember)(nil), nil)
	if err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}

// The result and row arguments are checked before anything is sent.
func TestSQLArgumentChecks(t *testing.T) {
	db, _, _ := sqNew(t)
	ctx := context.Background()
	var users []*sqUser
	var values []sqUser
	var user *sqUser
	var unreg []*sqUnregistered
	var unregRow *sqUnregistered
	var ints []*int

	for _, tc := range []struct {
		name   string
		result any
		want   error
	}{
		{"slice, not pointer", users, sqlgen.ErrInvalidArgument},
		{"*[]T", &values, sqlgen.ErrInvalidArgument},
		{"nil *[]*T", (*[]*sqUser)(nil), sqlgen.ErrInvalidArgument},
		{"nil", nil, sqlgen.ErrInvalidArgument},
		{"**T", &user, sqlgen.ErrInvalidArgument},
		{"*[]*int", &ints, sqlgen.ErrInvalidArgument},
		{"unregistered", &unreg, sqlgen.ErrNotRegistered},
	} {
		t.Run("Query "+tc.name, func(t *testing.T) {
			sqWantErr(t, db.Query(ctx, tc.result, nil, nil), tc.want)
		})
	}
	for _, tc := range []struct {
		name   string
		result any
		want   error
	}{
		{"*T", user, sqlgen.ErrInvalidArgument},
		{"*T non-nil", &sqUser{}, sqlgen.ErrInvalidArgument},
		{"nil **T", (**sqUser)(nil), sqlgen.ErrInvalidArgument},
		{"nil", nil, sqlgen.ErrInvalidArgument},
		{"*[]*T", &users, sqlgen.ErrInvalidArgument},
		{"unregistered", &unregRow, sqlgen.ErrNotRegistered},
	} {
		t.Run("QueryRow "+tc.name, func(t *testing.T) {
			sqWantErr(t, db.QueryRow(ctx, tc.result, nil, nil), tc.want)
		})
	}
	for _, tc := range []struct {
		name  string
		model any
		want  error
	}{
		{"T", sqUser{}, sqlgen.ErrInvalidArgument},
		{"nil", nil, sqlgen.ErrInvalidArgument},
		{"unregistered", &sqUnregistered{}, sqlgen.ErrNotRegistered},
	} {
		t.Run("Count "+tc.name, func(t *testing.T) {
			_, err := db.Count(ctx, tc.model, nil)
			sqWantErr(t, err, tc.want)
		})
	}
	for _, tc := range []struct {
		name string
		row  any
		want error
	}{
		{"T", sqMember{}, sqlgen.ErrInvalidArgument},
		{"nil *T", (*sqMember)(nil), sqlgen.ErrInvalidArgument},
		{"nil", nil, sqlgen.ErrInvalidArgument},
		{"**T", &user, sqlgen.ErrInvalidArgument},
		{"unregistered", &sqUnregistered{}, sqlgen.ErrNotRegistered},
	} {
		t.Run("writes "+tc.name, func(t *testing.T) {
			_, err := db.InsertRow(ctx, tc.row)
			sqWantErr(t, err, tc.want)
			_, err = db.UpsertRow(ctx, tc.row)
			sqWantErr(t, err, tc.want)
			sqWantErr(t, db.UpdateRow(ctx, tc.row), tc.want)
			sqWantErr(t, db.DeleteRow(ctx, tc.row), tc.want)
		})
	}
}

func TestSQLInsertRow(t *testing.T) {
	ctx := context.Background()
	t.Run("auto increment, zero id", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectExec("INSERT INTO `sq_users` (`org_id`,`name`,`email`,`status`,`settings`,`avatar`) VALUES (?,?,?,?,?,?)").
			WithArgs(int64(7), "bob", nil, "active", `{"theme":"dark"}`, []byte{1}).
			WillReturnResult(sqlmock.NewResult(42, 1))
		u := &sqUser{OrgID: 7, Name: "bob", Status: "active", Settings: &sqSettings{Theme: "dark"}, Avatar: []byte{1}}
		res, err := db.InsertRow(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != 42 {
			t.Errorf("ID = %d after InsertRow, want the LastInsertId 42", u.ID)
		}
		if id, err := res.LastInsertId(); err != nil || id != 42 {
			t.Errorf("result LastInsertId = %d, %v", id, err)
		}
	})
	t.Run("auto increment, id set", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectExec("INSERT INTO `sq_users` (`id`,`org_id`,`name`,`email`,`status`,`settings`,`avatar`) VALUES (?,?,?,?,?,?,?)").
			WithArgs(int64(9), int64(7), "bob", "b@example.com", "", nil, nil).
			WillReturnResult(sqlmock.NewResult(1234, 1))
		u := &sqUser{ID: 9, OrgID: 7, Name: "bob", Email: sqStr("b@example.com")}
		if _, err := db.InsertRow(ctx, u); err != nil {
			t.Fatal(err)
		}
		if u.ID != 9 {
			t.Errorf("ID = %d, want 9 kept (the LastInsertId of an explicit id is not written back)", u.ID)
		}
	})
	t.Run("LastInsertId error", func(t *testing.T) {
		db, _, mock := sqNew(t)
		boom := errors.New("no id")
		mock.ExpectExec("INSERT INTO `sq_users` (`org_id`,`name`,`email`,`status`,`settings`,`avatar`) VALUES (?,?,?,?,?,?)").
			WillReturnResult(sqlmock.NewErrorResult(boom))
		_, err := db.InsertRow(ctx, &sqUser{})
		sqWantErr(t, err, boom, "sq_users")
	})
	t.Run("unique id, composite key", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectExec("INSERT INTO `sq_members` (`org_id`,`user_id`,`key`,`order`,`right`) VALUES (?,?,?,?,?)").
			WithArgs(int64(1), int64(0), "k", int64(-3), false).
			WillReturnResult(sqlmock.NewResult(0, 1))
		if _, err := db.InsertRow(ctx, &sqMember{OrgID: 1, Key: "k", Order: -3}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("driver error", func(t *testing.T) {
		db, _, mock := sqNew(t)
		boom := errors.New("duplicate")
		mock.ExpectExec("INSERT INTO `sq_pairs` (`a`,`b`) VALUES (?,?)").WithArgs(int64(1), "x").WillReturnError(boom)
		_, err := db.InsertRow(ctx, &sqPair{A: 1, B: "x"})
		sqWantErr(t, err, boom, "sq_pairs")
	})
	t.Run("value error", func(t *testing.T) {
		db, _, _ := sqNew(t)
		_, err := db.InsertRow(ctx, &sqDoc{ID: "d", Doc: func() {}})
		var fe *fields.Error
		if !errors.As(err, &fe) || fe.Column != "doc" || fe.Table != "sq_docs" {
			t.Errorf("InsertRow of an unencodable JSON value: error %v, want a *fields.Error for sq_docs.doc", err)
		}
	})
}

func TestSQLUpsertRow(t *testing.T) {
	ctx := context.Background()
	db, _, mock := sqNew(t)
	mock.ExpectExec("INSERT INTO `sq_members` (`org_id`,`user_id`,`key`,`order`,`right`) VALUES (?,?,?,?,?)"+
		" ON DUPLICATE KEY UPDATE `key`=VALUES(`key`),`order`=VALUES(`order`),`right`=VALUES(`right`)").
		WithArgs(int64(1), int64(2), "k", int64(3), true).
		WillReturnResult(sqlmock.NewResult(0, 2))
	mock.ExpectExec("INSERT INTO `sq_pairs` (`a`,`b`) VALUES (?,?) ON DUPLICATE KEY UPDATE `a`=`a`").
		WithArgs(int64(1), "x").
		WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec("INSERT INTO `sq_docs` (`id`,`doc`) VALUES (?,?) ON DUPLICATE KEY UPDATE `doc`=VALUES(`doc`)").
		WithArgs("d", `{"k":[1,2]}`).
		WillReturnResult(sqlmock.NewResult(0, 1))

	res, err := db.UpsertRow(ctx, &sqMember{OrgID: 1, UserID: 2, Key: "k", Order: 3, Right: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("RowsAffected = %d, want the driver's 2", n)
	}
	if _, err := db.UpsertRow(ctx, &sqPair{A: 1, B: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertRow(ctx, &sqDoc{ID: "d", Doc: map[string]any{"k": []int{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	// Refused on an AutoIncrement table, before anything is sent.
	_, err = db.UpsertRow(ctx, &sqUser{ID: 1})
	sqWantErr(t, err, sqlgen.ErrUnsupported, "sq_users")
}

func TestSQLUpdateRow(t *testing.T) {
	ctx := context.Background()
	db, _, mock := sqNew(t)
	mock.ExpectExec("UPDATE `sq_members` SET `key`=?,`order`=?,`right`=? WHERE `org_id`=? AND `user_id`=?").
		WithArgs("k", int64(3), true, int64(1), int64(2)).
		WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("UPDATE `sq_users` SET `org_id`=?,`name`=?,`email`=?,`status`=?,`settings`=?,`avatar`=? WHERE `id`=?").
		WithArgs(int64(7), "bob", nil, "x", nil, []byte{}, int64(5)).
		WillReturnResult(sqlmock.NewResult(0, 1))
	if err := db.UpdateRow(ctx, &sqMember{OrgID: 1, UserID: 2, Key: "k", Order: 3, Right: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRow(ctx, &sqUser{ID: 5, OrgID: 7, Name: "bob", Status: "x", Avatar: []byte{}}); err != nil {
		t.Fatal(err)
	}
	// A table of key columns only has nothing to update.
	sqWantErr(t, db.UpdateRow(ctx, &sqPair{A: 1}), sqlgen.ErrUnsupported, "sq_pairs")
}

func TestSQLDeleteRow(t *testing.T) {
	ctx := context.Background()
	db, _, mock := sqNew(t)
	mock.ExpectExec("DELETE FROM `sq_members` WHERE `org_id`=? AND `user_id`=?").
		WithArgs(int64(1), int64(2)).
		WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec("DELETE FROM `sq_users` WHERE `id`=?").
		WithArgs(int64(5)).
		WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec("DELETE FROM `sq_pairs` WHERE `a`=? AND `b`=?").
		WithArgs(int64(1), "x").
		WillReturnResult(sqlmock.NewResult(0, 1))
	if err := db.DeleteRow(ctx, &sqMember{OrgID: 1, UserID: 2, Key: "ignored"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRow(ctx, &sqUser{ID: 5, Name: "ignored"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRow(ctx, &sqPair{A: 1, B: "x"}); err != nil {
		t.Fatal(err)
	}
}

// Read errors name the table and column and keep the fields sentinel.
func TestSQLReadErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		row    []driver.Value
		want   error
		column string
	}{
		{"not a number", []driver.Value{int64(1), []byte("abc"), []byte("n"), nil, []byte("s"), nil, nil}, sqlgen.ErrConvert, "org_id"},
		{"NULL into a string", []driver.Value{int64(1), int64(7), nil, nil, []byte("s"), nil, nil}, sqlgen.ErrUnexpectedNull, "name"},
		{"bad JSON", []driver.Value{int64(1), int64(7), []byte("n"), nil, []byte("s"), []byte("{"), nil}, nil, "settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _, mock := sqNew(t)
			mock.ExpectQuery(sqUserSelect).WillReturnRows(sqlmock.NewRows(sqUserCols).AddRow(tc.row...)).RowsWillBeClosed()
			got := []*sqUser{{ID: 99}}
			err := db.Query(ctx, &got, nil, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %v", err, tc.want)
			}
			var fe *fields.Error
			if !errors.As(err, &fe) || fe.Table != "sq_users" || fe.Column != tc.column || fe.Op != "scan" {
				t.Errorf("error %q: want a *fields.Error for sq_users.%s", err, tc.column)
			}
			if len(got) != 1 || got[0].ID != 99 {
				t.Errorf("Query changed the result slice on error: %v", got)
			}
		})
	}
}

// The caller's filter and options are never modified, not even in the
// spare capacity of Values.
func TestSQLOptionsNotMutated(t *testing.T) {
	db, _, mock := sqNew(t)
	values := make([]any, 1, 8)
	values[0] = "b%"
	values[:cap(values)][1] = "spare"
	opts := &sqlgen.SelectOptions{
		Where:     "`name` LIKE ?",
		Values:    values,
		Order:     []sqlgen.Order{sqlgen.Desc("id")},
		Limit:     5,
		ForUpdate: true,
	}
	filter := sqlgen.Filter{"org_id": int32(7), "id": []int64{1, 2}, "settings": sqSettings{Theme: "x"}}
	wantOpts := *opts
	wantOpts.Values = append([]any(nil), opts.Values[:cap(opts.Values)]...)
	wantOpts.Order = append([]sqlgen.Order(nil), opts.Order...)
	wantFilter := sqlgen.Filter{"org_id": int32(7), "id": []int64{1, 2}, "settings": sqSettings{Theme: "x"}}

	q := sqUserSelect + " WHERE `id` IN (?,?) AND `org_id`=? AND JSON_CONTAINS(`settings`,?) AND JSON_CONTAINS(?,`settings`) AND (`name` LIKE ?) ORDER BY `id` DESC LIMIT 5 FOR UPDATE"
	args := sqArgs(int64(1), int64(2), int64(7), `{"theme":"x"}`, `{"theme":"x"}`, "b%")
	sqExpectVersion(mock, sqOldMariaDB)
	mock.ExpectQuery(q).WithArgs(args...).WillReturnRows(sqlmock.NewRows(sqUserCols))
	mock.ExpectQuery(strings.Replace(q, "LIMIT 5", "LIMIT 2", 1)).WithArgs(args...).WillReturnRows(sqlmock.NewRows(sqUserCols))

	var got []*sqUser
	if err := db.Query(context.Background(), &got, filter, opts); err != nil {
		t.Fatal(err)
	}
	var row *sqUser
	if err := db.QueryRow(context.Background(), &row, filter, opts); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("QueryRow: %v", err)
	}
	gotOpts := *opts
	gotOpts.Values = opts.Values[:cap(opts.Values)]
	if diff := cmp.Diff(&wantOpts, &gotOpts); diff != "" {
		t.Errorf("SelectOptions modified (-before +after):\n%s", diff)
	}
	if len(opts.Values) != 1 {
		t.Errorf("len(Values) = %d, want 1", len(opts.Values))
	}
	if diff := cmp.Diff(wantFilter, filter); diff != "" {
		t.Errorf("Filter modified (-before +after):\n%s", diff)
	}
}

func TestSQLTransactions(t *testing.T) {
	ctx := context.Background()
	t.Run("commit", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectBegin()
		mock.ExpectQuery("SELECT COUNT(*) FROM `sq_users`").WillReturnRows(sqlmock.NewRows([]string{"n"}).AddRow(int64(4)))
		mock.ExpectQuery(sqUserSelect + " WHERE `id`=? LIMIT 2 FOR UPDATE").WithArgs(int64(1)).
			WillReturnRows(sqlmock.NewRows(sqUserCols).AddRow(int64(1), int64(7), []byte("bob"), nil, []byte("s"), nil, nil))
		mock.ExpectExec("DELETE FROM `sq_users` WHERE `id`=?").WithArgs(int64(1)).WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectCommit()

		if db.HasTx(ctx) {
			t.Fatal("HasTx(Background) = true")
		}
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !db.HasTx(txCtx) || tx == nil {
			t.Fatalf("HasTx = %v, tx = %v after WithTx", db.HasTx(txCtx), tx)
		}
		// Nesting is refused, and no second BEGIN is sent.
		if _, _, err := db.WithTx(txCtx); !errors.Is(err, sqlgen.ErrTxInProgress) {
			t.Errorf("WithTx inside a transaction: %v, want ErrTxInProgress", err)
		}
		if _, err := db.WithExistingTx(txCtx, tx); !errors.Is(err, sqlgen.ErrTxInProgress) {
			t.Errorf("WithExistingTx inside a transaction: %v, want ErrTxInProgress", err)
		}
		if n, err := db.Count(txCtx, &sqUser{}, nil); err != nil || n != 4 {
			t.Errorf("Count in tx = %d, %v", n, err)
		}
		var u *sqUser
		if err := db.QueryRow(txCtx, &u, sqlgen.Filter{"id": 1}, &sqlgen.SelectOptions{ForUpdate: true}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRow(txCtx, u); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// The context still carries the (finished) transaction: statements
		// go to it, not to the pool, and fail.
		if _, err := db.Count(txCtx, &sqUser{}, nil); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("Count on a committed transaction's context: %v, want sql.ErrTxDone", err)
		}
		if err := db.DeleteRow(txCtx, u); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("DeleteRow on a committed transaction's context: %v, want sql.ErrTxDone", err)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectBegin()
		mock.ExpectExec("INSERT INTO `sq_pairs` (`a`,`b`) VALUES (?,?)").WithArgs(int64(1), "x").WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectRollback()
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.InsertRow(txCtx, &sqPair{A: 1, B: "x"}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("existing", func(t *testing.T) {
		db, conn, mock := sqNew(t)
		mock.ExpectBegin()
		mock.ExpectExec("DELETE FROM `sq_pairs` WHERE `a`=? AND `b`=?").WithArgs(int64(1), "x").WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectCommit()
		tx, err := conn.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.WithExistingTx(ctx, nil); !errors.Is(err, sqlgen.ErrInvalidArgument) {
			t.Errorf("WithExistingTx(nil): %v, want ErrInvalidArgument", err)
		}
		txCtx, err := db.WithExistingTx(ctx, tx)
		if err != nil || !db.HasTx(txCtx) {
			t.Fatalf("WithExistingTx: %v", err)
		}
		if err := db.DeleteRow(txCtx, &sqPair{A: 1, B: "x"}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRow(txCtx, &sqPair{A: 1, B: "x"}); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("DeleteRow after commit: %v, want sql.ErrTxDone", err)
		}
	})
	t.Run("begin error", func(t *testing.T) {
		db, _, mock := sqNew(t)
		boom := errors.New("no connection")
		mock.ExpectBegin().WillReturnError(boom)
		txCtx, tx, err := db.WithTx(ctx)
		sqWantErr(t, err, boom)
		if txCtx != nil || tx != nil {
			t.Errorf("WithTx returned a context or transaction with its error")
		}
	})
}

// The server's version is asked once per DB, not once per JSON filter.
func TestSQLServerVersionAskedOnce(t *testing.T) {
	db, _, mock := sqNew(t)
	ctx := context.Background()
	sqExpectVersion(mock, sqNewMariaDB)
	for i := 0; i < 3; i++ {
		mock.ExpectQuery(sqUserSelect + " WHERE (`settings` IS NOT NULL AND JSON_EQUALS(CONCAT(CHAR(91 USING utf8mb4),`settings`,CHAR(93 USING utf8mb4)),CONCAT(CHAR(91 USING utf8mb4),?,CHAR(93 USING utf8mb4))))").
			WithArgs(`{"theme":"x"}`).
			WillReturnRows(sqlmock.NewRows(sqUserCols))
	}
	mock.ExpectQuery("SELECT COUNT(*) FROM `sq_users` WHERE (`settings` IS NOT NULL AND JSON_EQUALS(CONCAT(CHAR(91 USING utf8mb4),`settings`,CHAR(93 USING utf8mb4)),CONCAT(CHAR(91 USING utf8mb4),?,CHAR(93 USING utf8mb4))))").
		WithArgs(`{"theme":"x"}`).
		WillReturnRows(sqlmock.NewRows([]string{"n"}).AddRow(int64(0)))
	filter := sqlgen.Filter{"settings": sqSettings{Theme: "x"}}
	for i := 0; i < 3; i++ {
		var got []*sqUser
		if err := db.Query(ctx, &got, filter, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Count(ctx, &sqUser{}, filter); err != nil {
		t.Fatal(err)
	}
}

// A JSON filter inside a transaction must not need a second connection:
// with every connection of the pool held by transactions (here the only
// one), asking the server's version outside the transaction waits for a
// connection that never comes. The version must be asked through the
// transaction the context carries.
func TestSQLJSONFilterInTransactionOnFullPool(t *testing.T) {
	db, conn, mock := sqNew(t)
	conn.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	mock.ExpectBegin()
	sqExpectVersion(mock, sqOldMariaDB)
	mock.ExpectQuery(sqUserSelect+" WHERE JSON_CONTAINS(`settings`,?) AND JSON_CONTAINS(?,`settings`)").
		WithArgs(`{"theme":"x"}`, `{"theme":"x"}`).
		WillReturnRows(sqlmock.NewRows(sqUserCols))
	mock.ExpectRollback()
	txCtx, tx, err := db.WithTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var got []*sqUser
	if err := db.Query(txCtx, &got, sqlgen.Filter{"settings": sqSettings{Theme: "x"}}, nil); err != nil {
		t.Errorf("JSON filter in a transaction on a one-connection pool: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Error(err)
	}
}

// A write with a value of 1 MiB or more asks the server's
// max_allowed_packet, once per DB; a value that does not fit it is
// refused with ErrTooLarge naming the column, before anything is sent.
// Writes of small values never ask.
func TestSQLMaxAllowedPacket(t *testing.T) {
	db, _, mock := sqNew(t)
	ctx := context.Background()
	const limit = 3 << 20
	big := strings.Repeat("x", 2<<20)  // fits
	huge := strings.Repeat("y", limit) // does not
	ins := "INSERT INTO `sq_docs` (`id`,`doc`) VALUES (?,?)"

	mock.ExpectExec(ins).WithArgs("small", `"s"`).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectQuery("SELECT LEAST(@@SESSION.max_allowed_packet, @@GLOBAL.max_allowed_packet)").WillReturnRows(sqlmock.NewRows([]string{"@@max_allowed_packet"}).AddRow(int64(limit)))
	// Once per DB too: is it TiDB, whose entry size limit also applies?
	mock.ExpectQuery("SELECT VERSION()").WillReturnRows(sqlmock.NewRows([]string{"VERSION()"}).AddRow("8.0.36"))
	mock.ExpectExec(ins).WithArgs("big", `"`+big+`"`).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectExec(ins).WithArgs("big2", `"`+big+`"`).WillReturnResult(sqlmock.NewResult(0, 1))

	if _, err := db.InsertRow(ctx, &sqDoc{ID: "small", Doc: "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertRow(ctx, &sqDoc{ID: "big", Doc: big}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertRow(ctx, &sqDoc{ID: "big2", Doc: big}); err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"InsertRow":  func() error { _, err := db.InsertRow(ctx, &sqDoc{ID: "huge", Doc: huge}); return err },
		"UpsertRow":  func() error { _, err := db.UpsertRow(ctx, &sqDoc{ID: "huge", Doc: huge}); return err },
		"UpdateRow":  func() error { return db.UpdateRow(ctx, &sqDoc{ID: "huge", Doc: huge}) },
		"InsertRows": func() error { return db.InsertRows(ctx, []*sqDoc{{ID: "a", Doc: 1}, {ID: "huge", Doc: huge}}, 0) },
	} {
		err := write()
		var fe *fields.Error
		if !errors.Is(err, sqlgen.ErrTooLarge) || !errors.As(err, &fe) || fe.Table != "sq_docs" || fe.Column != "doc" {
			t.Errorf("%s of a %d-byte document: %v, want ErrTooLarge naming sq_docs.doc", name, len(huge), err)
		}
	}
}

// A batch that fits one chunk by count but not by size is split into
// statements that fit max_allowed_packet whole (text and values), and
// then runs in a transaction of its own, begun before the first
// statement.
func TestSQLBatchSplitBySize(t *testing.T) {
	db, _, mock := sqNew(t)
	ctx := context.Background()
	const limit = 3 << 20 // three documents and the text do not fit
	doc := strings.Repeat("d", 1<<20)
	rows := []*sqDoc{{ID: "a", Doc: doc}, {ID: "b", Doc: doc}, {ID: "c", Doc: "small"}, {ID: "d", Doc: doc}}
	one := "INSERT INTO `sq_docs` (`id`,`doc`) VALUES (?,?)"
	mock.ExpectQuery("SELECT LEAST(@@SESSION.max_allowed_packet, @@GLOBAL.max_allowed_packet)").WillReturnRows(sqlmock.NewRows([]string{"@@max_allowed_packet"}).AddRow(int64(limit)))
	// Once per DB too: is it TiDB, whose entry size limit also applies?
	mock.ExpectQuery("SELECT VERSION()").WillReturnRows(sqlmock.NewRows([]string{"VERSION()"}).AddRow("8.0.36"))
	mock.ExpectBegin()
	mock.ExpectExec(one+",(?,?),(?,?)").WithArgs("a", `"`+doc+`"`, "b", `"`+doc+`"`, "c", `"small"`).WillReturnResult(sqlmock.NewResult(0, 3))
	mock.ExpectExec(one).WithArgs("d", `"`+doc+`"`).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectCommit()
	if err := db.InsertRows(ctx, rows, 100); err != nil {
		t.Fatal(err)
	}
}

// A batch that fits one statement sends no BEGIN or COMMIT (sqlmock fails
// on an unexpected one): the auto_increment_increment read and the
// INSERT, whose ids are written back spaced by the increment. Several
// statements run between BEGIN and COMMIT.
func TestSQLInsertRowsStatements(t *testing.T) {
	ctx := context.Background()
	const ins = "INSERT INTO `sq_users` (`org_id`,`name`,`email`,`status`,`settings`,`avatar`) VALUES (?,?,?,?,?,?)"
	users := func() []*sqUser {
		return []*sqUser{{OrgID: 1, Name: "a", Status: "s"}, {OrgID: 1, Name: "b", Status: "s"}, {OrgID: 1, Name: "c", Status: "s"}}
	}
	t.Run("one statement", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectQuery("SELECT @@SESSION.auto_increment_increment").
			WillReturnRows(sqlmock.NewRows([]string{"step"}).AddRow(int64(2)))
		mock.ExpectExec(ins+",(?,?,?,?,?,?),(?,?,?,?,?,?)").
			WithArgs(int64(1), "a", nil, "s", nil, nil, int64(1), "b", nil, "s", nil, nil, int64(1), "c", nil, "s", nil, nil).
			WillReturnResult(sqlmock.NewResult(10, 3))
		us := users()
		if err := db.InsertRows(ctx, us, 0); err != nil {
			t.Fatal(err)
		}
		if us[0].ID != 10 || us[1].ID != 12 || us[2].ID != 14 {
			t.Errorf("ids %d, %d, %d; want 10, 12, 14", us[0].ID, us[1].ID, us[2].ID)
		}
	})
	t.Run("several statements", func(t *testing.T) {
		db, _, mock := sqNew(t)
		mock.ExpectBegin()
		mock.ExpectQuery("SELECT @@SESSION.auto_increment_increment").
			WillReturnRows(sqlmock.NewRows([]string{"step"}).AddRow(int64(1)))
		mock.ExpectExec(ins+",(?,?,?,?,?,?)").
			WithArgs(int64(1), "a", nil, "s", nil, nil, int64(1), "b", nil, "s", nil, nil).
			WillReturnResult(sqlmock.NewResult(20, 2))
		mock.ExpectExec(ins).WithArgs(int64(1), "c", nil, "s", nil, nil).WillReturnResult(sqlmock.NewResult(30, 1))
		mock.ExpectCommit()
		us := users()
		if err := db.InsertRows(ctx, us, 2); err != nil {
			t.Fatal(err)
		}
		if us[0].ID != 20 || us[1].ID != 21 || us[2].ID != 30 {
			t.Errorf("ids %d, %d, %d; want 20, 21, 30", us[0].ID, us[1].ID, us[2].ID)
		}
	})
}

// sqTenantDoc has two columns a limit can pin, outside its primary key.
type sqTenantDoc struct {
	ID     string `sql:",primary"`
	OrgID  int64
	Region string
	Body   string
}

var errSQBoom = errors.New("boom")

// sqGuardNew is sqNew with sq_tenant_docs registered and the DB limited
// by filter.
func sqGuardNew(t *testing.T, filter sqlgen.Filter) (*sqlgen.DB, sqlmock.Sqlmock) {
	t.Helper()
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqExactSQL), sqlmock.ValueConverterOption(sqStrictConverter{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mock.ExpectationsWereMet(); err != nil {
			t.Errorf("sqlmock: %v", err)
		}
		conn.Close()
	})
	s := sqSchema(t)
	s.MustRegisterType("sq_tenant_docs", sqlgen.UniqueID, sqTenantDoc{})
	db, err := sqlgen.NewDB(conn, s).WithShardLimit(filter)
	if err != nil {
		t.Fatal(err)
	}
	return db, mock
}

// The statements of writes under a limit: UPDATE and DELETE also match
// the limited columns outside the key, and an upsert assigns no limited
// column (not even to itself, which Vitess refuses for a shard key) and
// every other one only on a row inside the limit, marking any other row
// with LAST_INSERT_ID(2^64-1).
func TestSQLGuardedWrites(t *testing.T) {
	ctx := context.Background()
	const (
		memberUpsert = "INSERT INTO `sq_members` (`org_id`,`user_id`,`key`,`order`,`right`) VALUES (?,?,?,?,?) ON DUPLICATE KEY UPDATE " +
			"`user_id`=IF(`org_id`<=>VALUES(`org_id`),`user_id`,IF(LAST_INSERT_ID(18446744073709551615+0*LENGTH(`user_id`)),`user_id`,`user_id`))," +
			"`key`=IF(`org_id`<=>VALUES(`org_id`),VALUES(`key`),`key`)," +
			"`order`=IF(`org_id`<=>VALUES(`org_id`),VALUES(`order`),`order`)," +
			"`right`=IF(`org_id`<=>VALUES(`org_id`),VALUES(`right`),`right`)"
		docInsert = "INSERT INTO `sq_tenant_docs` (`id`,`org_id`,`region`,`body`) VALUES (?,?,?,?)"
		docGuard  = "`org_id`<=>VALUES(`org_id`) AND `region`<=>VALUES(`region`)"
		docSuffix = " ON DUPLICATE KEY UPDATE `id`=IF(" + docGuard + ",`id`,IF(LAST_INSERT_ID(18446744073709551615+0*LENGTH(`id`)),`id`,`id`))," +
			"`body`=IF(" + docGuard + ",VALUES(`body`),`body`)"
	)
	t.Run("one limited column", func(t *testing.T) {
		db, mock := sqGuardNew(t, sqlgen.Filter{"org_id": 7})
		mock.ExpectExec("UPDATE `sq_users` SET `org_id`=?,`name`=?,`email`=?,`status`=?,`settings`=?,`avatar`=? WHERE `id`=? AND `org_id`=?").
			WithArgs(int64(7), "bob", nil, "x", nil, []byte{}, int64(5), int64(7)).
			WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec("DELETE FROM `sq_users` WHERE `id`=? AND `org_id`=?").
			WithArgs(int64(5), int64(7)).
			WillReturnResult(sqlmock.NewResult(0, 0))
		// org_id is part of sq_members' key: the key match pins it.
		mock.ExpectExec("UPDATE `sq_members` SET `key`=?,`order`=?,`right`=? WHERE `org_id`=? AND `user_id`=?").
			WithArgs("k", int64(3), true, int64(7), int64(2)).
			WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec("DELETE FROM `sq_members` WHERE `org_id`=? AND `user_id`=?").
			WithArgs(int64(7), int64(2)).
			WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec(memberUpsert).WithArgs(int64(7), int64(2), "k", int64(3), true).WillReturnResult(sqlmock.NewResult(0, 2))
		mock.ExpectExec(memberUpsert).WithArgs(int64(7), int64(3), "k", int64(3), true).WillReturnResult(sqlmock.NewResult(-1, 0))
		mock.ExpectExec(memberUpsert).WithArgs(int64(7), int64(3), "k", int64(3), true).WillReturnResult(sqlmock.NewErrorResult(errSQBoom))
		// Inserts and the tables without the column are as without a limit.
		mock.ExpectExec("INSERT INTO `sq_users` (`org_id`,`name`,`email`,`status`,`settings`,`avatar`) VALUES (?,?,?,?,?,?)").
			WithArgs(int64(7), "", nil, "", nil, nil).WillReturnResult(sqlmock.NewResult(9, 1))
		mock.ExpectExec("INSERT INTO `sq_docs` (`id`,`doc`) VALUES (?,?) ON DUPLICATE KEY UPDATE `doc`=VALUES(`doc`)").
			WithArgs("d", "1").WillReturnResult(sqlmock.NewResult(0, 1))

		if err := db.UpdateRow(ctx, &sqUser{ID: 5, OrgID: 7, Name: "bob", Status: "x", Avatar: []byte{}}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRow(ctx, &sqUser{ID: 5, OrgID: 7}); err != nil {
			t.Fatal(err)
		}
		m := &sqMember{OrgID: 7, UserID: 2, Key: "k", Order: 3, Right: true}
		if err := db.UpdateRow(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRow(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpsertRow(ctx, m); err != nil {
			t.Fatal(err)
		}
		m.UserID = 3
		_, err := db.UpsertRow(ctx, m)
		sqWantErr(t, err, sqlgen.ErrLimit, "sq_members", "org_id = 7", "left unchanged")
		_, err = db.UpsertRow(ctx, m)
		sqWantErr(t, err, errSQBoom, "sq_members", "statement ran")
		if _, err := db.InsertRow(ctx, &sqUser{OrgID: 7}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpsertRow(ctx, &sqDoc{ID: "d", Doc: 1}); err != nil {
			t.Fatal(err)
		}
		// Refused before anything is sent.
		sqWantErr(t, db.UpdateRow(ctx, &sqUser{ID: 5, OrgID: 8}), sqlgen.ErrLimit, "sq_users", "OrgID")
		sqWantErr(t, db.DeleteRow(ctx, &sqMember{OrgID: 8}), sqlgen.ErrLimit, "sq_members")
	})
	t.Run("two limited columns", func(t *testing.T) {
		db, mock := sqGuardNew(t, sqlgen.Filter{"region": "eu", "org_id": int32(7)})
		mock.ExpectExec("UPDATE `sq_tenant_docs` SET `org_id`=?,`region`=?,`body`=? WHERE `id`=? AND `org_id`=? AND `region`=?").
			WithArgs(int64(7), "eu", "b", "d1", int64(7), "eu").
			WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec("DELETE FROM `sq_tenant_docs` WHERE `id`=? AND `org_id`=? AND `region`=?").
			WithArgs("d1", int64(7), "eu").
			WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec(docInsert+docSuffix).WithArgs("d1", int64(7), "eu", "b").WillReturnResult(sqlmock.NewResult(0, 1))
		d := &sqTenantDoc{ID: "d1", OrgID: 7, Region: "eu", Body: "b"}
		if err := db.UpdateRow(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRow(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpsertRow(ctx, d); err != nil {
			t.Fatal(err)
		}
		sqWantErr(t, db.UpdateRow(ctx, &sqTenantDoc{ID: "d1", OrgID: 7, Region: "us"}), sqlgen.ErrLimit, "Region")
	})
	docs := func() []*sqTenantDoc {
		return []*sqTenantDoc{{ID: "a", OrgID: 7, Region: "eu", Body: "1"}, {ID: "b", OrgID: 7, Region: "eu", Body: "2"}}
	}
	multi := docInsert + ",(?,?,?,?)" + docSuffix
	multiArgs := sqArgs("a", int64(7), "eu", "1", "b", int64(7), "eu", "2")
	t.Run("UpsertRows in a transaction of its own", func(t *testing.T) {
		db, mock := sqGuardNew(t, sqlgen.Filter{"region": "eu", "org_id": 7})
		// One statement, still between BEGIN and COMMIT.
		mock.ExpectBegin()
		mock.ExpectExec(multi).WithArgs(multiArgs...).WillReturnResult(sqlmock.NewResult(0, 3))
		mock.ExpectCommit()
		// A collision: rolled back.
		mock.ExpectBegin()
		mock.ExpectExec(multi).WithArgs(multiArgs...).WillReturnResult(sqlmock.NewResult(-1, 1))
		mock.ExpectRollback()
		// A generated id hides whether a row collided: rolled back.
		mock.ExpectBegin()
		mock.ExpectExec(multi).WithArgs(multiArgs...).WillReturnResult(sqlmock.NewResult(12, 2))
		mock.ExpectRollback()
		// Several statements: the second collides.
		mock.ExpectBegin()
		mock.ExpectExec(docInsert+docSuffix).WithArgs("a", int64(7), "eu", "1").WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec(docInsert+docSuffix).WithArgs("b", int64(7), "eu", "2").WillReturnResult(sqlmock.NewResult(-1, 0))
		mock.ExpectRollback()
		if err := db.UpsertRows(ctx, docs(), 0); err != nil {
			t.Fatal(err)
		}
		sqWantErr(t, db.UpsertRows(ctx, docs(), 0), sqlgen.ErrLimit, "sq_tenant_docs", "org_id = 7 AND region = eu")
		sqWantErr(t, db.UpsertRows(ctx, docs(), 0), sqlgen.ErrUnsupported, "sq_tenant_docs", "AUTO_INCREMENT")
		sqWantErr(t, db.UpsertRows(ctx, docs(), 1), sqlgen.ErrLimit, "rows 1 to 1")
	})
	t.Run("UpsertRows in the caller's transaction", func(t *testing.T) {
		db, mock := sqGuardNew(t, sqlgen.Filter{"region": "eu", "org_id": 7})
		mock.ExpectBegin()
		mock.ExpectExec("SAVEPOINT sqlgen_upsert_guard").WithoutArgs().WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(multi).WithArgs(multiArgs...).WillReturnResult(sqlmock.NewResult(0, 2))
		mock.ExpectExec("SAVEPOINT sqlgen_upsert_guard").WithoutArgs().WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(multi).WithArgs(multiArgs...).WillReturnResult(sqlmock.NewResult(-1, 1))
		mock.ExpectExec("ROLLBACK TO SAVEPOINT sqlgen_upsert_guard").WithoutArgs().WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectCommit()
		txCtx, tx, err := db.WithTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertRows(txCtx, docs(), 0); err != nil {
			t.Fatal(err)
		}
		sqWantErr(t, db.UpsertRows(txCtx, docs(), 0), sqlgen.ErrLimit, "sq_tenant_docs")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
}
