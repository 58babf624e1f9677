package sqlgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
	"unsafe"
)

// DB runs the schema's statements on a *sql.DB, or on the transaction
// carried by the context of each call. It is safe for concurrent use.
// Methods such as [DB.WithShardLimit] return configured copies; the
// original is unchanged.
type DB struct {
	conn            *sql.DB
	schema          *Schema
	observer        Observer // WithObserver
	hooks           []Hook   // WithHook
	hook            Hook     // the observer and the hooks as one, nil without (see observe.go)
	tenant          *tenantLimit
	refuseFullScans bool
	stmts           *stmtCache
	dialect         *dialect
	noServerCancel  bool           // WithoutServerCancel
	serverCancel    bool           // stop statements on the server when their context ends (see cancel.go)
	replicas        *replicaSet    // WithReplicas, nil without (see replica.go)
	replicaOpts     ReplicaOptions // WithReplicaOptions
	replicaNo       int            // on a copy that runs on a replica: its number (1, ...), for the hook
}

// smallArgs is how many arguments of a one-row write fit a buffer on the
// stack before a heap slice is needed.
const smallArgs = 16

// Option configures a [DB].
type Option func(*DB)

// NewDB returns a DB that maps the types of schema onto conn.
func NewDB(conn *sql.DB, schema *Schema, opts ...Option) *DB {
	db := &DB{conn: conn, schema: schema, dialect: &dialect{}}
	for _, o := range opts {
		o(db)
	}
	db.serverCancel = !db.noServerCancel && isMySQL(conn)
	db.initHook()
	if db.replicas != nil {
		db.initReplicas()
	}
	return db
}

// Conn returns the underlying *sql.DB.
func (db *DB) Conn() *sql.DB { return db.conn }

// Schema returns the schema the DB was made with.
func (db *DB) Schema() *Schema { return db.schema }

// exec runs a write statement of t where ctx says (the context's
// transaction, the statement cache or the pool: see run.go), reporting it
// to the hook.
func (db *DB) exec(ctx context.Context, t *table, op, query string, args []any) (sql.Result, error) {
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, t.name, op, query, len(args))
	}
	res, err := db.runExec(ctx, t.name, query, args)
	if err == nil && db.hook == nil {
		return res, nil
	}
	return db.execDone(ctx, t, op, query, len(args), start, res, err)
}

// execOn is exec on a connection or transaction of the caller's choosing.
func (db *DB) execOn(ctx context.Context, ex execQuerier, t *table, op, query string, args []any) (sql.Result, error) {
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, t.name, op, query, len(args))
	}
	res, err := db.execOnConn(ctx, ex, t.name, query, args)
	return db.execDone(ctx, t, op, query, len(args), start, res, err)
}

// execDone wraps the error of a statement (with the context's error too
// when ctx is done: see [withCtxErr]) and reports it to the hook.
func (db *DB) execDone(ctx context.Context, t *table, op, query string, nargs int, start time.Time, res sql.Result, err error) (sql.Result, error) {
	if err != nil {
		err = fmt.Errorf("sqlgen: %s on table %q: %w", op, t.name, withCtxErr(ctx, err))
		db.connFailed(ctx, err)
	}
	if db.hook != nil {
		n := int64(-1)
		if err == nil {
			if a, aerr := res.RowsAffected(); aerr == nil {
				n = a
			}
		}
		db.after(ctx, t.name, op, query, nargs, start, n, err)
	}
	return res, err
}

// writeRow checks row, a *T, and the DB's limit, and returns its table,
// its struct value and the guard its statement must keep to (nil without
// a limit, see [limit.writeGuard]).
func (db *DB) writeRow(ctx context.Context, row any, method string) (*table, reflect.Value, *guard, error) {
	t, sv, err := db.schema.structPtr(row, method)
	if err != nil {
		return nil, sv, nil, fmt.Errorf("sqlgen: %w", err)
	}
	var g *guard
	if db.tenant != nil {
		if g, err = db.tenant.writeGuard(ctx, t, sv); err != nil {
			return nil, sv, nil, err
		}
	}
	return t, sv, g, nil
}

