package live

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vmysql "github.com/dolthub/vitess/go/mysql"
	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// ErrClosed is the error of a [Feed] that was closed, and of its
// iterators after that.
var ErrClosed = errors.New("live: feed closed")

// ErrServerConfig wraps the error of [Open] when the server cannot feed
// changes: no binary log, a missing setting (the message names it), an
// old version.
var ErrServerConfig = errors.New("live: server configuration")

// ErrPurged wraps the error of a feed whose resume position is no longer
// in the server's binary log (purged, or never there).
var ErrPurged = errors.New("live: binary log position purged")

// Option configures [Open].
type Option func(*config)

type config struct {
	serverID  uint32
	startAt   string
	retry     time.Duration
	heartbeat time.Duration

	hookBeforeWait func() // tests: called before each visibility wait
}

// WithServerID sets the server id the feed registers with; it must differ
// from the server's and every other replica's. The default is a random id
// in [1<<30, 1<<31).
func WithServerID(id uint32) Option { return func(c *config) { c.serverID = id } }

// StartAt makes the feed start after the given GTID position (MariaDB
// "0-1-42,1-1-7" or a MySQL GTID set) instead of the server's current one,
// as [Feed.Position] returned it: a consumer that stores the position it
// processed resumes there, without a gap or a duplicate.
func StartAt(position string) Option { return func(c *config) { c.startAt = position } }

// WithRetry sets the delay between reconnection attempts after the
// replication connection drops (default 200ms).
func WithRetry(d time.Duration) Option { return func(c *config) { c.retry = d } }

// Feed is a stream of the committed row changes of a server's binary log,
// for the tables registered in a [sqlgen.Schema]. Make it with [Open]; it
// is safe for concurrent use.
type Feed struct {
	schema  *sqlgen.Schema
	cfg     config
	params  vmysql.ConnParams
	dbName  string
	db      *sql.DB
	mariadb bool
	flavor  string
	charset map[int]string // collation id: character set
	vis     *sql.Conn      // the visibility reads' connection (dispatcher only)

	cancel context.CancelFunc
	wg     sync.WaitGroup // the reader and the dispatcher
	done   chan struct{}  // closed when the feed stops
	txs    chan *txn

	mu         sync.Mutex
	pos        vmysql.Position // after the last dispatched transaction
	err        error           // why the feed stopped
	subs       map[*sub]struct{}
	watch      map[string]*tableWatchers
	reconnects int
	connID     int64 // the server's id of the current replication connection
}

// Open connects to the server of dsn (a go-sql-driver/mysql DSN; its
// database, if any, selects the tables' database) as a replication client
// and starts following its binary log from the current position. The
// server must have a binary log with binlog_format=ROW,
// binlog_row_image=FULL and binlog_row_metadata=FULL (MariaDB 10.5+, MySQL
// 8.0.1+), and on MySQL gtid_mode=ON; the user needs the REPLICATION SLAVE
// (REPLICATION REPLICA) privilege. A server that does not qualify is an
// error wrapping [ErrServerConfig] naming the setting.
func Open(ctx context.Context, dsn string, schema *sqlgen.Schema, opts ...Option) (*Feed, error) {
	if schema == nil {
		return nil, fmt.Errorf("live: Open: nil schema")
	}
	cfg := config{serverID: uint32(1<<30 + rand.IntN(1<<30)), retry: 200 * time.Millisecond, heartbeat: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("live: Open: %w", err)
	}
	if mc.Net != "tcp" {
		return nil, fmt.Errorf("live: Open: only tcp addresses are supported, not %q", mc.Net)
	}
	host, portS, err := net.SplitHostPort(mc.Addr)
	if err != nil {
		return nil, fmt.Errorf("live: Open: address %q: %w", mc.Addr, err)
	}
	port, _ := strconv.Atoi(portS)
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("live: Open: %w", err)
	}
	f := &Feed{
		schema: schema,
		cfg:    cfg,
		params: vmysql.ConnParams{Host: host, Port: port, Uname: mc.User, Pass: mc.Passwd},
		dbName: mc.DBName,
		db:     sql.OpenDB(connector),
		done:   make(chan struct{}),
		txs:    make(chan *txn, 256),
		subs:   map[*sub]struct{}{},
		watch:  map[string]*tableWatchers{},
	}
	if err := f.check(ctx); err != nil {
		f.db.Close()
		return nil, err
	}
	if f.charset, err = loadCharsets(ctx, f.db); err != nil {
		f.db.Close()
		return nil, err
	}
	// Connect once before returning, so that a server that refuses the
	// dump (privileges, purged start) fails Open rather than the stream.
	conn, err := f.dial(ctx)
	if err != nil {
		f.db.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(2)
	go func() { defer f.wg.Done(); f.run(runCtx, conn) }()
	go func() { defer f.wg.Done(); f.dispatchLoop(runCtx) }()
	return f, nil
}

