package sqlgen

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Read replicas.
//
// A DB made with [WithReplicas] sends its reads outside a transaction to
// the replicas and everything else to the primary (the *sql.DB given to
// [NewDB]); see [DB.readsReplica] in run.go for the rule, and
// [replicaSet.read] for how a replica is chosen and a failed read retried.

// ReplicaOptions tunes how a DB with [WithReplicas] uses its replicas. A
// zero field takes its default.
type ReplicaOptions struct {
	// MaxLag is how far behind the primary a replica may be (its
	// Seconds_Behind_Master, or Seconds_Behind_Source) and still serve
	// reads; a replica whose replication is stopped (NULL) is past any
	// bound. Default 5s.
	MaxLag time.Duration
	// LagCheckInterval is how often a replica's lag is read (SHOW REPLICA
	// STATUS, by the read that finds the check due, before its own
	// statement). Default 1s.
	LagCheckInterval time.Duration
	// RetryAfter is how long a replica that failed (refused or lost a
	// connection, lagged past MaxLag, missed a read-your-writes wait) is
	// skipped. Default 5s.
	RetryAfter time.Duration
	// ReadYourWritesWait bounds how long a read under
	// [WithReadYourWrites] waits, in all, for replicas to apply the
	// context's writes (MASTER_GTID_WAIT on MariaDB,
	// WAIT_FOR_EXECUTED_GTID_SET on MySQL) before it goes to the primary.
	// Default 1s.
	ReadYourWritesWait time.Duration
}

// WithReplicas sends the DB's reads to replicas of its primary (the
// *sql.DB given to [NewDB]), spread across them in turn: Query, QueryRow,
// Count, Get, Select, FullScanQuery and batched reads ([WithBatching])
// made outside a transaction and without ForUpdate. Writes, transactions,
// reads with ForUpdate, reads under [OnPrimary] and the server look-ups
// (VERSION(), @@max_allowed_packet, ...) go to the primary. The EXPLAIN of
// [DB.RefuseFullScans] runs where the read runs.
//
// Replication is asynchronous: a read on a replica may not see a write
// just made on the primary, unless the read's context comes from
// [WithReadYourWrites]. A replica that fails (a refused or lost
// connection, a statement killed, lag past [ReplicaOptions].MaxLag) is
// skipped for RetryAfter and the read runs again on another replica or on
// the primary: until its rows are all read, a read's rows are handed to
// no one, so the caller never sees a replica's fault, only what the
// primary would have answered. Each replica is a *sql.DB of its own (the
// caller's: sqlgen does not close it); with [WithStmtCache], each has its
// own cache of the same size. A DB without replicas pays nothing.
func WithReplicas(replicas ...*sql.DB) Option {
	return func(db *DB) {
		rs := db.replicas
		if rs == nil {
			rs = &replicaSet{}
		}
		for _, r := range replicas {
			if r != nil {
				rs.reps = append(rs.reps, &replica{conn: r})
			}
		}
		if len(rs.reps) > 0 {
			db.replicas = rs
		}
	}
}

// WithReplicaOptions sets how the DB uses the replicas of [WithReplicas].
func WithReplicaOptions(o ReplicaOptions) Option {
	return func(db *DB) { db.replicaOpts = o }
}

type primaryKey struct{}

// OnPrimary returns a context under which the reads of a DB with
// [WithReplicas] go to the primary, as its writes do.
func OnPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

func onPrimary(ctx context.Context) bool {
	return ctx.Value(primaryKey{}) != nil
}

type writesKey struct{}

// WithReadYourWrites returns a context under which a read of a DB with
// [WithReplicas] sees the writes made before it under the same context
// (or a context derived from it): after each write, the DB records the
// primary's GTID position of the write (@@last_gtid of the writing session
// on MariaDB, @@GLOBAL.gtid_executed on MySQL; the global position after a
// [DB.Transact] commits), and a later read waits, on the replica it
// chose, until the replica has applied it, for at most
// [ReplicaOptions].ReadYourWritesWait in all, and otherwise runs on the
// primary. The positions are held by the returned context, which is safe
// for concurrent use by many goroutines. Writes outside a transaction then
// run on a connection held for the write and its position (not through
// the statement cache); after a write in a transaction of [DB.WithTx] or
// [DB.WithExistingTx], or a batch of InsertRows, whose commit sqlgen does
// not see, each later read first reads the primary's global position.
// Without replicas the context changes nothing.
func WithReadYourWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, writesKey{}, &writeMarks{})
}