// InsertRow inserts row, a *T for a registered struct T. On an
// AutoIncrement table whose key field is zero, the key column is left out
// so the server assigns it, and the new id is written back into the field
// (a uint64 field holds every id of a BIGINT UNSIGNED column).
//
// An error means the row was not inserted, except one wrapping
// [ErrRowsWritten]: the row was inserted but its new id could not be read
// or does not fit the field (an int64 field on a BIGINT UNSIGNED column
// past MaxInt64, say, which [Schema.Check] reports); the error says so
// and gives the id, and the field is left zero.
func (db *DB) InsertRow(ctx context.Context, row any) (sql.Result, error) {
	t, sv, _, err := db.writeRow(ctx, row, "InsertRow")
	if err != nil {
		return nil, err
	}
	if t.version != nil {
		return withFirstVersion(t, sv, func() (sql.Result, error) { return db.insertRow(ctx, t, sv) })
	}
	return db.insertRow(ctx, t, sv)
}

// withFirstVersion runs insert with row sv's version field set to 1 when
// it is zero, and back to zero if the row was not written.
func withFirstVersion(t *table, sv reflect.Value, insert func() (sql.Result, error)) (sql.Result, error) {
	f, v := t.versionOf(sv)
	if v != 0 {
		return insert()
	}
	setVersion(f, 1)
	res, err := insert()
	if err != nil && !errors.Is(err, ErrRowsWritten) {
		setVersion(f, 0)
	}
	return res, err
}

func (db *DB) insertRow(ctx context.Context, t *table, sv reflect.Value) (sql.Result, error) {
	query, skip := t.insertSQL, (*column)(nil)
	var idField reflect.Value
	if t.autoInc != nil {
		idField = t.autoInc.fieldOf(sv)
		if idField.IsZero() {
			query, skip = t.insertAutoSQL, t.autoInc
		}
	}
	var buf [smallArgs]any
	args, err := t.rowValues(buf[:0], sv, t.writable, skip)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: InsertRow into table %q: %w", t.name, err)
	}
	if _, err := db.checkValues(ctx, nil, t, t.writable, skip, args); err != nil {
		return nil, err
	}
	res, err := db.exec(ctx, t, "insert", query, args)
	if err != nil {
		return nil, err
	}
	if skip != nil {
		id, err := res.LastInsertId()
		if err != nil {
			return res, fmt.Errorf("sqlgen: InsertRow into table %q: the row was inserted, but reading its new id failed: %w: %w", t.name, ErrRowsWritten, err)
		}
		if err := setID(idField, uint64(id)); err != nil {
			return res, fmt.Errorf("sqlgen: InsertRow into table %q: the row was inserted with id %d, but field %s cannot hold it: %w: %w", t.name, uint64(id), t.autoInc.field, ErrRowsWritten, err)
		}
	}
	return res, nil
}

// setID stores id, a new AUTO_INCREMENT id, in integer field f. The driver
// reports ids as int64 whose bits are the server's unsigned id: the
// caller passes uint64(id).
func setID(f reflect.Value, id uint64) error {
	switch f.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if f.OverflowUint(id) {
			return fmt.Errorf("id %d does not fit a %v: %w", id, f.Type(), ErrConvert)
		}
		f.SetUint(id)
	default:
		if id > math.MaxInt64 || f.OverflowInt(int64(id)) {
			return fmt.Errorf("id %d does not fit a %v: %w", id, f.Type(), ErrConvert)
		}
		f.SetInt(int64(id))
	}
	return nil
}

// UpsertRow inserts row, a *T, or, when a row with the same primary or
// unique key exists, updates its other columns (INSERT ... ON DUPLICATE
// KEY UPDATE). It is refused on AutoIncrement tables, whose keys come from
// the server.
//
// On a DB with a limit ([DB.WithShardLimit]), the row must hold the
// limit's values, and the statement updates an existing row only if it
// holds them too: when the key is taken by a row outside the limit, that
// row is left unchanged, nothing is written, and the error wraps
// [ErrLimit]. The limited columns themselves are never assigned by the
// update.
func (db *DB) UpsertRow(ctx context.Context, row any) (sql.Result, error) {
	t, sv, g, err := db.writeRow(ctx, row, "UpsertRow")
	if err != nil {
		return nil, err
	}
	if t.pk == AutoIncrement {
		return nil, fmt.Errorf("sqlgen: UpsertRow on AutoIncrement table %q: %w", t.name, ErrUnsupported)
	}
	if t.version != nil {
		return withFirstVersion(t, sv, func() (sql.Result, error) { return db.upsertRow(ctx, t, sv, g) })
	}
	return db.upsertRow(ctx, t, sv, g)
}

