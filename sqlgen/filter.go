package sqlgen

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-b2691315/sqlgen/fields"
)

// Filter selects rows by equality on columns, named as in the database.
// The conditions are ANDed, in the order of the sorted column names so
// the SQL text is deterministic.
//
// A value is converted through its column's field type first (an int32
// filters a BIGINT column, a named string type a VARCHAR column, a struct
// a JSON column), and only the resulting plain [driver.Value] is sent. A
// nil value (or a nil pointer, or the zero value of an implicitnull
// column) means IS NULL. A slice means IN (...) — except where the slice
// is itself one column value ([]byte, a driver.Valuer, a JSON-encoded
// slice, any slice for a JSON column of type any); an array is always one
// value (a [16]byte UUID). An empty slice matches no row, and a nil element
// adds OR ... IS NULL. An IN list that would take the statement past
// [MaxPlaceholders] is written as literals instead (see the README).
//
// A time.Time is sent as the text of its UTC wall clock to the
// microsecond, as it is stored ([fields.TimeValue]).
//
// A JSON column matches a document equal to the value, whatever its key
// order and white space: JSON_EQUALS on MariaDB 10.7 and later,
// CAST(? AS JSON) on MySQL (the server's version is asked once per DB, the
// first time a JSON column is filtered). Older MariaDB has neither; there
// the filter uses JSON_CONTAINS both ways, which compares arrays as sets.
// A JSON column of an interface type (any) is filtered by any value, and
// any JSON column by a json.RawMessage, as a document.
//
// A key may also be a JSON column followed by a path, such as
// "settings.theme", "settings.tags[0]" or `settings."a.b"` (see
// [JSONPath]; column names never hold '.' or '['): it compares the scalar
// at that path with a string, number, bool or nil (absent or JSON null),
// or a slice of them (IN), the same way on MySQL and MariaDB: a string
// only with a JSON string of the same text, a number only with a JSON
// number of the same value as a float64 (1 equals 1.0), a bool only with
// JSON true or false. See the README's "JSON paths".
type Filter map[string]any

// SelectOptions refine a read. The zero value means "no refinement". The
// caller's options are never modified.
type SelectOptions struct {
	// Where is raw SQL, with ? placeholders for Values, ANDed with the
	// filter. It is pasted into the statement as it is: never build it
	// from user input.
	Where  string
	Values []any
	// OrderBy is raw SQL placed after ORDER BY, such as "`age` DESC"; the
	// same warning applies. Prefer Order, which is checked.
	OrderBy string
	// Order sorts by columns of the table, checked against the schema and
	// quoted, so it is safe with column names that come from a request:
	// Order: []sqlgen.Order{sqlgen.Desc("age"), sqlgen.Asc("id")}. An
	// unknown column is an error wrapping [ErrUnknownColumn]. Order and
	// OrderBy cannot both be set. A term may be a JSON path, as in a
	// [Filter] key: it sorts absent and null first, then numbers by
	// value, strings by their bytes, false and true, and objects and
	// arrays last (Desc reverses it all).
	Order []Order
	// Limit caps the number of rows when positive.
	Limit int
	// Offset skips that many rows of the result first (OFFSET n): with a
	// Limit, LIMIT Limit OFFSET Offset; without one, LIMIT
	// 18446744073709551615 OFFSET Offset (MySQL has no OFFSET without a
	// LIMIT: that is its largest row count). A negative Offset is an error
	// wrapping [ErrInvalidArgument]. Give an Order, or the rows skipped are
	// whichever the server meets first. A deep page of Offset costs the
	// server every row it skips; After does not.
	Offset int
	// Columns reads only these columns, named as in the database and
	// checked against the schema (an unknown one is an error wrapping
	// [ErrUnknownColumn]); the other fields of the rows keep their zero
	// value. The primary key need not be among them. Nil or empty reads
	// every column.
	//
	// A row read with Columns is not the row in the table: writing it
	// back with [DB.UpdateRow] (or [DB.UpsertRow], [DB.UpdateRows]) writes
	// every column, so the columns that were not read are overwritten
	// with the zero values the struct holds. Write such a row with
	// UpdateColumns, naming the columns that were read (or changed).
	Columns []string
	// After asks for the rows that come after a row in the order of Order
	// (keyset pagination): the values of that row's Order columns, in
	// order, then those of its primary-key columns that are not among the
	// Order columns. The primary key breaks ties: when After is set
	// (non-nil, even empty), the ORDER BY ends with the primary-key
	// columns that Order does not name, in the direction of the last
	// Order term, so that every row has one place in the order. A first
	// page with After: []any{} (empty, not nil) is read in that same
	// order; so is one whose Order already ends with the primary key.
	//
	// The condition is a row-value comparison ((a,b) > (?,?)) when every
	// Order term goes the same way, and the equivalent chain
	// (a > ? OR (a = ? AND b < ?)) when directions differ; either way it
	// starts with the bound on the first column (a >= ?), which lets the
	// server seek an index on it. A deep page thus costs an index seek,
	// where Offset reads and discards every row before it.
	//
	// Values are converted through their column's field type as filter
	// values are (a time.Time compares with the stored time whatever the
	// DSN's parseTime and loc). After needs Order (not OrderBy); a wrong
	// number of values is an error wrapping [ErrInvalidArgument]. Keyset
	// order columns must be NOT NULL: a column whose field can hold NULL
	// (a pointer, sql.Null*, implicitnull) or a JSON document is refused
	// with an error wrapping [ErrInvalidArgument], since rows holding NULL
	// would be skipped or repeated. [DB.Cursor] takes the values from a
	// row.
	After []any
	// ForUpdate adds FOR UPDATE (meaningful inside a transaction).
	ForUpdate bool
	// UseIndex and ForceIndex add USE INDEX (...) and FORCE INDEX (...)
	// hints naming the table's indexes.
	UseIndex   []string
	ForceIndex []string
	// AllowNoIndex lets this read through the check of a DB made with
	// [DB.RefuseFullScans].
	AllowNoIndex bool
}