// check verifies the server's settings and reads the start position.
func (f *Feed) check(ctx context.Context) error {
	vars := map[string]string{}
	rows, err := f.db.QueryContext(ctx, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','binlog_row_metadata','server_id','version','gtid_mode','gtid_binlog_pos','gtid_executed','log_bin_compress','binlog_transaction_compression','binlog_row_value_options')")
	if err != nil {
		return fmt.Errorf("live: Open: reading the server's settings: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("live: Open: reading the server's settings: %w", err)
		}
		vars[strings.ToLower(k)] = v
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("live: Open: reading the server's settings: %w", err)
	}
	f.mariadb = strings.Contains(strings.ToLower(vars["version"]), "mariadb")
	bad := func(format string, args ...any) error {
		return fmt.Errorf("live: Open: server %s (%s): %s: %w", f.params.Host, vars["version"], fmt.Sprintf(format, args...), ErrServerConfig)
	}
	if !strings.EqualFold(vars["log_bin"], "ON") && vars["log_bin"] != "1" {
		return bad("log_bin is %s: the server has no binary log (start it with --log-bin --binlog-format=ROW --server-id=N)", orUnset(vars["log_bin"]))
	}
	if !strings.EqualFold(vars["binlog_format"], "ROW") {
		return bad("binlog_format is %s, want ROW", orUnset(vars["binlog_format"]))
	}
	if !strings.EqualFold(vars["binlog_row_image"], "FULL") {
		return bad("binlog_row_image is %s, want FULL", orUnset(vars["binlog_row_image"]))
	}
	if _, ok := vars["binlog_row_metadata"]; !ok {
		return bad("binlog_row_metadata is not supported: need MariaDB 10.5+ or MySQL 8.0.1+ (column names in the binary log)")
	}
	if !strings.EqualFold(vars["binlog_row_metadata"], "FULL") {
		return bad("binlog_row_metadata is %s, want FULL (column names in every table map)", vars["binlog_row_metadata"])
	}
	if vars["server_id"] == "" || vars["server_id"] == "0" {
		return bad("server_id is %s, want a non-zero server id", orUnset(vars["server_id"]))
	}
	if strings.EqualFold(vars["log_bin_compress"], "ON") {
		return bad("log_bin_compress is ON, want OFF (compressed row events are not supported)")
	}
	if strings.EqualFold(vars["binlog_transaction_compression"], "ON") {
		return bad("binlog_transaction_compression is ON, want OFF (compressed transactions are not supported)")
	}
	if v := vars["binlog_row_value_options"]; v != "" {
		return bad("binlog_row_value_options is %s, want empty (partial JSON updates are not decoded)", v)
	}
	if !f.mariadb && !strings.EqualFold(vars["gtid_mode"], "ON") {
		return bad("gtid_mode is %s, want ON (the feed resumes by GTID)", orUnset(vars["gtid_mode"]))
	}
	f.flavor = "MySQL56"
	start := vars["gtid_executed"]
	if f.mariadb {
		f.flavor = "MariaDB"
		start = vars["gtid_binlog_pos"]
	}
	if f.cfg.startAt != "" {
		start = f.cfg.startAt
	}
	start = strings.Join(strings.Fields(start), "")
	pos, err := vmysql.ParsePosition(f.flavor, start)
	if err != nil {
		return fmt.Errorf("live: Open: GTID position %q: %w", start, err)
	}
	f.pos = pos
	return nil
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// Position returns the GTID position after the last transaction the feed
// delivered, for [StartAt].
func (f *Feed) Position() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pos.IsZero() {
		return ""
	}
	return f.pos.String()
}

// Err returns why the feed stopped, or nil while it runs.
func (f *Feed) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Close stops the feed and waits for its goroutines; its iterators end
// with an error wrapping [ErrClosed]. Close is idempotent.
func (f *Feed) Close() error {
	f.stop(ErrClosed)
	f.cancel()
	f.wg.Wait()
	return f.db.Close()
}

// withHeartbeat sets the period of the server's heartbeat events on an
// idle replication connection (default 2s); for tests.
func withHeartbeat(d time.Duration) Option { return func(c *config) { c.heartbeat = d } }

// stop records why the feed stopped (the first reason wins) and wakes
// every subscriber.
func (f *Feed) stop(err error) {
	f.mu.Lock()
	if f.err != nil {
		f.mu.Unlock()
		return
	}
	f.err = err
	f.mu.Unlock()
	close(f.done)
}

// dial opens a replication connection and starts the dump from f.pos.
func (f *Feed) dial(ctx context.Context) (*vmysql.Conn, error) {
	conn, err := vmysql.Connect(ctx, &f.params)
	if err != nil {
		return nil, fmt.Errorf("live: replication connection to %s:%d: %w", f.params.Host, f.params.Port, err)
	}
	fail := func(what string, err error) (*vmysql.Conn, error) {
		conn.Close()
		if isPurged(err) {
			return nil, fmt.Errorf("live: %s from %q: %w: %w", what, f.Position(), ErrPurged, err)
		}
		return nil, fmt.Errorf("live: %s: %w", what, err)
	}
	for _, q := range []string{
		"SET @master_binlog_checksum = @@global.binlog_checksum",
		fmt.Sprintf("SET @master_heartbeat_period = %d", f.cfg.heartbeat.Nanoseconds()),
	} {
		if _, err := conn.ExecuteFetch(q, 0, false); err != nil {
			return fail(q, err)
		}
	}
	r, err := conn.ExecuteFetch("SELECT CONNECTION_ID()", 1, false)
	if err != nil {
		return fail("SELECT CONNECTION_ID()", err)
	}
	id, _ := strconv.ParseInt(r.Rows[0][0].ToString(), 10, 64)
	f.mu.Lock()
	pos := f.pos
	f.connID = id
	f.mu.Unlock()
	if err := conn.SendBinlogDumpCommand(f.cfg.serverID, pos); err != nil {
		return fail("binlog dump", err)
	}
	return conn, nil
}

// isPurged reports whether err is the server's refusal to send a position
// it no longer has (ER_MASTER_FATAL_ERROR_READING_BINLOG, 1236).
func isPurged(err error) bool {
	var se *vmysql.SQLError
	return errors.As(err, &se) && se.Number() == 1236
}

// run reads the binary log, reconnecting after a dropped connection from
// the last delivered position, until ctx ends or the server refuses.
func (f *Feed) run(ctx context.Context, conn *vmysql.Conn) {
	defer close(f.txs)
	for {
		var err error
		if conn == nil {
			conn, err = f.dial(ctx)
		}
		if err == nil {
			err = f.read(ctx, conn)
			conn.Close()
			conn = nil
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrPurged) || isPurged(err) {
			if !errors.Is(err, ErrPurged) {
				err = fmt.Errorf("live: resuming from %q: %w: %w", f.Position(), ErrPurged, err)
			}
			f.stop(err)
			return
		}
		// A dropped connection (or a server restarting): try again from
		// the last delivered position.
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.cfg.retry):
		}
		f.mu.Lock()
		f.reconnects++
		f.mu.Unlock()
	}
}

