package sqlgen

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/seed-b2691315/sqlgen/fields"
)

// The reads: Query, QueryRow and Count.
//
// A read goes through three steps. The limit check (tenantlimit.go) refuses a
// filter outside the DB's limit. The planner (plan.go, [DB.planRead])
// turns the table, filter, options and dialect into SQL text and
// arguments, from the table's shape cache (selectcache.go) or built by
// buildSelect below. The packet check (packet.go) and the index guard of
// [DB.RefuseFullScans] (indexcheck.go) look at that text, and runSelect
// or count runs it where run.go says. Under [WithBatching], a read the
// batcher can merge (readbatch.go) is planned with others instead
// ([table.planMerged]).

// buildSelect returns the SQL text and arguments of a read of t: head is
// the table's precomputed SELECT ... FROM `t` (or COUNT) text.
// eq is how the server compares JSON documents, when a JSON column is
// compared with one (see [DB.readDialect]). [DB.planRead] calls it for
// the reads the shape cache does not answer.
//
// A statement that would need more than [MaxPlaceholders] placeholders
// (an IN list of 70,000 ids) is built again with the values of its IN
// lists written into the text as literals (see appendLiteral), which
// needs none; one that still needs too many (Values of a Where) is an
// error wrapping [ErrTooLarge], before anything is sent.
func (t *table) buildSelect(head string, filter Filter, opts *SelectOptions, rowLimit int, eq jsonEquality) (string, []any, error) {
	if err := t.checkOptions(opts); err != nil {
		return "", nil, err
	}
	q, args, err := t.buildSelectMode(head, filter, opts, rowLimit, eq, false)
	if err == nil && len(args) > MaxPlaceholders {
		n := len(args)
		q, args, err = t.buildSelectMode(head, filter, opts, rowLimit, eq, true)
		if err == nil && len(args) > MaxPlaceholders {
			return "", nil, fmt.Errorf("sqlgen: read of table %q needs %d placeholders (%d with its IN lists written inline), more than the %d MySQL accepts in a statement: %w",
				t.name, n, len(args), MaxPlaceholders, ErrTooLarge)
		}
	}
	return q, args, err
}

// checkOptions refuses option combinations the server would reject.
func (t *table) checkOptions(opts *SelectOptions) error {
	if opts == nil {
		return nil
	}
	if len(opts.UseIndex) > 0 && len(opts.ForceIndex) > 0 {
		return fmt.Errorf("sqlgen: read of table %q: UseIndex and ForceIndex are both set, which MySQL refuses (error 1221); give one: %w", t.name, ErrInvalidArgument)
	}
	if opts.Offset < 0 {
		return fmt.Errorf("sqlgen: read of table %q: Offset %d is negative: %w", t.name, opts.Offset, ErrInvalidArgument)
	}
	if opts.Where == "" {
		if len(opts.Values) > 0 {
			return fmt.Errorf("sqlgen: read of table %q: %d Values without a Where to bind them to: %w", t.name, len(opts.Values), ErrInvalidArgument)
		}
	} else {
		if strings.TrimSpace(opts.Where) == "" {
			return fmt.Errorf("sqlgen: read of table %q: Where is only white space: %w", t.name, ErrInvalidArgument)
		}
		n1, n2 := countPlaceholders(opts.Where, true), countPlaceholders(opts.Where, false)
		if n1 != len(opts.Values) && n2 != len(opts.Values) {
			return fmt.Errorf("sqlgen: read of table %q: Where has %d ? placeholders and Values %d values: %w", t.name, n1, len(opts.Values), ErrInvalidArgument)
		}
	}
	if strings.TrimSpace(opts.OrderBy) == "" && opts.OrderBy != "" {
		return fmt.Errorf("sqlgen: read of table %q: OrderBy is only white space: %w", t.name, ErrInvalidArgument)
	}
	return nil
}

