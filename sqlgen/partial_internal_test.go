package sqlgen

import (
	"fmt"
	"testing"
)

type partialWide struct {
	ID int64 `sql:",primary"`
	A  string
	B  string
	V  int32 `sql:",version"`
}

// UpdateColumns builds a column list's statement once, up to
// maxPartialUpdates lists.
func TestPartialCache(t *testing.T) {
	tb, err := newTable("wide", UniqueID, partialWide{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := tb.partials.get(tb, []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "UPDATE `wide` SET `b`=?,`a`=?,`v`=`v`+1 WHERE `id`=? AND `v`=?"; one.sql != want {
		t.Fatalf("sql = %q, want %q", one.sql, want)
	}
	if got := len(one.cols); got != 4 {
		t.Fatalf("%d arguments, want 4", got)
	}
	again, _ := tb.partials.get(tb, []string{"b", "a"})
	if again != one {
		t.Fatal("the same column list built its statement again")
	}
	for i := range maxPartialUpdates + 10 {
		// Fill the cache to its bound.
		tb.partials.m.LoadOrStore(fmt.Sprint("filler", i), one)
		tb.partials.n.Add(1)
	}
	x, _ := tb.partials.get(tb, []string{"a"})
	y, _ := tb.partials.get(tb, []string{"a"})
	if x == y {
		t.Fatal("a full cache kept a new column list")
	}
	if x.sql != "UPDATE `wide` SET `a`=?,`v`=`v`+1 WHERE `id`=? AND `v`=?" {
		t.Fatalf("uncached sql = %q", x.sql)
	}
}
