package sqlgen

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/seed-b2691315/sqlgen/fields"
)

// What a statement costs on the wire, as go-sql-driver/mysql sends it,
// and what the server takes.
//
// A statement without arguments, or any statement when the DSN sets
// interpolateParams=true, is one COM_QUERY packet: the SQL text with
// every argument formatted into it, strings quoted and escaped (an
// escaped byte takes two) and []byte as _binary'...'. Otherwise, and
// always through [WithStmtCache], the text goes in a COM_STMT_PREPARE
// packet and the arguments, in binary, in one COM_STMT_EXECUTE packet;
// only a string or []byte of maxAllowedPacket/(arguments+1) bytes or more
// (maxAllowedPacket is the driver's DSN setting, 64 MiB by default) is
// sent ahead of it, in COM_STMT_SEND_LONG_DATA packets. The server takes
// no packet of max_allowed_packet bytes or more (not counting the 4-byte
// header; measured on MariaDB 10.11, and what the driver assumes when it
// reads the limit itself): it answers error 1153
// and drops the connection, which the pool may hand out again before
// anyone notices. It also refuses a long-data argument larger than
// max_allowed_packet (error 1105).
//
// So every statement is sized before it is sent, for the way it will be
// sent: a cheap sum bounds it first, and only a statement that may come
// near a server's limit (1 MiB, the smallest default of any supported
// server, until the DB has read the real one) is sized exactly.

const (
	// quickLimit is the size under which a statement is sent without a
	// look at the server, until the DB knows its max_allowed_packet:
	// every supported server allows more by default (MySQL 5.7 4 MiB,
	// MariaDB 16 MiB, MySQL 8 64 MiB).
	quickLimit = 1<<20 - 1<<10
	// driverMaxPacket is go-sql-driver/mysql's default maxAllowedPacket,
	// which decides which arguments it sends as long data.
	driverMaxPacket = 64 << 20
	// minLongData is the smallest argument the driver may send as long
	// data: maxAllowedPacket/(params+1) with MaxPlaceholders params.
	minLongData = driverMaxPacket / (MaxPlaceholders + 1)
	// execHeader is COM_STMT_EXECUTE's fixed payload: the command, the
	// statement id, the flags, the iteration count and the bound flag.
	execHeader = 1 + 4 + 1 + 4 + 1
	// maxPacketQuery reads the smaller of the connection's and the
	// server's current max_allowed_packet: a SET GLOBAL applies to new
	// connections only, so a pool may hold both.
	maxPacketQuery = "SELECT LEAST(@@SESSION.max_allowed_packet, @@GLOBAL.max_allowed_packet)"
	// interpolationQuery tells how the DSN sends arguments: formatted into
	// the text (interpolateParams=true), a []byte is a _binary literal; in
	// binary it is a string of the connection's character set.
	interpolationQuery = "SELECT CHARSET(?)"
)

// How the driver sends the arguments of a statement run without the
// statement cache: dialect.wire.
const (
	wireUnknown int32 = iota
	wireBinary
	wireText
)

// roughSize bounds, cheaply, the bytes of a statement of text bytes with
// args in any packet the driver sends: twice every string (escaping) and
// 32 bytes for any other value. ok is false when an argument's type has
// no cheap bound (a driver.Valuer, say). vals is the size of the strings
// and byte slices.
func roughSize(text int, args []any) (est, vals int64, ok bool) {
	est, vals, ok = roughArgs(args)
	return est + int64(text) + 64, vals, ok
}

// roughArgs is roughSize's sum over args alone.
func roughArgs(args []any) (est, vals int64, ok bool) {
	for _, a := range args {
		switch v := a.(type) {
		case string:
			est += 2*int64(len(v)) + 16
			vals += int64(len(v))
		case []byte:
			est += 2*int64(len(v)) + 16
			vals += int64(len(v))
		case nil, int64, uint64, float64, bool, time.Time, int, int32, int16, int8, uint, uint32, uint16, uint8, float32:
			est += 32
		default:
			return est, vals, false
		}
	}
	return est, vals, true
}

// withinQuick reports whether a statement estimated at est bytes surely
// fits: under the server's max_allowed_packet once the DB knows it, under
// quickLimit until then.
func (db *DB) withinQuick(est int64) bool {
	if limit := db.dialect.maxPacket.Load(); limit > 0 {
		return est < limit
	}
	return est <= quickLimit
}

