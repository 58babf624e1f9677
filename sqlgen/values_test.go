package sqlgen_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// Columns whose names differ only in case cannot both exist in MySQL:
// registration refuses them, naming both fields.
func TestRegisterColumnsDifferingInCase(t *testing.T) {
	type byTag struct {
		ID    int64  `sql:",primary"`
		Name  string `sql:"Name"`
		Other string `sql:"name"`
	}
	type byDerived struct {
		ID     int64 `sql:",primary"`
		UserID int64
		X      int64 `sql:"USER_ID"`
	}
	type embedded struct{ Email string }
	type byEmbedding struct {
		ID int64 `sql:",primary"`
		embedded
		Mail string `sql:"EMAIL"`
	}
	for _, c := range []struct {
		v       any
		mention []string
	}{
		{byTag{}, []string{"byTag.Name", "byTag.Other", `"Name"`, `"name"`}},
		{byDerived{}, []string{"byDerived.UserID", "byDerived.X"}},
		{byEmbedding{}, []string{"embedded.Email", "byEmbedding.Mail"}},
	} {
		err := sqlgen.NewSchema().RegisterType("t", sqlgen.UniqueID, c.v)
		sqWantErr(t, err, sqlgen.ErrBadSchema, c.mention...)
	}
}

// []byte fields tagged binary or string are stored as their bytes, and a
// [N]byte tagged binary as its N bytes.
func TestRegisterByteFieldsWithEncodingTags(t *testing.T) {
	type blobs struct {
		ID   int64    `sql:",primary"`
		Bin  []byte   `sql:",binary"`
		Str  []byte   `sql:",string"`
		Hash [32]byte `sql:",binary"`
	}
	s := sqlgen.NewSchema()
	if err := s.RegisterType("blobs", sqlgen.UniqueID, blobs{}); err != nil {
		t.Fatal(err)
	}
	in := &blobs{ID: 1, Bin: []byte{0, 1}, Str: []byte("s\xff"), Hash: [32]byte{9, 31: 8}}
	vals, err := s.UnbuildStruct("blobs", in)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), []byte{0, 1}, []byte("s\xff"), in.Hash[:]}
	if fmt.Sprint(vals) != fmt.Sprint(want) {
		t.Errorf("UnbuildStruct = %v, want %v", vals, want)
	}
	row := make([]driver.Value, len(vals))
	for i, v := range vals {
		row[i] = v
	}
	out, err := s.BuildStruct("blobs", row)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*blobs); fmt.Sprint(*got) != fmt.Sprint(*in) {
		t.Errorf("BuildStruct = %v, want %v", *got, *in)
	}
	row[3] = []byte{1, 2, 3}
	if _, err := s.BuildStruct("blobs", row); !errors.Is(err, sqlgen.ErrConvert) {
		t.Errorf("BuildStruct of 3 bytes into a [32]byte: %v, want ErrConvert", err)
	}
	type plainArray struct {
		ID   int64 `sql:",primary"`
		Hash [32]byte
	}
	err = sqlgen.NewSchema().RegisterType("t", sqlgen.UniqueID, plainArray{})
	sqWantErr(t, err, sqlgen.ErrBadSchema, "plainArray.Hash", "binary")
}

// An array is one value, never an IN list: filters, Count and MakeTester
// take it as the column's value.
func TestArrayFilterValues(t *testing.T) {
	type uuid [16]byte
	db, _, mock := sqNew(t)
	// An array on an integer column is not a list of integers.
	var rows []*sqUser
	err := db.Query(context.Background(), &rows, sqlgen.Filter{"id": [2]int{1, 2}}, nil)
	sqWantErr(t, err, sqlgen.ErrConvert, "[2]int", `"id"`)
	_ = mock

	type hashed struct {
		ID   uuidValuer `sql:",primary"`
		Hash [4]byte    `sql:",binary"`
		Pair [2]int     `sql:",json"`
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("hashed", sqlgen.UniqueID, hashed{})
	row := &hashed{ID: uuidValuer{1, 2}, Hash: [4]byte{1, 2, 3, 4}, Pair: [2]int{5, 6}}
	for _, f := range []sqlgen.Filter{
		{"id": uuidValuer{1, 2}},
		{"hash": [4]byte{1, 2, 3, 4}},
		{"pair": [2]int{5, 6}},
		{"id": []uuidValuer{{9}, {1, 2}}},
		{"hash": [][4]byte{{1, 2, 3, 4}}},
	} {
		tester, err := s.MakeTester("hashed", f)
		if err != nil {
			t.Errorf("MakeTester(%v): %v", f, err)
			continue
		}
		if !tester.Test(row) {
			t.Errorf("MakeTester(%v).Test = false, want true", f)
		}
	}
	_ = uuid{}
}

type uuidValuer [16]byte

func (u uuidValuer) Value() (driver.Value, error) { return u[:], nil }
func (u *uuidValuer) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok || len(b) != 16 {
		return fmt.Errorf("uuidValuer: %T", src)
	}
	copy(u[:], b)
	return nil
}

