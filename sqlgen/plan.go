package sqlgen

import (
	"context"
	"reflect"
	"strings"
)

// The read planner.
//
// Every read turns (table, filter, options, dialect) into SQL text and
// arguments here, and nowhere else:
//
//   - [DB.planRead] plans a SELECT of whole rows (Query, QueryRow, and
//     a read the batcher could not merge) or a COUNT(*) (Count). It works
//     out what the dialect needs first ([DB.readDialect]: how the server
//     compares JSON, asked of the server only when a JSON column is
//     compared with a document), then consults the table's shape cache
//     (selectcache.go) when the options change nothing in the text but
//     the row limit ([trivialOptions]), and builds the text the general
//     way (buildSelect, query.go) otherwise.
//   - [table.planMerged] plans the statement of a batch of merged reads
//     (readbatch.go).
//
// What runs the plan (run.go, query.go) takes its text as it is: the
// index guard of [DB.RefuseFullScans] EXPLAINs that same text, the
// packet check sizes it, and the replicas run it.

// readKind is what a planned read selects.
type readKind uint8

const (
	planRows  readKind = iota // the table's columns (SELECT `a`,`b` ...)
	planCount                 // COUNT(*)
)

// trivialOptions reports whether opts ask for nothing that changes the
// SQL text of a read but its row limit. AllowNoIndex changes no text.
// (Columns, Offset and After change it: such reads are built the general
// way, and never merged by the batcher.)
func trivialOptions(opts *SelectOptions) bool {
	return opts == nil || (opts.Where == "" && len(opts.Values) == 0 && opts.OrderBy == "" && len(opts.Order) == 0 &&
		!opts.ForUpdate && len(opts.UseIndex) == 0 && len(opts.ForceIndex) == 0 &&
		opts.Offset == 0 && len(opts.Columns) == 0 && opts.After == nil)
}

// effectiveLimit is the row limit of a read's statement: the smaller of
// rowLimit (the method's own, such as QueryRow's 2) and opts.Limit, 0 for
// none.
func effectiveLimit(opts *SelectOptions, rowLimit int) int {
	if opts != nil && opts.Limit > 0 && (rowLimit == 0 || opts.Limit < rowLimit) {
		return opts.Limit
	}
	return rowLimit
}

// planRead returns the SQL text and arguments of a read of t for filter
// and opts (as two results, not a struct: escape analysis does not tell
// a struct's fields apart, and the text escapes where the arguments, on
// the caller's stack, must not) (a COUNT takes no options: nil); rowLimit, when positive, caps
// the rows asked for. The arguments are appended to buf, which the caller
// may keep on its stack.
//
// A read whose options are trivial takes the table's shape cache: first
// its fast shapes (a read by key, or by the same few columns, costs a few map
// look-ups), then the cache by shape, which builds and keeps the text the
// first time. Other reads are built the general way.
func (db *DB) planRead(ctx context.Context, t *table, filter Filter, opts *SelectOptions, rowLimit int, kind readKind, buf []any) (query string, args []any, err error) {
	if trivialOptions(opts) && len(filter) <= maxShapeColumns {
		if q, args, hit := t.fastShapeRead(buf, filter, kind == planCount, effectiveLimit(opts, rowLimit)); hit {
			return q, args, nil
		}
	}
	return db.planReadShape(ctx, t, filter, opts, rowLimit, kind, buf)
}

// planReadShape is planRead past the fast shapes (kept apart so that the read
// through a fast shape, the most common, pays for none of what follows).
func (db *DB) planReadShape(ctx context.Context, t *table, filter Filter, opts *SelectOptions, rowLimit int, kind readKind, buf []any) (query string, args []any, err error) {
	count := kind == planCount
	eq, err := db.readDialect(ctx, t, filter)
	if err != nil {
		return "", nil, err
	}
	if trivialOptions(opts) {
		q, args, ok, err := t.shapeSelect(buf, count, filter, effectiveLimit(opts, rowLimit), eq)
		if ok || err != nil {
			return q, args, err
		}
	}
	head := t.selectSQL
	if count {
		head = t.countSQL
	} else if opts != nil && len(opts.Columns) > 0 {
		p, err := t.projection(opts.Columns)
		if err != nil {
			return "", nil, err
		}
		head = p.head
	}
	return t.buildSelect(head, filter, opts, rowLimit, eq)
}

// readDialect returns what the SQL of a read of t with filter needs of
// the server's dialect: how it compares JSON documents, when filter
// compares a JSON column with a value that is not NULL (asking the
// server's version the first time), and jsonUnknown otherwise. A DB that
// never filters a JSON column never asks.
func (db *DB) readDialect(ctx context.Context, t *table, filter Filter) (jsonEquality, error) {
	for k, v := range filter {
		if c, ok := t.byName[k]; ok && v != nil && c.desc.IsJSON() && !c.isList(v) && !nilPointer(v) {
			return db.jsonEquality(ctx)
		}
	}
	return jsonUnknown, nil
}

// nilPointer reports whether v is a nil pointer (which a filter compares
// as NULL).
func nilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// planMerged returns the statement of a batch of merged reads of t on
// cols (see readbatch.go): each tuple holds one read's values of cols, all
// integers, bools or nil, sorted. One column is an IN list (with an
// IS NULL for nil); several are an OR of ANDs.
func (t *table) planMerged(cols []*column, tuples []tuple) (query string, args []any) {
	n := len(cols)
	var sb strings.Builder
	sb.WriteString(t.selectSQL)
	sb.WriteString(" WHERE ")
	args = make([]any, 0, len(tuples)*n)
	if n == 1 {
		args = appendMergedIn(&sb, args, cols[0], tuples)
	} else {
		for i, tp := range tuples {
			if i > 0 {
				sb.WriteString(" OR ")
			}
			sb.WriteByte('(')
			for j, c := range cols {
				if j > 0 {
					sb.WriteString(" AND ")
				}
				args = c.appendEqual(&sb, args, tp[j], jsonUnknown) // never JSON: only integers, bools and NULL are merged
			}
			sb.WriteByte(')')
		}
	}
	return sb.String(), args
}

// appendMergedIn appends the condition of a batch on one column c:
// `c` IN (...), with OR `c` IS NULL when the first (sorted) tuple is nil.
func appendMergedIn(sb *strings.Builder, args []any, c *column, tuples []tuple) []any {
	hasNull := tuples[0][0] == nil
	vals := tuples
	if hasNull {
		vals = tuples[1:]
		sb.WriteByte('(')
	}
	if len(vals) > 0 {
		for _, tp := range vals {
			args = append(args, tp[0])
		}
		c.appendIn(sb, len(vals))
	}
	if hasNull {
		if len(vals) > 0 {
			sb.WriteString(" OR ")
		}
		sb.WriteString(c.quoted)
		sb.WriteString(" IS NULL)")
	}
	return args
}
