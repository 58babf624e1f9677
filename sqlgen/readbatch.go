package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seed-b2691315/sqlgen/internal/rowscan"
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
// the window to end. It is at most [MaxPlaceholders]/4 (16,383), so that
// a batch on four columns stays within MySQL's placeholders.
func BatchSize(n int) BatchOption {
	return func(b *batcher) {
		if n > 0 {
			b.maxSize = min(n, MaxPlaceholders/maxBatchColumns)
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
// whose. Reads inside a transaction are never merged. A QueryRow is merged
// only when its filter pins every primary-key column, so that it can
// match at most one row of the merged statement; any other runs on its
// own, with the LIMIT 2 it has alone.
//
// Merging changes nothing of what a caller gets. Each row of the merged
// statement is matched to its callers by its filter columns, then read
// whole once for each of them: two callers that ask for the same row get
// structs that share no pointer, byte slice, map or slice, and a row that
// does not convert is an error for its own callers only. When the merged
// statement fails, or a row cannot be matched, each caller runs its read
// on its own. A merged statement that would pass the server's
// max_allowed_packet is sent as several.
//
// The merged statement runs with ctx (the context given to WithBatching);
// a caller whose own context ends first gets its context's error and the
// others carry on.
func WithBatching(ctx context.Context, opts ...BatchOption) context.Context {
	b := &batcher{ctx: ctx, window: DefaultBatchWindow, maxSize: DefaultBatchSize, pending: map[readBatchKey]*readBatch{}}
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
	pending map[readBatchKey]*readBatch
}

// readBatchKey groups reads that can share a statement.
type readBatchKey struct {
	db   *DB
	t    *table
	cols string // the filter's sorted column names, comma-separated
	// primary is set for the reads of a DB with replicas that go to the
	// primary (OnPrimary, or after a write under WithReadYourWrites).
	primary bool
}

type readBatch struct {
	db    *DB
	t     *table
	cols  []*column
	reqs  []*readReq
	timer *time.Timer
}

type readReq struct {
	vals [maxBatchColumns]driver.Value // the converted filter values, by column
	rows []reflect.Value               // the *T rows that match
	err  error                         // an error of this caller's own rows
	// alone is set when the merged statement could not answer: the
	// caller then runs its read on its own, as without batching.
	alone bool
	done  chan struct{}
}

// batchable reports whether opts leave a read mergeable.
// They must not change the SQL text (trivialOptions), nor ask for a row
// limit or leave the index guard out, which a merged statement could not
// keep to for one of its reads alone.
func batchable(opts *SelectOptions) bool {
	return trivialOptions(opts) && (opts == nil || opts.Limit == 0 && !opts.AllowNoIndex)
}

// tryBatch runs a read through the batcher when it can be merged, and
// returns the *T rows that match. It reports whether it handled the read;
// when it did not, the caller runs the read itself. (It returns the rows
// rather than storing them so that the caller's result does not escape.)
//
// oneRow is set for QueryRow, which alone asks for LIMIT 2: it is merged
// only when its filter pins every primary-key column, so that it can
// never read more than one row in the merged statement either.
func (db *DB) tryBatch(ctx context.Context, b *batcher, t *table, filter Filter, opts *SelectOptions, oneRow bool) (bool, []reflect.Value, error) {
	if len(filter) == 0 || len(filter) > maxBatchColumns || !batchable(opts) || db.HasTx(ctx) {
		return false, nil, nil
	}
	if oneRow {
		for _, c := range t.primary {
			if _, ok := filter[c.name]; !ok {
				return false, nil, nil
			}
		}
	}
	var names [maxBatchColumns]string
	keys := names[:0]
	for k := range filter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	req := &readReq{}
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
	if db.tenant != nil {
		if err := db.tenant.checkRead(ctx, t, filter); err != nil {
			return true, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return true, nil, fmt.Errorf("sqlgen: batched read of table %q: %w", t.name, err)
	}
	req.done = make(chan struct{})
	key := readBatchKey{db: db, t: t, cols: strings.Join(keys, ",")}
	if db.replicas != nil {
		w := writesOf(ctx)
		key.primary = onPrimary(ctx) || w != nil && w.any(db.conn)
	}
	b.add(key, cols, req)
	select {
	case <-req.done:
	case <-ctx.Done():
		return true, nil, fmt.Errorf("sqlgen: batched read of table %q: %w", t.name, ctx.Err())
	}
	if req.alone {
		return false, nil, nil
	}
	if req.err != nil {
		return true, nil, withCtxErr(ctx, req.err)
	}
	return true, req.rows, nil
}

func (b *batcher) add(key readBatchKey, cols []*column, req *readReq) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt, ok := b.pending[key]
	if !ok {
		bt = &readBatch{db: key.db, t: key.t, cols: cols}
		b.pending[key] = bt
		bt.timer = time.AfterFunc(b.window, func() { b.flush(key, bt) })
	}
	bt.reqs = append(bt.reqs, req)
	if len(bt.reqs) >= b.maxSize && bt.timer.Stop() {
		go b.flush(key, bt)
	}
}

// flush takes bt out of the pending set and runs it.
func (b *batcher) flush(key readBatchKey, bt *readBatch) {
	b.mu.Lock()
	if b.pending[key] == bt {
		delete(b.pending, key)
	}
	b.mu.Unlock()
	ctx := b.ctx
	if key.primary {
		ctx = OnPrimary(ctx)
	}
	bt.run(ctx)
}

type tuple = [maxBatchColumns]driver.Value

// run sends the merged statement, or several when one would pass the
// server's max_allowed_packet, and hands each request its rows.
func (bt *readBatch) run(ctx context.Context) {
	n := len(bt.cols)
	// Distinct value tuples, in a stable order.
	byTuple := make(map[tuple][]*readReq, len(bt.reqs))
	tuples := make([]tuple, 0, len(bt.reqs))
	for _, r := range bt.reqs {
		if _, ok := byTuple[r.vals]; !ok {
			tuples = append(tuples, r.vals)
		}
		byTuple[r.vals] = append(byTuple[r.vals], r)
	}
	slices.SortFunc(tuples, func(a, b tuple) int {
		for i := 0; i < n; i++ {
			if c := orderDriverValues(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	for len(tuples) > 0 {
		k, query, args := bt.fitting(ctx, tuples)
		group := tuples[:k]
		if k == 0 { // not even one: every caller on its own
			group = tuples
		}
		bt.runGroup(ctx, group, query, args, byTuple, k == 0)
		for _, tp := range group {
			for _, r := range byTuple[tp] {
				close(r.done)
			}
		}
		tuples = tuples[len(group):]
	}
}

// fitting returns how many of tuples, from the first, one statement can
// take without passing the server's max_allowed_packet, and that
// statement (0 when the limit cannot be read, or not even one fits).
func (bt *readBatch) fitting(ctx context.Context, tuples []tuple) (int, string, []any) {
	db := bt.db
	query, args := bt.sql(tuples)
	if db.smallStatement(len(query), args) {
		return len(tuples), query, args
	}
	limit, err := db.maxPacket(ctx, db.on(ctx, nil))
	if err != nil {
		return 0, "", nil
	}
	// Every tuple takes at most its text and, per value, 20 digits in
	// the text or 8 bytes, 2 type bytes and a NULL bit in binary.
	head := len(bt.t.selectSQL) + len(" WHERE ") + len(" OR ") + 2*len(bt.cols[0].quoted) + len(" IS NULL()")
	per := (len(query)-head)/len(tuples) + 1 + 16 + len(bt.cols)*24
	k := (int(limit) - head - 64) / per
	k = max(min(k, len(tuples)), 0)
	for k > 0 {
		query, args = bt.sql(tuples[:k])
		s := newSizer(limit, db.stmts == nil)
		s.query = int64(len(query))
		for _, v := range args {
			s.add(v, nil)
		}
		ok, _, err := db.fits(ctx, db.on(ctx, nil), db.stmts != nil, s)
		if err != nil {
			return 0, "", nil
		}
		if ok {
			return k, query, args
		}
		k = k * 9 / 10 // the bound was off: tighten
	}
	return 0, "", nil
}

// sql returns the merged statement for tuples (see planMerged).
func (bt *readBatch) sql(tuples []tuple) (string, []any) {
	return bt.t.planMerged(bt.cols, tuples)
}

// discard is a scan destination that keeps nothing.
type discard struct{}

func (discard) Scan(any) error { return nil }

// runGroup runs the merged statement of tuples and gives each caller its
// rows. Each row is read twice: its filter columns first, into a scratch
// struct, to know whose row it is, then whole, once for each caller that
// asked for it, so that two callers never share a pointer, a slice or a
// map, and a row that does not convert (a value out of its field's
// range, say) is an error for its own callers only. When the statement
// itself fails (or alone is set), each caller runs its read on its own:
// it gets what it would have got without batching, and no other
// caller's error.
func (bt *readBatch) runGroup(ctx context.Context, tuples []tuple, query string, args []any, byTuple map[tuple][]*readReq, alone bool) {
	t, db := bt.t, bt.db
	fallBack := func() {
		for _, tp := range tuples {
			for _, r := range byTuple[tp] {
				r.rows, r.err, r.alone = nil, nil, true
			}
		}
	}
	if alone {
		fallBack()
		return
	}
	var keyRow rowscan.Row
	scratch := reflect.New(t.typ)
	keyRow.Set(scratch.UnsafePointer())
	keyDest := make([]any, len(t.columns))
	for i, c := range t.columns {
		keyDest[i] = discard{}
		if slices.Contains(bt.cols, c) {
			keyDest[i] = rowscan.NewScanner(c.desc, &keyRow, c.offset)
		}
	}
	err := db.runMerged(ctx, t, query, args, func(rows *sql.Rows, set *scanSet) error {
		if err := rows.Scan(keyDest...); err != nil {
			return err
		}
		var key tuple
		for j, c := range bt.cols {
			v, err := c.desc.Value(c.fieldOf(scratch.Elem()))
			if err != nil {
				return err
			}
			key[j] = v
		}
		for _, r := range byTuple[key] {
			if r.err != nil {
				continue
			}
			p := reflect.New(t.typ)
			if err := t.scanRow(rows, set, p.UnsafePointer()); err != nil {
				r.rows, r.err = nil, err
				continue
			}
			r.rows = append(r.rows, p)
		}
		return nil
	})
	if err != nil {
		fallBack()
	}
}

// runMerged is runSelect for a merged statement: each is called on every
// row, with the rows (to scan the current row as many times as needed)
// and a scanner set.
func (db *DB) runMerged(ctx context.Context, t *table, query string, args []any, each func(rows *sql.Rows, set *scanSet) error) error {
	if db.readsReplica(ctx) {
		return db.mergedReplicated(ctx, t, query, args, each)
	}
	return db.runMergedHere(ctx, t, query, args, each)
}

// runMergedHere is runMerged on the DB's server.
func (db *DB) runMergedHere(ctx context.Context, t *table, query string, args []any, each func(rows *sql.Rows, set *scanSet) error) error {
	if db.refuseFullScans {
		if err := db.checkIndex(ctx, t, query, args); err != nil {
			return err
		}
	}
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, t.name, "query", query, len(args))
	}
	var n int64
	err := func() error {
		rows, err := db.queryRows(ctx, t.name, query, args)
		if err != nil {
			return fmt.Errorf("sqlgen: querying table %q: %w", t.name, err)
		}
		defer rows.Close()
		set := t.getScanners()
		defer t.putScanners(set)
		for rows.Next() {
			n++
			if err := each(rows, set); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlgen: querying table %q: %w", t.name, err)
		}
		return nil
	}()
	if db.hook != nil {
		db.after(ctx, t.name, "query", query, len(args), start, n, err)
	}
	if err != nil {
		db.connFailed(ctx, err)
	}
	return err
}
