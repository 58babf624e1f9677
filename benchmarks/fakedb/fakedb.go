package fakedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Column describes one column of a canned table.
type Column struct {
	Name string
	// Type is the MySQL type name reported by ColumnTypes
	// (DatabaseTypeName), such as "BIGINT", "VARCHAR", "TINYINT", "JSON".
	Type     string
	Nullable bool
}

// Table is a canned table: its columns and the rows it answers with. Row
// values must already be in the driver's shapes (int64, float64, []byte,
// nil); [Row] converts Go values to them.
type Table struct {
	Name    string
	Columns []Column
	// Rows answer reads without a WHERE clause, and RETURNING clauses.
	Rows [][]driver.Value
	// Match is the row that answers a read with a WHERE clause. If nil,
	// Rows[0] is used.
	Match []driver.Value

	colIndex map[string]int
}

// Row converts Go values to the shapes go-sql-driver/mysql returns: any
// integer (and bool) to int64, float32 and float64 as they are, string
// and []byte to []byte, time.Time to its DATETIME text as []byte, nil as
// nil.
func Row(vals ...any) []driver.Value {
	out := make([]driver.Value, len(vals))
	for i, v := range vals {
		out[i] = toDriver(v)
	}
	return out
}

func toDriver(v any) driver.Value {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case float32, float64:
		return x
	case string:
		return []byte(x)
	case []byte:
		return append([]byte(nil), x...)
	case time.Time:
		return []byte(x.UTC().Format("2006-01-02 15:04:05.999999"))
	}
	panic(fmt.Sprintf("fakedb: no driver shape for %T", v))
}

// Server holds the canned tables. Its connections are independent and it
// is safe for concurrent use.
type Server struct {
	// Version answers SELECT VERSION(). It is a MariaDB version by default
	// so that GORM and bun behave as on the real MariaDB backend (they
	// use INSERT ... RETURNING there).
	Version string
	// Vars answer SELECT @@name (and @@SESSION.name, @@GLOBAL.name), by
	// lower-case name. New sets auto_increment_increment and
	// auto_increment_offset to 1 (sqlgen's InsertRows asks for the first).
	Vars map[string]driver.Value

	tables []*Table
	vplan  *plan
	plans  atomic.Pointer[map[planKey]*plan] // copy-on-write cache
	mu     sync.Mutex                        // serialises plan cache writes
	lastID atomic.Int64

	queries, execs atomic.Int64
}

// DefaultVersion is the server version the fake reports.
const DefaultVersion = "10.11.19-MariaDB-fakedb"

// New returns a server answering for tables.
func New(tables ...*Table) *Server {
	s := &Server{Version: DefaultVersion, tables: tables, Vars: map[string]driver.Value{
		"auto_increment_increment": int64(1),
		"auto_increment_offset":    int64(1),
	}}
	for _, t := range tables {
		t.colIndex = make(map[string]int, len(t.Columns))
		for i, c := range t.Columns {
			t.colIndex[strings.ToLower(c.Name)] = i
		}
		if len(t.Rows) == 0 {
			panic("fakedb: table " + t.Name + " has no rows")
		}
		if t.Match == nil {
			t.Match = t.Rows[0]
		}
	}
	m := map[planKey]*plan{}
	s.plans.Store(&m)
	s.lastID.Store(1 << 20)
	return s
}

// Stats returns how many queries and execs the server has answered.
func (s *Server) Stats() (queries, execs int64) { return s.queries.Load(), s.execs.Load() }

// OpenDB returns a *sql.DB whose connections talk to s.
func (s *Server) OpenDB() *sql.DB {
	s.vplan = &plan{
		kind:  planVersion,
		names: []string{"VERSION()"},
		types: []Column{{Name: "VERSION()", Type: "VARCHAR"}},
		cols:  []int{0},
		table: &Table{Name: "", Rows: [][]driver.Value{{[]byte(s.Version)}}},
	}
	return sql.OpenDB(connector{s})
}

type connector struct{ s *Server }

func (c connector) Connect(context.Context) (driver.Conn, error) { return &conn{s: c.s}, nil }
func (c connector) Driver() driver.Driver                        { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("fakedb: use Server.OpenDB")
}

// ---------------------------------------------------------------- plans

type planKind uint8

const (
	planRows      planKind = iota + 1 // SELECT from a table
	planReturning                     // INSERT/UPDATE/DELETE ... RETURNING
	planVersion                       // SELECT VERSION()
	planVars                          // SELECT @@variable
)

type planKey struct {
	text  string // the select list, or the RETURNING list
	table int
}

type plan struct {
	kind  planKind
	table *Table
	cols  []int // table column of each result column
	names []string
	types []Column
}

func (s *Server) tableOf(query string) int {
	for i, t := range s.tables {
		if strings.Contains(query, t.Name) {
			return i
		}
	}
	return -1
}