// maxSortedKeys is how many filter keys are sorted in a stack array before
// a heap slice is needed.
const maxSortedKeys = 8

// appendWhere appends " WHERE <conditions>" for filter and opts to b, and
// their arguments to args.
func (t *table) appendWhere(b *strings.Builder, args []any, filter Filter, opts *SelectOptions, eq jsonEquality) ([]any, error) {
	return t.appendWhereMode(b, args, filter, opts, eq, false)
}

// appendWhereMode is appendWhere; with inline, the values of IN lists are
// written into the text as literals instead of placeholders.
func (t *table) appendWhereMode(b *strings.Builder, args []any, filter Filter, opts *SelectOptions, eq jsonEquality, inline bool) ([]any, error) {
	var keyArr [maxSortedKeys]string
	keys := keyArr[:0]
	for k := range filter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first := true
	and := func() {
		if first {
			b.WriteString(" WHERE ")
			first = false
		} else {
			b.WriteString(" AND ")
		}
	}
	for _, k := range keys {
		c, ok := t.byName[k]
		if !ok {
			if !isPathKey(k) {
				return nil, fmt.Errorf("sqlgen: filter on table %q: column %q: %w", t.name, k, ErrUnknownColumn)
			}
			pc, err := t.pathColumn(k)
			if err != nil {
				return nil, fmt.Errorf("sqlgen: filter on table %q: %w", t.name, err)
			}
			and()
			if args, err = pc.appendPathCondition(b, args, filter[k], inline); err != nil {
				return nil, fmt.Errorf("sqlgen: filter on table %q JSON path %q: %w", t.name, k, err)
			}
			continue
		}
		and()
		var err error
		if inline {
			args, err = c.appendConditionMode(b, args, filter[k], eq, true)
		} else {
			args, err = c.appendCondition(b, args, filter[k], eq)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlgen: filter on table %q column %q: %w", t.name, k, err)
		}
	}
	if opts != nil && opts.Where != "" {
		and()
		b.WriteByte('(')
		b.WriteString(opts.Where)
		b.WriteByte(')')
		for _, v := range opts.Values {
			v, err := rawValue(v)
			if err != nil {
				return nil, fmt.Errorf("sqlgen: read of table %q: Values: %w", t.name, err)
			}
			args = append(args, v)
		}
	}
	if opts != nil && opts.After != nil {
		if opts.OrderBy != "" {
			return nil, fmt.Errorf("sqlgen: read of table %q: After needs Order, not OrderBy (keyset pagination follows checked columns): %w", t.name, ErrInvalidArgument)
		}
		if len(opts.After) > 0 {
			and()
			var err error
			if args, err = t.appendAfter(b, args, opts); err != nil {
				return nil, err
			}
		}
	}
	return args, nil
}

