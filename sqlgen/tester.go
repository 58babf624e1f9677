package sqlgen

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"

	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/internal/jsontext"
)

// Tester tells whether a row matches a [Filter], in memory. See
// [Schema.MakeTester].
type Tester interface {
	// Test reports whether row, a *T or a T for the tester's table type,
	// matches the filter.
	Test(row any) bool
}

// MakeTester returns a [Tester] that evaluates filter against structs of
// the registered table named table the way the server evaluates it in a
// query ([DB.Query] with the same filter), so that change streams, caches
// and tests can tell which rows a filter selects without a round trip.
//
// The filter means what it means in a query: conditions are ANDed; each
// value is converted with its column's field type first (an int32 matches
// an int64 field, a named string type a string field), and the field's own
// value is converted the same way before comparing; nil (or a nil pointer,
// or the zero value of an implicitnull column) matches NULL only, that is
// a nil pointer, an implicitnull zero value, a nil []byte, or a nil JSON
// map, slice, pointer or interface; a slice is an IN list (unless it is
// itself one column value, such as a []byte for a []byte column), an empty
// list matches nothing, and a nil element also matches NULL; a NULL field
// never equals a value. []byte values compare with bytes.Equal, numbers by
// value, times as the UTC text both sides are sent as (instants equal to
// the microsecond, as a DATETIME(6) holds them), and JSON columns by
// document, as MariaDB's JSON_EQUALS compares them: key order and white
// space do not matter, array order does, numbers compare by their exact
// decimal value (1, 1.0 and 1e0 are equal; 9007199254740993 and
// 9007199254740992 are not), and strings by their text as encoded, escapes
// included. Filter values are converted once, here.
//
// Differences from the server, which compares stored values under the
// column's collation and type:
//
//   - Strings compare exactly, byte for byte, as under a binary collation.
//     MySQL's default collations (utf8mb4_general_ci, utf8mb4_0900_ai_ci)
//     are case- and accent-insensitive, and the PAD SPACE ones ignore
//     trailing spaces, so the server can match rows the Tester does not
//     ("Ann" = "ann"). Use a binary (or _bin) collation where the two must
//     agree.
//   - The Tester sees the struct's value, not the stored one: a time with
//     a fraction of a second in a DATETIME column without fractional
//     digits (or any time in a DATE column), a string longer than its
//     column, or a float64 field on a FLOAT column is compared before the
//     server would round or truncate it. (Times are compared to the
//     microsecond, as a DATETIME(6) holds them, and a float32 field agrees
//     with a FLOAT column: both the filter value and the field are
//     rounded to float32 first.)
//   - JSON documents compare as MariaDB 10.7+ compares them. MySQL 8
//     differs on documents sqlgen's encoder does not write: it decodes
//     string escapes before comparing ("\u0041" equals "A" there, and
//     not in MariaDB or the Tester), and it holds numbers as int64,
//     uint64 or double, so two numbers that differ beyond a double's
//     precision (1.5 and 1.50000000000000000001) are equal there. A
//     document with a key twice in one object is refused as a filter value
//     (the servers compare it differently); a row holding one tests false. On MariaDB before 10.7 the
//     query's condition (JSON_CONTAINS both ways) is looser on arrays: it
//     also matches the same elements in another order or repeated, such
//     as [1,2] for [2,1], which the Tester does not.
//
// A key that is a JSON path (see [Filter]) is evaluated on the decoded
// document as the servers evaluate it (the README's "JSON paths" says
// how); the document is decoded on every Test.
//
// An unknown column is an error wrapping [ErrUnknownColumn]; a value that
// cannot be converted one wrapping [ErrConvert]; an IN list with non-nil
// values on a JSON column one wrapping [ErrInvalidArgument], as in a query.
// Test returns false for a row of another type, a nil pointer, or a field
// whose value cannot be converted (the row could not have been written).
// A Tester is immutable and safe for concurrent use.
func (s *Schema) MakeTester(table string, filter Filter) (Tester, error) {
	t, err := s.tableByName(table)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: MakeTester: %w", err)
	}
	keys := make([]string, 0, len(filter))
	for k := range filter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ts := &tester{typ: t.typ, conds: make([]testerCond, 0, len(keys))}
	for _, k := range keys {
		c, ok := t.byName[k]
		if !ok && isPathKey(k) {
			pc, err := t.pathColumn(k)
			if err != nil {
				return nil, fmt.Errorf("sqlgen: MakeTester on table %q: %w", t.name, err)
			}
			cond, err := newPathTesterCond(pc, filter[k])
			if err != nil {
				return nil, fmt.Errorf("sqlgen: MakeTester on table %q JSON path %q: %w", t.name, k, err)
			}
			ts.paths = append(ts.paths, cond)
			continue
		}
		if !ok {
			return nil, fmt.Errorf("sqlgen: MakeTester on table %q: column %q: %w", t.name, k, ErrUnknownColumn)
		}
		cond, err := newTesterCond(c, filter[k])
		if err != nil {
			return nil, fmt.Errorf("sqlgen: MakeTester on table %q column %q: %w", t.name, k, err)
		}
		ts.conds = append(ts.conds, cond)
	}
	return ts, nil
}

// tester is the [Tester] of [Schema.MakeTester].
type tester struct {
	typ   reflect.Type
	conds []testerCond
	paths []pathTesterCond // conditions on JSON paths (jsonpath_tester.go)
}

// testerMode says how a condition reads its field: straight from the
// reflect.Value for the plain kinds, or through the descriptor's Value.
type testerMode uint8

const (
	modeGeneric testerMode = iota
	modeInt
	modeUint
	modeFloat
	modeString
	modeBool
	modeJSON
)