// Option combinations the server rejects are refused before anything is
// sent (sqlmock expects no statement).
func TestSelectOptionsRefused(t *testing.T) {
	db, _, _ := sqNew(t)
	ctx := context.Background()
	for _, c := range []struct {
		opts    *sqlgen.SelectOptions
		mention string
	}{
		{&sqlgen.SelectOptions{UseIndex: []string{"a"}, ForceIndex: []string{"b"}}, "ForceIndex"},
		{&sqlgen.SelectOptions{Values: []any{1}}, "Where"},
		{&sqlgen.SelectOptions{Where: "`id` = ?"}, "1 ? placeholders and Values 0"},
		{&sqlgen.SelectOptions{Where: "`id` = ? OR `id` = ?", Values: []any{1}}, "2 ? placeholders"},
		{&sqlgen.SelectOptions{Where: "`name` = '?'", Values: []any{1}}, "0 ? placeholders"},
		{&sqlgen.SelectOptions{Where: "  "}, "white space"},
		{&sqlgen.SelectOptions{OrderBy: " "}, "white space"},
	} {
		var rows []*sqUser
		err := db.Query(ctx, &rows, sqlgen.Filter{"org_id": 1}, c.opts)
		sqWantErr(t, err, sqlgen.ErrInvalidArgument, `"sq_users"`, c.mention)
		var row *sqUser
		err = db.QueryRow(ctx, &row, nil, c.opts)
		sqWantErr(t, err, sqlgen.ErrInvalidArgument)
		err = db.Query(sqlgen.WithBatching(ctx), &rows, sqlgen.Filter{"id": 1}, c.opts)
		sqWantErr(t, err, sqlgen.ErrInvalidArgument)
	}
	// What the check must not refuse: ? in quotes, comments and
	// identifiers, and a quote escaped either way.
	db2, _, mock := sqNew(t)
	for _, where := range []string{
		"`name` = '?' AND `id` = ?",
		"`name` = \"?\" AND `id` = ? -- ?\n",
		"`name` = 'it''s ?' AND /* ? */ `id` = ? # ?",
		"`na?me` = ? ",
		`name = 'a\'?' AND id = ?`,
	} {
		mock.ExpectQuery(sqUserSelect + " WHERE (" + where + ")").WithArgs(int64(1)).WillReturnRows(sqlmock.NewRows(sqUserCols))
		var rows []*sqUser
		if err := db2.Query(ctx, &rows, nil, &sqlgen.SelectOptions{Where: where, Values: []any{int64(1)}}); err != nil {
			t.Errorf("Where %q with one value: %v", where, err)
		}
	}
}

