package sqlgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ErrSchemaDrift is wrapped by the error of [Schema.Check] when the live
// tables do not match the registered types.
var ErrSchemaDrift = errors.New("sqlgen: schema drift")

// Drift is one difference [Schema.Check] found between a registered type
// and its live table.
type Drift struct {
	Table    string // the table, "" for a problem of the connection's session (its sql_mode)
	Column   string // the column, "" for a problem of the whole table (missing, or its engine)
	Field    string // the Go field as Struct.Field, "" for a column no field maps to
	GoType   string // the Go type of the field (or of the struct, for a missing table)
	LiveType string // the live column's type, such as "int(11) unsigned NOT NULL"; "" when missing
	Problem  string // what is wrong, in words
}

// String describes d on one line.
func (d Drift) String() string {
	var b strings.Builder
	if d.Table == "" {
		b.WriteString("session: ")
		b.WriteString(d.Problem)
		return b.String()
	}
	fmt.Fprintf(&b, "table %q", d.Table)
	if d.Column != "" {
		fmt.Fprintf(&b, " column %q", d.Column)
	}
	switch {
	case d.Field != "":
		fmt.Fprintf(&b, " (field %s, Go type %s)", d.Field, d.GoType)
	case d.GoType != "":
		fmt.Fprintf(&b, " (Go type %s)", d.GoType)
	}
	if d.LiveType != "" {
		fmt.Fprintf(&b, ": live type %s", d.LiveType)
	}
	b.WriteString(": ")
	b.WriteString(d.Problem)
	return b.String()
}

// DriftError is the error of [Schema.Check]: every difference found, in
// table order (sorted by name), then field order, after a problem of the
// session's sql_mode if there is one. It wraps [ErrSchemaDrift].
type DriftError struct {
	Database string  // the database checked
	Problems []Drift // never empty
}

