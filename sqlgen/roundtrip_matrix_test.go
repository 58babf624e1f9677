package sqlgen_test

// The differential round-trip matrix: every supported Go type, in a column
// of a matching type, under every DSN setting that changes how values
// travel (parseTime on and off, loc UTC, America/New_York and
// Asia/Kolkata, interpolateParams on and off), on every path (plain,
// WithStmtCache, WithBatching, inside a transaction). Each row is
//
//   - written through sqlgen (InsertRow);
//   - read back through sqlgen and compared with go-cmp against what was
//     written, normalised by rules written here, independently of the
//     library (times: the same instant, to the microsecond, in UTC; JSON
//     numbers in interfaces: json.Number; ...);
//   - read through plain database/sql on a reference connection (no
//     parseTime, loc UTC), and the stored text of the columns whose form
//     is the point (times, big unsigned integers, JSON numbers and raw
//     documents) compared with what the value means: a DSN's loc must not
//     change what is stored;
//   - written back unchanged (UpdateRow) and compared again, then written
//     with one column changed, which must take (the key holds a time with
//     nanoseconds, which must still match the stored row);
//   - found by a Filter on its key and each filterable column, with the
//     value as it was written (a time in another zone, with nanoseconds),
//     and not found with another value; the Tester agrees with the server
//     on each;
//   - deleted (DeleteRow), which must take.

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type mxRole string
type mxLevel int8
type mxStamp time.Time

// mxUUID is shaped like github.com/google/uuid.UUID: a byte array with
// Scan and Value methods.
type mxUUID [16]byte

func (u mxUUID) Value() (driver.Value, error) { return u[:], nil }
func (u *mxUUID) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok || len(b) != 16 {
		return fmt.Errorf("mxUUID: cannot scan %T of length %d", src, len(b))
	}
	copy(u[:], b)
	return nil
}

// mxWhen is a user's own Scanner/Valuer around a time.Time: its Value
// returns a time.Time, which sqlgen must send as UTC text too, and its
// Scan receives what the driver gives.
type mxWhen struct{ T time.Time }

func (w mxWhen) Value() (driver.Value, error) { return w.T, nil }
func (w *mxWhen) Scan(src any) error {
	switch x := src.(type) {
	case time.Time:
		w.T = x
	case []byte:
		t, err := time.Parse("2006-01-02 15:04:05.999999", string(x))
		if err != nil {
			return err
		}
		w.T = t
	default:
		return fmt.Errorf("mxWhen: cannot scan %T", src)
	}
	return nil
}

// mxPoint is stored through encoding.BinaryMarshaler.
type mxPoint struct{ X, Y int16 }

func (p mxPoint) MarshalBinary() ([]byte, error) {
	return []byte{byte(p.X >> 8), byte(p.X), byte(p.Y >> 8), byte(p.Y)}, nil
}
func (p *mxPoint) UnmarshalBinary(b []byte) error {
	if len(b) != 4 {
		return fmt.Errorf("mxPoint: %d bytes", len(b))
	}
	p.X, p.Y = int16(b[0])<<8|int16(b[1]), int16(b[2])<<8|int16(b[3])
	return nil
}

type mxDoc struct {
	Name  string         `json:"name"`
	N     int64          `json:"n"`
	Big   uint64         `json:"big"`
	F     float64        `json:"f"`
	When  time.Time      `json:"when"`
	Tags  []string       `json:"tags"`
	Extra map[string]any `json:"extra,omitempty"`
}

