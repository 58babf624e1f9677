// Package live follows a MySQL or MariaDB server's binary log and turns it
// into live queries over the types of a [sqlgen.Schema]: [Feed.Changes]
// streams each committed row change as the registered struct type (before
// and after images), and [Watch] yields a filter's rows now and again after
// every committed change that touches a matching row, as thunder's livesql
// did for GraphQL subscriptions, with no polling.
//
//	feed, err := live.Open(ctx, "repl:pw@tcp(db:3306)/app", schema)
//	if err != nil { ... }
//	defer feed.Close()
//	for users, err := range live.Watch[User](ctx, feed, db, sqlgen.Filter{"org_id": 7}) {
//		if err != nil { ... }
//		push(users)
//	}
//
// # Server
//
// The server needs a binary log in row format with full images and column
// names: log_bin, binlog_format=ROW, binlog_row_image=FULL,
// binlog_row_metadata=FULL (MariaDB 10.5+, MySQL 8.0.1+) and a server_id;
// MySQL also needs gtid_mode=ON. The feed's user needs REPLICATION SLAVE
// (REPLICATION REPLICA) and SELECT on the tables. [Open] checks all of it
// and names what is missing in an error wrapping [ErrServerConfig].
//
// # Guarantees
//
//   - Every committed transaction is delivered once, in commit order, the
//     changes of one transaction together. After a dropped replication
//     connection the feed reconnects from the GTID position after the last
//     transaction it delivered ([Feed.Position]); a position the server
//     has purged ends the feed with an error wrapping [ErrPurged].
//   - A transaction is delivered only once its commit is visible to other
//     sessions: servers (MariaDB's group commit, MySQL's too) send a
//     transaction's events before the commit is visible, so the feed first
//     reads the rows it touched with LOCK IN SHARE MODE, which waits for
//     the writer's row locks (for at most 2s: a lock held that long is a
//     later transaction's, which proves the logged one committed). A
//     [Watch] result re-read after a change therefore includes it.
//   - A [Watch] registers before its first read, so a change committed
//     between that read and the stream triggers a re-read: no result is
//     stale.
//   - Columns are mapped by name (from the table map's metadata), so ALTER
//     TABLE adding or reordering columns while the feed runs is handled; a
//     registered column missing from the table is an error in the stream.
//   - Values decode as a read of the row decodes them: each row image goes
//     through [sqlgen.Schema.BuildStruct], DECIMAL, DATE, DATETIME and TIME
//     as the text a read sends, TIMESTAMP as its UTC instant, text columns
//     converted to UTF-8 from their character set (utf8mb4, utf8mb3,
//     latin1, ascii, binary), ENUM and SET as their names, JSON as text
//     (MariaDB logs text; MySQL's binary JSON is converted).
//   - Matching follows [sqlgen.Schema.MakeTester]: a change touches a
//     watch when its before or after image matches the filter.
//
// Watchers are indexed by the equality value of one filter column each
// (integer or string columns, single values and IN lists), so a change is
// tested against the watchers whose value it carries plus those whose
// filter has no indexable column.
package live