// countPlaceholders counts the ? of raw SQL outside string literals,
// quoted identifiers and comments. backslash says whether a backslash
// escapes the next character in a string literal (it does unless the
// server runs with NO_BACKSLASH_ESCAPES).
func countPlaceholders(sql string, backslash bool) int {
	n := 0
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; c {
		case '?':
			n++
		case '\'', '"', '`':
			i = skipQuoted(sql, i, backslash)
		case '#':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case '-':
			if strings.HasPrefix(sql[i:], "-- ") || strings.HasPrefix(sql[i:], "--\t") || sql[i:] == "--" {
				for i < len(sql) && sql[i] != '\n' {
					i++
				}
			}
		case '/':
			if strings.HasPrefix(sql[i:], "/*") {
				end := strings.Index(sql[i+2:], "*/")
				if end < 0 {
					return n
				}
				i += 2 + end + 1
			}
		}
	}
	return n
}

// skipQuoted returns the index of the quote that closes the string
// literal or quoted identifier opened at sql[i] (len(sql) if none).
func skipQuoted(sql string, i int, backslash bool) int {
	c := sql[i]
	for i++; i < len(sql); i++ {
		if sql[i] == '\\' && backslash && c != '`' {
			i++
			continue
		}
		if sql[i] == c {
			if i+1 < len(sql) && sql[i+1] == c { // doubled quote
				i++
				continue
			}
			return i
		}
	}
	return i
}

func (t *table) buildSelectMode(head string, filter Filter, opts *SelectOptions, rowLimit int, eq jsonEquality, inline bool) (string, []any, error) {
	var b strings.Builder
	b.Grow(len(head) + 24*len(filter) + 32 + optsLen(opts))
	b.WriteString(head)
	if opts != nil && (len(opts.UseIndex) > 0 || len(opts.ForceIndex) > 0) {
		if err := appendIndexHints(&b, t, opts); err != nil {
			return "", nil, err
		}
	}
	args := make([]any, 0, min(len(filter)+optsValues(opts), MaxPlaceholders))
	var err error
	if inline {
		args, err = t.appendWhereMode(&b, args, filter, opts, eq, true)
	} else {
		args, err = t.appendWhere(&b, args, filter, opts, eq)
	}
	if err != nil {
		return "", nil, err
	}
	limit := rowLimit
	if opts != nil {
		if err := t.appendOrder(&b, opts); err != nil {
			return "", nil, err
		}
		if opts.Limit > 0 && (limit == 0 || opts.Limit < limit) {
			limit = opts.Limit
		}
	}
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(limit))
	}
	if opts != nil && opts.Offset > 0 {
		if limit <= 0 {
			b.WriteString(" LIMIT " + noLimit)
		}
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(opts.Offset))
	}
	if opts != nil && opts.ForUpdate {
		b.WriteString(" FOR UPDATE")
	}
	return b.String(), args, nil
}

// noLimit is the row count of a LIMIT that limits nothing, for an OFFSET
// without a Limit (MySQL's own advice: the largest BIGINT UNSIGNED).
const noLimit = "18446744073709551615"

func appendIndexHints(b *strings.Builder, t *table, opts *SelectOptions) error {
	for _, h := range []struct {
		kw    string
		names []string
	}{{" USE INDEX (", opts.UseIndex}, {" FORCE INDEX (", opts.ForceIndex}} {
		if len(h.names) == 0 {
			continue
		}
		b.WriteString(h.kw)
		for i, n := range h.names {
			if err := fields.ValidateName(n); err != nil {
				return fmt.Errorf("sqlgen: index hint on table %q: %w: %w", t.name, err, ErrInvalidArgument)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quote(n))
		}
		b.WriteByte(')')
	}
	return nil
}

func optsLen(o *SelectOptions) int {
	if o == nil {
		return 0
	}
	return len(o.Where) + len(o.OrderBy) + 16
}

func optsValues(o *SelectOptions) int {
	if o == nil {
		return 0
	}
	n := len(o.After)
	return len(o.Values) + n*(n+3)/2
}