type mxRow struct {
	ID    int64     `sql:",primary"`
	At    time.Time `sql:",primary"` // DATETIME(6) key, written with nanoseconds
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	I     int
	U8    uint8
	U16   uint16
	U32   uint32
	U64   uint64
	U     uint
	F32   float32
	F64   float64
	B     bool
	S     string
	Txt   string
	Bs    []byte
	Blob  []byte
	T     time.Time // DATETIME(6)
	TS    time.Time // TIMESTAMP(6)
	D     time.Time // DATE
	TP    *time.Time
	NT    sql.NullTime
	NG    sql.Null[time.Time]
	TI    time.Time `sql:",implicitnull"`
	Named mxStamp
	VT    mxWhen
	PS    *string
	PI    *int64
	PU    *uint64
	NS    sql.NullString
	NI    sql.NullInt64
	NF    sql.NullFloat64
	NB    sql.NullBool
	N64   sql.Null[int64]
	IS    string `sql:",implicitnull"`
	II    int64  `sql:",implicitnull"`
	Role  mxRole
	Lvl   mxLevel
	JS    mxDoc           `sql:",json"`
	JP    *mxDoc          `sql:",json"`
	JM    map[string]any  `sql:",json"`
	JL    []any           `sql:",json"`
	JA    any             `sql:",json"`
	JR    json.RawMessage `sql:",json"`
	JArr  [2]int          `sql:",json"`
	UUID  mxUUID
	Hash  [32]byte   `sql:",binary"`
	BinB  []byte     `sql:",binary"`
	StrB  []byte     `sql:",string"`
	IP    netip.Addr `sql:",string"`
	Pt    mxPoint    `sql:",binary"`
}

const mxDDL = "CREATE TABLE mx (" +
	"id BIGINT NOT NULL, at DATETIME(6) NOT NULL, " +
	"i8 TINYINT NOT NULL, i16 SMALLINT NOT NULL, i32 INT NOT NULL, i64 BIGINT NOT NULL, i BIGINT NOT NULL, " +
	"u8 TINYINT UNSIGNED NOT NULL, u16 SMALLINT UNSIGNED NOT NULL, u32 INT UNSIGNED NOT NULL, " +
	"u64 BIGINT UNSIGNED NOT NULL, u BIGINT UNSIGNED NOT NULL, " +
	"f32 FLOAT NOT NULL, f64 DOUBLE NOT NULL, b TINYINT(1) NOT NULL, " +
	"s VARCHAR(255) NOT NULL, txt TEXT NOT NULL, bs VARBINARY(255) NULL, `blob` BLOB NULL, " +
	"t DATETIME(6) NOT NULL, ts TIMESTAMP(6) NOT NULL DEFAULT '2000-01-01 00:00:00', d DATE NOT NULL, " +
	"tp DATETIME(6) NULL, nt DATETIME(6) NULL, ng DATETIME(6) NULL, ti DATETIME(6) NULL, " +
	"named DATETIME(6) NOT NULL, vt DATETIME(6) NOT NULL, " +
	"ps VARCHAR(255) NULL, pi BIGINT NULL, pu BIGINT UNSIGNED NULL, " +
	"ns VARCHAR(255) NULL, ni BIGINT NULL, nf DOUBLE NULL, nb TINYINT(1) NULL, n64 BIGINT NULL, " +
	"`is` VARCHAR(255) NULL, ii BIGINT NULL, role VARCHAR(32) NOT NULL, lvl TINYINT NOT NULL, " +
	"js JSON NOT NULL, jp JSON NULL, jm JSON NULL, jl JSON NULL, ja JSON NULL, jr JSON NULL, j_arr JSON NOT NULL, " +
	"uuid BINARY(16) NOT NULL, hash BINARY(32) NOT NULL, bin_b VARBINARY(255) NULL, str_b BLOB NULL, " +
	"ip VARCHAR(45) NOT NULL, pt VARBINARY(4) NOT NULL, " +
	"PRIMARY KEY (id, at))"

