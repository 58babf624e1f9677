package fields

import (
	"bytes"
	"database/sql/driver"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/seed-b2691315/sqlgen/internal/jsontext"
)

// Valuer is a [driver.Valuer] for one field value. It pairs the column's
// shared [*Descriptor] with the value and is meant to be built on demand
// (see [Descriptor.Valuer]) and used at once, never stored.
type Valuer struct {
	d *Descriptor
	v reflect.Value
}

var _ driver.Valuer = Valuer{}

// Value converts the field value to a plain [driver.Value].
func (v Valuer) Value() (driver.Value, error) { return v.d.Value(v.v) }

// Value converts field, a value of the field's own type (a pointer for a
// pointer field), to a plain [driver.Value]: nil, int64, uint64 (only above
// math.MaxInt64), float64, bool, []byte or string.
//
// A time.Time (of a time field, a sql.NullTime, or returned by the type's
// own Value method) is returned as the text of its UTC wall clock,
// "2006-01-02 15:04:05.999999" (microseconds at most, which is all a
// DATETIME(6) holds; the zero time.Time as "0000-00-00"), never as a
// time.Time: go-sql-driver/mysql would convert a time.Time to the DSN's
// loc before sending it, and the stored value would depend on the DSN.
//
// JSON is returned as a string, not []byte: with interpolateParams=true,
// MySQL 8 refuses a JSON document sent as _binary.
func (d *Descriptor) Value(field reflect.Value) (driver.Value, error) {
	if d.ptr {
		if field.IsNil() {
			return nil, nil
		}
		field = field.Elem()
	}
	return d.value(field)
}

// value converts v, of type d.typ, to a driver.Value.
func (d *Descriptor) value(v reflect.Value) (driver.Value, error) {
	if d.tag.ImplicitNull && d.isZero(v) {
		return nil, nil
	}
	return d.valueFn(d, v)
}

// isZero reports whether v is the zero value of an implicitnull field (a
// zero time.Time moved to a location is zero too).
func (d *Descriptor) isZero(v reflect.Value) bool {
	return v.IsZero() || d.conv == ConvTime && timeOf(v).IsZero()
}

// The value functions of the conversions (see setFuncs) convert v, a
// value of the descriptor's Type, to a driver.Value.

// valueDirectString is the value function of a string field, which is
// its own driver.Value: the interface of a value that is not addressable
// points at its memory (a struct copy the caller made), without an
// allocation.
func valueDirectString(_ *Descriptor, v reflect.Value) (driver.Value, error) {
	if !v.CanAddr() {
		return v.Interface(), nil
	}
	return v.String(), nil
}

// valueDirectInt is valueDirectString for an int64 field.
func valueDirectInt(_ *Descriptor, v reflect.Value) (driver.Value, error) {
	if !v.CanAddr() {
		return v.Interface(), nil
	}
	return v.Int(), nil
}

// valueDirectFloat is valueDirect for a float64 field.
func valueDirectFloat(d *Descriptor, v reflect.Value) (driver.Value, error) {
	if f := v.Float(); !v.CanAddr() && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return v.Interface(), nil
	}
	return valueFloat(d, v)
}

// valueDirectBytes is valueDirect for a []byte field.
func valueDirectBytes(d *Descriptor, v reflect.Value) (driver.Value, error) {
	if v.IsNil() {
		return nil, nil
	}
	if !v.CanAddr() {
		return v.Interface(), nil
	}
	return v.Bytes(), nil
}

func valueBool(_ *Descriptor, v reflect.Value) (driver.Value, error) { return v.Bool(), nil }

func valueInt(_ *Descriptor, v reflect.Value) (driver.Value, error) { return v.Int(), nil }

func valueUint(_ *Descriptor, v reflect.Value) (driver.Value, error) {
	if u := v.Uint(); u > math.MaxInt64 {
		return u, nil
	} else {
		return int64(u), nil
	}
}

func valueFloat(d *Descriptor, v reflect.Value) (driver.Value, error) {
	f := v.Float()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, d.errorf("value", "%v cannot be stored: MySQL and MariaDB have no NaN or infinity: %w", f, ErrConvert)
	}
	return f, nil
}

