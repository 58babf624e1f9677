package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
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
	if err != nil && db.tenant != nil && errors.As(err, &ce) && db.tenant.verdict(ctx, ce.t, err) == nil {
		// Let through: everything was rolled back, and the batch runs
		// again as without the limit.
		unlimited := *db
		unlimited.tenant = nil
		return unlimited.writeRows(ctx, rows, chunkSize, true)
	}
	return err
}

func (db *DB) writeRows(ctx context.Context, rows any, chunkSize int, upsert bool) error {
	b, err := db.newBatchWrite(ctx, rows, upsert)
	if err != nil || b == nil {
		return err
	}
	maxRows := chunkRows(chunkSize, b.width, b.ids != nil && db.vitessOneRowPerStatement()) // vitess.go
	first := b.firstVersions()
	bt := db.newBatchTx(ctx, b.t, b.method)
	err = bt.run(b.open(bt, maxRows), func() error { return b.write(bt, maxRows) })
	if err != nil && !errors.Is(err, ErrRowsWritten) {
		// After the commit or rollback, so that a failed commit counts
		// too: a failed batch leaves the rows as the caller gave them,
		// with zero ids and versions, so that it can be retried as it
		// is.
		if b.ids != nil {
			b.ids.clear(b.structs)
		}
		for _, i := range first {
			setVersion(b.t.version.fieldOf(b.structs[i]), 0)
		}
	}
	return err
}

// firstVersions sets the zero versions of the batch's rows to 1, the
// first version of a row, and returns those rows' indexes.
func (b *batchWrite) firstVersions() []int {
	if b.t.version == nil {
		return nil
	}
	var set []int
	for i, sv := range b.structs {
		if f, v := b.t.versionOf(sv); v == 0 {
			setVersion(f, 1)
			set = append(set, i)
		}
	}
	return set
}

// batchWrite is one InsertRows or UpsertRows call, checked: its table,
// its rows and what its statements must keep to.
type batchWrite struct {
	db      *DB
	t       *table
	method  string // InsertRows or UpsertRows, for errors
	op      string // the observer's name of its statements
	upsert  bool
	structs []reflect.Value
	// g is the limit's guard of the batch: nil without a limit, and when
	// ShouldContinueOnError let a row outside it through (the batch then
	// runs as without the limit). guarded says its upserts keep to it.
	g       *guard
	guarded bool
	cols    []*column
	skip    *column   // the AutoIncrement column, left out when the server assigns the ids
	ids     *batchIDs // the ids to write back, nil when the server assigns none
	width   int       // placeholders per row
}

// newBatchWrite checks a batch's rows: the rows' type, nil rows, the
// limit, zero and non-zero keys mixed, Vitess shards. It returns nil for
// no rows.
func (db *DB) newBatchWrite(ctx context.Context, rows any, upsert bool) (*batchWrite, error) {
	method, op := "InsertRows", "batch insert"
	if upsert {
		method, op = "UpsertRows", "batch upsert"
	}
	rv := reflect.ValueOf(rows)
	if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() != reflect.Pointer || rv.Type().Elem().Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("sqlgen: %s: rows must be a []*T for a registered struct T, not %v: %w", method, typeOf(rows), ErrInvalidArgument)
	}
	t, err := db.schema.tableByType(rv.Type().Elem().Elem())
	if err != nil {
		return nil, fmt.Errorf("sqlgen: %s: %w", method, err)
	}
	n := rv.Len()
	if n == 0 {
		return nil, nil
	}
	if upsert && t.pk == AutoIncrement {
		return nil, fmt.Errorf("sqlgen: UpsertRows on AutoIncrement table %q: %w", t.name, ErrUnsupported)
	}
	b := &batchWrite{db: db, t: t, method: method, op: op, upsert: upsert, structs: make([]reflect.Value, n), cols: t.writable}
	if db.tenant != nil {
		if b.g, err = db.tenant.guardFor(ctx, t); err != nil {
			return nil, err
		}
	}
	letThrough := false
	zeroIDs := 0
	for i := range b.structs {
		p := rv.Index(i)
		if p.IsNil() {
			return nil, fmt.Errorf("sqlgen: %s into table %q: row %d is nil: %w", method, t.name, i, ErrInvalidArgument)
		}
		b.structs[i] = p.Elem()
		if b.g != nil {
			through, cErr := db.tenant.checkRow(ctx, t, b.g, b.structs[i])
			if cErr != nil {
				return nil, fmt.Errorf("row %d: %w", i, cErr)
			}
			letThrough = letThrough || through
		}
		if t.autoInc != nil && t.autoInc.fieldOf(b.structs[i]).IsZero() {
			zeroIDs++
		}
	}
	if err = db.checkShardSpan(t, method, b.structs); err != nil { // vitess.go
		return nil, err
	}
	// An upsert under a limit is guarded, and one whose row collided with
	// a row outside the limit must leave nothing of its batch: it runs in
	// a transaction of its own, or after a savepoint in the caller's.
	b.guarded = upsert && b.g != nil && !letThrough
	b.width = len(b.cols)
	if t.autoInc != nil && zeroIDs > 0 {
		if zeroIDs != n {
			return nil, fmt.Errorf("sqlgen: InsertRows into table %q: %d of %d rows have a zero %s and the others do not; insert them in two calls: %w",
				t.name, zeroIDs, n, t.autoInc.field, ErrInvalidArgument)
		}
		b.skip, b.ids = t.autoInc, &batchIDs{col: t.autoInc, step: 1}
		b.width--
	}
	return b, nil
}