// rawValue is a value of SelectOptions.Values as it is sent: a time.Time
// (or *time.Time, or a driver.Valuer that returns one, such as
// sql.NullTime) as the UTC text every time is stored as (see
// fields.TimeValue), so that it compares with the stored values whatever
// the DSN's loc; anything else as it is.
func rawValue(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return fields.TimeValue(x)
	case *time.Time:
		if x == nil {
			return nil, nil
		}
		return fields.TimeValue(*x)
	case driver.Valuer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return v, nil // the driver's business, as before
		}
		dv, err := x.Value()
		if err != nil {
			return nil, err
		}
		if t, ok := dv.(time.Time); ok {
			return fields.TimeValue(t)
		}
		return dv, nil
	}
	return v, nil
}

// isList reports whether filter value v is a list of values for c (IN)
// rather than one value: see [fields.Descriptor.IsList]. Only slices are
// lists (never arrays, []byte, driver.Valuer types, or a slice that is
// itself one value of the column).
func (c *column) isList(v any) bool {
	switch v.(type) {
	case nil, int64, int, string, bool, float64, []byte:
		return false
	}
	return c.desc.IsList(reflect.TypeOf(v))
}

// appendCondition appends one column's condition for filter value v.
// eq is how the server compares JSON documents, worked out before
// planning (see [DB.readDialect]) when a JSON column is compared with a
// document.
func (c *column) appendCondition(b *strings.Builder, args []any, v any, eq jsonEquality) ([]any, error) {
	return c.appendConditionMode(b, args, v, eq, false)
}

// appendConditionMode is appendCondition; with inline, the values of an
// IN list are written as literals.
func (c *column) appendConditionMode(b *strings.Builder, args []any, v any, eq jsonEquality, inline bool) ([]any, error) {
	if !c.isList(v) {
		dv, err := c.desc.ValueOf(v)
		if err != nil {
			return nil, err
		}
		if dv != nil && c.desc.IsJSON() && eq == jsonUnknown {
			return nil, fmt.Errorf("sqlgen: column %q: the server's JSON comparison was not worked out before planning the read (a bug of sqlgen)", c.name)
		}
		if !c.desc.IsJSON() {
			eq = jsonUnknown
		}
		return c.appendEqual(b, args, dv, eq), nil
	}
	vals, hasNull, err := c.listValues(v)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 && !hasNull {
		b.WriteString("FALSE") // an empty list matches nothing
		return args, nil
	}
	if !inline {
		for _, dv := range vals {
			args = append(args, dv)
		}
	}
	count := len(vals)
	in := func() {
		if inline {
			c.appendInLiterals(b, vals)
		} else {
			c.appendIn(b, count)
		}
	}
	switch {
	case count == 0:
		b.WriteString(c.quoted)
		b.WriteString(" IS NULL")
	case hasNull:
		b.WriteByte('(')
		in()
		b.WriteString(" OR ")
		b.WriteString(c.quoted)
		b.WriteString(" IS NULL)")
	default:
		in()
	}
	return args, nil
}

// appendInLiterals writes `col` IN (v1,v2,...) with the values as
// literals (see appendLiteral).
func (c *column) appendInLiterals(b *strings.Builder, vals []driver.Value) {
	b.WriteString(c.quoted)
	b.WriteString(" IN (")
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		appendLiteral(b, v)
	}
	b.WriteByte(')')
}

