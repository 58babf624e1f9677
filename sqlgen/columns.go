package sqlgen

import (
	"database/sql"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/seed-b2691315/sqlgen/internal/rowscan"
)

// Column subsets ([SelectOptions].Columns).
//
// A read of some columns only selects them and scans them with a scanner
// set of its own: a projection, made once per set of columns and kept by
// the table, with its SELECT list and a pool of scanner sets for those
// columns alone. A read of a subset thus costs what a read of the whole
// row does: no allocation per row beyond the row itself and its values.

// maxProjections bounds the column sets a table keeps; reads of further
// sets build their projection each time.
const maxProjections = 256

// projection is the read of a set of t's columns.
type projection struct {
	cols     []*column // in the table's order
	head     string    // SELECT <cols> FROM `t`
	scanners sync.Pool // of *scanSet, for cols
}

// projections maps column sets (see projectionKey) to their projection.
// Reads take no lock: the map is replaced, never changed.
type projections struct {
	mu sync.Mutex // serialises put
	m  atomic.Pointer[map[string]*projection]
}

// maxKeyColumns is how many columns a table may have for the key of a
// column set to be built on the stack.
const maxKeyColumns = 512

// projection returns the projection of t on names (columns of t by
// name, in any order, repeats allowed), or nil when names is empty. An
// unknown name is an error wrapping [ErrUnknownColumn].
func (t *table) projection(names []string) (*projection, error) {
	if len(names) == 0 {
		return nil, nil
	}
	// The key is the set of the columns' positions, as a bit set: the
	// same set of columns in another order or with repeats is the same
	// read.
	var arr [maxKeyColumns / 8]byte
	var key []byte
	if len(t.columns) <= maxKeyColumns {
		key = arr[:(len(t.columns)+7)/8]
	} else {
		key = make([]byte, (len(t.columns)+7)/8)
	}
	for _, n := range names {
		c, ok := t.byName[n]
		if !ok {
			return nil, fmt.Errorf("sqlgen: Columns of a read of table %q: column %q: %w", t.name, n, ErrUnknownColumn)
		}
		key[c.pos/8] |= 1 << (c.pos % 8)
	}
	if m := t.projs.m.Load(); m != nil {
		if p, ok := (*m)[string(key)]; ok { // no allocation: a map index by string(bytes)
			return p, nil
		}
	}
	p := t.newProjection(key)
	t.projs.put(string(key), p)
	return p, nil
}

func (t *table) newProjection(key []byte) *projection {
	p := &projection{}
	for _, c := range t.columns {
		if key[c.pos/8]&(1<<(c.pos%8)) != 0 {
			p.cols = append(p.cols, c)
		}
	}
	p.head = "SELECT " + selectList(p.cols) + " FROM " + t.quoted
	p.scanners.New = func() any {
		set := &scanSet{scanners: make([]sql.Scanner, len(p.cols)), dest: make([]any, len(p.cols))}
		for i, c := range p.cols {
			set.scanners[i] = rowscan.NewScanner(c.desc, &set.row, c.offset)
			set.dest[i] = set.scanners[i]
		}
		return set
	}
	return p
}

func (ps *projections) put(key string, p *projection) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var next map[string]*projection
	if old := ps.m.Load(); old != nil {
		if len(*old) >= maxProjections {
			return
		}
		if _, ok := (*old)[key]; ok {
			return
		}
		next = maps.Clone(*old)
	} else {
		next = make(map[string]*projection, 1)
	}
	next[key] = p
	ps.m.Store(&next)
}

// projectionOf returns the projection opts ask for, nil for all columns.
func (t *table) projectionOf(opts *SelectOptions) (*projection, error) {
	if opts == nil || len(opts.Columns) == 0 {
		return nil, nil
	}
	return t.projection(opts.Columns)
}

// scannersFor returns a scanner set for p's columns, or for all of t's
// when p is nil.
func (t *table) scannersFor(p *projection) *scanSet {
	if p == nil {
		return t.getScanners()
	}
	return p.scanners.Get().(*scanSet)
}

// putScannersFor returns set, taken by scannersFor(p), to its pool.
func (t *table) putScannersFor(p *projection, set *scanSet) {
	if p == nil {
		t.putScanners(set)
		return
	}
	set.row.Set(nil)
	p.scanners.Put(set)
}
