package fields

import (
	"database/sql/driver"
	"fmt"
	"time"
	"unsafe"
)

// TimeValue returns the driver value sqlgen sends for t: the text of its
// UTC wall clock, "2006-01-02 15:04:05" followed by ".ffffff" when it has
// a fraction of a second, truncated to microseconds (the most a
// DATETIME(6) or TIMESTAMP(6) holds; MySQL would round the rest and
// MariaDB truncate it, so a key with nanoseconds would match nothing).
// The zero time.Time is "0000-00-00", as go-sql-driver/mysql writes it.
// A year outside 1 to 9999 in UTC is an error wrapping [ErrConvert].
//
// Sending text rather than a time.Time keeps the DSN's loc out of the
// value: go-sql-driver/mysql converts a time.Time argument to loc before
// formatting it, so the same instant would be stored as another wall
// clock under each loc. Reads take the stored wall clock as UTC, so the
// instant survives the round trip whatever the DSN says.
//
// The text is one allocation, which also holds the string's header.
func TimeValue(t time.Time) (driver.Value, error) {
	box := new(timeText)
	b, err := appendTime(box.b[:0], t)
	if err != nil {
		return nil, err
	}
	box.s = unsafe.String(&box.b[0], len(b))
	return box.value(), nil
}

// timeText holds the text of a time and the string header that points
// at it, so that the driver.Value interface can point at the header
// without a second allocation.
type timeText struct {
	s string
	b [26]byte // "2006-01-02 15:04:05.999999"
}

// stringType is the type word of an interface holding a string.
var stringType = func() unsafe.Pointer {
	var x any = ""
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[0]
}()

// value returns an interface holding the string t.s, whose data word
// points at t.s itself (an interface holding a string always points at a
// string header; the runtime would otherwise allocate one to copy it in).
func (t *timeText) value() driver.Value {
	var x any
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&x))
	w[0], w[1] = stringType, unsafe.Pointer(&t.s)
	return x
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	if t.IsZero() {
		return append(b, "0000-00-00"...), nil
	}
	t = t.UTC()
	year, month, day := t.Date()
	// Year 0 too: the servers store 0000-01-10 (what a DATETIME read gives
	// back must be writable), though they document 1000 to 9999.
	if year < 0 || year > 9999 {
		return b, fmt.Errorf("%v is in year %d in UTC; MySQL and MariaDB hold years 0 to 9999 (1000 to 9999 documented): %w", t, year, ErrConvert)
	}
	hour, min, sec := t.Clock()
	b = append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), ' ',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		for div := 100000; div > 0; div /= 10 {
			b = append(b, byte('0'+us/div%10))
		}
	}
	return b, nil
}

// UTCWallClock returns the time whose UTC wall clock is t's wall clock in
// its own location: how a time.Time that a driver parsed from the stored
// text in the DSN's loc (parseTime=true&loc=...) is read, since sqlgen
// stores UTC wall clocks. A time already in UTC, and the zero time, are
// returned as they are.
func UTCWallClock(t time.Time) time.Time {
	if t.Location() == time.UTC || t.IsZero() {
		return t
	}
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	return time.Date(year, month, day, hour, min, sec, t.Nanosecond(), time.UTC)
}
