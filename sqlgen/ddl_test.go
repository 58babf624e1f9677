package sqlgen_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// ddlPrefs is a JSON-encoded struct.
type ddlPrefs struct {
	Theme string         `json:"theme"`
	Sizes []int          `json:"sizes"`
	Flags map[string]int `json:"flags,omitempty"`
}

// ddlCents has its own Scanner and Valuer, writing an int64.
type ddlCents struct{ N int64 }

func (c ddlCents) Value() (driver.Value, error) { return c.N, nil }
func (c *ddlCents) Scan(src any) error {
	switch x := src.(type) {
	case int64:
		c.N = x
	case []byte:
		_, err := fmt.Sscan(string(x), &c.N)
		return err
	case nil:
		c.N = 0
	default:
		return fmt.Errorf("ddlCents: cannot scan %T", src)
	}
	return nil
}

// ddlOpaque has its own Scanner and Valuer, and its zero value writes
// NULL, so its column type cannot be told.
type ddlOpaque struct{ S *string }

func (o ddlOpaque) Value() (driver.Value, error) {
	if o.S == nil {
		return nil, nil
	}
	return *o.S, nil
}

func (o *ddlOpaque) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		o.S = nil
	case []byte:
		s := string(x)
		o.S = &s
	case string:
		o.S = &x
	default:
		return fmt.Errorf("ddlOpaque: cannot scan %T", src)
	}
	return nil
}

type ddlLabel string

// ddlGolden is the representative struct of the golden DDL test.
type ddlGolden struct {
	ID       int64 `sql:",primary"`
	Name     string
	Email    *string
	Age      int32
	Score    float64
	Ratio    float32
	Active   bool
	Count    uint16
	Avatar   []byte
	Created  time.Time
	Deleted  *time.Time
	Prefs    ddlPrefs       `sql:",json"`
	Tags     []string       `sql:",json"`
	Nick     sql.NullString `sql:"nickname"`
	Visits   sql.Null[int64]
	Seen     sql.NullTime
	Cents    ddlCents
	Opaque   ddlOpaque
	Addr     net.IP `sql:",string"`
	Note     string `sql:",implicitnull"`
	Pos      point  `sql:",binary"`
	Label    ddlLabel
	Internal string `sql:"-"`
}

const ddlGoldenSQL = "CREATE TABLE `ddl_golden` (\n" +
	"  `id` BIGINT NOT NULL AUTO_INCREMENT,\n" +
	"  `name` VARCHAR(255) NOT NULL,\n" +
	"  `email` VARCHAR(255) NULL,\n" +
	"  `age` INT NOT NULL,\n" +
	"  `score` DOUBLE NOT NULL,\n" +
	"  `ratio` FLOAT NOT NULL,\n" +
	"  `active` TINYINT(1) NOT NULL,\n" +
	"  `count` SMALLINT UNSIGNED NOT NULL,\n" +
	"  `avatar` LONGBLOB NULL,\n" +
	"  `created` DATETIME(6) NOT NULL,\n" +
	"  `deleted` DATETIME(6) NULL,\n" +
	"  `prefs` JSON NOT NULL,\n" +
	"  `tags` JSON NULL,\n" +
	"  `nickname` VARCHAR(255) NULL,\n" +
	"  `visits` BIGINT NULL,\n" +
	"  `seen` DATETIME(6) NULL,\n" +
	"  `cents` BIGINT NULL,\n" +
	"  `opaque` LONGTEXT NULL,\n" +
	"  `addr` VARCHAR(255) NOT NULL,\n" +
	"  `note` VARCHAR(255) NULL,\n" +
	"  `pos` LONGBLOB NOT NULL,\n" +
	"  `label` VARCHAR(255) NOT NULL,\n" +
	"  PRIMARY KEY (`id`)\n" +
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

// ddlComposite has a composite key of a string and a []byte, and a
// column named by a reserved word.
type ddlComposite struct {
	Tenant string `sql:",primary"`
	Key    []byte `sql:"key,primary"`
	Order  int    `sql:"order"`
}

const ddlCompositeSQL = "CREATE TABLE `ddl_composite` (\n" +
	"  `tenant` VARCHAR(255) NOT NULL,\n" +
	"  `key` VARBINARY(255) NOT NULL,\n" +
	"  `order` BIGINT NOT NULL,\n" +
	"  PRIMARY KEY (`tenant`,`key`)\n" +
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

