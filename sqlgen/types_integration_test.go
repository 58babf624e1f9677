package sqlgen_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type status string

type settings struct {
	Theme  string         `json:"theme"`
	Size   int            `json:"size"`
	Tags   []string       `json:"tags"`
	Limits map[string]int `json:"limits,omitempty"`
}

// point is stored through encoding.BinaryMarshaler; fakeProto has the
// Marshal/Unmarshal method pair of generated protobuf types.
type (
	point     = sqlgentest.Point
	fakeProto = sqlgentest.Proto
)

// allTypes has a field of every supported kind.
type allTypes struct {
	ID     int64 `sql:",primary"`
	B      bool
	BP     *bool
	I      int
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	IP     *int64
	U      uint
	U8     uint8
	U16    uint16
	U32    uint32
	U64    uint64
	UP     *uint64
	F32    float32
	F64    float64
	FP     *float64
	S      string
	SP     *string
	Named  status
	NamedP *status
	Bytes  []byte
	T      time.Time
	TP     *time.Time
	TS     time.Time `sql:"ts"`
	NS     sql.NullString
	NI     sql.Null[int64]
	NT     sql.NullTime
	NTG    sql.Null[time.Time]
	J      settings          `sql:",json"`
	JP     *settings         `sql:",json"`
	JM     map[string]int    `sql:",json"`
	JS     []string          `sql:",json"`
	JR     json.RawMessage   `sql:",json"`
	JA     any               `sql:",json"`
	Pt     point             `sql:",binary"`
	Proto  fakeProto         `sql:",binary"`
	Addr   net.IP            `sql:",string"`
	INull  string            `sql:",implicitnull"`
	INullI int64             `sql:",implicitnull"`
	Skip   string            `sql:"-"`
	Extra  map[string]string `sql:"extra_json,json"`
	//lint:ignore U1000 unexported: not a column
	hidden int
}

const allTypesDDL = "CREATE TABLE all_types (" +
	"id BIGINT PRIMARY KEY, b TINYINT(1) NOT NULL, bp TINYINT(1) NULL, " +
	"i BIGINT NOT NULL, i8 TINYINT NOT NULL, i16 SMALLINT NOT NULL, i32 INT NOT NULL, i64 BIGINT NOT NULL, ip BIGINT NULL, " +
	"u BIGINT UNSIGNED NOT NULL, u8 TINYINT UNSIGNED NOT NULL, u16 SMALLINT UNSIGNED NOT NULL, u32 INT UNSIGNED NOT NULL, u64 BIGINT UNSIGNED NOT NULL, up BIGINT UNSIGNED NULL, " +
	"f32 FLOAT NOT NULL, f64 DOUBLE NOT NULL, fp DOUBLE NULL, " +
	"s VARCHAR(255) NOT NULL, sp VARCHAR(255) NULL, named VARCHAR(64) NOT NULL, named_p VARCHAR(64) NULL, " +
	"bytes VARBINARY(255) NULL, t DATETIME(6) NOT NULL, tp DATETIME(6) NULL, ts TIMESTAMP(6) NULL, " +
	"ns VARCHAR(255) NULL, ni BIGINT NULL, nt DATETIME(6) NULL, ntg DATETIME(6) NULL, " +
	"j JSON NULL, jp JSON NULL, jm JSON NULL, js JSON NULL, jr JSON NULL, ja JSON NULL, " +
	"pt VARBINARY(16) NULL, proto BLOB NULL, addr VARCHAR(45) NULL, " +
	"i_null VARCHAR(255) NULL, i_null_i BIGINT NULL, extra_json JSON NULL" +
	") CHARACTER SET utf8mb4"

func ptr[T any](v T) *T { return &v }

