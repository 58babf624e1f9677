package sqlgen

import (
	"context"
	"fmt"
	"strings"

	"github.com/seed-b2691315/sqlgen/fields"
)

// serverKind is the family of the server, as its VERSION() tells.
type serverKind int32

const (
	kindUnknown serverKind = iota
	kindMySQL
	kindMariaDB
	kindTiDB
)

// serverKindFor reads the family from a VERSION() text: TiDB says
// "8.0.11-TiDB-v7.5.0", MariaDB "10.11.6-MariaDB-0+deb12u1".
func serverKindFor(version string) serverKind {
	v := strings.ToLower(version)
	switch {
	case strings.Contains(v, "tidb"):
		return kindTiDB
	case strings.Contains(v, "mariadb"):
		return kindMariaDB
	}
	return kindMySQL
}

// serverKind returns the server's family, asking VERSION() through q the
// first time.
func (db *DB) serverKind(ctx context.Context, q execQuerier) (serverKind, error) {
	if k := serverKind(db.dialect.kind.Load()); k != kindUnknown {
		return k, nil
	}
	var version string
	if err := db.queryRowOn(ctx, q, "", "lookup", "SELECT VERSION()", nil, &version); err != nil {
		return kindUnknown, fmt.Errorf("sqlgen: reading the server version: %w", err)
	}
	k := serverKindFor(version)
	db.dialect.kind.Store(int32(k))
	return k, nil
}

// tidbDefaultEntryLimit is TiDB's default txn-entry-size-limit: the
// largest key-value entry (a row, all its columns encoded together) a
// transaction may write.
const tidbDefaultEntryLimit = 6 << 20

// valueLimits is the size of the largest value, and of the largest row,
// the server takes.
type valueLimits struct {
	value     int64  // a single string or byte value must be smaller
	valueName string // what sets value, for errors
	row       int64  // the values of one row together must be smaller; 0: no such limit
	rowName   string
}

// valueLimits returns the limits on the values of a write, asking the
// server through q the first time: max_allowed_packet everywhere, and on
// TiDB its entry size limit (tidb_txn_entry_size_limit, or when that is 0
// or unknown the config's txn-entry-size-limit, 6 MiB by default), which
// applies to a whole row and is usually the smaller. The packet checks
// ([DB.checkValues]) call it once a row's values pass entryCheckFrom.
func (db *DB) valueLimits(ctx context.Context, q execQuerier) (valueLimits, error) {
	packet, err := db.maxPacket(ctx, q)
	if err != nil {
		return valueLimits{}, err
	}
	l := valueLimits{value: packet, valueName: "max_allowed_packet"}
	kind, err := db.serverKind(ctx, q)
	if err != nil {
		return valueLimits{}, err
	}
	if kind != kindTiDB {
		return l, nil
	}
	entry := db.dialect.entryLimit.Load()
	if entry == 0 {
		var n int64
		// Since TiDB 7.6; before it, and at 0, the config's value
		// applies, which SQL cannot read: assume its default.
		if qErr := db.queryRowOn(ctx, q, "", "lookup", "SELECT @@tidb_txn_entry_size_limit", nil, &n); qErr != nil || n <= 0 {
			n = tidbDefaultEntryLimit
		}
		entry = n
		db.dialect.entryLimit.Store(entry)
	}
	l.row, l.rowName = entry, "TiDB's txn-entry-size-limit"
	if entry < l.value {
		l.value, l.valueName = entry, l.rowName
	}
	return l, nil
}

// tidbPlan reads TiDB's EXPLAIN output (columns id, estRows, task, access
// object, operator info), one row at a time, and tells the full scans it
// shows: TableFullScan always; IndexFullScan when the plan also filters
// (a Selection), as MySQL's type index with "Using where".
type tidbPlan struct {
	fullIndex bool   // an IndexFullScan seen
	index     string // its access object
	selection bool   // a Selection operator seen
	problem   string
}

// tidbOperator returns the operator name of a TiDB plan row's id, such as
// "TableFullScan" for "  └─TableFullScan_5", "IndexRangeScan" for
// "├─IndexRangeScan_8(Build)".
func tidbOperator(id string) string {
	id = strings.TrimLeft(id, " │├└─\t")
	if i := strings.IndexByte(id, '('); i > 0 { // "IndexRangeScan_8(Build)"
		id = id[:i]
	}
	if i := strings.LastIndexByte(id, '_'); i > 0 && isDigits(id[i+1:]) {
		id = id[:i]
	}
	return id
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// row takes one row of the plan.
func (p *tidbPlan) row(id, accessObject string) {
	switch op := tidbOperator(id); op {
	case "TableFullScan":
		if p.problem == "" {
			p.problem = "scan the whole table (TiDB plan TableFullScan"
			if accessObject != "" {
				p.problem += " of " + accessObject
			}
			p.problem += ")"
		}
	case "IndexFullScan":
		if !p.fullIndex {
			p.fullIndex, p.index = true, accessObject
		}
	case "Selection":
		p.selection = true
	}
}

// result describes the full scan the plan shows, or returns "".
func (p *tidbPlan) result() string {
	if p.problem != "" {
		return p.problem
	}
	if p.fullIndex && p.selection {
		return "scan the whole index (TiDB plan IndexFullScan of " + p.index + ")"
	}
	return ""
}

// entryCheckFrom is the size of a row's string and byte values from which
// a write asks whether the server has an entry size limit (TiDB's is 6 MiB
// by default, and can be set lower; no supported server allows less than
// 1 MiB for a row).
const entryCheckFrom = 1 << 20

// byteLen is the length of a string or []byte value, else 0.
func byteLen(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 0
}

// checkEntry refuses, on TiDB, a row one of whose values, or whose values
// together, reach its txn entry size limit (see valueLimits); elsewhere it
// only learns the server's kind, once per DB. cols names the column of
// each of args (nil where unknown). It is called only for rows already
// found large by the statement-size check, so small writes never pay.
func (db *DB) checkEntry(ctx context.Context, q execQuerier, t *table, cols []*column, args []any) error {
	lim, err := db.valueLimits(ctx, q)
	if err != nil || lim.row == 0 {
		return err
	}
	var size int64
	var largest *column
	largestLen := -1
	for i, a := range args {
		n := byteLen(a)
		size += int64(n)
		var c *column
		if i < len(cols) {
			c = cols[i]
		}
		if c == nil {
			continue
		}
		if int64(n) >= lim.value {
			return fmt.Errorf("sqlgen: writing to table %q: %w", t.name, &fields.Error{
				Op: "value", Table: t.name, Column: c.name, Field: c.desc.Field(), Type: c.desc.Type(),
				Err: fmt.Errorf("a value of %d bytes does not fit the server's %s of %d bytes: %w", n, lim.valueName, lim.value, ErrTooLarge),
			})
		}
		if n > largestLen {
			largest, largestLen = c, n
		}
	}
	if size >= lim.row && largest != nil {
		c := largest
		return fmt.Errorf("sqlgen: writing to table %q: %w", t.name, &fields.Error{
			Op: "value", Table: t.name, Column: c.name, Field: c.desc.Field(), Type: c.desc.Type(),
			Err: fmt.Errorf("the row's values take %d bytes (%d in this column, the largest), which does not fit the server's %s of %d bytes for a whole row: %w", size, largestLen, lim.rowName, lim.row, ErrTooLarge),
		})
	}
	return nil
}
