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
// The reads and writes of a DB's calls go through the functions of this
// file, which decide where they run; they take the SQL text and arguments
// as given (for the reads, as the planner of plan.go made them):
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
//
// Every statement a DB sends is reported to its hook ([Hook], [Observer];
// observe.go's [DB.before] and [DB.after], called only when the DB has
// one): the reads and writes by the callers of these functions (db.go,
// query.go, readbatch.go), which report them once their last row is read;
// the statements sqlgen sends for itself along the way by the functions
// that send them: the prepares of the statement cache ([DB.prepare]), the
// look-ups of the server's settings, SELECT CONNECTION_ID() and the GTID
// reads and waits of read replicas ([DB.queryRowOn]), the transactions'
// BEGIN, COMMIT and ROLLBACK ([DB.begin], [txState.end] in tx.go), the
// EXPLAIN of the index guard ([DB.checkIndex], run with [DB.queryDirect]
// where the read runs), a replica's lag check ([DB.lag] in replica.go) and
// the KILL QUERY of server-side cancellation ([killer.fire] in
// cancel.go).

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
		return db.execInTx(ctx, st, table, query, args)
	}
	if db.stmts != nil {
		return db.execCached(ctx, table, query, args)
	}
	// A concrete call, not through an interface: args can then stay on
	// the caller's stack.
	return db.conn.ExecContext(ctx, query, args...)
}

func (db *DB) execInTx(ctx context.Context, st *txState, table, query string, args []any) (sql.Result, error) {
	if db.stmts != nil {
		s, err := db.txStmt(ctx, st, table, query)
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

func (db *DB) execCached(ctx context.Context, table, query string, args []any) (sql.Result, error) {
	cs, err := db.stmts.acquire(ctx, db, table, query)
	if err != nil {
		return nil, err
	}
	res, err := cs.stmt.ExecContext(ctx, args...)
	db.stmts.release(cs)
	return res, err
}

func (db *DB) execInTxCancel(ctx context.Context, st *txState, table, query string, args []any) (sql.Result, error) {
	k := db.watch(ctx, table, st.id)
	res, err := db.execInTx(ctx, st, table, query, args)
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
			id, err := db.connID(ctx, q)
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
				rows, err := db.queryInTx(ctx, st, table, query, args)
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
	rows, err := db.queryOn(ctx, st, table, query, args)
	return rows, run{}, err
}

// queryOn runs a statement that returns rows in st, the context's
// transaction, or when st is nil through the statement cache or on the
// pool.
func (db *DB) queryOn(ctx context.Context, st *txState, table, query string, args []any) (*sql.Rows, error) {
	if st != nil {
		return db.queryInTx(ctx, st, table, query, args)
	}
	if db.stmts != nil {
		cs, err := db.stmts.acquire(ctx, db, table, query)
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

func (db *DB) queryInTx(ctx context.Context, st *txState, table, query string, args []any) (*sql.Rows, error) {
	if db.stmts != nil {
		s, err := db.txStmt(ctx, st, table, query)
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
// when q is nil on the context's transaction or the pool, and reports it
// to the hook (Op "lookup", about table, "" if none). It never needs a
// second connection inside a transaction, and never goes through the
// statement cache.
func (db *DB) lookup(ctx context.Context, q execQuerier, table, query string, dest any) error {
	return withCtxErr(ctx, db.queryRowOn(ctx, db.on(ctx, q), table, "lookup", query, nil, dest))
}

// rowQuerier is what a statement of sqlgen's own that reads one row runs
// on: a *sql.DB, *sql.Conn or *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryRowOn runs query, a statement of sqlgen's own (a look-up, a GTID
// position or wait) that reads one row, on q and scans that row into dest,
// reporting it to the hook with op and table. Its rows are 1, or 0 when
// there is none.
func (db *DB) queryRowOn(ctx context.Context, q rowQuerier, table, op, query string, args []any, dest ...any) error {
	if db.hook == nil {
		return q.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	ctx, start := db.before(ctx, table, op, query, len(args))
	err := q.QueryRowContext(ctx, query, args...).Scan(dest...)
	n := int64(1)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		n = 0
	case err != nil:
		n = -1
	}
	db.after(ctx, table, op, query, len(args), start, n, err)
	return err
}

// preparer is a *sql.DB or *sql.Tx, which a statement of [WithStmtCache]
// is prepared on.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// prepare prepares query on p for the statement cache, reporting it to
// the hook (Op "prepare", about table).
func (db *DB) prepare(ctx context.Context, p preparer, table, query string) (*sql.Stmt, error) {
	if db.hook == nil {
		return p.PrepareContext(ctx, query)
	}
	ctx, start := db.before(ctx, table, "prepare", query, 0)
	s, err := p.PrepareContext(ctx, query)
	db.after(ctx, table, "prepare", query, 0, start, -1, err)
	return s, err
}
