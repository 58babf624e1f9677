package fields

import (
	"bytes"
	"database/sql"
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/seed-b2691315/sqlgen/internal/rowscan"
)

// Scanner is a [sql.Scanner] that writes one column straight into a field
// of the caller's struct. Point it at the field with [Scanner.Target], pass
// it to Rows.Scan, and it converts the driver's value in place, with no
// intermediate value, then forgets the field so a pooled Scanner never
// keeps a caller's struct alive.
//
// A Scanner is not safe for concurrent use; each goroutine uses its own
// (the sqlgen package keeps them in a per-table sync.Pool).
type Scanner struct {
	d      *Descriptor
	target reflect.Value
	// Row mode (see rowscan.NewScanner): the field is at offset off in
	// the struct that row points at.
	row *rowscan.Row
	off uintptr
}

// newRowScanner is rowscan.NewScanner's implementation.
func newRowScanner(d *Descriptor, row *rowscan.Row, off uintptr) sql.Scanner {
	return &Scanner{d: d, row: row, off: off}
}

var _ sql.Scanner = (*Scanner)(nil)

// Target points the scanner at field, which must be a settable value of
// the column's field type (as returned by reflect.Value.Field on an
// addressable struct).
func (s *Scanner) Target(field reflect.Value) { s.target = field }

// Reset drops the target without scanning.
func (s *Scanner) Reset() { s.target = reflect.Value{} }

// Descriptor returns the descriptor the scanner belongs to.
func (s *Scanner) Descriptor() *Descriptor { return s.d }

// Scan converts src, a value from the driver, into the target field. []byte
// sources are the driver's own buffer: they are copied into strings and
// []byte fields and decoded in place for JSON, text and binary
// encodings, never kept.
func (s *Scanner) Scan(src any) error {
	d, v := s.d, s.target
	if v.IsValid() || s.row == nil {
		s.target = reflect.Value{} // a Target given explicitly wins, once
	} else {
		p := s.row.Field(s.off)
		if p == nil {
			return d.errorf("scan", "Scan called with no target")
		}
		if d.fastFn != nil && d.fastFn(p, src) {
			return nil
		}
		v = reflect.NewAt(d.ftype, p).Elem()
	}
	if !v.IsValid() {
		return d.errorf("scan", "Scan called with no target")
	}
	if src == nil {
		return d.scanNull(v)
	}
	if d.ptr {
		if d.conv == ConvJSON && isJSONNull(src) {
			v.SetZero() // the JSON text null in a pointer field: nil, as SQL NULL
			return nil
		}
		p := reflect.New(d.typ)
		v.Set(p)
		v = p.Elem()
	}
	if err := d.scanFn(d, v, src); err != nil {
		if _, ok := err.(*Error); ok {
			return err
		}
		return d.wrap("scan", err)
	}
	return nil
}

// scanNull stores SQL NULL in v, the field.
func (d *Descriptor) scanNull(v reflect.Value) error {
	switch {
	case d.nullZero:
		v.SetZero()
		return nil
	case d.conv == ConvSQL:
		return d.scanSQL(v, nil)
	}
	return d.errorf("scan", "column is NULL but the field is neither a pointer nor tagged implicitnull: %w", ErrUnexpectedNull)
}

// The scan functions of the conversions (see setFuncs) store src, a
// non-nil driver value, in v, a settable value of the descriptor's Type.
// A source they do not take is an error wrapping ErrConvert.

func parseErr(err error) error { return fmt.Errorf("%w: %w", err, ErrConvert) }

func scanInt(d *Descriptor, v reflect.Value, src any) error {
	switch x := src.(type) {
	case int64:
		return setInt(v, x)
	case uint64:
		if x > math.MaxInt64 {
			return fmt.Errorf("value %d out of range for %v: %w", x, v.Type(), ErrConvert)
		}
		return setInt(v, int64(x))
	case []byte:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return parseErr(err)
		}
		return setInt(v, n)
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return parseErr(err)
		}
		return setInt(v, n)
	case bool:
		if x {
			return setInt(v, 1)
		}
		return setInt(v, 0)
	}
	return d.badSource(v, src)
}

