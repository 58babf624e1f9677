package sqlgen

import (
	"fmt"
	"reflect"
	"slices"
)

// vitess is what [OnVitess] told a DB.
type vitess struct {
	shardCols []string // the sharding (primary vindex) columns
}

// OnVitess tells the DB that it talks to Vitess (a vtgate) and which
// columns shard its keyspace: the columns of the tables' primary vindexes,
// such as "org_id". On Vitess, one statement, and one transaction, is
// atomic only while it stays in one shard: a multi-row INSERT whose rows
// fall in several shards is run as one transaction per shard (in the
// default transaction_mode MULTI, a failure can leave some shards written
// and others not). So on a DB made with OnVitess:
//
//   - [DB.InsertRows] and [DB.UpsertRows] refuse, with an error wrapping
//     [ErrCrossShard] and before anything is sent, a batch whose rows do
//     not all hold the same values in the table's shard columns (the
//     named columns the table has). Group the rows by shard key and write
//     each group in its own call. A table with none of the columns is
//     taken to live in one shard (an unsharded keyspace, or a reference
//     table), and its batches are not checked; OnVitess with no columns
//     checks none.
//   - InsertRows on an AutoIncrement table writes one row per statement
//     (in one transaction, one shard) and reads each row's id from its own
//     statement: ids from a Vitess sequence need not be consecutive, so
//     the ids of a multi-row INSERT cannot be derived from the first.
//
// A limit ([DB.WithShardLimit]) on the shard columns keeps every statement
// in one shard: each read carries the shard key and each row written
// holds it. Reads without the shard key scatter to every shard, and a
// transaction ([DB.WithTx]) that writes rows of several shards is, like
// the batch above, not atomic unless vtgate runs with
// transaction_mode=TWOPC; sqlgen does not check those. See the README's
// "Scaling out".
func OnVitess(shardColumns ...string) Option {
	cols := slices.Clone(shardColumns)
	return func(db *DB) { db.dialect.vitess = &vitess{shardCols: cols} }
}

// vitessOneRowPerStatement reports whether a batch insert that needs new
// AUTO_INCREMENT ids must run one row per statement: on Vitess, whose
// sequences give no consecutive ids across a multi-row INSERT.
func (db *DB) vitessOneRowPerStatement() bool { return db.dialect.vitess != nil }

// checkShardSpan refuses, on a DB made with [OnVitess], a batch whose rows
// do not all share the values of t's shard columns.
func (db *DB) checkShardSpan(t *table, method string, rows []reflect.Value) error {
	v := db.dialect.vitess
	if v == nil || len(rows) < 2 {
		return nil
	}
	for _, name := range v.shardCols {
		c, ok := t.byName[name]
		if !ok {
			continue
		}
		first, err := c.desc.Value(c.fieldOf(rows[0]))
		if err != nil {
			return fmt.Errorf("sqlgen: %s into table %q, row 0: %w", method, t.name, err)
		}
		for i := 1; i < len(rows); i++ {
			got, err := c.desc.Value(c.fieldOf(rows[i]))
			if err != nil {
				return fmt.Errorf("sqlgen: %s into table %q, row %d: %w", method, t.name, i, err)
			}
			if !sameDriverValue(got, first) {
				return fmt.Errorf("sqlgen: %s into table %q: row 0 has %s = %v and row %d has %v: on Vitess a batch spanning shards is not atomic; write each shard's rows in their own call: %w",
					method, t.name, c.name, first, i, got, ErrCrossShard)
			}
		}
	}
	return nil
}
