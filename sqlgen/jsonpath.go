package sqlgen

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON paths in filters and orders.
//
// A Filter key or an Order column may be a JSON column followed by a
// path: settings.theme, settings.tags[0], settings."a.b"[2].x. Column
// names cannot hold '.' or '[' (fields.ValidateName refuses them), so the
// column is the text before the first of them, and the rest is the path:
//
//   - .name: the member name of an object, up to the next '.' or '['
//     (not empty);
//   - ."text": the member name given as a JSON string (escapes decoded),
//     for names holding '.', '[' or '"', or empty ([JSONPath] writes
//     every name this way);
//   - [n]: the n-th element (from 0) of an array, n decimal digits.
//
// Anything else is an error wrapping [ErrInvalidArgument]; a path on a
// column that is not JSON too, and an unknown column one wrapping
// [ErrUnknownColumn].
//
// In the SQL, the path is MySQL's path syntax ($."name"[n], each name
// quoted, escaped as the schema's JSON encoder escapes member names, so
// that MariaDB, which compares member names as they are spelled in the
// document, finds them) written as a hex literal: nothing in a name
// reaches the statement's text but hex digits.

// maxPathSteps bounds the steps of a path (MySQL's documents nest at most
// 100 deep).
const maxPathSteps = 100

// maxCachedPaths bounds the parsed paths a table keeps; past it, paths
// are parsed on every use (paths from requests cannot grow the table's
// memory without bound).
const maxCachedPaths = 1024

// pathStep is one step of a JSON path: a member name, or an array index
// when index >= 0.
type pathStep struct {
	key   string
	index int
}

// jsonPath is a parsed path on a JSON column. A path is used as a
// *column (see table.pathColumn) whose path field points here, so that
// the shape cache keys on it as on a column.
type jsonPath struct {
	base  *column
	steps []pathStep
	text  string // $."a"[2], as sent to the server
	expr  string // JSON_EXTRACT(`col`,<text as a hex literal>)
}

// isPathKey reports whether a Filter key or Order column is a JSON path
// rather than a column name.
func isPathKey(k string) bool { return strings.ContainsAny(k, ".[") }

// pathColumn returns the column that stands for the JSON path key (see
// jsonPath), parsing it the first time.
func (t *table) pathColumn(key string) (*column, error) {
	if v, ok := t.paths.Load(key); ok {
		return v.(*column), nil
	}
	p, err := t.parsePath(key)
	if err != nil {
		return nil, err
	}
	c := &column{name: key, quoted: p.expr, field: p.base.field, desc: p.base.desc, index: p.base.index, offset: p.base.offset, path: p}
	if t.npaths.Add(1) <= maxCachedPaths {
		v, _ := t.paths.LoadOrStore(key, c)
		return v.(*column), nil
	}
	return c, nil
}

// parsePath parses key, a JSON column followed by a path.
func (t *table) parsePath(key string) (*jsonPath, error) {
	i := strings.IndexAny(key, ".[")
	if i < 0 {
		return nil, fmt.Errorf("column %q: %w", key, ErrUnknownColumn)
	}
	name, rest := key[:i], key[i:]
	base, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("JSON path %q: column %q: %w", key, name, ErrUnknownColumn)
	}
	if !base.desc.IsJSON() {
		return nil, fmt.Errorf("JSON path %q: column %q (field %s) is not a JSON column: %w", key, name, base.field, ErrInvalidArgument)
	}
	p := &jsonPath{base: base}
	for rest != "" {
		if len(p.steps) == maxPathSteps {
			return nil, fmt.Errorf("JSON path %q has more than %d steps: %w", key, maxPathSteps, ErrInvalidArgument)
		}
		var step pathStep
		var err error
		step, rest, err = parseStep(rest)
		if err != nil {
			return nil, fmt.Errorf("JSON path %q: %w", key, err)
		}
		p.steps = append(p.steps, step)
	}
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range p.steps {
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		b.WriteByte('.')
		b.Write(quoteMember(s.key))
	}
	p.text = b.String()
	var e strings.Builder
	e.WriteString("JSON_EXTRACT(")
	e.WriteString(base.quoted)
	e.WriteByte(',')
	appendHexLiteral(&e, "_utf8mb4 ", p.text)
	e.WriteByte(')')
	p.expr = e.String()
	return p, nil
}