// readTable runs a SELECT of t for filter and opts and calls each with
// every row, scanned into a new *T. rowLimit, when positive, caps the
// rows asked for. With stream (Iter), the rows are scanned as they arrive
// (scanStream), each may end the read by returning errStop, and a replica
// read is not run again elsewhere once a row is out (streamReplicated).
func (db *DB) readTable(ctx context.Context, t *table, filter Filter, opts *SelectOptions, rowLimit int, stream bool, each func(p reflect.Value) error) error {
	if db.tenant != nil {
		if err := db.tenant.checkRead(ctx, t, filter); err != nil {
			return err
		}
	}
	var buf [maxShapeColumns + 1]any
	query, args, err := db.planRead(ctx, t, filter, opts, rowLimit, planRows, buf[:0])
	if err != nil {
		return err
	}
	if err := db.checkRead(ctx, t, query, args, filter, opts); err != nil {
		return err
	}
	if db.replicas != nil && opts != nil && opts.ForUpdate {
		ctx = OnPrimary(ctx) // a locking read is the primary's
	}
	proj, err := t.projectionOf(opts) // planRead has checked the names
	if err != nil {
		return err
	}
	allowNoIndex := opts != nil && opts.AllowNoIndex
	switch {
	case !stream:
		err = db.runSelect(ctx, t, proj, query, args, allowNoIndex, each)
	case db.readsReplica(ctx):
		err = db.streamReplicated(ctx, t, proj, query, args, allowNoIndex, each)
	default:
		err = db.runSelectHere(ctx, t, proj, query, args, allowNoIndex, true, each)
	}
	if err != nil && err != errStop {
		db.connFailed(ctx, err)
	}
	return err
}

// runSelect checks the index use of query if the DB asks for it, runs it,
// and reports it to the hook.
// proj, when not nil, is the column subset query selects.
func (db *DB) runSelect(ctx context.Context, t *table, proj *projection, query string, args []any, allowNoIndex bool, each func(p reflect.Value) error) error {
	if db.readsReplica(ctx) {
		return db.selectReplicated(ctx, t, proj, query, args, allowNoIndex, each)
	}
	return db.runSelectHere(ctx, t, proj, query, args, allowNoIndex, false, each)
}

// runSelectHere is runSelect on the DB's server. With stream (Iter), each
// may stop the read by returning errStop, which is no error.
func (db *DB) runSelectHere(ctx context.Context, t *table, proj *projection, query string, args []any, allowNoIndex, stream bool, each func(p reflect.Value) error) error {
	if db.refuseFullScans && !allowNoIndex {
		if err := db.checkIndex(ctx, t, query, args); err != nil {
			return withCtxErr(ctx, err)
		}
	}
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, t.name, "query", query, len(args))
	}
	var n int64
	var err error
	if stream {
		n, err = db.scanStream(ctx, t, proj, query, args, each)
	} else {
		n, err = db.scanAll(ctx, t, proj, query, args, each)
	}
	if db.hook != nil {
		herr := err
		if herr == errStop {
			herr = nil // the reader had what it wanted
		}
		// After the rows are closed and the statement's connection is
		// back (scanAll's and scanStream's deferred calls).
		db.after(ctx, t.name, "query", query, len(args), start, n, herr)
	}
	return err
}

// scanAll runs query where ctx says (see run.go) and scans every row
// with the table's pooled scanners.
func (db *DB) scanAll(ctx context.Context, t *table, proj *projection, query string, args []any, each func(p reflect.Value) error) (int64, error) {
	rows, r, err := db.query(ctx, t.name, query, args)
	if err != nil {
		return 0, fmt.Errorf("sqlgen: querying table %q: %w", t.name, withCtxErr(ctx, err))
	}
	defer r.end() // after the rows are closed: last of the deferred calls
	set := t.scannersFor(proj)
	defer t.putScannersFor(proj, set)
	var n int64
	for rows.Next() {
		p := reflect.New(t.typ)
		if err := t.scanRow(rows, set, p.UnsafePointer()); err != nil {
			rows.Close()
			return n, err
		}
		n++
		if err := each(p); err != nil {
			rows.Close()
			return n, err
		}
	}
	// Next returned false: it has closed the rows (database/sql closes
	// them on the last row, on an error and when the context ends), so no
	// Close here; a deferred one costs a lock on every read.
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("sqlgen: querying table %q: %w", t.name, withCtxErr(ctx, err))
	}
	return n, nil
}