func scanUint(d *Descriptor, v reflect.Value, src any) error {
	switch x := src.(type) {
	case int64:
		if x < 0 {
			return fmt.Errorf("value %d out of range for %v: %w", x, v.Type(), ErrConvert)
		}
		return setUint(v, uint64(x))
	case uint64:
		return setUint(v, x)
	case []byte:
		n, err := strconv.ParseUint(string(x), 10, 64)
		if err != nil {
			return parseErr(err)
		}
		return setUint(v, n)
	case string:
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return parseErr(err)
		}
		return setUint(v, n)
	case bool:
		if x {
			return setUint(v, 1)
		}
		return setUint(v, 0)
	}
	return d.badSource(v, src)
}

func scanFloat(d *Descriptor, v reflect.Value, src any) error {
	var f float64
	switch x := src.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case []byte:
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil {
			return parseErr(err)
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(x, 64); err != nil {
			return parseErr(err)
		}
	default:
		return d.badSource(v, src)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("value %v is not a number a column can hold: %w", f, ErrConvert)
	}
	if v.Kind() == reflect.Float32 && math.Abs(f) > math.MaxFloat32 {
		return fmt.Errorf("value %g out of range for %v: %w", f, v.Type(), ErrConvert)
	}
	v.SetFloat(f)
	return nil
}

func scanString(d *Descriptor, v reflect.Value, src any) error {
	switch x := src.(type) {
	case []byte:
		v.SetString(string(x))
	case string:
		v.SetString(x)
	case int64:
		v.SetString(strconv.FormatInt(x, 10))
	case uint64:
		v.SetString(strconv.FormatUint(x, 10))
	case float64:
		v.SetString(strconv.FormatFloat(x, 'g', -1, 64))
	case bool:
		v.SetString(strconv.FormatBool(x))
	case time.Time:
		v.SetString(x.Format(time.RFC3339Nano))
	default:
		return d.badSource(v, src)
	}
	return nil
}

func scanBool(d *Descriptor, v reflect.Value, src any) error {
	var b bool
	switch x := src.(type) {
	case bool:
		b = x
	case int64:
		b = x != 0
	case uint64:
		b = x != 0
	case []byte:
		var err error
		if b, err = strconv.ParseBool(string(x)); err != nil {
			return parseErr(err)
		}
	case string:
		var err error
		if b, err = strconv.ParseBool(x); err != nil {
			return parseErr(err)
		}
	default:
		return d.badSource(v, src)
	}
	v.SetBool(b)
	return nil
}

func scanBytes(d *Descriptor, v reflect.Value, src any) error {
	switch x := src.(type) {
	case []byte:
		b := make([]byte, len(x))
		copy(b, x)
		v.SetBytes(b)
	case string:
		v.SetBytes([]byte(x))
	default:
		return d.badSource(v, src)
	}
	return nil
}

func scanTime(d *Descriptor, v reflect.Value, src any) error {
	t := (*time.Time)(v.Addr().UnsafePointer()) // time.Time or a named type of it
	switch x := src.(type) {
	case time.Time:
		*t = UTCWallClock(x) // the driver's parse of the stored text in its loc
		if y := t.Year(); y < 1 || y > 9999 {
			return fmt.Errorf("%v is in year %d: no DATETIME holds it: %w", x, y, ErrConvert)
		}
		return nil
	case []byte:
		return parseDateTime(t, x)
	case string:
		return parseDateTime(t, []byte(x))
	}
	return d.badSource(v, src)
}

func scanSQL(d *Descriptor, v reflect.Value, src any) error { return d.scanSQL(v, src) }

func scanByteArray(d *Descriptor, v reflect.Value, src any) error {
	b, ok := asBytes(src)
	if !ok {
		return d.badSource(v, src)
	}
	if len(b) != v.Len() {
		return fmt.Errorf("%d bytes for a %v, which holds exactly %d: %w", len(b), v.Type(), v.Len(), ErrConvert)
	}
	reflect.Copy(v, reflect.ValueOf(b))
	return nil
}

func scanRawJSON(d *Descriptor, v reflect.Value, src any) error {
	b, ok := asBytes(src)
	if !ok {
		return d.badSource(v, src)
	}
	if err := checkRawJSON(b, false); err != nil {
		return fmt.Errorf("json.RawMessage: %w: %w", err, ErrConvert)
	}
	v.SetBytes(bytes.Clone(b)) // the driver reuses b
	return nil
}

