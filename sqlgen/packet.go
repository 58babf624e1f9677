package sqlgen

import (
	"context"
	"fmt"

	"github.com/seed-b2691315/sqlgen/fields"
)

// largeValue is the size from which a write argument is checked against
// the server's max_allowed_packet. Every supported server allows more
// (MySQL 8: 64 MiB by default, MariaDB: 16 MiB, MySQL 5.7: 4 MiB), so
// writes with smaller values never ask.
const largeValue = 1 << 20

// valueLen is the length of a string or []byte driver value, else 0.
func valueLen(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 0
}

// maxPacket returns the server's max_allowed_packet, asking it the first
// time through q: the connection or transaction the write runs on, so that
// a pool whose every connection is taken never has to give another.
func (db *DB) maxPacket(ctx context.Context, q execQuerier) (int64, error) {
	if n := db.dialect.maxPacket.Load(); n > 0 {
		return n, nil
	}
	var n int64
	if err := q.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlgen: reading max_allowed_packet: %w", err)
	}
	db.dialect.maxPacket.Store(n)
	return n, nil
}

// checkValues refuses, before anything is sent, a write whose values
// include one that the server cannot take: a value of max_allowed_packet
// bytes or more can never be stored, and sending it makes the server drop
// the connection (which the pool may hand out again before it notices);
// on TiDB, a value or row past its entry size limit (see valueLimits).
// args are the values of cols (less skip), in order; q is where the write
// runs, nil for the context's transaction or the pool. Writes whose values
// are each, and together, below largeValue pass without a look at the server. It returns
// the values' size (of strings and byte slices), for batches to chunk by.
func (db *DB) checkValues(ctx context.Context, q execQuerier, t *table, cols []*column, skip *column, args []any) (int64, error) {
	var size int64
	big := false
	for _, a := range args {
		n := valueLen(a)
		size += int64(n)
		big = big || n >= largeValue
	}
	if !big && size < largeValue {
		return size, nil
	}
	// valueLimits (dialect_tidb.go): max_allowed_packet, and on TiDB its
	// entry size limit, for a value and for the whole row.
	lim, err := db.valueLimits(ctx, db.on(ctx, q))
	if err != nil {
		return 0, err
	}
	i := 0
	var largest *column
	largestLen := -1
	for _, c := range cols {
		if c == skip {
			continue
		}
		n := valueLen(args[i])
		if int64(n) >= lim.value {
			return 0, fmt.Errorf("sqlgen: writing to table %q: %w", t.name, &fields.Error{
				Op: "value", Table: t.name, Column: c.name, Field: c.desc.Field, Type: c.desc.Type,
				Err: fmt.Errorf("a value of %d bytes does not fit the server's %s of %d bytes: %w", n, lim.valueName, lim.value, ErrTooLarge),
			})
		}
		if n > largestLen {
			largest, largestLen = c, n
		}
		i++
	}
	if lim.row > 0 && size >= lim.row && largest != nil {
		c := largest
		return 0, fmt.Errorf("sqlgen: writing to table %q: %w", t.name, &fields.Error{
			Op: "value", Table: t.name, Column: c.name, Field: c.desc.Field, Type: c.desc.Type,
			Err: fmt.Errorf("the row's values take %d bytes (%d in this column, the largest), which does not fit the server's %s of %d bytes for a whole row: %w", size, largestLen, lim.rowName, lim.row, ErrTooLarge),
		})
	}
	return size, nil
}
