package sqlgen_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// TestSQLPlanDialectOnce: the read planner works out the server's JSON
// comparison before it plans, once per DB and only when a JSON column is
// compared with a document: a NULL (nil, or a nil pointer) asks nothing,
// and every read after the first (Query, QueryRow, Count, a shape the
// cache already knows or not) plans with what the first learned.
func TestSQLPlanDialectOnce(t *testing.T) {
	ctx := context.Background()
	db, _, mock := sqNew(t)
	var none *sqSettings
	mock.ExpectQuery(sqUserSelect + " WHERE `settings` IS NULL").WithoutArgs().
		WillReturnRows(sqlmock.NewRows(sqUserCols)).RowsWillBeClosed()
	var rows []*sqUser
	if err := db.Query(ctx, &rows, sqlgen.Filter{"settings": none}, nil); err != nil {
		t.Fatal(err)
	}
	dark := `{"theme":"dark"}`
	doc := sqSettings{Theme: "dark"}
	sqExpectVersion(mock, sqMySQL) // asked once, by the first of the reads below
	for _, read := range []struct {
		sql  string
		args []driver.Value
		run  func() error
	}{
		{sqUserSelect + " WHERE `settings`=CAST(? AS JSON)", sqArgs(dark), func() error {
			return db.Query(ctx, &rows, sqlgen.Filter{"settings": doc}, nil)
		}},
		{sqUserSelect + " WHERE `settings`=CAST(? AS JSON) LIMIT 2", sqArgs(dark), func() error {
			var u *sqUser
			if err := db.QueryRow(ctx, &u, sqlgen.Filter{"settings": doc}, nil); !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("QueryRow with no row: %v, want sql.ErrNoRows", err)
			}
			return nil
		}},
		{sqUserSelect + " WHERE `org_id`=? AND `settings`=CAST(? AS JSON) ORDER BY `id` DESC", sqArgs(int64(7), dark), func() error {
			return db.Query(ctx, &rows, sqlgen.Filter{"settings": &doc, "org_id": 7}, &sqlgen.SelectOptions{OrderBy: "`id` DESC"})
		}},
		{"SELECT COUNT(*) FROM `sq_users` WHERE `settings`=CAST(? AS JSON)", sqArgs(dark), func() error {
			_, err := db.Count(ctx, &sqUser{}, sqlgen.Filter{"settings": doc})
			return err
		}},
	} {
		e := mock.ExpectQuery(read.sql).WithArgs(read.args...)
		if read.sql[7] == 'C' { // COUNT(*)
			e.WillReturnRows(sqlmock.NewRows([]string{"COUNT(*)"}).AddRow(int64(0))).RowsWillBeClosed()
		} else {
			e.WillReturnRows(sqlmock.NewRows(sqUserCols)).RowsWillBeClosed()
		}
		if err := read.run(); err != nil {
			t.Fatalf("%s: %v", read.sql, err)
		}
	}
}