func writesOf(ctx context.Context) *writeMarks {
	w, _ := ctx.Value(writesKey{}).(*writeMarks)
	return w
}

// writeMarks are the positions of the writes made under a context of
// [WithReadYourWrites], by primary.
type writeMarks struct {
	mu        sync.Mutex
	byPrimary map[*sql.DB]*gtidPos
}

// gtidPos is the position a replica must reach to see the writes made on
// one primary.
type gtidPos struct {
	domains map[uint64][2]uint64 // MariaDB: domain → server id, sequence number (the highest seen)
	set     string               // MySQL: a GTID set (the latest, a superset of the earlier)
	global  bool                 // a write whose position is not known: read the primary's at each read
}

func (w *writeMarks) pos(p *sql.DB) *gtidPos {
	if w.byPrimary == nil {
		w.byPrimary = map[*sql.DB]*gtidPos{}
	}
	g := w.byPrimary[p]
	if g == nil {
		g = &gtidPos{}
		w.byPrimary[p] = g
	}
	return g
}

// record merges position text (a MariaDB GTID list or a MySQL GTID set)
// read from primary p.
func (w *writeMarks) record(p *sql.DB, mysqlSet bool, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.pos(p)
	if mysqlSet {
		if text != "" {
			g.set = text
		}
		return
	}
	mergeGTIDs(g, text)
}

// markUnknown records a write whose position sqlgen cannot read.
func (w *writeMarks) markUnknown(p *sql.DB) {
	w.mu.Lock()
	w.pos(p).global = true
	w.mu.Unlock()
}

// wants returns the position reads from primary p must wait for ("" if
// none) and whether the primary's global position must be read first.
func (w *writeMarks) wants(p *sql.DB, mysqlSet bool) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.byPrimary[p]
	if g == nil {
		return "", false
	}
	if mysqlSet {
		return g.set, g.global
	}
	parts := make([]string, 0, len(g.domains))
	for d, sn := range g.domains {
		parts = append(parts, strconv.FormatUint(d, 10)+"-"+strconv.FormatUint(sn[0], 10)+"-"+strconv.FormatUint(sn[1], 10))
	}
	return strings.Join(parts, ","), g.global
}

func (w *writeMarks) any(p *sql.DB) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byPrimary[p] != nil
}

// mergeGTIDs keeps, per replication domain, the highest sequence number
// of text, a MariaDB GTID list such as "0-1-42,1-2-7".
func mergeGTIDs(g *gtidPos, text string) {
	for _, part := range strings.Split(text, ",") {
		f := strings.Split(strings.TrimSpace(part), "-")
		if len(f) != 3 {
			continue
		}
		d, err1 := strconv.ParseUint(f[0], 10, 32)
		s, err2 := strconv.ParseUint(f[1], 10, 32)
		n, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if g.domains == nil {
			g.domains = map[uint64][2]uint64{}
		}
		if old, ok := g.domains[d]; !ok || n > old[1] {
			g.domains[d] = [2]uint64{s, n}
		}
	}
}

// replicaSet is the replicas of a DB, shared by its copies.
type replicaSet struct {
	reps []*replica
	next atomic.Uint32
	opts ReplicaOptions // with the defaults filled in
}

// replica is one replica and what the DB knows of its health.
type replica struct {
	conn         *sql.DB
	no           int        // 1 for the first of WithReplicas, ...
	stmts        *stmtCache // its own statement cache, when the DB has one
	serverCancel bool
	downUntil    atomic.Int64 // unix nanoseconds before which the replica is skipped
	checkedAt    atomic.Int64 // unix nanoseconds of the last lag check
}

// initReplicas finishes the replica set once every option is applied.
func (db *DB) initReplicas() {
	rs := db.replicas
	o := db.replicaOpts
	if o.MaxLag <= 0 {
		o.MaxLag = 5 * time.Second
	}
	if o.LagCheckInterval <= 0 {
		o.LagCheckInterval = time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 5 * time.Second
	}
	if o.ReadYourWritesWait <= 0 {
		o.ReadYourWritesWait = time.Second
	}
	rs.opts = o
	for i, r := range rs.reps {
		r.no = i + 1
		r.serverCancel = !db.noServerCancel && isMySQL(r.conn)
		if db.stmts != nil {
			r.stmts = &stmtCache{size: db.stmts.size, byText: map[string]*list.Element{}, lru: list.New()}
		}
	}
}

