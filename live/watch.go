package live

import (
	"context"
	"database/sql/driver"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	vmysql "github.com/dolthub/vitess/go/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// Change is one changed row of a registered table.
type Change struct {
	// Table is the registered table name.
	Table string
	// Before and After are *T of the table's registered type: the row
	// before and after the change; Before is nil for an insert, After nil
	// for a delete.
	Before, After any
}

// item is a queued change, or an error in its place.
type item struct {
	c   Change
	err error
}

// sub is a [Feed.Changes] subscriber.
type sub struct {
	tables map[string]bool // nil: every registered table
	mu     sync.Mutex      // guards q
	q      []item
	notify chan struct{}
}

func (s *sub) push(items []item) {
	if len(items) == 0 {
		return
	}
	s.mu.Lock()
	s.q = append(s.q, items...)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *sub) take() []item {
	s.mu.Lock()
	q := s.q
	s.q = nil
	s.mu.Unlock()
	return q
}

// Changes returns the changes committed from now on to the given tables
// (every registered table when none is given), in commit order; the
// changes of one transaction come one after the other, and each
// transaction's commit is visible to other sessions when its changes
// arrive. A row that cannot be decoded into its registered type yields
// that error in place of its change, and the stream goes on. The sequence
// ends with an error when ctx ends or the feed stops (wrapping [ErrClosed]
// after [Feed.Close], [ErrPurged] when the resume position is gone).
func (f *Feed) Changes(ctx context.Context, tables ...string) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		s := &sub{notify: make(chan struct{}, 1)}
		if len(tables) > 0 {
			s.tables = map[string]bool{}
			for _, t := range tables {
				if _, err := f.schema.Columns(t); err != nil {
					yield(Change{}, fmt.Errorf("live: Changes: %w", err))
					return
				}
				s.tables[t] = true
			}
		}
		f.mu.Lock()
		if f.err != nil {
			err := f.err
			f.mu.Unlock()
			yield(Change{}, err)
			return
		}
		f.subs[s] = struct{}{}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.subs, s)
			f.mu.Unlock()
		}()
		for {
			items := s.take()
			for _, it := range items {
				if !yield(it.c, it.err) {
					return
				}
			}
			if len(items) > 0 {
				continue
			}
			select {
			case <-s.notify:
			case <-ctx.Done():
				yield(Change{}, ctx.Err())
				return
			case <-f.done:
				for _, it := range s.take() {
					if !yield(it.c, it.err) {
						return
					}
				}
				yield(Change{}, f.Err())
				return
			}
		}
	}
}

// watcher is a [Watch]'s registration.
type watcher struct {
	table  string
	tester sqlgen.Tester
	col    string   // the indexed column, "" when scanned
	keys   []string // its keys
	notify chan struct{}
}

func (w *watcher) signal() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// tableWatchers indexes a table's watchers by the equality values of one
// filter column each, so a change is tested against the few watchers whose
// value it carries, plus those whose filter has no indexable column.
type tableWatchers struct {
	cols  []string       // the table's columns, in Columns order
	colIx map[string]int // column: index in cols
	byCol map[string]map[string]map[*watcher]struct{}
	scan  map[*watcher]struct{}
	n     int
}

// keyKind is how an indexable column's values are keyed.
type keyKind byte

const (
	kindNone keyKind = iota
	kindInt
	kindString
)

// rowKey is the index key of a value of the row's column (from
// UnbuildStruct).
func rowKey(v any) (string, bool) {
	switch v := v.(type) {
	case int64:
		return "i" + strconv.FormatInt(v, 10), true
	case uint64:
		return "i" + strconv.FormatUint(v, 10), true
	case string:
		return "s" + v, true
	}
	return "", false
}

var valuerType = reflect.TypeFor[driver.Valuer]()

// filterKeys returns the index keys of a filter value on a column of kind
// k, or false when the value is not one the index can key exactly (then
// the watcher is scanned; the Tester decides either way).
func filterKeys(v any, k keyKind) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	one := func(rv reflect.Value) (string, bool) {
		if rv.Kind() == reflect.Interface && !rv.IsNil() {
			rv = rv.Elem()
		}
		if !rv.IsValid() || rv.Type().Implements(valuerType) {
			return "", false
		}
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if k == kindInt {
				return "i" + strconv.FormatInt(rv.Int(), 10), true
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if k == kindInt {
				return "i" + strconv.FormatUint(rv.Uint(), 10), true
			}
		case reflect.String:
			if k == kindString {
				return "s" + rv.String(), true
			}
		}
		return "", false
	}
	if rv.Kind() == reflect.Slice && !rv.Type().Implements(valuerType) {
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false // []byte: one value, not a list
		}
		keys := make([]string, 0, rv.Len())
		for i := range rv.Len() {
			key, ok := one(rv.Index(i))
			if !ok {
				return nil, false
			}
			keys = append(keys, key)
		}
		return keys, true // an empty list matches nothing: no keys
	}
	key, ok := one(rv)
	if !ok {
		return nil, false
	}
	return []string{key}, true
}

