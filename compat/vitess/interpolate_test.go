package vitesstest_test

import (
	"database/sql/driver"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/compat/vitess"
)

func TestInterpolate(t *testing.T) {
	args := []driver.NamedValue{
		{Ordinal: 1, Value: int64(-4)}, {Ordinal: 2, Value: "it's \\ ?"}, {Ordinal: 3, Value: []byte{0, 0xff}},
		{Ordinal: 4, Value: nil}, {Ordinal: 5, Value: uint64(1 << 63)}, {Ordinal: 6, Value: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)},
		{Ordinal: 7, Value: true},
	}
	got, err := vitesstest.Interpolate("SELECT `a?` FROM t WHERE a=? AND b=? AND c=? AND d<=>? AND e=? AND f=? AND g=? AND h='?'", args)
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT `a?` FROM t WHERE a=-4 AND b='it\\'s \\\\ ?' AND c=X'00ff' AND d<=>NULL AND e=9223372036854775808 AND f='2024-01-02 03:04:05.000006' AND g=1 AND h='?'"
	if got != want {
		t.Errorf("Interpolate:\n got %s\nwant %s", got, want)
	}
	if _, err := vitesstest.Interpolate("SELECT ?", nil); err == nil {
		t.Error("a placeholder without an argument was accepted")
	}
	if _, err := vitesstest.Interpolate("SELECT 1", args[:1]); err == nil {
		t.Error("an argument without a placeholder was accepted")
	}
}

func TestUnits(t *testing.T) {
	s := func(k vitesstest.Kind, conn int, q string) vitesstest.Step {
		return vitesstest.Step{Kind: k, Conn: conn, SQL: q}
	}
	units := vitesstest.Units([]vitesstest.Step{
		s(vitesstest.Stmt, 1, "a"),
		s(vitesstest.Begin, 1, ""), s(vitesstest.Stmt, 2, "b"), s(vitesstest.Stmt, 1, "c"), s(vitesstest.Stmt, 1, "d"), s(vitesstest.Commit, 1, ""),
		s(vitesstest.Stmt, 1, "e"),
	})
	var sizes []int
	for _, u := range units {
		sizes = append(sizes, len(u.Steps))
	}
	if len(units) != 4 || sizes[0] != 1 || sizes[1] != 4 || sizes[2] != 1 || sizes[3] != 1 || units[2].Steps[0].SQL != "b" {
		t.Errorf("Units: sizes %v", sizes)
	}
}
