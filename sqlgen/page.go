package sqlgen

import (
	"fmt"
	"reflect"
)

// Cursor returns the values [SelectOptions].After takes to read the rows
// that come after row in order: row's values of the order columns, then
// those of its primary-key columns that order does not name. row is a *T
// (or a T) of a registered struct; order is the Order of the read.
//
//	page, err := sqlgen.Select[Post](ctx, db, nil, &sqlgen.SelectOptions{Order: order, Limit: 20, After: []any{}})
//	...
//	after, err := db.Cursor(page[len(page)-1], order...)
//	next, err := sqlgen.Select[Post](ctx, db, nil, &sqlgen.SelectOptions{Order: order, Limit: 20, After: after})
func (db *DB) Cursor(row any, order ...Order) ([]any, error) {
	rv := reflect.ValueOf(row)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, fmt.Errorf("sqlgen: Cursor: row is a nil %v: %w", rv.Type(), ErrInvalidArgument)
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("sqlgen: Cursor: row must be a *T for a registered struct T, not %v: %w", typeOf(row), ErrInvalidArgument)
	}
	t, err := db.schema.tableByType(rv.Type())
	if err != nil {
		return nil, fmt.Errorf("sqlgen: Cursor: %w", err)
	}
	var arr [maxKeyTerms]keyTerm
	terms, err := t.keyTerms(arr[:0], &SelectOptions{Order: order})
	if err != nil {
		return nil, err
	}
	out := make([]any, len(terms))
	for i, k := range terms {
		out[i] = k.col.fieldOf(rv).Interface()
	}
	return out, nil
}
