package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// Where a statement runs.
//
// Every statement of a DB call goes through the functions of this file,
// which decide where it runs; they take its SQL text and arguments as
// given (for the reads, as the planner of plan.go made them):
//
//   - in the transaction the context carries for the DB's *sql.DB (a
//     context carries at most one per *sql.DB: see [txKey]), through a
//     statement prepared on that transaction when the DB has a statement
//     cache, so that a transaction never needs a second connection;
//   - outside a transaction, through the statement cache when there is
//     one ([WithStmtCache]);
//   - otherwise on a connection pinned for the statement when its context
//     can end and server-side cancellation is on (see cancel.go), so that
//     sqlgen knows which connection to stop with KILL QUERY;
//   - otherwise on the pool, with concrete database/sql calls, so that the
//     arguments stay on the caller's stack.
//
// A DB with read replicas ([WithReplicas]) first picks the server: a read
// goes to a replica when [DB.readsReplica] says so, and everything else to
// the primary. On the server picked, the rules above apply (a replica has
// its own pool and statement cache, and its statements are killed on it).
//
// Whatever the path, an error returned while the caller's context is done
// wraps the context's error ([withCtxErr]).

// withCtxErr returns err, made to wrap the context's error as well when
// ctx is done: when the context ends mid-statement, database/sql and the
// driver return whichever error they meet first ("bad connection", "i/o
// timeout", "transaction has already been committed or rolled back", ...),
// and the caller should be able to tell with errors.Is(err,
// context.DeadlineExceeded) or context.Canceled. A context whose deadline
// has passed counts as done even when its timer has not fired yet. err's
// own text and chain are kept.
func withCtxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if cerr == nil {
		dl, ok := ctx.Deadline()
		if !ok || time.Now().Before(dl) {
			return err
		}
		cerr = context.DeadlineExceeded
	}
	if errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}

// txKey is the context key of the transaction a context carries for one
// *sql.DB. Keyed by the *sql.DB, a transaction of one database is never
// used by a DB of another; the copies of a DB (WithShardLimit, ...) and
// DBs made on the same *sql.DB share it.
type txKey struct{ db *sql.DB }

// txOf returns the transaction ctx carries for db's *sql.DB, or nil.
func (db *DB) txOf(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{db.conn}).(*txState)
	return st
}

// readsReplica is the rule that sends a read to a replica: the DB has
// replicas, and ctx carries no transaction for the primary and does not
// ask for the primary ([OnPrimary]; a read with ForUpdate asks for it).
// The replica is picked, and the read retried elsewhere if it fails there,
// by [replicaSet.read]: a read can run again only until it has handed a
// row to its caller, so a reader either collects the rows first, as
// runSelect does on a replica, or gives up retrying once a row went out,
// as [Iter] does (streamReplicated, replica.go).
func (db *DB) readsReplica(ctx context.Context) bool {
	return db.replicas != nil && db.txOf(ctx) == nil && !onPrimary(ctx)
}

// runExec runs a statement that returns no rows where ctx says (see the
// top of this file). table names the statement's table for the observer's
// report of a KILL. Under [WithReadYourWrites], a DB with replicas records
// the write's position.
func (db *DB) runExec(ctx context.Context, table, query string, args []any) (sql.Result, error) {
	st := db.txOf(ctx)
	if db.replicas != nil {
		if w := writesOf(ctx); w != nil {
			return db.execRecorded(ctx, w, st, table, query, args)
		}
	}
	return db.runExecHere(ctx, st, table, query, args)
}

// runExecHere is runExec on the DB's server, st being the context's
// transaction.
func (db *DB) runExecHere(ctx context.Context, st *txState, table, query string, args []any) (sql.Result, error) {
	if db.serverCancel && ctx.Done() != nil {
		if st != nil {
			if st.id > 0 {
				return db.execInTxCancel(ctx, st, table, query, args)
			}
		} else if db.stmts == nil {
			return db.execPinned(ctx, table, query, args)
		}
	}
	if st != nil {
		return db.execInTx(ctx, st, query, args)
	}
	if db.stmts != nil {
		return db.execCached(ctx, query, args)
	}
	// A concrete call, not through an interface: args can then stay on
	// the caller's stack.
	return db.conn.ExecContext(ctx, query, args...)
}

func (db *DB) execInTx(ctx context.Context, st *txState, query string, args []any) (sql.Result, error) {
	if db.stmts != nil {
		s, err := db.txStmt(ctx, st, query)
		if err != nil {
			return nil, err
		}
		if s != nil {
			res, err := s.ExecContext(ctx, args...)
			st.keepTxStmt(query, s, err)
			return res, err
		}
	}
	return st.tx.ExecContext(ctx, query, args...)
}

func (db *DB) execCached(ctx context.Context, query string, args []any) (sql.Result, error) {
	cs, err := db.stmts.acquire(ctx, db.conn, query)
	if err != nil {
		return nil, err
	}
	res, err := cs.stmt.ExecContext(ctx, args...)
	db.stmts.release(cs)
	return res, err
}

func (db *DB) execInTxCancel(ctx context.Context, st *txState, table, query string, args []any) (sql.Result, error) {
	k := db.watch(ctx, table, st.id)
	res, err := db.execInTx(ctx, st, query, args)
	settle(k, st.conn, false)
	return res, err
}

