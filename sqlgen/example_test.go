package sqlgen_test

// Runnable examples of the main entry points, as pkg.go.dev shows them.
// Most need no server: the *sql.DB is a go-sqlmock connection that expects
// each statement by its exact text (sqlmock.QueryMatcherEqual), so each
// example also shows the SQL sqlgen sends. The examples of JSON paths and
// readonly columns run on the real server (SQLGEN_TEST_DSN), in a
// database of their own: what they show is what the server answers.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// Settings is stored in one JSON column of the users table.
type Settings struct {
	Theme string `json:"theme"`
}

// User is a row of the users table: id, org_id, name, email, settings.
type User struct {
	ID       int64 `sql:",primary"`
	OrgID    int64
	Name     string
	Email    *string  // NULL when nil
	Settings Settings `sql:",json"`
}

// usersSelect is the SELECT of every column sqlgen builds for User.
const usersSelect = "SELECT `id`,`org_id`,`name`,`email`,`settings` FROM `users`"

var usersColumns = []string{"id", "org_id", "name", "email", "settings"}

// exampleSchema registers User as the table users.
func exampleSchema() *sqlgen.Schema {
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("users", sqlgen.AutoIncrement, User{})
	return schema
}

// exampleConn returns a go-sqlmock connection that matches statements by
// their exact text.
func exampleConn() (*sql.DB, sqlmock.Sqlmock) {
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		panic(err)
	}
	return conn, mock
}

// exampleDone reports the statements the example expected and did not run.
func exampleDone(mock sqlmock.Sqlmock) {
	if err := mock.ExpectationsWereMet(); err != nil {
		fmt.Println(err)
	}
}

func ExampleNewSchema() {
	schema := sqlgen.NewSchema()
	if err := schema.RegisterType("users", sqlgen.AutoIncrement, User{}); err != nil {
		panic(err)
	}
	cols, _ := schema.Columns("users")
	fmt.Println(cols)
	ddl, _ := schema.CreateTableSQL("users")
	fmt.Println(ddl)
	// Output:
	// [id org_id name email settings]
	// CREATE TABLE `users` (
	//   `id` BIGINT NOT NULL AUTO_INCREMENT,
	//   `org_id` BIGINT NOT NULL,
	//   `name` VARCHAR(255) NOT NULL,
	//   `email` VARCHAR(255) NULL,
	//   `settings` JSON NOT NULL,
	//   PRIMARY KEY (`id`)
	// ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
}

func ExampleSchema_RegisterType() {
	schema := sqlgen.NewSchema()
	// UniqueID: the application sets the key (here two columns).
	type Membership struct {
		OrgID  int64 `sql:",primary"`
		UserID int64 `sql:",primary"`
		Role   string
	}
	fmt.Println(schema.RegisterType("memberships", sqlgen.UniqueID, Membership{}))

	// A type the schema cannot map is refused at registration.
	type NoKey struct{ Name string }
	err := schema.RegisterType("no_key", sqlgen.UniqueID, NoKey{})
	fmt.Println(errors.Is(err, sqlgen.ErrBadSchema))
	// Output:
	// <nil>
	// true
}

func ExampleNewDB() {
	conn, mock := exampleConn() // a *sql.DB, from sql.Open("mysql", dsn) in a program
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema(), sqlgen.WithObserver(func(_ context.Context, e sqlgen.Event) {
		fmt.Printf("%s on %s: %s\n", e.Op, e.Table, e.SQL)
	}))

	mock.ExpectQuery("SELECT COUNT(*) FROM `users`").
		WillReturnRows(sqlmock.NewRows([]string{"COUNT(*)"}).AddRow(int64(3)))
	n, err := db.Count(context.Background(), &User{}, nil)
	fmt.Println(n, err)
	exampleDone(mock)
	// Output:
	// count on users: SELECT COUNT(*) FROM `users`
	// 3 <nil>
}