// Error lists the problems, one per line after a summary line.
func (e *DriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqlgen: schema drift in database %q: %d problem(s):", e.Database, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns [ErrSchemaDrift].
func (e *DriftError) Unwrap() error { return ErrSchemaDrift }

// liveColumn is one row of information_schema.COLUMNS.
type liveColumn struct {
	name       string
	dataType   string // lower case, such as "int" or "varchar"
	columnType string // such as "int(10) unsigned"
	nullable   bool
	hasDefault bool
	primary    bool   // COLUMN_KEY = 'PRI'
	extra      string // auto_increment, VIRTUAL GENERATED, ...
	charset    string // CHARACTER_SET_NAME, "" for columns without one
}

func (lc *liveColumn) describe() string {
	if lc.nullable {
		return lc.columnType + " NULL"
	}
	return lc.columnType + " NOT NULL"
}

// Check compares every registered table with the live table of the same
// name in conn's current database (as information_schema.COLUMNS reports
// it) and returns nil when they match, else one [*DriftError], wrapping
// [ErrSchemaDrift], that lists every problem, one per line, each naming
// the table, column, Go field and live type. It reports:
//
//   - a table that does not exist;
//   - a column that does not exist (column names compare
//     case-insensitively, as MySQL does);
//   - a nullable column whose field cannot hold NULL (neither a pointer,
//     nor implicitnull, nor a JSON, []byte or Scanner field);
//   - a column whose type cannot hold the field's values (below);
//   - a primary key made of other columns than the fields tagged primary
//     (by COLUMN_KEY), and the key column of an [AutoIncrement] table
//     that is not AUTO_INCREMENT;
//   - a live column no field maps to that is NOT NULL without a default
//     and not generated or AUTO_INCREMENT, so that every insert fails;
//   - a table whose engine has no transactions (MyISAM, Aria, MEMORY,
//     ...): there a failed InsertRows or UpsertRows can leave part of its
//     batch, a transaction cannot be rolled back, and a guarded upsert
//     cannot undo its batch;
//   - a CHAR, VARCHAR or TEXT column (or a JSON one MariaDB stores as
//     text) of a string or JSON field whose character set cannot hold
//     every character of a Go string (utf8mb3, latin1, ascii, ...: only
//     utf8mb4, utf16, utf16le and utf32 can): an emoji is refused there
//     in strict mode, and stored as ? without it;
//   - a session whose sql_mode has neither STRICT_TRANS_TABLES nor
//     STRICT_ALL_TABLES: the server then truncates a value too long for
//     its column, and stores what a column's character set cannot hold
//     as ?, with a warning instead of an error. It is read from one
//     connection of conn's pool, so set it in the DSN or server-wide.
//     This problem comes first, with an empty Table.
//
// A NOT NULL column for a field that can hold NULL is accepted: it only
// refuses the NULL values. Extra columns that have a default are
// accepted.
//
// Types are compared by family (the DATA_TYPE of the live column):
//
//	bool                  tinyint, smallint, mediumint, int, bigint, year
//	integers              the same, when the field holds the column's largest
//	                      value: an int8 field on an INT column, or an int64
//	                      field on BIGINT UNSIGNED, is reported; an unsigned
//	                      field on a signed column is accepted (negative
//	                      values then fail when read)
//	float64               float, double, decimal
//	float32               float, decimal (not double: a narrower field)
//	string                char, varchar, the text types, enum, set, json, and
//	                      the binary and blob types
//	string encoding       char, varchar, the text types, enum, set, binary, blob
//	[]byte                binary, varbinary, the blob and text types, json, bit
//	time.Time             datetime, timestamp, date
//	json                  json, and the text and blob types (MariaDB reports a
//	                      JSON column as longtext)
//	binary encoding       binary, varbinary, the blob types
//	sql.Scanner types     by the type they hold when it can be told (see
//	                      [Schema.CreateTableSQL]), else anything
//
// BIT columns are read by the driver as bytes, so only a []byte field fits
// one. Tables are checked in sorted order, so the message is the same from
// run to run. A database error, or a connection with no current database,
// is returned as it is (not as drift).
func (s *Schema) Check(ctx context.Context, conn *sql.DB) error {
	reg := s.reg.Load()
	names := make([]string, 0, len(reg.byName))
	for n := range reg.byName {
		names = append(names, n)
	}
	slices.Sort(names)

	var dbName sql.NullString
	var lowerCaseNames int
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE(), @@lower_case_table_names").Scan(&dbName, &lowerCaseNames); err != nil {
		return fmt.Errorf("sqlgen: Check: reading the current database: %w", err)
	}
	if !dbName.Valid {
		return fmt.Errorf("sqlgen: Check: the connection has no current database (add one to the DSN): %w", ErrInvalidArgument)
	}
	live := map[string][]*liveColumn{} // by TABLE_NAME, in ordinal order
	if len(names) > 0 {
		var q strings.Builder
		q.WriteString("SELECT TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT IS NOT NULL, COLUMN_KEY = 'PRI', EXTRA, COALESCE(CHARACTER_SET_NAME, '')" +
			" FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) IN (")
		args := make([]any, len(names))
		for i, n := range names {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args[i] = strings.ToLower(n)
		}
		q.WriteString(") ORDER BY TABLE_NAME, ORDINAL_POSITION")
		rows, err := conn.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return fmt.Errorf("sqlgen: Check: reading information_schema.COLUMNS: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var tname, nullable string
			lc := &liveColumn{}
			if err := rows.Scan(&tname, &lc.name, &lc.dataType, &lc.columnType, &nullable, &lc.hasDefault, &lc.primary, &lc.extra, &lc.charset); err != nil {
				return fmt.Errorf("sqlgen: Check: reading information_schema.COLUMNS: %w", err)
			}
			lc.nullable = nullable == "YES"
			live[tname] = append(live[tname], lc)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlgen: Check: reading information_schema.COLUMNS: %w", err)
		}
	}

	var problems []Drift
	if p, err := checkSQLMode(ctx, conn); err != nil {
		return err
	} else if p != "" {
		problems = append(problems, Drift{Problem: p})
	}
	engines, err := liveEngines(ctx, conn, names)
	if err != nil {
		return err
	}
	for _, name := range names {
		t := reg.byName[name]
		cols, ok := live[name]
		if !ok && lowerCaseNames != 0 {
			// The server folds table names: match them the way it does.
			for ln, lcols := range live {
				if strings.EqualFold(ln, name) {
					cols, ok = lcols, true
					break
				}
			}
		}
		if !ok {
			problems = append(problems, Drift{Table: name, GoType: t.typ.String(), Problem: fmt.Sprintf("no such table in database %q", dbName.String)})
			continue
		}
		if e, ok := engines[strings.ToLower(name)]; ok && !e.transactional {
			problems = append(problems, Drift{Table: name, GoType: t.typ.String(), Problem: fmt.Sprintf(
				"the table's engine %s has no transactions: a failed InsertRows or UpsertRows can leave part of its batch written, "+
					"a transaction's writes to it are not rolled back, and an upsert under a limit cannot undo a refused batch; use InnoDB", e.name)})
		}
		problems = append(problems, checkTable(t, cols)...)
	}
	if len(problems) == 0 {
		return nil
	}
	return &DriftError{Database: dbName.String, Problems: problems}
}

