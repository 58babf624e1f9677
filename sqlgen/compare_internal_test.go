package sqlgen

import (
	"database/sql/driver"
	"testing"
	"time"
)

func TestCompareDriverValues(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	same := [][2]driver.Value{
		{nil, nil},
		{int64(1), uint64(1)},
		{true, int64(1)},
		{false, uint64(0)},
		{int64(2), float64(2)},
		{"ab", []byte("ab")},
		{t0, t0.In(time.FixedZone("x", 3600))},
	}
	for _, p := range same {
		if !sameDriverValue(p[0], p[1]) || !sameDriverValue(p[1], p[0]) {
			t.Errorf("sameDriverValue(%#v, %#v) = false, want true", p[0], p[1])
		}
	}
	differ := [][2]driver.Value{
		{nil, int64(0)},
		{int64(-1), uint64(18446744073709551615)},
		{int64(1), "1"},
		{"a", "A"},
		{t0, t0.Add(time.Nanosecond)},
		{float64(0.5), int64(0)},
	}
	for _, p := range differ {
		if sameDriverValue(p[0], p[1]) || sameDriverValue(p[1], p[0]) {
			t.Errorf("sameDriverValue(%#v, %#v) = true, want false", p[0], p[1])
		}
	}
	// The order the batcher sorts its tuples by is total and
	// deterministic, also between equal values of different types.
	ordered := []driver.Value{nil, false, int64(0), true, int64(1), uint64(1), int64(2), uint64(1 << 63)}
	for i := range ordered {
		for j := range ordered {
			got, want := orderDriverValues(ordered[i], ordered[j]), 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("orderDriverValues(%#v, %#v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}