func ExampleDB_InsertRow() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	mock.ExpectExec("INSERT INTO `users` (`org_id`,`name`,`email`,`settings`) VALUES (?,?,?,?)").
		WithArgs(int64(7), "Ann", nil, `{"theme":"dark"}`).
		WillReturnResult(sqlmock.NewResult(42, 1))
	u := &User{OrgID: 7, Name: "Ann", Settings: Settings{Theme: "dark"}}
	if _, err := db.InsertRow(context.Background(), u); err != nil {
		panic(err)
	}
	fmt.Println("new id:", u.ID) // AutoIncrement: the server's id, written back
	exampleDone(mock)
	// Output:
	// new id: 42
}

func ExampleDB_QueryRow() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())
	ctx := context.Background()

	mock.ExpectQuery(usersSelect + " WHERE `id`=? LIMIT 2").WithArgs(int64(42)).
		WillReturnRows(sqlmock.NewRows(usersColumns).
			AddRow(int64(42), int64(7), []byte("Ann"), []byte("ann@example.com"), []byte(`{"theme":"dark"}`)))
	var u *User
	if err := db.QueryRow(ctx, &u, sqlgen.Filter{"id": 42}, nil); err != nil {
		panic(err)
	}
	fmt.Println(u.Name, *u.Email, u.Settings.Theme)

	// No matching row: an error that wraps sql.ErrNoRows.
	mock.ExpectQuery(usersSelect + " WHERE `id`=? LIMIT 2").WithArgs(int64(43)).
		WillReturnRows(sqlmock.NewRows(usersColumns))
	err := db.QueryRow(ctx, &u, sqlgen.Filter{"id": 43}, nil)
	fmt.Println(errors.Is(err, sql.ErrNoRows))
	exampleDone(mock)
	// Output:
	// Ann ann@example.com dark
	// true
}

func ExampleDB_Query() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	mock.ExpectQuery(usersSelect + " WHERE `org_id`=? ORDER BY `name` LIMIT 10").WithArgs(int64(7)).
		WillReturnRows(sqlmock.NewRows(usersColumns).
			AddRow(int64(42), int64(7), []byte("Ann"), nil, []byte(`{"theme":"dark"}`)).
			AddRow(int64(40), int64(7), []byte("Bob"), nil, []byte(`{"theme":"light"}`)))
	var users []*User
	opts := &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("name")}, Limit: 10}
	if err := db.Query(context.Background(), &users, sqlgen.Filter{"org_id": 7}, opts); err != nil {
		panic(err)
	}
	for _, u := range users {
		fmt.Println(u.ID, u.Name, u.Email == nil, u.Settings.Theme)
	}
	exampleDone(mock)
	// Output:
	// 42 Ann true dark
	// 40 Bob true light
}

func ExampleDB_UpdateRow() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	// Every non-key column, by primary key.
	mock.ExpectExec("UPDATE `users` SET `org_id`=?,`name`=?,`email`=?,`settings`=? WHERE `id`=?").
		WithArgs(int64(7), "Ann", nil, `{"theme":"light"}`, int64(42)).
		WillReturnResult(sqlmock.NewResult(0, 1))
	u := &User{ID: 42, OrgID: 7, Name: "Ann", Settings: Settings{Theme: "light"}}
	fmt.Println(db.UpdateRow(context.Background(), u))
	exampleDone(mock)
	// Output:
	// <nil>
}

func ExampleDB_DeleteRow() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	mock.ExpectExec("DELETE FROM `users` WHERE `id`=?").WithArgs(int64(42)).
		WillReturnResult(sqlmock.NewResult(0, 1))
	fmt.Println(db.DeleteRow(context.Background(), &User{ID: 42}))
	exampleDone(mock)
	// Output:
	// <nil>
}

// Document is a row with an optimistic-locking version column.
type Document struct {
	ID      int64 `sql:",primary"`
	Title   string
	Body    string
	Version int64 `sql:",version"`
}

