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
	"unsafe"

	"github.com/seed-b2691315/sqlgen/internal/rowscan"
)

// Conversion is the one way a [Descriptor] moves values between Go and
// SQL, chosen once at registration (see [Descriptor.Conversion]). Each
// conversion has its own scan and value functions, which the descriptor
// keeps, so the per-value path calls the chosen one and never decides
// again.
type Conversion uint8

// The conversions.
const (
	ConvBool      Conversion = iota + 1 // a bool kind
	ConvInt                             // a signed integer kind
	ConvUint                            // an unsigned integer kind
	ConvFloat                           // float32 or float64
	ConvString                          // a string kind
	ConvBytes                           // a []byte (or one tagged binary or string)
	ConvTime                            // time.Time or a named type of it
	ConvSQL                             // the type's own sql.Scanner and driver.Valuer
	ConvJSON                            // the schema's Codec (the json tag option)
	ConvBinary                          // encoding.BinaryMarshaler / BinaryUnmarshaler
	ConvProto                           // Marshal() ([]byte, error) / Unmarshal([]byte) error
	ConvText                            // encoding.TextMarshaler / TextUnmarshaler
	ConvByteArray                       // a [N]byte tagged binary: the bytes, exactly N of them
)

// String names the conversion: "bool", "int", "uint", "float", "string",
// "bytes", "time", "sql", "json", "binary", "proto", "text" or
// "bytearray".
func (c Conversion) String() string {
	names := [...]string{"", "bool", "int", "uint", "float", "string", "bytes", "time", "sql", "json", "binary", "proto", "text", "bytearray"}
	if int(c) < len(names) && c != 0 {
		return names[c]
	}
	return "Conversion(" + strconv.Itoa(int(c)) + ")"
}

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
// and [Valuer] of that column. It is immutable: its state is unexported
// and read through its methods, and [NewDescriptor] is the only way to
// make one.
type Descriptor struct {
	table, column, field string       // for error messages
	typ                  reflect.Type // the field's type, one pointer level removed
	kind                 reflect.Kind // typ.Kind()
	ptr                  bool         // the field is a pointer (nil means NULL)
	tag                  Tag
	conv                 Conversion
	codec                Codec
	ftype                reflect.Type // the field's own type (a pointer type for a pointer field)
	bits                 int          // typ.Bits() for a number kind
	timeText             bool         // a Scanner of time.Time that needs DATETIME text parsed first
	direct               bool         // see rowscan.DirectValue
	nullable             bool         // see Nullable
	nullZero             bool         // NULL reads as the field's zero value
	scalarSlice          bool         // see isScalarSlice
	ofInt, ofString      bool         // ValueOf may return an int64 or string as it is
	// useNumber: a JSON type that holds interface values somewhere, whose
	// numbers are decoded as json.Number to keep them exact.
	useNumber bool
	// checkJSON: a JSON type whose encoding may hold text the encoder
	// copies as it is (json.Marshaler output such as a json.RawMessage,
	// or anything in an interface), checked for invalid UTF-8 and
	// duplicate keys after encoding.
	checkJSON bool

	// The conversion's functions, chosen once by setFuncs.
	scanFn  func(d *Descriptor, v reflect.Value, src any) error        // src not nil, v of type typ
	valueFn func(d *Descriptor, v reflect.Value) (driver.Value, error) // v of type typ
	fromFn  fromFunc                                                   // ValueOf of another type of the family; may be nil
	fastFn  func(p unsafe.Pointer, src any) bool                       // row mode without reflection; may be nil
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
	d := &Descriptor{table: o.Table, column: o.Column, field: o.Field, tag: o.Tag, typ: t, ftype: t, codec: o.Codec}
	if d.codec == nil {
		d.codec = JSONCodec{}
	}
	if t.Kind() == reflect.Pointer {
		d.ptr = true
		d.typ = t.Elem()
		if d.typ.Kind() == reflect.Pointer {
			return nil, d.registerError(t, fmt.Errorf("pointer to pointer: %w", ErrUnsupportedType))
		}
	}
	d.kind = d.typ.Kind()
	if d.ptr && d.tag.ImplicitNull {
		return nil, d.registerError(t, fmt.Errorf("implicitnull cannot be used on a pointer field (a nil pointer already means NULL): %w", ErrBadTag))
	}
	conv, err := chooseConversion(d.typ, d.tag.Encoding)
	if err != nil {
		return nil, d.registerError(t, err)
	}
	d.conv = conv
	switch d.kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		d.bits = d.typ.Bits()
	}
	d.direct = !d.ptr && directTypes[d.typ] && (conv == ConvString || conv == ConvInt || conv == ConvFloat || conv == ConvBytes)
	d.timeText = conv == ConvSQL && holdsTime(d.typ)
	d.nullable = d.ptr || d.tag.ImplicitNull || conv == ConvSQL || conv == ConvBytes ||
		conv == ConvJSON && (d.kind == reflect.Map || d.kind == reflect.Slice || d.kind == reflect.Pointer || d.kind == reflect.Interface)
	d.nullZero = d.ptr || d.tag.ImplicitNull || conv == ConvJSON || conv == ConvBytes
	d.scalarSlice = d.kind == reflect.Slice && (conv == ConvBytes || conv == ConvJSON || conv == ConvSQL || conv == ConvBinary || conv == ConvProto || conv == ConvText)
	d.ofInt = !d.tag.ImplicitNull && conv == ConvInt
	d.ofString = !d.tag.ImplicitNull && conv == ConvString
	if conv == ConvJSON && d.typ != rawMessageType {
		d.useNumber = holdsInterface(d.typ, map[reflect.Type]bool{})
		d.checkJSON = mayHoldRawJSON(d.typ, map[reflect.Type]bool{})
	}
	d.setFuncs()
	if err := d.selfCheck(); err != nil {
		return nil, d.registerError(t, err)
	}
	return d, nil
}

