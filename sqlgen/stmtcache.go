package sqlgen

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/go-sql-driver/mysql"
)

// WithStmtCache keeps up to size prepared statements, one per distinct SQL
// text, and runs statements through them.
//
// With go-sql-driver/mysql's default DSN, every statement with arguments
// costs three round trips: prepare, execute, close. A cached statement
// costs one. The other way to get one round trip is interpolateParams=true
// in the DSN, which has the driver format arguments into the text on the
// client: it needs no server-side state and suits statements whose text
// varies a lot (IN lists of varying length, ad-hoc Where clauses), but it
// relies on the driver's escaping and cannot be used with some multi-byte
// connection character sets. The cache suits services that run the same
// few statements again and again (reads by key, fixed inserts and
// updates); statements whose text is seen once take a slot until evicted.
//
// Inside a transaction, a statement runs prepared on the transaction: the
// cached statement bound to it with tx.StmtContext, or, for a text not in
// the cache, one prepared with tx.PrepareContext and kept until the
// transaction ends (up to size per transaction). Either way it runs on
// the transaction's connection and never waits for a second one, so a
// transaction holding the pool's last connection cannot deadlock.
//
// Statements evicted from the cache (least recently used first) are
// closed once the calls running them are done; [DB.Close] closes the
// rest. Each statement occupies a server-side slot per connection it was
// used on; mind the server's max_prepared_stmt_count.
//
// Statements run through the cache outside a transaction are not stopped
// on the server when their context ends (database/sql picks their
// connection; see [WithoutServerCancel]); inside [DB.Transact] they are.
func WithStmtCache(size int) Option {
	return func(db *DB) {
		if size > 0 {
			db.stmts = &stmtCache{size: size, byText: map[string]*list.Element{}, lru: list.New()}
		}
	}
}

type stmtCache struct {
	size int

	mu     sync.Mutex
	byText map[string]*list.Element // of *cachedStmt
	lru    *list.List               // front: most recently used
	closed bool
}

// cachedStmt is a statement of the cache. It is closed once it has left
// the cache (evicted, or the DB closed) and its last user is done with
// it, never under a running call.
type cachedStmt struct {
	text string
	stmt *sql.Stmt
	refs int // users holding it, plus one while it is in the cache
}

// acquire returns the cached statement for query, preparing it on db's
// pool (outside a transaction: inside one, see [DB.txStmt]) if it is not
// cached; table is the statement's, for the hook's report of the prepare.
// The caller runs it and then calls release.
func (c *stmtCache) acquire(ctx context.Context, db *DB, table, query string) (*cachedStmt, error) {
	if cs, err := c.lookup(query); cs != nil || err != nil {
		return cs, err
	}
	// Prepare outside the lock: it is a round trip.
	stmt, err := db.prepare(ctx, db.conn, table, query)
	if err != nil {
		return nil, err
	}
	var evicted []*sql.Stmt
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		stmt.Close()
		return nil, fmt.Errorf("sqlgen: the DB is closed: %w", sql.ErrConnDone)
	}
	if e, ok := c.byText[query]; ok { // another goroutine won the race
		c.lru.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.refs++
		c.mu.Unlock()
		stmt.Close()
		return cs, nil
	}
	cs := &cachedStmt{text: query, stmt: stmt, refs: 2} // the cache's and the caller's
	c.byText[query] = c.lru.PushFront(cs)
	for c.lru.Len() > c.size {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byText, old.text)
		if old.refs--; old.refs == 0 {
			evicted = append(evicted, old.stmt)
		}
	}
	c.mu.Unlock()
	// Closed once the lock is released: Close is a round trip.
	for _, s := range evicted {
		s.Close()
	}
	return cs, nil
}

// lookup returns the cached statement for query, held for the caller
// (who calls release), or nil if it is not cached.
func (c *stmtCache) lookup(query string) (*cachedStmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("sqlgen: the DB is closed: %w", sql.ErrConnDone)
	}
	if e, ok := c.byText[query]; ok {
		c.lru.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.refs++
		return cs, nil
	}
	return nil, nil
}

// release gives back a statement from acquire or lookup, closing it if it
// has left the cache and this was its last user.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.refs--
	last := cs.refs == 0
	c.mu.Unlock()
	if last {
		cs.stmt.Close()
	}
}