// smallStatement reports, from a cheap sum, whether a statement of text
// bytes with args surely fits the server's max_allowed_packet. It is all
// that nearly every statement pays.
func (db *DB) smallStatement(text int, args []any) bool {
	est, _, ok := roughSize(text, args)
	return ok && db.withinQuick(est)
}

// maxPacket returns the server's max_allowed_packet, asking it the first
// time through q: the connection or transaction the statement runs on,
// so that a pool whose every connection is taken never has to give
// another.
func (db *DB) maxPacket(ctx context.Context, q execQuerier) (int64, error) {
	if n := db.dialect.maxPacket.Load(); n > 0 {
		return n, nil
	}
	var n int64
	if err := db.lookup(ctx, q, "", maxPacketQuery, &n); err != nil {
		return 0, fmt.Errorf("sqlgen: reading max_allowed_packet: %w", err)
	}
	db.dialect.maxPacket.Store(n)
	return n, nil
}

// interpolates reports whether the driver formats arguments into the
// statement text (interpolateParams=true in the DSN), asking the server
// once per DB, through q, the first time it matters.
func (db *DB) interpolates(ctx context.Context, q execQuerier) (bool, error) {
	switch db.dialect.wire.Load() {
	case wireText:
		return true, nil
	case wireBinary:
		return false, nil
	}
	var cs string
	if err := db.queryRowOn(ctx, q, "", "lookup", interpolationQuery, []any{[]byte{'x'}}, &cs); err != nil {
		return false, fmt.Errorf("sqlgen: asking how the driver sends arguments: %w", err)
	}
	text := cs == "binary"
	if text {
		db.dialect.wire.Store(wireText)
	} else {
		db.dialect.wire.Store(wireBinary)
	}
	return text, nil
}

// escapeByte marks the bytes the driver escapes with a backslash in a
// string literal (with NO_BACKSLASH_ESCAPES, only ' is doubled, which is
// no more).
var escapeByte = [256]bool{0: true, '\n': true, '\r': true, 0x1a: true, '\'': true, '"': true, '\\': true}

func escapes[S ~string | ~[]byte](s S) int64 {
	n := 0
	for i := 0; i < len(s); i++ {
		if escapeByte[s[i]] {
			n++
		}
	}
	return int64(n)
}

// lenEnc is the size of a length-encoded integer of n.
func lenEnc(n int64) int64 {
	switch {
	case n < 251:
		return 1
	case n < 1<<16:
		return 3
	case n < 1<<24:
		return 4
	}
	return 9
}

// argSize is what one argument takes on the wire.
type argSize struct {
	text int64 // formatted into the statement text, in place of its ?
	bin  int64 // in COM_STMT_EXECUTE, when sent there
	str  int64 // length of a string or []byte, which may go as long data; -1 for others
}

// sizeArg sizes argument a; escaped bytes are only counted when text is
// set (a statement that cannot be sent as text does not need them).
func sizeArg(a any, text bool) argSize {
	var buf [32]byte
	switch v := a.(type) {
	case nil:
		return argSize{text: 4, str: -1}
	case int64:
		return argSize{text: int64(len(strconv.AppendInt(buf[:0], v, 10))), bin: 8, str: -1}
	case uint64:
		return argSize{text: int64(len(strconv.AppendUint(buf[:0], v, 10))), bin: 8, str: -1}
	case float64:
		return argSize{text: int64(len(strconv.AppendFloat(buf[:0], v, 'g', -1, 64))), bin: 8, str: -1}
	case bool:
		return argSize{text: 1, bin: 1, str: -1}
	case time.Time:
		if v.IsZero() {
			return argSize{text: 12, bin: 11, str: -1} // '0000-00-00'
		}
		return argSize{text: 28, bin: 27, str: -1} // 'YYYY-MM-DD HH:MM:SS.ffffff' at most
	case string:
		n := int64(len(v))
		s := argSize{text: 2 + n, bin: lenEnc(n) + n, str: n}
		if text {
			s.text += escapes(v)
		}
		return s
	case []byte:
		if v == nil {
			return sizeArg(nil, text)
		}
		n := int64(len(v))
		s := argSize{text: 9 + n, bin: lenEnc(n) + n, str: n} // _binary'...'
		if text {
			s.text += escapes(v)
		}
		return s
	case json.RawMessage:
		if v == nil {
			return sizeArg(nil, text)
		}
		n := int64(len(v))
		s := argSize{text: 2 + n, bin: lenEnc(n) + n, str: n}
		if text {
			s.text += escapes(v)
		}
		return s
	}
	// database/sql converts other values (a Valuer, an int, a named type)
	// before the driver sees them.
	dv, err := driver.DefaultParameterConverter.ConvertValue(a)
	if err != nil {
		return argSize{text: 32, bin: 32, str: -1} // refused before anything is sent
	}
	switch dv.(type) {
	case nil, int64, uint64, float64, bool, time.Time, string, []byte:
		return sizeArg(dv, text)
	}
	return argSize{text: 32, bin: 32, str: -1}
}