func allTypesCases() []*allTypes {
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	return []*allTypes{
		{ID: 1, T: time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC), TS: time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)}, // zero values, NULL pointers
		{
			ID: 2, B: true, BP: ptr(true),
			I: math.MaxInt64, I8: math.MaxInt8, I16: math.MaxInt16, I32: math.MaxInt32, I64: math.MaxInt64, IP: ptr(int64(math.MaxInt64)),
			U: math.MaxUint64, U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64, UP: ptr(uint64(math.MaxUint64)),
			F32: 1.5, F64: math.MaxFloat64, FP: ptr(-0.1),
			S: "héllo, 世界 🎉 'quote' \"dq\" `bt` \\ ; -- /*", SP: ptr(""), Named: "active", NamedP: ptr(status("gone")),
			Bytes: []byte{0, 1, 2, 0xff, '\'', '\\'}, T: ts, TP: &ts, TS: time.Date(2038, 1, 1, 0, 0, 0, 500000000, time.UTC),
			NS: sql.NullString{String: "ns", Valid: true}, NI: sql.Null[int64]{V: -7, Valid: true},
			NT: sql.NullTime{Time: ts, Valid: true}, NTG: sql.Null[time.Time]{V: ts, Valid: true},
			J:  settings{Theme: "dark", Size: 3, Tags: []string{"a", "b"}, Limits: map[string]int{"x": 1}},
			JP: &settings{Theme: "light", Tags: []string{}}, JM: map[string]int{"one": 1, "two": 2}, JS: []string{"x", "ü"},
			JR: json.RawMessage(`{"raw":[1,2,3]}`), JA: map[string]any{"n": 1.5, "s": "x"},
			Pt: point{X: -3, Y: 4}, Proto: fakeProto{Payload: "payload"}, Addr: net.ParseIP("2001:db8::1"),
			INull: "set", INullI: 42, Extra: map[string]string{},
		},
		{
			ID: 3, I: math.MinInt64, I8: math.MinInt8, I16: math.MinInt16, I32: math.MinInt32, I64: math.MinInt64, IP: ptr(int64(0)),
			U: 0, U64: 1 << 63, UP: ptr(uint64(0)), F32: -2.25, F64: -math.SmallestNonzeroFloat64, FP: ptr(0.0),
			S: strings.Repeat("長", 255), Bytes: []byte{}, T: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			TS: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), JS: []string{}, JM: map[string]int{}, JA: []any{true, nil, "x"},
			Addr: net.ParseIP("10.0.0.1").To4(), Pt: point{X: math.MinInt32, Y: math.MaxInt32},
		},
	}
}

// dsnVariants are the driver settings every round trip runs under: the
// binary protocol with and without parseTime, and the text protocol.
var dsnVariants = []struct {
	name string
	opts []sqlgentest.Option
}{
	{"prepared", nil},
	{"parseTime", []sqlgentest.Option{sqlgentest.Params("parseTime", "true")}},
	{"interpolate", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}},
	{"interpolate+parseTime", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true", "parseTime", "true")}},
}

func newAllTypesSchema(t *testing.T) *sqlgen.Schema {
	t.Helper()
	s := sqlgen.NewSchema()
	if err := s.RegisterType("all_types", sqlgen.UniqueID, allTypes{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAllTypes(t *testing.T) {
	t.Parallel()
	for _, v := range dsnVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, []string{allTypesDDL}, v.opts...)
			db := sqlgen.NewDB(conn, newAllTypesSchema(t))
			ctx := context.Background()
			for _, want := range allTypesCases() {
				if _, err := db.InsertRow(ctx, want); err != nil {
					t.Fatalf("InsertRow(id %d): %v", want.ID, err)
				}
				var got *allTypes
				if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": want.ID}, nil); err != nil {
					t.Fatalf("QueryRow(id %d): %v", want.ID, err)
				}
				wantJSONAny(want)
				if diff := cmp.Diff(want, got, cmp.AllowUnexported(allTypes{})); diff != "" {
					t.Errorf("id %d: read back differs (-wrote +read):\n%s", want.ID, diff)
				}
			}
			// Query returns them all, in key order.
			var all []*allTypes
			if err := db.Query(ctx, &all, nil, &sqlgen.SelectOptions{OrderBy: "`id`"}); err != nil {
				t.Fatal(err)
			}
			if len(all) != 3 || all[0].ID != 1 || all[2].ID != 3 {
				t.Fatalf("Query returned %d rows", len(all))
			}
		})
	}
}

