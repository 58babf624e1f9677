package sqlgen_test

// Registration tests. Identifiers start with "sc". Statements are checked
// with the sqlmock helpers of sql_test.go.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type scNoPK struct {
	ID   int64
	Name string
}

type scDupDerived struct {
	ID    int64 `sql:",primary"`
	OrgID int64
	Org   int64 `sql:"org_id"`
}

type scDupTags struct {
	ID int64 `sql:",primary"`
	A  int64 `sql:"x"`
	B  int64 `sql:"x"`
}

// UserIDs and UserIDS both derive user_ids.
type scDupBothDerived struct {
	ID      int64 `sql:",primary"`
	UserIDs string
	UserIDS string
}

type scBadOption struct {
	ID   int64  `sql:",primary"`
	Name string `sql:",nullable"`
}

type scBadColumnName struct {
	ID   int64  `sql:",primary"`
	Name string `sql:"bad name"`
}

type scConflict struct {
	ID   int64  `sql:",primary"`
	Data []byte `sql:",json,binary"`
}

type scTwoPK struct {
	A int64 `sql:",primary"`
	B int64 `sql:",primary"`
}

type scStringPK struct {
	ID   string `sql:",primary"`
	Name string
}

type scPtrPK struct {
	ID *int64 `sql:",primary"`
}

type scJSONPK struct {
	ID int64 `sql:",primary,json"`
}

type scChan struct {
	ID int64 `sql:",primary"`
	C  chan int
}

type scMap struct {
	ID    int64 `sql:",primary"`
	Attrs map[string]string
}

type scStruct struct {
	ID  int64 `sql:",primary"`
	Pos struct{ X, Y int }
}

type scPtrPtr struct {
	ID int64 `sql:",primary"`
	P  **int
}

type scNullPtr struct {
	ID int64  `sql:",primary"`
	P  *int64 `sql:",implicitnull"`
}

type scBase struct {
	ID        int64 `sql:",primary"`
	CreatedAt time.Time
}

type scVersion struct {
	Version int64
}

type scAudit struct {
	UpdatedBy string
	scVersion
}

// ScMeta is exported so that the embedded field is exported too (an
// embedded unexported type is an unexported field, and skipped).
type ScMeta struct {
	Source string `json:"source"`
}

// scThing flattens scBase (unexported) and scAudit (which embeds
// scVersion); ScMeta, named by its tag, is one JSON column; time.Time is
// a column of its own.
type scThing struct {
	scBase
	*scSkipped `sql:"-"`
	Name       string
	scAudit
	ScMeta `sql:"meta,json"`
	time.Time
}

type scSkipped struct{ Secret string }

type scEmbedPtr struct {
	*scBase
	Name string
}

type scEmbedDup struct {
	scBase
	ID int64
}

type scSkips struct {
	ID       int64 `sql:",primary"`
	Name     string
	Secret   string `sql:"-"`
	Callback func() `sql:"-"`
	//lint:ignore U1000 an unexported field: not a column
	internal chan int
	cache    map[string]int
}

type scNothing struct {
	Skip string `sql:"-"`
	//lint:ignore U1000 an unexported field: not a column
	priv int64
}

type scA struct {
	ID int64 `sql:",primary"`
}

type scB struct {
	ID int64 `sql:",primary"`
}

