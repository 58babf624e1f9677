package fields_test

import (
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/internal/rowscan"
)

type rsLevel int16

type rsRow struct {
	I64   int64
	I32   int32
	I8    int8
	Lvl   rsLevel
	S     string
	B     bool
	F     float64
	T     time.Time
	P     *int64
	IN    string `sql:",implicitnull"`
	Bytes []byte
}

// rsScanners builds row-mode scanners for every field of rsRow.
func rsScanners(t *testing.T, row *rowscan.Row) []sql.Scanner {
	t.Helper()
	typ := reflect.TypeFor[rsRow]()
	var out []sql.Scanner
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag, err := fields.ParseTag(f.Tag.Get("sql"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := fields.NewDescriptor(f.Type, fields.Options{Table: "rs", Column: f.Name, Field: "rsRow." + f.Name, Tag: tag})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rowscan.NewScanner(d, row, f.Offset))
	}
	return out
}

func TestRowScanner(t *testing.T) {
	var row rowscan.Row
	sc := rsScanners(t, &row)
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	src := []any{int64(1 << 40), int64(-5), int64(-128), int64(300), []byte("text"), int64(1), 2.5, when, int64(9), nil, []byte{1, 2}}
	var got rsRow
	row.Set(unsafe.Pointer(&got))
	for i, s := range sc {
		if err := s.Scan(src[i]); err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
	}
	nine := int64(9)
	want := rsRow{I64: 1 << 40, I32: -5, I8: -128, Lvl: 300, S: "text", B: true, F: 2.5, T: when, P: &nine, Bytes: []byte{1, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row-mode scan (-want +got):\n%s", diff)
	}

	// The same scanners on a second struct: nothing of the first leaks.
	var second rsRow
	row.Set(unsafe.Pointer(&second))
	if err := sc[4].Scan("other"); err != nil || second.S != "other" || got.S != "text" {
		t.Errorf("second struct: %v, %q, first now %q", err, second.S, got.S)
	}
	// Out of range falls back to the reflective path, which refuses it.
	if err := sc[2].Scan(int64(200)); !errors.Is(err, fields.ErrConvert) || second.I8 != 0 {
		t.Errorf("200 into int8: %v (field %d)", err, second.I8)
	}
	// NULL: a pointer becomes nil, implicitnull the zero value, a plain
	// field an error.
	second.P = &nine
	if err := sc[8].Scan(nil); err != nil || second.P != nil {
		t.Errorf("NULL into *int64: %v, %v", err, second.P)
	}
	if err := sc[0].Scan(nil); !errors.Is(err, fields.ErrUnexpectedNull) {
		t.Errorf("NULL into int64: %v", err)
	}
	// An explicit Target wins over the row, once.
	var other rsRow
	sc[0].(*fields.Scanner).Target(reflect.ValueOf(&other).Elem().Field(0))
	if err := sc[0].Scan(int64(77)); err != nil || other.I64 != 77 || second.I64 == 77 {
		t.Errorf("explicit target: %v, other %d, row %d", err, other.I64, second.I64)
	}
	// With no struct set, Scan refuses.
	row.Set(nil)
	if err := sc[0].Scan(int64(1)); err == nil {
		t.Error("Scan with no struct succeeded")
	}
}

func TestRowScannerAllocs(t *testing.T) {
	var row rowscan.Row
	sc := rsScanners(t, &row)
	var r rsRow
	row.Set(unsafe.Pointer(&r))
	n := testing.AllocsPerRun(100, func() {
		_ = sc[0].Scan(int64(1 << 40))
		_ = sc[1].Scan(int64(7))
		_ = sc[5].Scan(int64(1))
		_ = sc[6].Scan(1.5)
		_ = sc[7].Scan(time.Time{})
	})
	if n != 0 {
		t.Errorf("row-mode scans of ints, a bool, a float and a time: %v allocations, want 0", n)
	}
}