// checkTable compares table t with its live columns.
func checkTable(t *table, cols []*liveColumn) []Drift {
	var problems []Drift
	used := make(map[*liveColumn]bool, len(cols))
	for _, c := range t.columns {
		lc := findLiveColumn(cols, c.name)
		d := Drift{Table: t.name, Column: c.name, Field: c.field, GoType: fieldTypeString(c)}
		if lc == nil {
			d.Problem = "no such column"
			problems = append(problems, d)
			continue
		}
		used[lc] = true
		d.LiveType = lc.describe()
		if lc.nullable && !c.desc.Nullable() {
			p := d
			p.Problem = "the column is nullable but the field cannot hold NULL (make it a pointer, tag it implicitnull, or make the column NOT NULL)"
			problems = append(problems, p)
		}
		if why := typeMismatch(c, lc); why != "" {
			p := d
			p.Problem = why
			problems = append(problems, p)
		}
		if why := charsetProblem(c, lc); why != "" {
			p := d
			p.Problem = why
			problems = append(problems, p)
		}
		if c.primary != lc.primary {
			p := d
			if c.primary {
				p.Problem = "the field is part of the registered primary key but the column is not part of the live one"
			} else {
				p.Problem = "the column is part of the live primary key but the field is not tagged primary, so updates and deletes by key may touch several rows"
			}
			problems = append(problems, p)
		}
		if c == t.autoInc && !strings.Contains(strings.ToLower(lc.extra), "auto_increment") {
			p := d
			p.Problem = "the table is registered AutoIncrement but the column is not AUTO_INCREMENT"
			problems = append(problems, p)
		}
	}
	for _, lc := range cols {
		if used[lc] || lc.nullable || lc.hasDefault {
			continue
		}
		extra := strings.ToLower(lc.extra)
		if strings.Contains(extra, "auto_increment") || strings.Contains(extra, "generated") {
			continue
		}
		problems = append(problems, Drift{
			Table: t.name, Column: lc.name, LiveType: lc.describe(),
			Problem: fmt.Sprintf("no field of %v maps to this column, which is NOT NULL without a default, so every insert fails", t.typ),
		})
	}
	return problems
}

// checkSQLMode returns the problem of the session's sql_mode, "" when it
// is strict.
func checkSQLMode(ctx context.Context, conn *sql.DB) (string, error) {
	var mode string
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		return "", fmt.Errorf("sqlgen: Check: reading the session's sql_mode: %w", err)
	}
	for _, m := range strings.Split(strings.ToUpper(mode), ",") {
		if m == "STRICT_TRANS_TABLES" || m == "STRICT_ALL_TABLES" {
			return "", nil
		}
	}
	return fmt.Sprintf("sql_mode %q has neither STRICT_TRANS_TABLES nor STRICT_ALL_TABLES: the server truncates a string too long for its column, "+
		"stores characters its character set cannot hold as ?, and clips numbers out of range, with a warning instead of an error; "+
		"add STRICT_TRANS_TABLES (in the DSN, such as sql_mode=%%27STRICT_TRANS_TABLES%%27, or server-wide)", mode), nil
}

// liveEngine is a table's storage engine, as information_schema tells.
type liveEngine struct {
	name          string
	transactional bool
}

// liveEngines returns the engines of the tables named names (lower case
// keys) in the current database. Views, which have none, are left out.
func liveEngines(ctx context.Context, conn *sql.DB, names []string) (map[string]liveEngine, error) {
	out := map[string]liveEngine{}
	if len(names) == 0 {
		return out, nil
	}
	var q strings.Builder
	q.WriteString("SELECT t.TABLE_NAME, t.ENGINE, COALESCE(e.TRANSACTIONS, '') FROM information_schema.TABLES t" +
		" LEFT JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE" +
		" WHERE t.TABLE_SCHEMA = DATABASE() AND t.ENGINE IS NOT NULL AND LOWER(t.TABLE_NAME) IN (")
	args := make([]any, len(names))
	for i, n := range names {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('?')
		args[i] = strings.ToLower(n)
	}
	q.WriteByte(')')
	rows, err := conn.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: Check: reading information_schema.TABLES: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, engine, tx string
		if err := rows.Scan(&name, &engine, &tx); err != nil {
			return nil, fmt.Errorf("sqlgen: Check: reading information_schema.TABLES: %w", err)
		}
		out[strings.ToLower(name)] = liveEngine{name: engine, transactional: strings.EqualFold(tx, "YES")}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlgen: Check: reading information_schema.TABLES: %w", err)
	}
	return out, nil
}

