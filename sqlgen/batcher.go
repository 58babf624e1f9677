package sqlgen

import (
	"cmp"
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of [WithBatching].
const (
	DefaultBatchWindow = time.Millisecond
	DefaultBatchSize   = 500
)

// maxBatchColumns is the most filter columns a batched read may have.
const maxBatchColumns = 4

// BatchOption configures [WithBatching].
type BatchOption func(*batcher)

// BatchWindow sets how long the first read of a batch waits for others
// to join it (default [DefaultBatchWindow]).
func BatchWindow(d time.Duration) BatchOption {
	return func(b *batcher) {
		if d > 0 {
			b.window = d
		}
	}
}

// BatchSize caps the number of reads merged into one statement (default
// [DefaultBatchSize]); a full batch is sent at once, without waiting for
// the window to end.
func BatchSize(n int) BatchOption {
	return func(b *batcher) {
		if n > 0 {
			b.maxSize = n
		}
	}
}

type batcherKey struct{}

// WithBatching returns a context under which concurrent reads are merged,
// to avoid the N+1 queries of GraphQL resolvers: [DB.QueryRow] and
// [DB.Query] calls on the same DB and table, with a filter on the same
// columns and no [SelectOptions], issued within the batch window of each
// other, become one statement (`col IN (...)` for one column,
// `(a=? AND b=?) OR ...` for several), and each caller gets exactly the
// rows its own filter selects.
//
// A read is merged only when its filter has one to four columns, each
// with a single value that converts (through the column's field type) to
// an integer, a bool or nil (IS NULL). Filters on strings, floats, times or
// JSON are run on their own, because the server's collation and rounding
// decide their equality and the batcher could not tell which rows are
// whose. Reads inside a transaction are never merged.
//
// The merged statement runs with ctx (the context given to WithBatching),
// so cancelling it fails the whole batch; a caller whose own context ends
// first gets its context's error and the others carry on. Two callers
// that ask for the same row get distinct structs (shallow copies: maps and
// slices inside JSON fields are shared between them).
func WithBatching(ctx context.Context, opts ...BatchOption) context.Context {
	b := &batcher{ctx: ctx, window: DefaultBatchWindow, maxSize: DefaultBatchSize, pending: map[batchKey]*batch{}}
	for _, o := range opts {
		o(b)
	}
	return context.WithValue(ctx, batcherKey{}, b)
}

func batcherFrom(ctx context.Context) *batcher {
	b, _ := ctx.Value(batcherKey{}).(*batcher)
	return b
}

type batcher struct {
	ctx     context.Context
	window  time.Duration
	maxSize int

	mu      sync.Mutex
	pending map[batchKey]*batch
}

// batchKey groups reads that can share a statement.
type batchKey struct {
	db   *DB
	t    *table
	cols string // the filter's sorted column names, comma-separated
}

type batch struct {
	db    *DB
	t     *table
	cols  []*column
	reqs  []*batchReq
	timer *time.Timer
}

type batchReq struct {
	vals [maxBatchColumns]driver.Value // the converted filter values, by column
	rows []reflect.Value               // the *T rows that match
	err  error
	done chan struct{}
}

// batchable reports whether opts leave a read mergeable.
func batchable(opts *SelectOptions) bool {
	return opts == nil || (opts.Where == "" && len(opts.Values) == 0 && opts.OrderBy == "" && len(opts.Order) == 0 && opts.Limit == 0 &&
		!opts.ForUpdate && len(opts.UseIndex) == 0 && len(opts.ForceIndex) == 0 && !opts.AllowNoIndex)
}

// tryBatch runs a read through the batcher when it can be merged, and
// returns the *T rows that match. It reports whether it handled the read;
// when it did not, the caller runs the read itself. (It returns the rows
// rather than storing them so that the caller's result does not escape.)
func (db *DB) tryBatch(ctx context.Context, b *batcher, t *table, filter Filter, opts *SelectOptions) (bool, []reflect.Value, error) {
	if len(filter) == 0 || len(filter) > maxBatchColumns || !batchable(opts) || db.HasTx(ctx) {
		return false, nil, nil
	}
	var names [maxBatchColumns]string
	keys := names[:0]
	for k := range filter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	req := &batchReq{}
	cols := make([]*column, len(keys))
	for i, k := range keys {
		c, ok := t.byName[k]
		if !ok || c.isList(filter[k]) {
			return false, nil, nil // let the normal path report it
		}
		v, err := c.desc.ValueOf(filter[k])
		if err != nil {
			return false, nil, nil
		}
		switch v.(type) {
		case nil, int64, uint64, bool:
		default:
			return false, nil, nil
		}
		cols[i], req.vals[i] = c, v
	}
	if db.limit != nil {
		if err := db.limit.checkRead(ctx, t, filter); err != nil {
			return true, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return true, nil, fmt.Errorf("sqlgen: batched read of table %q: %w", t.name, err)
	}
	req.done = make(chan struct{})
	b.add(batchKey{db: db, t: t, cols: strings.Join(keys, ",")}, cols, req)
	select {
	case <-req.done:
	case <-ctx.Done():
		return true, nil, fmt.Errorf("sqlgen: batched read of table %q: %w", t.name, ctx.Err())
	}
	if req.err != nil {
		return true, nil, withCtxErr(ctx, req.err)
	}
	return true, req.rows, nil
}

func (b *batcher) add(key batchKey, cols []*column, req *batchReq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt, ok := b.pending[key]
	if !ok {
		bt = &batch{db: key.db, t: key.t, cols: cols}
		b.pending[key] = bt
		bt.timer = time.AfterFunc(b.window, func() { b.flush(key, bt) })
	}
	bt.reqs = append(bt.reqs, req)
	if len(bt.reqs) >= b.maxSize && bt.timer.Stop() {
		go b.flush(key, bt)
	}
}

// flush takes bt out of the pending set and runs it.
func (b *batcher) flush(key batchKey, bt *batch) {
	b.mu.Lock()
	if b.pending[key] == bt {
		delete(b.pending, key)
	}
	b.mu.Unlock()
	bt.run(b.ctx)
}

// compareValues orders the driver values of one column (nil, int64,
// uint64 or bool) so the statement text is deterministic.
func compareValues(a, b driver.Value) int {
	rank := func(v driver.Value) int {
		switch v.(type) {
		case nil:
			return 0
		case bool:
			return 1
		case int64:
			return 2
		}
		return 3
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch a := a.(type) {
	case bool:
		if a == b.(bool) {
			return 0
		}
		if !a {
			return -1
		}
		return 1
	case int64:
		return cmp.Compare(a, b.(int64))
	case uint64:
		return cmp.Compare(a, b.(uint64))
	}
	return 0
}

// run sends the merged statement and hands each request its rows.
func (bt *batch) run(ctx context.Context) {
	t, n := bt.t, len(bt.cols)
	// Distinct value tuples, in a stable order.
	byTuple := make(map[[maxBatchColumns]driver.Value][]*batchReq, len(bt.reqs))
	tuples := make([][maxBatchColumns]driver.Value, 0, len(bt.reqs))
	for _, r := range bt.reqs {
		if _, ok := byTuple[r.vals]; !ok {
			tuples = append(tuples, r.vals)
		}
		byTuple[r.vals] = append(byTuple[r.vals], r)
	}
	slices.SortFunc(tuples, func(a, b [maxBatchColumns]driver.Value) int {
		for i := 0; i < n; i++ {
			if c := compareValues(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	var sb strings.Builder
	sb.WriteString(t.selectSQL)
	sb.WriteString(" WHERE ")
	args := make([]any, 0, len(tuples)*n)
	if n == 1 {
		c := bt.cols[0]
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
			c.appendIn(&sb, len(vals))
		}
		if hasNull {
			if len(vals) > 0 {
				sb.WriteString(" OR ")
			}
			sb.WriteString(c.quoted)
			sb.WriteString(" IS NULL)")
		}
	} else {
		for i, tp := range tuples {
			if i > 0 {
				sb.WriteString(" OR ")
			}
			sb.WriteByte('(')
			for j, c := range bt.cols {
				if j > 0 {
					sb.WriteString(" AND ")
				}
				args = c.appendEqual(&sb, args, tp[j], jsonUnknown) // never JSON: only integers, bools and NULL are merged
			}
			sb.WriteByte(')')
		}
	}
	err := bt.db.runSelect(ctx, t, sb.String(), args, false, func(p reflect.Value) error {
		var key [maxBatchColumns]driver.Value
		for j, c := range bt.cols {
			v, err := c.desc.Value(c.fieldOf(p.Elem()))
			if err != nil {
				return err
			}
			key[j] = v
		}
		for i, r := range byTuple[key] {
			row := p
			if i > 0 { // another caller asked for the same row: its own struct
				row = reflect.New(t.typ)
				row.Elem().Set(p.Elem())
			}
			r.rows = append(r.rows, row)
		}
		return nil
	})
	for _, r := range bt.reqs {
		if err != nil {
			r.err = err
			r.rows = nil
		}
		close(r.done)
	}
}