// wantJSONAny turns the JA field into what is decoded into an any:
// encoding/json's shapes, with numbers as json.Number (exact).
func wantJSONAny(v *allTypes) {
	if v.JA == nil {
		return
	}
	b, _ := json.Marshal(v.JA)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	_ = dec.Decode(&out)
	v.JA = out
}

// TestJSONStoredText checks the text that reaches the server: <, > and &
// are stored as themselves (json.Marshal would write \u003c-style escapes
// meant for HTML), and a RawMessage is sent byte for byte, so MariaDB,
// which keeps JSON as text, gives it back unchanged.
func TestJSONStoredText(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{allTypesDDL})
	db := sqlgen.NewDB(conn, newAllTypesSchema(t))
	ctx := context.Background()
	raw := json.RawMessage(`{"k": "x&y",  "l": ["<b>"]}`)
	in := &allTypes{ID: 20, JS: []string{"a&b", "<i>"}, JR: raw}
	if _, err := db.InsertRow(ctx, in); err != nil {
		t.Fatal(err)
	}
	var js, jr, first, k string
	var version string
	err := conn.QueryRow("SELECT js, jr, JSON_UNQUOTE(JSON_EXTRACT(js, '$[0]')), JSON_UNQUOTE(JSON_EXTRACT(jr, '$.k')), VERSION() FROM all_types WHERE id = 20").
		Scan(&js, &jr, &first, &k, &version)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js, `"a&b"`) || !strings.Contains(js, `"<i>"`) || strings.Contains(js, `\u00`) {
		t.Errorf("[a&b <i>] stored as %s, want the characters themselves", js)
	}
	if first != "a&b" || k != "x&y" {
		t.Errorf("JSON_EXTRACT gives %q and %q, want a&b and x&y", first, k)
	}
	var got *allTypes
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 20}, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		if jr != string(raw) || string(got.JR) != string(raw) {
			t.Errorf("RawMessage %s stored as %s and read as %s, want it byte for byte", raw, jr, got.JR)
		}
	} else if !json.Valid(got.JR) || !strings.Contains(string(got.JR), `"x&y"`) {
		t.Errorf("RawMessage %s read back as %s", raw, got.JR) // MySQL normalises JSON
	}
	if !cmp.Equal(got.JS, in.JS) {
		t.Errorf("JS read back as %q, want %q", got.JS, in.JS)
	}
	// A RawMessage that is not JSON, or not UTF-8, is refused before it
	// reaches the server, and nothing is written.
	for _, bad := range []json.RawMessage{json.RawMessage(`{"k":`), json.RawMessage("\"\xff\"")} {
		_, err := db.InsertRow(ctx, &allTypes{ID: 21, JR: bad})
		var fe *fields.Error
		if !errors.Is(err, fields.ErrConvert) || !errors.As(err, &fe) || fe.Column != "jr" {
			t.Errorf("RawMessage %q: error %v, want a fields.ErrConvert naming column jr", bad, err)
		}
	}
	var n int
	if err := conn.QueryRow("SELECT COUNT(*) FROM all_types WHERE id = 21").Scan(&n); err != nil || n != 0 {
		t.Errorf("refused rows: %d written (%v)", n, err)
	}
}