// convFuncs are the scan, value and ValueOf functions of each conversion.
var convFuncs = [...]struct {
	scan  func(*Descriptor, reflect.Value, any) error
	value func(*Descriptor, reflect.Value) (driver.Value, error)
	from  fromFunc
}{
	ConvBool:      {scanBool, valueBool, fromBool},
	ConvInt:       {scanInt, valueInt, fromInteger},
	ConvUint:      {scanUint, valueUint, fromInteger},
	ConvFloat:     {scanFloat, valueFloat, fromFloat},
	ConvString:    {scanString, valueString, fromString},
	ConvBytes:     {scanBytes, valueBytes, fromBytes},
	ConvTime:      {scanTime, valueTime, nil},
	ConvSQL:       {scanSQL, valueSQL, nil},
	ConvJSON:      {scanJSON, valueJSON, fromJSON},
	ConvBinary:    {scanBinary, valueBinary, nil},
	ConvProto:     {scanProto, valueProto, nil},
	ConvText:      {scanText, valueText, nil},
	ConvByteArray: {scanByteArray, valueByteArray, nil},
}

// setFuncs chooses the conversion's scan, value and ValueOf functions, and
// the row-mode fast path for the field's kind. This is the one place that
// decides by the conversion: the per-value paths call what it chose.
func (d *Descriptor) setFuncs() {
	f := convFuncs[d.conv]
	d.scanFn, d.valueFn, d.fromFn = f.scan, f.value, f.from
	switch {
	case d.conv == ConvJSON && d.typ == rawMessageType:
		d.scanFn, d.valueFn = scanRawJSON, valueRawJSON
	case d.direct:
		// Not addressable (a field of a struct copy in an interface): the
		// interface points at the field's memory, without an allocation.
		switch d.conv {
		case ConvString:
			d.valueFn = valueDirectString
		case ConvInt:
			d.valueFn = valueDirectInt
		case ConvFloat:
			d.valueFn = valueDirectFloat
		case ConvBytes:
			d.valueFn = valueDirectBytes
		}
	}
	if !d.ptr && !d.tag.ImplicitNull {
		d.fastFn = fastScanner(d.conv, d.kind)
	}
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

func (d *Descriptor) registerError(t reflect.Type, err error) error {
	return &Error{Op: "register", Table: d.table, Column: d.column, Field: d.field, Type: t, Err: err}
}

// implements reports whether t or *t implements iface.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

func chooseConversion(t reflect.Type, enc Encoding) (Conversion, error) {
	ptr := reflect.PointerTo(t)
	switch enc {
	case EncodingJSON:
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			return 0, fmt.Errorf("a %s cannot be encoded as JSON: %w", t.Kind(), ErrUnsupportedType)
		}
		return ConvJSON, nil
	case EncodingBinary:
		if implements(t, binaryMarshalerType) && ptr.Implements(binaryUnmarshalType) {
			return ConvBinary, nil
		}
		if implements(t, protoMarshalerType) && ptr.Implements(protoUnmarshalerType) {
			return ConvProto, nil
		}
		if isByteSlice(t) {
			return ConvBytes, nil // the bytes are the encoding
		}
		if t.Kind() == reflect.Array && t.Elem().Kind() == reflect.Uint8 {
			return ConvByteArray, nil
		}
		return 0, fmt.Errorf("the binary option needs encoding.BinaryMarshaler and BinaryUnmarshaler, or Marshal() ([]byte, error) and Unmarshal([]byte) error methods, or a []byte or [N]byte type: %w", ErrUnsupportedType)
	case EncodingText:
		if implements(t, textMarshalerType) && ptr.Implements(textUnmarshalerType) {
			return ConvText, nil
		}
		if isByteSlice(t) {
			return ConvBytes, nil // the bytes are the text
		}
		return 0, fmt.Errorf("the string option needs encoding.TextMarshaler and TextUnmarshaler, or a []byte type: %w", ErrUnsupportedType)
	}
	if t == timeType || (t.Kind() == reflect.Struct && t.ConvertibleTo(timeType) && !reflect.PointerTo(t).Implements(scannerType)) {
		return ConvTime, nil // time.Time, or a named type of it
	}
	if ptr.Implements(scannerType) {
		if !implements(t, valuerType) {
			return 0, fmt.Errorf("implements sql.Scanner but not driver.Valuer, so it cannot be written: %w", ErrUnsupportedType)
		}
		return ConvSQL, nil
	}
	if implements(t, valuerType) {
		return 0, fmt.Errorf("implements driver.Valuer but not sql.Scanner, so it cannot be read: %w", ErrUnsupportedType)
	}
	switch t.Kind() {
	case reflect.Bool:
		return ConvBool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ConvInt, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ConvUint, nil
	case reflect.Float32, reflect.Float64:
		return ConvFloat, nil
	case reflect.String:
		return ConvString, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return ConvBytes, nil
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
	field := reflect.New(d.typ) // *T: a pointer field pointing at a zero T
	var src reflect.Value
	if d.ptr {
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

// Table returns the table name given in [Options], for error messages.
func (d *Descriptor) Table() string { return d.table }

// Column returns the column name given in [Options].
func (d *Descriptor) Column() string { return d.column }

// Field returns the Go field ("Struct.Field") given in [Options].
func (d *Descriptor) Field() string { return d.field }

// Type returns the field's type with one level of pointer removed.
func (d *Descriptor) Type() reflect.Type { return d.typ }

// FieldType returns the field's own type: a pointer type for a pointer
// field, else the same as [Descriptor.Type].
func (d *Descriptor) FieldType() reflect.Type { return d.ftype }

// Kind returns Type().Kind().
func (d *Descriptor) Kind() reflect.Kind { return d.kind }

// Ptr reports whether the field is a pointer (a nil pointer is NULL).
func (d *Descriptor) Ptr() bool { return d.ptr }

// Tag returns (a copy of) the parsed tag options.
func (d *Descriptor) Tag() Tag { return d.tag }

// Conversion returns the way d maps values. A [N]byte tagged binary is
// [ConvByteArray]; a []byte tagged binary or string is [ConvBytes].
func (d *Descriptor) Conversion() Conversion { return d.conv }

// Nullable reports whether the column can hold NULL: a pointer field, an
// implicitnull field, a JSON column of a map, slice, pointer or interface
// type, a []byte column, or a type with its own Scanner (such as
// sql.NullString).
func (d *Descriptor) Nullable() bool { return d.nullable }

// IsTime reports whether the field holds a time the package reads from
// DATETIME text: a time.Time (or a named type of it), sql.NullTime or
// sql.Null[time.Time], or a pointer to one.
func (d *Descriptor) IsTime() bool { return d.conv == ConvTime || d.timeText }

// IsJSON reports whether the column is stored as JSON.
func (d *Descriptor) IsJSON() bool { return d.conv == ConvJSON }

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
	if t == d.typ || d.scalarSlice && t.ConvertibleTo(d.typ) {
		return false
	}
	if d.conv == ConvJSON && d.kind == reflect.Interface && t.Implements(d.typ) {
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
	return &Error{Op: op, Table: d.table, Column: d.column, Field: d.field, Type: d.ftype, Err: fmt.Errorf(format, args...)}
}

func (d *Descriptor) wrap(op string, err error) error {
	return &Error{Op: op, Table: d.table, Column: d.column, Field: d.field, Type: d.ftype, Err: err}
}

func init() {
	rowscan.Provide(newRowScanner, func(d *Descriptor) bool { return d.direct })
}
