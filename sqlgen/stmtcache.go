package sqlgen

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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
// Inside a transaction a cached statement is bound to the transaction
// with tx.StmtContext. Statements evicted from the cache (least recently
// used first) are closed; [DB.Close] closes the rest. Each statement
// occupies a server-side slot per connection it was used on; mind the
// server's max_prepared_stmt_count.
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

type cachedStmt struct {
	text string
	stmt *sql.Stmt
}

// get returns the prepared statement for query, preparing it on conn.
func (c *stmtCache) get(ctx context.Context, conn *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("sqlgen: the DB is closed: %w", sql.ErrConnDone)
	}
	if e, ok := c.byText[query]; ok {
		c.lru.MoveToFront(e)
		s := e.Value.(*cachedStmt).stmt
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	// Prepare outside the lock: it is a round trip.
	stmt, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	// Statements to close once the lock is released: Close waits for
	// calls still running on a statement (not for their open rows).
	var evicted []*sql.Stmt
	defer func() {
		for _, s := range evicted {
			s.Close()
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		evicted = append(evicted, stmt)
		return nil, fmt.Errorf("sqlgen: the DB is closed: %w", sql.ErrConnDone)
	}
	if e, ok := c.byText[query]; ok { // another goroutine won the race
		c.lru.MoveToFront(e)
		evicted = append(evicted, stmt)
		return e.Value.(*cachedStmt).stmt, nil
	}
	c.byText[query] = c.lru.PushFront(&cachedStmt{text: query, stmt: stmt})
	for c.lru.Len() > c.size {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byText, old.text)
		evicted = append(evicted, old.stmt)
	}
	return stmt, nil
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byText)
	return errors.Join(errs...)
}

// Len reports the number of cached statements.
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Close releases what the DB holds beyond the *sql.DB it was given: the
// statements of [WithStmtCache]. It does not close that *sql.DB, which
// belongs to the caller. Calls after Close fail when they would need a
// cached statement.
func (db *DB) Close() error {
	if db.stmts == nil {
		return nil
	}
	return db.stmts.close()
}

// queryRows runs a statement that returns rows, through the statement
// cache when there is one.
func (db *DB) queryRows(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	if db.stmts == nil {
		return db.queryDirect(ctx, query, args)
	}
	stmt, err := db.stmts.get(ctx, db.conn, query)
	if err != nil {
		return nil, err
	}
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		stmt = tx.StmtContext(ctx, stmt)
	}
	return stmt.QueryContext(ctx, args...)
}

// execStmt runs a statement that returns no rows, through the statement
// cache when there is one.
func (db *DB) execStmt(ctx context.Context, query string, args []any) (sql.Result, error) {
	if db.stmts == nil {
		// Concrete calls, not through the querier interface: args can
		// then stay on the caller's stack.
		if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
			return tx.ExecContext(ctx, query, args...)
		}
		return db.conn.ExecContext(ctx, query, args...)
	}
	stmt, err := db.stmts.get(ctx, db.conn, query)
	if err != nil {
		return nil, err
	}
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		stmt = tx.StmtContext(ctx, stmt)
	}
	return stmt.ExecContext(ctx, args...)
}

// queryDirect runs query on the context's transaction or the pool with
// concrete calls, not through the querier interface, so that args can
// stay on the caller's stack.
func (db *DB) queryDirect(ctx context.Context, query string, args []any) (*sql.Rows, error) {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx.QueryContext(ctx, query, args...)
	}
	return db.conn.QueryContext(ctx, query, args...)
}