// An IN list past MySQL's 65,535 placeholders works, on every DSN and
// path: its values are written into the statement as literals. Values of
// a Where cannot be, and too many of them is an error before sending.
func TestLargeINList(t *testing.T) {
	t.Parallel()
	type big struct {
		ID   int64 `sql:",primary"`
		Name string
		U    uint64
		F    float64
		B    bool
		Bin  []byte
	}
	const n = 70_000
	for _, v := range []struct {
		name string
		opts []sqlgentest.Option
	}{
		{"default", nil},
		{"interpolateParams", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, []string{"CREATE TABLE big (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL, u BIGINT UNSIGNED NOT NULL, " +
				"f DOUBLE NOT NULL, b TINYINT(1) NOT NULL, bin VARBINARY(20) NULL)"}, v.opts...)
			s := sqlgen.NewSchema()
			s.MustRegisterType("big", sqlgen.UniqueID, big{})
			ctx := context.Background()
			rows := []*big{
				{ID: 3, Name: "It's", U: 1 << 63, F: 0.1, B: true, Bin: []byte{0, '\'', 0xff}},
				{ID: n - 1, Name: "b\\'", U: 7, F: -2.5e300, Bin: []byte{}},
				{ID: 1 << 40, Name: "😀", U: 0, F: 1},
			}
			if err := sqlgen.NewDB(conn, s).InsertRows(ctx, rows, 0); err != nil {
				t.Fatal(err)
			}
			ids := make([]int64, n)
			names := make([]string, n)
			us := make([]uint64, n)
			fs := make([]float64, n)
			bins := make([][]byte, n)
			for i := range ids {
				ids[i] = int64(i)
				names[i] = "name " + strconv.Itoa(i)
				us[i] = uint64(i) + 1<<62
				fs[i] = float64(i) + 0.5
				bins[i] = []byte{byte(i), byte(i >> 8), 1}
			}
			ids[0] = 1 << 40
			names[0], names[1], names[2] = "It's", "b\\'", "😀"
			us[0], us[1] = 1<<63, 7
			fs[0], fs[1] = 0.1, -2.5e300
			bins[0], bins[1] = []byte{0, '\'', 0xff}, []byte{}
			for _, c := range []struct {
				col  string
				vals any
				want int
			}{
				{"id", ids, 3}, {"name", names, 3}, {"u", us, 2}, {"f", fs, 2}, {"bin", bins, 2},
				{"b", append(make([]bool, n), true), 3},
				{"id", append([]any{nil}, func() []any {
					out := make([]any, n)
					for i := range out {
						out[i] = int32(i)
					}
					return out
				}()...), 2},
			} {
				for _, path := range []string{"plain", "stmtcache", "tx"} {
					var opts []sqlgen.Option
					if path == "stmtcache" {
						opts = append(opts, sqlgen.WithStmtCache(8))
					}
					db := sqlgen.NewDB(conn, s, opts...)
					f := sqlgen.Filter{c.col: c.vals}
					err := func() error {
						ctx := ctx
						if path == "tx" {
							var tx *sql.Tx
							var err error
							if ctx, tx, err = db.WithTx(ctx); err != nil {
								return err
							}
							defer tx.Rollback()
						}
						var got []*big
						if err := db.Query(ctx, &got, f, nil); err != nil {
							return err
						}
						cnt, err := db.Count(ctx, &big{}, f)
						if err != nil {
							return err
						}
						if len(got) != c.want || cnt != int64(c.want) {
							return fmt.Errorf("Query found %d rows, Count %d, want %d", len(got), cnt, c.want)
						}
						return nil
					}()
					if err != nil {
						t.Errorf("%s, IN list of %d on %s: %v", path, n, c.col, err)
					}
					if path == "stmtcache" {
						db.Close()
					}
				}
			}
			// Values of a Where are placeholders: too many is an error.
			db := sqlgen.NewDB(conn, s)
			vals := make([]any, n)
			for i := range vals {
				vals[i] = i
			}
			var got []*big
			err := db.Query(ctx, &got, nil, &sqlgen.SelectOptions{Where: "`id` IN (" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")", Values: vals})
			sqWantErr(t, err, sqlgen.ErrTooLarge, `"big"`, strconv.Itoa(n))
		})
	}
}