// stmtSizer adds up the packets of one statement, argument by argument,
// for both ways the driver may send it.
type stmtSizer struct {
	limit  int64 // the server's max_allowed_packet
	text   bool  // whether the text protocol is possible (else escapes are not counted)
	params int64
	query  int64 // the SQL text
	interp int64 // the arguments formatted into it, less their ?s
	fixed  int64 // COM_STMT_EXECUTE bytes of the arguments always sent there
	inline int64 // ... of the strings sent there that may yet go as long data
	// pending are those strings' lengths (a max-heap): as a statement
	// grows, the driver's long-data threshold drops, and the longest go.
	pending []int64
	long    int64 // the longest argument sent as long data

	// The largest argument, for errors.
	big    int64
	bigCol *column
	bigArg int
	args   int
}

func newSizer(limit int64, text bool) *stmtSizer {
	return &stmtSizer{limit: limit, text: text, bigArg: -1}
}

// longThreshold is the size from which the driver sends a string
// argument as long data, in a statement of params arguments.
func longThreshold(params int64) int64 {
	return max(driverMaxPacket/(params+1), 64)
}

// add counts argument a, the value of col (nil if it is no column's).
func (s *stmtSizer) add(a any, col *column) {
	z := sizeArg(a, s.text)
	s.params++
	s.interp += z.text - 1
	switch {
	case z.str < minLongData:
		s.fixed += z.bin
	case z.str >= longThreshold(s.params):
		s.long = max(s.long, z.str)
	default:
		s.inline += z.bin
		s.push(z.str)
	}
	if size := max(z.bin, z.text); size > s.big {
		s.big, s.bigCol, s.bigArg = size, col, s.args
	}
	s.args++
}

func (s *stmtSizer) push(n int64) {
	h := append(s.pending, n)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p] >= h[i] {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	s.pending = h
}

func (s *stmtSizer) pop() int64 {
	h := s.pending
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l] > h[m] {
			m = l
		}
		if r < len(h) && h[r] > h[m] {
			m = r
		}
		if m == i {
			break
		}
		h[m], h[i] = h[i], h[m]
		i = m
	}
	s.pending = h
	return top
}

// settle moves to long data the strings the statement's final argument
// count sends there.
func (s *stmtSizer) settle() {
	thr := longThreshold(s.params)
	for len(s.pending) > 0 && s.pending[0] >= thr {
		n := s.pop()
		s.inline -= lenEnc(n) + n
		s.long = max(s.long, n)
	}
}

// binarySize is the largest packet of the statement sent in binary.
func (s *stmtSizer) binarySize() int64 {
	s.settle()
	exec := int64(execHeader - 1) // no bound flag without arguments
	if s.params > 0 {
		exec = execHeader + (s.params+7)/8 + 2*s.params + s.fixed + s.inline
	}
	size := max(1+s.query, exec)
	if s.long > 0 {
		size = max(size, min(s.long+7, driverMaxPacket-1))
	}
	return size
}

func (s *stmtSizer) fitsBinary() bool {
	return s.binarySize() < s.limit && s.long < s.limit
}

// textSize is the COM_QUERY packet of the statement sent as text.
func (s *stmtSizer) textSize() int64 { return 1 + s.query + s.interp }

func (s *stmtSizer) fitsText() bool {
	if s.params > 0 && s.textSize()+3 > driverMaxPacket {
		// The driver sends a text that long in binary instead.
		return s.fitsBinary()
	}
	return s.textSize() < s.limit
}

