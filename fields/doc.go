// Package fields moves one column's values between Go and SQL.
//
// A [Descriptor] is built once per column when a struct type is registered
// (by the sqlgen package, or directly with [NewDescriptor]). It records the
// field's type with one pointer level removed ([Descriptor.Type]), whether
// the field is a pointer ([Descriptor.Ptr]), the options of its `sql`
// struct tag ([Descriptor.Tag]), and the one [Conversion] to use, and it
// checks that conversion by writing and reading back the type's zero
// value, so an unsupported type fails at registration and not at its
// first query. A Descriptor is immutable: its state is unexported and its
// methods return copies.
//
// The conversion is chosen once: NewDescriptor picks the conversion's scan
// and value functions (and, for the common kinds, a function that writes
// the field through a typed pointer without reflection) and the
// descriptor keeps them, so reading or writing a value calls the chosen
// function rather than deciding again which conversion applies.
//
// Descriptors hand out two small proxies that share them by pointer:
//
//   - A [Scanner] is a [database/sql.Scanner]: [Scanner.Target] points it
//     at a field of the final struct and Scan writes the driver's value
//     straight into it, then forgets the field.
//   - A [Valuer] is a [database/sql/driver.Valuer] pairing the descriptor
//     with a field value; [Descriptor.Value] and [Descriptor.ValueOf] give
//     the same plain [database/sql/driver.Value] without the proxy.
//
// The package's API is what a user of fields alone needs: descriptors,
// their proxies, [Codec], tag parsing and the errors. The plumbing only
// the sqlgen package needs (scanners that write at a byte offset of a
// shared struct pointer, so that a pooled set of them moves to the next
// row with one store) lives in an internal package and is not part of it.
//
// # Supported types
//
// With or without a pointer (a nil pointer is NULL): bool; every int and
// uint kind (a uint64 above math.MaxInt64 is sent as uint64 and fits
// BIGINT UNSIGNED; a value that does not fit its field is an error, never
// wrapped around); float32 and float64; string; []byte (copied out of the
// driver's buffer; a nil slice is NULL); time.Time; named types of all of
// these; and any type whose pointer implements [database/sql.Scanner] and
// which implements [database/sql/driver.Valuer], such as sql.NullString,
// sql.Null[T] or a [16]byte UUID type.
//
// A time.Time (and sql.NullTime, sql.Null[time.Time], or a Valuer that
// returns a time.Time) is written as the text of its UTC wall clock to the
// microsecond ([TimeValue]), never as a time.Time, which the driver would
// convert to the DSN's loc; it is read from DATETIME text (what sqlgen
// selects) as UTC, and a time.Time from a driver or a caller is taken as
// the stored wall clock in its own location and read as UTC
// ([UTCWallClock]). So the instant survives whatever the DSN's parseTime
// and loc. A Scanner of such a time type gets a time.Time in UTC.
//
// # Tag options
//
//   - json: any Go type stored as a JSON document through the schema's
//     [Codec] (encoding/json by default). A nil pointer, map, slice or
//     interface is written as SQL NULL, never as the JSON text null; SQL
//     NULL reads back as nil, or as the zero value for other types. Values
//     are sent as a string, not []byte. Decoding reads the driver's bytes
//     in place and starts from the zero value, so maps never merge (a
//     type that holds an interface somewhere is decoded with a
//     json.Decoder and UseNumber, its numbers as json.Number, exact; see
//     [NumberCodec]). A nullable column whose value encodes as null (a
//     typed nil in an interface) is written as SQL NULL too. The default
//     codec does not escape <, > and & (a column is not HTML). A
//     json.RawMessage is the document itself: stored and read byte for
//     byte, once checked to be one JSON value in valid UTF-8 (its raw
//     bytes: a \ufffd escape is fine). A document with a key twice in one
//     object is written as given (MySQL keeps the last, MariaDB both) and
//     refused as a filter value (ValueOf).
//   - binary: encoding.BinaryMarshaler/BinaryUnmarshaler, or the
//     Marshal() ([]byte, error) / Unmarshal([]byte) error pair of
//     protobuf-generated types (which get their own copy of the bytes); a
//     []byte is stored as its bytes, a [N]byte as exactly N bytes.
//   - string: encoding.TextMarshaler/TextUnmarshaler (net.IP, netip.Addr);
//     a []byte is stored as its bytes.
//   - implicitnull: the zero value is written as NULL and NULL reads as
//     the zero value; refused on pointer fields.
//   - version: the field is its table's optimistic-locking version
//     column ([Tag.Version]); sqlgen checks the field's type.
//   - readonly ([Tag].ReadOnly): the column is never written (a generated
//     column); it changes nothing here, and sqlgen leaves it out of its
//     writes. Refused with primary.
//
// Reading NULL into a field that cannot hold it (not a pointer, not
// implicitnull, not a JSON, []byte or Scanner field) is an error wrapping
// [ErrUnexpectedNull]. Every conversion error is an [*Error] naming the
// table, column, Go field and type.
package fields
