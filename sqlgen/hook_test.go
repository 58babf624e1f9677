package sqlgen_test

// The Hook mechanism on go-sqlmock: order of several hooks and an
// observer, the context Before returns reaching the statement and After,
// one After per Before also when a statement fails.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type hkKey struct{}

// hkHook records its calls into a shared log, and puts its name in the
// context Before returns.
type hkHook struct {
	name string
	mu   *sync.Mutex
	log  *[]string
}

func (h hkHook) add(s string) {
	h.mu.Lock()
	*h.log = append(*h.log, s)
	h.mu.Unlock()
}

func (h hkHook) Before(ctx context.Context, e sqlgen.Event) context.Context {
	if e.Duration != 0 || e.Err != nil || e.Rows != 0 {
		h.add(fmt.Sprintf("%s: Before got an outcome: %+v", h.name, e))
	}
	outer, _ := ctx.Value(hkKey{}).(string)
	h.add(fmt.Sprintf("%s before %s %s (ctx %q)", h.name, e.Op, e.Table, outer))
	return context.WithValue(ctx, hkKey{}, outer+h.name)
}

func (h hkHook) After(ctx context.Context, e sqlgen.Event) {
	got, _ := ctx.Value(hkKey{}).(string)
	h.add(fmt.Sprintf("%s after %s rows=%d err=%v (ctx %q)", h.name, e.Op, e.Rows, e.Err != nil, got))
}

func TestHookOrderAndContext(t *testing.T) {
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mu sync.Mutex
	var log []string
	a, b := hkHook{"a", &mu, &log}, hkHook{"b", &mu, &log}
	obs := func(ctx context.Context, e sqlgen.Event) {
		got, _ := ctx.Value(hkKey{}).(string)
		b.add(fmt.Sprintf("observer %s (ctx %q)", e.Op, got))
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("orgs", sqlgen.AutoIncrement, org{})
	db := sqlgen.NewDB(conn, s, sqlgen.WithHook(a), sqlgen.WithObserver(obs), sqlgen.WithHook(b))

	mock.ExpectBegin()
	mock.ExpectExec("INSERT INTO `orgs` (`name`) VALUES (?)").WithArgs("x").WillReturnError(errors.New("boom"))
	mock.ExpectRollback()
	mock.ExpectQuery("SELECT `id`,`name` FROM `orgs` WHERE `id`=? LIMIT 2").WithArgs(int64(1)).
		WillReturnRows(sqlmock.NewRows([]string{"id", "name"}).AddRow(int64(1), "x"))
	err = db.Transact(context.Background(), func(ctx context.Context) error {
		_, err := db.InsertRow(ctx, &org{Name: "x"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Transact: %v, want boom", err)
	}
	if _, err := sqlgen.Get[org](context.Background(), db, sqlgen.Filter{"id": 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`a before begin  (ctx "")`, `b before begin  (ctx "a")`,
		`b after begin rows=-1 err=false (ctx "ab")`, `a after begin rows=-1 err=false (ctx "ab")`, `observer begin (ctx "ab")`,
		`a before insert orgs (ctx "")`, `b before insert orgs (ctx "a")`,
		`b after insert rows=-1 err=true (ctx "ab")`, `a after insert rows=-1 err=true (ctx "ab")`, `observer insert (ctx "ab")`,
		`a before rollback  (ctx "")`, `b before rollback  (ctx "a")`,
		`b after rollback rows=-1 err=false (ctx "ab")`, `a after rollback rows=-1 err=false (ctx "ab")`, `observer rollback (ctx "ab")`,
		`a before query orgs (ctx "")`, `b before query orgs (ctx "a")`,
		`b after query rows=1 err=false (ctx "ab")`, `a after query rows=1 err=false (ctx "ab")`, `observer query (ctx "ab")`,
	}
	if got := strings.Join(log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
