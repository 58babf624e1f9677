package reliability_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type (
	rtName  string
	rtInt   int32
	rtUint  uint16
	rtFloat float64
	rtBool  bool
	rtBytes []byte
	rtTime  time.Time
)

// rtPoint is stored through encoding.BinaryMarshaler.
type rtPoint = sqlgentest.Point

// rtDoc is a JSON document with every JSON shape in it.
type rtDoc struct {
	A int64           `json:"a"`
	B string          `json:"b"`
	C []float64       `json:"c"`
	D map[string]bool `json:"d"`
	E *rtDoc          `json:"e,omitempty"`
	F []byte          `json:"f"`
	G time.Time       `json:"g"`
	H *string         `json:"h"`
	U uint64          `json:"u"`
}

// rtRow has a column of every supported kind, with and without a pointer.
type rtRow struct {
	ID      int64            `sql:"id,primary"`
	B       bool             `sql:"b"`
	BP      *bool            `sql:"b_p"`
	I       int              `sql:"i"`
	IP      *int             `sql:"i_p"`
	I8      int8             `sql:"i8"`
	I8P     *int8            `sql:"i8_p"`
	I16     int16            `sql:"i16"`
	I16P    *int16           `sql:"i16_p"`
	I32     int32            `sql:"i32"`
	I32P    *int32           `sql:"i32_p"`
	I64     int64            `sql:"i64"`
	I64P    *int64           `sql:"i64_p"`
	U       uint             `sql:"u"`
	UP      *uint            `sql:"u_p"`
	U8      uint8            `sql:"u8"`
	U8P     *uint8           `sql:"u8_p"`
	U16     uint16           `sql:"u16"`
	U16P    *uint16          `sql:"u16_p"`
	U32     uint32           `sql:"u32"`
	U32P    *uint32          `sql:"u32_p"`
	U64     uint64           `sql:"u64"`
	U64P    *uint64          `sql:"u64_p"`
	F32     float32          `sql:"f32"`
	F32P    *float32         `sql:"f32_p"`
	F64     float64          `sql:"f64"`
	F64P    *float64         `sql:"f64_p"`
	S       string           `sql:"s"`
	SP      *string          `sql:"s_p"`
	Long    string           `sql:"long_text"`
	Bytes   []byte           `sql:"bytes"`
	BytesP  *[]byte          `sql:"bytes_p"`
	T       time.Time        `sql:"t"`
	TP      *time.Time       `sql:"t_p"`
	NStr    rtName           `sql:"n_str"`
	NStrP   *rtName          `sql:"n_str_p"`
	NInt    rtInt            `sql:"n_int"`
	NUint   rtUint           `sql:"n_uint"`
	NFloat  rtFloat          `sql:"n_float"`
	NBool   rtBool           `sql:"n_bool"`
	NBytes  rtBytes          `sql:"n_bytes"`
	NTime   rtTime           `sql:"n_time"`
	NS      sql.NullString   `sql:"ns"`
	NI      sql.Null[int64]  `sql:"ni"`
	NF      sql.NullFloat64  `sql:"nf"`
	NT      sql.NullTime     `sql:"nt"`
	JStruct rtDoc            `sql:"j_struct,json"`
	JPtr    *rtDoc           `sql:"j_ptr,json"`
	JMap    map[string]int64 `sql:"j_map,json"`
	JSlice  []string         `sql:"j_slice,json"`
	JAny    any              `sql:"j_any,json"`
	JRaw    json.RawMessage  `sql:"j_raw,json"`
	Bin     rtPoint          `sql:"bin,binary"`
	BinP    *rtPoint         `sql:"bin_p,binary"`
	IPAddr  net.IP           `sql:"ip,string"`
	Addr    netip.Addr       `sql:"addr,string"`
	AddrP   *netip.Addr      `sql:"addr_p,string"`
	INStr   string           `sql:"in_s,implicitnull"`
	INInt   int64            `sql:"in_i,implicitnull"`
	INTime  time.Time        `sql:"in_t,implicitnull"`
}