func scanJSON(d *Descriptor, v reflect.Value, src any) error {
	b, ok := asBytes(src)
	if !ok {
		return d.badSource(v, src)
	}
	v.SetZero() // decode into a clean value: a map or slice must not merge
	var err error
	if un, ok := d.codec.(NumberCodec); ok && d.useNumber {
		err = un.UnmarshalUseNumber(b, v.Addr().Interface())
	} else {
		err = d.codec.Unmarshal(b, v.Addr().Interface())
	}
	if err != nil {
		return fmt.Errorf("decoding JSON: %w", err)
	}
	return nil
}

func scanBinary(d *Descriptor, v reflect.Value, src any) error {
	b, ok := asBytes(src)
	if !ok {
		return d.badSource(v, src)
	}
	v.SetZero()
	// BinaryUnmarshaler must copy what it keeps, by its contract.
	return v.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b)
}

func scanText(d *Descriptor, v reflect.Value, src any) error {
	b, ok := asBytes(src)
	if !ok {
		return d.badSource(v, src)
	}
	v.SetZero()
	// TextUnmarshaler must copy what it keeps, by its contract.
	return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(b)
}

func scanProto(d *Descriptor, v reflect.Value, src any) error {
	b, ok := asBytes(src)
	if !ok {
		return d.badSource(v, src)
	}
	v.SetZero()
	// A generated Unmarshal may alias its input; give it its own copy.
	return v.Addr().Interface().(protoUnmarshaler).Unmarshal(append([]byte(nil), b...))
}

func (d *Descriptor) scanSQL(v reflect.Value, src any) error {
	if t, ok := src.(time.Time); ok {
		// A driver's parse of the stored text in its loc: the wall clock
		// is the stored UTC one.
		t = UTCWallClock(t)
		if y := t.Year(); y < 1 || y > 9999 {
			return d.errorf("scan", "%v is in year %d: no DATETIME holds it: %w", t, y, ErrConvert)
		}
		src = t
	}
	if d.timeText {
		// A time type (sql.NullTime, sql.Null[time.Time], or the user's
		// own, see holdsTime) gets a time.Time in UTC from the stored
		// text, whatever the DSN's parseTime: sql.NullTime cannot take
		// text, and the text is what the read selects (CAST AS CHAR).
		if b, ok := asBytes(src); ok {
			var t time.Time
			if err := parseDateTime(&t, b); err != nil {
				return d.wrap("scan", err)
			}
			src = t
		}
	}
	if err := v.Addr().Interface().(sql.Scanner).Scan(src); err != nil {
		return d.wrap("scan", err)
	}
	return nil
}

func (d *Descriptor) badSource(v reflect.Value, src any) error {
	return fmt.Errorf("cannot store a %T from the database in a %v: %w", src, v.Type(), ErrConvert)
}

func asBytes(src any) ([]byte, bool) {
	switch x := src.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	return nil, false
}

// setInt stores n in v (any signed or unsigned integer kind), refusing a
// value that does not fit rather than wrapping it.
func setInt(v reflect.Value, n int64) error {
	switch v.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n < 0 {
			return fmt.Errorf("value %d out of range for %v: %w", n, v.Type(), ErrConvert)
		}
		return setUint(v, uint64(n))
	}
	if v.OverflowInt(n) {
		return fmt.Errorf("value %d out of range for %v: %w", n, v.Type(), ErrConvert)
	}
	v.SetInt(n)
	return nil
}

// setUint stores n in v (any signed or unsigned integer kind), refusing a
// value that does not fit.
func setUint(v reflect.Value, n uint64) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n > math.MaxInt64 {
			return fmt.Errorf("value %d out of range for %v: %w", n, v.Type(), ErrConvert)
		}
		return setInt(v, int64(n))
	}
	if v.OverflowUint(n) {
		return fmt.Errorf("value %d out of range for %v: %w", n, v.Type(), ErrConvert)
	}
	v.SetUint(n)
	return nil
}

