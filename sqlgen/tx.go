package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// querier is what *sql.DB and *sql.Tx have in common that DB uses.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execQuerier is a *sql.Conn or *sql.Tx that a batch runs on.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// on returns q, or when q is nil the transaction carried by ctx or the
// pool.
func (db *DB) on(ctx context.Context, q execQuerier) execQuerier {
	if q != nil {
		return q
	}
	return db.querier(ctx)
}

// querier returns the transaction ctx carries for the DB's *sql.DB, or the
// pool.
func (db *DB) querier(ctx context.Context) querier {
	if st := db.txOf(ctx); st != nil {
		return st.tx
	}
	return db.conn
}

// txState is the transaction a context carries for one *sql.DB.
type txState struct {
	tx *sql.Tx
	// conn is the connection the transaction runs on when sqlgen began
	// it on a connection of its own choosing (Transact, the batch of
	// InsertRows), nil otherwise; own says sqlgen took it from the pool
	// for the transaction and returns it when the transaction ends.
	conn *sql.Conn
	own  bool
	// transact is set for the transaction of Transact, whose commit
	// records the position of its writes (see WithReadYourWrites).
	transact bool
	// id is conn's server id, for server-side cancellation; 0 when it
	// is off or unknown.
	id int64

	// For the hook's reports of COMMIT and ROLLBACK, when the DB that
	// began the transaction has one: that DB, the context the
	// transaction was begun with and the table it is about ("" if none).
	db    *DB
	ctx   context.Context
	table string

	// The statements of [WithStmtCache] prepared on the transaction,
	// by SQL text (closed by database/sql when it ends).
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// commit commits the transaction and returns its connection to the pool
// if sqlgen took one for it.
func (st *txState) commit() error {
	err := st.end("commit")
	st.release()
	return err
}

// rollback rolls the transaction back and returns its connection to the
// pool if sqlgen took one for it.
func (st *txState) rollback() error {
	err := st.end("rollback")
	st.release()
	return err
}

// end commits (op "commit") or rolls back the transaction, reporting the
// COMMIT or ROLLBACK to the hook of the DB that began it, with the context
// it was begun with.
func (st *txState) end(op string) error {
	if st.db == nil {
		if op == "commit" {
			return st.tx.Commit()
		}
		return st.tx.Rollback()
	}
	q := "ROLLBACK"
	if op == "commit" {
		q = "COMMIT"
	}
	ctx, start := st.db.before(st.ctx, st.table, op, q, 0)
	var err error
	if op == "commit" {
		err = st.tx.Commit()
	} else {
		err = st.tx.Rollback()
	}
	st.db.after(ctx, st.table, op, q, 0, start, -1, err)
	return err
}

// beginner is a *sql.DB or *sql.Conn, which a transaction begins on.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// begin begins a transaction on b, reporting its BEGIN to the hook (Op
// "begin", about table, "" if none).
func (db *DB) begin(ctx context.Context, b beginner, table string) (*sql.Tx, error) {
	if db.hook == nil {
		return b.BeginTx(ctx, nil)
	}
	hctx, start := db.before(ctx, table, "begin", "BEGIN", 0)
	tx, err := b.BeginTx(hctx, nil)
	db.after(hctx, table, "begin", "BEGIN", 0, start, -1, err)
	return tx, err
}

func (st *txState) release() {
	if st.own {
		st.conn.Close() // ErrConnDone if database/sql already dropped it
	}
}

// beginTx begins a transaction and returns a context that carries it for
// the DB's *sql.DB. It runs on conn when conn is not nil; otherwise, when
// pin is set and server-side cancellation is on, on a connection taken
// from the pool for it (returned by commit or rollback), so that its
// statements can be stopped on the server; otherwise on the pool's choice.
// table is what the transaction is about, for the hook's reports of its
// BEGIN, COMMIT and ROLLBACK ("" if nothing in particular).
func (db *DB) beginTx(ctx context.Context, table string, conn *sql.Conn, pin bool) (context.Context, *txState, error) {
	st := &txState{conn: conn}
	if db.hook != nil {
		st.db, st.ctx, st.table = db, ctx, table
	}
	if conn == nil && pin && db.serverCancel {
		c, err := db.conn.Conn(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("sqlgen: beginning a transaction: %w", withCtxErr(ctx, err))
		}
		st.conn, st.own = c, true
	}
	if st.conn != nil && db.serverCancel {
		id, err := db.connID(ctx, st.conn)
		if err != nil && ctx.Err() != nil {
			st.release()
			return nil, nil, fmt.Errorf("sqlgen: beginning a transaction: %w", withCtxErr(ctx, err))
		}
		st.id = max(id, 0) // 0 when it cannot be read: no server-side cancellation
	}
	var err error
	if st.conn != nil {
		st.tx, err = db.begin(ctx, st.conn, table)
		if err != nil && st.own && errors.Is(err, driver.ErrBadConn) && ctx.Err() == nil {
			// A pinned connection gets no second chance from the pool:
			// begin on the pool's choice instead.
			st.release()
			st.conn, st.own, st.id = nil, false, 0
		}
	}
	if st.conn == nil {
		st.tx, err = db.begin(ctx, db.conn, table)
	}
	if err != nil {
		st.release()
		return nil, nil, fmt.Errorf("sqlgen: beginning a transaction: %w", withCtxErr(ctx, err))
	}
	return context.WithValue(ctx, txKey{db.conn}, st), st, nil
}

// WithTx begins a transaction and returns a context that carries it: every
// DB method called with that context runs inside it. The caller commits or
// rolls back the returned *sql.Tx.
//
// A context carries at most one transaction per *sql.DB: WithTx on a
// context that already carries one for this DB's *sql.DB is refused with
// [ErrTxInProgress]. A transaction of another *sql.DB in the context is
// ignored by this DB (and this one by a DB of the other), so DBs on two
// databases can each have a transaction in the same context. Copies of a
// DB (such as [DB.WithShardLimit]'s) and DBs made with [NewDB] on the same
// *sql.DB share the transaction.
//
// Statements in a WithTx transaction are not stopped on the server when
// their context ends (see [WithoutServerCancel]); [DB.Transact] stops them.
// Its BEGIN is reported to the DB's [Hook] or [Observer]; the COMMIT or
// ROLLBACK the caller runs on the *sql.Tx is the caller's, and is not.
func (db *DB) WithTx(ctx context.Context) (context.Context, *sql.Tx, error) {
	if db.HasTx(ctx) {
		return nil, nil, fmt.Errorf("sqlgen: WithTx: %w", ErrTxInProgress)
	}
	txCtx, st, err := db.beginTx(ctx, "", nil, false)
	if err != nil {
		return nil, nil, err
	}
	return txCtx, st.tx, nil
}

// WithExistingTx returns a context that carries tx, a transaction the
// caller began, so that the DB's methods run inside it. tx must come from
// the DB's own *sql.DB ([DB.Conn]): database/sql gives no way to check, and
// the statements of a transaction of another *sql.DB would run in that
// other database. A context that already carries a transaction for this
// DB's *sql.DB is refused with [ErrTxInProgress]. As with [DB.WithTx], its
// statements are not stopped on the server when their context ends. The
// statements the DB runs in it are reported to its [Hook] or [Observer];
// its BEGIN, COMMIT and ROLLBACK are the caller's, and are not.
func (db *DB) WithExistingTx(ctx context.Context, tx *sql.Tx) (context.Context, error) {
	if tx == nil {
		return nil, fmt.Errorf("sqlgen: WithExistingTx: nil transaction: %w", ErrInvalidArgument)
	}
	if db.HasTx(ctx) {
		return nil, fmt.Errorf("sqlgen: WithExistingTx: %w", ErrTxInProgress)
	}
	return context.WithValue(ctx, txKey{db.conn}, &txState{tx: tx}), nil
}

// HasTx reports whether ctx carries a transaction for the DB's *sql.DB
// (one begun by this DB, a copy of it, or another DB on the same
// *sql.DB).
func (db *DB) HasTx(ctx context.Context) bool {
	return db.txOf(ctx) != nil
}

// Transact runs fn in a transaction: it begins one, calls fn with a
// context that carries it, and commits if fn returns nil. If fn returns an
// error or panics, the transaction is rolled back (and the panic goes on).
// A context that already carries a transaction for the DB's *sql.DB is
// refused with [ErrTxInProgress], since a nested commit would not mean
// what it says.
//
// The transaction runs on a connection Transact holds, so that a statement
// of fn whose context ends is stopped on the server (see
// [WithoutServerCancel]). When ctx is done, the error returned wraps
// ctx.Err() (errors.Is(err, context.DeadlineExceeded) or
// context.Canceled), whatever failed first.
func (db *DB) Transact(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if db.HasTx(ctx) {
		return fmt.Errorf("sqlgen: Transact: %w", ErrTxInProgress)
	}
	txCtx, st, err := db.beginTx(ctx, "", nil, true)
	if err != nil {
		return err
	}
	st.transact = true
	committed := false
	defer func() {
		if !committed {
			// When ctx is done, database/sql rolls back by itself: the
			// rollback's own error says nothing more.
			if rbErr := st.rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
			}
		}
		err = withCtxErr(ctx, err)
	}()
	if err = fn(txCtx); err != nil {
		return err
	}
	if err = st.commit(); err != nil {
		committed = true // the connection is released; a rollback has nothing left to do
		return fmt.Errorf("sqlgen: commit: %w", err)
	}
	committed = true
	if db.replicas != nil {
		db.committed(ctx)
	}
	return nil
}

// MySQL error numbers after which a whole transaction may be retried.
const (
	errLockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT
	errDeadlock        = 1213 // ER_LOCK_DEADLOCK
)

// IsRetryable reports whether err (or an error it wraps) is a MySQL
// deadlock (1213) or lock wait timeout (1205): a transaction that failed
// with it can be rolled back and run again.
func IsRetryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == errDeadlock || me.Number == errLockWaitTimeout)
}

// TransactWithRetry is [DB.Transact] run up to attempts times (at least
// once) while it fails with an error for which [IsRetryable] holds, with
// exponential backoff between attempts (10ms doubling, with jitter, capped
// at one second). fn must be safe to run again: it sees none of the
// writes of a rolled-back attempt. Waiting ends early, with the context's
// error, when ctx is done. The last error is returned.
func (db *DB) TransactWithRetry(ctx context.Context, attempts int, fn func(ctx context.Context) error) error {
	backoff := 10 * time.Millisecond
	for i := 1; ; i++ {
		err := db.Transact(ctx, fn)
		if err == nil || i >= attempts || !IsRetryable(err) {
			return err
		}
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff)))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("sqlgen: giving up retrying after %d attempts: %w (last error: %v)", i, ctx.Err(), err)
		case <-timer.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}