func TestSchemaRegisterErrors(t *testing.T) {
	tests := []struct {
		name    string
		table   string
		pk      sqlgen.PrimaryKeyType
		value   any
		mention []string
		also    error // a second sentinel the error wraps
	}{
		{"no primary key", "sc_t", sqlgen.UniqueID, scNoPK{}, []string{"scNoPK", "primary"}, nil},
		{"duplicate column, tag and derived", "sc_t", sqlgen.UniqueID, scDupDerived{}, []string{"scDupDerived.OrgID", "scDupDerived.Org ", `"org_id"`}, nil},
		{"duplicate column, two tags", "sc_t", sqlgen.UniqueID, scDupTags{}, []string{"scDupTags.A", "scDupTags.B", `"x"`}, nil},
		{"duplicate column, both derived", "sc_t", sqlgen.UniqueID, scDupBothDerived{}, []string{"scDupBothDerived.UserIDs", "scDupBothDerived.UserIDS", `"user_ids"`}, nil},
		{"duplicate column through embedding", "sc_t", sqlgen.UniqueID, scEmbedDup{}, []string{"scBase.ID", "scEmbedDup.ID", `"id"`}, nil},
		{"unknown tag option", "sc_t", sqlgen.UniqueID, scBadOption{}, []string{"scBadOption.Name", "nullable"}, fields.ErrBadTag},
		{"bad column name", "sc_t", sqlgen.UniqueID, scBadColumnName{}, []string{"scBadColumnName.Name", "bad name"}, fields.ErrBadName},
		{"conflicting encodings", "sc_t", sqlgen.UniqueID, scConflict{}, []string{"scConflict.Data"}, fields.ErrBadTag},
		{"table name with a space", "bad name", sqlgen.UniqueID, scA{}, []string{`"bad name"`}, fields.ErrBadName},
		{"table name with a backtick", "x`y", sqlgen.UniqueID, scA{}, []string{"x`y"}, fields.ErrBadName},
		{"table name with a quote", "x'y", sqlgen.UniqueID, scA{}, []string{"x'y"}, fields.ErrBadName},
		{"table name with a semicolon", "t;DROP", sqlgen.UniqueID, scA{}, []string{"t;DROP"}, fields.ErrBadName},
		{"empty table name", "", sqlgen.UniqueID, scA{}, nil, fields.ErrBadName},
		{"long table name", strings.Repeat("t", 65), sqlgen.UniqueID, scA{}, nil, fields.ErrBadName},
		{"AutoIncrement, two keys", "sc_t", sqlgen.AutoIncrement, scTwoPK{}, []string{"scTwoPK", "exactly one"}, nil},
		{"AutoIncrement, string key", "sc_t", sqlgen.AutoIncrement, scStringPK{}, []string{"scStringPK.ID", "integer"}, nil},
		{"AutoIncrement, pointer key", "sc_t", sqlgen.AutoIncrement, scPtrPK{}, []string{"scPtrPK.ID"}, nil},
		{"AutoIncrement, JSON key", "sc_t", sqlgen.AutoIncrement, scJSONPK{}, []string{"scJSONPK.ID"}, nil},
		{"bad primary key type", "sc_t", sqlgen.PrimaryKeyType(0), scA{}, []string{"PrimaryKeyType(0)"}, nil},
		{"chan field", "sc_t", sqlgen.UniqueID, scChan{}, []string{"scChan.C", "chan int"}, sqlgen.ErrUnsupportedType},
		{"map field", "sc_t", sqlgen.UniqueID, scMap{}, []string{"scMap.Attrs", "map[string]string", "json"}, sqlgen.ErrUnsupportedType},
		{"struct field", "sc_t", sqlgen.UniqueID, scStruct{}, []string{"scStruct.Pos", "json"}, sqlgen.ErrUnsupportedType},
		{"pointer to pointer", "sc_t", sqlgen.UniqueID, scPtrPtr{}, []string{"scPtrPtr.P", "**int"}, sqlgen.ErrUnsupportedType},
		{"implicitnull pointer", "sc_t", sqlgen.UniqueID, scNullPtr{}, []string{"scNullPtr.P", "implicitnull"}, fields.ErrBadTag},
		{"embedded pointer", "sc_t", sqlgen.UniqueID, scEmbedPtr{}, []string{"scEmbedPtr.scBase", "*sqlgen_test.scBase", "by value"}, nil},
		{"no columns", "sc_t", sqlgen.UniqueID, scNothing{}, []string{"scNothing", "no columns"}, nil},
		{"int", "sc_t", sqlgen.UniqueID, 5, []string{"int"}, nil},
		{"nil", "sc_t", sqlgen.UniqueID, nil, nil, nil},
		{"slice of structs", "sc_t", sqlgen.UniqueID, []scA{}, []string{"[]sqlgen_test.scA"}, nil},
		{"pointer to pointer to struct", "sc_t", sqlgen.UniqueID, new(*scA), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sqlgen.NewSchema()
			err := s.RegisterType(tc.table, tc.pk, tc.value)
			if err == nil {
				t.Fatalf("RegisterType(%q, %v, %T) succeeded", tc.table, tc.pk, tc.value)
			}
			if !errors.Is(err, sqlgen.ErrBadSchema) {
				t.Errorf("error %q does not wrap ErrBadSchema", err)
			}
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Errorf("error %q does not wrap %v", err, tc.also)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if errors.Is(err, sqlgen.ErrUnsupportedType) {
				var fe *fields.Error
				if !errors.As(err, &fe) || fe.Op != "register" || fe.Field == "" || fe.Type == nil {
					t.Errorf("error %q does not carry a *fields.Error naming the field and type", err)
				}
			}
			if len(s.Tables()) != 0 {
				t.Errorf("a failed registration left tables %v", s.Tables())
			}
			// The panicking form panics with the same error.
			func() {
				defer func() {
					r := recover()
					perr, ok := r.(error)
					if !ok || !errors.Is(perr, sqlgen.ErrBadSchema) || perr.Error() != err.Error() {
						t.Errorf("MustRegisterType panicked with %#v, want the error %q", r, err)
					}
				}()
				s.MustRegisterType(tc.table, tc.pk, tc.value)
			}()
		})
	}
}