// testerCond is one column's condition, with its filter values converted.
type testerCond struct {
	c    *column
	mode testerMode
	none bool // an empty list: nothing matches
	null bool // NULL matches
	// The non-nil candidates, in the form the mode compares.
	vals    []driver.Value
	ints    []int64
	uints   []uint64
	floats  []float64
	strs    []string
	bools   []bool
	jsonDoc []string // JSON documents, canonical (jsontext.Canonical)
}

func newTesterCond(c *column, v any) (testerCond, error) {
	d := c.desc
	cond := testerCond{c: c, mode: modeGeneric}
	if !d.Tag().ImplicitNull {
		switch d.Conversion() {
		case fields.ConvInt:
			cond.mode = modeInt
		case fields.ConvUint:
			cond.mode = modeUint
		case fields.ConvFloat:
			cond.mode = modeFloat
		case fields.ConvString:
			cond.mode = modeString
		case fields.ConvBool:
			cond.mode = modeBool
		}
	}
	if d.IsJSON() {
		cond.mode = modeJSON
	}
	var vals []driver.Value
	if !c.isList(v) {
		dv, err := d.ValueOf(v)
		if err != nil {
			return cond, err
		}
		if dv == nil {
			cond.null = true
		} else {
			vals = []driver.Value{dv}
		}
	} else {
		var err error
		if vals, cond.null, err = c.listValues(v); err != nil {
			return cond, err
		}
		cond.none = len(vals) == 0 && !cond.null
	}
	if err := cond.setValues(vals); err != nil {
		return cond, err
	}
	return cond, nil
}

// setValues records vals, the non-nil converted filter values, in the form
// the condition's mode compares. ValueOf gives each mode its own type; if
// it ever does not, the condition falls back to the generic comparison
// rather than guess.
func (cond *testerCond) setValues(vals []driver.Value) error {
	if cond.mode == modeJSON {
		for _, dv := range vals {
			doc, err := canonicalJSON(dv)
			if err != nil {
				return fmt.Errorf("reading the filter's JSON document: %w: %w", err, ErrConvert)
			}
			cond.jsonDoc = append(cond.jsonDoc, doc)
		}
		return nil
	}
	ok := true
	for _, dv := range vals {
		switch x := dv.(type) {
		case int64:
			switch cond.mode {
			case modeInt:
				cond.ints = append(cond.ints, x)
			case modeUint:
				cond.uints = append(cond.uints, uint64(x))
			default:
				ok = false
			}
		case uint64:
			ok = ok && cond.mode == modeUint
			cond.uints = append(cond.uints, x)
		case float64:
			ok = ok && cond.mode == modeFloat
			cond.floats = append(cond.floats, x)
		case string:
			ok = ok && cond.mode == modeString
			cond.strs = append(cond.strs, x)
		case bool:
			ok = ok && cond.mode == modeBool
			cond.bools = append(cond.bools, x)
		default:
			ok = false
		}
	}
	if !ok || cond.mode == modeGeneric {
		cond.mode = modeGeneric
		cond.ints, cond.uints, cond.floats, cond.strs, cond.bools = nil, nil, nil, nil, nil
		cond.vals = vals
	}
	return nil
}

// Test implements [Tester].
func (ts *tester) Test(row any) bool {
	rv := reflect.ValueOf(row)
	if !rv.IsValid() {
		return false
	}
	if rv.Kind() == reflect.Pointer {
		if rv.Type().Elem() != ts.typ || rv.IsNil() {
			return false
		}
		rv = rv.Elem()
	} else if rv.Type() != ts.typ {
		return false
	}
	for i := range ts.conds {
		if !ts.conds[i].test(rv) {
			return false
		}
	}
	for i := range ts.paths {
		if !ts.paths[i].test(rv) {
			return false
		}
	}
	return true
}

// test reports whether struct value sv satisfies the condition.
func (cond *testerCond) test(sv reflect.Value) bool {
	if cond.none {
		return false
	}
	d := cond.c.desc
	f := cond.c.fieldOf(sv)
	if cond.mode != modeGeneric && cond.mode != modeJSON {
		if d.Ptr() {
			if f.IsNil() {
				return cond.null
			}
			f = f.Elem()
		}
		switch cond.mode {
		case modeInt:
			return slices.Contains(cond.ints, f.Int())
		case modeUint:
			return slices.Contains(cond.uints, f.Uint())
		case modeFloat:
			x := f.Float()
			return slices.Contains(cond.floats, x)
		case modeString:
			return slices.Contains(cond.strs, f.String())
		case modeBool:
			return slices.Contains(cond.bools, f.Bool())
		}
	}
	dv, err := d.Value(f)
	if err != nil {
		return false
	}
	if dv == nil {
		return cond.null
	}
	if cond.mode == modeJSON {
		if len(cond.jsonDoc) == 0 {
			return false
		}
		doc, err := canonicalJSON(dv)
		if err != nil {
			return false
		}
		return slices.Contains(cond.jsonDoc, doc)
	}
	for _, want := range cond.vals {
		if equalDriverValues(dv, want) {
			return true
		}
	}
	return false
}

// canonicalJSON returns the canonical form of a JSON column's driver
// value (a string, or []byte): equal exactly when MariaDB's JSON_EQUALS
// finds the documents equal (see internal/jsontext).
func canonicalJSON(dv driver.Value) (string, error) {
	switch x := dv.(type) {
	case string:
		return jsontext.Canonical([]byte(x))
	case []byte:
		return jsontext.Canonical(x)
	}
	return "", fmt.Errorf("a JSON value of type %T", dv)
}
