package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// The operations, in report order.
const (
	OpRead        = "Read"        // one row by primary key
	OpReadWhere   = "ReadWhere"   // one row by a filter on two columns
	OpReadSlice   = "ReadSlice"   // SliceLimit rows
	OpInsert      = "Insert"      // one row, id assigned by the server
	OpInsertMulti = "InsertMulti" // MultiRows rows in one call
	OpUpdate      = "Update"      // every column of one row, by key
	OpDelete      = "Delete"      // one row, by key
	OpReadJSON    = "ReadJSON"    // one row of model B, by key, JSON decoded
	OpInsertJSON  = "InsertJSON"  // one row of model B, JSON encoded
)

// Ops lists the operations in report order.
var Ops = []string{OpRead, OpReadWhere, OpReadSlice, OpInsert, OpInsertMulti, OpUpdate, OpDelete, OpReadJSON, OpInsertJSON}

// Libs lists the libraries in report order.
var Libs = []string{"raw", "sqlgen", "sqlgen-gojson", "sqlx", "gorm", "bun"}

// PreparedLibs run on the real server only, on a connection with the
// driver's default DSN (interpolateParams off: a query with arguments is
// a prepare, an execute and a close): raw code as most services run it,
// and sqlgen with its statement cache (sqlgen.WithStmtCache).
var PreparedLibs = []string{"raw-prepared", "sqlgen-stmtcache"}

// Op runs one operation once. n is the iteration's argument: the id to
// delete for Delete, a fresh counter value for Update (so that every
// update changes the row), unused otherwise. Inputs are owned by the
// library and reused; outputs are allocated afresh by each call, as an
// application would.
type Op func(ctx context.Context, n int64) error

// Lib is one library's implementation of the operations, written the way
// its documentation recommends, with views of its last results for
// checking.
type Lib struct {
	Name string
	Ops  map[string]Op // missing: the library does not run that operation

	LastModel   func() Model   // result of the last Read or ReadWhere
	LastSlice   func() []Model // result of the last ReadSlice
	LastProfile func() Profile // result of the last ReadJSON
	InsertedIDs func() []int64 // ids written back by Insert, InsertJSON, and InsertMulti's rows, in that order
	Close       func() error   // releases what the library holds (prepared statements), or nil
}

// Check verifies the last result of op against the canonical rows.
func (l *Lib) Check(op string) error {
	switch op {
	case OpRead, OpReadWhere:
		return equalModel(l.LastModel(), ModelRow(ReadID))
	case OpReadSlice:
		ms := l.LastSlice()
		if len(ms) != SliceLimit {
			return fmt.Errorf("read %d rows, want %d", len(ms), SliceLimit)
		}
		for _, m := range ms {
			if err := equalModel(m, ModelRow(m.ID)); err != nil {
				return err
			}
		}
	case OpReadJSON:
		return equalProfile(l.LastProfile(), ProfileRow(ReadID))
	case OpInsert, OpInsertMulti, OpInsertJSON:
		all := l.InsertedIDs()
		ids := map[string][]int64{OpInsert: all[:1], OpInsertJSON: all[1:2], OpInsertMulti: all[2:]}[op]
		for i, id := range ids {
			if id == 0 {
				return fmt.Errorf("id %d of %d was not written back", i, len(ids))
			}
		}
	}
	return nil
}

// NewLib builds library name on conn; it never closes conn.
func NewLib(name string, conn *sql.DB) (*Lib, error) {
	switch name {
	case "raw":
		return newRaw(conn), nil
	case "raw-prepared":
		l := newRaw(conn)
		l.Name = name
		return l, nil
	case "sqlgen":
		return newSqlgen(conn, nil, name)
	case "sqlgen-stmtcache":
		return newSqlgen(conn, nil, name, sqlgen.WithStmtCache(64))
	case "sqlgen-gojson":
		return newSqlgen(conn, goJSONCodec{}, name)
	case "sqlx":
		return newSqlx(conn), nil
	case "gorm":
		return newGorm(conn)
	case "bun":
		return newBun(conn), nil
	}
	return nil, fmt.Errorf("unknown library %q", name)
}

// modelSlice converts a slice of a library's row pointers to canonical
// views.
func modelSlice[T any](rows []*T, view func(*T) Model) []Model {
	out := make([]Model, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out
}