// open decides where the batch starts, before its first statement: in
// the caller's transaction (after a savepoint when guarded), on a
// connection pinned for its ids when it likely fits one statement, or in
// a transaction of its own.
func (b *batchWrite) open(bt *batchTx, maxRows int) func() error {
	return func() error {
		switch {
		case bt.callerTx:
			// The caller's transaction: never committed or rolled back
			// here.
			if b.guarded {
				return bt.execDirect("savepoint", "SAVEPOINT "+guardSavepoint)
			}
			return nil
		case len(b.structs) <= maxRows && !b.guarded:
			// Likely one statement, atomic by itself: no transaction
			// unless the rows' size splits it (see write). Ids need
			// auto_increment_increment read on the connection that
			// inserts.
			if b.ids != nil {
				return bt.pin()
			}
			return nil
		default:
			return bt.begin()
		}
	}
}

// write sends the batch's statements, chunk by chunk, on bt.
func (b *batchWrite) write(bt *batchTx, maxRows int) error {
	n, t := len(b.structs), b.t
	// Not read for one-row statements (on Vitess, where vtgate would send
	// it to some shard, inside the batch's transaction too).
	if b.ids != nil && n > 1 && maxRows > 1 {
		if err := b.ids.readStep(bt); err != nil {
			return err
		}
	}
	// A chunk also ends before its statement would pass the server's
	// max_allowed_packet, sized the way the driver will send it (see
	// packet.go): the server drops the connection on a larger packet.
	sizer := b.db.newChunkSizer(t, b.cols, b.skip, b.upsert, b.method)
	var args []any
	fit := func(i int) (bool, error) {
		k := len(args)
		var err error
		if args, err = t.rowValues(args, b.structs[i], b.cols, b.skip); err != nil {
			return false, fmt.Errorf("sqlgen: %s into table %q, row %d: %w", b.method, t.name, i, err)
		}
		ok, err := sizer.add(bt.ctx, bt.ex, args, k)
		if err != nil {
			return false, fmt.Errorf("row %d: %w", i, err)
		}
		if !ok {
			args = args[:k] // this row opens the next chunk
		}
		return ok, nil
	}
	for start := 0; start < n; {
		args = make([]any, 0, min(maxRows, n-start)*b.width)
		sizer.reset()
		end, err := nextChunk(start, n, maxRows, fit)
		if err != nil {
			return err
		}
		if end < n && !bt.callerTx && bt.tx == nil {
			// More statements follow: from here on, in a transaction.
			if err := bt.begin(); err != nil {
				return err
			}
		}
		if err := b.writeChunk(bt, start, end, args); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// writeChunk sends the statement of rows start to end-1, whose values are
// args, and writes their ids back.
func (b *batchWrite) writeChunk(bt *batchTx, start, end int, args []any) error {
	t := b.t
	query := t.multiRowSQL(end-start, b.skip, b.upsert)
	if b.guarded {
		query = t.multiRowSQLSuffix(end-start, b.skip, b.g.sql.upsertSuffix)
	}
	res, err := bt.exec(t, b.op, query, args)
	if err != nil {
		return fmt.Errorf("rows %d to %d: %w", start, end-1, err)
	}
	if b.guarded {
		if err := b.g.checkUpsert(t, b.method, res, end-start); err != nil {
			return bt.undoGuarded(fmt.Errorf("rows %d to %d: %w", start, end-1, err))
		}
	}
	if b.ids == nil {
		return nil
	}
	// The driver reports the OK packet's unsigned id as an int64: its
	// bits are the id, which may pass MaxInt64 on a BIGINT UNSIGNED
	// column.
	first, err := res.LastInsertId()
	if err == nil {
		err = b.ids.assign(b.structs, start, end, first)
	}
	if err != nil {
		return bt.idsNotStored(start, end, err)
	}
	return nil
}

// chunkRows is the most rows of a batch write's statement: chunkSize
// (DefaultChunkSize when zero or less), fewer when width placeholders a
// row would pass [MaxPlaceholders], one with oneRow (ids on Vitess).
func chunkRows(chunkSize, width int, oneRow bool) int {
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	if width > 0 && chunkSize > MaxPlaceholders/width {
		chunkSize = max(MaxPlaceholders/width, 1)
	}
	if oneRow {
		chunkSize = 1
	}
	return chunkSize
}

// nextChunk plans the statement that starts at row start of n rows: it
// returns end, the statement holding rows start to end-1. A statement
// holds at most maxRows rows, and ends before a row that fit, asked for
// each row in turn, says does not fit along with the chunk's earlier
// rows; that row opens the next statement. The chunk's first row always
// fits, or fit returns an error ([ErrTooLarge]) for it, which nextChunk
// returns.
func nextChunk(start, n, maxRows int, fit func(row int) (bool, error)) (int, error) {
	i := start
	for i < n && i-start < maxRows {
		ok, err := fit(i)
		if err != nil {
			return i, err
		}
		if !ok {
			if i == start {
				return i, fmt.Errorf("sqlgen: row %d does not fit a statement of its own: %w", i, ErrTooLarge)
			}
			break
		}
		i++
	}
	return i, nil
}

// batchIDs writes the ids the server assigned to a batch's rows into
// their AutoIncrement field.
type batchIDs struct {
	col  *column
	step int64 // the session's auto_increment_increment
}

// readStep reads auto_increment_increment on the batch's connection: a
// multi-row INSERT's rows get ids step apart from the first.
func (ids *batchIDs) readStep(bt *batchTx) error {
	const q = "SELECT @@SESSION.auto_increment_increment"
	if err := bt.db.lookup(bt.ctx, bt.ex, bt.t.name, q, &ids.step); err != nil {
		return fmt.Errorf("sqlgen: InsertRows into table %q: reading auto_increment_increment: %w", bt.t.name, err)
	}
	return nil
}

// assign gives rows start to end-1 of a statement whose first id is
// first (the driver's int64 holding the server's unsigned id) the ids
// first, first+step, ...
func (ids *batchIDs) assign(structs []reflect.Value, start, end int, first int64) error {
	for j := start; j < end; j++ {
		id := uint64(first) + uint64(j-start)*uint64(ids.step)
		if err := setID(ids.col.fieldOf(structs[j]), id); err != nil {
			return fmt.Errorf("row %d got id %d, which field %s cannot hold: %w", j, id, ids.col.field, err)
		}
	}
	return nil
}

// clear sets the rows' ids back to zero.
func (ids *batchIDs) clear(structs []reflect.Value) {
	for _, sv := range structs {
		ids.col.fieldOf(sv).SetZero()
	}
}

// batchTx is where the statements of a batch write run: the caller's
// transaction, a connection pinned for the batch's ids, or a transaction
// of the batch's own, begun lazily and committed or rolled back by run.
type batchTx struct {
	db       *DB
	t        *table
	method   string
	ctx      context.Context // the caller's, then the one carrying the batch's own transaction
	caller   context.Context
	callerTx bool
	ex       execQuerier // when set, runs the statements instead of db.exec's choice
	conn     *sql.Conn   // pinned for a one-statement batch that needs ids
	tx       *txState    // the batch's own transaction, if it has one
}

func (db *DB) newBatchTx(ctx context.Context, t *table, method string) *batchTx {
	return &batchTx{db: db, t: t, method: method, ctx: ctx, caller: ctx, callerTx: db.HasTx(ctx)}
}

// run calls open and then fn, and ends the batch: commits its own
// transaction if both succeeded, else rolls it back, and returns the
// pinned connection. The error returned wraps the context's when it is
// done (see [withCtxErr]). A panic rolls back and goes on.
func (bt *batchTx) run(open, fn func() error) error {
	ended := false
	defer func() {
		if !ended {
			_ = bt.end(errors.New("panic"))
		}
	}()
	err := open()
	if err == nil {
		err = fn()
	}
	ended = true
	return bt.end(err)
}

// end commits the batch's own transaction when err is nil, rolls it back
// otherwise, and returns the pinned connection.
func (bt *batchTx) end(err error) error {
	if bt.tx != nil {
		if err != nil {
			if rbErr := bt.tx.rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && bt.caller.Err() == nil {
				err = fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
			}
		} else if cErr := bt.tx.commit(); cErr != nil {
			err = fmt.Errorf("sqlgen: %s into table %q: commit: %w", bt.method, bt.t.name, cErr)
		}
	}
	if bt.conn != nil {
		if err != nil && brokenConn(err) {
			// The server dropped it: out of the pool with it.
			_ = bt.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		bt.conn.Close()
	}
	return withCtxErr(bt.caller, err) // when ctx is done, whatever failed first
}

// pin takes a connection from the pool for the batch's statements.
func (bt *batchTx) pin() error {
	conn, err := bt.db.conn.Conn(bt.ctx)
	if err != nil {
		return fmt.Errorf("sqlgen: %s into table %q: %w", bt.method, bt.t.name, err)
	}
	bt.conn, bt.ex = conn, conn
	return nil
}

// begin opens the batch's own transaction: a batch of several statements
// is all or nothing only inside one. It runs on the pinned connection
// when there is one (the ids need the session's
// auto_increment_increment), else on a connection held for the batch (so
// that its statements can be stopped on the server). The context then
// carries it, as a caller's transaction would be: the statements go
// through db.exec (and its statement cache, prepared on the transaction).
func (bt *batchTx) begin() error {
	txCtx, st, err := bt.db.beginTx(bt.ctx, bt.t.name, bt.conn, true)
	if err != nil {
		return fmt.Errorf("sqlgen: %s into table %q: %w", bt.method, bt.t.name, err)
	}
	bt.ctx, bt.tx, bt.ex = txCtx, st, nil
	return nil
}

// exec runs a statement of the batch (see run.go).
func (bt *batchTx) exec(t *table, op, query string, args []any) (sql.Result, error) {
	if bt.ex != nil {
		return bt.db.execOn(bt.ctx, bt.ex, t, op, query, args)
	}
	return bt.db.exec(bt.ctx, t, op, query, args)
}

// execDirect runs a statement of the batch without arguments on its
// connection or transaction, never through the statement cache (a
// SAVEPOINT, ...).
func (bt *batchTx) execDirect(op, query string) error {
	_, err := bt.db.execOn(bt.ctx, bt.db.on(bt.ctx, bt.ex), bt.t, op, query, nil)
	return err
}

// undoGuarded returns err, the error of a guarded upsert whose row
// collided with a row outside the limit, after rolling the batch back to
// its savepoint in the caller's transaction, which stays open. The
// batch's own transaction is rolled back by end.
func (bt *batchTx) undoGuarded(err error) error {
	if !bt.callerTx {
		return err
	}
	if rbErr := bt.execDirect("rollback to savepoint", "ROLLBACK TO SAVEPOINT "+guardSavepoint); rbErr != nil {
		err = fmt.Errorf("%w (and rolling back to the savepoint before the batch: %v)", err, rbErr)
	}
	return err
}

// idsNotStored is the error of rows start to end-1 written but whose ids
// could not be stored, saying what became of the rows.
func (bt *batchTx) idsNotStored(start, end int, idErr error) error {
	name := bt.t.name
	switch {
	case bt.tx != nil:
		// Checked before the commit: end's rollback undoes the whole
		// batch.
		return fmt.Errorf("sqlgen: InsertRows into table %q: %w; the batch was rolled back, nothing was written", name, idErr)
	case bt.callerTx:
		return fmt.Errorf("sqlgen: InsertRows into table %q: rows %d to %d were inserted in the caller's transaction (neither committed nor rolled back here), but their new ids could not be stored: %w: %w",
			name, start, end-1, ErrRowsWritten, idErr)
	default:
		return fmt.Errorf("sqlgen: InsertRows into table %q: the rows were inserted and committed, but their new ids could not be stored: %w: %w", name, ErrRowsWritten, idErr)
	}
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