// txn is one committed transaction's changes to registered tables.
type txn struct {
	gtid    vmysql.GTID
	changes []Change
	keys    map[string]*pkSet // table: the primary keys it touched
	err     error             // a row that could not be decoded
	errTab  string            // its table
}

type pkSet struct {
	db, table string
	cols      []string
	seen      map[string]bool
	tuples    [][]any
}

// read reads events until the connection fails or ctx ends; every
// committed transaction goes to f.txs.
func (f *Feed) read(ctx context.Context, conn *vmysql.Conn) error {
	stopClose := context.AfterFunc(ctx, conn.Close)
	defer stopClose()
	r := binlogReader{f: f, tables: map[uint64]*mappedTable{}}
	// The server sends a heartbeat when the log is idle; a connection
	// silent for several periods is dead (a network that dropped it
	// without a reset): close it, so the feed reconnects instead of
	// waiting for ever.
	var silent atomic.Bool
	watchdog := time.AfterFunc(4*f.cfg.heartbeat, func() { silent.Store(true); conn.Close() })
	defer watchdog.Stop()
	for {
		ev, err := conn.ReadBinlogEvent()
		if err != nil {
			if silent.Load() {
				return fmt.Errorf("live: no event or heartbeat for %v: %w", 4*f.cfg.heartbeat, err)
			}
			return err
		}
		watchdog.Reset(4 * f.cfg.heartbeat)
		if err := r.event(ctx, ev); err != nil {
			return err
		}
	}
}

