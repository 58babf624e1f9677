package sqlgen

import (
	"context"
	"log/slog"
	"time"
)

// Event describes one statement the DB sends, for an [Observer] or a
// [Hook].
//
// Op says what the statement is:
//
//   - "query", "count": a read of Query, QueryRow, Count, ... (a merged
//     read of [WithBatching] too);
//   - "insert", "upsert", "update", "delete": a one-row write;
//   - "batch insert", "batch upsert": a statement of InsertRows or
//     UpsertRows;
//   - "savepoint", "rollback to savepoint": the SAVEPOINT and ROLLBACK
//     TO SAVEPOINT of a guarded UpsertRows in the caller's transaction;
//   - "begin", "commit", "rollback": the transactions sqlgen begins
//     ([DB.Transact], [DB.WithTx], the own transaction of a batch), with
//     SQL "BEGIN", "COMMIT" or "ROLLBACK" (database/sql sends them through
//     the driver: go-sql-driver/mysql writes BEGIN as START TRANSACTION);
//   - "prepare": a statement prepared for [WithStmtCache], SQL being the
//     text prepared;
//   - "explain": the EXPLAIN of [DB.RefuseFullScans] before a read;
//   - "lookup": a value sqlgen reads from the server for itself:
//     VERSION(), @@max_allowed_packet, @@SESSION.auto_increment_increment
//     (InsertRows), how the driver sends arguments, SELECT
//     CONNECTION_ID() (once per connection, for server-side
//     cancellation), TiDB's entry size limit;
//   - "replica lag": the SHOW REPLICA STATUS (or SHOW SLAVE STATUS) of a
//     replica's lag check ([WithReplicas]);
//   - "gtid position": a read of the primary's GTID position
//     ([WithReadYourWrites]);
//   - "gtid wait": a replica's wait for a GTID position
//     (MASTER_GTID_WAIT, WAIT_FOR_EXECUTED_GTID_SET);
//   - "kill": the KILL QUERY that stops a statement whose context ended
//     (see [WithoutServerCancel]).
//
// Table is the table the statement is about, "" for statements about none
// (a transaction's BEGIN and COMMIT in [DB.Transact], most look-ups). A
// batch's own transaction, the EXPLAIN of a read, the KILL of a statement
// and the auto_increment_increment of a batch name their table.
type Event struct {
	Table    string        // the table the statement is about, "" if none
	Op       string        // what the statement is: see above
	SQL      string        // the statement text, with ? placeholders
	Args     int           // the number of bound arguments
	Duration time.Duration // from sending the statement to reading its last row (0 in [Hook.Before])
	Rows     int64         // rows read (reads) or affected (writes), -1 if unknown (0 in [Hook.Before])
	Err      error         // the statement's error, if any (nil in [Hook.Before])
	Replica  int           // the replica that ran it: 1 for the first of WithReplicas, ...; 0 for the primary
	// Server is the server's family as far as the DB knows it: "mysql",
	// "mariadb" or "tidb" once it has read the server's VERSION() (the
	// first time a statement depends on it: a filter on a JSON column,
	// read replicas, TiDB's limits) or was told it ([WithServerVersion]),
	// "" until then.
	Server string
}

// Observer is called once for every statement a DB sends, after it ends,
// on the goroutine that ran it. It must be safe for concurrent use and
// quick. It is a [Hook] that only looks after the statement; see Hook for
// which statements are reported and how.
type Observer func(ctx context.Context, e Event)

// Hook is called before and after every statement a DB sends: Before
// just before the statement is sent, After once it is over, for a
// statement that returns rows once its last row is read and its rows are
// closed. Every Before is followed by exactly one After, on the same
// goroutine, also when the statement fails; After gets the context Before
// returned, so that Before can start a span (or anything else) and put it
// in the context, and After end it. The statement itself runs with that
// context too, and so do the statements sqlgen sends to run it (the SELECT
// CONNECTION_ID() of a connection taken for it, say), which nest inside
// it. Before gets the Event with Duration, Rows and Err not yet known;
// Before must return ctx or a context derived from it (a nil one is taken
// as ctx). A hook must be safe for concurrent use and quick.
//
// What is reported: every statement of a DB's calls, on the primary and
// on the replicas: reads, writes, the transactions sqlgen begins (their
// BEGIN, COMMIT and ROLLBACK), the prepares of [WithStmtCache], the
// EXPLAIN of [DB.RefuseFullScans], the look-ups sqlgen makes of the server
// (VERSION(), @@max_allowed_packet, ...), the SELECT CONNECTION_ID() of
// server-side cancellation and the KILL QUERY it sends (Op "kill", from
// the goroutine that sends it, with the ended context of the statement it
// stops), and with read replicas the lag checks, the GTID positions read
// and the waits for them. A read that fails on a replica and runs again
// elsewhere is reported once per server it ran on. See [Event] for the Op
// of each.
//
// What is not: what database/sql and the driver do by themselves. A
// transaction the caller owns is the caller's: the COMMIT or ROLLBACK of
// [DB.WithTx]'s *sql.Tx (its BEGIN is reported) and all three of a
// transaction given to [DB.WithExistingTx]. database/sql prepares a
// statement of [WithStmtCache] again on each other connection it runs it
// on, and on a transaction's connection when it binds the cached statement
// to the transaction (tx.StmtContext), closes statements, and rolls a
// transaction back by itself when its context ends; go-sql-driver/mysql
// prepares, runs and closes a statement with arguments in three commands
// without interpolateParams=true: those are parts of a reported
// statement, not statements of their own. [Schema.Check] takes a *sql.DB,
// not a DB: its statements are not a DB's.
type Hook interface {
	Before(ctx context.Context, e Event) context.Context
	After(ctx context.Context, e Event)
}

