package sqlgen

import (
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"time"
)

// Columns returns the column names of the registered table named table,
// in the order of the struct's fields: the order of the SELECT list of
// every read, and the order [Schema.BuildStruct] expects and
// [Schema.UnbuildStruct] returns. The slice is the caller's to keep.
func (s *Schema) Columns(table string) ([]string, error) {
	t, err := s.tableByName(table)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: Columns: %w", err)
	}
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return names, nil
}

// BuildStruct returns a new *T, for the struct type T registered as table,
// holding the values of row: one value per column, in [Schema.Columns]
// order, as a SELECT of the table or a change-data-capture (binlog) reader
// gives them. Each value goes through its column's [fields.Scanner], so
// every rule of a query applies: an int64 into an int32 field is checked
// for overflow, JSON arrives as []byte or string and is decoded (numbers
// in interface values, such as those of an any or map[string]any field,
// as json.Number, exactly), NULL (nil) is refused for a field that cannot
// hold it, DATETIME text is parsed as UTC, and a time.Time is taken as
// the stored wall clock: its wall clock in its own location is read as
// UTC, as for a driver with parseTime=true and another loc (sqlgen stores
// UTC wall clocks, see [fields.TimeValue]).
//
// The values are the plain [driver.Value] types (nil, int64, uint64,
// float64, bool, []byte, string, time.Time); binlog readers also produce
// other integer widths (int8, int32, uint16, ...) and named types, which
// are first widened to int64 (or uint64) and to their underlying string,
// []byte or bool type. float32 is kept as it is (a float field takes it
// exactly). A row image is in the live table's column order, which may
// differ from the struct's: reorder it with [Schema.Columns] first.
//
// A row of the wrong length is an error wrapping [ErrInvalidArgument] that
// gives both counts; a value that does not convert is a [*fields.Error]
// naming the table, column and field (wrapping [ErrConvert],
// [ErrUnexpectedNull] or the codec's error). []byte values are copied,
// never kept.
func (s *Schema) BuildStruct(table string, row []driver.Value) (any, error) {
	t, err := s.tableByName(table)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: BuildStruct: %w", err)
	}
	if len(row) != len(t.columns) {
		return nil, fmt.Errorf("sqlgen: BuildStruct of table %q: the row has %d values, the table has %d columns: %w", t.name, len(row), len(t.columns), ErrInvalidArgument)
	}
	p := reflect.New(t.typ)
	set := t.getScanners()
	defer t.putScanners(set)
	set.row.Set(p.UnsafePointer())
	for i := range t.columns {
		if err := set.scanners[i].Scan(normalizeDriverValue(row[i])); err != nil {
			return nil, fmt.Errorf("sqlgen: BuildStruct of table %q, value %d: %w", t.name, i, err)
		}
	}
	return p.Interface(), nil
}

// normalizeDriverValue turns the non-standard values a binlog reader
// produces into plain driver values: any integer kind into int64 (uint64
// above math.MaxInt64), and named string, []byte and bool types into
// their underlying type. Everything else is returned as it is.
func normalizeDriverValue(v driver.Value) driver.Value {
	switch v.(type) {
	case nil, int64, uint64, float64, float32, bool, []byte, string, time.Time:
		return v
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u > math.MaxInt64 {
			return u
		} else {
			return int64(u)
		}
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return rv.Bytes()
		}
	}
	return v
}

// UnbuildStruct returns the driver values of strct, a *T or a T for the
// struct type T registered as table, one per column in [Schema.Columns]
// order: exactly the values an insert of strct sends (JSON as a string,
// times as the text of their UTC wall clock to the microsecond, NULL as
// nil). A value of another type, or a nil pointer, is an error
// wrapping [ErrInvalidArgument]; a field whose value cannot be written (a
// JSON encoding error, say) is a [*fields.Error] naming the column.
func (s *Schema) UnbuildStruct(table string, strct any) ([]any, error) {
	t, err := s.tableByName(table)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: UnbuildStruct: %w", err)
	}
	rv := reflect.ValueOf(strct)
	if rv.Kind() == reflect.Pointer && rv.Type().Elem() == t.typ {
		if rv.IsNil() {
			return nil, fmt.Errorf("sqlgen: UnbuildStruct of table %q: a nil %T: %w", t.name, strct, ErrInvalidArgument)
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() || rv.Type() != t.typ {
		return nil, fmt.Errorf("sqlgen: UnbuildStruct of table %q: want a *%v or %v, not %T: %w", t.name, t.typ, t.typ, strct, ErrInvalidArgument)
	}
	out := make([]any, 0, len(t.columns))
	out, err = t.rowValues(out, rv, t.columns, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: UnbuildStruct of table %q: %w", t.name, err)
	}
	return out, nil
}
