package sqlgen_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type cacheRow struct {
	ID   int64 `sql:",primary"`
	Name string
}

// TestStmtCachePreparesOnce: ten reads of the same statement prepare it
// once; a statement evicted from a full cache is closed, and Close closes
// the rest.
func TestStmtCachePreparesOnce(t *testing.T) {
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := sqlgen.NewSchema()
	s.MustRegisterType("rows", sqlgen.UniqueID, cacheRow{})
	db := sqlgen.NewDB(conn, s, sqlgen.WithStmtCache(1))
	ctx := context.Background()

	byID := "SELECT `id`,`name` FROM `rows` WHERE `id`=? LIMIT 2"
	prep := mock.ExpectPrepare(byID)
	for i := 1; i <= 10; i++ {
		prep.ExpectQuery().WithArgs(int64(i)).WillReturnRows(sqlmock.NewRows([]string{"id", "name"}).AddRow(i, fmt.Sprint("n", i)))
	}
	prep.WillBeClosed()
	for i := 1; i <= 10; i++ {
		r, err := sqlgen.Get[cacheRow](ctx, db, sqlgen.Filter{"id": i}, nil)
		if err != nil || r.ID != int64(i) {
			t.Fatalf("read %d: %+v %v", i, r, err)
		}
	}
	// A second statement evicts the first (size 1), which is closed.
	del := "DELETE FROM `rows` WHERE `id`=?"
	mock.ExpectPrepare(del).ExpectExec().WithArgs(int64(3)).WillReturnResult(sqlmock.NewResult(0, 1))
	if err := db.DeleteRow(ctx, &cacheRow{ID: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRow(ctx, &cacheRow{ID: 3}); err == nil {
		t.Error("DeleteRow after Close succeeded")
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

func TestStmtCacheRealServer(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{"CREATE TABLE `rows` (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL)"})
	s := sqlgen.NewSchema()
	s.MustRegisterType("rows", sqlgen.UniqueID, cacheRow{})
	db := sqlgen.NewDB(conn, s, sqlgen.WithStmtCache(2))
	defer db.Close()
	ctx := context.Background()
	for i := 1; i <= 20; i++ {
		if _, err := db.InsertRow(ctx, &cacheRow{ID: int64(i), Name: fmt.Sprint("n", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Inside a transaction, cached statements run on the transaction.
	err := db.Transact(ctx, func(ctx context.Context) error {
		r, err := sqlgen.Get[cacheRow](ctx, db, sqlgen.Filter{"id": 5}, &sqlgen.SelectOptions{ForUpdate: true})
		if err != nil {
			return err
		}
		r.Name = "changed in tx"
		if err := db.UpdateRow(ctx, r); err != nil {
			return err
		}
		if n, err := db.Count(ctx, &cacheRow{}, sqlgen.Filter{"name": "changed in tx"}); err != nil || n != 1 {
			return fmt.Errorf("inside the transaction: count %d, %v", n, err)
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatal(err)
	}
	if n, _ := db.Count(ctx, &cacheRow{}, sqlgen.Filter{"name": "changed in tx"}); n != 0 {
		t.Error("a cached statement ran outside the rolled-back transaction")
	}
	// Many distinct texts through a cache of 2 keep working.
	for i := 0; i < 5; i++ {
		rows, err := sqlgen.Select[cacheRow](ctx, db, sqlgen.Filter{"id": []int{1, 2, 3}[:i%3+1]}, nil)
		if err != nil || len(rows) != i%3+1 {
			t.Fatalf("IN of %d: %d rows, %v", i%3+1, len(rows), err)
		}
	}
}