// A JSON column of an interface type is filtered by any value, as a
// document; a typed nil is NULL in writes, filters and the Tester.
func TestJSONAnyFilter(t *testing.T) {
	t.Parallel()
	type settings struct {
		Theme string `json:"theme"`
	}
	type doc struct {
		ID  int64 `sql:",primary"`
		Any any   `sql:",json"`
	}
	conn := sqlgentest.Open(t, []string{"CREATE TABLE docs (id BIGINT PRIMARY KEY, `any` JSON NULL)"})
	s := sqlgen.NewSchema()
	s.MustRegisterType("docs", sqlgen.UniqueID, doc{})
	db := sqlgen.NewDB(conn, s)
	ctx := context.Background()
	rows := []*doc{
		{ID: 1, Any: settings{Theme: "dark"}},
		{ID: 2, Any: (*settings)(nil)},
		{ID: 3, Any: map[string]any{"n": json.Number("9007199254740993")}},
		{ID: 4, Any: []int{1, 2}},
		{ID: 5, Any: nil},
		{ID: 6, Any: map[string]any{"nested": json.RawMessage(`"\ufffd"`)}},
		{ID: 7, Any: json.Number("1e0")},
	}
	for _, r := range rows {
		if _, err := db.InsertRow(ctx, r); err != nil {
			t.Fatalf("InsertRow %d: %v", r.ID, err)
		}
	}
	var n sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM docs WHERE `any` IS NULL").Scan(&n); err != nil || n.Int64 != 2 {
		t.Errorf("rows stored as SQL NULL: %v, %v; want 2 (a typed nil pointer is NULL)", n, err)
	}
	for _, c := range []struct {
		v    any
		want []int64
	}{
		{settings{Theme: "dark"}, []int64{1}},
		{&settings{Theme: "dark"}, []int64{1}},
		{map[string]string{"theme": "dark"}, []int64{1}},
		{json.RawMessage(`{ "theme" : "dark" }`), []int64{1}},
		{nil, []int64{2, 5}},
		{(*settings)(nil), []int64{2, 5}},
		{map[string]any{"n": json.Number("9007199254740993")}, []int64{3}},
		{map[string]any{"n": json.Number("9007199254740992")}, nil},
		{[]int{1, 2}, []int64{4}}, // a slice is the document, not an IN list
		{[]int{2, 1}, nil},
		{map[string]any{"nested": "\ufffd"}, nil}, // the stored text is the escape
		{json.RawMessage(`{"nested":"\ufffd"}`), []int64{6}},
		{1, []int64{7}},
		{1.0, []int64{7}},
	} {
		f := sqlgen.Filter{"any": c.v}
		var got []*doc
		if err := db.Query(ctx, &got, f, &sqlgen.SelectOptions{OrderBy: "`id`"}); err != nil {
			t.Errorf("Query any = %#v: %v", c.v, err)
			continue
		}
		var ids []int64
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(c.want) {
			t.Errorf("any = %#v found %v, want %v", c.v, ids, c.want)
		}
		tester, err := s.MakeTester("docs", f)
		if err != nil {
			t.Errorf("MakeTester any = %#v: %v", c.v, err)
			continue
		}
		for _, r := range rows {
			want := false
			for _, id := range c.want {
				want = want || id == r.ID
			}
			if tester.Test(r) != want {
				t.Errorf("Tester any = %#v on row %d: %v, the server says %v", c.v, r.ID, !want, want)
			}
		}
	}
	// Numbers in an any read back exactly, as json.Number.
	var got *doc
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 3}, nil); err != nil {
		t.Fatal(err)
	}
	if m, ok := got.Any.(map[string]any); !ok || m["n"] != json.Number("9007199254740993") {
		t.Errorf("read back %#v, want the number as json.Number 9007199254740993", got.Any)
	}
}