// close closes every cached statement (each once its users are done).
func (c *stmtCache) close() error {
	c.mu.Lock()
	c.closed = true
	var idle []*sql.Stmt
	for e := c.lru.Front(); e != nil; e = e.Next() {
		cs := e.Value.(*cachedStmt)
		if cs.refs--; cs.refs == 0 {
			idle = append(idle, cs.stmt)
		}
	}
	c.lru.Init()
	clear(c.byText)
	c.mu.Unlock()
	var errs []error
	for _, s := range idle {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// len reports the number of cached statements (for tests).
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// txStmt returns the statement for query prepared on st's transaction,
// for a DB with a statement cache: the cached statement bound to the
// transaction (tx.StmtContext, which prepares it on the transaction's
// connection if it has not been yet), or, when the text is not cached, a
// statement prepared on the transaction (tx.PrepareContext). Neither ever
// needs a connection other than the transaction's, so a transaction that
// holds the pool's last connection never waits for another. They are kept
// for the transaction's later statements (up to the cache's size; closed
// by database/sql when the transaction ends). It returns nil when the
// transaction already keeps as many statements as the cache: the
// statement then runs without one.
func (db *DB) txStmt(ctx context.Context, st *txState, table, query string) (*sql.Stmt, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.stmts[query]; ok {
		return s, nil
	}
	if len(st.stmts) >= db.stmts.size {
		return nil, nil
	}
	cs, err := db.stmts.lookup(query)
	if err != nil {
		return nil, err
	}
	var s *sql.Stmt
	if cs != nil {
		// Held until StmtContext has registered the transaction's
		// statement as depending on it: the cache may evict and close it
		// meanwhile, and database/sql then keeps its prepared statement
		// on the transaction's connection until the transaction's
		// statement is closed.
		s = st.tx.StmtContext(ctx, cs.stmt)
		db.stmts.release(cs)
	} else if s, err = db.prepare(ctx, st.tx, table, query); err != nil {
		return nil, err
	}
	if st.stmts == nil {
		st.stmts = make(map[string]*sql.Stmt)
	}
	st.stmts[query] = s
	return s, nil
}

// keepTxStmt forgets s, a statement from txStmt, after a use that failed
// with an error that may come from s itself rather than from the server
// (a statement of tx.StmtContext keeps the error of its preparation, such
// as the end of the context it was prepared with): the next statement of
// the text prepares anew. Errors from the server leave it kept.
func (st *txState) keepTxStmt(query string, s *sql.Stmt, err error) {
	var me *mysql.MySQLError
	if err == nil || errors.As(err, &me) {
		return
	}
	st.mu.Lock()
	if st.stmts[query] == s {
		delete(st.stmts, query)
	}
	st.mu.Unlock()
}

// Close releases what the DB holds beyond the *sql.DB it was given: the
// statements of [WithStmtCache]. It does not close that *sql.DB, which
// belongs to the caller. Statements still running finish first (a
// statement is closed when its last user is done); calls after Close fail
// when they would need a cached statement.
func (db *DB) Close() error {
	if db.stmts == nil {
		return nil
	}
	err := db.stmts.close()
	if db.replicas != nil {
		for _, r := range db.replicas.reps {
			err = errors.Join(err, r.stmts.close())
		}
	}
	return err
}

// queryRows runs a statement that returns rows where ctx says: in the
// context's transaction, through the statement cache, or on the pool (see
// run.go), without server-side cancellation (which needs to know when the
// rows are closed: [DB.query] does). Its errors wrap the context's error
// when ctx is done.
func (db *DB) queryRows(ctx context.Context, table, query string, args []any) (*sql.Rows, error) {
	rows, err := db.queryOn(ctx, db.txOf(ctx), table, query, args)
	if err != nil {
		return nil, withCtxErr(ctx, err)
	}
	return rows, nil
}

// queryDirect runs query on the context's transaction or the pool with
// concrete calls, not through the querier interface, so that args can
// stay on the caller's stack. It bypasses the statement cache (for
// statements such as EXPLAIN that are not worth a cached statement).
func (db *DB) queryDirect(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := db.txOf(ctx); st != nil {
		rows, err = st.tx.QueryContext(ctx, query, args...)
	} else {
		rows, err = db.conn.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, withCtxErr(ctx, err)
	}
	return rows, nil
}