// parseDateTime parses MySQL's DATE, DATETIME and TIMESTAMP text forms
// ("2006-01-02", "2006-01-02 15:04:05", with up to 9 fractional digits)
// as UTC, which is what go-sql-driver/mysql does with parseTime=true and
// its default loc. The all-zero date reads as the zero time.Time. It does
// not allocate.
func parseDateTime(t *time.Time, b []byte) error {
	bad := func() error {
		return fmt.Errorf("cannot parse %q as a DATETIME: %w", string(b), ErrConvert)
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	if len(b) != 10 && len(b) != 19 && !(len(b) > 20 && len(b) <= 29 && b[19] == '.') {
		return bad()
	}
	if b[4] != '-' || b[7] != '-' {
		return bad()
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	if !ok1 || !ok2 || !ok3 {
		return bad()
	}
	var hour, min, sec, nsec int
	if len(b) > 10 {
		if b[10] != ' ' && b[10] != 'T' || b[13] != ':' || b[16] != ':' {
			return bad()
		}
		var ok4, ok5, ok6 bool
		hour, ok4 = num(b[11:13])
		min, ok5 = num(b[14:16])
		sec, ok6 = num(b[17:19])
		if !ok4 || !ok5 || !ok6 {
			return bad()
		}
		if len(b) > 20 {
			frac := b[20:]
			f, ok := num(frac)
			if !ok {
				return bad()
			}
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			nsec = f
		}
	}
	if year == 0 && month == 0 && day == 0 && hour == 0 && min == 0 && sec == 0 && nsec == 0 {
		*t = time.Time{}
		return nil
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59 {
		return bad()
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return bad() // such as 2024-02-31, which ALLOW_INVALID_DATES lets a server store
	}
	*t = time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	return nil
}

// isJSONNull reports whether src is the JSON text null (with optional
// white space around it).
func isJSONNull(src any) bool {
	b, ok := asBytes(src)
	if !ok || len(b) < 4 || len(b) > 16 {
		return false
	}
	return string(bytes.TrimSpace(b)) == "null"
}

// fastScanner returns the row-mode fast path for a field of conversion
// conv and kind (not a pointer, not implicitnull), or nil. A fast path
// stores the most common (source, field) pairs through a typed pointer to
// the field, without reflection, and reports whether it handled src; if
// not, the conversion's scan function does (and reports what is wrong).
// Named types share the layout of their kind, so they take it too.
func fastScanner(conv Conversion, kind reflect.Kind) func(p unsafe.Pointer, src any) bool {
	switch conv {
	case ConvInt:
		switch {
		case kind == reflect.Int64, kind == reflect.Int && strconv.IntSize == 64:
			return fastInt64
		case kind == reflect.Int32:
			return fastInt32
		case kind == reflect.Int16:
			return fastInt16
		case kind == reflect.Int8:
			return fastInt8
		}
	case ConvString:
		return fastString
	case ConvBool:
		return fastBool
	case ConvFloat:
		if kind == reflect.Float64 {
			return fastFloat64
		}
	case ConvTime:
		return fastTime
	}
	return nil
}

func fastInt64(p unsafe.Pointer, src any) bool {
	n, ok := src.(int64)
	if ok {
		*(*int64)(p) = n
	}
	return ok
}

func fastInt32(p unsafe.Pointer, src any) bool {
	n, ok := src.(int64)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return false // out of range: the scan function reports it
	}
	*(*int32)(p) = int32(n)
	return true
}

func fastInt16(p unsafe.Pointer, src any) bool {
	n, ok := src.(int64)
	if !ok || n < math.MinInt16 || n > math.MaxInt16 {
		return false
	}
	*(*int16)(p) = int16(n)
	return true
}

func fastInt8(p unsafe.Pointer, src any) bool {
	n, ok := src.(int64)
	if !ok || n < math.MinInt8 || n > math.MaxInt8 {
		return false
	}
	*(*int8)(p) = int8(n)
	return true
}

func fastString(p unsafe.Pointer, src any) bool {
	switch x := src.(type) {
	case []byte:
		*(*string)(p) = string(x)
		return true
	case string:
		*(*string)(p) = x
		return true
	}
	return false
}

func fastBool(p unsafe.Pointer, src any) bool {
	switch x := src.(type) {
	case int64:
		*(*bool)(p) = x != 0
		return true
	case bool:
		*(*bool)(p) = x
		return true
	}
	return false
}

func fastFloat64(p unsafe.Pointer, src any) bool {
	x, ok := src.(float64)
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	*(*float64)(p) = x
	return true
}

func fastTime(p unsafe.Pointer, src any) bool {
	x, ok := src.(time.Time)
	if !ok {
		return false
	}
	if x = UTCWallClock(x); x.Year() < 1 || x.Year() > 9999 {
		return false // the scan function reports it
	}
	*(*time.Time)(p) = x
	return true
}