var (
	mxNY      = mustLoc("America/New_York")
	mxKolkata = mustLoc("Asia/Kolkata")
)

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// mxRows are the two value sets of the matrix, for the cell's id.
func mxRows(id int64) []*mxRow {
	a := &mxRow{
		ID: id,
		// 02:30 UTC on 2024-03-10: a wall clock America/New_York skips
		// (DST), with nanoseconds the server cannot hold.
		At: time.Date(2024, 3, 10, 2, 30, 0, 123456789, time.UTC),
		I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MaxInt64, I: math.MinInt64,
		U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64, U: 1<<63 + 5,
		F32: 1.1, F64: -0.1, B: true,
		S: "héllo 'q' \"d\" \\ 😀", Txt: strings.Repeat("long text ", 30),
		Bs: []byte{0, 0xff, '\'', '\\', '"'}, Blob: bytes.Repeat([]byte{0xfe, 0}, 100),
		// 01:30 on the day New York falls back: a wall clock it has twice.
		T:     time.Date(2024, 11, 3, 1, 30, 0, 999999999, mxNY),
		TS:    time.Date(2030, 1, 2, 3, 4, 5, 600000, mxKolkata),
		D:     time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		TP:    ptr(time.Date(1999, 12, 31, 23, 59, 59, 999999000, mxKolkata)),
		NT:    sql.NullTime{Time: time.Date(2024, 3, 10, 7, 30, 0, 1000, mxNY), Valid: true},
		NG:    sql.Null[time.Time]{V: time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC), Valid: true},
		TI:    time.Date(2001, 2, 3, 4, 5, 6, 7, mxNY),
		Named: mxStamp(time.Date(2024, 3, 10, 2, 59, 59, 999999000, time.UTC)),
		VT:    mxWhen{T: time.Date(2024, 3, 10, 2, 0, 0, 0, time.UTC)},
		PS:    ptr(""), PI: ptr(int64(0)), PU: ptr(uint64(math.MaxUint64)),
		NS: sql.NullString{String: "ns", Valid: true}, NI: sql.NullInt64{Int64: -7, Valid: true},
		NF: sql.NullFloat64{Float64: 2.5, Valid: true}, NB: sql.NullBool{Bool: false, Valid: true},
		N64: sql.Null[int64]{V: math.MinInt64, Valid: true},
		IS:  "x", II: 42, Role: "admin", Lvl: -3,
		JS: mxDoc{Name: "a<b>&c \u00e9", N: math.MinInt64, Big: math.MaxUint64, F: 0.1,
			When: time.Date(2024, 1, 2, 3, 4, 5, 6, mxKolkata), Tags: []string{"x", ""},
			Extra: map[string]any{"big": json.Number("9007199254740993")}},
		JP: &mxDoc{Tags: []string{}},
		JM: map[string]any{"big": json.Number("9007199254740993"), "f": json.Number("1.50"), "neg": json.Number("-0"),
			"s": "\u2028<>&", "nested": []any{json.Number("18446744073709551615"), nil, true, map[string]any{}}},
		JL:   []any{json.Number("9007199254740993"), "x", []any{}, json.Number("1e2")},
		JA:   json.Number("12345678901234567890123"),
		JR:   json.RawMessage(`{"b" : [1, 2.50, "\u00e9", "\ufffd"], "a": {"n": 9007199254740993}}`),
		JArr: [2]int{-1, math.MaxInt32},
		UUID: mxUUID{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
		Hash: [32]byte{1, 2, 3, 31: 0xff},
		BinB: []byte{0, 1, 2}, StrB: []byte("stored as bytes \x00\xff"),
		IP: netip.MustParseAddr("2001:db8::1"), Pt: mxPoint{-1, 300},
	}
	b := &mxRow{
		ID:  id + 1,
		At:  time.Date(2024, 6, 1, 12, 0, 0, 1, mxKolkata), // 1 ns: truncated to a whole second
		F32: -0, F64: math.MaxFloat64, S: "", Txt: "",
		Bs: []byte{}, Blob: nil,
		T:     time.Time{}, // the zero time: 0000-00-00
		TS:    time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		D:     time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		Named: mxStamp(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)),
		VT:    mxWhen{T: time.Date(2038, 1, 19, 3, 14, 7, 499999000, mxKolkata)},
		NT:    sql.NullTime{}, NG: sql.Null[time.Time]{},
		IS: "", II: 0, Role: "", Lvl: 0,
		U64: 1 << 63,
		JS:  mxDoc{},
		// A typed nil in an interface: NULL, found by IS NULL.
		JA:   (*mxDoc)(nil),
		JArr: [2]int{},
		IP:   netip.MustParseAddr("10.0.0.1"),
	}
	return []*mxRow{a, b}
}

