package fields

import (
	"database/sql"
	"database/sql/driver"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// conversion is the one way a Descriptor moves values between Go and SQL,
// chosen once at registration so the per-row path is a switch on it.
type conversion uint8

const (
	convBool conversion = iota + 1
	convInt
	convUint
	convFloat
	convString
	convBytes
	convTime
	convSQL    // the type's own sql.Scanner and driver.Valuer
	convJSON   // the schema's Codec
	convBinary // encoding.BinaryMarshaler / BinaryUnmarshaler
	convProto  // Marshal() ([]byte, error) / Unmarshal([]byte) error
	convText   // encoding.TextMarshaler / TextUnmarshaler
	convArray  // a [N]byte tagged binary: the bytes, exactly N of them
)

// protoMarshaler and protoUnmarshaler are the method pair of
// protobuf-generated (and similar) types.
type protoMarshaler interface{ Marshal() ([]byte, error) }
type protoUnmarshaler interface{ Unmarshal([]byte) error }

var (
	timeType             = reflect.TypeFor[time.Time]()
	scannerType          = reflect.TypeFor[sql.Scanner]()
	valuerType           = reflect.TypeFor[driver.Valuer]()
	binaryMarshalerType  = reflect.TypeFor[encoding.BinaryMarshaler]()
	binaryUnmarshalType  = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textMarshalerType    = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType  = reflect.TypeFor[encoding.TextUnmarshaler]()
	protoMarshalerType   = reflect.TypeFor[protoMarshaler]()
	protoUnmarshalerType = reflect.TypeFor[protoUnmarshaler]()
)

// Descriptor holds everything about one column's Go type, computed once
// when the column is registered and shared by pointer by every [Scanner]
// and [Valuer] of that column. It is immutable after [NewDescriptor].
type Descriptor struct {
	// Table, Column and Field name the column and its Go field
	// ("Struct.Field") in error messages.
	Table, Column, Field string
	// Type is the field's type with one level of pointer removed.
	Type reflect.Type
	// Kind is Type.Kind().
	Kind reflect.Kind
	// Ptr reports whether the field is a pointer (nil means NULL).
	Ptr bool
	// Tag holds the parsed tag options.
	Tag Tag

	conv     conversion
	codec    Codec
	timeText bool         // a Scanner of time.Time that needs DATETIME text parsed first
	ftype    reflect.Type // the field's own type (a pointer type for a pointer field)
	plain    bool         // no implicitnull: scanFast may write the field directly
	direct   bool         // see DirectValue
	// useNumber: a JSON type that holds interface values somewhere, whose
	// numbers are decoded as json.Number to keep them exact.
	useNumber bool
	// checkJSON: a JSON type whose encoding may hold text the encoder
	// copies as it is (json.Marshaler output such as a json.RawMessage,
	// or anything in an interface), checked for invalid UTF-8 and
	// duplicate keys after encoding.
	checkJSON bool
}

// Options are the inputs of [NewDescriptor] besides the type.
type Options struct {
	Table, Column, Field string // for error messages
	Tag                  Tag
	// Codec encodes JSON columns; nil means [JSONCodec].
	Codec Codec
}

// NewDescriptor works out how values of type t move to and from a column,
// and checks it by writing and reading back t's zero value. A type that
// cannot be mapped is an error wrapping [ErrUnsupportedType] that names the
// field and the type.
func NewDescriptor(t reflect.Type, o Options) (*Descriptor, error) {
	d := &Descriptor{Table: o.Table, Column: o.Column, Field: o.Field, Tag: o.Tag, Type: t, codec: o.Codec}
	if d.codec == nil {
		d.codec = JSONCodec{}
	}
	if t.Kind() == reflect.Pointer {
		d.Ptr = true
		d.Type = t.Elem()
		if d.Type.Kind() == reflect.Pointer {
			return nil, d.registerError(t, fmt.Errorf("pointer to pointer: %w", ErrUnsupportedType))
		}
	}
	d.Kind = d.Type.Kind()
	if d.Ptr && d.Tag.ImplicitNull {
		return nil, d.registerError(t, fmt.Errorf("implicitnull cannot be used on a pointer field (a nil pointer already means NULL): %w", ErrBadTag))
	}
	conv, err := chooseConversion(d.Type, d.Tag.Encoding)
	if err != nil {
		return nil, d.registerError(t, err)
	}
	d.conv = conv
	d.ftype = t
	d.plain = !d.Tag.ImplicitNull && (d.Kind != reflect.Int && d.Kind != reflect.Uint || strconv.IntSize == 64)
	d.direct = !d.Ptr && directTypes[d.Type] && (conv == convString || conv == convInt || conv == convFloat || conv == convBytes)
	d.timeText = conv == convSQL && holdsTime(d.Type)
	if conv == convJSON && d.Type != rawMessageType {
		d.useNumber = holdsInterface(d.Type, map[reflect.Type]bool{})
		d.checkJSON = mayHoldRawJSON(d.Type, map[reflect.Type]bool{})
	}
	if err := d.selfCheck(); err != nil {
		return nil, d.registerError(t, err)
	}
	return d, nil
}

// holdsTime reports whether t, a type with its own Scanner and Valuer,
// holds a time: sql.NullTime, sql.Null[time.Time], a struct of the same
// shape (a time.Time and a Valid bool), or a type whose zero value's
// Value method returns a time.Time. Its column is read as the stored text,
// parsed as UTC and handed to its Scan as a time.Time, whatever the DSN
// (see Scanner.Scan).
func holdsTime(t reflect.Type) bool {
	if t == reflect.TypeFor[sql.NullTime]() || t == reflect.TypeFor[sql.Null[time.Time]]() {
		return true
	}
	if t.Kind() == reflect.Struct && t.NumField() == 2 && t.Field(0).Type == timeType &&
		t.Field(1).Name == "Valid" && t.Field(1).Type.Kind() == reflect.Bool {
		return true
	}
	if valuer, ok := asInterface(reflect.New(t).Elem(), valuerType).(driver.Valuer); ok {
		v, err := valuer.Value()
		_, isTime := v.(time.Time)
		return err == nil && isTime
	}
	return false
}

// directTypes are the types that are their own driver.Value. (A time.Time
// is not: it is sent as UTC text, see [Descriptor.Value].)
var directTypes = map[reflect.Type]bool{
	reflect.TypeFor[string]():  true,
	reflect.TypeFor[int64]():   true,
	reflect.TypeFor[float64](): true,
	reflect.TypeFor[[]byte]():  true,
}

// DirectValue reports whether the field's value is its own driver.Value: a
// string, int64, float64 or []byte field (not a pointer, not a named
// type). [Descriptor.Value] of such a field that is not addressable
// (a field of a struct copied into an interface) returns an interface
// that points at the field's memory, so several such fields cost one copy
// of their struct rather than one allocation each.
func (d *Descriptor) DirectValue() bool { return d.direct }

func (d *Descriptor) registerError(t reflect.Type, err error) error {
	return &Error{Op: "register", Table: d.Table, Column: d.Column, Field: d.Field, Type: t, Err: err}
}

// implements reports whether t or *t implements iface.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

func chooseConversion(t reflect.Type, enc Encoding) (conversion, error) {
	ptr := reflect.PointerTo(t)
	switch enc {
	case EncodingJSON:
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			return 0, fmt.Errorf("a %s cannot be encoded as JSON: %w", t.Kind(), ErrUnsupportedType)
		}
		return convJSON, nil
	case EncodingBinary:
		if implements(t, binaryMarshalerType) && ptr.Implements(binaryUnmarshalType) {
			return convBinary, nil
		}
		if implements(t, protoMarshalerType) && ptr.Implements(protoUnmarshalerType) {
			return convProto, nil
		}
		if isByteSlice(t) {
			return convBytes, nil // the bytes are the encoding
		}
		if t.Kind() == reflect.Array && t.Elem().Kind() == reflect.Uint8 {
			return convArray, nil
		}
		return 0, fmt.Errorf("the binary option needs encoding.BinaryMarshaler and BinaryUnmarshaler, or Marshal() ([]byte, error) and Unmarshal([]byte) error methods, or a []byte or [N]byte type: %w", ErrUnsupportedType)
	case EncodingText:
		if implements(t, textMarshalerType) && ptr.Implements(textUnmarshalerType) {
			return convText, nil
		}
		if isByteSlice(t) {
			return convBytes, nil // the bytes are the text
		}
		return 0, fmt.Errorf("the string option needs encoding.TextMarshaler and TextUnmarshaler, or a []byte type: %w", ErrUnsupportedType)
	}
	if t == timeType || (t.Kind() == reflect.Struct && t.ConvertibleTo(timeType) && !reflect.PointerTo(t).Implements(scannerType)) {
		return convTime, nil // time.Time, or a named type of it
	}
	if ptr.Implements(scannerType) {
		if !implements(t, valuerType) {
			return 0, fmt.Errorf("implements sql.Scanner but not driver.Valuer, so it cannot be written: %w", ErrUnsupportedType)
		}
		return convSQL, nil
	}
	if implements(t, valuerType) {
		return 0, fmt.Errorf("implements driver.Valuer but not sql.Scanner, so it cannot be read: %w", ErrUnsupportedType)
	}
	switch t.Kind() {
	case reflect.Bool:
		return convBool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return convInt, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return convUint, nil
	case reflect.Float32, reflect.Float64:
		return convFloat, nil
	case reflect.String:
		return convString, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return convBytes, nil
		}
		return 0, fmt.Errorf("a slice needs the json tag option (`sql:\",json\"`): %w", ErrUnsupportedType)
	case reflect.Map, reflect.Struct:
		return 0, fmt.Errorf("a %s needs the json tag option (`sql:\",json\"`), or sql.Scanner and driver.Valuer methods: %w", t.Kind(), ErrUnsupportedType)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return 0, fmt.Errorf("a byte array needs the binary tag option (`sql:\",binary\"`, stored as its bytes), or the json option: %w", ErrUnsupportedType)
		}
		return 0, fmt.Errorf("an array needs the json tag option (`sql:\",json\"`), or sql.Scanner and driver.Valuer methods: %w", ErrUnsupportedType)
	}
	return 0, fmt.Errorf("a %s cannot be stored in a column: %w", t.Kind(), ErrUnsupportedType)
}

