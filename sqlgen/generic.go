package sqlgen

import "context"

// Get reads the one row of T's table that matches filter, as
// [DB.QueryRow] does.
func Get[T any](ctx context.Context, db *DB, filter Filter, opts *SelectOptions) (*T, error) {
	var row *T
	if err := db.QueryRow(ctx, &row, filter, opts); err != nil {
		return nil, err
	}
	return row, nil
}

// Select reads the rows of T's table that match filter, as [DB.Query]
// does.
func Select[T any](ctx context.Context, db *DB, filter Filter, opts *SelectOptions) ([]*T, error) {
	var rows []*T
	if err := db.Query(ctx, &rows, filter, opts); err != nil {
		return nil, err
	}
	return rows, nil
}