func ExampleDB_UpdateColumns() {
	conn, mock := exampleConn()
	defer conn.Close()
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("documents", sqlgen.AutoIncrement, Document{})
	db := sqlgen.NewDB(conn, schema)
	ctx := context.Background()

	// Only title is written; the row must still hold version 3, which
	// the update moves on.
	mock.ExpectExec("UPDATE `documents` SET `title`=?,`version`=`version`+1 WHERE `id`=? AND `version`=?").
		WithArgs("New title", int64(42), int64(3)).
		WillReturnResult(sqlmock.NewResult(0, 1))
	doc := &Document{ID: 42, Title: "New title", Version: 3}
	res, err := db.UpdateColumns(ctx, doc, "title")
	n, _ := res.RowsAffected()
	fmt.Println(n, err, doc.Version)

	// Another writer got there first: no row holds version 4 any more.
	mock.ExpectExec("UPDATE `documents` SET `title`=?,`version`=`version`+1 WHERE `id`=? AND `version`=?").
		WithArgs("Newer title", int64(42), int64(4)).
		WillReturnResult(sqlmock.NewResult(0, 0))
	doc.Title = "Newer title"
	_, err = db.UpdateColumns(ctx, doc, "title")
	fmt.Println(errors.Is(err, sqlgen.ErrConflict), doc.Version)
	exampleDone(mock)
	// Output:
	// 1 <nil> 4
	// true 4
}

func ExampleDB_Transact() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())
	insert := "INSERT INTO `users` (`org_id`,`name`,`email`,`settings`) VALUES (?,?,?,?)"

	// fn returns nil: COMMIT.
	mock.ExpectBegin()
	mock.ExpectExec(insert).WithArgs(int64(7), "Ann", nil, `{"theme":""}`).WillReturnResult(sqlmock.NewResult(1, 1))
	mock.ExpectExec(insert).WithArgs(int64(7), "Bob", nil, `{"theme":""}`).WillReturnResult(sqlmock.NewResult(2, 1))
	mock.ExpectCommit()
	err := db.Transact(context.Background(), func(ctx context.Context) error {
		// Every call given ctx runs in the transaction.
		for _, name := range []string{"Ann", "Bob"} {
			if _, err := db.InsertRow(ctx, &User{OrgID: 7, Name: name}); err != nil {
				return err
			}
		}
		return nil
	})
	fmt.Println("committed:", err)

	// fn fails: ROLLBACK, and Transact returns fn's error.
	mock.ExpectBegin()
	mock.ExpectRollback()
	err = db.Transact(context.Background(), func(ctx context.Context) error {
		return errors.New("out of stock")
	})
	fmt.Println("rolled back:", err)
	exampleDone(mock)
	// Output:
	// committed: <nil>
	// rolled back: out of stock
}

func ExampleWithBatching() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	// Three concurrent lookups by key become one statement. (BatchSize(3)
	// sends the batch as soon as the three have joined; by default a batch
	// waits DefaultBatchWindow for more.)
	mock.ExpectQuery(usersSelect+" WHERE `id` IN (?,?,?)").WithArgs(int64(1), int64(2), int64(3)).
		WillReturnRows(sqlmock.NewRows(usersColumns).
			AddRow(int64(3), int64(7), []byte("Cy"), nil, []byte(`{}`)).
			AddRow(int64(1), int64(7), []byte("Ann"), nil, []byte(`{}`)).
			AddRow(int64(2), int64(7), []byte("Bob"), nil, []byte(`{}`)))
	ctx := sqlgen.WithBatching(context.Background(), sqlgen.BatchSize(3), sqlgen.BatchWindow(time.Minute))
	names := make([]string, 3)
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() { // as GraphQL resolvers would
			defer wg.Done()
			var u *User
			if err := db.QueryRow(ctx, &u, sqlgen.Filter{"id": i + 1}, nil); err != nil {
				names[i] = err.Error()
				return
			}
			names[i] = u.Name
		}()
	}
	wg.Wait()
	fmt.Println(names)
	exampleDone(mock)
	// Output:
	// [Ann Bob Cy]
}

func ExampleFilter() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	// Conditions are ANDed, in column order; a slice is an IN list and nil
	// is IS NULL. Values are always bound as arguments.
	mock.ExpectQuery("SELECT COUNT(*) FROM `users` WHERE `email` IS NULL AND `org_id` IN (?,?)").
		WithArgs(int64(7), int64(8)).
		WillReturnRows(sqlmock.NewRows([]string{"COUNT(*)"}).AddRow(int64(2)))
	n, err := db.Count(context.Background(), &User{}, sqlgen.Filter{
		"org_id": []int64{7, 8},
		"email":  nil,
	})
	fmt.Println(n, err)
	exampleDone(mock)
	// Output:
	// 2 <nil>
}

