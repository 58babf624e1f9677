// Package vitesstest checks that the statements sqlgen sends stay in one
// shard of a sharded Vitess keyspace: a [Recorder] captures what a
// *sql.DB sends to a real MySQL or MariaDB server (text and values), and
// an [Explainer] feeds each statement or transaction to Vitess's planner
// (vtexplain, in process: vtgate's executor over fake tablets) and
// returns the shards it would touch.
package vitesstest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"github.com/go-sql-driver/mysql"
)

// Kind is the kind of a recorded step.
type Kind int

const (
	Stmt     Kind = iota // a statement
	Begin                // BEGIN of a transaction
	Commit               // COMMIT
	Rollback             // ROLLBACK
)

// Step is one thing a connection sent.
type Step struct {
	Kind Kind
	SQL  string
	Args []driver.NamedValue
	Conn int // which connection sent it
}

// Recorder records the steps of a *sql.DB opened with [Recorder.Open].
type Recorder struct {
	mu    sync.Mutex
	steps []Step
	conns int
}

// Open returns a *sql.DB on dsn (go-sql-driver/mysql) whose statements,
// BEGINs, COMMITs and ROLLBACKs are recorded.
func (r *Recorder) Open(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&connector{inner: c, r: r}), nil
}

// Take returns the steps recorded since the last Take and forgets them.
func (r *Recorder) Take() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.steps
	r.steps = nil
	return s
}

func (r *Recorder) add(s Step) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
}

type connector struct {
	inner driver.Connector
	r     *Recorder
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c.r.mu.Lock()
	c.r.conns++
	id := c.r.conns
	c.r.mu.Unlock()
	return &conn{inner: inner, r: c.r, id: id}, nil
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

type conn struct {
	inner driver.Conn
	r     *Recorder
	id    int
}

func (c *conn) record(query string, args []driver.NamedValue) {
	c.r.add(Step{Kind: Stmt, SQL: query, Args: args, Conn: c.id})
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &stmt{inner: s, c: c, query: query}, nil
}

func (c *conn) Close() error { return c.inner.Close() }

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.r.add(Step{Kind: Begin, Conn: c.id})
	return &txn{inner: tx, c: c}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.record(query, args)
	}
	return res, err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.record(query, args)
	}
	return rows, err
}

func (c *conn) Ping(ctx context.Context) error { return c.inner.(driver.Pinger).Ping(ctx) }

func (c *conn) ResetSession(ctx context.Context) error {
	return c.inner.(driver.SessionResetter).ResetSession(ctx)
}

func (c *conn) IsValid() bool { return c.inner.(driver.Validator).IsValid() }

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.inner.(driver.NamedValueChecker).CheckNamedValue(nv)
}

type stmt struct {
	inner driver.Stmt
	c     *conn
	query string
}

func (s *stmt) Close() error  { return s.inner.Close() }
func (s *stmt) NumInput() int { return s.inner.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("vitesstest: Stmt.Exec without context")
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("vitesstest: Stmt.Query without context")
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.record(s.query, args)
	return s.inner.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.record(s.query, args)
	return s.inner.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := s.inner.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return s.c.CheckNamedValue(nv)
}

type txn struct {
	inner driver.Tx
	c     *conn
}

func (t *txn) Commit() error {
	t.c.r.add(Step{Kind: Commit, Conn: t.c.id})
	return t.inner.Commit()
}

func (t *txn) Rollback() error {
	t.c.r.add(Step{Kind: Rollback, Conn: t.c.id})
	return t.inner.Rollback()
}