// selfCheck writes the zero value of the type and reads it back, so that a
// type whose own methods cannot handle it fails at registration rather
// than at its first query.
func (d *Descriptor) selfCheck() error {
	field := reflect.New(d.Type) // *T: a pointer field pointing at a zero T
	var src reflect.Value
	if d.Ptr {
		src = field
	} else {
		src = field.Elem()
	}
	v, err := d.Value(src)
	if err != nil {
		return fmt.Errorf("writing the zero value: %w", err)
	}
	dst := reflect.New(src.Type()).Elem()
	s := d.Scanner()
	s.Target(dst)
	if err := s.Scan(v); err != nil {
		return fmt.Errorf("reading back the zero value: %w", err)
	}
	return nil
}

// Conversion names the way d maps values, for documentation and errors:
// "bool", "int", "uint", "float", "string", "bytes", "time", "sql"
// (the type's own Scanner/Valuer), "json", "binary", "proto" or "text".
//
// A [N]byte tagged binary is "bytes" too: it is stored as its bytes.
func (d *Descriptor) Conversion() string {
	return [...]string{"", "bool", "int", "uint", "float", "string", "bytes", "time", "sql", "json", "binary", "proto", "text", "bytes"}[d.conv]
}

// Nullable reports whether the column can hold NULL: a pointer field, an
// implicitnull field, a JSON or []byte column (nil map, slice or pointer),
// or a type with its own Scanner (such as sql.NullString).
func (d *Descriptor) Nullable() bool {
	if d.Ptr || d.Tag.ImplicitNull || d.conv == convSQL {
		return true
	}
	switch d.conv {
	case convJSON:
		return d.Kind == reflect.Map || d.Kind == reflect.Slice || d.Kind == reflect.Pointer || d.Kind == reflect.Interface
	case convBytes:
		return true
	}
	return false
}