// mxWant is what reading w back must give, by the documented rules,
// worked out here without the library.
func mxWant(w *mxRow) *mxRow {
	r := *w
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC().Truncate(time.Microsecond)
	}
	r.At, r.T, r.TS, r.TI = utc(w.At), utc(w.T), utc(w.TS), utc(w.TI)
	y, m, d := w.D.UTC().Date()
	r.D = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if w.TP != nil {
		r.TP = ptr(utc(*w.TP))
	}
	if w.NT.Valid {
		r.NT.Time = utc(w.NT.Time)
	}
	if w.NG.Valid {
		r.NG.V = utc(w.NG.V)
	}
	r.Named = mxStamp(utc(time.Time(w.Named)))
	r.VT.T = utc(w.VT.T)
	if w.Blob != nil && len(w.Blob) == 0 {
		r.Blob = []byte{}
	}
	// JSON: read back as encoding/json decodes the stored text, with
	// numbers in interfaces as json.Number; a typed nil is NULL, so nil.
	reencode := func(v any, into any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(into); err != nil {
			panic(err)
		}
	}
	var js mxDoc
	reencode(w.JS, &js)
	r.JS = js
	if w.JP != nil {
		var jp mxDoc
		reencode(w.JP, &jp)
		r.JP = &jp
	}
	if w.JM != nil {
		r.JM = nil
		reencode(w.JM, &r.JM)
	}
	if w.JL != nil {
		r.JL = nil
		reencode(w.JL, &r.JL)
	}
	if rv := reflect.ValueOf(w.JA); w.JA != nil && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		r.JA = nil
		reencode(w.JA, &r.JA)
	} else {
		r.JA = nil
	}
	return &r
}

// mxStored is the text the reference connection must read for the
// columns whose stored form is the point: every time as the UTC wall
// clock to the microsecond (DATETIME(6) and TIMESTAMP(6) with six
// digits, DATE without a time), the zero time as zeros, big unsigned
// integers exactly, JSON numbers exactly, a json.RawMessage byte for
// byte. A nil entry is NULL.
func mxStored(w *mxRow) map[string]*string {
	dt := func(t time.Time) *string {
		if t.IsZero() {
			return ptr("0000-00-00 00:00:00.000000")
		}
		return ptr(t.UTC().Format("2006-01-02 15:04:05.000000"))
	}
	m := map[string]*string{
		"at": dt(w.At), "t": dt(w.T), "ts": dt(w.TS), "d": ptr(w.D.UTC().Format("2006-01-02")),
		"named": dt(time.Time(w.Named)), "vt": dt(w.VT.T),
		"u64": ptr(strconv.FormatUint(w.U64, 10)), "u": ptr(strconv.FormatUint(uint64(w.U), 10)),
		"tp": nil, "nt": nil, "ng": nil, "ti": nil, "jr": nil,
	}
	if w.TP != nil {
		m["tp"] = dt(*w.TP)
	}
	if w.NT.Valid {
		m["nt"] = dt(w.NT.Time)
	}
	if w.NG.Valid {
		m["ng"] = dt(w.NG.V)
	}
	if !w.TI.IsZero() {
		m["ti"] = dt(w.TI)
	}
	if w.JR != nil {
		m["jr"] = ptr(string(w.JR)) // MariaDB keeps a JSON column's text
	}
	return m
}

// mxVariant is one DSN setting of the matrix.
type mxVariant struct {
	name        string
	parseTime   bool
	loc         *time.Location
	interpolate bool
}