func TestSchemaRegisteredTwice(t *testing.T) {
	s := sqlgen.NewSchema()
	s.MustRegisterType("sc_a", sqlgen.UniqueID, scA{})

	// The same type again, as another table, directly or by pointer.
	for _, v := range []any{scA{}, &scA{}} {
		err := s.RegisterType("sc_other", sqlgen.UniqueID, v)
		sqWantErr(t, err, sqlgen.ErrBadSchema, "scA", `"sc_a"`)
	}
	// Another type under the same table name.
	err := s.RegisterType("sc_a", sqlgen.UniqueID, scB{})
	sqWantErr(t, err, sqlgen.ErrBadSchema, `"sc_a"`)
	if diff := cmp.Diff([]string{"sc_a"}, s.Tables()); diff != "" {
		t.Errorf("Tables() after failed registrations (-want +got):\n%s", diff)
	}
	// A failed registration leaves the schema usable.
	s.MustRegisterType("sc_b", sqlgen.UniqueID, &scB{})
	got := s.Tables()
	slices.Sort(got)
	if diff := cmp.Diff([]string{"sc_a", "sc_b"}, got); diff != "" {
		t.Errorf("Tables() (-want +got):\n%s", diff)
	}
}

// The package documentation promises that every registration error,
// including "a table or type registered twice", names the struct. A table
// name taken by another type gives only the table name, so the user cannot
// tell which two types collide.
func TestSchemaDuplicateTableNamesBothStructs(t *testing.T) {
	s := sqlgen.NewSchema()
	s.MustRegisterType("sc_a", sqlgen.UniqueID, scA{})
	err := s.RegisterType("sc_a", sqlgen.UniqueID, scB{})
	sqWantErr(t, err, sqlgen.ErrBadSchema, `"sc_a"`, "sqlgen_test.scB", "sqlgen_test.scA")
}