// WithObserver calls o after every statement (see [Hook] for which). A
// DB without an observer or a hook pays nothing for the feature. A later
// WithObserver replaces o; hooks of [WithHook] are kept beside it.
func WithObserver(o Observer) Option {
	return func(db *DB) { db.observer = o }
}

// WithHook calls h before and after every statement. Several WithHook
// options add several hooks, called in order before a statement (each
// Before gets the context the one before returned) and in reverse order
// after it, all with the context the last Before returned; an
// [Observer] of [WithObserver] is called after them. A DB without hooks
// pays nothing for the feature.
func WithHook(h Hook) Option {
	return func(db *DB) {
		if h != nil {
			db.hooks = append(db.hooks, h)
		}
	}
}

// observerHook is an Observer as a Hook.
type observerHook Observer

func (o observerHook) Before(ctx context.Context, _ Event) context.Context { return ctx }
func (o observerHook) After(ctx context.Context, e Event)                  { o(ctx, e) }

// hookChain is several hooks as one.
type hookChain []Hook

func (c hookChain) Before(ctx context.Context, e Event) context.Context {
	for _, h := range c {
		if d := h.Before(ctx, e); d != nil {
			ctx = d
		}
	}
	return ctx
}

func (c hookChain) After(ctx context.Context, e Event) {
	for i := len(c) - 1; i >= 0; i-- {
		c[i].After(ctx, e)
	}
}

// initHook sets db.hook from the options: nil without an observer or
// hooks, so that every statement pays one nil check for the feature.
func (db *DB) initHook() {
	var hs hookChain
	if db.observer != nil {
		hs = append(hs, observerHook(db.observer))
	}
	// The observer first: its Before does nothing, and its After runs
	// last, after the hooks' (see hookChain).
	hs = append(hs, db.hooks...)
	switch len(hs) {
	case 0:
		db.hook = nil
	case 1:
		db.hook = hs[0]
	default:
		db.hook = hs
	}
}

// SlogObserver returns an [Observer] that logs every statement to l at
// debug level, statements slower than slow at warn level, and failed
// statements at error level.
func SlogObserver(l *slog.Logger, slow time.Duration) Observer {
	return func(ctx context.Context, e Event) {
		level := slog.LevelDebug
		msg := "sqlgen: statement"
		switch {
		case e.Err != nil:
			level, msg = slog.LevelError, "sqlgen: statement failed"
		case slow > 0 && e.Duration >= slow:
			level, msg = slog.LevelWarn, "sqlgen: slow statement"
		}
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("table", e.Table), slog.String("op", e.Op), slog.String("sql", e.SQL),
			slog.Int("args", e.Args), slog.Duration("duration", e.Duration), slog.Int64("rows", e.Rows),
		}
		if e.Replica != 0 {
			attrs = append(attrs, slog.Int("replica", e.Replica))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.Any("error", e.Err))
		}
		l.LogAttrs(ctx, level, msg, attrs...)
	}
}

// before reports a statement about to be sent to the DB's hook, which
// must not be nil (callers check db.hook first, so that a DB without one
// pays nothing), and returns the context to send it with and its start.
func (db *DB) before(ctx context.Context, table, op, query string, nargs int) (context.Context, time.Time) {
	if d := db.hook.Before(ctx, Event{Table: table, Op: op, SQL: query, Args: nargs, Replica: db.replicaNo, Server: db.serverName()}); d != nil {
		ctx = d
	}
	return ctx, time.Now()
}

// after reports a statement that ended to the DB's hook; ctx is the one
// before returned.
func (db *DB) after(ctx context.Context, table, op, query string, nargs int, start time.Time, rows int64, err error) {
	db.hook.After(ctx, Event{Table: table, Op: op, SQL: query, Args: nargs, Duration: time.Since(start), Rows: rows, Err: err, Replica: db.replicaNo, Server: db.serverName()})
}

// serverName is Event.Server: the server's family as far as the DB knows.
func (db *DB) serverName() string {
	switch serverKind(db.dialect.kind.Load()) {
	case kindMySQL:
		return "mysql"
	case kindMariaDB:
		return "mariadb"
	case kindTiDB:
		return "tidb"
	}
	return ""
}