func TestCreateTableSQLGolden(t *testing.T) {
	t.Parallel()
	s := sqlgen.NewSchema()
	s.MustRegisterType("ddl_golden", sqlgen.AutoIncrement, ddlGolden{})
	s.MustRegisterType("ddl_composite", sqlgen.UniqueID, ddlComposite{})
	for table, want := range map[string]string{"ddl_golden": ddlGoldenSQL, "ddl_composite": ddlCompositeSQL} {
		got, err := s.CreateTableSQL(table)
		if err != nil {
			t.Fatalf("CreateTableSQL(%q): %v", table, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CreateTableSQL(%q) (-want +got):\n%s", table, diff)
		}
		again, _ := s.CreateTableSQL(table)
		if again != got {
			t.Errorf("CreateTableSQL(%q) is not deterministic", table)
		}
	}
}

func TestCreateTableSQLErrors(t *testing.T) {
	t.Parallel()
	s := sqlgen.NewSchema()
	if _, err := s.CreateTableSQL("nope"); !errors.Is(err, sqlgen.ErrNotRegistered) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unregistered table: got %v, want ErrNotRegistered naming the table", err)
	}
	type jsonKey struct {
		Doc map[string]int `sql:",json,primary"`
	}
	s.MustRegisterType("json_key", sqlgen.UniqueID, jsonKey{})
	_, err := s.CreateTableSQL("json_key")
	if !errors.Is(err, sqlgen.ErrUnsupported) || !strings.Contains(err.Error(), "jsonKey.Doc") || !strings.Contains(err.Error(), `"doc"`) {
		t.Errorf("JSON primary key: got %v, want ErrUnsupported naming the column and field", err)
	}
}

// ddlEvery has a field of every supported kind. (sql.NullTime is left
// out: its own Scan cannot read DATETIME text, so it needs parseTime=true.)
type ddlEvery struct {
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
	Label  ddlLabel
	LabelP *ddlLabel
	Bytes  []byte
	T      time.Time
	TP     *time.Time
	NS     sql.NullString
	NI     sql.Null[int64]
	NB     sql.NullBool
	NF     sql.NullFloat64
	Cents  ddlCents
	Opaque ddlOpaque
	J      ddlPrefs          `sql:",json"`
	JP     *ddlPrefs         `sql:",json"`
	JM     map[string]int    `sql:",json"`
	JS     []string          `sql:",json"`
	JR     json.RawMessage   `sql:",json"`
	JA     any               `sql:",json"`
	Pt     point             `sql:",binary"`
	Proto  fakeProto         `sql:",binary"`
	Addr   net.IP            `sql:",string"`
	INull  string            `sql:",implicitnull"`
	INullI int64             `sql:",implicitnull"`
	Extra  map[string]string `sql:"extra_json,json"`
}

func ddlPtr[T any](v T) *T { return &v }

func ddlEveryRows() []*ddlEvery {
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	return []*ddlEvery{
		{ID: 1}, // zero values, NULL pointers
		{
			ID: 2, B: true, BP: ddlPtr(true),
			I: math.MaxInt64, I8: math.MaxInt8, I16: math.MaxInt16, I32: math.MaxInt32, I64: math.MaxInt64, IP: ddlPtr(int64(math.MinInt64)),
			U: math.MaxUint64, U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64, UP: ddlPtr(uint64(math.MaxUint64)),
			F32: 1.5, F64: math.MaxFloat64, FP: ddlPtr(-0.1),
			S: "héllo, 世界 🎉 'q' \"dq\" `bt` \\", SP: ddlPtr(""), Label: "active", LabelP: ddlPtr(ddlLabel("gone")),
			Bytes: []byte{0, 1, 2, 0xff}, T: ts, TP: &ts,
			NS: sql.NullString{String: "ns", Valid: true}, NI: sql.Null[int64]{V: -7, Valid: true},
			NB: sql.NullBool{Bool: true, Valid: true}, NF: sql.NullFloat64{Float64: 2.5, Valid: true},
			Cents: ddlCents{N: 1999}, Opaque: ddlOpaque{S: ddlPtr("opaque")},
			J:  ddlPrefs{Theme: "dark", Sizes: []int{1, 2}, Flags: map[string]int{"x": 1}},
			JP: &ddlPrefs{Theme: "light", Sizes: []int{}}, JM: map[string]int{"one": 1}, JS: []string{"x", "ü"},
			JR: json.RawMessage(`{"raw":[1,2,3]}`), JA: map[string]any{"s": "x", "b": true},
			Pt: point{X: -3, Y: 4}, Proto: fakeProto{Payload: "payload"}, Addr: net.ParseIP("2001:db8::1"),
			INull: "set", INullI: 42, Extra: map[string]string{},
		},
		{
			ID: 3, I: math.MinInt64, I8: math.MinInt8, I16: math.MinInt16, I32: math.MinInt32, I64: math.MinInt64,
			U64: 1 << 63, F32: -2.25, F64: -math.SmallestNonzeroFloat64, S: strings.Repeat("長", 255),
			Bytes: []byte{}, T: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			JS: []string{}, JM: map[string]int{}, JA: []any{true, nil, "x"}, Addr: net.ParseIP("10.0.0.1").To4(),
		},
	}
}