func ExampleSchema_MakeTester() {
	schema := exampleSchema()
	// The filter a query would use, evaluated in memory: no server.
	tester, err := schema.MakeTester("users", sqlgen.Filter{"org_id": []int64{7, 8}, "email": nil})
	if err != nil {
		panic(err)
	}
	email := "bob@example.com"
	fmt.Println(tester.Test(&User{OrgID: 7, Name: "Ann"}))
	fmt.Println(tester.Test(&User{OrgID: 7, Name: "Bob", Email: &email}))
	fmt.Println(tester.Test(&User{OrgID: 9, Name: "Cy"}))
	// Output:
	// true
	// false
	// false
}

func ExampleSchema_BuildStruct() {
	schema := exampleSchema()
	// A row image in column order, as a binlog reader delivers it.
	row := []driver.Value{int64(42), int32(7), []byte("Ann"), nil, []byte(`{"theme":"dark"}`)}
	v, err := schema.BuildStruct("users", row)
	if err != nil {
		panic(err)
	}
	u := v.(*User)
	fmt.Println(u.ID, u.OrgID, u.Name, u.Email == nil, u.Settings.Theme)

	// And back: the values an insert of u sends.
	vals, _ := schema.UnbuildStruct("users", u)
	fmt.Println(vals)
	// Output:
	// 42 7 Ann true dark
	// [42 7 Ann <nil> {"theme":"dark"}]
}

// timingHook is a [sqlgen.Hook] that puts the start of each statement in
// its context and prints the statement after it, as a tracer would start
// and end a span.
type timingHook struct{}

type startKey struct{}

func (timingHook) Before(ctx context.Context, e sqlgen.Event) context.Context {
	fmt.Printf("before %s %q\n", e.Op, e.Table)
	return context.WithValue(ctx, startKey{}, time.Now())
}

func (timingHook) After(ctx context.Context, e sqlgen.Event) {
	_, ok := ctx.Value(startKey{}).(time.Time) // what Before put there
	fmt.Printf("after %s: %s (rows %d, err %v, started %v)\n", e.Op, e.SQL, e.Rows, e.Err, ok)
}

func ExampleWithHook() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema(), sqlgen.WithHook(timingHook{}))

	mock.ExpectBegin()
	mock.ExpectExec("UPDATE `users` SET `org_id`=?,`name`=?,`email`=?,`settings`=? WHERE `id`=?").
		WithArgs(int64(7), "Ann", nil, `{"theme":""}`, int64(1)).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectCommit()
	err := db.Transact(context.Background(), func(ctx context.Context) error {
		return db.UpdateRow(ctx, &User{ID: 1, OrgID: 7, Name: "Ann"})
	})
	fmt.Println(err)
	exampleDone(mock)
	// Output:
	// before begin ""
	// after begin: BEGIN (rows -1, err <nil>, started true)
	// before update "users"
	// after update: UPDATE `users` SET `org_id`=?,`name`=?,`email`=?,`settings`=? WHERE `id`=? (rows 1, err <nil>, started true)
	// before commit ""
	// after commit: COMMIT (rows -1, err <nil>, started true)
	// <nil>
}

func ExampleIter() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	mock.ExpectQuery(usersSelect + " WHERE `org_id`=?").WithArgs(int64(7)).
		WillReturnRows(sqlmock.NewRows(usersColumns).
			AddRow(int64(42), int64(7), []byte("Ann"), nil, []byte(`{}`)).
			AddRow(int64(40), int64(7), []byte("Bob"), nil, []byte(`{}`)).
			AddRow(int64(41), int64(7), []byte("Cy"), nil, []byte(`{}`))).
		RowsWillBeClosed()
	// One statement; rows are scanned as they arrive. Breaking out of the
	// loop closes the rows at once.
	for u, err := range sqlgen.Iter[User](context.Background(), db, sqlgen.Filter{"org_id": 7}, nil) {
		if err != nil {
			panic(err)
		}
		fmt.Println(u.ID, u.Name)
		if u.Name == "Bob" {
			break
		}
	}
	exampleDone(mock)
	// Output:
	// 42 Ann
	// 40 Bob
}

