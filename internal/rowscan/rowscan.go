// Package rowscan is the plumbing between package fields and package
// sqlgen that users of fields must not see: row-mode scanners, which
// write a column straight into a field at a byte offset of the struct a
// shared [Row] points at, and the facts about a descriptor that only
// sqlgen's hot paths need.
//
// Package fields owns the implementations (they need its unexported
// state) and hands them over with [Provide] in its init; sqlgen calls
// them through [NewScanner] and [DirectValue]. Being internal, none of
// this (unsafe.Pointer, uintptr offsets) is part of a public API.
package rowscan

import (
	"database/sql"
	"unsafe"
)

// Row is the struct a set of row-mode scanners writes into, shared by all
// of them so that pointing them at the next struct is one store, not one
// per column.
type Row struct{ base unsafe.Pointer }

// Set points every scanner of the row at the struct p points to, which
// must be of the struct type whose field offsets the scanners were made
// with. Set(nil) releases the struct (a pooled set of scanners must not
// keep a caller's struct alive).
func (r *Row) Set(p unsafe.Pointer) { r.base = p }

// Field returns a pointer to the byte at offset off of the current
// struct, or nil when no struct is set.
func (r *Row) Field(off uintptr) unsafe.Pointer {
	if r.base == nil {
		return nil
	}
	return unsafe.Add(r.base, off)
}

// The implementations package fields provides; typed as any so that this
// package does not import fields (fields imports it).
var (
	newScanner  any // func(*D, *Row, uintptr) sql.Scanner
	directValue any // func(*D) bool
)

// Provide is called once, by package fields' init, with its
// implementations for descriptor type D (fields.Descriptor).
func Provide[D any](scanner func(d *D, row *Row, off uintptr) sql.Scanner, direct func(d *D) bool) {
	newScanner, directValue = scanner, direct
}

// NewScanner returns a row-mode scanner (a *fields.Scanner) for the
// column of d whose field is at byte offset off (reflect.StructField.Offset,
// summed along the path of embedded structs) of the struct row points at.
// It writes the common kinds through typed pointers, without reflection,
// and keeps no reference of its own to the struct.
func NewScanner[D any](d *D, row *Row, off uintptr) sql.Scanner {
	return newScanner.(func(*D, *Row, uintptr) sql.Scanner)(d, row, off)
}

// DirectValue reports whether the column's field is its own driver.Value:
// a string, int64, float64 or []byte field (not a pointer, not a named
// type). Descriptor.Value of such a field that is not addressable (a
// field of a struct copied into an interface) returns an interface that
// points at the field's memory, so several such fields cost one copy of
// their struct rather than one allocation each.
func DirectValue[D any](d *D) bool {
	return directValue.(func(*D) bool)(d)
}