// sliceTable checks that result is a *[]*T for a registered T.
func (db *DB) sliceTable(result any, method string) (*table, reflect.Value, error) {
	rv := reflect.ValueOf(result)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Type().Elem().Kind() != reflect.Slice ||
		rv.Type().Elem().Elem().Kind() != reflect.Pointer || rv.Type().Elem().Elem().Elem().Kind() != reflect.Struct {
		return nil, rv, fmt.Errorf("sqlgen: %s: result must be a non-nil *[]*T for a registered struct T, not %v: %w", method, typeOf(result), ErrInvalidArgument)
	}
	t, err := db.schema.tableByType(rv.Type().Elem().Elem().Elem())
	if err != nil {
		return nil, rv, fmt.Errorf("sqlgen: %s: %w", method, err)
	}
	return t, rv, nil
}

// Query reads the rows of T's table that match filter into result, which
// must be a *[]*T for a registered struct T. The slice is replaced (an
// empty, non-nil slice when nothing matches).
func (db *DB) Query(ctx context.Context, result any, filter Filter, opts *SelectOptions) error {
	t, rv, err := db.sliceTable(result, "Query")
	if err != nil {
		return err
	}
	if b := batcherFrom(ctx); b != nil {
		if ok, rows, err := db.tryBatch(ctx, b, t, filter, opts, false); ok {
			if err != nil {
				return err
			}
			out := make([]unsafe.Pointer, len(rows))
			for i, r := range rows {
				out[i] = r.UnsafePointer()
			}
			*(*[]unsafe.Pointer)(rv.UnsafePointer()) = out
			return nil
		}
	}
	// The *T rows, collected as plain pointers ([]*T has the layout of
	// []unsafe.Pointer): no reflection per row. With a Limit, the slice is
	// made to size at once.
	capHint := 0
	if opts != nil && opts.Limit > 0 {
		capHint = min(opts.Limit, 1024)
	}
	out := make([]unsafe.Pointer, 0, capHint)
	err = db.readTable(ctx, t, filter, opts, 0, false, func(p reflect.Value) error {
		out = append(out, p.UnsafePointer())
		return nil
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []unsafe.Pointer{} // an empty, non-nil slice
	}
	*(*[]unsafe.Pointer)(rv.UnsafePointer()) = out
	return nil
}

// QueryRow reads the one row of T's table that matches filter into
// result, which must be a **T for a registered struct T. No matching row
// is an error for which errors.Is(err, sql.ErrNoRows) holds; more than one
// is [ErrTooManyRows]. Unless opts sets a smaller Limit, the statement
// carries LIMIT 2, enough to tell one row from several. *result is only
// set on success.
func (db *DB) QueryRow(ctx context.Context, result any, filter Filter, opts *SelectOptions) error {
	rv := reflect.ValueOf(result)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Type().Elem().Kind() != reflect.Pointer || rv.Type().Elem().Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sqlgen: QueryRow: result must be a non-nil **T for a registered struct T, not %v: %w", typeOf(result), ErrInvalidArgument)
	}
	t, err := db.schema.tableByType(rv.Type().Elem().Elem())
	if err != nil {
		return fmt.Errorf("sqlgen: QueryRow: %w", err)
	}
	if b := batcherFrom(ctx); b != nil {
		if ok, rows, err := db.tryBatch(ctx, b, t, filter, opts, true); ok {
			switch {
			case err != nil:
				return err
			case len(rows) == 0:
				return noRow(t)
			case len(rows) > 1:
				return fmt.Errorf("sqlgen: QueryRow on table %q: %w", t.name, ErrTooManyRows)
			}
			storePtr(rv, rows[0])
			return nil
		}
	}
	var row reflect.Value
	err = db.readTable(ctx, t, filter, opts, 2, false, func(p reflect.Value) error {
		if row.IsValid() {
			return fmt.Errorf("sqlgen: QueryRow on table %q: %w", t.name, ErrTooManyRows)
		}
		row = p
		return nil
	})
	if err != nil {
		return err
	}
	if !row.IsValid() {
		return noRow(t)
	}
	storePtr(rv, row)
	return nil
}