// fits reports whether the statement fits the way it will be sent: in
// binary when prepared (through the statement cache), else as the DSN
// says, asked through q when the two ways disagree. size is the largest
// packet.
func (db *DB) fits(ctx context.Context, q execQuerier, prepared bool, s *stmtSizer) (ok bool, size int64, err error) {
	if prepared || s.params == 0 {
		if s.params == 0 {
			return 1+s.query < s.limit, 1 + s.query, nil
		}
		return s.fitsBinary(), s.binarySize(), nil
	}
	text, bin := s.fitsText(), s.fitsBinary()
	if text == bin {
		return text, max(s.textSize(), s.binarySize()), nil
	}
	interp, err := db.interpolates(ctx, q)
	if err != nil {
		return false, 0, err
	}
	if interp {
		return text, s.textSize(), nil
	}
	return bin, s.binarySize(), nil
}

// tooLarge is the error for a statement of size bytes that does not fit;
// what describes it ("InsertRow into table %q", ...).
func (s *stmtSizer) tooLarge(t *table, what string, size int64) error {
	msg := fmt.Sprintf("the statement would take %d bytes, more than the server's max_allowed_packet of %d bytes; its largest value is %d bytes",
		size, s.limit, s.big)
	if s.long >= s.limit {
		msg = fmt.Sprintf("a value of %d bytes does not fit the server's max_allowed_packet of %d bytes", s.long, s.limit)
	}
	if c := s.bigCol; c != nil {
		return fmt.Errorf("sqlgen: %s: %w", what, &fields.Error{
			Op: "value", Table: t.name, Column: c.name, Field: c.desc.Field(), Type: c.desc.Type(),
			Err: fmt.Errorf("%s: %w", msg, ErrTooLarge),
		})
	}
	return fmt.Errorf("sqlgen: %s: %s (argument %d): %w", what, msg, s.bigArg+1, ErrTooLarge)
}

// checkValues refuses, before anything is sent, a one-row write whose
// statement would not fit the server's max_allowed_packet (sent anyway,
// it makes the server drop the connection, which the pool may hand out
// again before it notices): [ErrTooLarge] in a *fields.Error naming the
// column of the largest value, with the sizes. args are the statement's
// values: those of cols (less skip), in order, then, if there are more,
// those of t's primary key (an UPDATE's WHERE). q is where the write
// runs, nil for the context's transaction or the pool (through the
// statement cache if the DB has one). The statement is told by cols and
// skip: the INSERT without the AutoIncrement column (skip set), the
// UPDATE (t.setCols), the DELETE (t.deleteCols), else the longer of the
// INSERT and the upsert. Writes whose values add up to little pass on a
// cheap sum, without a look at the server. It returns the size of the
// strings and byte slices among args.
func (db *DB) checkValues(ctx context.Context, q execQuerier, t *table, cols []*column, skip *column, args []any) (int64, error) {
	var text int
	switch {
	case skip != nil:
		text = len(t.insertAutoSQL)
	case len(cols) > 0 && len(cols) == len(t.setCols) && &cols[0] == &t.setCols[0]:
		text = len(t.updateSQL)
	case len(cols) > 0 && len(cols) == len(t.deleteCols) && &cols[0] == &t.deleteCols[0]:
		text = len(t.deleteSQL)
	default:
		text = max(len(t.insertSQL), len(t.upsertSQL))
	}
	est, vals, ok := roughSize(text, args)
	if ok && db.withinQuick(est) {
		if vals >= entryCheckFrom {
			// On TiDB a row also has its entry size limit (dialect_tidb.go).
			return vals, db.checkEntry(ctx, db.on(ctx, q), t, rowColumns(t, cols, skip, len(args)), args)
		}
		return vals, nil
	}
	return vals, db.checkRowSlow(ctx, q, t, text, cols, skip, args)
}

// rowColumns names the column of each of n write arguments: cols less
// skip, then the primary key's (the WHERE of an update or delete).
func rowColumns(t *table, cols []*column, skip *column, n int) []*column {
	names := make([]*column, 0, n)
	for _, c := range cols {
		if c != skip && len(names) < n {
			names = append(names, c)
		}
	}
	for j := 0; len(names) < n; j++ {
		var c *column
		if j < len(t.primary) {
			c = t.primary[j]
		}
		names = append(names, c)
	}
	return names
}