// fullUnicode lists the character sets that hold every Unicode character.
var fullUnicode = []string{"utf8mb4", "utf16", "utf16le", "utf32"}

// charsetProblem returns why live column lc cannot hold every string of
// column c's field, or "" when it can.
func charsetProblem(c *column, lc *liveColumn) string {
	if lc.charset == "" || slices.Contains(fullUnicode, strings.ToLower(lc.charset)) {
		return ""
	}
	switch shapeOf(c.desc).family {
	case "string", "json":
	default:
		return ""
	}
	if !slices.Contains(checkTextTypes, lc.dataType) && lc.dataType != "json" {
		return "" // ENUM and SET hold their own list of values
	}
	return fmt.Sprintf("the column's character set %s cannot hold every character of a Go string (emoji, for one): "+
		"the server refuses them in strict mode and stores ? without it; convert the column to utf8mb4", lc.charset)
}

// findLiveColumn finds the live column named name: exactly, or else
// case-insensitively as MySQL compares column names.
func findLiveColumn(cols []*liveColumn, name string) *liveColumn {
	for _, lc := range cols {
		if lc.name == name {
			return lc
		}
	}
	for _, lc := range cols {
		if strings.EqualFold(lc.name, name) {
			return lc
		}
	}
	return nil
}

func fieldTypeString(c *column) string {
	return c.desc.FieldType().String()
}

// Live type families, by DATA_TYPE.
var (
	checkIntTypes   = []string{"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"}
	checkFloatTypes = []string{"float", "double", "real", "decimal", "numeric", "dec", "fixed"}
	checkTextTypes  = []string{"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
	checkEnumTypes  = []string{"enum", "set"}
	checkBinTypes   = []string{"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
	checkTimeTypes  = []string{"datetime", "timestamp", "date"}
)

// typeMismatch returns why live column lc cannot hold column c's field,
// or "" when it can.
func typeMismatch(c *column, lc *liveColumn) string {
	s := shapeOf(c.desc)
	dt := lc.dataType
	in := func(families ...[]string) bool {
		for _, f := range families {
			if slices.Contains(f, dt) {
				return true
			}
		}
		return false
	}
	ok := true
	switch s.family {
	case "":
		return ""
	case "bool":
		ok = in(checkIntTypes)
	case "int", "uint":
		if !in(checkIntTypes) {
			ok = false
			break
		}
		if s.bits == 0 {
			return ""
		}
		colMax := liveIntMax(dt, strings.Contains(strings.ToLower(lc.columnType), "unsigned"))
		var fieldMax uint64
		if s.family == "int" {
			fieldMax = 1<<(s.bits-1) - 1
		} else {
			fieldMax = math.MaxUint64 >> (64 - s.bits)
		}
		if fieldMax < colMax {
			return fmt.Sprintf("the field's type %s cannot hold every value of the column (up to %d); use a wider field or a narrower column", fieldTypeString(c), colMax)
		}
		return ""
	case "float":
		ok = in(checkFloatTypes)
		if ok && s.bits == 32 && (dt == "double" || dt == "real") {
			return fmt.Sprintf("the field's type %s cannot hold every value of a double column; use float64", fieldTypeString(c))
		}
	case "string":
		ok = in(checkTextTypes, checkEnumTypes, checkBinTypes) || dt == "json"
	case "text":
		ok = in(checkTextTypes, checkEnumTypes, checkBinTypes)
	case "bytes":
		ok = in(checkBinTypes, checkTextTypes) || dt == "json" || dt == "bit"
	case "time":
		ok = in(checkTimeTypes)
	case "json":
		ok = in(checkTextTypes, checkBinTypes) || dt == "json"
	case "binary":
		ok = in(checkBinTypes)
	}
	if ok {
		return ""
	}
	what := map[string]string{
		"bool": "a bool", "int": "an integer", "uint": "an integer", "float": "a floating-point",
		"string": "a string", "text": "a text-encoded (string option)", "bytes": "a []byte",
		"time": "a time.Time", "json": "a JSON", "binary": "a binary-encoded",
	}[s.family]
	return fmt.Sprintf("the column type %s cannot hold %s field", dt, what)
}

// liveIntMax is the largest value of an integer column type.
func liveIntMax(dataType string, unsigned bool) uint64 {
	if dataType == "year" {
		return 2155
	}
	bits := map[string]int{"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}[dataType]
	if unsigned {
		return math.MaxUint64 >> (64 - bits)
	}
	return 1<<(bits-1) - 1
}