func mxVariants() []mxVariant {
	var out []mxVariant
	for _, pt := range []bool{false, true} {
		for _, loc := range []*time.Location{time.UTC, mxNY, mxKolkata} {
			for _, ip := range []bool{false, true} {
				out = append(out, mxVariant{
					name:      fmt.Sprintf("parseTime=%v,loc=%s,interpolateParams=%v", pt, loc, ip),
					parseTime: pt, loc: loc, interpolate: ip,
				})
			}
		}
	}
	return out
}

// mxOpen opens a pool on dsn (the test database) with the variant's
// settings. Every pool sets the session time_zone to UTC, as README
// recommends for TIMESTAMP columns (the server converts them from and to
// the session's zone).
func mxOpen(t *testing.T, dsn string, v mxVariant) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime, cfg.Loc, cfg.InterpolateParams = v.parseTime, v.loc, v.interpolate
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var mxCmp = cmp.Options{
	// Times: the same instant, and in UTC as README promises.
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.Location().String() == b.Location().String() }),
	cmp.Comparer(func(a, b mxStamp) bool {
		return time.Time(a).Equal(time.Time(b)) && time.Time(a).Location().String() == time.Time(b).Location().String()
	}),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
}

func TestRoundTripMatrix(t *testing.T) {
	t.Parallel()
	dsn := sqlgentest.NewDatabase(t)
	ref := mxOpen(t, dsn, mxVariant{loc: time.UTC})
	sqlgentest.Exec(t, ref, mxDDL)
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("mx", sqlgen.UniqueID, mxRow{})
	cols, err := schema.Columns("mx")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"plain", "stmtcache", "batching", "tx"}
	var nextID atomic.Int64
	for _, v := range mxVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := mxOpen(t, dsn, v)
			for _, path := range paths {
				t.Run(path, func(t *testing.T) {
					var opts []sqlgen.Option
					if path == "stmtcache" {
						opts = append(opts, sqlgen.WithStmtCache(64))
					}
					db := sqlgen.NewDB(conn, schema, opts...)
					if path == "stmtcache" {
						t.Cleanup(func() { db.Close() })
					}
					ctx := context.Background()
					if path == "batching" {
						ctx = sqlgen.WithBatching(ctx, sqlgen.BatchWindow(time.Millisecond))
					}
					id := nextID.Add(10) * 10
					// Plain database/sql reads of the stored text go to
					// the reference connection, or to the transaction.
					var rawQ interface {
						QueryRowContext(context.Context, string, ...any) *sql.Row
					} = ref
					var tx *sql.Tx
					if path == "tx" {
						var err error
						if ctx, tx, err = db.WithTx(ctx); err != nil {
							t.Fatal(err)
						}
						defer tx.Rollback()
						rawQ = tx
					}
					for _, w := range mxRows(id) {
						mxCell(t, ctx, db, rawQ, cols, w)
					}
					if tx != nil {
						if err := tx.Commit(); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// mxCell runs one row through the matrix's steps.
func mxCell(t *testing.T, ctx context.Context, db *sqlgen.DB, ref rawQuerier, cols []string, w *mxRow) {
	t.Helper()
	want := mxWant(w)
	key := sqlgen.Filter{"id": w.ID}
	if _, err := db.InsertRow(ctx, w); err != nil {
		t.Fatalf("id %d: InsertRow: %v", w.ID, err)
	}
	read := func(step string) *mxRow {
		t.Helper()
		var got *mxRow
		if err := db.QueryRow(ctx, &got, key, nil); err != nil {
			t.Fatalf("id %d, %s: QueryRow: %v", w.ID, step, err)
		}
		if diff := cmp.Diff(want, got, mxCmp); diff != "" {
			t.Errorf("id %d, %s: read back differs (-want +got):\n%s", w.ID, step, diff)
		}
		return got
	}
	got := read("after InsertRow")
	mxCheckStored(t, ctx, ref, w)

	// Written back unchanged, it reads the same.
	if err := db.UpdateRow(ctx, got); err != nil {
		t.Fatalf("id %d: UpdateRow unchanged: %v", w.ID, err)
	}
	got = read("after UpdateRow of the row read")
	// Written with the original struct (nanoseconds and zones in the key).
	if err := db.UpdateRow(ctx, w); err != nil {
		t.Fatalf("id %d: UpdateRow: %v", w.ID, err)
	}
	read("after UpdateRow of the row written")
	// A change through the key with nanoseconds takes.
	changed := *w
	changed.I32++
	if err := db.UpdateRow(ctx, &changed); err != nil {
		t.Fatalf("id %d: UpdateRow changed: %v", w.ID, err)
	}
	var after *mxRow
	if err := db.QueryRow(ctx, &after, key, nil); err != nil {
		t.Fatal(err)
	}
	if after.I32 != w.I32+1 {
		t.Errorf("id %d: UpdateRow through a key of %v changed nothing (i32 %d, want %d)", w.ID, w.At, after.I32, w.I32+1)
	}
	if err := db.UpdateRow(ctx, w); err != nil {
		t.Fatal(err)
	}

	mxCheckFilters(t, ctx, db, cols, w, got)

	if err := db.DeleteRow(ctx, w); err != nil {
		t.Fatalf("id %d: DeleteRow: %v", w.ID, err)
	}
	if n, err := db.Count(ctx, &mxRow{}, key); err != nil || n != 0 {
		t.Errorf("id %d: after DeleteRow through a key of %v: Count %d, %v; want 0", w.ID, w.At, n, err)
	}
}

type rawQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// mxCheckStored reads the row's stored text with plain database/sql on the
// reference connection (no parseTime, loc UTC), or inside the
// transaction when the row was written in one (the cell's own DSN then;
// the times are read as CAST(... AS CHAR), so its parseTime does not
// apply).
func mxCheckStored(t *testing.T, ctx context.Context, ref rawQuerier, w *mxRow) {
	t.Helper()
	want := mxStored(w)
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	var sel strings.Builder
	for i, n := range names {
		if i > 0 {
			sel.WriteByte(',')
		}
		sel.WriteString("CAST(`" + n + "` AS CHAR)")
	}
	q := "SELECT " + sel.String() + " FROM mx WHERE id = " + strconv.FormatInt(w.ID, 10)
	dest := make([]sql.NullString, len(names))
	args := make([]any, len(names))
	for i := range dest {
		args[i] = &dest[i]
	}
	if err := ref.QueryRowContext(ctx, q).Scan(args...); err != nil {
		t.Fatalf("id %d: reading the stored text: %v", w.ID, err)
	}
	for i, n := range names {
		var got *string
		if dest[i].Valid {
			got = &dest[i].String
		}
		if (got == nil) != (want[n] == nil) || got != nil && *got != *want[n] {
			t.Errorf("id %d: column %s stores %s, want %s", w.ID, n, showStr(got), showStr(want[n]))
		}
	}
	// JSON numbers in interfaces are stored exactly.
	var jm, ja sql.NullString
	if err := ref.QueryRowContext(ctx, "SELECT jm, ja FROM mx WHERE id = ?", w.ID).Scan(&jm, &ja); err != nil {
		t.Fatal(err)
	}
	if w.JM != nil && !strings.Contains(jm.String, "9007199254740993") {
		t.Errorf("id %d: jm stores %q: the big integer changed", w.ID, jm.String)
	}
	if n, ok := w.JA.(json.Number); ok && ja.String != string(n) {
		t.Errorf("id %d: ja stores %q, want %s", w.ID, ja.String, n)
	}
}

func showStr(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

// mxCheckFilters finds the row by its key and by each filterable column,
// with the values as written, and checks that the Tester agrees with the
// server on each filter and on a filter with another value.
func mxCheckFilters(t *testing.T, ctx context.Context, db *sqlgen.DB, cols []string, w, read *mxRow) {
	t.Helper()
	unbuilt, err := db.Schema().UnbuildStruct("mx", w)
	if err != nil {
		t.Fatal(err)
	}
	rv := reflect.ValueOf(w).Elem()
	for i, col := range cols {
		if col == "id" {
			continue
		}
		fv := rv.Field(i).Interface() // fields are in column order
		if unbuilt[i] == nil {
			fv = nil // NULL: IS NULL (a typed nil JSON value included)
		}
		if col == "f32" && w.F32 == 0 {
			fv = float32(0) // -0 is stored as 0
		}
		mxFilterOnce(t, ctx, db, w, read, col, sqlgen.Filter{"id": w.ID, col: fv}, true)
		if other, ok := mxOther(col, fv); ok {
			mxFilterOnce(t, ctx, db, w, read, col, sqlgen.Filter{"id": w.ID, col: other}, false)
		}
	}
	// The whole key, as written, and SelectOptions.Values with a time.
	mxFilterOnce(t, ctx, db, w, read, "key", sqlgen.Filter{"id": w.ID, "at": w.At}, true)
	var rows []*mxRow
	if err := db.Query(ctx, &rows, sqlgen.Filter{"id": w.ID}, &sqlgen.SelectOptions{Where: "`at` = ? AND `nt` <=> ?", Values: []any{w.At.In(mxNY), w.NT}}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Errorf("id %d: Where `at` = ? with %v in Values found %d rows, want 1", w.ID, w.At.In(mxNY), len(rows))
	}
}

func mxFilterOnce(t *testing.T, ctx context.Context, db *sqlgen.DB, w, read *mxRow, col string, f sqlgen.Filter, want bool) {
	t.Helper()
	n, err := db.Count(ctx, &mxRow{}, f)
	if err != nil {
		t.Errorf("id %d: Count with %s = %#v: %v", w.ID, col, f[col], err)
		return
	}
	var rows []*mxRow
	if err := db.Query(ctx, &rows, f, nil); err != nil {
		t.Errorf("id %d: Query with %s = %#v: %v", w.ID, col, f[col], err)
		return
	}
	if (n == 1) != want || len(rows) != int(n) {
		t.Errorf("id %d: filter %s = %#v: Count %d, Query %d rows; want found=%v", w.ID, col, f[col], n, len(rows), want)
	}
	tester, err := db.Schema().MakeTester("mx", f)
	if err != nil {
		t.Errorf("id %d: MakeTester with %s = %#v: %v", w.ID, col, f[col], err)
		return
	}
	if got := tester.Test(read); got != want {
		t.Errorf("id %d: Tester with %s = %#v on the row read: %v, the server says %v", w.ID, col, f[col], got, want)
	}
	if got := tester.Test(w); got != want {
		t.Errorf("id %d: Tester with %s = %#v on the row written: %v, the server says %v", w.ID, col, f[col], got, want)
	}
}

// mxOther returns another value of the column's type, that the row does
// not hold.
func mxOther(col string, v any) (any, bool) {
	switch x := v.(type) {
	case int8:
		return x ^ 1, true
	case int64:
		return x ^ 1, true
	case uint64:
		return x ^ 1, true
	case string:
		return x + "~", true
	case time.Time:
		return x.Add(time.Microsecond), !x.IsZero() && col != "d"
	case []byte:
		return append(append([]byte(nil), x...), 1), true
	case map[string]any:
		return map[string]any{"other": true}, true
	case json.RawMessage:
		return json.RawMessage(`{"a":{"n":9007199254740992},"b":[1,2.5,"\u00e9","\ufffd"]}`), true // one digit off
	case json.Number:
		return json.Number("12345678901234567890122"), true
	case [2]int:
		return [2]int{x[1], x[0]}, x[0] != x[1]
	case mxUUID:
		x[15] ^= 1
		return x, true
	case [32]byte:
		x[0] ^= 1
		return x, true
	}
	return nil, false
}
