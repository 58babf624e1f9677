package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// MaxPlaceholders is the most ? placeholders MySQL accepts in one
// statement. Batch writes split their chunks to stay under it.
const MaxPlaceholders = 65535

// DefaultChunkSize is the number of rows per statement of a batch write
// when the caller passes a chunk size of zero or less.
const DefaultChunkSize = 500

// InsertRows inserts rows, a slice of *T for a registered struct T, with
// one multi-row INSERT ... VALUES (...), (...) per chunk of chunkSize rows.
// A chunk that would need more than [MaxPlaceholders] placeholders is
// split further, and so is one whose statement would pass the server's
// max_allowed_packet: the whole statement, its text and its values, sized
// the way the driver will send it (escaped into the text with
// interpolateParams=true, in binary otherwise; see [ErrTooLarge]). The
// limit is read once per DB, when a chunk's rough size passes 1 MiB. A
// row whose statement would not fit even alone is refused with
// [ErrTooLarge], naming the column of its largest value, before anything
// is sent.
//
// Either every row is written or none is. Without a transaction in ctx,
// a batch of several statements runs in a transaction of its own,
// committed at the end and rolled back on any error (begun before the
// first statement, also when the split by size is found while the first
// chunk is built); a batch that fits in one statement needs none, as one
// statement is atomic by itself (and saves the BEGIN and COMMIT round
// trips). Inside the caller's
// transaction it never commits or rolls back.
//
// On an AutoIncrement table, rows whose key is zero get their new ids
// written back (computed from the first id of each statement and the
// server's auto_increment_increment, as InnoDB assigns consecutive ids to
// the rows of one multi-row INSERT; a uint64 field holds ids past
// MaxInt64; on TiDB too, which allocates one statement's ids as one
// block; on a DB made with [OnVitess], one row per statement). A batch that mixes zero and non-zero keys is refused; insert
// those in two calls. An id that does not fit the key field fails the
// batch: in a transaction of its own it is found before the commit and
// nothing is written; where the rows are already written (one statement
// without a transaction, or the caller's transaction) the error wraps
// [ErrRowsWritten] and says so.
func (db *DB) InsertRows(ctx context.Context, rows any, chunkSize int) error {
	return db.writeRows(ctx, rows, chunkSize, false)
}

// UpsertRows is [DB.UpsertRow] for many rows, with the chunking and
// transaction rules of [DB.InsertRows]. It is refused on AutoIncrement
// tables.
//
// On a DB with a limit ([DB.WithShardLimit]), every row must hold the
// limit's values, and an existing row is updated only if it holds them
// too. When a row's primary or unique key is taken by a row outside the
// limit, that row is left unchanged and nothing of the batch is written:
// the batch runs in a transaction of its own (also when it fits one
// statement), rolled back, or, inside the caller's transaction, after a
// SAVEPOINT it rolls back to (the caller's transaction stays open); the
// error wraps [ErrLimit]. A table with an AUTO_INCREMENT column that the
// upsert fills (one no field maps to) hides such a collision in a
// multi-row statement: the batch is then refused with [ErrUnsupported]
// and rolled back likewise; upsert its rows one at a time.
func (db *DB) UpsertRows(ctx context.Context, rows any, chunkSize int) error {
	err := db.writeRows(ctx, rows, chunkSize, true)
	var ce *collisionError
	if err != nil && db.limit != nil && errors.As(err, &ce) && db.limit.verdict(ctx, ce.t, err) == nil {
		// Let through: everything was rolled back, and the batch runs
		// again as without the limit.
		unlimited := *db
		unlimited.limit = nil
		return unlimited.writeRows(ctx, rows, chunkSize, true)
	}
	return err
}