// parseStep parses the first step of s, which starts with '.' or '['.
func parseStep(s string) (pathStep, string, error) {
	switch s[0] {
	case '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return pathStep{}, "", fmt.Errorf("%q: no closing ]: %w", s, ErrInvalidArgument)
		}
		digits := s[1:end]
		if digits == "" || len(digits) > 9 || strings.Trim(digits, "0123456789") != "" {
			return pathStep{}, "", fmt.Errorf("array index [%s]: want decimal digits (0 to 999999999): %w", digits, ErrInvalidArgument)
		}
		n, _ := strconv.Atoi(digits)
		return pathStep{index: n}, s[end+1:], nil
	case '.':
		s = s[1:]
		if strings.HasPrefix(s, `"`) {
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return pathStep{}, "", fmt.Errorf("member name %s: no closing quote: %w", s, ErrInvalidArgument)
			}
			var key string
			if err := json.Unmarshal([]byte(s[:end+1]), &key); err != nil {
				return pathStep{}, "", fmt.Errorf("member name %s is not a JSON string: %v: %w", s[:end+1], err, ErrInvalidArgument)
			}
			if !utf8.ValidString(s[:end+1]) {
				return pathStep{}, "", fmt.Errorf("member name %s is not valid UTF-8: %w", s[:end+1], ErrInvalidArgument)
			}
			rest := s[end+1:]
			if rest != "" && rest[0] != '.' && rest[0] != '[' {
				return pathStep{}, "", fmt.Errorf("%q after member name %s: want . or [: %w", rest, s[:end+1], ErrInvalidArgument)
			}
			return pathStep{key: key, index: -1}, rest, nil
		}
		end := strings.IndexAny(s, ".[")
		if end < 0 {
			end = len(s)
		}
		if end == 0 {
			return pathStep{}, "", fmt.Errorf("empty member name (write an empty name as \"\"): %w", ErrInvalidArgument)
		}
		if !utf8.ValidString(s[:end]) {
			return pathStep{}, "", fmt.Errorf("member name %q is not valid UTF-8: %w", s[:end], ErrInvalidArgument)
		}
		return pathStep{key: s[:end], index: -1}, s[end:], nil
	}
	return pathStep{}, "", fmt.Errorf("%q: want . or [: %w", s, ErrInvalidArgument)
}

// quoteMember returns name as a quoted JSON string spelled as
// [fields.JSONCodec] spells member names (json.Marshal, with <, > and &
// left as they are): MariaDB finds a member only when the path spells
// its name as the document does.
func quoteMember(name string) []byte {
	q, _ := json.Marshal(name) // a string always marshals
	if !bytes.Contains(q, []byte(`\u00`)) {
		return q
	}
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); i++ {
		if q[i] != '\\' || i+1 == len(q) {
			out = append(out, q[i])
			continue
		}
		if q[i+1] == 'u' && i+6 <= len(q) {
			switch string(q[i+2 : i+6]) {
			case "003c":
				out = append(out, '<')
				i += 5
				continue
			case "003e":
				out = append(out, '>')
				i += 5
				continue
			case "0026":
				out = append(out, '&')
				i += 5
				continue
			}
		}
		out = append(out, q[i], q[i+1])
		i++
	}
	return out
}

// JSONPath returns the Filter key (or Order column) of the value at a path
// in a JSON column: each step is a member name (a string, any text at
// all, written quoted) or an array index (an int, 0 or more).
// JSONPath("settings", "a.b", 2) is `settings."a.b"[2]`. A step of another
// type, or a negative index, gives a key that the read refuses with an
// error wrapping [ErrInvalidArgument].
func JSONPath(column string, steps ...any) string {
	var b strings.Builder
	b.WriteString(column)
	for _, s := range steps {
		switch x := s.(type) {
		case string:
			b.WriteByte('.')
			q, _ := json.Marshal(x)
			b.Write(q)
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(x))
			b.WriteByte(']')
		default:
			fmt.Fprintf(&b, "[%T]", s)
		}
	}
	return b.String()
}

// pathKind is the JSON type a path's filter value compares with.
type pathKind uint8

const (
	pathNull pathKind = iota
	pathNumber
	pathString
	pathBool
)

