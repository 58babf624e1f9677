package sqlgen

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/seed-b2691315/sqlgen/fields"
)

// goShape is the Go side of a column as far as the SQL type goes: the
// family of values the field holds and, for numbers, its width. It is
// shared by [Schema.CreateTableSQL] (which picks a type for it) and
// [Schema.Check] (which decides whether a live type can hold it).
type goShape struct {
	// family is "bool", "int", "uint", "float", "string", "bytes", "time",
	// "json", "binary" (binary and proto encodings), "text" (the string
	// encoding), or "" when it cannot be known (a type with its own Scanner
	// and Valuer that gives no hint).
	family string
	// bits is the width of an int, uint or float family; 0 means unknown.
	bits int
}

// shapeOf works out the shape of a column from its descriptor. A type with
// its own Scanner and Valuer is looked through when it has the shape of
// the sql.Null types (two exported fields, the second `Valid bool`, such as
// sql.NullString or sql.Null[int64]); otherwise the type of the driver
// value its zero value writes is used, when it writes one.
func shapeOf(d *fields.Descriptor) goShape {
	switch conv := d.Conversion(); conv {
	case fields.ConvInt, fields.ConvUint, fields.ConvFloat:
		return goShape{family: conv.String(), bits: d.Type().Bits()}
	case fields.ConvBool, fields.ConvString, fields.ConvBytes, fields.ConvTime, fields.ConvJSON, fields.ConvBinary, fields.ConvText:
		return goShape{family: conv.String()}
	case fields.ConvByteArray:
		return goShape{family: "bytes"}
	case fields.ConvProto:
		return goShape{family: "binary"}
	case fields.ConvSQL:
		if d.IsTime() {
			// sql.NullTime and the like, and a Valuer that returns a
			// time.Time (sent as UTC text, see fields.TimeValue).
			return goShape{family: "time"}
		}
		if inner, ok := nullStructValue(d.Type()); ok {
			if s, ok := plainShape(inner); ok {
				return s
			}
		}
		if v, err := d.Value(reflect.New(d.Type()).Elem()); err == nil && v != nil {
			return driverValueShape(v)
		}
	}
	return goShape{}
}

// nullStructValue returns the type of the value field of a struct shaped
// like the sql.Null types: exactly two exported fields, the second named
// Valid and of type bool.
func nullStructValue(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct || t.NumField() != 2 {
		return nil, false
	}
	v, valid := t.Field(0), t.Field(1)
	if !v.IsExported() || valid.Name != "Valid" || valid.Type.Kind() != reflect.Bool {
		return nil, false
	}
	return v.Type, true
}

// plainShape is the shape of a plain Go type with a natural SQL mapping.
func plainShape(t reflect.Type) (goShape, bool) {
	if t == reflect.TypeFor[time.Time]() {
		return goShape{family: "time"}, true
	}
	switch t.Kind() {
	case reflect.Bool:
		return goShape{family: "bool"}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return goShape{family: "int", bits: t.Bits()}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return goShape{family: "uint", bits: t.Bits()}, true
	case reflect.Float32, reflect.Float64:
		return goShape{family: "float", bits: t.Bits()}, true
	case reflect.String:
		return goShape{family: "string"}, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return goShape{family: "bytes"}, true
		}
	}
	return goShape{}, false
}

// driverValueShape is the shape of the type of a plain driver value. The
// width of a number is unknown: the Go type behind it may be narrower.
func driverValueShape(v driver.Value) goShape {
	switch v.(type) {
	case int64:
		return goShape{family: "int"}
	case uint64:
		return goShape{family: "uint"}
	case float64:
		return goShape{family: "float"}
	case bool:
		return goShape{family: "bool"}
	case []byte:
		return goShape{family: "bytes"}
	case string:
		return goShape{family: "string"}
	case time.Time:
		return goShape{family: "time"}
	}
	return goShape{}
}

