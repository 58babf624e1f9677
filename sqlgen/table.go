package sqlgen

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/internal/rowscan"
)

// table is everything known about one registered struct type, computed
// once by RegisterType. Nothing on the per-row path looks a name up in a
// map or parses a tag.
type table struct {
	name    string
	quoted  string // `name`
	typ     reflect.Type
	pk      PrimaryKeyType
	columns []*column
	byName  map[string]*column
	primary []*column // primary-key columns, in field order
	others  []*column // the rest
	version *column   // the optimistic-locking version column (`sql:",version"`), if any
	// The columns writes set: writable (INSERT, upsert) and updatable
	// (an upsert's ON DUPLICATE KEY UPDATE) leave out the readonly
	// columns; without any they are columns and others.
	writable  []*column
	updatable []*column
	// The columns of each write statement, in the order of its
	// arguments, built in one place (buildSQL):
	setCols    []*column // those an UPDATE sets from the row: updatable, less the version
	updateCols []*column // the UPDATE's: setCols, primary, then the version read
	deleteCols []*column // the DELETE's: primary, then the version read
	autoInc    *column   // the AutoIncrement column, if any

	// SQL text of the fixed statements, built once.
	selectSQL     string // SELECT `a`,`b` FROM `t`
	countSQL      string // SELECT COUNT(*) FROM `t`
	insertSQL     string // all columns
	insertAutoSQL string // all but the AutoIncrement column
	upsertSQL     string
	upsertSuffix  string // " ON DUPLICATE KEY UPDATE ..."
	updateSQL     string
	deleteSQL     string
	// deleteSmall says that the DELETE's statement, with its fixed-size
	// key values, surely fits any server's max_allowed_packet (1 KiB at
	// least): DeleteRow need not size it (see checkValues).
	deleteSmall bool
	guards      sync.Map     // string of limited column names -> *guardedSQL
	partials    partialCache // UpdateColumns statements by column list

	scanners   sync.Pool   // of *scanSet
	shapes     shapeCache  // SQL text of reads without options, by filter shape
	projs      projections // reads of column subsets, by column set (columns.go)
	fastShapes [maxFastShapes]atomic.Pointer[fastShape]
	paths      sync.Map     // Filter key or Order column -> *column of a JSON path (jsonpath.go)
	npaths     atomic.Int64 // paths stored, at most maxCachedPaths
}

// column is one mapped struct field.
type column struct {
	name    string
	quoted  string // `name`
	field   string // Struct.Field, for errors
	primary bool
	desc    *fields.Descriptor
	index   []int   // path for reflect.Value.FieldByIndex
	offset  uintptr // byte offset of the field in the table's struct
	direct  bool    // rowscan.DirectValue(desc)
	pos     int     // index in the table's columns
	fast    fastValue
	// readonly is set by the readonly tag option: never written.
	readonly bool
	// path is set on the stand-in column of a JSON path (jsonpath.go),
	// whose quoted is the path's JSON_EXTRACT; nil on a table's columns.
	path *jsonPath
}

// fieldOf returns the column's field in struct value sv.
func (c *column) fieldOf(sv reflect.Value) reflect.Value {
	if len(c.index) == 1 {
		return sv.Field(c.index[0])
	}
	return sv.FieldByIndex(c.index)
}

// scanSet is one row's worth of scanners, with the []any that Rows.Scan
// takes built once.
type scanSet struct {
	row      rowscan.Row   // the struct the scanners write into
	scanners []sql.Scanner // *fields.Scanner in row mode
	dest     []any
}

func quote(name string) string { return "`" + name + "`" }