// appendLiteral writes the plain driver value v (as Descriptor.Value and
// ValueOf give them) as an SQL literal that means what the placeholder
// would, and that nothing in v can break out of: integers and bools as
// digits (strconv), floats as DOUBLE literals with an exponent (1.5e+00:
// without one, 1.5 would be a DECIMAL), strings as _utf8mb4 0xhex (a
// string literal like a placeholder's, compared under the column's
// collation, whose text is only hex digits, whatever the server's
// NO_BACKSLASH_ESCAPES or ANSI_QUOTES), and []byte as _binary 0xhex. (The
// empty string is the empty hex literal, X and two quotes, after the
// introducer: 0x needs a digit.)
func appendLiteral(b *strings.Builder, v driver.Value) {
	var buf [32]byte
	switch x := v.(type) {
	case nil:
		b.WriteString("NULL")
	case int64:
		b.Write(strconv.AppendInt(buf[:0], x, 10))
	case uint64:
		b.Write(strconv.AppendUint(buf[:0], x, 10))
	case bool:
		if x {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	case float64:
		b.Write(strconv.AppendFloat(buf[:0], x, 'e', -1, 64))
	case string:
		appendHexLiteral(b, "_utf8mb4 ", x)
	case []byte:
		appendHexLiteral(b, "_binary ", x)
	default:
		// Not a value ValueOf returns; a plain string of its text keeps
		// it safe.
		appendHexLiteral(b, "_utf8mb4 ", fmt.Sprint(x))
	}
}

func appendHexLiteral[S string | []byte](b *strings.Builder, introducer string, s S) {
	b.WriteString(introducer)
	if len(s) == 0 {
		b.WriteString("X''")
		return
	}
	b.WriteString("0x")
	appendHex(b, s)
}

func appendHex[S string | []byte](b *strings.Builder, s S) {
	const digits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
}

func (c *column) appendEqual(b *strings.Builder, args []any, dv driver.Value, eq jsonEquality) []any {
	switch {
	case dv == nil:
		b.WriteString(c.quoted)
		b.WriteString(" IS NULL")
	case c.desc.IsJSON() && eq == jsonEquals:
		// MariaDB (10.11) takes JSON_EQUALS(NULL, x) as true in a WHERE
		// clause, though it selects it as NULL: rule NULL out first.
		// Both documents are compared inside [ ]: MariaDB's JSON_EQUALS
		// (and JSON_NORMALIZE) misread a document that is a bare number
		// with an exponent (1e0, 15e-1), reading the exponent's digits past
		// the end of the text, so the answer changed from row to row; the
		// closing bracket ends the number. (The brackets are CHAR(91) and
		// CHAR(93): the statement's text holds no string literal.)
		b.WriteByte('(')
		b.WriteString(c.quoted)
		b.WriteString(" IS NOT NULL AND JSON_EQUALS(" + jsonOpen)
		b.WriteString(c.quoted)
		b.WriteString(jsonClose + "," + jsonOpen + "?" + jsonClose + "))")
		args = append(args, dv)
	case c.desc.IsJSON() && eq == jsonCast:
		b.WriteString(c.quoted)
		b.WriteString("=CAST(? AS JSON)")
		args = append(args, dv)
	case c.desc.IsJSON():
		b.WriteString("JSON_CONTAINS(")
		b.WriteString(c.quoted)
		b.WriteString(",?) AND JSON_CONTAINS(?,")
		b.WriteString(c.quoted)
		b.WriteByte(')')
		args = append(args, dv, dv)
	default:
		b.WriteString(c.quoted)
		b.WriteString("=?")
		args = append(args, dv)
	}
	return args
}

// jsonOpen and jsonClose wrap a JSON document in [ ] for MariaDB's
// JSON_EQUALS (see appendEqual).
const (
	jsonOpen  = "CONCAT(CHAR(91 USING utf8mb4),"
	jsonClose = ",CHAR(93 USING utf8mb4))"
)

func (c *column) appendIn(b *strings.Builder, n int) {
	b.WriteString(c.quoted)
	b.WriteString(" IN (")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
	}
	b.WriteByte(')')
}

// Order is one term of [SelectOptions].Order: a column, or a JSON path
// on a JSON column (see [Filter]), such as "settings.theme".
type Order struct {
	Column string
	Desc   bool
}

// Asc sorts by column, ascending.
func Asc(column string) Order { return Order{Column: column} }

// Desc sorts by column, descending.
func Desc(column string) Order { return Order{Column: column, Desc: true} }