func (db *DB) checkRowSlow(ctx context.Context, q execQuerier, t *table, text int, cols []*column, skip *column, args []any) error {
	on := db.on(ctx, q)
	limit, err := db.maxPacket(ctx, on)
	if err != nil {
		return err
	}
	prepared := q == nil && db.stmts != nil
	s := newSizer(limit, !prepared)
	s.query = int64(text)
	names := make([]*column, 0, len(args))
	i := 0
	for _, c := range cols {
		if c == skip || i >= len(args) {
			continue
		}
		s.add(args[i], c)
		names = append(names, c)
		i++
	}
	for j := 0; i < len(args); i, j = i+1, j+1 {
		var c *column
		if j < len(t.primary) {
			c = t.primary[j]
		}
		s.add(args[i], c)
		names = append(names, c)
	}
	ok, size, err := db.fits(ctx, on, prepared, s)
	if err != nil {
		return err
	}
	if !ok {
		return s.tooLarge(t, fmt.Sprintf("writing to table %q", t.name), size)
	}
	// On TiDB, a row also has its entry size limit (dialect_tidb.go).
	return db.checkEntry(ctx, on, t, names, args)
}

// chunkSizer sizes the growing statement of a chunk of InsertRows or
// UpsertRows, row by row.
type chunkSizer struct {
	db           *DB
	t            *table
	what         string    // "InsertRows into table ...", for errors
	names        []*column // the column of each value of a row
	base, perRow int       // the statement text of r rows is base + r*perRow bytes
	rough        int64     // roughArgs of the chunk's values
	roughOK      bool
	prepared     bool
	s            *stmtSizer // the exact sizes, once the rough one is not enough
}

func (db *DB) newChunkSizer(t *table, cols []*column, skip *column, upsert bool, method string) *chunkSizer {
	one, two := len(t.multiRowSQL(1, skip, upsert)), len(t.multiRowSQL(2, skip, upsert))
	c := &chunkSizer{db: db, t: t, what: fmt.Sprintf("%s into table %q", method, t.name), perRow: two - one, base: 2*one - two}
	for _, col := range cols {
		if col != skip {
			c.names = append(c.names, col)
		}
	}
	c.reset()
	return c
}

// reset starts a new chunk.
func (c *chunkSizer) reset() { c.rough, c.roughOK, c.s = 0, true, nil }

// add counts the row whose values are args[k:] (args[:k] being those of
// the chunk's earlier rows), for a statement run on ex (nil: the
// context's transaction or the pool, through the statement cache if the
// DB has one). It reports whether the chunk still fits with the row; a
// row that does not fit even alone is [ErrTooLarge].
func (c *chunkSizer) add(ctx context.Context, ex execQuerier, args []any, k int) (bool, error) {
	w := len(c.names)
	text := c.base + len(args)/w*c.perRow
	if c.s == nil {
		r, vals, ok := roughArgs(args[k:])
		c.rough += r
		c.roughOK = c.roughOK && ok
		if c.roughOK && c.db.withinQuick(int64(text)+64+c.rough) {
			if vals >= entryCheckFrom {
				// On TiDB a row also has its entry size limit.
				if err := c.db.checkEntry(ctx, c.db.on(ctx, ex), c.t, c.names, args[k:]); err != nil {
					return false, err
				}
			}
			return true, nil
		}
		limit, err := c.db.maxPacket(ctx, c.db.on(ctx, ex))
		if err != nil {
			return false, err
		}
		c.prepared = ex == nil && c.db.stmts != nil
		c.s = newSizer(limit, !c.prepared)
		for j, a := range args[:k] {
			c.s.add(a, c.names[j%w])
		}
	}
	for j, a := range args[k:] {
		c.s.add(a, c.names[j%w])
	}
	c.s.query = int64(text)
	// On TiDB, the row also has its entry size limit (dialect_tidb.go).
	if err := c.db.checkEntry(ctx, c.db.on(ctx, ex), c.t, c.names, args[k:]); err != nil {
		return false, err
	}
	ok, size, err := c.db.fits(ctx, c.db.on(ctx, ex), c.prepared, c.s)
	if err != nil || ok {
		return ok, err
	}
	if k > 0 {
		// The row opens the next chunk, if it fits a statement of its
		// own: find out now, before this chunk is sent.
		alone := newSizer(c.s.limit, !c.prepared)
		alone.query = int64(c.base + c.perRow)
		for j, a := range args[k:] {
			alone.add(a, c.names[j%w])
		}
		if ok, size, err = c.db.fits(ctx, c.db.on(ctx, ex), c.prepared, alone); err != nil || ok {
			return false, err
		}
		return false, alone.tooLarge(c.t, c.what, size)
	}
	return false, c.s.tooLarge(c.t, c.what, size)
}