// ddlType returns the SQL type [Schema.CreateTableSQL] gives column c.
func ddlType(t *table, c *column) (string, error) {
	s := shapeOf(c.desc)
	intType := func(bits int) string {
		switch bits {
		case 8:
			return "TINYINT"
		case 16:
			return "SMALLINT"
		case 32:
			return "INT"
		}
		return "BIGINT"
	}
	switch s.family {
	case "bool":
		return "TINYINT(1)", nil
	case "int":
		return intType(s.bits), nil
	case "uint":
		return intType(s.bits) + " UNSIGNED", nil
	case "float":
		if s.bits == 32 {
			return "FLOAT", nil
		}
		return "DOUBLE", nil
	case "string", "text":
		return "VARCHAR(255)", nil
	case "bytes", "binary":
		if c.primary {
			return "VARBINARY(255)", nil
		}
		return "LONGBLOB", nil
	case "time":
		return "DATETIME(6)", nil
	case "json":
		if c.primary {
			return "", fmt.Errorf("sqlgen: CreateTableSQL of table %q: column %q (field %s) is a JSON primary-key column, which MySQL cannot index: %w", t.name, c.name, c.field, ErrUnsupported)
		}
		return "JSON", nil
	}
	if c.primary {
		return "VARCHAR(255)", nil
	}
	return "LONGTEXT", nil
}

// CreateTableSQL returns a CREATE TABLE statement for the registered table
// named table, derived from its struct type alone: one line per column in
// field order, then the primary key, with backtick-quoted names and
// `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`. The same schema always gives the
// same text.
//
// Column types follow the fields' Go types and tags:
//
//	bool                         TINYINT(1)
//	int8, int16, int32           TINYINT, SMALLINT, INT
//	int, int64                   BIGINT
//	uint8 ... uint64, uint       the same, UNSIGNED
//	float32, float64             FLOAT, DOUBLE
//	string, `sql:",string"`      VARCHAR(255)
//	[]byte, `sql:",binary"`      LONGBLOB (VARBINARY(255) in the primary key)
//	time.Time                    DATETIME(6)
//	`sql:",json"`                JSON (refused in the primary key)
//	sql.Scanner types            by the type of their value: sql.NullString is
//	                             VARCHAR(255), sql.Null[int64] BIGINT, sql.NullTime
//	                             DATETIME(6); LONGTEXT when it cannot be told
//
// Strings are VARCHAR(255) everywhere, so that any of them can be a key or
// be indexed later (a composite key of at most three such columns fits
// InnoDB's 3072-byte limit in utf8mb4); change the statement for longer
// text. A column is NULL when its field can hold NULL ([fields.Descriptor.Nullable]:
// pointers, implicitnull, []byte, JSON maps, slices, pointers and
// interfaces, Scanner types) and NOT NULL otherwise; primary-key columns
// are always NOT NULL. The key column of an [AutoIncrement] table is
// AUTO_INCREMENT. Secondary indexes are not generated.
//
// An unregistered table is an error wrapping [ErrNotRegistered]; a JSON
// primary-key column one wrapping [ErrUnsupported], and so is a readonly
// column (a generated column: its expression is not in the struct),
// naming the column.
func (s *Schema) CreateTableSQL(table string) (string, error) {
	t, err := s.tableByName(table)
	if err != nil {
		return "", fmt.Errorf("sqlgen: CreateTableSQL: %w", err)
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(t.quoted)
	b.WriteString(" (\n")
	for _, c := range t.columns {
		if c.readonly {
			return "", fmt.Errorf("sqlgen: CreateTableSQL of table %q: column %q (field %s) is readonly, a generated column whose expression the struct does not say; write this table's CREATE TABLE by hand: %w",
				t.name, c.name, c.field, ErrUnsupported)
		}
		typ, err := ddlType(t, c)
		if err != nil {
			return "", err
		}
		b.WriteString("  ")
		b.WriteString(c.quoted)
		b.WriteByte(' ')
		b.WriteString(typ)
		if c.desc.Nullable() && !c.primary {
			b.WriteString(" NULL")
		} else {
			b.WriteString(" NOT NULL")
		}
		if c == t.autoInc {
			b.WriteString(" AUTO_INCREMENT")
		}
		b.WriteString(",\n")
	}
	b.WriteString("  PRIMARY KEY (")
	b.WriteString(joinQuoted(t.primary, ""))
	b.WriteString(")\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
	return b.String(), nil
}
