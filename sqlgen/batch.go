package sqlgen

import (
	"context"
	"database/sql"
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
// split further, and so is one whose values would pass half the server's
// max_allowed_packet (read once, when a chunk's values pass 1 MiB); a
// single value that does not fit max_allowed_packet is refused with
// [ErrTooLarge] before anything is sent.
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
// the rows of one multi-row INSERT). A batch that mixes zero and non-zero
// keys is refused; insert those in two calls.
func (db *DB) InsertRows(ctx context.Context, rows any, chunkSize int) error {
	return db.writeRows(ctx, rows, chunkSize, false)
}

// UpsertRows is [DB.UpsertRow] for many rows, with the chunking and
// transaction rules of [DB.InsertRows]. It is refused on AutoIncrement
// tables.
func (db *DB) UpsertRows(ctx context.Context, rows any, chunkSize int) error {
	return db.writeRows(ctx, rows, chunkSize, true)
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
	for i := range structs {
		p := rv.Index(i)
		if p.IsNil() {
			return fmt.Errorf("sqlgen: %s into table %q: row %d is nil: %w", method, t.name, i, ErrInvalidArgument)
		}
		structs[i] = p.Elem()
		if db.limit != nil {
			if err := db.limit.checkWrite(ctx, t, structs[i]); err != nil {
				return fmt.Errorf("row %d: %w", i, err)
			}
		}
		if t.autoInc != nil && t.autoInc.fieldOf(structs[i]).IsZero() {
			zeroIDs++
		}
	}
	cols, skip := t.columns, (*column)(nil)
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
			if err != nil {
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
			conn.Close()
		}
		err = withCtxErr(ctx, err) // when ctx is done, whatever failed first
	}()
	callerTx := db.HasTx(ctx)
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
	case n <= chunkSize:
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
	if skip != nil && n > 1 {
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
	// A chunk also ends before its values pass half the server's
	// max_allowed_packet (asked once the values of a chunk pass 1 MiB):
	// escaped into the statement's text, as with interpolateParams=true,
	// a value can grow to twice its size.
	var budget int64
	for i := 0; i < n; {
		start := i
		args := make([]any, 0, min(chunkSize, n-start)*width)
		size := int64(0)
		for i < n && i-start < chunkSize {
			k := len(args)
			if args, err = t.rowValues(args, structs[i], cols, skip); err != nil {
				return fmt.Errorf("sqlgen: %s into table %q, row %d: %w", method, t.name, i, err)
			}
			rowSize, cErr := db.checkValues(ctx, ex, t, cols, skip, args[k:])
			if cErr != nil {
				err = fmt.Errorf("row %d: %w", i, cErr)
				return err
			}
			if budget == 0 && size+rowSize >= largeValue {
				limit, pErr := db.maxPacket(ctx, db.on(ctx, ex))
				if pErr != nil {
					err = pErr
					return err
				}
				budget = limit / 2
			}
			if budget > 0 && i > start && size+rowSize > budget {
				args = args[:k] // this row opens the next chunk
				break
			}
			size += rowSize
			i++
		}
		if i < n && !callerTx && tx == nil {
			// More statements follow: from here on, in a transaction.
			if err = begin(); err != nil {
				return err
			}
		}
		query := t.multiRowSQL(i-start, skip, upsert)
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
		if skip != nil {
			first, idErr := res.LastInsertId()
			if idErr != nil {
				err = fmt.Errorf("sqlgen: InsertRows into table %q: reading the new ids: %w", t.name, idErr)
				return err
			}
			for j := start; j < i; j++ {
				if err = setID(t.autoInc.fieldOf(structs[j]), first+int64(j-start)*step); err != nil {
					err = fmt.Errorf("sqlgen: InsertRows into table %q, row %d: %w", t.name, j, err)
					return err
				}
			}
		}
	}
	return nil
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