func valueString(_ *Descriptor, v reflect.Value) (driver.Value, error) { return v.String(), nil }

func valueBytes(_ *Descriptor, v reflect.Value) (driver.Value, error) {
	b := v.Bytes()
	if b == nil {
		return nil, nil
	}
	return b, nil
}

func valueTime(d *Descriptor, v reflect.Value) (driver.Value, error) {
	out, err := TimeValue(timeOf(v))
	if err != nil {
		return nil, d.wrap("value", err)
	}
	return out, nil
}

func valueSQL(d *Descriptor, v reflect.Value) (driver.Value, error) {
	valuer, ok := asInterface(v, valuerType).(driver.Valuer)
	if !ok {
		return nil, nil // a nil pointer receiver: NULL
	}
	out, err := valuer.Value()
	if err != nil {
		return nil, d.wrap("value", err)
	}
	if t, ok := out.(time.Time); ok {
		// sql.NullTime, sql.Null[time.Time] or the user's own type:
		// sent as UTC text, as a time.Time field is.
		if out, err = TimeValue(t); err != nil {
			return nil, d.wrap("value", err)
		}
	}
	return out, nil
}

func valueByteArray(_ *Descriptor, v reflect.Value) (driver.Value, error) {
	b := make([]byte, v.Len())
	reflect.Copy(reflect.ValueOf(b), v)
	return b, nil
}

func valueRawJSON(d *Descriptor, v reflect.Value) (driver.Value, error) {
	// The caller's own document: stored byte for byte, once checked.
	raw := v.Bytes()
	if raw == nil {
		return nil, nil
	}
	if err := checkRawJSON(raw, true); err != nil {
		return nil, d.errorf("value", "json.RawMessage: %w: %w", err, ErrConvert)
	}
	return string(raw), nil
}

func valueJSON(d *Descriptor, v reflect.Value) (driver.Value, error) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
	}
	b, err := d.codec.Marshal(addrOrValue(v))
	if err != nil {
		return nil, d.wrap("value", fmt.Errorf("encoding JSON: %w", err))
	}
	if d.nullable && string(b) == "null" {
		// A nil in an interface (a typed nil pointer, map or slice) or
		// behind a pointer, or a Marshaler that writes null: SQL NULL,
		// as an untyped nil is, so that IS NULL finds it.
		return nil, nil
	}
	if err := d.checkEncoded(v, b); err != nil {
		return nil, err
	}
	if _, std := d.codec.(JSONCodec); std {
		// JSONCodec.Marshal returns a copy of its pooled buffer that
		// nothing else refers to: it becomes the string without a
		// second copy.
		return unsafe.String(unsafe.SliceData(b), len(b)), nil
	}
	return string(b), nil
}

// checkEncoded checks b, the JSON document encoded from v.
func (d *Descriptor) checkEncoded(v reflect.Value, b []byte) error {
	if i := replacedInvalidUTF8(b); i >= 0 {
		// The encoder writes \ufffd for each invalid byte of a string;
		// the same escape copied from a json.RawMessage (or another
		// Marshaler's output) is valid JSON and the caller's choice.
		if path, bad := invalidUTF8(reflect.ValueOf(addrOrValue(v)), 0); bad {
			return d.errorf("value", "encoding JSON: %s holds invalid UTF-8 (the encoder replaced it with U+FFFD at byte %d of the document): %w", path, i, ErrConvert)
		}
	}
	if d.checkJSON {
		if err := checkEncodedJSON(b); err != nil {
			return d.errorf("value", "encoding JSON: %w: %w", err, ErrConvert)
		}
	}
	return nil
}

func valueBinary(d *Descriptor, v reflect.Value) (driver.Value, error) {
	b, err := asInterface(v, binaryMarshalerType).(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, d.wrap("value", err)
	}
	return b, nil
}

func valueProto(d *Descriptor, v reflect.Value) (driver.Value, error) {
	b, err := asInterface(v, protoMarshalerType).(protoMarshaler).Marshal()
	if err != nil {
		return nil, d.wrap("value", err)
	}
	return b, nil
}

