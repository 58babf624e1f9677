package sqlgen

import (
	"errors"
	"reflect"

	"github.com/seed-b2691315/sqlgen/fields"
)

// Sentinel errors. Every error this package returns wraps one of these, an
// error of the fields package, or the driver's error (a *mysql.MySQLError
// stays reachable with errors.As), and says which table, column or field it
// is about.
var (
	// ErrBadSchema is wrapped by every registration error.
	ErrBadSchema = errors.New("sqlgen: bad schema")
	// ErrNotRegistered means a type or table name is not in the schema.
	ErrNotRegistered = errors.New("sqlgen: not registered")
	// ErrUnknownColumn means a filter names a column the table does not
	// have.
	ErrUnknownColumn = errors.New("sqlgen: unknown column")
	// ErrInvalidArgument means an argument has the wrong shape, such as a
	// result that is not a *[]*T.
	ErrInvalidArgument = errors.New("sqlgen: invalid argument")
	// ErrTooManyRows is returned by QueryRow when more than one row
	// matches.
	ErrTooManyRows = errors.New("sqlgen: more than one row")
	// ErrTxInProgress means a transaction is already carried by the
	// context.
	ErrTxInProgress = errors.New("sqlgen: transaction already in progress")
	// ErrUnsupported means the operation cannot be done on this table,
	// such as an upsert on an AutoIncrement table.
	ErrUnsupported = errors.New("sqlgen: unsupported operation")
	// ErrTooLarge means a statement (with its values, as the driver
	// sends it) would not fit the server's max_allowed_packet, or on TiDB
	// a value or a row's values together would reach its
	// txn-entry-size-limit: it is refused before it is sent.
	ErrTooLarge = errors.New("sqlgen: larger than the server's max_allowed_packet")
	// ErrRowsWritten is wrapped by the error of a write that failed after
	// its rows were written (committed, or written in the caller's
	// transaction), such as an insert whose new AUTO_INCREMENT id does not
	// fit the key field: do not retry it as it is, or the rows are
	// written twice. No other error of a write means its rows were
	// written, except a failed COMMIT, whose outcome the server may not
	// have reported.
	ErrRowsWritten = errors.New("sqlgen: the rows were written")
	// ErrCrossShard means a batch write on a DB made with [OnVitess]
	// holds rows of several shards, where it would not be atomic: it is
	// refused before anything is sent.
	ErrCrossShard = errors.New("sqlgen: batch spans shards")

	// ErrConflict is wrapped by the error of an UpdateRow or DeleteRow of
	// a table with a version column (`sql:",version"`) when no row has
	// the row's key and the version it holds: another writer changed or
	// deleted the row since it was read (or it never existed). Read the
	// row again and retry.
	ErrConflict = errors.New("sqlgen: the row changed since it was read")
)

// Errors of the fields package, re-exported so that callers of sqlgen can
// branch on them without importing fields.
var (
	// ErrUnexpectedNull: SQL NULL read into a field that cannot hold it.
	ErrUnexpectedNull = fields.ErrUnexpectedNull
	// ErrConvert: a value does not fit its field or column.
	ErrConvert = fields.ErrConvert
	// ErrUnsupportedType: a Go type that cannot be a column.
	ErrUnsupportedType = fields.ErrUnsupportedType
)

// typeOf names the type of a caller's argument in an error message
// without letting the argument escape to the heap, as passing it to fmt
// would.
func typeOf(v any) string {
	if t := reflect.TypeOf(v); t != nil {
		return t.String()
	}
	return "nil"
}