func (db *DB) upsertRow(ctx context.Context, t *table, sv reflect.Value, g *guard) (sql.Result, error) {
	var buf [smallArgs]any
	args, err := t.rowValues(buf[:0], sv, t.writable, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: UpsertRow into table %q: %w", t.name, err)
	}
	if _, err := db.checkValues(ctx, nil, t, t.writable, nil, args); err != nil {
		return nil, err
	}
	if g == nil {
		return db.exec(ctx, t, "upsert", t.upsertSQL, args)
	}
	res, err := db.exec(ctx, t, "upsert", g.sql.upsertSQL, args)
	if err != nil {
		return nil, err
	}
	if err := g.checkUpsert(t, "UpsertRow", res, 1); err != nil {
		var ce *collisionError
		if errors.As(err, &ce) && db.tenant.verdict(ctx, t, err) == nil {
			// Let through: the upsert runs as without the limit.
			return db.exec(ctx, t, "upsert", t.upsertSQL, args)
		}
		return nil, err
	}
	return res, nil
}

// UpdateRow writes every non-key column of row, a *T, to the row with the
// same primary key. Updating a row that does not exist is not an error
// (MySQL cannot tell it from an update that changed nothing unless the DSN
// sets clientFoundRows=true). On a DB with a limit, the row must hold the
// limit's values and the statement also matches them (WHERE id=? AND
// org_id=?): a row of another tenant with that key is not touched, as if
// it did not exist.
func (db *DB) UpdateRow(ctx context.Context, row any) error {
	t, sv, g, err := db.writeRow(ctx, row, "UpdateRow")
	if err != nil {
		return err
	}
	if t.updateSQL == "" {
		return fmt.Errorf("sqlgen: UpdateRow on table %q, which has only key columns: %w", t.name, ErrUnsupported)
	}
	var buf [smallArgs]any
	// The SET columns, then the key: one copy of the row for both.
	args, err := t.rowValues(buf[:0], sv, t.updateCols, nil)
	if err != nil {
		return fmt.Errorf("sqlgen: UpdateRow of table %q: %w", t.name, err)
	}
	if _, err := db.checkValues(ctx, nil, t, t.setCols, nil, args); err != nil {
		return err
	}
	query := t.updateSQL
	if g != nil {
		query, args = g.sql.updateSQL, g.appendPins(args)
	}
	res, err := db.exec(ctx, t, "update", query, args)
	if err != nil || t.version == nil {
		return err
	}
	return t.versionMatched(sv, res, "UpdateRow", true)
}

// versionMatched checks, from res, that the statement of method matched
// row sv by its key and version, and with bump moves the row's version
// on as the statement did. No row is [ErrConflict].
func (t *table) versionMatched(sv reflect.Value, res sql.Result, method string, bump bool) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlgen: %s of table %q: reading the rows affected to check version %s: %w", method, t.name, t.version.field, err)
	}
	f, v := t.versionOf(sv)
	if n == 0 {
		return fmt.Errorf("sqlgen: %s of table %q: no row has this key and %s = %d: %w", method, t.name, t.version.name, v, ErrConflict)
	}
	if bump {
		setVersion(f, v+1)
	}
	return nil
}

// DeleteRow deletes the row with the primary key of row, a *T. Deleting a
// row that does not exist is not an error. On a DB with a limit, the row
// must hold the limit's values and the statement also matches them: a row
// of another tenant with that key is not deleted.
func (db *DB) DeleteRow(ctx context.Context, row any) error {
	if t, p := db.schema.cachedRow(row); t != nil && t.deleteSmall && db.tenant == nil {
		// The common case: a type seen before, no limit, a small key of
		// plain integers that surely fits; their values are read
		// without reflection.
		var buf [maxSmallDelete]any
		args := buf[:0]
		for _, c := range t.deleteCols {
			args = append(args, c.fast.load(unsafe.Add(p, c.offset)))
		}
		res, err := db.exec(ctx, t, "delete", t.deleteSQL, args)
		if err != nil || t.version == nil {
			return err
		}
		return t.versionMatched(reflect.NewAt(t.typ, p).Elem(), res, "DeleteRow", false)
	}
	t, sv, g, err := db.writeRow(ctx, row, "DeleteRow")
	if err != nil {
		return err
	}
	var buf [smallArgs]any
	args, err := t.rowValues(buf[:0], sv, t.deleteCols, nil)
	if err != nil {
		return fmt.Errorf("sqlgen: DeleteRow of table %q: %w", t.name, err)
	}
	query := t.deleteSQL
	if g != nil {
		query, args = g.sql.deleteSQL, g.appendPins(args)
	}
	if _, err := db.checkValues(ctx, nil, t, t.deleteCols, nil, args); err != nil {
		return err
	}
	res, err := db.exec(ctx, t, "delete", query, args)
	if err != nil || t.version == nil {
		return err
	}
	return t.versionMatched(sv, res, "DeleteRow", false)
}