// orderExpr returns the SQL expression an Order term sorts by, and its
// column: the quoted column, or for a JSON path its sort keys (see
// pathOrderKeys) joined by commas, each of which takes the direction (the
// column returned is then the path's stand-in, whose path field is set).
// An unknown column is an error wrapping [ErrUnknownColumn].
func (t *table) orderExpr(o Order) (string, *column, error) {
	c, ok := t.byName[o.Column]
	if ok {
		return c.quoted, c, nil
	}
	if !isPathKey(o.Column) {
		return "", nil, fmt.Errorf("sqlgen: order of table %q: column %q: %w", t.name, o.Column, ErrUnknownColumn)
	}
	c, err := t.pathColumn(o.Column)
	if err != nil {
		return "", nil, fmt.Errorf("sqlgen: order of table %q: %w", t.name, err)
	}
	k := c.pathOrderKeys()
	return strings.Join(k[:], ","), c, nil
}

// keyTerm is one term of a keyset order: an Order term, or a primary-key
// column that breaks ties.
type keyTerm struct {
	expr string
	col  *column
	desc bool
}

// maxKeyTerms is how many keyset terms are kept in a stack array.
const maxKeyTerms = 8

// appendOrder appends " ORDER BY ..." for opts. With After set, the
// primary-key columns that Order does not name follow, in the direction
// of its last term (see [SelectOptions].After).
func (t *table) appendOrder(b *strings.Builder, opts *SelectOptions) error {
	if len(opts.Order) > 0 && opts.OrderBy != "" {
		return fmt.Errorf("sqlgen: read of table %q: Order and OrderBy are both set: %w", t.name, ErrInvalidArgument)
	}
	if opts.OrderBy != "" {
		b.WriteString(" ORDER BY ")
		b.WriteString(opts.OrderBy)
		return nil
	}
	if opts.After != nil {
		var arr [maxKeyTerms]keyTerm
		terms, err := t.keyTerms(arr[:0], opts)
		if err != nil {
			return err
		}
		for i, k := range terms {
			if i == 0 {
				b.WriteString(" ORDER BY ")
			} else {
				b.WriteByte(',')
			}
			b.WriteString(k.expr)
			if k.desc {
				b.WriteString(" DESC")
			}
		}
		return nil
	}
	for i, o := range opts.Order {
		expr, c, err := t.orderExpr(o)
		if err != nil {
			return err
		}
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteByte(',')
		}
		if c.path != nil {
			// Each sort key takes the direction.
			for j, k := range c.pathOrderKeys() {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(k)
				if o.Desc {
					b.WriteString(" DESC")
				}
			}
			continue
		}
		b.WriteString(expr)
		if o.Desc {
			b.WriteString(" DESC")
		}
	}
	return nil
}

// keyTerms appends to terms the keyset order of opts: its Order terms,
// then the primary-key columns they do not name, in the direction of the
// last Order term. It refuses what keyset pagination cannot do right:
// no Order, an order column that can hold NULL, a JSON document.
func (t *table) keyTerms(terms []keyTerm, opts *SelectOptions) ([]keyTerm, error) {
	if len(opts.Order) == 0 {
		return nil, fmt.Errorf("sqlgen: read of table %q: After needs an Order (keyset pagination follows it; OrderBy is not checked): %w", t.name, ErrInvalidArgument)
	}
	for _, o := range opts.Order {
		expr, c, err := t.orderExpr(o)
		if err != nil {
			return nil, err
		}
		if c.path != nil {
			// A path sorts by three keys (type, number, text) and may be
			// absent: no single value to continue after.
			return nil, fmt.Errorf("sqlgen: read of table %q: After orders by the JSON path %q; keyset pagination needs Order columns, not paths (order by a readonly generated column of the path instead): %w", t.name, o.Column, ErrUnsupported)
		}
		if c.desc.Nullable() {
			return nil, fmt.Errorf("sqlgen: read of table %q: After orders by column %q (field %s), which can hold NULL; keyset pagination needs NOT NULL order columns (rows holding NULL would be skipped): %w", t.name, c.name, c.field, ErrInvalidArgument)
		}
		if c.desc.IsJSON() && expr == c.quoted {
			return nil, fmt.Errorf("sqlgen: read of table %q: After orders by JSON column %q (field %s), whose documents do not compare in the order the server sorts them: %w", t.name, c.name, c.field, ErrInvalidArgument)
		}
		terms = append(terms, keyTerm{expr: expr, col: c, desc: o.Desc})
	}
	last := opts.Order[len(opts.Order)-1].Desc
pk:
	for _, c := range t.primary {
		for _, k := range terms {
			if k.col == c && k.expr == c.quoted {
				continue pk
			}
		}
		terms = append(terms, keyTerm{expr: c.quoted, col: c, desc: last})
	}
	return terms, nil
}