// plan returns the cached plan for query, making it on first sight.
func (s *Server) plan(query string) (*plan, error) {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return nil, fmt.Errorf("fakedb: cannot answer query %q", query)
	}
	ti := s.tableOf(q)
	var key planKey
	var kind planKind
	switch {
	case strings.EqualFold(q[:6], "SELECT"):
		from := strings.Index(q, " FROM ")
		if from < 0 {
			if ti < 0 && isVersionQuery(q) {
				return s.vplan, nil
			}
			if ti < 0 && strings.Contains(q, "@@") {
				return s.varPlan(q)
			}
			return nil, fmt.Errorf("fakedb: cannot answer query %q (no FROM)", query)
		}
		key, kind = planKey{q[6:from], ti}, planRows
	default:
		ret := strings.LastIndex(q, " RETURNING ")
		if ret < 0 {
			// A statement with no result set sent as a query.
			return emptyPlan, nil
		}
		key, kind = planKey{q[ret+len(" RETURNING "):], ti}, planReturning
	}
	if ti < 0 {
		return nil, fmt.Errorf("fakedb: query %q names no registered table", query)
	}
	if p, ok := (*s.plans.Load())[key]; ok {
		return p, nil
	}
	p, err := s.makePlan(kind, s.tables[ti], key.text)
	if err != nil {
		return nil, fmt.Errorf("fakedb: query %q: %w", query, err)
	}
	s.storePlan(key, p)
	return p, nil
}

var emptyPlan = &plan{kind: planRows}

// varPlan answers SELECT @@a, @@SESSION.b: one row of the variables'
// values, cached by query text.
func (s *Server) varPlan(q string) (*plan, error) {
	key := planKey{q, -2}
	if p, ok := (*s.plans.Load())[key]; ok {
		return p, nil
	}
	row := []driver.Value{}
	p := &plan{kind: planVars}
	for _, item := range strings.Split(q[6:], ",") {
		item = strings.TrimSpace(item)
		name := strings.ToLower(strings.TrimPrefix(item, "@@"))
		name = strings.TrimPrefix(strings.TrimPrefix(name, "session."), "global.")
		v, ok := s.Vars[name]
		if !ok {
			return nil, fmt.Errorf("fakedb: no value for variable %q in %q (set Server.Vars)", name, q)
		}
		p.cols = append(p.cols, len(row))
		row = append(row, v)
		p.names = append(p.names, item)
		typ := "VARCHAR"
		if _, isInt := v.(int64); isInt {
			typ = "BIGINT"
		}
		p.types = append(p.types, Column{Name: item, Type: typ})
	}
	p.table = &Table{Rows: [][]driver.Value{row}}
	s.storePlan(key, p)
	return p, nil
}

func (s *Server) storePlan(key planKey, p *plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.plans.Load()
	next := make(map[planKey]*plan, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = p
	s.plans.Store(&next)
}

func isVersionQuery(q string) bool {
	return len(q) < 64 && strings.Contains(strings.ToLower(q), "version()")
}

func (s *Server) makePlan(kind planKind, t *Table, list string) (*plan, error) {
	p := &plan{kind: kind, table: t}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "*" || strings.HasSuffix(item, ".*") {
			for i, c := range t.Columns {
				p.cols = append(p.cols, i)
				p.names = append(p.names, c.Name)
			}
			continue
		}
		if i := strings.Index(strings.ToUpper(item), " AS "); i >= 0 {
			item = item[:i]
		}
		if i := strings.LastIndexByte(item, '.'); i >= 0 {
			item = item[i+1:]
		}
		name := strings.Trim(item, "`\"' ")
		ci, ok := t.colIndex[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("table %s has no column %q", t.Name, name)
		}
		p.cols = append(p.cols, ci)
		p.names = append(p.names, t.Columns[ci].Name)
	}
	for _, ci := range p.cols {
		p.types = append(p.types, t.Columns[ci])
	}
	return p, nil
}

// valueGroups counts the row tuples of an INSERT: "(...),(...)" or
// "(...), (...)".
func valueGroups(q string) int {
	v := strings.Index(q, "VALUES")
	if v < 0 {
		v = strings.Index(q, "values")
	}
	if v < 0 {
		return 1
	}
	q = q[v:]
	return 1 + strings.Count(q, "),(") + strings.Count(q, "), (")
}

// rowCount works out how many rows a query of plan p returns, and whether
// the answer is the table's Match row.
func (p *plan) rowCount(q string, args []driver.NamedValue) (n int, match bool) {
	switch p.kind {
	case planVersion, planVars:
		return 1, false
	case planReturning:
		if len(q) >= 6 && strings.EqualFold(q[:6], "INSERT") {
			return valueGroups(q), false
		}
		return 1, false
	case planRows:
		if p.table == nil {
			return 0, false
		}
		from := strings.Index(q, " FROM ")
		if strings.Contains(q[from:], " WHERE ") {
			return 1, true
		}
		if l := strings.LastIndex(q, " LIMIT "); l >= 0 {
			rest := q[l+len(" LIMIT "):]
			if strings.HasPrefix(rest, "?") && len(args) > 0 {
				if n, ok := args[len(args)-1].Value.(int64); ok {
					return int(n), false
				}
				return len(p.table.Rows), false
			}
			end := 0
			for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
				end++
			}
			if n, err := strconv.Atoi(rest[:end]); err == nil {
				return n, false
			}
		}
		return len(p.table.Rows), false
	}
	return 0, false
}