// addWatcher registers w under the feed's lock, so that every transaction
// delivered after it is tested against it.
func (f *Feed) addWatcher(w *watcher, filter sqlgen.Filter, zero []any) error {
	cols, err := f.schema.Columns(w.table)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	tw := f.watch[w.table]
	if tw == nil {
		tw = &tableWatchers{cols: cols, colIx: map[string]int{}, byCol: map[string]map[string]map[*watcher]struct{}{}, scan: map[*watcher]struct{}{}}
		for i, c := range cols {
			tw.colIx[c] = i
		}
		f.watch[w.table] = tw
	}
	names := make([]string, 0, len(filter))
	for c := range filter {
		names = append(names, c)
	}
	slices.Sort(names)
	// Prefer a column other watchers are indexed by, then the first.
	best := -1
	var bestKeys []string
	for i, c := range names {
		ix, ok := tw.colIx[c]
		if !ok || ix >= len(zero) {
			continue
		}
		var k keyKind
		switch zero[ix].(type) {
		case int64, uint64:
			k = kindInt
		case string:
			k = kindString
		default:
			continue // nullable, implicitnull, JSON, time, ...: scanned
		}
		keys, ok := filterKeys(filter[c], k)
		if !ok {
			continue
		}
		if best < 0 || (tw.byCol[c] != nil && tw.byCol[names[best]] == nil) {
			best, bestKeys = i, keys
		}
	}
	if best < 0 {
		tw.scan[w] = struct{}{}
	} else {
		w.col, w.keys = names[best], bestKeys
		m := tw.byCol[w.col]
		if m == nil {
			m = map[string]map[*watcher]struct{}{}
			tw.byCol[w.col] = m
		}
		for _, k := range w.keys {
			if m[k] == nil {
				m[k] = map[*watcher]struct{}{}
			}
			m[k][w] = struct{}{}
		}
	}
	tw.n++
	return nil
}

func (f *Feed) removeWatcher(w *watcher) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tw := f.watch[w.table]
	if tw == nil {
		return
	}
	if w.col == "" {
		delete(tw.scan, w)
	} else {
		m := tw.byCol[w.col]
		for _, k := range w.keys {
			delete(m[k], w)
			if len(m[k]) == 0 {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(tw.byCol, w.col)
		}
	}
	tw.n--
	if tw.n == 0 {
		delete(f.watch, w.table)
	}
}

// deliver hands a committed (and visible) transaction to the subscribers
// and signals the watchers it touches, then advances the position.
func (f *Feed) deliver(t *txn) {
	f.mu.Lock()
	for s := range f.subs {
		var items []item
		for _, c := range t.changes {
			if s.tables == nil || s.tables[c.Table] {
				items = append(items, item{c: c})
			}
		}
		if t.err != nil && (s.tables == nil || s.tables[t.errTab]) {
			items = append(items, item{err: t.err})
		}
		s.push(items)
	}
	var hit []*watcher
	if len(f.watch) > 0 {
		seen := map[*watcher]bool{}
		for _, c := range t.changes {
			f.match(c, seen, &hit)
		}
		if tw := f.watch[t.errTab]; t.err != nil && tw != nil {
			// A row that could not be decoded: every watcher of its table
			// re-reads (and sees the read's error, if it has the row).
			add := func(w *watcher) {
				if !seen[w] {
					seen[w] = true
					hit = append(hit, w)
				}
			}
			for w := range tw.scan {
				add(w)
			}
			for _, m := range tw.byCol {
				for _, ws := range m {
					for w := range ws {
						add(w)
					}
				}
			}
		}
	}
	if t.gtid != nil {
		f.pos = vmysql.AppendGTID(f.pos, t.gtid)
	}
	f.mu.Unlock()
	for _, w := range hit {
		w.signal()
	}
}

