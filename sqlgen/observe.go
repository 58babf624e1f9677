package sqlgen

import (
	"context"
	"log/slog"
	"time"
)

// Event describes one statement the DB ran, for an [Observer].
type Event struct {
	Table    string        // the table the statement is about
	Op       string        // "query", "count", "insert", "upsert", "update", "delete", "batch insert", "batch upsert", "savepoint", "rollback to savepoint", "kill"
	SQL      string        // the statement text, with ? placeholders
	Args     int           // the number of bound arguments
	Duration time.Duration // from sending the statement to reading its last row
	Rows     int64         // rows read (reads) or affected (writes), -1 if unknown
	Err      error         // the statement's error, if any
	Replica  int           // the replica that ran it: 1 for the first of WithReplicas, ...; 0 for the primary
}

// Observer is called once for every statement a DB runs, after it ends, on
// the goroutine that ran it. It must be safe for concurrent use and quick.
// The KILL QUERY that stops a statement whose context ended (see
// [WithoutServerCancel]) is reported with Op "kill" and the table of the
// statement it stops, from the goroutine that sent it, with the ended
// context. An UpsertRows of a tenant-limited DB ([DB.WithShardLimit],
// [DB.WithDynamicLimit]) in the caller's transaction reports its SAVEPOINT
// and ROLLBACK TO SAVEPOINT (Op "savepoint", "rollback to savepoint"); the
// SELECT @@SESSION.auto_increment_increment of an InsertRows is a "query".
// The BEGIN, COMMIT and ROLLBACK of transactions go through database/sql's
// *sql.Tx and are not reported; neither are the prepares of
// [WithStmtCache], the EXPLAIN of [DB.RefuseFullScans], the server look-ups
// (VERSION(), @@max_allowed_packet) nor the SELECT CONNECTION_ID() read
// once per connection for server-side cancellation, nor, with read
// replicas, the lag checks, the GTID positions read and the waits for
// them. A read that fails on a replica and runs again elsewhere is
// reported once per server it ran on.
type Observer func(ctx context.Context, e Event)

// WithObserver calls o for every statement. A DB without an observer pays
// nothing for the feature.
func WithObserver(o Observer) Option {
	return func(db *DB) { db.observer = o }
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

// observe reports a finished statement to the observer, if any.
func (db *DB) observe(ctx context.Context, t *table, op, query string, args int, start time.Time, rows int64, err error) {
	db.observer(ctx, Event{Table: t.name, Op: op, SQL: query, Args: args, Duration: time.Since(start), Rows: rows, Err: err, Replica: db.replicaNo})
}
