package sqlgen

import (
	"database/sql/driver"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// maxCachedShapes bounds the SQL texts a table keeps.
const maxCachedShapes = 1024

// maxShapeColumns is the most filter columns of a cached read.
const maxShapeColumns = 4

// condKind is the form of one column's condition in a cached read.
type condKind uint8

const (
	condEq condKind = iota + 1
	condNull
	condJSON // followed by the jsonEquality, see shapeKey.json
	// A JSON path (the key's column is the path's stand-in, see
	// jsonpath.go), compared with nil or a value of one JSON type.
	condPathNull
	condPathNumber
	condPathString
	condPathBool
)

// shapeKey identifies the SQL text of a read without options: which
// columns are filtered, how, and the row limit. Everything else in the
// text is fixed per table.
type shapeKey struct {
	count bool
	limit int
	n     int
	cols  [maxShapeColumns]*column
	kinds [maxShapeColumns]condKind
	json  [maxShapeColumns]jsonEquality
}

// shapeCache maps read shapes to their SQL text. Reads take no lock: the
// map is replaced, never changed, when a shape is added (a table has a
// handful of shapes, added once each).
type shapeCache struct {
	mu    sync.Mutex // serialises put
	texts atomic.Pointer[map[shapeKey]string]
}

func (c *shapeCache) get(k *shapeKey) (string, bool) {
	m := c.texts.Load()
	if m == nil {
		return "", false
	}
	q, ok := (*m)[*k]
	return q, ok
}

func (c *shapeCache) put(k *shapeKey, q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next map[shapeKey]string
	if old := c.texts.Load(); old != nil {
		if len(*old) >= maxCachedShapes {
			return
		}
		if _, ok := (*old)[*k]; ok {
			return
		}
		next = maps.Clone(*old)
	} else {
		next = make(map[shapeKey]string, 1)
	}
	next[*k] = q
	c.texts.Store(&next)
}

// cachedSelect returns the SQL text and arguments of a read of t without
// options, from the table's fast shapes or, failing them, its shape cache
// (see shapeSelect). [DB.planRead] takes the same two steps, working out
// the dialect (eq) between them.
func (t *table) cachedSelect(buf []any, count bool, filter Filter, rowLimit int, eq jsonEquality) (query string, args []any, ok bool, err error) {
	if len(filter) > maxShapeColumns {
		return "", nil, false, nil
	}
	if q, a, hit := t.fastShapeRead(buf, filter, count, rowLimit); hit {
		return q, a, true, nil
	}
	return t.shapeSelect(buf, count, filter, rowLimit, eq)
}

// shapeSelect returns the SQL text and arguments of a read of t without
// options from the table's shape cache, building and caching the text
// the first time. ok is false when the read does not qualify (more than
// four columns, an IN list, an unknown column, a value that
// does not convert): the caller then builds it the general way, which
// also reports any error. eq is how the server compares JSON documents,
// when filter compares a JSON column with one (see [DB.readDialect]).
//
// The arguments are appended to buf, which the caller may keep on its
// stack.
func (t *table) shapeSelect(buf []any, count bool, filter Filter, rowLimit int, eq jsonEquality) (query string, args []any, ok bool, err error) {
	n := len(filter)
	if n > maxShapeColumns {
		return "", nil, false, nil
	}
	key := shapeKey{count: count, limit: rowLimit, n: n}
	var vals [maxShapeColumns]driver.Value
	i := 0
	for k, v := range filter {
		c, found := t.byName[k]
		var dv driver.Value
		kind, ceq := condEq, jsonUnknown
		if found {
			if c.isList(v) {
				return "", nil, false, nil
			}
			var err error
			if dv, err = c.desc.ValueOf(v); err != nil {
				return "", nil, false, nil
			}
			switch {
			case dv == nil:
				kind = condNull
			case c.desc.IsJSON():
				if eq == jsonUnknown {
					return "", nil, false, nil // the general way reports it
				}
				kind, ceq = condJSON, eq
			}
		} else {
			var ok bool
			if c, kind, dv, ok = t.shapePath(k, v); !ok {
				return "", nil, false, nil
			}
		}
		// Insertion sort by column name: the order of the SQL text.
		j := i
		for ; j > 0 && key.cols[j-1].name > c.name; j-- {
			key.cols[j], key.kinds[j], key.json[j], vals[j] = key.cols[j-1], key.kinds[j-1], key.json[j-1], vals[j-1]
		}
		key.cols[j], key.kinds[j], key.json[j], vals[j] = c, kind, ceq, dv
		i++
	}
	query, hit := t.shapes.get(&key)
	if hit {
		t.addFastShape(&key, query)
	}
	if !hit {
		head := t.selectSQL
		if count {
			head = t.countSQL
		}
		query, args, err = t.buildSelect(head, filter, nil, rowLimit, eq)
		if err != nil {
			return "", nil, false, err
		}
		t.shapes.put(&key, query)
		return query, args, true, nil
	}
	if n == 0 {
		return query, nil, true, nil
	}
	args = buf[:0]
	for j := 0; j < n; j++ {
		switch {
		case key.kinds[j] == condNull || key.kinds[j] == condPathNull:
		case key.kinds[j] == condJSON && key.json[j] == jsonContains:
			args = append(args, vals[j], vals[j]) // JSON_CONTAINS both ways
		default:
			args = append(args, vals[j])
		}
	}
	return query, args, true, nil
}

// shapePath is shapeSelect's look-up of a filter key that is not a
// column: a JSON path compared with one value. ok is false for anything
// else (which the general way builds or reports).
func (t *table) shapePath(k string, v any) (c *column, kind condKind, dv driver.Value, ok bool) {
	if !isPathKey(k) || isPathList(v) {
		return nil, 0, nil, false
	}
	c, err := t.pathColumn(k)
	if err != nil {
		return nil, 0, nil, false
	}
	pk, dv, err := pathValue(v)
	if err != nil {
		return nil, 0, nil, false
	}
	return c, condPathNull + condKind(pk), dv, true
}

// maxFastShapes is the most fast shapes a table keeps.
const maxFastShapes = 8

// fastShape is a read shape whose columns are all compared by equality
// with non-NULL, non-JSON values. A filter of that shape is recognised by
// looking its columns up in the filter, which costs a fraction of ranging
// over the filter, sorting its columns and hashing the shape: the common
// reads (by key, or by the same few columns) take this path.
type fastShape struct {
	count bool
	limit int
	cols  []*column // sorted by name, the order of the SQL text's arguments
	query string
}

// fastShapeRead returns the SQL text and arguments of a read whose filter
// matches one of t's fast shapes.
func (t *table) fastShapeRead(buf []any, filter Filter, count bool, rowLimit int) (string, []any, bool) {
	n := len(filter)
shapes:
	for i := range t.fastShapes {
		h := t.fastShapes[i].Load()
		if h == nil {
			break // fast shapes are added in order and never removed
		}
		if len(h.cols) != n || h.count != count || h.limit != rowLimit {
			continue
		}
		args := buf[:0]
		for _, c := range h.cols {
			v, found := filter[c.name]
			if !found || c.isList(v) {
				continue shapes
			}
			dv, err := c.desc.ValueOf(v)
			if err != nil || dv == nil {
				continue shapes
			}
			args = append(args, dv)
		}
		return h.query, args, true
	}
	return "", nil, false
}

// addFastShape makes the shape k, whose SQL text is query, a fast shape of t if it
// qualifies and there is room. Fast shapes are only ever added, so a table's
// fast shapes are its first few shapes of plain equality.
func (t *table) addFastShape(k *shapeKey, query string) {
	if k.n == 0 {
		return
	}
	for j := 0; j < k.n; j++ {
		if k.kinds[j] != condEq {
			return
		}
	}
	var h *fastShape
	for i := range t.fastShapes {
		cur := t.fastShapes[i].Load()
		if cur == nil {
			if h == nil {
				h = &fastShape{count: k.count, limit: k.limit, cols: append([]*column(nil), k.cols[:k.n]...), query: query}
			}
			if t.fastShapes[i].CompareAndSwap(nil, h) {
				return
			}
			cur = t.fastShapes[i].Load() // another goroutine got there first
		}
		if cur.count == k.count && cur.limit == k.limit && slices.Equal(cur.cols, k.cols[:k.n]) {
			return // already a fast shape
		}
	}
}