// binlogReader is the state of one replication connection's [Feed.read].
type binlogReader struct {
	f      *Feed
	format vmysql.BinlogFormat     // zero until the format description event
	tables map[uint64]*mappedTable // table id: its mapping
	cur    *txn                    // the transaction being read, or nil
	inTx   bool                    // cur began with BEGIN: it ends with COMMIT or XID
}

// event handles one binlog event; every committed transaction goes to
// f.txs.
func (r *binlogReader) event(ctx context.Context, ev vmysql.BinlogEvent) error {
	if !ev.IsValid() {
		return fmt.Errorf("live: invalid binlog event")
	}
	if ev.IsFormatDescription() {
		format, err := ev.Format()
		if err != nil {
			return fmt.Errorf("live: format description: %w", err)
		}
		r.format = format
		return nil
	}
	if r.format.IsZero() {
		return nil // the fake ROTATE before the format description
	}
	ev, _, err := ev.StripChecksum(r.format)
	if err != nil {
		return fmt.Errorf("live: binlog checksum: %w", err)
	}
	raw := ev.Bytes()
	typ := raw[4]
	body := raw[r.format.HeaderLength:]
	switch {
	case ev.IsGTID():
		return r.gtidEvent(ev)
	case ev.IsXID():
		return r.commit(ctx)
	case ev.IsQuery():
		return r.queryEvent(ctx, ev)
	case ev.IsTableMap():
		return r.tableMapEvent(body)
	case typ >= 23 && typ <= 25 || typ >= 30 && typ <= 32:
		if r.cur == nil {
			r.cur = &txn{}
		}
		return r.f.rowsEvent(r.cur, typ, body, r.tables)
	case typ >= 166 && typ <= 171:
		return fmt.Errorf("live: compressed row events (log_bin_compress=ON) are not supported: %w", ErrServerConfig)
	}
	return nil
}