// TestJSONNullRules checks what reaches the database for nil and empty
// JSON values, and what comes back.
func TestJSONNullRules(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{allTypesDDL}, sqlgentest.Params("interpolateParams", "true"))
	db := sqlgen.NewDB(conn, newAllTypesSchema(t))
	ctx := context.Background()
	rows := []*allTypes{
		{ID: 10, JM: nil, JS: nil, JP: nil, JA: nil, JR: nil},
		{ID: 11, JM: map[string]int{}, JS: []string{}, JP: &settings{}, JR: json.RawMessage(`[]`)},
	}
	for _, r := range rows {
		if _, err := db.InsertRow(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	type stored struct{ jm, js, jp, ja, jr, j sql.NullString }
	read := func(id int64) stored {
		var s stored
		err := conn.QueryRow("SELECT jm, js, jp, ja, jr, j FROM all_types WHERE id = ?", id).Scan(&s.jm, &s.js, &s.jp, &s.ja, &s.jr, &s.j)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nilRow := read(10)
	for name, v := range map[string]sql.NullString{"nil map": nilRow.jm, "nil slice": nilRow.js, "nil pointer": nilRow.jp, "nil any": nilRow.ja, "nil RawMessage": nilRow.jr} {
		if v.Valid {
			t.Errorf("%s stored as %q, want SQL NULL", name, v.String)
		}
	}
	if !nilRow.j.Valid || !strings.Contains(nilRow.j.String, `"theme"`) {
		t.Errorf("zero struct stored as %+v, want a JSON object", nilRow.j)
	}
	empty := read(11)
	if empty.jm.String != "{}" || empty.js.String != "[]" {
		t.Errorf("empty map stored as %q, empty slice as %q; want {} and []", empty.jm.String, empty.js.String)
	}
	var got *allTypes
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 10}, nil); err != nil {
		t.Fatal(err)
	}
	if got.JM != nil || got.JS != nil || got.JP != nil || got.JA != nil || got.JR != nil {
		t.Errorf("NULL read back as non-nil: %+v", got)
	}
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 11}, nil); err != nil {
		t.Fatal(err)
	}
	if got.JM == nil || len(got.JM) != 0 || got.JS == nil || len(got.JS) != 0 || got.JP == nil {
		t.Errorf("empty values read back as %+v", got)
	}
	// A SQL NULL in a non-pointer JSON struct column reads as the zero value.
	sqlgentest.Exec(t, conn, "UPDATE all_types SET j = NULL WHERE id = 10")
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 10}, nil); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(got.J, settings{}) {
		t.Errorf("NULL struct read as %+v, want zero", got.J)
	}
}

func TestReadErrorsNameTheColumn(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{allTypesDDL})
	db := sqlgen.NewDB(conn, newAllTypesSchema(t))
	ctx := context.Background()
	if _, err := db.InsertRow(ctx, &allTypes{ID: 1, T: time.Now().UTC().Truncate(time.Second), TS: time.Now().UTC().Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, update, column, field string
		is                          error
	}{
		{"JSON of the wrong shape", `UPDATE all_types SET j = '{"theme": 5}'`, "j", "allTypes.J", nil},
		{"NULL into a plain field", `ALTER TABLE all_types MODIFY i BIGINT NULL, ALGORITHM=COPY`, "", "", nil},
		{"out of range for int8", `ALTER TABLE all_types MODIFY i8 INT NOT NULL`, "i8", "allTypes.I8", sqlgen.ErrConvert},
		{"bad binary", `UPDATE all_types SET pt = 'abc'`, "pt", "allTypes.Pt", nil},
	}
	for _, tc := range tests {
		sqlgentest.Exec(t, conn, tc.update)
		if tc.column == "" { // set-up only
			continue
		}
		if tc.column == "i8" {
			sqlgentest.Exec(t, conn, "UPDATE all_types SET i8 = 300")
		}
		var got *allTypes
		err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 1}, nil)
		var fe *fields.Error
		if !errors.As(err, &fe) {
			t.Fatalf("%s: error %v is not a *fields.Error", tc.name, err)
		}
		if fe.Table != "all_types" || fe.Column != tc.column || fe.Field != tc.field {
			t.Errorf("%s: error names %s.%s (%s), want all_types.%s (%s)", tc.name, fe.Table, fe.Column, fe.Field, tc.column, tc.field)
		}
		for _, s := range []string{"all_types", tc.column, tc.field} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: message %q does not mention %q", tc.name, err, s)
			}
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v is not %v", tc.name, err, tc.is)
		}
		if got != nil {
			t.Errorf("%s: result set despite the error", tc.name)
		}
		// Put the row back in order for the next case.
		sqlgentest.Exec(t, conn, "UPDATE all_types SET j = '{}', i8 = 0, pt = NULL")
	}
	sqlgentest.Exec(t, conn, "UPDATE all_types SET i = NULL")
	var got *allTypes
	err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": 1}, nil)
	if !errors.Is(err, sqlgen.ErrUnexpectedNull) || !strings.Contains(err.Error(), "allTypes.I ") {
		t.Errorf("NULL into int: got %v, want ErrUnexpectedNull naming allTypes.I", err)
	}
}