// IsTime reports whether the field holds a time the package reads from
// DATETIME text: a time.Time (or a named type of it), sql.NullTime or
// sql.Null[time.Time], or a pointer to one.
func (d *Descriptor) IsTime() bool { return d.conv == convTime || d.timeText }

// IsJSON reports whether the column is stored as JSON.
func (d *Descriptor) IsJSON() bool { return d.conv == convJSON }

// IsScalarSlice reports whether a value of the field's own type is a slice
// that stands for one column value ([]byte, or any JSON-encoded slice), as
// opposed to a list of values.
func (d *Descriptor) IsScalarSlice() bool {
	return d.Kind == reflect.Slice && (d.conv == convBytes || d.conv == convJSON || d.conv == convSQL || d.conv == convBinary || d.conv == convProto || d.conv == convText)
}

// IsList reports whether a value of type t given for this column (a
// filter value) is a list of values (SQL IN) rather than one value. Only
// slices are lists, and not all of them: a slice of bytes ([]byte,
// json.RawMessage, named byte slices), a type that implements
// driver.Valuer, and a slice that is itself one value of the column (the
// field's own type or one convertible to it, for a []byte, JSON, binary,
// string or Scanner column; any slice for a JSON column of an interface
// type, such as any) are one value. Arrays are never lists: a [16]byte
// UUID or a JSON [2]int is one value.
func (d *Descriptor) IsList(t reflect.Type) bool {
	if t == nil || t.Kind() != reflect.Slice || t.Elem().Kind() == reflect.Uint8 {
		return false
	}
	if t.Implements(valuerType) {
		return false
	}
	if t == d.Type || d.IsScalarSlice() && t.ConvertibleTo(d.Type) {
		return false
	}
	if d.conv == convJSON && d.Kind == reflect.Interface && t.Implements(d.Type) {
		return false
	}
	return true
}