func newTable(name string, pk PrimaryKeyType, value any, codec fields.Codec) (*table, error) {
	if err := fields.ValidateName(name); err != nil {
		return nil, fmt.Errorf("table %q: %w: %w", name, err, ErrBadSchema)
	}
	if pk != AutoIncrement && pk != UniqueID {
		return nil, fmt.Errorf("table %q: primary key type %v is neither AutoIncrement nor UniqueID: %w", name, pk, ErrBadSchema)
	}
	typ := reflect.TypeOf(value)
	if typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ == nil || typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("table %q: RegisterType needs a struct value, not %T: %w", name, value, ErrBadSchema)
	}
	t := &table{name: name, quoted: quote(name), typ: typ, pk: pk, byName: map[string]*column{}}
	if err := t.addFields(typ, nil, codec, map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	if len(t.columns) == 0 {
		return nil, fmt.Errorf("table %q: struct %v has no columns: %w", name, typ, ErrBadSchema)
	}
	for i, c := range t.columns {
		c.pos = i
		if c.primary {
			t.primary = append(t.primary, c)
		} else {
			t.others = append(t.others, c)
		}
	}
	if len(t.primary) == 0 {
		return nil, fmt.Errorf("table %q: struct %v has no primary key; tag one or more fields `sql:\",primary\"`: %w", name, typ, ErrBadSchema)
	}
	if pk == AutoIncrement {
		if len(t.primary) != 1 {
			return nil, fmt.Errorf("table %q: an AutoIncrement table needs exactly one primary-key column, %v has %d: %w", name, typ, len(t.primary), ErrBadSchema)
		}
		c := t.primary[0]
		switch c.desc.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			return nil, fmt.Errorf("table %q: AutoIncrement primary key %s must be an integer, not %v: %w", name, c.field, c.desc.Type(), ErrBadSchema)
		}
		if conv := c.desc.Conversion(); c.desc.Ptr() || conv != fields.ConvInt && conv != fields.ConvUint {
			return nil, fmt.Errorf("table %q: AutoIncrement primary key %s must be a plain integer field: %w", name, c.field, ErrBadSchema)
		}
		t.autoInc = c
	}
	for _, c := range t.columns {
		typ := t.typ
		for _, i := range c.index {
			f := typ.Field(i)
			c.offset += f.Offset
			typ = f.Type
		}
		c.fast = fastValueOf(c)
	}
	if err := t.findVersion(); err != nil {
		return nil, err
	}
	t.buildSQL()
	t.deleteSmall = smallFixed(len(t.deleteSQL), t.deleteCols)
	t.scanners.New = func() any {
		set := &scanSet{scanners: make([]sql.Scanner, len(t.columns)), dest: make([]any, len(t.columns))}
		for i, c := range t.columns {
			set.scanners[i] = rowscan.NewScanner(c.desc, &set.row, c.offset)
			set.dest[i] = set.scanners[i]
		}
		return set
	}
	return t, nil
}

// addFields adds the columns of struct type st, whose fields sit at index
// path prefix, flattening anonymous struct fields as encoding/json does.
func (t *table) addFields(st reflect.Type, prefix []int, codec fields.Codec, seen map[reflect.Type]bool) error {
	if seen[st] {
		return fmt.Errorf("table %q: struct %v embeds itself: %w", t.name, st, ErrBadSchema)
	}
	seen[st] = true
	defer delete(seen, st)
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		fieldName := st.Name() + "." + f.Name
		tagText, _ := f.Tag.Lookup("sql")
		tag, err := fields.ParseTag(tagText)
		if err != nil {
			return fmt.Errorf("table %q: field %s: %w: %w", t.name, fieldName, err, ErrBadSchema)
		}
		if tag.Skip {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		if f.Anonymous && tag.Name == "" && tag.Encoding == fields.EncodingNone && !tag.Primary && !tag.ImplicitNull {
			ft := f.Type
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && flattenable(ft.Elem()) {
				return fmt.Errorf("table %q: field %s embeds *%v; embed the struct by value, or tag it `sql:\"-\"` or with a column name: %w", t.name, fieldName, ft.Elem(), ErrBadSchema)
			}
			if ft.Kind() == reflect.Struct && flattenable(ft) {
				if err := t.addFields(ft, index, codec, seen); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			if tagText != "" {
				return fmt.Errorf("table %q: field %s is unexported but tagged `sql:%q`; export it or drop the tag: %w", t.name, fieldName, tagText, ErrBadSchema)
			}
			continue
		}
		name := tag.Name
		if name == "" {
			name = fields.ColumnName(f.Name)
			if err := fields.ValidateName(name); err != nil {
				return fmt.Errorf("table %q: field %s: derived column name: %w: %w", t.name, fieldName, err, ErrBadSchema)
			}
		}
		if err := t.checkNewColumn(name, fieldName); err != nil {
			return err
		}
		desc, err := fields.NewDescriptor(f.Type, fields.Options{Table: t.name, Column: name, Field: fieldName, Tag: tag, Codec: codec})
		if err != nil {
			return fmt.Errorf("%w: %w", err, ErrBadSchema)
		}
		c := &column{name: name, quoted: quote(name), field: fieldName, primary: tag.Primary, desc: desc, index: index, direct: rowscan.DirectValue(desc), readonly: tag.ReadOnly}
		t.columns = append(t.columns, c)
		t.byName[name] = c
	}
	return nil
}

// checkNewColumn refuses column name for field fieldName when an earlier
// field maps to it, or to a name that differs only in case.
func (t *table) checkNewColumn(name, fieldName string) error {
	if prev, ok := t.byName[name]; ok {
		return fmt.Errorf("table %q: fields %s and %s both map to column %q: %w", t.name, prev.field, fieldName, name, ErrBadSchema)
	}
	for _, prev := range t.columns {
		if strings.EqualFold(prev.name, name) {
			// MySQL column names ignore case: the table could not have
			// both, and the first insert would fail.
			return fmt.Errorf("table %q: fields %s and %s map to columns %q and %q, which differ only in case (MySQL column names are case-insensitive): %w",
				t.name, prev.field, fieldName, prev.name, name, ErrBadSchema)
		}
	}
	return nil
}

var (
	scannerIface = reflect.TypeFor[sql.Scanner]()
	valuerIface  = reflect.TypeFor[driver.Valuer]()
)

// flattenable reports whether an embedded struct type is flattened into
// its fields (rather than being one column of its own, as time.Time or a
// type with its own Scan and Value methods is).
func flattenable(t reflect.Type) bool {
	return t != reflect.TypeFor[time.Time]() && !reflect.PointerTo(t).Implements(scannerIface) && !t.Implements(valuerIface)
}

func joinQuoted(cols []*column, suffix string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.quoted)
		b.WriteString(suffix)
	}
	return b.String()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// withoutReadOnly returns cols less the readonly columns: cols itself