// match appends to hit the watchers whose filter matches c's before or
// after image; f.mu is held.
func (f *Feed) match(c Change, seen map[*watcher]bool, hit *[]*watcher) {
	tw := f.watch[c.Table]
	if tw == nil {
		return
	}
	mt := matcher{seen: seen, hit: hit}
	if len(tw.byCol) > 0 {
		for _, img := range [2]any{c.Before, c.After} {
			if img != nil {
				f.matchIndexed(tw, &mt, &c, img)
			}
		}
	}
	mt.testSet(&c, tw.scan)
}

// matchIndexed tests the indexed watchers of tw that img, an image of c,
// selects: for each indexed column, the watchers keyed by img's value, or
// all of the column's watchers when the value cannot be keyed (every
// indexed watcher when img cannot be unbuilt).
func (f *Feed) matchIndexed(tw *tableWatchers, mt *matcher, c *Change, img any) {
	vals, err := f.schema.UnbuildStruct(c.Table, img)
	if err != nil {
		// Cannot key it: test every indexed watcher.
		for _, m := range tw.byCol {
			mt.testColumn(c, m)
		}
		return
	}
	for col, m := range tw.byCol {
		key, ok := rowKey(vals[tw.colIx[col]])
		if !ok {
			mt.testColumn(c, m)
			continue
		}
		mt.testSet(c, m[key])
	}
}

// matcher collects the watchers that match a change, each once. The
// change is an argument of its methods, not a field: the images go to the
// testers, and a field would make seen and hit escape with them.
type matcher struct {
	seen map[*watcher]bool // tested and matched
	hit  *[]*watcher
}

// test appends w to hit if its filter matches c's before or after image,
// unless it already matched.
func (mt *matcher) test(c *Change, w *watcher) {
	if mt.seen[w] {
		return
	}
	if (c.Before != nil && w.tester.Test(c.Before)) || (c.After != nil && w.tester.Test(c.After)) {
		mt.seen[w] = true
		*mt.hit = append(*mt.hit, w)
	}
}

// testSet tests every watcher of ws against c.
func (mt *matcher) testSet(c *Change, ws map[*watcher]struct{}) {
	for w := range ws {
		mt.test(c, w)
	}
}

// testColumn tests every watcher of one column's index against c,
// whatever its key.
func (mt *matcher) testColumn(c *Change, m map[string]map[*watcher]struct{}) {
	for _, ws := range m {
		mt.testSet(c, ws)
	}
}

// tableOf returns the registered table of T.
func tableOf[T any](s *sqlgen.Schema) (string, []any, error) {
	zero := new(T)
	for _, t := range s.Tables() {
		if vals, err := s.UnbuildStruct(t, zero); err == nil {
			return t, vals, nil
		}
	}
	return "", nil, fmt.Errorf("live: Watch: type %T is not registered in the feed's schema", zero)
}

// Watch yields the rows of T matching filter now, then again after every
// committed change that touches a matching row (its before or after image
// matches the filter, as [sqlgen.Schema.MakeTester] decides). It registers
// with the feed before its first query, so a change committed between the
// query and the stream is not missed; each result is read after the
// changes that triggered it are visible, so it reflects every change
// committed before it. Changes that arrive while the caller handles a
// result are coalesced into one re-read. A failed read yields its error and
// the watch reads again after a short delay (see [WithRetry]); the sequence ends with an error when ctx ends or the
// feed stops.
func Watch[T any](ctx context.Context, f *Feed, db *sqlgen.DB, filter sqlgen.Filter) iter.Seq2[[]*T, error] {
	return func(yield func([]*T, error) bool) {
		table, zero, err := tableOf[T](f.schema)
		if err != nil {
			yield(nil, err)
			return
		}
		tester, err := f.schema.MakeTester(table, filter)
		if err != nil {
			yield(nil, fmt.Errorf("live: Watch: %w", err))
			return
		}
		w := &watcher{table: table, tester: tester, notify: make(chan struct{}, 1)}
		if err := f.addWatcher(w, filter, zero); err != nil {
			yield(nil, err)
			return
		}
		defer f.removeWatcher(w)
		for {
			select { // changes before this read are in it
			case <-w.notify:
			default:
			}
			rows, err := sqlgen.Select[T](ctx, db, filter, nil)
			if err != nil && ctx.Err() != nil {
				yield(nil, ctx.Err())
				return
			}
			if !yield(rows, err) {
				return
			}
			var retry <-chan time.Time
			if err != nil { // re-read after a failed read, change or not
				retry = time.After(f.cfg.retry)
			}
			select {
			case <-retry:
			case <-w.notify:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case <-f.done:
				yield(nil, f.Err())
				return
			}
		}
	}
}