func noRow(t *table) error {
	return fmt.Errorf("sqlgen: no row of table %q matches: %w", t.name, sql.ErrNoRows)
}

// FullScanQuery is [DB.Query] with AllowNoIndex set, for the reads that
// are meant to scan a whole table on a DB made with [DB.RefuseFullScans].
// The caller's options are not modified.
func (db *DB) FullScanQuery(ctx context.Context, result any, filter Filter, opts *SelectOptions) error {
	var o SelectOptions
	if opts != nil {
		o = *opts
	}
	o.AllowNoIndex = true
	return db.Query(ctx, result, filter, &o)
}

// Count returns the number of rows of model's table that match filter;
// model is a *T for a registered struct T, used only for its type.
func (db *DB) Count(ctx context.Context, model any, filter Filter) (int64, error) {
	rt := reflect.TypeOf(model)
	if rt == nil || rt.Kind() != reflect.Pointer || rt.Elem().Kind() != reflect.Struct {
		return 0, fmt.Errorf("sqlgen: Count: model must be a *T for a registered struct T, not %v: %w", typeOf(model), ErrInvalidArgument)
	}
	t, err := db.schema.tableByType(rt.Elem())
	if err != nil {
		return 0, fmt.Errorf("sqlgen: Count: %w", err)
	}
	if db.tenant != nil {
		if err := db.tenant.checkRead(ctx, t, filter); err != nil {
			return 0, err
		}
	}
	var buf [maxShapeColumns + 1]any
	query, args, err := db.planRead(ctx, t, filter, nil, 0, planCount, buf[:0])
	if err != nil {
		return 0, err
	}
	if err := db.checkRead(ctx, t, query, args, filter, nil); err != nil {
		return 0, err
	}
	var n int64
	if db.readsReplica(ctx) {
		err = db.countReplicated(ctx, t, query, args, &n)
	} else {
		err = db.count(ctx, t, query, args, &n)
	}
	return n, err
}

// count runs the COUNT(*) query of t on the DB's server, checking its
// index use first if the DB asks for it, and reports it to the hook.
func (db *DB) count(ctx context.Context, t *table, query string, args []any, n *int64) error {
	if db.refuseFullScans {
		if err := db.checkIndex(ctx, t, query, args); err != nil {
			return withCtxErr(ctx, err)
		}
	}
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, t.name, "count", query, len(args))
	}
	err := db.scanCountOf(ctx, t, query, args, n)
	if err != nil {
		err = fmt.Errorf("sqlgen: counting table %q: %w", t.name, err)
		db.connFailed(ctx, err)
	}
	if db.hook != nil {
		db.after(ctx, t.name, "count", query, len(args), start, 1, err)
	}
	return err
}

// scanCountOf reads the single integer a COUNT(*) statement about table t
// (nil if unknown) returns; the hook's report of a KILL names t. Its
// errors wrap the context's error when ctx is done.
func (db *DB) scanCountOf(ctx context.Context, t *table, query string, args []any, n *int64) error {
	name := ""
	if t != nil {
		name = t.name
	}
	rows, r, err := db.query(ctx, name, query, args)
	if err != nil {
		return withCtxErr(ctx, err)
	}
	err = readCount(rows, n)
	r.end()
	return withCtxErr(ctx, err)
}

func readCount(rows *sql.Rows, n *int64) error {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(n); err != nil {
		return err
	}
	return rows.Close()
}

// storePtr sets *result = p, where result (rv) is a **T and p a *T.
// (Query likewise stores its []*T through a *[]unsafe.Pointer.)
// reflect.Value.Set would do, but it lets its receiver escape, which
// would move the caller's variable to the heap: an allocation per call.
// A **T and a *unsafe.Pointer have the same layout, and the store goes
// through the compiler's write barrier like any pointer store.
func storePtr(rv, p reflect.Value) {
	*(*unsafe.Pointer)(rv.UnsafePointer()) = p.UnsafePointer()
}