func isByteSlice(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

var (
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// holdsInterface reports whether decoding JSON into a t may store a value
// in an interface (where encoding/json would put a float64 for a number),
// looking through pointers, slices, arrays, map values and struct fields,
// but not into types that decode themselves.
func holdsInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); (f.IsExported() || f.Anonymous) && holdsInterface(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// mayHoldRawJSON reports whether encoding a t may copy text the encoder
// does not write itself: the output of a json.Marshaler (a
// json.RawMessage, say; time.Time excepted), anything in an interface, or
// map keys written by a TextMarshaler (two keys may write the same text).
func mayHoldRawJSON(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if t == timeType {
		return false
	}
	if t.Kind() == reflect.Interface || implements(t, jsonMarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Map:
		if k := t.Key(); k.Kind() != reflect.String && implements(k, textMarshalerType) {
			return true
		}
		return mayHoldRawJSON(t.Elem(), seen)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return mayHoldRawJSON(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); (f.IsExported() || f.Anonymous) && mayHoldRawJSON(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// Scanner returns a new [Scanner] for this column.
func (d *Descriptor) Scanner() *Scanner { return &Scanner{d: d} }

// Valuer pairs d with field, a value of the field's type (a pointer for a
// pointer field). It is built on demand and meant to be used at once.
func (d *Descriptor) Valuer(field reflect.Value) Valuer { return Valuer{d: d, v: field} }

func (d *Descriptor) errorf(op string, format string, args ...any) error {
	return &Error{Op: op, Table: d.Table, Column: d.Column, Field: d.Field, Type: d.fieldType(), Err: fmt.Errorf(format, args...)}
}

func (d *Descriptor) wrap(op string, err error) error {
	return &Error{Op: op, Table: d.Table, Column: d.Column, Field: d.Field, Type: d.fieldType(), Err: err}
}

func (d *Descriptor) fieldType() reflect.Type {
	if d.Ptr {
		return reflect.PointerTo(d.Type)
	}
	return d.Type
}