// ddlVariants are the driver settings the round trip runs under. The zero
// DATETIME needs a sql_mode without NO_ZERO_DATE (MySQL 8's default has it).
var ddlVariants = []struct {
	name string
	opts []sqlgentest.Option
}{
	{"prepared", []sqlgentest.Option{sqlgentest.Params("sql_mode", "'STRICT_ALL_TABLES'")}},
	{"interpolate+parseTime", []sqlgentest.Option{sqlgentest.Params("sql_mode", "'STRICT_ALL_TABLES'", "interpolateParams", "true", "parseTime", "true")}},
}

// TestCreateTableSQLRoundTrip creates a table with CreateTableSQL for a
// struct with every supported kind of field, and writes and reads rows of
// zero and non-zero values through it.
func TestCreateTableSQLRoundTrip(t *testing.T) {
	t.Parallel()
	s := sqlgen.NewSchema()
	s.MustRegisterType("ddl_every", sqlgen.UniqueID, ddlEvery{})
	s.MustRegisterType("ddl_golden", sqlgen.AutoIncrement, ddlGolden{})
	s.MustRegisterType("ddl_composite", sqlgen.UniqueID, ddlComposite{})
	var ddl []string
	for _, table := range []string{"ddl_every", "ddl_golden", "ddl_composite"} {
		stmt, err := s.CreateTableSQL(table)
		if err != nil {
			t.Fatal(err)
		}
		ddl = append(ddl, stmt)
	}
	for _, v := range ddlVariants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			conn := sqlgentest.Open(t, ddl, v.opts...)
			db := sqlgen.NewDB(conn, s)
			ctx := context.Background()
			for _, want := range ddlEveryRows() {
				if _, err := db.InsertRow(ctx, want); err != nil {
					t.Fatalf("InsertRow(id %d): %v", want.ID, err)
				}
				var got *ddlEvery
				if err := db.QueryRow(ctx, &got, sqlgen.Filter{"id": want.ID}, nil); err != nil {
					t.Fatalf("QueryRow(id %d): %v", want.ID, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("id %d: read back differs (-wrote +read):\n%s", want.ID, diff)
				}
			}

			// The AutoIncrement table assigns ids.
			g := &ddlGolden{Name: "ann", Created: time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC), Tags: []string{"a"}, Addr: net.ParseIP("10.1.2.3").To4()}
			if _, err := db.InsertRow(ctx, g); err != nil {
				t.Fatal(err)
			}
			if g.ID == 0 {
				t.Fatal("no AUTO_INCREMENT id written back")
			}
			var gotG *ddlGolden
			if err := db.QueryRow(ctx, &gotG, sqlgen.Filter{"id": g.ID}, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(g, gotG, cmp.Comparer(func(a, b net.IP) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("ddl_golden read back differs (-wrote +read):\n%s", diff)
			}

			// Binary key columns compare bytes exactly.
			for _, k := range [][]byte{{'a'}, {'A'}, {'a', 0}} {
				if _, err := db.InsertRow(ctx, &ddlComposite{Tenant: "t", Key: k, Order: len(k)}); err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
			}
			var gotC *ddlComposite
			if err := db.QueryRow(ctx, &gotC, sqlgen.Filter{"tenant": "t", "key": []byte{'A'}}, nil); err != nil || string(gotC.Key) != "A" {
				t.Errorf("composite key read: %v, %+v", err, gotC)
			}
		})
	}
}