// view returns a copy of db that runs its statements on r.
func (r *replica) view(db *DB) *DB {
	v := *db
	v.conn, v.stmts, v.serverCancel = r.conn, r.stmts, r.serverCancel
	v.replicas, v.replicaNo = nil, r.no
	return &v
}

// errReplicaLag is the fault of a replica too far behind.
var errReplicaLag = errors.New("sqlgen: replica lagging")

func (r *replica) fail(rs *replicaSet) {
	r.downUntil.Store(time.Now().Add(rs.opts.RetryAfter).UnixNano())
}

// usable reports whether r may serve a read now: it is not being skipped,
// and, when its lag check is due, it is not too far behind. db is the
// primary's DB, whose hook sees the lag check.
func (r *replica) usable(ctx context.Context, db *DB, rs *replicaSet) bool {
	now := time.Now().UnixNano()
	if now < r.downUntil.Load() {
		return false
	}
	last := r.checkedAt.Load()
	if now-last < int64(rs.opts.LagCheckInterval) || !r.checkedAt.CompareAndSwap(last, now) {
		return true
	}
	lag, err := r.view(db).lag(ctx)
	if err != nil {
		var me *mysql.MySQLError
		if ctx.Err() != nil || errors.As(err, &me) && !replicaFault(ctx, err) {
			return true // no right to read the status, say: no lag check
		}
		r.fail(rs)
		return false
	}
	if lag < 0 || lag > rs.opts.MaxLag {
		r.fail(rs)
		return false
	}
	return true
}

// lag reads how far db's server, a replica, is behind its primary: -1
// when its replication is stopped, 0 when it replicates nothing. Servers
// older than SHOW REPLICA STATUS (MariaDB 10.5.1, MySQL 8.0.22) answer
// SHOW SLAVE STATUS. Each statement is reported to the hook with Op
// "replica lag".
func (db *DB) lag(ctx context.Context) (time.Duration, error) {
	lag, err := db.lagOf(ctx, "SHOW REPLICA STATUS")
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1064 {
		lag, err = db.lagOf(ctx, "SHOW SLAVE STATUS")
	}
	return lag, err
}

// lagOf runs q, SHOW REPLICA STATUS or SHOW SLAVE STATUS, and reads the
// lag it shows (see [DB.lag]).
func (db *DB) lagOf(ctx context.Context, q string) (time.Duration, error) {
	var start time.Time
	if db.hook != nil {
		ctx, start = db.before(ctx, "", "replica lag", q, 0)
	}
	lag, n, err := readLag(ctx, db.conn, q)
	if db.hook != nil {
		db.after(ctx, "", "replica lag", q, 0, start, n, err)
	}
	return lag, err
}

// readLag runs q on conn and reads the lag its rows show, and how many
// rows it read.
func readLag(ctx context.Context, conn *sql.DB, q string) (time.Duration, int64, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, 0, err
	}
	at := -1
	for i, c := range cols {
		if c == "Seconds_Behind_Master" || c == "Seconds_Behind_Source" {
			at = i
		}
	}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	var lag time.Duration
	var n int64
	for rows.Next() {
		n++
		if err := rows.Scan(dest...); err != nil {
			return 0, n, err
		}
		if at < 0 || !vals[at].Valid {
			return -1, n, rows.Close()
		}
		s, err := strconv.ParseInt(vals[at].String, 10, 64)
		if err != nil {
			return -1, n, rows.Close()
		}
		lag = max(lag, time.Duration(s)*time.Second)
	}
	return lag, n, rows.Err()
}

