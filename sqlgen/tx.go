package sqlgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/go-sql-driver/mysql"
)

// txKey is the context key of the transaction a context carries.
type txKey struct{}

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

// querier returns the transaction carried by ctx, or the pool.
func (db *DB) querier(ctx context.Context) querier {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.conn
}

// WithTx begins a transaction and returns a context that carries it: every
// DB method called with that context runs inside it. The caller commits or
// rolls back the returned *sql.Tx. A context that already carries a
// transaction is refused with [ErrTxInProgress].
func (db *DB) WithTx(ctx context.Context) (context.Context, *sql.Tx, error) {
	if db.HasTx(ctx) {
		return nil, nil, fmt.Errorf("sqlgen: WithTx: %w", ErrTxInProgress)
	}
	tx, err := db.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlgen: beginning a transaction: %w", err)
	}
	return context.WithValue(ctx, txKey{}, tx), tx, nil
}

// WithExistingTx returns a context that carries tx, a transaction the
// caller began, so that DB methods run inside it.
func (db *DB) WithExistingTx(ctx context.Context, tx *sql.Tx) (context.Context, error) {
	if tx == nil {
		return nil, fmt.Errorf("sqlgen: WithExistingTx: nil transaction: %w", ErrInvalidArgument)
	}
	if db.HasTx(ctx) {
		return nil, fmt.Errorf("sqlgen: WithExistingTx: %w", ErrTxInProgress)
	}
	return context.WithValue(ctx, txKey{}, tx), nil
}

// HasTx reports whether ctx carries a transaction.
func (db *DB) HasTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*sql.Tx)
	return ok
}

// Transact runs fn in a transaction: it begins one, calls fn with a
// context that carries it, and commits if fn returns nil. If fn returns an
// error or panics, the transaction is rolled back (and the panic goes on).
// A context that already carries a transaction is refused with
// [ErrTxInProgress], since a nested commit would not mean what it says.
func (db *DB) Transact(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	txCtx, tx, err := db.WithTx(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && err != nil {
				err = fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
			}
		}
	}()
	if err = fn(txCtx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlgen: commit: %w", err)
	}
	committed = true
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