// when it has none.
func withoutReadOnly(cols []*column) []*column {
	if !slices.ContainsFunc(cols, func(c *column) bool { return c.readonly }) {
		return cols
	}
	out := make([]*column, 0, len(cols))
	for _, c := range cols {
		if !c.readonly {
			out = append(out, c)
		}
	}
	return out
}

func (t *table) buildSQL() {
	t.writable, t.updatable = withoutReadOnly(t.columns), withoutReadOnly(t.others)
	t.selectSQL = "SELECT " + selectList(t.columns) + " FROM " + t.quoted
	t.countSQL = "SELECT COUNT(*) FROM " + t.quoted
	t.insertSQL = "INSERT INTO " + t.quoted + " (" + joinQuoted(t.writable, "") + ") VALUES (" + placeholders(len(t.writable)) + ")"
	if t.autoInc != nil {
		rest := make([]*column, 0, len(t.writable)-1)
		for _, c := range t.writable {
			if c != t.autoInc {
				rest = append(rest, c)
			}
		}
		t.insertAutoSQL = "INSERT INTO " + t.quoted + " (" + joinQuoted(rest, "") + ") VALUES (" + placeholders(len(rest)) + ")"
	}
	update := make([]string, len(t.updatable))
	for i, c := range t.updatable {
		update[i] = c.quoted + "=VALUES(" + c.quoted + ")"
	}
	if len(update) == 0 {
		// Only key columns: a duplicate is left as it is.
		update = []string{t.primary[0].quoted + "=" + t.primary[0].quoted}
	}
	t.upsertSuffix = " ON DUPLICATE KEY UPDATE " + strings.Join(update, ",")
	t.upsertSQL = t.insertSQL + t.upsertSuffix
	where := joinQuoted(t.primary, "=?")
	where = strings.ReplaceAll(where, "=?,", "=? AND ")
	t.setCols = nil
	for _, c := range t.updatable {
		if c != t.version {
			t.setCols = append(t.setCols, c)
		}
	}
	t.updateSQL, t.updateCols = t.updateStatement(t.setCols)
	t.deleteCols = slices.Clip(t.primary)
	if v := t.version; v != nil {
		where += " AND " + v.quoted + "=?"
		t.deleteCols = append(t.deleteCols, v)
	}
	t.deleteSQL = "DELETE FROM " + t.quoted + " WHERE " + where
}

