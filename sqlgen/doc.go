// Package sqlgen maps Go structs to MySQL and MariaDB tables, with
// first-class JSON columns: one struct per table, and a field such as
// Settings, tagged `sql:",json"`, stored as a JSON document, read and
// written with no second representation and no hand-written marshalling.
//
// # Registering types
//
// A [Schema] maps struct types to tables. Register each type once, at
// start-up:
//
//	schema := sqlgen.NewSchema()
//	schema.MustRegisterType("users", sqlgen.AutoIncrement, User{})
//
// Every exported field is a column, named by the snake_case of the field
// name with runs of capitals kept whole (OrgID is org_id, HTTPStatus is
// http_status, UserIDs is user_ids), unless its tag names it. The tag is
// `sql:"name,option,option"`:
//
//   - "-" skips the field; unexported fields are skipped too.
//   - primary marks a primary-key column; several make a composite key; at
//     least one is required. An [AutoIncrement] table has exactly one,
//     an integer assigned by the server.
//   - json, binary, string and implicitnull choose how the value is stored
//     (see package fields for the rules, including the JSON NULL rules).
//   - version marks the optimistic-locking version column, a plain integer
//     field outside the key (at most one): [DB.UpdateRow],
//     [DB.UpdateColumns] and [DB.DeleteRow] match the version read and
//     fail with [ErrConflict] when no row holds it; updates move it on.
//   - readonly marks a column that is read, filtered and ordered by but
//     never written, such as a generated column (refused on a key column).
//
// Anonymous struct fields (embedded by value) are flattened, as
// encoding/json does; an embedded pointer is refused. Anything the schema
// cannot map (an unknown option, an unsupported type, a duplicate column,
// no primary key, a table or type registered twice) fails at registration
// with an error wrapping [ErrBadSchema] that names the struct and field.
//
// Table and column names are checked at registration (letters, digits,
// '_' and '$') and always written backtick-quoted, so a column may be
// called `key` or `order`. Values are always bound as arguments, never
// formatted into SQL text.
//
// # Reading and writing
//
// [DB] wraps a *sql.DB: [DB.Query], [DB.QueryRow] and [DB.Count] read by
// [Filter] and [SelectOptions]; [DB.InsertRow], [DB.UpsertRow],
// [DB.UpdateRow] and [DB.DeleteRow] write one struct, by primary key.
// Filter values are converted through the column's field type first, so
// an int32 filters a BIGINT column, and only plain driver values reach
// the driver.
//
// Rows are read with a per-table pool of [fields.Scanner]s that write
// straight into the result struct's fields: no intermediate values, no map
// lookup or tag parsing per row. The SQL text of fixed statements is built
// once per table.
//
// [DB.InsertRows] and [DB.UpsertRows] write many rows with one multi-row
// INSERT per chunk, all or nothing: several chunks run in a transaction
// of their own unless the context carries the caller's. Typed helpers [Get] and [Select] wrap
// QueryRow and Query for new code. [SelectOptions].Order sorts by columns
// checked against the schema; Where and OrderBy are raw SQL and must never
// carry user input.
//
// [Iter] streams the rows of a read one at a time, in memory that does
// not grow with the result. [SelectOptions].Columns reads a subset of the
// columns, Offset skips rows, and After reads the page after a row by
// keyset (the rows after that row in Order, the primary key breaking
// ties; [DB.Cursor] takes its values from a row).
//
// # Batched reads
//
// Under a context from [WithBatching], concurrent QueryRow and Query calls
// on the same table with equality filters on integer, bool or NULL values
// and no options are merged into one statement (col IN (...), or
// (a=? AND b=?) OR ...), and each caller gets exactly its own rows, its
// own errors and structs it shares with no other caller: the N+1 queries
// of GraphQL resolvers become one per level. A QueryRow is merged only by
// its primary key, so it never reads more than the row it asks for.
//
// # Guard rails
//
// [DB.WithShardLimit] and [DB.WithDynamicLimit] return copies of a DB
// that refuse reads not pinned to a tenant's column values and writes of
// rows outside them ([ErrLimit]); their UpdateRow and DeleteRow match
// only the tenant's rows, and their upserts never modify another
// tenant's row (the call fails with [ErrLimit] and writes nothing).
// These promises, like the all-or-nothing batches, need InnoDB tables,
// a strict sql_mode and utf8mb4 text columns, which [Schema.Check]
// verifies. [DB.RefuseFullScans] returns a copy that
// runs EXPLAIN first and refuses reads that would use no index
// ([ErrNoIndex]); [DB.FullScanQuery] reads anyway.
//
// # Schema tooling and rows outside the database
//
// [Schema.CreateTableSQL] writes the CREATE TABLE of a registered type;
// [Schema.Check] compares every registered table with the live database
// and lists every difference in one [*DriftError]. [Schema.BuildStruct]
// and [Schema.UnbuildStruct] convert between structs and driver values in
// column order (for change-data-capture consumers); [Schema.MakeTester]
// evaluates a Filter against a struct in memory.
//
// # Performance
//
// [WithStmtCache] keeps prepared statements per SQL text, saving the
// prepare and close round trips of go-sql-driver/mysql's default DSN. The
// SQL text of reads without options is cached per filter shape, so a
// repeated read by key builds no SQL and allocates as much as the same
// read written by hand.
//
// # Observability
//
// [WithObserver] reports every statement the DB sends (table, operation,
// SQL, argument count, duration, rows, error): reads and writes, the
// BEGIN, COMMIT and ROLLBACK of the transactions it begins, the prepares
// of the statement cache, its EXPLAINs and its look-ups of the server's
// settings (see [Hook] for the list and what database/sql does unseen);
// [SlogObserver] logs them with log/slog. [WithHook] is called before
// and after each statement, and may put a span in the statement's
// context: the nested module github.com/seed-b2691315/sqlgen/otel traces
// statements with OpenTelemetry on it. A DB without an observer or a hook
// pays nothing for them.
//
// # Transactions
//
// [DB.WithTx] begins a transaction and returns a context carrying it;
// every DB method given that context runs inside the transaction, and the
// caller commits or rolls back. [DB.WithExistingTx] attaches a transaction
// the caller began. [DB.Transact] commits or rolls back around a function,
// and [DB.TransactWithRetry] runs it again after a deadlock or lock wait
// timeout ([IsRetryable]). A context carries at most one transaction per
// *sql.DB: DBs on other *sql.DBs neither see nor use it.
//
// # Contexts and cancellation
//
// When the context of a call is done, its error wraps ctx.Err(), whatever
// failed first. When a context ends while the server runs a statement,
// the DB stops the statement on the server with KILL QUERY (go-sql-driver/mysql
// only drops the connection, and the server would run the statement to
// its end); [WithoutServerCancel] turns that off. Contexts that cannot end
// pay nothing for it.
//
// # Read replicas
//
// [WithReplicas] sends the reads made outside a transaction and without
// ForUpdate to replicas, in turn, and everything else to the primary;
// [OnPrimary] keeps a context's reads on the primary, and under
// [WithReadYourWrites] a read waits for a replica to have the context's
// writes (by GTID), or goes to the primary. A replica that fails or lags
// ([ReplicaOptions]) is skipped for a while and the read runs again
// elsewhere: callers never see a replica's fault.
//
// # Testing
//
// Package sqlgentest gives each test a database of its own on a real
// server, dropped when the test ends.
//
// # Errors
//
// Errors wrap the sentinels in errors.go ([ErrNotRegistered],
// [ErrUnknownColumn], [ErrTooManyRows], ...), the fields package's
// [*fields.Error] for values that do not convert (naming table, column and
// field), or the driver's error, so errors.Is and errors.As reach all of
// them. No matching row in [DB.QueryRow] satisfies
// errors.Is(err, sql.ErrNoRows). A statement too large for the server's
// max_allowed_packet (its text and values, as the driver sends them; on
// TiDB also a value or row past its entry size limit) is refused before it
// is sent ([ErrTooLarge]), so the server never drops a pooled connection
// over it. See [OnVitess] for Vitess.
package sqlgen