// Times keep their instant whatever the DSN, and a time in a Where's
// Values compares with the stored UTC text. (The matrix covers every
// type and path; this is the README's example of a DSN with loc.)
func TestTimeWithLocDSN(t *testing.T) {
	t.Parallel()
	type event struct {
		ID   int64     `sql:",primary"`
		At   time.Time `sql:",primary"`
		Seen time.Time
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range []string{"false", "true"} {
		conn := sqlgentest.Open(t, []string{"CREATE TABLE events (id BIGINT, at DATETIME(6), seen DATETIME(6) NOT NULL, PRIMARY KEY (id, at))"},
			sqlgentest.Params("parseTime", pt, "loc", "America/New_York"))
		s := sqlgen.NewSchema()
		s.MustRegisterType("events", sqlgen.UniqueID, event{})
		db := sqlgen.NewDB(conn, s)
		ctx := context.Background()
		at := time.Date(2024, 3, 10, 2, 30, 0, 123456789, time.UTC) // a wall clock New York skips
		if _, err := db.InsertRow(ctx, &event{ID: 1, At: at.In(ny), Seen: at}); err != nil {
			t.Fatal(err)
		}
		var got *event
		if err := db.QueryRow(ctx, &got, sqlgen.Filter{"at": at}, nil); err != nil {
			t.Fatalf("parseTime=%s: QueryRow by the key's time: %v", pt, err)
		}
		want := at.Truncate(time.Microsecond)
		if !got.At.Equal(want) || got.At.Location() != time.UTC {
			t.Errorf("parseTime=%s: read %v, want %v in UTC", pt, got.At, want)
		}
		// Read, written back, read: the same instant every time.
		for range 3 {
			if err := db.UpdateRow(ctx, got); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 1}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if !got.At.Equal(want) || !got.Seen.Equal(want) {
			t.Errorf("parseTime=%s: after three read/UpdateRow rounds %v and %v, want %v", pt, got.At, got.Seen, want)
		}
		var rows []*event
		if err := db.Query(ctx, &rows, nil, &sqlgen.SelectOptions{Where: "`at` = ?", Values: []any{at.In(ny)}}); err != nil || len(rows) != 1 {
			t.Errorf("parseTime=%s: Where `at` = ? with the time: %d rows, %v", pt, len(rows), err)
		}
		if err := db.DeleteRow(ctx, &event{ID: 1, At: at}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Count(ctx, &event{}, nil); err != nil || n != 0 {
			t.Errorf("parseTime=%s: DeleteRow by a key with nanoseconds left %d rows (%v)", pt, n, err)
		}
	}
}

// A FLOAT column read into a float64 (or float32) field gives the same
// value whichever protocol carries it: the binary protocol sends a FLOAT's
// exact bits, the text protocol (a read without arguments, or
// interpolateParams=true) only 6 significant digits unless the column is
// read as a DOUBLE.
func TestFloatColumnSameOnEveryProtocol(t *testing.T) {
	t.Parallel()
	type reading struct {
		ID  int64 `sql:",primary"`
		F64 float64
		F32 float32
		D   float64
	}
	vals := []float32{1.1754943508222875e-38, 0.1, 1.0 / 3, 16777217, -3.4028235e38, 1e-45}
	for _, ip := range []string{"false", "true"} {
		conn := sqlgentest.Open(t, []string{"CREATE TABLE readings (id BIGINT PRIMARY KEY, f64 FLOAT NOT NULL, f32 FLOAT NOT NULL, d DOUBLE NOT NULL)"},
			sqlgentest.Params("interpolateParams", ip))
		s := sqlgen.NewSchema()
		s.MustRegisterType("readings", sqlgen.UniqueId, reading{})
		ctx := context.Background()
		for _, db := range []*sqlgen.DB{sqlgen.NewDB(conn, s), sqlgen.NewDB(conn, s, sqlgen.WithStmtCache(8))} {
			if _, err := conn.Exec("DELETE FROM readings"); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				row := &reading{ID: int64(i), F64: float64(v), F32: v, D: float64(v)}
				if _, err := db.InsertRow(ctx, row); err != nil {
					t.Fatal(err)
				}
			}
			check := func(how string, rows []*reading) {
				t.Helper()
				if len(rows) != len(vals) {
					t.Fatalf("interpolateParams=%s, %s: %d rows, want %d", ip, how, len(rows), len(vals))
				}
				for _, r := range rows {
					v := vals[r.ID]
					if r.F64 != float64(v) || r.F32 != v || r.D != float64(v) {
						t.Errorf("interpolateParams=%s, %s: row %d read %v/%v/%v, want %v", ip, how, r.ID, r.F64, r.F32, r.D, v)
					}
				}
			}
			var all []*reading // no arguments: the text protocol
			if err := db.Query(ctx, &all, nil, nil); err != nil {
				t.Fatal(err)
			}
			check("read without arguments", all)
			var some []*reading // arguments: binary unless interpolated
			if err := db.Query(ctx, &some, nil, &sqlgen.SelectOptions{Where: "`id` >= ?", Values: []any{0}}); err != nil {
				t.Fatal(err)
			}
			check("read with arguments", some)
			// Written back as read, the stored value does not move.
			for _, r := range all {
				if err := db.UpdateRow(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			var again []*reading
			if err := db.Query(ctx, &again, nil, nil); err != nil {
				t.Fatal(err)
			}
			check("read after writing back", again)
		}
	}
}