func (db *DB) writeRows(ctx context.Context, rows any, chunkSize int, upsert bool) (err error) {
	method := "InsertRows"
	if upsert {
		method = "UpsertRows"
	}
	rv := reflect.ValueOf(rows)
	if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() != reflect.Pointer || rv.Type().Elem().Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sqlgen: %s: rows must be a []*T for a registered struct T, not %v: %w", method, typeOf(rows), ErrInvalidArgument)
	}
	t, err := db.schema.tableByType(rv.Type().Elem().Elem())
	if err != nil {
		return fmt.Errorf("sqlgen: %s: %w", method, err)
	}
	n := rv.Len()
	if n == 0 {
		return nil
	}
	if upsert && t.pk == AutoIncrement {
		return fmt.Errorf("sqlgen: UpsertRows on AutoIncrement table %q: %w", t.name, ErrUnsupported)
	}
	structs := make([]reflect.Value, n)
	zeroIDs := 0
	// g is the limit's guard of the batch: nil without a limit, and when
	// ShouldContinueOnError let a row outside it through (the batch then
	// runs as without the limit).
	var g *guard
	if db.limit != nil {
		if g, err = db.limit.guardFor(ctx, t); err != nil {
			return err
		}
	}
	letThrough := false
	for i := range structs {
		p := rv.Index(i)
		if p.IsNil() {
			return fmt.Errorf("sqlgen: %s into table %q: row %d is nil: %w", method, t.name, i, ErrInvalidArgument)
		}
		structs[i] = p.Elem()
		if g != nil {
			through, cErr := db.limit.checkRow(ctx, t, g, structs[i])
			if cErr != nil {
				return fmt.Errorf("row %d: %w", i, cErr)
			}
			letThrough = letThrough || through
		}
		if t.autoInc != nil && t.autoInc.fieldOf(structs[i]).IsZero() {
			zeroIDs++
		}
	}
	if err = db.checkShardSpan(t, method, structs); err != nil { // vitess.go
		return err
	}
	cols, skip := t.writable, (*column)(nil)
	if t.autoInc != nil && zeroIDs > 0 {
		if zeroIDs != n {
			return fmt.Errorf("sqlgen: InsertRows into table %q: %d of %d rows have a zero %s and the others do not; insert them in two calls: %w",
				t.name, zeroIDs, n, t.autoInc.field, ErrInvalidArgument)
		}
		skip = t.autoInc
		// Registered before the transaction's deferred commit, so it runs
		// after it and sees a failed commit too: a failed batch leaves
		// the rows as the caller gave them, with zero ids, so that it can
		// be retried as it is.
		defer func() {
			if err != nil && !errors.Is(err, ErrRowsWritten) {
				for _, sv := range structs {
					t.autoInc.fieldOf(sv).SetZero()
				}
			}
		}()
	}
	width := len(cols)
	if skip != nil {
		width--
	}
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	if chunkSize*width > MaxPlaceholders {
		chunkSize = MaxPlaceholders / width
	}
	if skip != nil && db.vitessOneRowPerStatement() { // vitess.go
		chunkSize = 1
	}

	// ex, when set, runs the statements instead of db.exec's choice (the
	// context's transaction or the pool).
	var ex execQuerier
	var conn *sql.Conn // pinned for a one-statement batch that needs ids
	var tx *txState    // the batch's own transaction, if it has one
	// Named result err is what the deferred function must see: no := for
	// err below, or it would look at a shadow and commit a failed batch.
	defer func() {
		if tx != nil {
			if err != nil {
				if rbErr := tx.rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && ctx.Err() == nil {
					err = fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
				}
			} else if cErr := tx.commit(); cErr != nil {
				err = fmt.Errorf("sqlgen: %s into table %q: commit: %w", method, t.name, cErr)
			}
		}
		if conn != nil {
			if err != nil && brokenConn(err) {
				// The server dropped it: out of the pool with it.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			conn.Close()
		}
		err = withCtxErr(ctx, err) // when ctx is done, whatever failed first
	}()
	callerTx := db.HasTx(ctx)
	// An upsert under a limit is guarded, and one whose row collided with
	// a row outside the limit must leave nothing of its batch: it runs in
	// a transaction of its own, or after a savepoint in the caller's.
	guarded := upsert && g != nil && !letThrough
	// begin opens the batch's own transaction: a batch of several
	// statements is all or nothing only inside one.
	begin := func() error {
		// On conn when one is pinned (the ids need the session's
		// auto_increment_increment), else on a connection held for the
		// batch (so that its statements can be stopped on the server).
		// Through the context, as a caller's transaction would be: the
		// statements then go through db.exec (and its statement cache,
		// prepared on the transaction).
		txCtx, st, bErr := db.beginTx(ctx, conn, true)
		if bErr != nil {
			return fmt.Errorf("sqlgen: %s into table %q: %w", method, t.name, bErr)
		}
		ctx, tx, ex = txCtx, st, nil
		return nil
	}
	switch {
	case callerTx:
		// The caller's transaction: never committed or rolled back here.
		if guarded {
			if _, err = db.execOn(ctx, db.on(ctx, nil), t, "savepoint", "SAVEPOINT "+guardSavepoint, nil); err != nil {
				return err
			}
		}
	case n <= chunkSize && !guarded:
		// Likely one statement, atomic by itself: no transaction unless
		// the rows' size splits it (see below). Ids need
		// auto_increment_increment read on the connection that inserts.
		if skip != nil {
			if conn, err = db.conn.Conn(ctx); err != nil {
				return fmt.Errorf("sqlgen: %s into table %q: %w", method, t.name, err)
			}
			ex = conn
		}
	default:
		if err = begin(); err != nil {
			return err
		}
	}

	var step int64 = 1
	// Not read for one-row statements (on Vitess, where vtgate would send
	// it to some shard, inside the batch's transaction too).
	if skip != nil && n > 1 && chunkSize > 1 {
		const q = "SELECT @@SESSION.auto_increment_increment"
		start := time.Now()
		err = db.lookup(ctx, ex, q, &step)
		if db.observer != nil {
			db.observe(ctx, t, "query", q, 0, start, 1, err)
		}
		if err != nil {
			return fmt.Errorf("sqlgen: InsertRows into table %q: reading auto_increment_increment: %w", t.name, err)
		}
	}
	op := "batch insert"
	if upsert {
		op = "batch upsert"
	}
	// A chunk also ends before its statement would pass the server's
	// max_allowed_packet, sized the way the driver will send it (see
	// packet.go): the server drops the connection on a larger packet.
	sizer := db.newChunkSizer(t, cols, skip, upsert, method)
	for i := 0; i < n; {
		start := i
		args := make([]any, 0, min(chunkSize, n-start)*width)
		sizer.reset()
		for i < n && i-start < chunkSize {
			k := len(args)
			if args, err = t.rowValues(args, structs[i], cols, skip); err != nil {
				return fmt.Errorf("sqlgen: %s into table %q, row %d: %w", method, t.name, i, err)
			}
			fit, cErr := sizer.add(ctx, ex, args, k)
			if cErr != nil {
				err = fmt.Errorf("row %d: %w", i, cErr)
				return err
			}
			if !fit {
				args = args[:k] // this row opens the next chunk
				break
			}
			i++
		}
		if i < n && !callerTx && tx == nil {
			// More statements follow: from here on, in a transaction.
			if err = begin(); err != nil {
				return err
			}
		}
		query := t.multiRowSQL(i-start, skip, upsert)
		if guarded {
			query = t.multiRowSQLSuffix(i-start, skip, g.sql.upsertSuffix)
		}
		var res sql.Result
		if ex != nil {
			res, err = db.execOn(ctx, ex, t, op, query, args)
		} else {
			res, err = db.exec(ctx, t, op, query, args)
		}
		if err != nil {
			err = fmt.Errorf("rows %d to %d: %w", start, i-1, err)
			return err
		}
		if guarded {
			if err = g.checkUpsert(t, method, res, i-start); err != nil {
				err = fmt.Errorf("rows %d to %d: %w", start, i-1, err)
				if callerTx {
					// Undo the batch's statements in the caller's
					// transaction, which stays open.
					if _, rbErr := db.execOn(ctx, db.on(ctx, nil), t, "rollback to savepoint", "ROLLBACK TO SAVEPOINT "+guardSavepoint, nil); rbErr != nil {
						err = fmt.Errorf("%w (and rolling back to the savepoint before the batch: %v)", err, rbErr)
					}
				}
				return err
			}
		}
		if skip != nil {
			// The driver reports the OK packet's unsigned id as an int64:
			// its bits are the id, which may pass MaxInt64 on a BIGINT
			// UNSIGNED column.
			first, idErr := res.LastInsertId()
			for j := start; idErr == nil && j < i; j++ {
				id := uint64(first) + uint64(j-start)*uint64(step)
				if sErr := setID(t.autoInc.fieldOf(structs[j]), id); sErr != nil {
					idErr = fmt.Errorf("row %d got id %d, which field %s cannot hold: %w", j, id, t.autoInc.field, sErr)
				}
			}
			if idErr != nil {
				switch {
				case tx != nil:
					// Checked before the commit: the deferred rollback
					// undoes the whole batch.
					err = fmt.Errorf("sqlgen: InsertRows into table %q: %w; the batch was rolled back, nothing was written", t.name, idErr)
				case callerTx:
					err = fmt.Errorf("sqlgen: InsertRows into table %q: rows %d to %d were inserted in the caller's transaction (neither committed nor rolled back here), but their new ids could not be stored: %w: %w",
						t.name, start, i-1, ErrRowsWritten, idErr)
				default:
					err = fmt.Errorf("sqlgen: InsertRows into table %q: the rows were inserted and committed, but their new ids could not be stored: %w: %w", t.name, ErrRowsWritten, idErr)
				}
				return err
			}
		}
	}
	return nil
}

// guardSavepoint is the savepoint a guarded UpsertRows sets in the
// caller's transaction, to undo its batch when a row collided with a row
// outside the limit.
const guardSavepoint = "sqlgen_upsert_guard"

// multiRowSQLSuffix is multiRowSQL of an upsert with the given ON
// DUPLICATE KEY UPDATE suffix.
func (t *table) multiRowSQLSuffix(n int, skip *column, suffix string) string {
	return t.multiRowSQL(n, skip, false) + suffix
}

// multiRowSQL returns INSERT INTO `t` (...) VALUES (...),(...) for n rows.
func (t *table) multiRowSQL(n int, skip *column, upsert bool) string {
	head := t.insertSQL
	if skip != nil {
		head = t.insertAutoSQL
	}
	open := strings.LastIndex(head, " VALUES (")
	row := head[open+len(" VALUES "):]
	var b strings.Builder
	b.Grow(len(head) + (n-1)*(len(row)+1) + len(t.upsertSuffix))
	b.WriteString(head)
	for i := 1; i < n; i++ {
		b.WriteByte(',')
		b.WriteString(row)
	}
	if upsert {
		b.WriteString(t.upsertSuffix)
	}
	return b.String()
}
