// Package sqlgenotel traces the statements of a [sqlgen.DB] with
// OpenTelemetry.
//
//	db := sqlgen.NewDB(conn, schema, sqlgenotel.WithTracing(otel.GetTracerProvider()))
//
// Every statement the DB sends becomes one span of kind client, the child
// of the span in the call's context: started just before the statement is
// sent and ended once it is over, for a read once its last row is read.
// That covers the reads and writes, the BEGIN, COMMIT and ROLLBACK of the
// transactions sqlgen begins, the prepares of [sqlgen.WithStmtCache], the
// EXPLAIN of [sqlgen.DB.RefuseFullScans], the look-ups sqlgen makes of the
// server, the KILL QUERY of server-side cancellation and, with read
// replicas, their lag checks and GTID waits: see [sqlgen.Hook] for the
// list, and for what database/sql does by itself and is not seen.
//
// Spans follow OpenTelemetry's semantic conventions for database client
// spans (semconv v1.40.0):
//
//   - the span's name is db.operation.name and the table, such as
//     "SELECT users" ("BEGIN" alone when no table);
//   - db.system.name is "mariadb" when the DB knows its server is MariaDB,
//     "mysql" otherwise (MySQL, TiDB, which speaks as MySQL 8.0, and a
//     server whose family the DB has not asked yet: it reads VERSION()
//     only when a statement depends on it; give [sqlgen.WithServerVersion]
//     for every span to name MariaDB);
//   - db.collection.name is the table, when the statement is about one;
//   - db.operation.name is the statement's first keyword, upper case
//     (SELECT, INSERT, UPDATE, DELETE, BEGIN, COMMIT, ROLLBACK, EXPLAIN,
//     SHOW, KILL, SAVEPOINT), PREPARE for a prepare;
//   - db.query.text is the statement's text with its ? placeholders:
//     argument values are never recorded;
//   - db.response.returned_rows is the rows a statement that returns rows
//     read;
//   - a failed statement sets the span's status to Error and records the
//     error as an event, with error.type (the Go type of the error, or
//     the MySQL error number as db.response.status_code).
//
// sqlgen.replica is set to the replica's number on the spans of
// statements a replica ran ([sqlgen.WithReplicas]).
//
// A DB without tracing pays nothing: the hook is called only by DBs made
// with it.
package sqlgenotel
