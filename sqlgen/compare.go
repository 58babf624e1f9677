package sqlgen

import (
	"bytes"
	"cmp"
	"database/sql/driver"
	"math"
	"time"
)

// This file holds the one comparison of converted (driver) values that
// the limit's guard (tenantlimit.go), the Tester (tester.go) and the batcher
// (readbatch.go) share, so that they agree on when two values are the same.

// valueFamily is the kind of SQL value a driver value is compared as.
type valueFamily uint8

const (
	familyNull valueFamily = iota
	familyNumber
	familyText
	familyTime
	familyOther
)

// familyOf returns the family of a driver value and, within the family,
// a rank of its Go type (to order values that compare equal but differ in
// type).
func familyOf(v driver.Value) (valueFamily, int) {
	switch v.(type) {
	case nil:
		return familyNull, 0
	case bool:
		return familyNumber, 0
	case int64:
		return familyNumber, 1
	case uint64:
		return familyNumber, 2
	case float64:
		return familyNumber, 3
	case string:
		return familyText, 0
	case []byte:
		return familyText, 1
	case time.Time:
		return familyTime, 0
	}
	return familyOther, 0
}

// compareDriverValues compares two driver values as SQL compares them,
// ignoring collations: NULL with NULL only (NULL first); numbers, and
// bools as 0 and 1, by value across int64, uint64 and float64; strings
// and []byte byte for byte; times as instants. ok is false when the two
// are of families SQL would convert between (a number and a string, say),
// which this does not attempt.
func compareDriverValues(a, b driver.Value) (c int, ok bool) {
	fa, _ := familyOf(a)
	fb, _ := familyOf(b)
	if fa != fb || fa == familyOther {
		return 0, false
	}
	switch fa {
	case familyNull:
		return 0, true
	case familyNumber:
		return compareNumbers(a, b), true
	case familyText:
		return bytes.Compare(textBytes(a), textBytes(b)), true
	case familyTime:
		return a.(time.Time).Compare(b.(time.Time)), true
	}
	return 0, false
}

// sameDriverValue reports whether a and b are the same SQL value (see
// compareDriverValues; NULL is the same as NULL).
func sameDriverValue(a, b driver.Value) bool {
	c, ok := compareDriverValues(a, b)
	return ok && c == 0
}

// equalDriverValues is sameDriverValue for the non-nil values the Tester
// compares.
func equalDriverValues(a, b driver.Value) bool {
	return sameDriverValue(a, b)
}

// orderDriverValues is a total order of driver values, for sorting: by
// family, then as compareDriverValues, then by Go type, so that values
// that compare equal but differ in type still sort deterministically.
func orderDriverValues(a, b driver.Value) int {
	fa, ta := familyOf(a)
	fb, tb := familyOf(b)
	if fa != fb {
		return cmp.Compare(fa, fb)
	}
	if c, ok := compareDriverValues(a, b); ok && c != 0 {
		return c
	}
	return cmp.Compare(ta, tb)
}

// textBytes returns the bytes of a string or []byte driver value.
func textBytes(v driver.Value) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	return v.([]byte)
}

// compareNumbers compares two numeric driver values (bool, int64, uint64,
// float64) by value.
func compareNumbers(a, b driver.Value) int {
	a, b = boolAsInt(a), boolAsInt(b)
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp.Compare(x, y)
		case uint64:
			if x < 0 {
				return -1
			}
			return cmp.Compare(uint64(x), y)
		}
	case uint64:
		switch y := b.(type) {
		case uint64:
			return cmp.Compare(x, y)
		case int64:
			return -compareNumbers(y, x)
		}
	}
	return compareFloat(a, b)
}

// compareFloat compares two numbers of which at least one is a float64.
func compareFloat(a, b driver.Value) int {
	return cmp.Compare(toFloat(a), toFloat(b))
}

func toFloat(v driver.Value) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func boolAsInt(v driver.Value) driver.Value {
	if x, ok := v.(bool); ok {
		return boolInt(x)
	}
	return v
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