const rtDDL = "CREATE TABLE rt (id BIGINT PRIMARY KEY, " +
	"b TINYINT(1) NOT NULL, b_p TINYINT(1) NULL, " +
	"i BIGINT NOT NULL, i_p BIGINT NULL, i8 TINYINT NOT NULL, i8_p TINYINT NULL, i16 SMALLINT NOT NULL, i16_p SMALLINT NULL, " +
	"i32 INT NOT NULL, i32_p INT NULL, i64 BIGINT NOT NULL, i64_p BIGINT NULL, " +
	"u BIGINT UNSIGNED NOT NULL, u_p BIGINT UNSIGNED NULL, u8 TINYINT UNSIGNED NOT NULL, u8_p TINYINT UNSIGNED NULL, " +
	"u16 SMALLINT UNSIGNED NOT NULL, u16_p SMALLINT UNSIGNED NULL, u32 INT UNSIGNED NOT NULL, u32_p INT UNSIGNED NULL, " +
	"u64 BIGINT UNSIGNED NOT NULL, u64_p BIGINT UNSIGNED NULL, " +
	"f32 FLOAT NOT NULL, f32_p FLOAT NULL, f64 DOUBLE NOT NULL, f64_p DOUBLE NULL, " +
	"s VARCHAR(255) NOT NULL, s_p VARCHAR(255) NULL, long_text TEXT NOT NULL, " +
	"bytes VARBINARY(255) NULL, bytes_p VARBINARY(255) NULL, t DATETIME(6) NOT NULL, t_p DATETIME(6) NULL, " +
	"n_str VARCHAR(64) NOT NULL, n_str_p VARCHAR(64) NULL, n_int INT NOT NULL, n_uint SMALLINT UNSIGNED NOT NULL, " +
	"n_float DOUBLE NOT NULL, n_bool TINYINT(1) NOT NULL, n_bytes VARBINARY(64) NULL, n_time DATETIME(6) NOT NULL, " +
	"ns VARCHAR(255) NULL, ni BIGINT NULL, nf DOUBLE NULL, nt DATETIME(6) NULL, " +
	"j_struct JSON NULL, j_ptr JSON NULL, j_map JSON NULL, j_slice JSON NULL, j_any JSON NULL, j_raw JSON NULL, " +
	"bin VARBINARY(8) NULL, bin_p VARBINARY(8) NULL, ip VARCHAR(45) NULL, addr VARCHAR(64) NULL, addr_p VARCHAR(64) NULL, " +
	"in_s VARCHAR(255) NULL, in_i BIGINT NULL, in_t DATETIME(6) NULL" +
	") CHARACTER SET utf8mb4"

// gen draws random values with a bias to the edges: zero, minimum,
// maximum, empty, NULL, the longest value that fits.
type gen struct {
	r         *rand.Rand
	zeroDates bool // the server takes '0000-00-00' (no NO_ZERO_DATE)
}

func (g *gen) pct(p int) bool { return g.r.IntN(100) < p }

// signed returns an integer of the given width, often an edge.
func (g *gen) signed(bits int) int64 {
	lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
	switch n := g.r.IntN(100); {
	case n < 12:
		return 0
	case n < 20:
		return lo
	case n < 28:
		return hi
	case n < 33:
		return []int64{-1, 1, lo + 1, hi - 1}[g.r.IntN(4)]
	}
	// A random width, so small values are common too.
	w := 1 + g.r.IntN(bits)
	v := int64(g.r.Uint64() >> (64 - w))
	if g.pct(50) {
		v = -v
	}
	return min(max(v, lo), hi)
}

func (g *gen) unsigned(bits int) uint64 {
	hi := uint64(math.MaxUint64) >> (64 - bits)
	switch n := g.r.IntN(100); {
	case n < 12:
		return 0
	case n < 24:
		return hi
	case n < 30:
		return []uint64{1, hi - 1, hi >> 1, hi>>1 + 1}[g.r.IntN(4)]
	}
	return g.r.Uint64() >> (64 - (1 + g.r.IntN(bits)))
}