// commit sends the transaction being read, if any, to f.txs.
func (r *binlogReader) commit(ctx context.Context) error {
	if r.cur == nil {
		return nil
	}
	t := r.cur
	r.cur = nil
	r.inTx = false
	select {
	case r.f.txs <- t:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gtidEvent starts a transaction.
func (r *binlogReader) gtidEvent(ev vmysql.BinlogEvent) error {
	gtid, hasBegin, err := ev.GTID(r.format)
	if err != nil {
		return fmt.Errorf("live: GTID event: %w", err)
	}
	r.cur = &txn{gtid: gtid}
	r.inTx = hasBegin
	return nil
}

// queryEvent handles a statement: BEGIN opens a transaction; COMMIT, or a
// statement outside BEGIN (DDL, its own transaction), commits the
// transaction being read.
func (r *binlogReader) queryEvent(ctx context.Context, ev vmysql.BinlogEvent) error {
	q, err := ev.Query(r.format)
	if err != nil {
		return fmt.Errorf("live: query event: %w", err)
	}
	switch {
	case strings.EqualFold(q.SQL, "BEGIN"):
		r.inTx = true
	case strings.EqualFold(q.SQL, "COMMIT") || !r.inTx:
		return r.commit(ctx)
	}
	return nil
}

// tableMapEvent maps a table id to its table.
func (r *binlogReader) tableMapEvent(body []byte) error {
	// Servers log a table's map again in every transaction: reuse
	// the mapping while the map is the same.
	if len(body) >= 6 {
		var idb [8]byte
		copy(idb[:6], body[:6])
		if m, ok := r.tables[leUint64(idb[:])]; ok && bytes.Equal(m.raw, body) {
			return nil
		}
	}
	tm, err := parseTableMap(body, 8)
	if err != nil {
		return fmt.Errorf("live: table map: %w", err)
	}
	if len(r.tables) > 10000 {
		clear(r.tables)
	}
	m := r.f.mapTable(tm)
	m.raw = append([]byte(nil), body...)
	r.tables[tm.id] = m
	return nil
}

// mappedTable is a table map with its columns matched, by name, to the
// registered type's.
type mappedTable struct {
	tm      *tableMap
	table   string // registered name; "" when not registered or elsewhere
	idx     []int  // for each registered column, its index in the row image
	err     error  // a registered column the live table does not have
	pkNames []string
	conv    []func([]byte) []byte // per column: to UTF-8, or nil
	raw     []byte                // the table map event's body
}

func (f *Feed) mapTable(tm *tableMap) *mappedTable {
	m := &mappedTable{tm: tm}
	if f.dbName != "" && tm.db != f.dbName {
		return m
	}
	cols, err := f.schema.Columns(tm.name)
	if err != nil {
		return m // not a registered table
	}
	m.table = tm.name
	if len(tm.names) != len(tm.types) {
		m.err = fmt.Errorf("live: table %s.%s: the binary log has no column names (binlog_row_metadata=FULL): %w", tm.db, tm.name, ErrServerConfig)
		return m
	}
	pos := make(map[string]int, len(tm.names))
	for i, n := range tm.names {
		pos[strings.ToLower(n)] = i
	}
	m.conv = make([]func([]byte) []byte, len(tm.types))
	for i := range tm.types {
		id := tm.charset[i]
		if tm.enumCS[i] != 0 {
			id = tm.enumCS[i]
		}
		conv, err := converter(f.charset, id)
		if err != nil {
			m.err = fmt.Errorf("live: table %s.%s column %q: %w", tm.db, tm.name, tm.names[i], err)
			return m
		}
		m.conv[i] = conv
	}
	m.idx = make([]int, len(cols))
	for i, c := range cols {
		p, ok := pos[strings.ToLower(c)]
		if !ok {
			m.err = fmt.Errorf("live: table %s.%s: column %q of the registered type is not in the table", tm.db, tm.name, c)
			return m
		}
		m.idx[i] = p
	}
	for _, p := range tm.pk {
		if p < len(tm.names) {
			m.pkNames = append(m.pkNames, tm.names[p])
		}
	}
	return m
}

// rowsEvent decodes a WRITE, UPDATE or DELETE rows event (v1 or v2) into
// changes of t.
func (f *Feed) rowsEvent(t *txn, typ byte, body []byte, tables map[uint64]*mappedTable) error {
	m, pos, err := rowsTable(typ, body, tables)
	if err != nil || m.table == "" {
		return err
	}
	before, after, pos, err := rowsBitmaps(m, typ, body, pos)
	if err != nil {
		return err
	}
	for pos < len(body) {
		imgs, l, err := decodeImages(m.tm, typ, before, after, body[pos:])
		if err != nil {
			return err
		}
		pos += l
		c := Change{Table: m.table}
		c.Before = f.rowStruct(t, m, 0, imgs[0])
		c.After = f.rowStruct(t, m, 1, imgs[1])
		if c.Before != nil || c.After != nil {
			t.changes = append(t.changes, c)
		}
	}
	return nil
}

// rowsTable reads the table id of a rows event and returns its mapping
// and the position after the post-header (and a v2 event's extra data).
func rowsTable(typ byte, body []byte, tables map[uint64]*mappedTable) (*mappedTable, int, error) {
	if len(body) < 8 {
		return nil, 0, errShort
	}
	var idb [8]byte
	copy(idb[:6], body[:6])
	id := leUint64(idb[:])
	pos := 8
	if typ >= 30 { // v2: extra data, its length including itself
		if len(body) < pos+2 {
			return nil, 0, errShort
		}
		pos += int(uint16(body[pos]) | uint16(body[pos+1])<<8)
	}
	m, ok := tables[id]
	if !ok {
		return nil, 0, fmt.Errorf("live: rows event for unknown table id %d", id)
	}
	return m, pos, nil
}

// rowsBitmaps reads a rows event's column count, from pos, and its
// present-columns bitmaps: of the before image, and of the after image
// (the same one, but for an update). It returns the position of the first
// row.
func rowsBitmaps(m *mappedTable, typ byte, body []byte, pos int) (before, after []byte, _ int, _ error) {
	n64, pos, err := readLenenc(body, pos)
	if err != nil {
		return nil, nil, 0, err
	}
	n := int(n64)
	bl := (n + 7) / 8
	if len(body) < pos+bl {
		return nil, nil, 0, errShort
	}
	before = body[pos : pos+bl]
	pos += bl
	after = before
	isUpdate := typ == 24 || typ == 31
	if isUpdate {
		if len(body) < pos+bl {
			return nil, nil, 0, errShort
		}
		after = body[pos : pos+bl]
		pos += bl
	}
	if n != len(m.tm.types) {
		return nil, nil, 0, fmt.Errorf("live: rows event for %s.%s has %d columns, its table map %d", m.tm.db, m.tm.name, n, len(m.tm.types))
	}
	return before, after, pos, nil
}

// decodeImages decodes one row of a rows event from data: the after image
// of a write, the before image of a delete, both of an update. It returns
// the images (nil for one the event does not carry) and the length read.
func decodeImages(tm *tableMap, typ byte, before, after, data []byte) ([2][]driver.Value, int, error) {
	var imgs [2][]driver.Value
	switch typ {
	case 23, 30: // write
		v, l, err := decodeRow(tm, after, data)
		imgs[1] = v
		return imgs, l, err
	case 25, 32: // delete
		v, l, err := decodeRow(tm, before, data)
		imgs[0] = v
		return imgs, l, err
	}
	// update: before, then after
	v, l, err := decodeRow(tm, before, data)
	if err != nil {
		return imgs, 0, err
	}
	imgs[0] = v
	v, l2, err := decodeRow(tm, after, data[l:])
	imgs[1] = v
	return imgs, l + l2, err
}

// rowStruct records the primary key of img, a row image of m's table, in
// t, and returns img as a value of the registered type: the before (k 0)
// or after (k 1) image of a change. It returns nil when img is nil or
// cannot be converted; t.err keeps the first such error.
func (f *Feed) rowStruct(t *txn, m *mappedTable, k int, img []driver.Value) any {
	if img == nil {
		return nil
	}
	f.addKey(t, m, img)
	if m.err != nil {
		if t.err == nil {
			t.err, t.errTab = m.err, m.table
		}
		return nil
	}
	row := make([]driver.Value, len(m.idx))
	for i, p := range m.idx {
		row[i] = img[p]
		if b, ok := row[i].([]byte); ok && m.conv[p] != nil {
			row[i] = m.conv[p](b)
		}
	}
	s, err := f.schema.BuildStruct(m.table, row)
	if err != nil {
		if t.err == nil {
			t.errTab = m.table
			t.err = fmt.Errorf("live: %s row of table %q (GTID %v): %w", [2]string{"before", "after"}[k], m.table, t.gtid, err)
		}
		return nil
	}
	return s
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// addKey records the primary key of a row image, for the visibility wait.
func (f *Feed) addKey(t *txn, m *mappedTable, img []driver.Value) {
	if len(m.pkNames) == 0 {
		return
	}
	if t.keys == nil {
		t.keys = map[string]*pkSet{}
	}
	k := m.tm.db + "." + m.tm.name
	s := t.keys[k]
	if s == nil {
		s = &pkSet{db: m.tm.db, table: m.tm.name, cols: m.pkNames, seen: map[string]bool{}}
		t.keys[k] = s
	}
	tuple := make([]any, len(m.tm.pk))
	for i, p := range m.tm.pk {
		v := img[p]
		if b, ok := v.([]byte); ok {
			if p < len(m.conv) && m.conv[p] != nil {
				b = m.conv[p](b) // as the utf8mb4 connection sends it
			}
			v = string(b) // the event buffer is not ours to keep
		}
		tuple[i] = v
	}
	sig := fmt.Sprint(tuple...)
	if !s.seen[sig] {
		s.seen[sig] = true
		s.tuples = append(s.tuples, tuple)
	}
}

// dispatchLoop delivers committed transactions in order. Before it
// delivers a batch it waits until the batch's commits are visible to other
// sessions: a server can send a transaction's events before its commit is
// visible (MariaDB's binlog group commit writes the log first), so it
// reads the touched rows with LOCK IN SHARE MODE, which waits for the
// writer's row locks, released only once its commit is visible.
func (f *Feed) dispatchLoop(ctx context.Context) {
	defer func() {
		if f.vis != nil {
			f.vis.Close()
		}
	}()
	for {
		t, ok := <-f.txs
		if !ok {
			return
		}
		batch := []*txn{t}
	more:
		for len(batch) < 256 {
			select {
			case t, ok := <-f.txs:
				if !ok {
					break more
				}
				batch = append(batch, t)
			default:
				break more
			}
		}
		if f.cfg.hookBeforeWait != nil {
			f.cfg.hookBeforeWait()
		}
		var err error
		for attempt := 0; attempt < 10; attempt++ {
			if err = f.waitVisible(ctx, batch); err == nil || ctx.Err() != nil {
				break
			}
			select { // a lost connection, a lock wait timeout: try again
			case <-ctx.Done():
			case <-time.After(f.cfg.retry):
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			f.stop(fmt.Errorf("live: waiting for commits to be visible: %w", err))
			return
		}
		for _, t := range batch {
			f.deliver(t)
		}
	}
}

// waitVisible runs one locking read per table over the rows the batch
// touched.
func (f *Feed) waitVisible(ctx context.Context, batch []*txn) error {
	all := map[string]*pkSet{}
	for _, t := range batch {
		for k, s := range t.keys {
			if a, ok := all[k]; ok {
				for _, tu := range s.tuples {
					sig := fmt.Sprint(tu...)
					if !a.seen[sig] {
						a.seen[sig] = true
						a.tuples = append(a.tuples, tu)
					}
				}
			} else {
				c := *s
				c.seen = map[string]bool{}
				for sig := range s.seen {
					c.seen[sig] = true
				}
				c.tuples = append([][]any(nil), s.tuples...)
				all[k] = &c
			}
		}
	}
	for _, s := range all {
		for start := 0; start < len(s.tuples); start += 500 {
			end := min(start+500, len(s.tuples))
			if err := f.lockRead(ctx, s, s.tuples[start:end]); err != nil {
				return err
			}
		}
	}
	return nil
}

// lockWaitSeconds bounds a visibility read's wait for a row lock. The
// transaction whose events arrived is committing; once it committed,
// another transaction may lock the same row and hold it for long: a lock
// held by anyone else means the logged transaction released it, so it is
// committed. A wait this long is taken as that case.
const lockWaitSeconds = 2

// lockRead runs one visibility read on the feed's own connection, whose
// lock wait timeout is lockWaitSeconds.
func (f *Feed) lockRead(ctx context.Context, s *pkSet, tuples [][]any) error {
	if f.vis == nil {
		c, err := f.db.Conn(ctx)
		if err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d", lockWaitSeconds)); err != nil {
			c.Close()
			return err
		}
		f.vis = c
	}
	q, args := lockQuery(s, tuples)
	err := func() error {
		rows, err := f.vis.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		return rows.Close()
	}()
	var me *mysql.MySQLError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049 || me.Number == 1054):
		return nil // the table (or its key column) is gone: no row to wait for
	case errors.As(err, &me) && me.Number == 1205:
		return nil // a lock wait timeout: a later transaction holds the row
	}
	f.vis.Close() // a new connection for the next attempt
	f.vis = nil
	return fmt.Errorf("%s: %w", q, err)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// lockQuery is a locking read of the given primary keys: "pk IN (...)"
// for a one-column key, "(a = ? AND b = ?) OR ..." for a composite one, so
// that the server reads (and locks) those rows only, by the key.
func lockQuery(s *pkSet, tuples [][]any) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT 1 FROM ")
	b.WriteString(quoteIdent(s.db) + "." + quoteIdent(s.table))
	b.WriteString(" WHERE ")
	args := make([]any, 0, len(tuples)*len(s.cols))
	if len(s.cols) == 1 {
		b.WriteString(quoteIdent(s.cols[0]))
		b.WriteString(" IN (")
		for i, tu := range tuples {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
			args = append(args, tu...)
		}
		b.WriteByte(')')
	} else {
		for i, tu := range tuples {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteByte('(')
			for k, c := range s.cols {
				if k > 0 {
					b.WriteString(" AND ")
				}
				b.WriteString(quoteIdent(c) + " = ?")
			}
			b.WriteByte(')')
			args = append(args, tu...)
		}
	}
	b.WriteString(" LOCK IN SHARE MODE")
	return b.String(), args
}