func TestSchemaEmbeddedStructsFlatten(t *testing.T) {
	s := sqlgen.NewSchema()
	s.MustRegisterType("sc_things", sqlgen.AutoIncrement, scThing{})
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqExactSQL), sqlmock.ValueConverterOption(sqStrictConverter{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := sqlgen.NewDB(conn, s)
	ctx := context.Background()
	created := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	stamp := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	cols := []string{"id", "created_at", "name", "updated_by", "version", "meta", "time"}
	mock.ExpectQuery("SELECT `id`,CAST(`created_at` AS CHAR),`name`,`updated_by`,`version`,`meta`,CAST(`time` AS CHAR) FROM `sc_things` WHERE `version`=?").
		WithArgs(int64(3)).
		WillReturnRows(sqlmock.NewRows(cols).AddRow(int64(1), created, []byte("n"), []byte("u"), int64(3), []byte(`{"source":"s"}`), stamp))
	mock.ExpectExec("INSERT INTO `sc_things` (`created_at`,`name`,`updated_by`,`version`,`meta`,`time`) VALUES (?,?,?,?,?,?)").
		WithArgs("2024-02-03 04:05:06", "n", "u", int64(3), `{"source":"s"}`, "2025-01-01 00:00:00"). // times as UTC text
		WillReturnResult(sqlmock.NewResult(77, 1))

	var got []*scThing
	if err := db.Query(ctx, &got, sqlgen.Filter{"version": 3}, nil); err != nil {
		t.Fatal(err)
	}
	want := &scThing{
		scBase:  scBase{ID: 1, CreatedAt: created},
		Name:    "n",
		scAudit: scAudit{UpdatedBy: "u", scVersion: scVersion{Version: 3}},
		ScMeta:  ScMeta{Source: "s"},
		Time:    stamp,
	}
	opt := cmp.AllowUnexported(scThing{}, scAudit{})
	if diff := cmp.Diff([]*scThing{want}, got, opt); diff != "" {
		t.Errorf("Query mismatch (-want +got):\n%s", diff)
	}
	// The AutoIncrement key is found in the embedded struct and the new id
	// is written back there.
	in := *want
	in.ID = 0
	if _, err := db.InsertRow(ctx, &in); err != nil {
		t.Fatal(err)
	}
	if in.ID != 77 {
		t.Errorf("embedded ID = %d after InsertRow, want 77", in.ID)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

func TestSchemaSkipsFields(t *testing.T) {
	s := sqlgen.NewSchema()
	// chan, func and map fields are fine when skipped or unexported.
	if err := s.RegisterType("sc_skips", sqlgen.UniqueID, scSkips{}); err != nil {
		t.Fatal(err)
	}
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqExactSQL), sqlmock.ValueConverterOption(sqStrictConverter{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := sqlgen.NewDB(conn, s)
	mock.ExpectQuery("SELECT `id`,`name` FROM `sc_skips`").
		WillReturnRows(sqlmock.NewRows([]string{"id", "name"}).AddRow(int64(1), []byte("n")))
	mock.ExpectExec("INSERT INTO `sc_skips` (`id`,`name`) VALUES (?,?)").
		WithArgs(int64(2), "m").
		WillReturnResult(sqlmock.NewResult(0, 1))
	var got []*scSkips
	if err := db.Query(context.Background(), &got, nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 1 || got[0].Name != "n" {
		t.Errorf("Query = %+v", got)
	}
	if _, err := db.InsertRow(context.Background(), &scSkips{ID: 2, Name: "m", Secret: "s", cache: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"secret", "callback", "internal", "cache"} {
		var rows []*scSkips
		err := db.Query(context.Background(), &rows, sqlgen.Filter{col: "x"}, nil)
		if !errors.Is(err, sqlgen.ErrUnknownColumn) {
			t.Errorf("filter on skipped field %q: %v, want ErrUnknownColumn", col, err)
		}
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

func TestSchemaMustRegisterType(t *testing.T) {
	s := sqlgen.NewSchema()
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("MustRegisterType of a valid type panicked: %v", r)
			}
		}()
		s.MustRegisterType("sc_a", sqlgen.UniqueID, scA{})
	}()
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, sqlgen.ErrBadSchema) || !strings.Contains(err.Error(), "scNoPK") {
			t.Errorf("MustRegisterType(scNoPK) panicked with %#v, want an ErrBadSchema naming scNoPK", r)
		}
	}()
	s.MustRegisterType("sc_nopk", sqlgen.UniqueID, scNoPK{})
	t.Error("MustRegisterType of a type without a primary key did not panic")
}

// Registration may run concurrently with itself and with reads of the
// schema (run with -race).
func TestSchemaConcurrentRegistration(t *testing.T) {
	s := sqlgen.NewSchema()
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherFunc(func(string, string) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mock.MatchExpectationsInOrder(false)
	db := sqlgen.NewDB(conn, s)
	s.MustRegisterType("sc_a", sqlgen.UniqueID, scA{})
	const n = 16
	for i := 0; i < n; i++ {
		mock.ExpectQuery("").WillReturnRows(sqlmock.NewRows([]string{"id"}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			typ := reflect.StructOf([]reflect.StructField{
				{Name: "ID", Type: reflect.TypeFor[int64](), Tag: `sql:",primary"`},
				{Name: fmt.Sprintf("F%d", i), Type: reflect.TypeFor[string]()},
			})
			errs <- s.RegisterType(fmt.Sprintf("sc_dyn_%d", i), sqlgen.UniqueID, reflect.New(typ).Interface())
		}()
		go func() {
			defer wg.Done()
			var rows []*scA
			errs <- db.Query(context.Background(), &rows, sqlgen.Filter{"id": i}, nil)
			_ = s.Tables()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(s.Tables()); got != n+1 {
		t.Errorf("%d tables registered, want %d", got, n+1)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}

// Tables lists what was registered, in any order.
func TestSchemaTables(t *testing.T) {
	s := sqlgen.NewSchema()
	if got := s.Tables(); len(got) != 0 {
		t.Errorf("new schema has tables %v", got)
	}
	s.MustRegisterType("sc_a", sqlgen.UniqueID, scA{})
	s.MustRegisterType("sc_b", sqlgen.UniqueID, scB{})
	got := s.Tables()
	slices.Sort(got)
	if diff := cmp.Diff([]string{"sc_a", "sc_b"}, got); diff != "" {
		t.Errorf("Tables() (-want +got):\n%s", diff)
	}
	// Types of one schema are unknown to another.
	other := sqlgen.NewDB((*sql.DB)(nil), sqlgen.NewSchema())
	var rows []*scA
	if err := other.Query(context.Background(), &rows, nil, nil); !errors.Is(err, sqlgen.ErrNotRegistered) {
		t.Errorf("Query of a type registered in another schema: %v, want ErrNotRegistered", err)
	}
}