// appendAfter appends the keyset condition of opts.After (see
// [SelectOptions].After) and its arguments: for terms k1..kn and values
// v1..vn, k1 >= v1 AND (k1,...,kn) > (v1,...,vn) when all terms go the
// same way (<= and < when descending), else k1 >= v1 AND (k1 > v1 OR
// (k1 = v1 AND k2 < v2) OR ...), each comparison in its term's
// direction.
func (t *table) appendAfter(b *strings.Builder, args []any, opts *SelectOptions) ([]any, error) {
	var arr [maxKeyTerms]keyTerm
	terms, err := t.keyTerms(arr[:0], opts)
	if err != nil {
		return nil, err
	}
	if len(opts.After) != len(terms) {
		return nil, fmt.Errorf("sqlgen: read of table %q: After has %d values, the keyset order (%s) has %d: %w", t.name, len(opts.After), keyNames(terms), len(terms), ErrInvalidArgument)
	}
	var vbuf [maxKeyTerms]driver.Value
	vals := vbuf[:0]
	same := true
	for i, k := range terms {
		dv, err := k.col.desc.ValueOf(opts.After[i])
		if err != nil {
			return nil, fmt.Errorf("sqlgen: read of table %q: After value %d, for column %q: %w", t.name, i, k.col.name, err)
		}
		if dv == nil {
			return nil, fmt.Errorf("sqlgen: read of table %q: After value %d, for column %q, is NULL: %w", t.name, i, k.col.name, ErrInvalidArgument)
		}
		vals = append(vals, dv)
		same = same && k.desc == terms[0].desc
	}
	op := func(desc, strict bool) string {
		switch {
		case desc && strict:
			return "<"
		case desc:
			return "<="
		case strict:
			return ">"
		}
		return ">="
	}
	if len(terms) == 1 {
		b.WriteString(terms[0].expr)
		b.WriteString(op(terms[0].desc, true))
		b.WriteByte('?')
		return append(args, vals[0]), nil
	}
	// The bound on the first term alone lets the server seek an index
	// on it whatever it makes of the rest.
	b.WriteByte('(')
	b.WriteString(terms[0].expr)
	b.WriteString(op(terms[0].desc, false))
	b.WriteString("? AND ")
	args = append(args, vals[0])
	if same {
		b.WriteByte('(')
		for i, k := range terms {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k.expr)
		}
		b.WriteString(")" + op(terms[0].desc, true) + "(")
		for i := range terms {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteString("))")
		for _, v := range vals {
			args = append(args, v)
		}
		return args, nil
	}
	b.WriteByte('(')
	for i, k := range terms {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('(')
		for j := 0; j < i; j++ {
			b.WriteString(terms[j].expr)
			b.WriteString("=? AND ")
			args = append(args, vals[j])
		}
		b.WriteString(k.expr)
		b.WriteString(op(k.desc, true))
		b.WriteString("?)")
		args = append(args, vals[i])
	}
	b.WriteString("))")
	return args, nil
}

// keyNames lists the columns of a keyset order, for errors.
func keyNames(terms []keyTerm) string {
	var b strings.Builder
	for i, k := range terms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.col.name)
	}
	return b.String()
}

// listValues converts the elements of v, a list filter value for c, to
// driver values, leaving nil elements out and reporting whether there
// were any. An empty list gives no values and no NULL.
func (c *column) listValues(v any) (vals []driver.Value, hasNull bool, err error) {
	rv := reflect.ValueOf(v)
	n := rv.Len()
	vals = make([]driver.Value, 0, n)
	for i := 0; i < n; i++ {
		dv, err := c.desc.ValueOf(rv.Index(i).Interface())
		if err != nil {
			return nil, false, fmt.Errorf("element %d: %w", i, err)
		}
		if dv == nil {
			hasNull = true
			continue
		}
		if c.desc.IsJSON() {
			return nil, false, fmt.Errorf("an IN list is not supported on a JSON column: %w", ErrInvalidArgument)
		}
		vals = append(vals, dv)
	}
	return vals, hasNull, nil
}