// updateStatement returns the UPDATE of the set columns by primary key,
// and its arguments: set, the key, then the version read. It is "" when
// there is nothing to set.
func (t *table) updateStatement(set []*column) (string, []*column) {
	where := strings.ReplaceAll(joinQuoted(t.primary, "=?"), "=?,", "=? AND ")
	cols := append(slices.Clip(set), t.primary...)
	assign := joinQuoted(set, "=?")
	if v := t.version; v != nil {
		// The version read must still be the row's, and every update
		// moves it on: a matched row always changes, so RowsAffected is
		// 1 for it whatever clientFoundRows says.
		if assign != "" {
			assign += ","
		}
		assign += v.quoted + "=" + v.quoted + "+1"
		where += " AND " + v.quoted + "=?"
		cols = append(cols, v)
	}
	if assign == "" {
		return "", cols
	}
	return "UPDATE " + t.quoted + " SET " + assign + " WHERE " + where, cols
}

// findVersion sets t.version to the column tagged `sql:",version"`: at
// most one, an integer field (not a pointer, not implicitnull) outside
// the primary key.
func (t *table) findVersion() error {
	for _, c := range t.columns {
		if !c.desc.Tag().Version {
			continue
		}
		if t.version != nil {
			return fmt.Errorf("table %q: fields %s and %s are both tagged version; a table has at most one version column: %w", t.name, t.version.field, c.field, ErrBadSchema)
		}
		if c.primary {
			return fmt.Errorf("table %q: version field %s cannot be part of the primary key: %w", t.name, c.field, ErrBadSchema)
		}
		if c.readonly {
			return fmt.Errorf("table %q: version field %s cannot be readonly (every update writes it): %w", t.name, c.field, ErrBadSchema)
		}
		conv := c.desc.Conversion()
		if c.desc.Ptr() || c.desc.Tag().ImplicitNull || c.desc.Tag().Encoding != fields.EncodingNone || conv != fields.ConvInt && conv != fields.ConvUint {
			return fmt.Errorf("table %q: version field %s must be a plain integer field, not %v: %w", t.name, c.field, c.desc.FieldType(), ErrBadSchema)
		}
		t.version = c
	}
	return nil
}

// versionOf returns the version field of row sv and its value.
func (t *table) versionOf(sv reflect.Value) (reflect.Value, uint64) {
	f := t.version.fieldOf(sv)
	if f.CanInt() {
		return f, uint64(f.Int())
	}
	return f, f.Uint()
}

// setVersion stores v in version field f.
func setVersion(f reflect.Value, v uint64) {
	if f.CanInt() {
		f.SetInt(int64(v))
	} else {
		f.SetUint(v)
	}
}

// guardedSQL is the SQL text of a table's writes under a limit on some of
// its columns (see [DB.WithShardLimit]).
type guardedSQL struct {
	// pins are the indexes, in the guard's columns, of the limited
	// columns outside the primary key: UPDATE and DELETE match them too.
	pins      []int
	pinWhere  string // AND `col`=? for each pin
	updateSQL string // updateSQL with AND `col`=? for each pin
	deleteSQL string // deleteSQL with AND `col`=? for each pin
	// upsertSuffix assigns no limited column, and each other column only
	// on a row that holds the limit's values (the inserted row's, which
	// were checked to be the limit's), and on any other row calls
	// LAST_INSERT_ID(guardSentinelText) so that the OK packet tells.
	upsertSuffix string
	upsertSQL    string
}

// guarded returns the guarded statements of t for a limit on cols (sorted
// by name), built once per set of columns.
func (t *table) guarded(cols []*column) *guardedSQL {
	key := cols[0].name
	if len(cols) > 1 {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.name
		}
		key = strings.Join(names, ",")
	}
	if g, ok := t.guards.Load(key); ok {
		return g.(*guardedSQL)
	}
	g := t.buildGuarded(cols)
	actual, _ := t.guards.LoadOrStore(key, g)
	return actual.(*guardedSQL)
}