func valueText(d *Descriptor, v reflect.Value) (driver.Value, error) {
	b, err := asInterface(v, textMarshalerType).(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return nil, d.wrap("value", err)
	}
	return string(b), nil
}

// timeOf returns the time.Time v holds (a time.Time or a named type of
// it: the same memory layout).
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *(*time.Time)(v.Addr().UnsafePointer())
	}
	return v.Convert(timeType).Interface().(time.Time)
}

// addrOrValue returns a pointer to v when it can (boxing a pointer does not
// allocate, and pointer-receiver methods apply), else v itself.
func addrOrValue(v reflect.Value) any {
	if v.CanAddr() {
		return v.Addr().Interface()
	}
	return v.Interface()
}

// asInterface returns v (or &v) as an interface value implementing iface,
// or nil for a nil pointer.
func asInterface(v reflect.Value, iface reflect.Type) any {
	if v.CanAddr() && v.Addr().Type().Implements(iface) {
		return v.Addr().Interface()
	}
	if v.Type().Implements(iface) {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return nil
		}
		return v.Interface()
	}
	// A pointer-receiver method on a value we cannot address: copy it.
	p := reflect.New(v.Type())
	p.Elem().Set(v)
	return p.Interface()
}

// ValueOf converts x, a value given by a caller for this column (a filter
// value, say), to the plain [driver.Value] the column's own field would
// produce. x may be of the field's type, a pointer to it, or any type of
// the same family (any integer for an integer column, any string type for a
// string column, ...). An integer that does not fit the field's type is an
// error wrapping [ErrConvert]. nil stays nil.
func (d *Descriptor) ValueOf(x any) (driver.Value, error) {
	v, err := d.valueOf(x)
	if err == nil && d.IsJSON() {
		// A document compared with a column (a filter, the Tester) must
		// mean one thing: with a key twice in one object, MySQL keeps the
		// last value and MariaDB keeps both, so the servers would answer
		// differently. Written documents are stored as given (see
		// checkRawJSON).
		if doc, ok := v.(string); ok {
			if k, dup := jsontext.DuplicateKey([]byte(doc)); dup {
				return nil, d.errorf("value", "JSON filter value: %w: %w", duplicateKeyError(k), ErrConvert)
			}
		}
	}
	return v, err
}

func (d *Descriptor) valueOf(x any) (driver.Value, error) {
	if v, ok := d.valueOfFast(x); ok {
		return v, nil
	}
	if x == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(x)
	t := rv.Type()
	if t == d.typ {
		return d.value(rv)
	}
	if t.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, nil
		}
		rv, t = rv.Elem(), t.Elem()
		if t == d.typ {
			return d.value(rv)
		}
	}
	if d.fromFn != nil {
		if out, ok, err := d.fromFn(d, rv); ok {
			return out, err
		}
	}
	if t.ConvertibleTo(d.typ) && sameFamily(t, d.typ) {
		return d.value(rv.Convert(d.typ))
	}
	return nil, d.errorf("value", "cannot use a %v for a column of Go type %v: %w", t, d.ftype, ErrConvert)
}

// valueOfFast is ValueOf of the common cases: no reflection, and an int64
// or string already of the right shape is returned as it is, the
// caller's interface value rather than the typed value, which would be
// boxed again.
func (d *Descriptor) valueOfFast(x any) (driver.Value, bool) {
	switch y := x.(type) {
	case nil:
		return nil, true
	case int64:
		if d.ofInt && fitsInt(y, d.bits) {
			return x, true
		}
	case int:
		if d.ofInt && fitsInt(int64(y), d.bits) {
			return int64(y), true
		}
	case int32:
		if d.ofInt && fitsInt(int64(y), d.bits) {
			return int64(y), true
		}
	case string:
		if d.ofString {
			return x, true
		}
	}
	return nil, false
}