func (g *gen) float64() float64 {
	switch n := g.r.IntN(100); {
	case n < 10:
		return 0
	case n < 13:
		return math.Copysign(0, -1)
	case n < 18:
		return math.MaxFloat64
	case n < 23:
		return -math.MaxFloat64
	case n < 28:
		return math.SmallestNonzeroFloat64
	case n < 40:
		return float64(g.signed(53)) / 1024
	}
	for {
		if f := math.Float64frombits(g.r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

func (g *gen) float32() float32 {
	switch n := g.r.IntN(100); {
	case n < 10:
		return 0
	case n < 15:
		return math.MaxFloat32
	case n < 20:
		return -math.MaxFloat32
	case n < 25:
		return math.SmallestNonzeroFloat32
	}
	for {
		if f := math.Float32frombits(g.r.Uint32()); !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
			return f
		}
	}
}

// runePools are the characters strings are made of: ASCII with the
// characters SQL and JSON care about, control characters and NUL, Latin,
// CJK, 4-byte emoji and joiners, combining marks, direction overrides,
// U+FFFD and the largest code points.
var runePools = [][]rune{
	[]rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "),
	[]rune("'\"`\\;%_-#/*?$:@<>&{}[],.!|^~()=+"),
	{0, '\t', '\n', '\r', 0x1a, 0x7f, 0x01, 0x1b},
	[]rune("éèüßñøåÆŒçÇ"),
	[]rune("長い文字列漢字テスト한국어"),
	[]rune("🎉👨👩👧🏳️‍🌈😀𝔘𝄞"),
	{0x200d, 0x200b, 0xfe0f, 0x0301, 0x0308, 0x202e, 0x202c, 0x2028, 0x2029, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x10ffff, 0x10000, 0xd7ff, 0xe000},
}

// str returns a valid UTF-8 string of at most maxRunes characters.
func (g *gen) str(maxRunes int) string {
	var n int
	switch p := g.r.IntN(100); {
	case p < 10:
		return ""
	case p < 20:
		n = maxRunes
	case p < 70:
		n = 1 + g.r.IntN(min(maxRunes, 24))
	default:
		n = 1 + g.r.IntN(maxRunes)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		pool := runePools[g.r.IntN(len(runePools))]
		b.WriteRune(pool[g.r.IntN(len(pool))])
	}
	return b.String()
}

// longText returns a string for a TEXT column (at most 65535 bytes),
// sometimes exactly that long.
func (g *gen) longText() string {
	switch n := g.r.IntN(100); {
	case n < 3:
		return strings.Repeat("x", 65535)
	case n < 6:
		var b strings.Builder
		for {
			s := g.str(64)
			if b.Len()+len(s) > 65535 {
				break
			}
			b.WriteString(s)
		}
		return b.String()
	}
	return g.str(300)
}

func (g *gen) bytes(max int) []byte {
	switch n := g.r.IntN(100); {
	case n < 10:
		return nil
	case n < 20:
		return []byte{}
	case n < 30:
		b := make([]byte, max) // the longest that fits
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return b
	}
	b := make([]byte, 1+g.r.IntN(max))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

var (
	minDatetime = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDatetime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// datetime returns a time that DATETIME(6) holds exactly: UTC, whole
// microseconds, from 1000-01-01 to 9999-12-31.
func (g *gen) datetime() time.Time {
	switch n := g.r.IntN(100); {
	case n < 5:
		return minDatetime
	case n < 10:
		return maxDatetime
	case n < 15 && g.zeroDates:
		return time.Time{}
	}
	span := maxDatetime.Unix() - minDatetime.Unix()
	return time.Unix(minDatetime.Unix()+g.r.Int64N(span), int64(g.r.IntN(1e6))*1000).UTC()
}

func (g *gen) doc(depth int) rtDoc {
	d := rtDoc{A: g.signed(64), B: g.str(40), U: g.unsigned(64)}
	if g.pct(80) {
		d.C = make([]float64, g.r.IntN(5))
		for i := range d.C {
			d.C[i] = g.float64()
		}
	}
	if g.pct(70) {
		d.D = map[string]bool{}
		for i := g.r.IntN(4); i > 0; i-- {
			d.D[g.str(12)] = g.pct(50)
		}
	}
	if depth < 2 && g.pct(30) {
		e := g.doc(depth + 1)
		d.E = &e
	}
	d.F = g.bytes(32)
	// JSON keeps any instant and offset, to the nanosecond.
	d.G = time.Unix(g.r.Int64N(1<<35)-1<<34, g.r.Int64N(1e9)).In(time.FixedZone("", (g.r.IntN(48)-24)*1800))
	if g.pct(50) {
		s := g.str(20)
		d.H = &s
	}
	return d
}

// jsonValue returns a value as sqlgen decodes it into an any: the shapes
// of encoding/json, with numbers as json.Number (exact).
func (g *gen) jsonValue(depth int) any {
	n := g.r.IntN(100)
	if depth >= 3 {
		n = 40 + g.r.IntN(60) // scalars only
	}
	switch {
	case n < 20:
		m := map[string]any{}
		for i := g.r.IntN(5); i > 0; i-- {
			m[g.str(10)] = g.jsonValue(depth + 1)
		}
		return m
	case n < 40:
		s := make([]any, g.r.IntN(5))
		for i := range s {
			s[i] = g.jsonValue(depth + 1)
		}
		return s
	case n < 60:
		return g.str(30)
	case n < 80:
		b, _ := json.Marshal(g.float64())
		return json.Number(b)
	case n < 90:
		return g.pct(50)
	}
	return nil
}

func (g *gen) ip() net.IP {
	switch n := g.r.IntN(100); {
	case n < 10:
		return nil
	case n < 50:
		return net.IPv4(byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32()))
	}
	b := make(net.IP, 16)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *gen) addr() netip.Addr {
	switch n := g.r.IntN(100); {
	case n < 10:
		return netip.Addr{}
	case n < 50:
		return netip.AddrFrom4([4]byte{byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32())})
	}
	var b [16]byte
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	a := netip.AddrFrom16(b)
	if g.pct(20) {
		a = a.WithZone("eth" + fmt.Sprint(g.r.IntN(10)))
	}
	return a
}

// ptr returns &v, or nil one time in five.
func ptr[T any](g *gen, v T) *T {
	if g.pct(20) {
		return nil
	}
	return &v
}

// row returns a random row with key id.
func (g *gen) row(id int64) *rtRow {
	r := &rtRow{
		ID: id, B: g.pct(50), BP: ptr(g, g.pct(50)),
		I: int(g.signed(64)), IP: ptr(g, int(g.signed(64))),
		I8: int8(g.signed(8)), I8P: ptr(g, int8(g.signed(8))),
		I16: int16(g.signed(16)), I16P: ptr(g, int16(g.signed(16))),
		I32: int32(g.signed(32)), I32P: ptr(g, int32(g.signed(32))),
		I64: g.signed(64), I64P: ptr(g, g.signed(64)),
		U: uint(g.unsigned(64)), UP: ptr(g, uint(g.unsigned(64))),
		U8: uint8(g.unsigned(8)), U8P: ptr(g, uint8(g.unsigned(8))),
		U16: uint16(g.unsigned(16)), U16P: ptr(g, uint16(g.unsigned(16))),
		U32: uint32(g.unsigned(32)), U32P: ptr(g, uint32(g.unsigned(32))),
		U64: g.unsigned(64), U64P: ptr(g, g.unsigned(64)),
		F32: g.float32(), F32P: ptr(g, g.float32()),
		F64: g.float64(), F64P: ptr(g, g.float64()),
		S: g.str(255), SP: ptr(g, g.str(255)), Long: g.longText(),
		Bytes: g.bytes(255),
		T:     g.datetime(), TP: ptr(g, g.datetime()),
		NStr: rtName(g.str(64)), NStrP: ptr(g, rtName(g.str(64))),
		NInt: rtInt(g.signed(32)), NUint: rtUint(g.unsigned(16)), NFloat: rtFloat(g.float64()), NBool: rtBool(g.pct(50)),
		NBytes: rtBytes(g.bytes(64)), NTime: rtTime(g.datetime()),
		JStruct: g.doc(0), JPtr: ptr(g, g.doc(0)),
		Bin: rtPoint{X: int32(g.signed(32)), Y: int32(g.signed(32))}, BinP: ptr(g, rtPoint{X: int32(g.signed(32)), Y: int32(g.signed(32))}),
		IPAddr: g.ip(), Addr: g.addr(), AddrP: ptr(g, g.addr()),
	}
	if b := g.bytes(255); b != nil {
		// A pointer to a nil slice is written as NULL and reads back as a
		// nil pointer (both mean NULL); only non-nil slices are drawn here.
		r.BytesP = ptr(g, b)
	}
	if g.pct(80) {
		r.NS = sql.NullString{String: g.str(255), Valid: true}
	}
	if g.pct(80) {
		r.NI = sql.Null[int64]{V: g.signed(64), Valid: true}
	}
	if g.pct(80) {
		r.NF = sql.NullFloat64{Float64: g.float64(), Valid: true}
	}
	if g.pct(80) {
		r.NT = sql.NullTime{Time: g.datetime(), Valid: true}
	}
	if g.pct(85) {
		r.JMap = map[string]int64{}
		for i := g.r.IntN(6); i > 0; i-- {
			r.JMap[g.str(16)] = g.signed(64)
		}
	}
	if g.pct(85) {
		r.JSlice = make([]string, g.r.IntN(6))
		for i := range r.JSlice {
			r.JSlice[i] = g.str(30)
		}
	}
	if g.pct(85) {
		r.JAny = g.jsonValue(0)
	}
	if g.pct(85) {
		raw, err := json.Marshal(g.jsonValue(0))
		if err != nil {
			panic(err)
		}
		r.JRaw = raw
	}
	if g.pct(70) {
		r.INStr = g.str(255)
	}
	if g.pct(70) {
		r.INInt = g.signed(64)
	}
	if g.pct(70) {
		r.INTime = g.datetime()
		if r.INTime.IsZero() {
			r.INTime = minDatetime
		}
	}
	return r
}

// rtCompare is how rows compare: times by instant (time.Time's Equal),
// byte slices byte for byte, netip.Addr with ==, and float32 exactly or, over
// the text protocol, to the 6 significant digits MySQL sends (see
// TestFloat32ReadsExactly).
func rtCompare(textProtocol bool) cmp.Options {
	opts := cmp.Options{
		// Byte slices, and the named types of them (rtBytes, RawMessage,
		// net.IP), whole (nil and empty differ), not byte by byte, which
		// is slow under -race.
		cmp.Comparer(func(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b rtTime) bool { return time.Time(a).Equal(time.Time(b)) }),
	}
	if textProtocol {
		opts = append(opts, cmp.Comparer(func(a, b float32) bool {
			if a == b {
				return true
			}
			d := math.Abs(float64(a) - float64(b))
			return d <= 5e-6*math.Abs(float64(a)) || d <= 1e-44
		}))
	}
	return opts
}

// TestRoundTripProperty writes random rows holding every supported
// column type (bool, every int and uint width, float32/64, string, long
// TEXT, []byte, time.Time, named types of each, sql.NullString,
// sql.Null[int64], sql.NullFloat64, sql.NullTime, JSON structs, pointers,
// maps, slices, any and RawMessage, a BinaryMarshaler, net.IP and
// netip.Addr as text, implicitnull fields), with and without pointers,
// biased to the edges (zero, minimum, maximum, empty, NULL, unicode,
// the longest value that fits), and reads each back equal (go-cmp):
// most in batches (InsertRows, then Query with an IN filter), a tenth one
// by one (InsertRow and QueryRow), and those rewritten with new values by
// UpdateRow. It runs over the binary protocol and over the text protocol
// with parseTime=true. SQLGEN_ROUNDTRIP_N sets the rows per protocol;
// SQLGEN_SEED replays a run.
func TestRoundTripProperty(t *testing.T) {
	n := envInt(t, "SQLGEN_ROUNDTRIP_N", 1200)
	seed := testSeed(t)
	variants := []dsnVariant{
		{"prepared", nil},
		{"interpolate+parseTime", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true", "parseTime", "true")}},
	}
	var rowsChecked, valuesChecked, mismatches int
	for vi, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			conn := sqlgentest.Open(t, []string{rtDDL}, v.opts...)
			s := sqlgen.NewSchema()
			if err := s.RegisterType("rt", sqlgen.UniqueID, rtRow{}); err != nil {
				t.Fatal(err)
			}
			cols, err := s.Columns("rt")
			if err != nil {
				t.Fatal(err)
			}
			db := sqlgen.NewDB(conn, s)
			ctx := context.Background()
			mode := sqlMode(t, conn)
			g := &gen{r: rand.New(rand.NewPCG(seed, uint64(vi))), zeroDates: !strings.Contains(mode, "NO_ZERO_DATE")}
			if vi == 0 {
				figure(t, "server", strings.ReplaceAll(serverVersion(t, conn), " ", "_"))
				figure(t, "sql_mode", mode)
			}
			opts := rtCompare(v.name != "prepared")
			failures := 0
			check := func(how string, want, got *rtRow) {
				rowsChecked++
				valuesChecked += len(cols)
				if cmp.Equal(want, got, opts) {
					return
				}
				mismatches++
				if failures++; failures <= 5 {
					t.Errorf("%s: row %d differs (-wrote +read; seed %d):\n%s", how, want.ID, seed, cmp.Diff(want, got, opts))
				}
			}

			// Batches: InsertRows, then Query by IN lists of 500 keys.
			want := make([]*rtRow, n)
			for i := range want {
				want[i] = g.row(int64(i + 1))
			}
			if err := db.InsertRows(ctx, want, 100); err != nil {
				t.Fatalf("InsertRows (seed %d): %v", seed, err)
			}
			for start := 0; start < n; start += 500 {
				end := min(start+500, n)
				ids := make([]int64, 0, end-start)
				for _, r := range want[start:end] {
					ids = append(ids, r.ID)
				}
				got, err := sqlgen.Select[rtRow](ctx, db, sqlgen.Filter{"id": ids}, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}})
				if err != nil {
					t.Fatalf("Query (seed %d): %v", seed, err)
				}
				if len(got) != end-start {
					t.Fatalf("Query of %d keys returned %d rows", end-start, len(got))
				}
				for i, r := range got {
					check("InsertRows+Query", want[start+i], r)
				}
			}

			// One by one: InsertRow and QueryRow, then UpdateRow with new
			// values and QueryRow again.
			for i := 0; i < max(n/10, 1); i++ {
				w := g.row(int64(n + 1 + i))
				if _, err := db.InsertRow(ctx, w); err != nil {
					t.Fatalf("InsertRow of row %d (seed %d): %v", w.ID, seed, err)
				}
				got, err := sqlgen.Get[rtRow](ctx, db, sqlgen.Filter{"id": w.ID}, nil)
				if err != nil {
					t.Fatalf("QueryRow of row %d: %v", w.ID, err)
				}
				check("InsertRow+QueryRow", w, got)
				w2 := g.row(w.ID)
				if err := db.UpdateRow(ctx, w2); err != nil {
					t.Fatalf("UpdateRow of row %d (seed %d): %v", w.ID, seed, err)
				}
				if got, err = sqlgen.Get[rtRow](ctx, db, sqlgen.Filter{"id": w.ID}, nil); err != nil {
					t.Fatalf("QueryRow of row %d: %v", w.ID, err)
				}
				check("UpdateRow+QueryRow", w2, got)
			}
			if failures > 5 {
				t.Errorf("... and %d more rows differ", failures-5)
			}
			t.Logf("%s: %d columns per row", v.name, len(cols))
		})
	}
	figure(t, "rows_checked", rowsChecked)
	figure(t, "values_checked", valuesChecked)
	figure(t, "mismatches", mismatches)
}