// replicaFault reports whether err, met by a read on a replica while ctx
// is live, says the replica (or the connection to it) failed, rather than
// the statement: the read is then run elsewhere.
func replicaFault(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, errReplicaLag) || brokenConn(err) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1053,       // server shutdown in progress
			1077,       // normal shutdown
			1079,       // shutdown complete
			1129,       // host blocked
			1152,       // aborted connection
			1158, 1159, // network read errors
			1160, 1161, // network write errors
			1317, // query interrupted (KILL QUERY on the replica)
			1927: // connection killed
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// read runs fn, a read under ctx that may go to a replica, on the first
// usable replica (in turn across calls), then, if it fails there with a
// fault of the replica ([replicaFault]), on the next, and finally on the
// primary (db). With retry unset, a replica's fault is returned after the
// replica is marked (a batched read then lets each caller read alone).
// Under [WithReadYourWrites], each replica first waits for the context's
// writes.
func (rs *replicaSet) read(ctx context.Context, db *DB, retry bool, fn func(on *DB) error) error {
	var pos string
	mysqlSet := false
	if w := writesOf(ctx); w != nil && w.any(db.conn) {
		var err error
		if pos, mysqlSet, err = db.readPosition(ctx, w); err != nil {
			if ctx.Err() != nil {
				return withCtxErr(ctx, err)
			}
			return fn(db) // position unknown: the primary has the writes
		}
	}
	var waitUntil time.Time
	if pos != "" {
		waitUntil = time.Now().Add(rs.opts.ReadYourWritesWait)
	}
	n := uint32(len(rs.reps))
	start := rs.next.Add(1)
	for i := uint32(0); i < n; i++ {
		r := rs.reps[(start+i)%n]
		if !r.usable(ctx, db, rs) {
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		on := r.view(db)
		if pos != "" {
			left := time.Until(waitUntil)
			if left <= 0 {
				break
			}
			err := on.waitFor(ctx, mysqlSet, pos, left)
			if err != nil {
				if ctx.Err() != nil {
					return withCtxErr(ctx, err)
				}
				r.fail(rs)
				continue
			}
		}
		err := fn(on)
		if !replicaFault(ctx, err) {
			return err
		}
		r.fail(rs)
		if !retry || handedOut(err) {
			return err
		}
	}
	return fn(db)
}

// readPosition returns the position the replicas must reach for the reads
// under ctx to see its writes, reading the primary's global position
// first when a write's own is not known.
func (db *DB) readPosition(ctx context.Context, w *writeMarks) (string, bool, error) {
	mysqlSet, err := db.mysqlGTIDs(ctx)
	if err != nil {
		return "", false, err
	}
	pos, global := w.wants(db.conn, mysqlSet)
	if global {
		if err := db.recordGlobal(ctx, w, mysqlSet); err != nil {
			return "", false, err
		}
		pos, _ = w.wants(db.conn, mysqlSet)
	}
	return pos, mysqlSet, nil
}

// mysqlGTIDs reports whether the primary is MySQL (GTID sets) rather than
// MariaDB (GTID lists), from its VERSION().
func (db *DB) mysqlGTIDs(ctx context.Context) (bool, error) {
	e, err := db.jsonEquality(ctx)
	return e == jsonCast, err
}

// recordGlobal records the primary's global GTID position into w.
func (db *DB) recordGlobal(ctx context.Context, w *writeMarks, mysqlSet bool) error {
	q := "SELECT @@GLOBAL.gtid_binlog_pos"
	if mysqlSet {
		q = "SELECT @@GLOBAL.gtid_executed"
	}
	var s sql.NullString
	if err := db.queryRowOn(ctx, db.conn, "", "gtid position", q, nil, &s); err != nil {
		return fmt.Errorf("sqlgen: reading the primary's GTID position: %w", err)
	}
	w.record(db.conn, mysqlSet, s.String)
	return nil
}

// waitFor waits up to d for db's server, a replica, to apply the
// transactions of pos; errReplicaLag if it does not in time.
func (db *DB) waitFor(ctx context.Context, mysqlSet bool, pos string, d time.Duration) error {
	q := "SELECT MASTER_GTID_WAIT(?, ?)"
	if mysqlSet {
		q = "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)"
	}
	var res sql.NullInt64
	if err := db.queryRowOn(ctx, db.conn, "", "gtid wait", q, []any{pos, d.Seconds()}, &res); err != nil {
		return err
	}
	if !res.Valid || res.Int64 != 0 {
		return fmt.Errorf("replica %d has not applied %s after %v: %w", db.replicaNo, pos, d, errReplicaLag)
	}
	return nil
}

// execRecorded runs a write under a context of [WithReadYourWrites] and
// records its position: outside a transaction on a connection held for
// the write and the read of its session's position.
func (db *DB) execRecorded(ctx context.Context, w *writeMarks, st *txState, table, query string, callerArgs []any) (sql.Result, error) {
	// A copy, so that the caller's arguments (of runExec, the path of
	// every write) may stay on its stack: this path lets them escape.
	args := append([]any(nil), callerArgs...)
	if st != nil {
		res, err := db.runExecHere(ctx, st, table, query, args)
		if err == nil && !st.transact {
			w.markUnknown(db.conn) // committed out of sqlgen's sight
		}
		return res, err
	}
	mysqlSet, err := db.mysqlGTIDs(ctx)
	if err != nil {
		// The server's flavour is unknown: write as without the
		// context, and let reads find the primary's position.
		w.markUnknown(db.conn)
		return db.runExecHere(ctx, nil, table, query, args)
	}
	conn, err := db.conn.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	res, err := db.execOnConnHere(ctx, conn, table, query, args)
	if err != nil {
		return res, err
	}
	q := "SELECT @@SESSION.last_gtid"
	if mysqlSet {
		q = "SELECT @@GLOBAL.gtid_executed"
	}
	var s sql.NullString
	if perr := db.queryRowOn(ctx, conn, table, "gtid position", q, nil, &s); perr != nil || s.String == "" {
		w.markUnknown(db.conn)
	} else {
		w.record(db.conn, mysqlSet, s.String)
	}
	return res, nil
}

// wroteUnseen is called after a write of a connection or transaction of
// sqlgen's choosing whose position it does not read.
func (db *DB) wroteUnseen(ctx context.Context) {
	if w := writesOf(ctx); w != nil {
		w.markUnknown(db.conn)
	}
}

// committed records the primary's position after a transaction of
// [DB.Transact] committed under a context of [WithReadYourWrites].
func (db *DB) committed(ctx context.Context) {
	w := writesOf(ctx)
	if w == nil {
		return
	}
	mysqlSet, err := db.mysqlGTIDs(ctx)
	if err == nil {
		err = db.recordGlobal(ctx, w, mysqlSet)
	}
	if err != nil {
		w.markUnknown(db.conn)
	}
}

// selectReplicated is runSelect on a replica: rows are collected, and
// handed to each only once the statement has read them all, so that a
// read that fails on a replica can run again elsewhere.
func (db *DB) selectReplicated(ctx context.Context, t *table, proj *projection, query string, args []any, allowNoIndex bool, each func(p reflect.Value) error) error {
	var got []reflect.Value
	err := db.replicas.read(ctx, db, true, func(on *DB) error {
		got = got[:0]
		return on.runSelectHere(ctx, t, proj, query, args, allowNoIndex, false, func(p reflect.Value) error {
			got = append(got, p)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, p := range got {
		if err := each(p); err != nil {
			return err
		}
	}
	return nil
}

// streamed is the error of a streaming read (Iter) that failed after it
// had handed rows to its caller: [replicaSet.read] does not run it again
// elsewhere, which would hand the same rows out twice.
type streamed struct{ err error }

func (e *streamed) Error() string { return e.err.Error() }
func (e *streamed) Unwrap() error { return e.err }

// handedOut reports whether err is that of a read that handed rows out.
func handedOut(err error) bool {
	var s *streamed
	return errors.As(err, &s)
}

// streamReplicated is runSelectHere with stream set, on a replica: rows
// go to each as they are read, so the read runs again on another server
// (when it fails on a replica with a fault of the replica) only as long
// as no row has gone out.
func (db *DB) streamReplicated(ctx context.Context, t *table, proj *projection, query string, args []any, allowNoIndex bool, each func(p reflect.Value) error) error {
	err := db.replicas.read(ctx, db, true, func(on *DB) error {
		out := false
		err := on.runSelectHere(ctx, t, proj, query, args, allowNoIndex, true, func(p reflect.Value) error {
			out = true
			return each(p)
		})
		if err != nil && out {
			return &streamed{err}
		}
		return err
	})
	if s, ok := err.(*streamed); ok {
		return s.err
	}
	return err
}

// countReplicated is count on a replica.
func (db *DB) countReplicated(ctx context.Context, t *table, query string, args []any, n *int64) error {
	return db.replicas.read(ctx, db, true, func(on *DB) error {
		return on.count(ctx, t, query, args, n)
	})
}

// mergedReplicated is runMerged on a replica, tried once: its rows go to
// many callers as they are read, so a failed merged read is not run
// again; each caller then reads alone, with retries.
func (db *DB) mergedReplicated(ctx context.Context, t *table, query string, args []any, each func(rows *sql.Rows, set *scanSet) error) error {
	return db.replicas.read(ctx, db, false, func(on *DB) error {
		return on.runMergedHere(ctx, t, query, args, each)
	})
}