// A fromFunc is ValueOf of rv, a value of another type than the field's
// (and not a pointer), for one conversion: it converts rv to the field's
// type when it is of the conversion's family, and reports whether it did.
type fromFunc func(d *Descriptor, rv reflect.Value) (driver.Value, bool, error)

// converted returns the driver value of conv, a converted value of the
// field's type, for a fromFunc.
func (d *Descriptor) converted(conv reflect.Value) (driver.Value, bool, error) {
	v, err := d.value(conv)
	return v, true, err
}

func fromInteger(d *Descriptor, rv reflect.Value) (driver.Value, bool, error) {
	conv := reflect.New(d.typ).Elem()
	var err error
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		err = setInt(conv, rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		err = setUint(conv, rv.Uint())
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, d.wrap("value", err)
	}
	return d.converted(conv)
}

func fromFloat(d *Descriptor, rv reflect.Value) (driver.Value, bool, error) {
	conv := reflect.New(d.typ).Elem()
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		conv.SetFloat(rv.Float())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		conv.SetFloat(float64(rv.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		conv.SetFloat(float64(rv.Uint()))
	default:
		return nil, false, nil
	}
	return d.converted(conv)
}

func fromString(d *Descriptor, rv reflect.Value) (driver.Value, bool, error) {
	if rv.Kind() != reflect.String {
		return nil, false, nil
	}
	conv := reflect.New(d.typ).Elem()
	conv.SetString(rv.String())
	return d.converted(conv)
}

func fromBool(d *Descriptor, rv reflect.Value) (driver.Value, bool, error) {
	if rv.Kind() != reflect.Bool {
		return nil, false, nil
	}
	conv := reflect.New(d.typ).Elem()
	conv.SetBool(rv.Bool())
	return d.converted(conv)
}

func fromBytes(d *Descriptor, rv reflect.Value) (driver.Value, bool, error) {
	conv := reflect.New(d.typ).Elem()
	switch {
	case isByteSlice(rv.Type()):
		conv.SetBytes(rv.Bytes())
	case rv.Kind() == reflect.String:
		conv.SetBytes([]byte(rv.String()))
	default:
		return nil, false, nil
	}
	return d.converted(conv)
}

func fromJSON(d *Descriptor, rv reflect.Value) (driver.Value, bool, error) {
	t := rv.Type()
	if d.kind == reflect.Interface && t.Implements(d.typ) {
		// A JSON column of type any (or another interface): any value
		// the field could hold is a document, written as the field
		// holding it would be.
		conv := reflect.New(d.typ).Elem()
		conv.Set(rv)
		return d.converted(conv)
	}
	if t != rawMessageType {
		return nil, false, nil
	}
	// A document given as it is, for any JSON column.
	raw := rv.Bytes()
	if raw == nil || d.nullable && string(bytes.TrimSpace(raw)) == "null" {
		return nil, true, nil
	}
	if err := checkRawJSON(raw, true); err != nil {
		return nil, true, d.errorf("value", "json.RawMessage: %w: %w", err, ErrConvert)
	}
	return string(raw), true, nil
}

// sameFamily keeps ValueOf from using Go conversions that change meaning
// (int to string makes a rune).
func sameFamily(a, b reflect.Type) bool {
	return a.Kind() == b.Kind()
}

// rawMessageType is a JSON column whose Go value is the document itself:
// it is neither encoded nor decoded, only checked (see checkRawJSON), and
// a \ufffd escape in it is the caller's choice.
var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkRawJSON refuses what no server stores in a JSON column: text that
// is not one JSON value, or bytes that are not UTF-8 (the raw bytes: an
// escape such as \ufffd is valid whatever it stands for). A document
// with a key twice in one object is stored as given, as the server
// stores it from any client (MariaDB keeps both values, MySQL the last),
// so that whatever was read can be written back; as a filter value it is
// refused (see ValueOf).
func checkRawJSON(b []byte, _ bool) error {
	if !utf8.Valid(b) {
		return errors.New("the document is not valid UTF-8")
	}
	if !json.Valid(b) {
		return errors.New("the document is not valid JSON")
	}
	return nil
}

func duplicateKeyError(k string) error {
	return fmt.Errorf("the key %q appears twice in one object; MySQL keeps only the last one and MariaDB keeps both, so the servers would store and compare different documents", k)
}

// checkEncodedJSON checks a document encoded from a type whose encoding
// may hold copied text (json.Marshaler output, anything in an interface):
// valid UTF-8.
func checkEncodedJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("a json.Marshaler (such as a json.RawMessage) wrote invalid UTF-8")
	}
	return nil
}

