package fields

import (
	"errors"
	"fmt"
	"reflect"
)

// Sentinel errors. Errors returned by this package wrap one of these (or
// the error of a codec or of the user's own Scan/Value method), so callers
// can branch with errors.Is.
var (
	// ErrBadTag is wrapped by errors about a malformed `sql` struct tag.
	ErrBadTag = errors.New("fields: bad struct tag")
	// ErrBadName is wrapped by errors about an invalid table or column name.
	ErrBadName = errors.New("fields: invalid name")
	// ErrUnsupportedType is wrapped when a Go type cannot be mapped to a
	// column.
	ErrUnsupportedType = errors.New("fields: unsupported type")
	// ErrUnexpectedNull is wrapped when SQL NULL is read into a field that
	// cannot hold it (neither a pointer nor tagged implicitnull).
	ErrUnexpectedNull = errors.New("fields: unexpected NULL")
	// ErrConvert is wrapped when a database value does not fit the field
	// (wrong type, out of range, malformed text).
	ErrConvert = errors.New("fields: cannot convert value")
)

// Error describes a failure to convert one column's value, with enough
// context to find the fault: table, column, Go field and type.
type Error struct {
	Op     string // "scan" (database to Go), "value" (Go to database) or "register"
	Table  string // table name, if known
	Column string // column name, if known
	Field  string // Go field, as Struct.Field, if known
	Type   reflect.Type
	Err    error
}

func (e *Error) Error() string {
	where := ""
	if e.Table != "" || e.Column != "" {
		where = fmt.Sprintf(" column %s.%s", e.Table, e.Column)
	}
	field := ""
	if e.Field != "" {
		field = " field " + e.Field
	}
	verb := "reading into"
	switch e.Op {
	case "value":
		verb = "writing from"
	case "register":
		verb = "registering"
	}
	return fmt.Sprintf("fields: %s%s%s (%v): %v", verb, where, field, e.Type, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
