package sqlgen

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// UpdateColumns writes only the named columns of row, a *T, to the row
// with the same primary key: UPDATE ... SET `a`=?,`b`=? WHERE `id`=?.
// columns are column names (as in a [Filter]), each a column of the table
// outside the primary key, named once; an unknown name is
// [ErrUnknownColumn], a key column, a readonly column, a repeated name,
// the version column or no column at all [ErrInvalidArgument]. The other fields of row are
// neither written nor read back.
//
// The result is the statement's (RowsAffected: with the DSN's
// clientFoundRows=false, a row whose named columns already held those
// values counts 0). As with [DB.UpdateRow], a row that does not exist is
// not an error, on a DB with a limit the row must hold the limit's values
// and a row of another tenant is not touched, and on a table with a
// version column (`sql:",version"`) the statement matches the version
// read and moves it on, no matching row being [ErrConflict].
//
// The statement's text is built once per list of columns (for the first
// maxPartialUpdates lists of a table) and reused.
func (db *DB) UpdateColumns(ctx context.Context, row any, columns ...string) (sql.Result, error) {
	t, sv, g, err := db.writeRow(ctx, row, "UpdateColumns")
	if err != nil {
		return nil, err
	}
	pu, err := t.partials.get(t, columns)
	if err != nil {
		return nil, err
	}
	var buf [smallArgs]any
	args, err := t.rowValues(buf[:0], sv, pu.cols, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: %w", t.name, err)
	}
	if _, err := db.checkValues(ctx, nil, t, pu.set, nil, args); err != nil {
		return nil, err
	}
	query := pu.sql
	if g != nil {
		query, args = pu.sql+g.sql.pinWhere, g.appendPins(args)
	}
	res, err := db.exec(ctx, t, "update", query, args)
	if err != nil {
		return nil, err
	}
	if t.version != nil {
		if err := t.versionMatched(sv, res, "UpdateColumns", true); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// maxPartialUpdates is how many column lists of a table UpdateColumns
// keeps the statement of; further lists build theirs on each call.
const maxPartialUpdates = 256

// partialUpdate is the UPDATE of some columns of a table.
type partialUpdate struct {
	sql  string
	set  []*column // the columns set from the row
	cols []*column // the statement's arguments: set, primary, then the version read
}

// partialCache holds a table's partial updates by column list.
type partialCache struct {
	m sync.Map // the names joined by "," -> *partialUpdate
	n atomic.Int32
}

// get returns the partial update of t for columns, checking them.
func (pc *partialCache) get(t *table, columns []string) (*partialUpdate, error) {
	key := ""
	switch len(columns) {
	case 0:
		return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: no columns named: %w", t.name, ErrInvalidArgument)
	case 1:
		key = columns[0]
	default:
		key = strings.Join(columns, ",")
	}
	if pu, ok := pc.m.Load(key); ok {
		return pu.(*partialUpdate), nil
	}
	pu, err := t.newPartialUpdate(columns)
	if err != nil {
		return nil, err
	}
	if pc.n.Load() < maxPartialUpdates {
		if _, loaded := pc.m.LoadOrStore(key, pu); !loaded {
			pc.n.Add(1)
		}
	}
	return pu, nil
}

// newPartialUpdate checks columns and builds their UPDATE, as buildSQL
// builds the full one.
func (t *table) newPartialUpdate(columns []string) (*partialUpdate, error) {
	pu := &partialUpdate{}
	for _, name := range columns {
		c, ok := t.byName[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: no column %q: %w", t.name, name, ErrUnknownColumn)
		case c.primary:
			return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: column %q is part of the primary key, which selects the row: %w", t.name, name, ErrInvalidArgument)
		case c == t.version:
			return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: column %q is the version column, which the update moves on by itself: %w", t.name, name, ErrInvalidArgument)
		case c.readonly:
			return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: column %q (field %s) is readonly (a generated column), which the server computes: %w", t.name, name, c.field, ErrInvalidArgument)
		}
		for _, prev := range pu.set {
			if prev == c {
				return nil, fmt.Errorf("sqlgen: UpdateColumns of table %q: column %q named twice: %w", t.name, name, ErrInvalidArgument)
			}
		}
		pu.set = append(pu.set, c)
	}
	pu.sql, pu.cols = t.updateStatement(pu.set)
	return pu, nil
}