// TestWriteErrorsNameTheColumn: values the server refuses in strict mode
// come back as errors, and nothing is written.
func TestWriteErrorsNameTheColumn(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{allTypesDDL})
	db := sqlgen.NewDB(conn, newAllTypesSchema(t))
	ctx := context.Background()
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := []*allTypes{
		{ID: 1, T: now, TS: now, S: strings.Repeat("x", 256)},         // too long for VARCHAR(255)
		{ID: 2, T: now, TS: now, JA: map[string]any{"f": math.NaN()}}, // NaN is not JSON
	}
	for _, r := range bad {
		if _, err := db.InsertRow(ctx, r); err == nil {
			t.Errorf("row %d: InsertRow succeeded, want an error", r.ID)
		}
	}
	if n, err := db.Count(ctx, &allTypes{}, nil); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0 rows written", n, err)
	}
	_, err := db.InsertRow(ctx, bad[1])
	var fe *fields.Error
	if !errors.As(err, &fe) || fe.Column != "ja" || fe.Field != "allTypes.JA" {
		t.Errorf("NaN in JSON: %v does not name column ja and field allTypes.JA", err)
	}
}

// TestYearZeroRoundTrip: the servers store DATETIME and DATE values in
// year 0 (0000-01-10), so such a value read back is written back, under
// both protocols and parseTime settings.
func TestYearZeroRoundTrip(t *testing.T) {
	type yearZero struct {
		ID int64     `sql:",primary"`
		T  time.Time // DATETIME(6)
		D  time.Time // DATE
	}
	for _, params := range [][]string{{"parseTime", "false"}, {"parseTime", "true", "interpolateParams", "true"}} {
		t.Run(strings.Join(params, "="), func(t *testing.T) {
			s := sqlgen.NewSchema()
			s.MustRegisterType("year_zero", sqlgen.UniqueID, yearZero{})
			conn := sqlgentest.Open(t, []string{"CREATE TABLE year_zero (id BIGINT PRIMARY KEY, t DATETIME(6) NOT NULL, d DATE NOT NULL)"}, sqlgentest.Params(params...))
			db := sqlgen.NewDB(conn, s)
			ctx := context.Background()
			in := &yearZero{ID: 1, T: time.Date(0, 1, 10, 12, 30, 0, 250000000, time.UTC), D: time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC)}
			if _, err := db.InsertRow(ctx, in); err != nil {
				t.Fatal(err)
			}
			var text string
			if err := conn.QueryRow("SELECT CAST(t AS CHAR) FROM year_zero").Scan(&text); err != nil || text != "0000-01-10 12:30:00.250000" {
				t.Fatalf("stored %q, %v", text, err)
			}
			got, err := sqlgen.Get[yearZero](ctx, db, sqlgen.Filter{"t": in.T}, nil)
			if err != nil || !got.T.Equal(in.T) || !got.D.Equal(in.D) {
				t.Fatalf("read back %+v, %v; want %+v", got, err, in)
			}
			if err := db.UpdateRow(ctx, got); err != nil {
				t.Fatalf("writing back what was read: %v", err)
			}
		})
	}
}