func (db *DB) execPinned(ctx context.Context, table, query string, args []any) (sql.Result, error) {
	conn, id, err := db.pin(ctx)
	if err != nil {
		return nil, err
	}
	if conn == nil {
		return db.conn.ExecContext(ctx, query, args...)
	}
	k := db.watch(ctx, table, id)
	res, err := conn.ExecContext(ctx, query, args...)
	settle(k, conn, true)
	if retryUnpinned(ctx, err) {
		return db.conn.ExecContext(ctx, query, args...)
	}
	return res, err
}

// retryUnpinned reports whether a statement that failed on a pinned
// connection should run again on the pool: the driver returns
// driver.ErrBadConn only when it sent nothing, and the pool, unlike a
// pinned connection, would have tried another connection.
func retryUnpinned(ctx context.Context, err error) bool {
	return err != nil && errors.Is(err, driver.ErrBadConn) && ctx.Err() == nil
}

// execOnConn runs a statement on ex, a connection or transaction the
// caller chose, stopping it on the server if ctx ends when sqlgen knows
// ex's connection.
func (db *DB) execOnConn(ctx context.Context, ex execQuerier, table, query string, args []any) (sql.Result, error) {
	if db.replicas != nil {
		db.wroteUnseen(ctx)
	}
	return db.execOnConnHere(ctx, ex, table, query, args)
}

// execOnConnHere is execOnConn without recording the write's position.
func (db *DB) execOnConnHere(ctx context.Context, ex execQuerier, table, query string, args []any) (sql.Result, error) {
	if db.serverCancel && ctx.Done() != nil {
		switch q := ex.(type) {
		case *sql.Conn:
			id, err := connID(ctx, q)
			if err != nil {
				return nil, err
			}
			k := db.watch(ctx, table, id)
			res, err := q.ExecContext(ctx, query, args...)
			settle(k, q, false)
			return res, err
		case *sql.Tx:
			if st := db.txOf(ctx); st != nil && st.tx == q && st.id > 0 {
				return db.execInTxCancel(ctx, st, table, query, args)
			}
		}
	}
	return ex.ExecContext(ctx, query, args...)
}

// run is what a statement that returns rows holds until its rows are
// read: the kill watch on its context and the connection pinned for it.
// The zero run holds nothing.
type run struct {
	k   *killer
	on  *sql.Conn // the connection the statement runs on, if sqlgen knows it
	pin bool      // on was taken from the pool for this statement: end returns it
}

// end ends the kill watch and returns a pinned connection to the pool
// (see [settle]). Call it once the rows are closed.
func (r run) end() {
	if r.k != nil || r.pin {
		settle(r.k, r.on, r.pin)
	}
}

// query runs a statement that returns rows where ctx says (see the top of
// this file). The caller reads and closes the rows, then calls end on the
// returned run.
func (db *DB) query(ctx context.Context, table, query string, args []any) (*sql.Rows, run, error) {
	st := db.txOf(ctx)
	if db.serverCancel && ctx.Done() != nil {
		if st != nil {
			if st.id > 0 {
				r := run{k: db.watch(ctx, table, st.id), on: st.conn}
				rows, err := db.queryInTx(ctx, st, query, args)
				if err != nil {
					r.end()
					return nil, run{}, err
				}
				return rows, r, nil
			}
		} else if db.stmts == nil {
			conn, id, err := db.pin(ctx)
			if err != nil {
				return nil, run{}, err
			}
			if conn != nil {
				r := run{k: db.watch(ctx, table, id), on: conn, pin: true}
				rows, err := conn.QueryContext(ctx, query, args...)
				if err != nil {
					r.end()
					if retryUnpinned(ctx, err) {
						rows, err = db.conn.QueryContext(ctx, query, args...)
						return rows, run{}, err
					}
					return nil, run{}, err
				}
				return rows, r, nil
			}
		}
	}
	rows, err := db.queryOn(ctx, st, query, args)
	return rows, run{}, err
}

// queryOn runs a statement that returns rows in st, the context's
// transaction, or when st is nil through the statement cache or on the
// pool.
func (db *DB) queryOn(ctx context.Context, st *txState, query string, args []any) (*sql.Rows, error) {
	if st != nil {
		return db.queryInTx(ctx, st, query, args)
	}
	if db.stmts != nil {
		cs, err := db.stmts.acquire(ctx, db.conn, query)
		if err != nil {
			return nil, err
		}
		// Rows keep their statement open until they are closed, even if
		// the cache closes it meanwhile.
		rows, err := cs.stmt.QueryContext(ctx, args...)
		db.stmts.release(cs)
		return rows, err
	}
	return db.conn.QueryContext(ctx, query, args...)
}

func (db *DB) queryInTx(ctx context.Context, st *txState, query string, args []any) (*sql.Rows, error) {
	if db.stmts != nil {
		s, err := db.txStmt(ctx, st, query)
		if err != nil {
			return nil, err
		}
		if s != nil {
			rows, err := s.QueryContext(ctx, args...)
			st.keepTxStmt(query, s, err)
			return rows, err
		}
	}
	return st.tx.QueryContext(ctx, query, args...)
}

// lookup reads one value the library needs from the server (VERSION(),
// @@max_allowed_packet, @@auto_increment_increment) into dest, on q, or
// when q is nil on the context's transaction or the pool. It never needs
// a second connection inside a transaction, and never goes through the
// statement cache.
func (db *DB) lookup(ctx context.Context, q execQuerier, query string, dest any) error {
	return withCtxErr(ctx, db.on(ctx, q).QueryRowContext(ctx, query).Scan(dest))
}
