package sqlgen

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
)

// Iter reads the rows of T's table that match filter, as [DB.Query]
// does, one at a time: a single statement whose rows are scanned as they
// arrive, each into a new *T, with the table's pooled scanners, so that
// the memory a read takes does not grow with its result.
//
//	for row, err := range sqlgen.Iter[User](ctx, db, sqlgen.Filter{"team": 7}, nil) {
//		if err != nil {
//			return err
//		}
//		...
//	}
//
// Breaking out of the loop closes the rows at once (the driver reads
// what the server has still to send), and the connection goes back to
// the pool. An error is yielded once, as (nil, err), and ends the
// sequence; rows yielded before it were read correctly. Every option of
// [SelectOptions] applies, and so do the checks of a Query: the DB's
// limit, [DB.RefuseFullScans], the packet check.
//
// The statement holds its connection until the loop ends: the body of
// the loop must not wait for another connection of a pool that has none
// left, and inside a transaction it must not run statements of the
// transaction (the connection is busy reading the rows). A stream is
// never merged with other reads under [WithBatching]. On a DB with read
// replicas, a read that fails on a replica runs again elsewhere only
// while no row has been yielded; after that, the error is yielded.
//
// The sequence may be ranged over more than once: each time runs the
// statement again.
func Iter[T any](ctx context.Context, db *DB, filter Filter, opts *SelectOptions) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		t, err := db.schema.tableByType(reflect.TypeFor[T]())
		if err != nil {
			yield(nil, fmt.Errorf("sqlgen: Iter: %w", err))
			return
		}
		err = db.readTable(ctx, t, filter, opts, 0, true, func(p reflect.Value) error {
			if !yield((*T)(p.UnsafePointer()), nil) {
				return errStop // and yield is never called again
			}
			return nil
		})
		if err != nil && err != errStop {
			yield(nil, err)
		}
	}
}

// errStop is what the function given to a streaming read returns to end
// it early: no error (it is never returned to the caller of Iter).
var errStop = errors.New("sqlgen: stream stopped by its reader")

// scanStream is scanAll for a stream: the rows are closed by a deferred
// call, so that they are closed even when each panics (the body of a
// range loop), and errStop from each ends the read without error.
func (db *DB) scanStream(ctx context.Context, t *table, proj *projection, query string, args []any, each func(p reflect.Value) error) (int64, error) {
	rows, r, err := db.query(ctx, t.name, query, args)
	if err != nil {
		return 0, fmt.Errorf("sqlgen: querying table %q: %w", t.name, withCtxErr(ctx, err))
	}
	defer r.end() // after the rows are closed: last of the deferred calls
	defer rows.Close()
	set := t.scannersFor(proj)
	defer t.putScannersFor(proj, set)
	var n int64
	for rows.Next() {
		p := reflect.New(t.typ)
		if err := t.scanRow(rows, set, p.UnsafePointer()); err != nil {
			return n, err
		}
		n++
		if err := each(p); err != nil {
			return n, err // errStop included: the deferred Close closes the rows
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("sqlgen: querying table %q: %w", t.name, withCtxErr(ctx, err))
	}
	return n, nil
}