func ExampleSelectOptions_columns() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())

	// Only name is read (the key need not be); the other fields stay zero.
	mock.ExpectQuery("SELECT `name` FROM `users` WHERE `org_id`=?").WithArgs(int64(7)).
		WillReturnRows(sqlmock.NewRows([]string{"name"}).AddRow([]byte("Ann")).AddRow([]byte("Bob")))
	users, err := sqlgen.Select[User](context.Background(), db, sqlgen.Filter{"org_id": 7},
		&sqlgen.SelectOptions{Columns: []string{"name"}})
	if err != nil {
		panic(err)
	}
	for _, u := range users {
		fmt.Printf("%q %d\n", u.Name, u.ID)
	}
	exampleDone(mock)
	// Output:
	// "Ann" 0
	// "Bob" 0
}

func ExampleDB_Cursor() {
	conn, mock := exampleConn()
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampleSchema())
	ctx := context.Background()
	order := []sqlgen.Order{sqlgen.Desc("org_id")}

	// The first page: After empty (not nil) orders by the key too, as
	// the next pages are.
	mock.ExpectQuery(usersSelect + " ORDER BY `org_id` DESC,`id` DESC LIMIT 2").
		WillReturnRows(sqlmock.NewRows(usersColumns).
			AddRow(int64(9), int64(8), []byte("Ann"), nil, []byte(`{}`)).
			AddRow(int64(7), int64(8), []byte("Bob"), nil, []byte(`{}`)))
	page, err := sqlgen.Select[User](ctx, db, nil, &sqlgen.SelectOptions{Order: order, Limit: 2, After: []any{}})
	if err != nil {
		panic(err)
	}
	// The next page: after the last row's (org_id, id).
	after, err := db.Cursor(page[len(page)-1], order...)
	if err != nil {
		panic(err)
	}
	fmt.Println(after)
	mock.ExpectQuery(usersSelect+" WHERE (`org_id`<=? AND (`org_id`,`id`)<(?,?)) ORDER BY `org_id` DESC,`id` DESC LIMIT 2").
		WithArgs(int64(8), int64(8), int64(7)).
		WillReturnRows(sqlmock.NewRows(usersColumns).
			AddRow(int64(3), int64(8), []byte("Cy"), nil, []byte(`{}`)).
			AddRow(int64(5), int64(6), []byte("Di"), nil, []byte(`{}`)))
	page, err = sqlgen.Select[User](ctx, db, nil, &sqlgen.SelectOptions{Order: order, Limit: 2, After: after})
	if err != nil {
		panic(err)
	}
	fmt.Println(page[0].Name, page[1].Name)

	// Offset: LIMIT with OFFSET (a deep page reads every row it skips).
	mock.ExpectQuery(usersSelect + " ORDER BY `name` LIMIT 2 OFFSET 4").
		WillReturnRows(sqlmock.NewRows(usersColumns))
	_, err = sqlgen.Select[User](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("name")}, Limit: 2, Offset: 4})
	fmt.Println(err)
	exampleDone(mock)
	// Output:
	// [8 7]
	// Cy Di
	// <nil>
}

// exampleServer creates a database named name on the test server
// (SQLGEN_TEST_DSN), runs ddl in it and returns a pool to it, and a
// function that drops it. It panics when the server cannot be reached:
// the example fails, it is not skipped.
func exampleServer(name string, ddl ...string) (*sql.DB, func()) {
	cfg, err := mysql.ParseDSN(sqlgentest.DSN())
	if err != nil {
		panic(err)
	}
	name = fmt.Sprintf("sqlgen_example_%s_%d", name, time.Now().UnixNano())
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		panic(err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		panic(err)
	}
	cfg.DBName = name
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		panic(err)
	}
	for _, stmt := range ddl {
		if _, err := conn.Exec(stmt); err != nil {
			panic(err)
		}
	}
	return conn, func() {
		conn.Close()
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			panic(err)
		}
		admin.Close()
	}
}

// Prefs is the JSON document of an account's preferences.
type Prefs struct {
	Theme string   `json:"theme"`
	Font  Font     `json:"font"`
	Tags  []string `json:"tags"`
}

// Font is part of Prefs.
type Font struct {
	Size int `json:"size"`
}