func (t *table) buildGuarded(cols []*column) *guardedSQL {
	g := &guardedSQL{}
	var pin strings.Builder
	for i, c := range cols {
		if c.primary {
			continue // the key match pins it already
		}
		g.pins = append(g.pins, i)
		pin.WriteString(" AND " + c.quoted + "=?")
	}
	g.pinWhere = pin.String()
	if t.updateSQL != "" {
		g.updateSQL = t.updateSQL + pin.String()
	}
	g.deleteSQL = t.deleteSQL + pin.String()

	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = c.quoted + "<=>VALUES(" + c.quoted + ")"
	}
	cond := strings.Join(conds, " AND ")
	// The first assignment only reports a row outside the limit: the key
	// column keeps its value either way. MySQL runs the assignments left
	// to right, each seeing the values the earlier ones set; none sets a
	// limited column, so every condition sees the stored row's values.
	// The key column is one outside the limit: a limited column is often
	// the shard key, which Vitess refuses to see assigned (VT12001), even
	// to itself. With every key column limited, the report rides on the
	// first other column's own assignment.
	var k string
	for _, c := range t.primary {
		if !slices.Contains(cols, c) {
			k = c.quoted
			break
		}
	}
	var update []string
	if k != "" {
		update = append(update, k+"=IF("+cond+","+k+","+guardReport(k)+")")
	}
	for _, c := range t.updatable {
		if slices.Contains(cols, c) {
			continue
		}
		if k == "" {
			k = c.quoted
			update = append(update, k+"=IF("+cond+",VALUES("+k+"),"+guardReport(k)+")")
			continue
		}
		update = append(update, c.quoted+"=IF("+cond+",VALUES("+c.quoted+"),"+c.quoted+")")
	}
	if k == "" {
		// Only limited columns: nothing to update, only the report.
		k = t.primary[0].quoted
		update = append(update, k+"=IF("+cond+","+k+","+guardReport(k)+")")
	}
	g.upsertSuffix = " ON DUPLICATE KEY UPDATE " + strings.Join(update, ",")
	g.upsertSQL = t.insertSQL + g.upsertSuffix
	return g
}

// guardReport is the expression that marks, in the OK packet, a row that
// collided with a row outside the limit, and leaves key column k as it
// is. The sentinel is added to 0*LENGTH(k) so that it depends on the row:
// TiDB folds LAST_INSERT_ID of a constant when it plans the statement,
// which marked every upsert, colliding or not.
func guardReport(k string) string {
	return "IF(LAST_INSERT_ID(" + guardSentinelText + "+0*LENGTH(" + k + "))," + k + "," + k + ")"
}

func (t *table) getScanners() *scanSet { return t.scanners.Get().(*scanSet) }

func (t *table) putScanners(s *scanSet) {
	s.row.Set(nil) // keep no caller's struct alive in the pool
	t.scanners.Put(s)
}

// scanRow reads the current row of rows into the struct p points to (a
// *T of the table's type).
func (t *table) scanRow(rows *sql.Rows, set *scanSet, p unsafe.Pointer) error {
	set.row.Set(p)
	if err := rows.Scan(set.dest...); err != nil {
		return fmt.Errorf("sqlgen: reading a row of table %q: %w", t.name, err)
	}
	return nil
}

// rowValues appends the driver values of struct value sv's columns to
// args, leaving out skip.
//
// When two or more of the columns hold their own driver.Value (strings,
// int64s, ...: rowscan.DirectValue), the struct is copied once
// into an interface and those values point into the copy: one allocation
// instead of one per value. The copy is also a snapshot: what the driver
// sends cannot change under it.
//
// The plain fields (string, int64, int, bool: column.fast) are read at
// their offset, without reflection; the others through their
// descriptor.
func (t *table) rowValues(args []any, sv reflect.Value, cols []*column, skip *column) ([]any, error) {
	if !sv.CanAddr() {
		return t.rowValuesSlow(args, sv, sv, cols, skip)
	}
	n := 0
	for _, c := range cols {
		if c.direct && c != skip {
			n++
		}
	}
	p := unsafe.Pointer(sv.UnsafeAddr())
	var cp any
	var copied unsafe.Pointer // the copy's memory, when there is one
	if n >= 2 {
		// Two direct columns make the struct at least 16 bytes, never
		// pointer-shaped: the interface's data word is the copy's
		// address.
		cp = sv.Interface()
		copied = (*[2]unsafe.Pointer)(unsafe.Pointer(&cp))[1]
	}
	for i, c := range cols {
		if c == skip {
			continue
		}
		switch {
		case c.fast == fastNone:
			// This one and the rest through their descriptors.
			src := sv
			if copied != nil {
				src = reflect.ValueOf(cp)
			}
			return t.rowValuesSlow(args, sv, src, cols[i:], skip)
		case copied != nil:
			args = append(args, c.fast.at(unsafe.Add(copied, c.offset)))
		default:
			args = append(args, c.fast.load(unsafe.Add(p, c.offset)))
		}
	}
	return args, nil
}

