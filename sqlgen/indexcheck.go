package sqlgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoIndex is wrapped by the error of a DB made with
// [DB.RefuseFullScans] for a read that would use no index.
var ErrNoIndex = errors.New("sqlgen: query uses no index")

// RefuseFullScans returns a copy of db that runs EXPLAIN before each read
// and refuses, with an error wrapping [ErrNoIndex] that names the table and
// the SQL, a read that would scan the whole table with no index. Set
// [SelectOptions].AllowNoIndex, or use [DB.FullScanQuery], for the reads
// that mean to. It understands the EXPLAIN output of MySQL 8 and MariaDB.
// The extra statement per read makes it a tool for tests and staging
// rather than for production.
func (db *DB) RefuseFullScans() *DB {
	cp := *db
	cp.refuseFullScans = true
	return &cp
}

// checkIndex runs EXPLAIN for query, reported to the hook with Op
// "explain", and fails if a table in the plan is read with a full scan.
func (db *DB) checkIndex(ctx context.Context, t *table, query string, args []any) error {
	q := "EXPLAIN " + query
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, t.name, "explain", q, len(args))
	}
	n, err := db.explain(ctx, t, query, q, args)
	if db.hook != nil {
		// A plan that shows a full scan is the guard's verdict, not
		// the statement's error.
		serr := err
		if errors.Is(err, ErrNoIndex) {
			serr = nil
		}
		db.after(ctx, t.name, "explain", q, len(args), start, n, serr)
	}
	return err
}

// explain runs q, the EXPLAIN of query, and reads its plan: an error
// wrapping [ErrNoIndex] when it shows a full scan. It returns the rows of
// the plan read.
func (db *DB) explain(ctx context.Context, t *table, query, q string, args []any) (int64, error) {
	rows, err := db.queryDirect(ctx, q, args)
	if err != nil {
		return 0, fmt.Errorf("sqlgen: EXPLAIN on table %q: %w", t.name, err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("sqlgen: EXPLAIN on table %q: %w", t.name, err)
	}
	vals := make([]sql.NullString, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	col := func(name string) string {
		for i, n := range names {
			if strings.EqualFold(n, name) {
				return vals[i].String
			}
		}
		return ""
	}
	// TiDB's EXPLAIN has no type column: its plan names operators
	// (TableFullScan, IndexRangeScan, Point_Get) in the id column.
	var tidb *tidbPlan
	if !hasColumn(names, "type") && hasColumn(names, "id") && hasColumn(names, "access object") {
		tidb = &tidbPlan{}
	}
	var problem string
	var n int64
	for rows.Next() {
		n++
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("sqlgen: EXPLAIN on table %q: %w", t.name, err)
		}
		if tidb != nil {
			tidb.row(col("id"), col("access object"))
			continue
		}
		if p := fullScan(col("type"), col("key"), col("Extra")); p != "" && problem == "" {
			problem = p
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("sqlgen: EXPLAIN on table %q: %w", t.name, err)
	}
	if tidb != nil {
		problem = tidb.result()
	} else if !hasColumn(names, "type") {
		// A plan this guard cannot read must not pass as an indexed one.
		return n, fmt.Errorf("sqlgen: EXPLAIN on table %q: its columns %v are neither MySQL's, MariaDB's nor TiDB's; the full-scan guard cannot read the plan: %w", t.name, names, ErrUnsupported)
	}
	if problem != "" {
		return n, fmt.Errorf("sqlgen: read of table %q would %s (set AllowNoIndex or use FullScanQuery if that is intended): %s: %w", t.name, problem, query, ErrNoIndex)
	}
	return n, nil
}

// fullScan interprets one row of EXPLAIN (the same columns in MySQL 8 and
// MariaDB: type, key, Extra) and describes the full scan it shows, or
// returns "".
func fullScan(typ, key, extra string) string {
	lower := strings.ToLower(extra)
	for _, fine := range []string{"impossible where", "no matching", "const row not found", "no tables used", "select tables optimized away", "unique row not found"} {
		if strings.Contains(lower, fine) {
			return ""
		}
	}
	switch strings.ToLower(typ) {
	case "all":
		return "scan the whole table (EXPLAIN type ALL)"
	case "index":
		if key == "" {
			return "scan the whole table"
		}
		if !strings.Contains(lower, "using where") {
			return "" // a covering read of a whole index, no condition to check
		}
		return "scan the whole index " + key + " (EXPLAIN type index)"
	case "system", "const", "eq_ref", "ref", "ref_or_null", "range", "fulltext", "index_merge", "unique_subquery", "index_subquery":
		return ""
	}
	if key == "" && typ != "" {
		return "use no index (EXPLAIN type " + typ + ")"
	}
	return ""
}

// hasColumn reports whether names holds name, in any case.
func hasColumn(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
