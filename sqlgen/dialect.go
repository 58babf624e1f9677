package sqlgen

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// jsonEquality is how the server compares a JSON column with a document.
type jsonEquality int32

const (
	jsonUnknown  jsonEquality = iota
	jsonEquals                // MariaDB 10.7+: JSON_EQUALS(col, ?)
	jsonCast                  // MySQL: col = CAST(? AS JSON)
	jsonContains              // older MariaDB: JSON_CONTAINS both ways (arrays compare as sets)
)

// dialect is what a DB has learned of its server, found out on first need
// and shared by the DB's copies.
type dialect struct {
	json       atomic.Int32 // a jsonEquality
	maxPacket  atomic.Int64 // @@max_allowed_packet, 0 until asked
	wire       atomic.Int32 // how the driver sends arguments without the statement cache (wireText, ...), 0 until asked
	kind       atomic.Int32 // a serverKind (see dialect_tidb.go)
	entryLimit atomic.Int64 // TiDB's txn entry size limit, 0 until asked
	vitess     *vitess      // set by OnVitess (see vitess.go), nil elsewhere
}

// jsonEquality returns how to compare JSON documents on db's server,
// asking the server's version the first time.
func (db *DB) jsonEquality(ctx context.Context) (jsonEquality, error) {
	if e := jsonEquality(db.dialect.json.Load()); e != jsonUnknown {
		return e, nil
	}
	var version string
	// On the caller's transaction if it has one: with every connection
	// of the pool held by a transaction, the pool itself would never
	// answer.
	if err := db.lookup(ctx, nil, "", "SELECT VERSION()", &version); err != nil {
		return jsonUnknown, fmt.Errorf("sqlgen: reading the server version: %w", err)
	}
	e := jsonEqualityFor(version)
	db.dialect.json.Store(int32(e))
	db.dialect.kind.Store(int32(serverKindFor(version)))
	return e, nil
}

// jsonEqualityFor picks the JSON comparison for a server VERSION() text,
// such as "10.11.6-MariaDB-0+deb12u1" or "8.0.36". TiDB ("8.0.11-TiDB-v7.5.0")
// has no JSON_EQUALS and takes MySQL's CAST(? AS JSON).
func jsonEqualityFor(version string) jsonEquality {
	if !strings.Contains(strings.ToLower(version), "mariadb") {
		return jsonCast
	}
	major, rest, _ := strings.Cut(version, ".")
	minor, _, _ := strings.Cut(rest, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 == nil && err2 == nil && (ma > 10 || ma == 10 && mi >= 7) {
		return jsonEquals
	}
	return jsonContains
}

// WithServerVersion tells the DB its server's version, as SELECT VERSION()
// would say it (such as "8.0.36" or "10.11.6-MariaDB"), so that it need
// not ask. The SQL for filters on JSON columns depends on it, and on TiDB
// ("8.0.11-TiDB-v7.5.0") the limits of [ErrTooLarge].
func WithServerVersion(version string) Option {
	return func(db *DB) {
		db.dialect.json.Store(int32(jsonEqualityFor(version)))
		db.dialect.kind.Store(int32(serverKindFor(version)))
	}
}