// rowValuesSlow is rowValues through the columns' descriptors, the direct
// columns read from cp (sv, or a copy of it).
func (t *table) rowValuesSlow(args []any, sv, cp reflect.Value, cols []*column, skip *column) ([]any, error) {
	for _, c := range cols {
		if c == skip {
			continue
		}
		src := sv
		if c.direct {
			src = cp
		}
		v, err := c.desc.Value(c.fieldOf(src))
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return args, nil
}

// fastValue is how rowValues reads a plain field without reflection; the
// driver.Value is the one the field's descriptor would give.
type fastValue uint8

const (
	fastNone   fastValue = iota
	fastString           // a string field: a string
	fastInt64            // an int64 field: an int64
	fastInt              // an int field (64 bits): an int64
	fastBool             // a bool field: a bool
)

// fastValueOf returns the fastValue of c, fastNone unless its field is
// a plain string, int64, int or bool sent as it is.
func fastValueOf(c *column) fastValue {
	d := c.desc
	if d.Ptr() || d.Tag().ImplicitNull {
		return fastNone
	}
	switch typ, conv := d.Type(), d.Conversion(); {
	case c.direct && typ == reflect.TypeFor[string]():
		return fastString
	case c.direct && typ == reflect.TypeFor[int64]():
		return fastInt64
	case conv == fields.ConvInt && typ == reflect.TypeFor[int]() && unsafe.Sizeof(int(0)) == 8:
		return fastInt
	case conv == fields.ConvBool && typ == reflect.TypeFor[bool]():
		return fastBool
	}
	return fastNone
}

// smallFixed reports whether a statement of text bytes whose arguments
// are the values of cols (at most maxSmallDelete) surely fits any server's max_allowed_packet
// (1024 bytes at least): every column a fixed-size value read without
// reflection, and roughSize's bound under 1024 bytes.
func smallFixed(text int, cols []*column) bool {
	for _, c := range cols {
		if c.fast != fastInt64 && c.fast != fastInt && c.fast != fastBool {
			return false
		}
	}
	return len(cols) <= maxSmallDelete && text+64+32*len(cols) < 1024
}

// maxSmallDelete is the most arguments of a DELETE that DeleteRow sends
// from a buffer on its stack without sizing it (see smallFixed).
const maxSmallDelete = 4

// Type words of the interfaces fastValue.at makes.
var (
	stringType = typeWord("")
	int64Type  = typeWord(int64(0))
	boolType   = typeWord(false)
)

func typeWord(v any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0] }

// at returns the value of the field at p, a field of a copy of the row
// that is never written again, as an interface pointing at it: no
// allocation (as reflect's Interface of a field of a copy). An int field
// is an int64 in memory (fastInt needs 64-bit ints).
func (f fastValue) at(p unsafe.Pointer) any {
	var a any
	e := (*[2]unsafe.Pointer)(unsafe.Pointer(&a))
	switch f {
	case fastString:
		e[0] = stringType
	case fastInt64, fastInt:
		e[0] = int64Type
	default:
		e[0] = boolType
	}
	e[1] = p
	return a
}

// load returns the value of the field at p, copied.
func (f fastValue) load(p unsafe.Pointer) any {
	switch f {
	case fastString:
		return *(*string)(p)
	case fastInt64:
		return *(*int64)(p)
	case fastInt:
		return int64(*(*int)(p))
	default:
		return *(*bool)(p)
	}
}

// selectList is the SELECT list of the columns. A float32 or float64
// field is read as CAST(`col` AS DOUBLE): the text protocol (a read
// without arguments, or any read with interpolateParams=true) sends a
// FLOAT column with 6 significant digits and a DOUBLE exactly, while the
// binary protocol sends a FLOAT's exact bits; read as a DOUBLE, a FLOAT
// column gives the same float64 whatever the protocol.
//
// A time field (time.Time, a named time type, sql.NullTime,
// sql.Null[time.Time], pointers to them) is read as CAST(`col` AS CHAR):
// the stored text, which is a UTC wall clock (see fields.TimeValue).
// With parseTime=true the driver would parse it in the DSN's loc, and a
// wall clock that does not exist there (2024-03-10 02:30 in
// America/New_York, skipped by daylight saving time) would come back an
// hour off.
func selectList(cols []*column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		if (c.desc.Kind() == reflect.Float32 || c.desc.Kind() == reflect.Float64) && c.desc.Conversion() == fields.ConvFloat {
			b.WriteString("CAST(" + c.quoted + " AS DOUBLE)")
			continue
		}
		if c.desc.IsTime() {
			b.WriteString("CAST(" + c.quoted + " AS CHAR)")
			continue
		}
		b.WriteString(c.quoted)
	}
	return b.String()
}