// Account has a JSON column, and a generated column over one of its
// fields (readonly: sqlgen never writes it), with an index.
type Account struct {
	ID    int64 `sql:",primary"`
	Name  string
	Prefs Prefs   `sql:",json"`
	Theme *string `sql:",readonly"`
}

const accountsDDL = "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, prefs JSON NOT NULL," +
	" theme VARCHAR(32) AS (JSON_UNQUOTE(JSON_EXTRACT(prefs, '$.theme'))) VIRTUAL, KEY theme_idx (theme))"

func ExampleFilter_jsonPath() {
	conn, drop := exampleServer("jsonpath", accountsDDL)
	defer drop()
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("accounts", sqlgen.UniqueID, Account{})
	db := sqlgen.NewDB(conn, schema)
	ctx := context.Background()
	err := db.InsertRows(ctx, []*Account{
		{ID: 1, Name: "Ann", Prefs: Prefs{Theme: "dark", Font: Font{Size: 12}, Tags: []string{"admin"}}},
		{ID: 2, Name: "Bob", Prefs: Prefs{Theme: "light", Font: Font{Size: 14}}},
		{ID: 3, Name: "Cy", Prefs: Prefs{Theme: "dark", Font: Font{Size: 16}, Tags: []string{"dev", "admin"}}},
	}, 0)
	if err != nil {
		panic(err)
	}
	names := func(filter sqlgen.Filter, order ...sqlgen.Order) []string {
		rows, err := sqlgen.Select[Account](ctx, db, filter, &sqlgen.SelectOptions{Order: order})
		if err != nil {
			panic(err)
		}
		var out []string
		for _, a := range rows {
			out = append(out, a.Name)
		}
		return out
	}
	// A key is a JSON column and a path; a slice is an IN list; numbers
	// compare by value (14 is 14.0), never with strings.
	fmt.Println(names(sqlgen.Filter{"prefs.font.size": []int{14, 16}}))
	fmt.Println(names(sqlgen.Filter{"prefs.font.size": "14"}))
	// Array elements by index; nil is absent or JSON null.
	fmt.Println(names(sqlgen.Filter{"prefs.tags[0]": "admin"}))
	fmt.Println(names(sqlgen.Filter{"prefs.tags[1]": nil}, sqlgen.Asc("id")))
	// Order by the value at a path.
	fmt.Println(names(nil, sqlgen.Desc("prefs.font.size")))
	// JSONPath writes any member name safely, quoted.
	fmt.Println(sqlgen.JSONPath("prefs", "font", "size"), sqlgen.JSONPath("prefs", "a.b", 0))
	// The Tester gives the server's answer in memory.
	tester, err := schema.MakeTester("accounts", sqlgen.Filter{"prefs.theme": "dark"})
	if err != nil {
		panic(err)
	}
	fmt.Println(tester.Test(&Account{Prefs: Prefs{Theme: "dark"}}), tester.Test(&Account{}))
	// Output:
	// [Bob Cy]
	// []
	// [Ann]
	// [Ann Bob]
	// [Cy Bob Ann]
	// prefs."font"."size" prefs."a.b"[0]
	// true false
}

func ExampleSchema_RegisterType_readonly() {
	conn, drop := exampleServer("readonly", accountsDDL)
	defer drop()
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("accounts", sqlgen.UniqueID, Account{})
	db := sqlgen.NewDB(conn, schema)
	ctx := context.Background()
	// Theme is never written: the server computes it from prefs.
	a := &Account{ID: 1, Name: "Ann", Prefs: Prefs{Theme: "dark"}}
	if _, err := db.InsertRow(ctx, a); err != nil {
		panic(err)
	}
	fmt.Println(a.Theme == nil) // InsertRow leaves the field as it was
	a.Prefs.Theme = "light"
	if err := db.UpdateRow(ctx, a); err != nil {
		panic(err)
	}
	// Filtered (through its index) and read like any column.
	got, err := sqlgen.Get[Account](ctx, db, sqlgen.Filter{"theme": "light"}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Name, *got.Theme)
	// CreateTableSQL cannot write the generated column's expression.
	_, err = schema.CreateTableSQL("accounts")
	fmt.Println(errors.Is(err, sqlgen.ErrUnsupported))
	// Output:
	// true
	// Ann light
	// true
}