// checkRead refuses, before it is sent, a read (SELECT or COUNT) whose
// statement would not fit the server's max_allowed_packet: a huge filter
// value, or an IN list of large values. filter and opts are the read's,
// to name the column of the largest value. Reads whose values add up to
// little (nearly all) pay a cheap sum over args and nothing more.
func (db *DB) checkRead(ctx context.Context, t *table, query string, args []any, filter Filter, opts *SelectOptions) error {
	if db.smallStatement(len(query), args) {
		return nil
	}
	return db.checkReadSlow(ctx, t, query, args, filter, opts)
}

func (db *DB) checkReadSlow(ctx context.Context, t *table, query string, args []any, filter Filter, opts *SelectOptions) error {
	on := db.on(ctx, nil)
	limit, err := db.maxPacket(ctx, on)
	if err != nil {
		return err
	}
	prepared := db.stmts != nil
	s := newSizer(limit, !prepared)
	s.query = int64(len(query))
	eq, err := db.readDialect(ctx, t, filter) // known by now: planning worked it out
	if err != nil {
		return err
	}
	argCols := t.filterArgColumns(filter, opts, eq)
	for i, a := range args {
		var c *column
		if i < len(argCols) {
			c = argCols[i]
		}
		s.add(a, c)
	}
	ok, size, err := db.fits(ctx, on, prepared, s)
	if err != nil {
		return err
	}
	if !ok {
		return s.tooLarge(t, fmt.Sprintf("reading table %q", t.name), size)
	}
	return nil
}

// filterArgColumns returns, for each argument of a read of t with filter
// and opts, the column it is a value of (nil for opts.Values), as
// appendWhere lays them out: filter columns in sorted order, then Values.
func (t *table) filterArgColumns(filter Filter, opts *SelectOptions, eq jsonEquality) []*column {
	keys := make([]string, 0, len(filter))
	for k := range filter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []*column
	for _, k := range keys {
		var scratch strings.Builder
		c, ok := t.byName[k]
		if !ok {
			pc, err := t.pathColumn(k)
			if err != nil {
				return out
			}
			args, err := pc.appendPathCondition(&scratch, nil, filter[k], false)
			if err != nil {
				return out
			}
			for range args {
				out = append(out, pc.path.base)
			}
			continue
		}
		args, err := c.appendCondition(&scratch, nil, filter[k], eq)
		if err != nil {
			return out
		}
		for range args {
			out = append(out, c)
		}
	}
	return out
}

// brokenConn reports whether err says the connection a statement ran on
// is gone or about to be: the server dropped it (error 1153 after a
// packet larger than max_allowed_packet, or another 08S01 error) or the
// driver found it closed.
func brokenConn(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1153 || string(me.SQLState[:]) == "08S01"
	}
	return errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connFailed is called with the error of a statement run on the
// context's transaction or the pool. After one that says the server
// dropped the connection, the DB reads max_allowed_packet again the next
// time it needs it (it may have changed), and, outside a transaction,
// makes sure the pool does not hand the dead connection out again: the
// server closes it after sending error 1153, and the driver, which checks
// a pooled connection before reusing it, does not always see the close
// in time. The connection the statement returned to the pool is the one
// the pool gives next (it reuses the most recent first); it is pinged,
// and dropped if the ping fails.
func (db *DB) connFailed(ctx context.Context, err error) {
	if !brokenConn(err) {
		return
	}
	db.dialect.maxPacket.Store(0)
	if db.HasTx(ctx) || db.conn.Stats().Idle == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	c, cErr := db.conn.Conn(pctx)
	if cErr != nil {
		return
	}
	defer c.Close()
	_ = c.Raw(func(dc any) error {
		if p, ok := dc.(driver.Pinger); ok && p.Ping(pctx) != nil {
			return driver.ErrBadConn // database/sql closes the connection
		}
		return nil
	})
}