// invalidUTF8 looks through v as encoding/json encodes it for a string (a
// value, a map key or a TextMarshaler's text) that is not valid UTF-8,
// and returns where it is. The output of a json.Marshaler is not looked
// into: the encoder copies it, escapes included. It is only called when
// an encoded document holds a \ufffd escape, to tell the escape the
// encoder wrote for invalid bytes from one copied from raw JSON.
func invalidUTF8(v reflect.Value, depth int) (string, bool) {
	if !v.IsValid() || depth > 1000 {
		return "", false
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		if v.IsNil() || t.Kind() == reflect.Pointer && t.Implements(jsonMarshalerType) {
			return "", false
		}
		return invalidUTF8(v.Elem(), depth+1)
	}
	if implements(t, jsonMarshalerType) {
		return "", false
	}
	if tm, ok := textOf(v); ok {
		if !utf8.Valid(tm) {
			return fmt.Sprintf("the text of a %v", t), true
		}
		return "", false
	}
	switch t.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return "a string", true
		}
	case reflect.Struct:
		return invalidUTF8Struct(v, depth)
	case reflect.Map:
		return invalidUTF8Map(v, depth)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "", false // base64
		}
		for i := 0; i < v.Len(); i++ {
			if where, bad := invalidUTF8(v.Index(i), depth+1); bad {
				return where, true
			}
		}
	}
	return "", false
}

// invalidUTF8Struct is invalidUTF8 of the fields of struct v that
// encoding/json writes.
func invalidUTF8Struct(v reflect.Value, depth int) (string, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous || f.Tag.Get("json") == "-" {
			continue
		}
		if where, bad := invalidUTF8(v.Field(i), depth+1); bad {
			return "field " + f.Name + ": " + where, true
		}
	}
	return "", false
}

// invalidUTF8Map is invalidUTF8 of the keys and values of map v.
func invalidUTF8Map(v reflect.Value, depth int) (string, bool) {
	it := v.MapRange()
	for it.Next() {
		if where, bad := invalidUTF8(it.Key(), depth+1); bad {
			return "a map key: " + where, true
		}
		if where, bad := invalidUTF8(it.Value(), depth+1); bad {
			return "a map value: " + where, true
		}
	}
	return "", false
}

// textOf returns the text of a value encoding/json writes through its
// TextMarshaler.
func textOf(v reflect.Value) ([]byte, bool) {
	if !implements(v.Type(), textMarshalerType) {
		return nil, false
	}
	tm, ok := asInterface(v, textMarshalerType).(encoding.TextMarshaler)
	if !ok {
		return nil, false
	}
	b, err := tm.MarshalText()
	if err != nil {
		return nil, false
	}
	return b, true
}

// replacedInvalidUTF8 returns the offset in the JSON document b of the
// first `\ufffd` escape, or -1. encoding/json (and compatible encoders)
// write each invalid UTF-8 byte of a string as that escape, while a real
// U+FFFD in the input is written as its three UTF-8 bytes; so the escape
// means data would be lost. A `\\ufffd` (an escaped backslash followed
// by the letters) is not an escape and is skipped.
func replacedInvalidUTF8(b []byte) int {
	const esc = `\ufffd`
	off := 0
	for {
		i := bytes.Index(b[off:], []byte(esc))
		if i < 0 {
			return -1
		}
		i += off
		n := 0 // backslashes right before the match
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
		off = i + len(esc)
	}
}

// fitsInt reports whether v fits a signed integer of the given bits.
func fitsInt(v int64, bits int) bool {
	if bits >= 64 {
		return true
	}
	lim := int64(1) << (bits - 1)
	return v >= -lim && v < lim
}