// ---------------------------------------------------------------- conn

type conn struct {
	s      *Server
	rows   rows // reused by every query on this connection
	busy   bool // rows is in use
	closed bool
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
)

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return &stmt{c: c, q: query}, nil
}

func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	return &stmt{c: c, q: query}, nil
}

func (c *conn) Close() error                       { c.closed = true; return nil }
func (c *conn) Begin() (driver.Tx, error)          { return tx{}, nil }
func (c *conn) Ping(context.Context) error         { return nil }
func (c *conn) ResetSession(context.Context) error { return nil }
func (c *conn) IsValid() bool                      { return !c.closed }
func (c *conn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return tx{}, nil
}

// CheckNamedValue accepts the plain driver values as they are and sends
// anything else through database/sql's default conversion (ErrSkip), which
// calls driver.Valuer.Value and converts named and sized kinds, as the
// MySQL driver's converter does.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	switch nv.Value.(type) {
	case nil, int64, uint64, float64, float32, bool, string, []byte, time.Time:
		return nil
	}
	return driver.ErrSkip
}

func (c *conn) QueryContext(_ context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.s.queries.Add(1)
	p, err := c.s.plan(query)
	if err != nil {
		return nil, err
	}
	q := strings.TrimLeft(query, " \t\r\n(")
	n, match := p.rowCount(q, args)
	var r *rows
	if c.busy {
		r = new(rows) // a second result set open at once on this conn
	} else {
		r, c.busy = &c.rows, true
		r.c = c
	}
	r.p, r.n, r.i, r.match = p, n, 0, match
	return r, nil
}

func (c *conn) ExecContext(_ context.Context, query string, _ []driver.NamedValue) (driver.Result, error) {
	c.s.execs.Add(1)
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return &result{}, nil
	}
	switch {
	case strings.EqualFold(q[:6], "INSERT"), strings.EqualFold(q[:6], "REPLAC"):
		n := int64(valueGroups(q))
		last := c.s.lastID.Add(n)
		return &result{id: last - n + 1, n: n}, nil
	case strings.EqualFold(q[:6], "UPDATE"), strings.EqualFold(q[:6], "DELETE"):
		return &result{n: 1}, nil
	}
	return &result{}, nil
}

type result struct{ id, n int64 }

func (r *result) LastInsertId() (int64, error) { return r.id, nil }
func (r *result) RowsAffected() (int64, error) { return r.n, nil }

type tx struct{}

func (tx) Commit() error   { return nil }
func (tx) Rollback() error { return nil }

type stmt struct {
	c *conn
	q string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return -1 }
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.q, named(args))
}
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.q, named(args))
}
func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.q, args)
}
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.q, args)
}
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error { return s.c.CheckNamedValue(nv) }

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// ---------------------------------------------------------------- rows

type rows struct {
	c     *conn
	p     *plan
	n, i  int
	match bool // answer with the table's Match row
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
)

func (r *rows) Columns() []string { return r.p.names }

func (r *rows) Close() error {
	if r.c != nil && r == &r.c.rows {
		r.c.busy = false
	}
	r.p = nil
	return nil
}

func (r *rows) Next(dest []driver.Value) error {
	if r.i >= r.n {
		return io.EOF
	}
	p := r.p
	src := p.table.Rows[r.i%len(p.table.Rows)]
	if r.match {
		src = p.table.Match
	}
	for j, ci := range p.cols {
		dest[j] = src[ci]
	}
	r.i++
	return nil
}

func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return strings.ToUpper(r.p.types[i].Type) }
func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	return r.p.types[i].Nullable, true
}

var (
	scanTypeInt64     = reflect.TypeFor[int64]()
	scanTypeNullInt   = reflect.TypeFor[sql.NullInt64]()
	scanTypeFloat64   = reflect.TypeFor[float64]()
	scanTypeNullFloat = reflect.TypeFor[sql.NullFloat64]()
	scanTypeString    = reflect.TypeFor[string]()
	scanTypeNullStr   = reflect.TypeFor[sql.NullString]()
	scanTypeRawBytes  = reflect.TypeFor[sql.RawBytes]()
)

// ColumnTypeScanType mirrors the MySQL driver's choices.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	c := r.p.types[i]
	switch strings.ToUpper(c.Type) {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR":
		if c.Nullable {
			return scanTypeNullInt
		}
		return scanTypeInt64
	case "FLOAT", "DOUBLE":
		if c.Nullable {
			return scanTypeNullFloat
		}
		return scanTypeFloat64
	case "VARCHAR", "CHAR", "TEXT":
		if c.Nullable {
			return scanTypeNullStr
		}
		return scanTypeString
	}
	return scanTypeRawBytes
}