// pathValue converts a filter value compared with the scalar at a JSON
// path: nil (or a nil pointer) to pathNull; a string kind to its text; a
// bool kind to "true" or "false" (the text JSON_UNQUOTE gives); an
// integer or float kind, or a json.Number, to a float64.
func pathValue(v any) (pathKind, driver.Value, error) {
	switch x := v.(type) {
	case nil:
		return pathNull, nil, nil
	case string:
		return pathString, x, nil
	case bool:
		return pathBool, boolText(x), nil
	case int:
		return pathNumber, float64(x), nil
	case int64:
		return pathNumber, float64(x), nil
	case float64:
		return pathNumber, x, checkFinite(x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, nil, fmt.Errorf("json.Number %q: %v: %w", string(x), err, ErrInvalidArgument)
		}
		return pathNumber, f, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return pathNull, nil, nil
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.String:
		if n, ok := rv.Interface().(json.Number); ok {
			return pathValue(n)
		}
		return pathString, rv.String(), nil
	case reflect.Bool:
		return pathBool, boolText(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return pathNumber, float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return pathNumber, float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return pathNumber, f, checkFinite(f)
	}
	return 0, nil, fmt.Errorf("a JSON path compares with a string, a number, a bool or nil, not a %T: %w", v, ErrInvalidArgument)
}

func checkFinite(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%v is not a JSON number: %w", f, ErrInvalidArgument)
	}
	return nil
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// isPathList reports whether v, a filter value on a JSON path, is an IN
// list: any slice but []byte.
func isPathList(v any) bool {
	switch v.(type) {
	case nil, string, bool, int, int64, float64, json.Number:
		return false
	}
	t := reflect.TypeOf(v)
	return t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8
}

// pathValues is a filter value on a JSON path, converted and sorted by
// the JSON type it compares with.
type pathValues struct {
	null  bool
	nums  []driver.Value // float64
	strs  []driver.Value // string
	bools []driver.Value // "true" or "false"
	none  bool           // an empty list
}

func convertPathValues(v any) (pathValues, error) {
	var pv pathValues
	add := func(v any) error {
		k, dv, err := pathValue(v)
		if err != nil {
			return err
		}
		switch k {
		case pathNull:
			pv.null = true
		case pathNumber:
			pv.nums = append(pv.nums, dv)
		case pathString:
			pv.strs = append(pv.strs, dv)
		case pathBool:
			pv.bools = append(pv.bools, dv)
		}
		return nil
	}
	if !isPathList(v) {
		if _, ok := v.([]byte); ok {
			return pv, fmt.Errorf("a JSON path compares with a string, a number, a bool or nil, not a []byte: %w", ErrInvalidArgument)
		}
		return pv, add(v)
	}
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.Len(); i++ {
		if err := add(rv.Index(i).Interface()); err != nil {
			return pv, fmt.Errorf("element %d: %w", i, err)
		}
	}
	pv.none = rv.Len() == 0
	return pv, nil
}

// The SQL of a path's JSON types, the same on MySQL (whose JSON_TYPE also
// says UNSIGNED INTEGER and DECIMAL) and MariaDB.
const (
	sqlIsNumber = " IN ('INTEGER','UNSIGNED INTEGER','DOUBLE','DECIMAL')"
	sqlIsString = "='STRING'"
	sqlIsBool   = "='BOOLEAN'"
)

// appendPathCondition appends the condition of a filter value v on the
// JSON path of c (see the README's "JSON paths" section for what it
// means). With inline, the values are written as literals. Each
// comparison is inside a CASE on the JSON type, so that the server never
// converts a value of another type (and warns about it).
func (c *column) appendPathCondition(b *strings.Builder, args []any, v any, inline bool) ([]any, error) {
	pv, err := convertPathValues(v)
	if err != nil {
		return nil, err
	}
	if pv.none {
		b.WriteString("FALSE")
		return args, nil
	}
	e := c.path.expr
	parts := 0
	if pv.null {
		parts++
	}
	for _, l := range [][]driver.Value{pv.nums, pv.strs, pv.bools} {
		if len(l) > 0 {
			parts++
		}
	}
	if parts > 1 {
		b.WriteByte('(')
	}
	n := 0
	sep := func() {
		if n > 0 {
			b.WriteString(" OR ")
		}
		n++
	}
	if pv.null {
		sep()
		b.WriteString("(" + e + " IS NULL OR JSON_TYPE(" + e + ")='NULL')")
	}
	group := func(vals []driver.Value, isType, value string) {
		if len(vals) == 0 {
			return
		}
		sep()
		b.WriteString("(CASE WHEN JSON_TYPE(" + e + ")" + isType + " THEN " + value + " END)")
		args = appendValueList(b, args, vals, inline)
	}
	group(pv.nums, sqlIsNumber, "CAST(JSON_UNQUOTE("+e+") AS DOUBLE)")
	group(pv.strs, sqlIsString, "CAST(JSON_UNQUOTE("+e+") AS BINARY)")
	group(pv.bools, sqlIsBool, "JSON_UNQUOTE("+e+")")
	if parts > 1 {
		b.WriteByte(')')
	}
	return args, nil
}

// appendValueList writes =? or IN (?,...) for vals, as placeholders
// (appending vals to args) or, with inline, literals.
func appendValueList(b *strings.Builder, args []any, vals []driver.Value, inline bool) []any {
	if len(vals) == 1 {
		b.WriteByte('=')
	} else {
		b.WriteString(" IN (")
	}
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		if inline {
			appendLiteral(b, v)
		} else {
			b.WriteByte('?')
			args = append(args, v)
		}
	}
	if len(vals) > 1 {
		b.WriteByte(')')
	}
	return args
}

// pathOrderKeys returns the sort keys of an Order on the JSON path of c:
// the JSON type's rank (absent or null 0, numbers 1, strings 2, booleans
// 3, arrays and objects 4), then numbers by value (as doubles), then
// strings and booleans by their UTF-8 bytes (false before true).
func (c *column) pathOrderKeys() [3]string {
	e := c.path.expr
	t := "JSON_TYPE(" + e + ")"
	return [3]string{
		"(CASE WHEN " + e + " IS NULL OR " + t + "='NULL' THEN 0 WHEN " + t + sqlIsNumber + " THEN 1 WHEN " + t + sqlIsString + " THEN 2 WHEN " + t + sqlIsBool + " THEN 3 ELSE 4 END)",
		"(CASE WHEN " + t + sqlIsNumber + " THEN CAST(JSON_UNQUOTE(" + e + ") AS DOUBLE) END)",
		"(CASE WHEN " + t + " IN ('STRING','BOOLEAN') THEN CAST(JSON_UNQUOTE(" + e + ") AS BINARY) END)",
	}
}
