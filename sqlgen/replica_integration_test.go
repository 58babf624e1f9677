package sqlgen_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// mariaServer is a throwaway MariaDB server (sqlgentest.StartServer) that
// a test can kill and start again on the same data and port.
type mariaServer struct {
	t *testing.T
	*sqlgentest.Server
}

func (s *mariaServer) addr() string { return s.Addr }

// newMariaServer starts a throwaway MariaDB with the extra options given;
// t.Cleanup kills it by PID and removes its data.
func newMariaServer(t *testing.T, options ...string) *mariaServer {
	t.Helper()
	s := &mariaServer{t: t, Server: sqlgentest.StartServer(t, options...)}
	if !s.MariaDB {
		t.Fatal("the server found is not MariaDB: the replica tests set up MariaDB GTID replication")
	}
	return s
}

// start starts the server again after kill and waits until it answers.
func (s *mariaServer) start() {
	s.t.Helper()
	if err := s.Start(); err != nil {
		s.t.Fatal(err)
	}
}

// kill kills the server by PID and waits for it to exit.
func (s *mariaServer) kill() { s.Kill() }

func (s *mariaServer) open(dbName string, cfgFns ...func(*mysql.Config)) *sql.DB {
	db, err := s.Open(dbName, cfgFns...)
	if err != nil {
		s.t.Fatal(err)
	}
	return db
}

func (s *mariaServer) exec(query string, args ...any) {
	s.t.Helper()
	db := s.open("")
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		s.t.Fatalf("%s on %s: %v", query, s.addr(), err)
	}
}

// replicaPair is a MariaDB primary and a replica of it, GTID replication.
type replicaPair struct {
	primary, replica *mariaServer
}

func newReplicaPair(t *testing.T) *replicaPair {
	t.Helper()
	var p replicaPair
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.replica = newMariaServer(t, "--server-id=2", "--skip-log-bin", "--gtid-strict-mode=ON")
	}()
	p.primary = newMariaServer(t, "--server-id=1", "--log-bin=primary-bin", "--binlog-format=ROW", "--gtid-strict-mode=ON")
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	p.replica.exec(fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='root', MASTER_PASSWORD='', "+
		"MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos", p.primary.Port))
	p.replica.exec("START SLAVE")
	return &p
}

// sync waits until the replica has applied every transaction of the
// primary.
func (p *replicaPair) sync(t *testing.T) {
	t.Helper()
	pdb := p.primary.open("")
	defer pdb.Close()
	var pos string
	if err := pdb.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	rdb := p.replica.open("")
	defer rdb.Close()
	var res int
	if err := rdb.QueryRow("SELECT MASTER_GTID_WAIT(?, 60)", pos).Scan(&res); err != nil || res != 0 {
		var status string
		rows, _ := rdb.Query("SHOW SLAVE STATUS")
		if rows != nil {
			cols, _ := rows.Columns()
			vals := make([]sql.NullString, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			for rows.Next() {
				rows.Scan(dest...)
				for i, c := range cols {
					status += c + "=" + vals[i].String + " "
				}
			}
			rows.Close()
		}
		t.Fatalf("replica did not reach %s: %d, %v; %s", pos, res, err, status)
	}
}

type rpMarker struct {
	ID    int64  `sql:",primary"`
	Where string `sql:"where"`
}

type rpItem struct {
	ID   int64  `sql:",primary"`
	Body string `sql:"body"`
}

func rpSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("markers", sqlgen.UniqueId, rpMarker{})
	s.MustRegisterType("items", sqlgen.UniqueId, rpItem{})
	return s
}

// TestReplicas runs every read-replica test against a primary and a
// replica of its own.
func TestReplicas(t *testing.T) {
	p := newReplicaPair(t)
	name := "sqlgen_rp"
	p.primary.exec("CREATE DATABASE " + name)
	p.primary.exec("CREATE TABLE " + name + ".markers (id BIGINT PRIMARY KEY, `where` VARCHAR(20) NOT NULL)")
	p.primary.exec("CREATE TABLE " + name + ".items (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
	p.primary.exec("INSERT INTO " + name + ".markers VALUES (1, 'primary')")
	var vals []string
	for i := 1; i <= 3000; i++ {
		vals = append(vals, fmt.Sprintf("(%d, REPEAT('x', 200))", i))
	}
	p.primary.exec("INSERT INTO " + name + ".items VALUES " + strings.Join(vals, ","))
	p.sync(t)
	// The replica's marker says which server answered (the replica has
	// no binary log: the change stays on it).
	p.replica.exec("UPDATE " + name + ".markers SET `where` = 'replica' WHERE id = 1")

	configs := []struct {
		name string
		cfg  func(*mysql.Config)
		opts []sqlgen.Option
	}{
		{"plain", func(*mysql.Config) {}, nil},
		{"interpolate+parseTime", func(c *mysql.Config) { c.InterpolateParams, c.ParseTime = true, true }, nil},
		{"stmtcache+loc", func(c *mysql.Config) {
			loc, err := time.LoadLocation("Asia/Tokyo")
			if err == nil {
				c.Loc = loc
			}
		}, []sqlgen.Option{sqlgen.WithStmtCache(16)}},
	}
	for _, c := range configs {
		t.Run("routing/"+c.name, func(t *testing.T) { testReplicaRouting(t, p, name, c.cfg, c.opts) })
	}
	t.Run("readYourWrites", func(t *testing.T) { testReadYourWrites(t, p, name) })
	t.Run("lag", func(t *testing.T) { testReplicaLag(t, p, name) })
	t.Run("serverCancel", func(t *testing.T) { testReplicaServerCancel(t, p, name) })
	t.Run("delayed", func(t *testing.T) { testReplicaDelayed(t, p, name) })
	for _, c := range configs {
		t.Run("killedMidRead/"+c.name, func(t *testing.T) { testReplicaKilledMidRead(t, p, name, c.cfg, c.opts) })
	}
	t.Run("serverDown", func(t *testing.T) { testReplicaDown(t, p, name) })
}

// rpOpen returns a DB on the primary with the replica given twice (two
// pools of the same server: reads alternate between them).
func rpOpen(t *testing.T, p *replicaPair, name string, cfg func(*mysql.Config), ro sqlgen.ReplicaOptions, opts ...sqlgen.Option) (*sqlgen.DB, *sqlgentest.Recorder) {
	t.Helper()
	log := &sqlgentest.Recorder{}
	if cfg == nil {
		cfg = func(*mysql.Config) {}
	}
	prim := p.primary.open(name, cfg)
	r1, r2 := p.replica.open(name, cfg), p.replica.open(name, cfg)
	t.Cleanup(func() { prim.Close(); r1.Close(); r2.Close() })
	opts = append(opts, sqlgen.WithReplicas(r1, r2), sqlgen.WithReplicaOptions(ro), sqlgen.WithObserver(log.Observe))
	db := sqlgen.NewDB(prim, rpSchema(), opts...)
	t.Cleanup(func() { db.Close() })
	return db, log
}

func whereOf(t *testing.T, db *sqlgen.DB, ctx context.Context, opts *sqlgen.SelectOptions) string {
	t.Helper()
	var m *rpMarker
	if err := db.QueryRow(ctx, &m, sqlgen.Filter{"id": 1}, opts); err != nil {
		t.Fatal(err)
	}
	return m.Where
}

func testReplicaRouting(t *testing.T, p *replicaPair, name string, cfg func(*mysql.Config), opts []sqlgen.Option) {
	db, log := rpOpen(t, p, name, cfg, sqlgen.ReplicaOptions{}, opts...)
	ctx := context.Background()
	if got := whereOf(t, db, ctx, nil); got != "replica" {
		t.Errorf("QueryRow answered by %s, want replica", got)
	}
	var ms []*rpMarker
	if err := db.Query(ctx, &ms, sqlgen.Filter{"id": 1}, nil); err != nil || len(ms) != 1 || ms[0].Where != "replica" {
		t.Errorf("Query: %v %v, want the replica's row", err, ms)
	}
	if n, err := db.Count(ctx, &rpMarker{}, sqlgen.Filter{"where": "replica"}); err != nil || n != 1 {
		t.Errorf("Count of the replica's marker = %d, %v; want 1 (read on the replica)", n, err)
	}
	if m, err := sqlgen.Get[rpMarker](ctx, db, sqlgen.Filter{"id": 1}, nil); err != nil || m.Where != "replica" {
		t.Errorf("Get: %v %v, want the replica's row", err, m)
	}
	// Reads spread over both replicas.
	log.Take()
	for i := 0; i < 4; i++ {
		whereOf(t, db, ctx, nil)
	}
	seen := map[int]int{}
	for _, e := range log.Take() {
		seen[e.Replica]++
	}
	if seen[1] == 0 || seen[2] == 0 || seen[0] != 0 {
		t.Errorf("reads by replica number: %v, want both replicas and not the primary", seen)
	}
	// Concurrent reads, in turn over the replicas.
	var cwg sync.WaitGroup
	for g := 0; g < 8; g++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for i := 0; i < 10; i++ {
				var m *rpMarker
				if err := db.QueryRow(ctx, &m, sqlgen.Filter{"id": 1}, nil); err != nil || m.Where != "replica" {
					t.Errorf("concurrent read: %v %v", m, err)
					return
				}
			}
		}()
	}
	cwg.Wait()
	// The primary's.
	if got := whereOf(t, db, sqlgen.OnPrimary(ctx), nil); got != "primary" {
		t.Errorf("QueryRow under OnPrimary answered by %s", got)
	}
	if got := whereOf(t, db, ctx, &sqlgen.SelectOptions{ForUpdate: true}); got != "primary" {
		t.Errorf("QueryRow with ForUpdate answered by %s", got)
	}
	err := db.Transact(ctx, func(ctx context.Context) error {
		if got := whereOf(t, db, ctx, nil); got != "primary" {
			t.Errorf("QueryRow in a transaction answered by %s", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Batched reads: replica callers and OnPrimary callers apart.
	bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(20*time.Millisecond))
	var wg sync.WaitGroup
	got := make([]string, 6)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := bctx
			if i%2 == 1 {
				c = sqlgen.OnPrimary(bctx)
			}
			var m *rpMarker
			if err := db.QueryRow(c, &m, sqlgen.Filter{"id": 1}, nil); err != nil {
				t.Error(err)
				return
			}
			got[i] = m.Where
		}()
	}
	wg.Wait()
	for i, g := range got {
		want := "replica"
		if i%2 == 1 {
			want = "primary"
		}
		if g != want {
			t.Errorf("batched read %d answered by %s, want %s", i, g, want)
		}
	}
	// Writes go to the primary.
	log.Take()
	if _, err := db.UpsertRow(ctx, &rpItem{ID: 100000, Body: "w"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range log.Take() {
		if e.Replica != 0 {
			t.Errorf("write %s ran on replica %d", e.Op, e.Replica)
		}
	}
	// RefuseFullScans' EXPLAIN runs where the read runs.
	strict := db.RefuseFullScans()
	log.Take()
	if got := whereOf(t, strict, ctx, nil); got != "replica" {
		t.Errorf("RefuseFullScans read answered by %s", got)
	}
	for _, e := range log.Take() {
		if e.Replica == 0 {
			t.Errorf("%s ran on the primary, want the replica", e.Op)
		}
	}
}

func testReadYourWrites(t *testing.T, p *replicaPair, name string) {
	const bound = 700 * time.Millisecond
	// A lag check only at the first read: the waits are what is tested.
	db, log := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{ReadYourWritesWait: bound, LagCheckInterval: time.Hour})
	ctx := context.Background()
	whereOf(t, db, ctx, nil)
	// db2's replicas are lag-checked now and not skipped later by db's
	// failed waits.
	db2, _ := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{ReadYourWritesWait: bound, LagCheckInterval: time.Hour})
	whereOf(t, db2, ctx, nil)
	db3, _ := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{ReadYourWritesWait: bound, LagCheckInterval: time.Hour})
	whereOf(t, db3, ctx, nil)

	// Replication running: the read after the write is answered by a
	// replica, which waited for the write.
	for i := int64(0); i < 20; i++ {
		wctx := sqlgen.WithReadYourWrites(ctx)
		id := 200000 + i
		if _, err := db.InsertRow(wctx, &rpItem{ID: id, Body: "ryw"}); err != nil {
			t.Fatal(err)
		}
		log.Take()
		var it *rpItem
		if err := db.QueryRow(wctx, &it, sqlgen.Filter{"id": id}, nil); err != nil {
			t.Fatalf("read after write %d: %v", id, err)
		}
		replica := false
		for _, e := range log.Take() {
			if e.Op == "query" && e.Replica != 0 {
				replica = true
			}
		}
		if !replica {
			t.Errorf("read after write %d did not run on a replica", id)
		}
	}
	// After a Transact.
	wctx := sqlgen.WithReadYourWrites(ctx)
	if err := db.Transact(wctx, func(ctx context.Context) error {
		_, err := db.InsertRow(ctx, &rpItem{ID: 210000, Body: "tx"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlgen.Get[rpItem](wctx, db, sqlgen.Filter{"id": 210000}, nil); err != nil {
		t.Fatalf("read after Transact: %v", err)
	}

	// SQL thread stopped: the read waits up to the bound, then reads the
	// primary, and sees the write.
	p.replica.exec("STOP SLAVE SQL_THREAD")
	defer p.replica.exec("START SLAVE SQL_THREAD")
	var wg sync.WaitGroup
	shared := sqlgen.WithReadYourWrites(ctx) // one context, written and read by every goroutine
	for g := int64(0); g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx := shared
			id := 220000 + g
			if _, err := db.InsertRow(wctx, &rpItem{ID: id, Body: "stopped"}); err != nil {
				t.Error(err)
				return
			}
			start := time.Now()
			n, err := db.Count(wctx, &rpItem{}, sqlgen.Filter{"id": id})
			if err != nil || n != 1 {
				t.Errorf("Count after write %d with the replica stopped = %d, %v; want 1", id, n, err)
			}
			if d := time.Since(start); d > bound+5*time.Second {
				t.Errorf("read took %v, bound %v", d, bound)
			}
		}()
	}
	wg.Wait()
	// A batch of InsertRows (its own transaction, committed out of the
	// write path's sight) with the SQL thread stopped: the read still
	// sees it.
	bctx := sqlgen.WithReadYourWrites(ctx)
	rows := []*rpItem{{ID: 230000, Body: "b"}, {ID: 230001, Body: "b"}}
	if err := db2.InsertRows(bctx, rows, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := db2.Count(bctx, &rpItem{}, sqlgen.Filter{"id": []int64{230000, 230001}}); err != nil || n != 2 {
		t.Errorf("Count after InsertRows with the replica stopped = %d, %v; want 2", n, err)
	}
	// A Transact (recorded at its commit) with the SQL thread stopped.
	tctx := sqlgen.WithReadYourWrites(ctx)
	if err := db3.Transact(tctx, func(ctx context.Context) error {
		_, err := db3.InsertRow(ctx, &rpItem{ID: 240000, Body: "tx"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlgen.Get[rpItem](tctx, db3, sqlgen.Filter{"id": 240000}, nil); err != nil {
		t.Errorf("read after Transact with the replica stopped: %v", err)
	}
}

func testReplicaLag(t *testing.T, p *replicaPair, name string) {
	db, log := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{LagCheckInterval: 100 * time.Millisecond, RetryAfter: 300 * time.Millisecond})
	ctx := context.Background()
	if got := whereOf(t, db, ctx, nil); got != "replica" {
		t.Fatalf("read answered by %s before the stop", got)
	}
	p.replica.exec("STOP SLAVE SQL_THREAD")
	defer p.replica.exec("START SLAVE SQL_THREAD")
	if _, err := db.InsertRow(ctx, &rpItem{ID: 300000, Body: "lag"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	for i := 0; i < 5; i++ {
		if got := whereOf(t, db, ctx, nil); got != "primary" {
			t.Errorf("read %d with the replication stopped answered by %s", i, got)
		}
		if it, err := sqlgen.Get[rpItem](ctx, db, sqlgen.Filter{"id": 300000}, nil); err != nil || it.Body != "lag" {
			t.Errorf("Get of the new row with the replica stopped: %v, %v", it, err)
		}
		time.Sleep(120 * time.Millisecond)
	}
	for _, e := range log.Take() {
		if e.Err != nil {
			t.Errorf("event %+v", e)
		}
	}
	p.replica.exec("START SLAVE SQL_THREAD")
	p.sync(t)
	deadline := time.Now().Add(5 * time.Second)
	for whereOf(t, db, ctx, nil) != "replica" {
		if time.Now().After(deadline) {
			t.Fatal("the replica serves no read after its replication resumed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testReplicaDelayed: a replica whose Seconds_Behind_Master passes
// MaxLag (delayed replication) is skipped; it serves again once it
// catches up.
func testReplicaDelayed(t *testing.T, p *replicaPair, name string) {
	db, _ := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{MaxLag: time.Second, LagCheckInterval: 100 * time.Millisecond, RetryAfter: 200 * time.Millisecond})
	ctx := context.Background()
	if got := whereOf(t, db, ctx, nil); got != "replica" {
		t.Fatalf("read answered by %s before the delay", got)
	}
	p.replica.exec("STOP SLAVE")
	p.replica.exec("CHANGE MASTER TO MASTER_DELAY=60")
	p.replica.exec("START SLAVE")
	defer func() {
		p.replica.exec("STOP SLAVE")
		p.replica.exec("CHANGE MASTER TO MASTER_DELAY=0")
		p.replica.exec("START SLAVE")
		p.sync(t)
	}()
	if _, err := db.InsertRow(ctx, &rpItem{ID: 400000, Body: "delayed"}); err != nil {
		t.Fatal(err)
	}
	// Seconds_Behind_Master grows past MaxLag while the event waits.
	time.Sleep(2500 * time.Millisecond)
	for i := 0; i < 5; i++ {
		if got := whereOf(t, db, ctx, nil); got != "primary" {
			t.Errorf("read %d with the replica delayed answered by %s", i, got)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// testReplicaServerCancel: a read on a replica whose context ends is
// stopped on the replica (KILL QUERY sent there), and the caller gets the
// context's error, not a retry on the primary.
func testReplicaServerCancel(t *testing.T, p *replicaPair, name string) {
	db, log := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var items []*rpItem
	err := db.Query(ctx, &items, nil, &sqlgen.SelectOptions{Where: "id <= 3000 AND SLEEP(0.01) = 0", AllowNoIndex: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Query past its deadline: %v, want context.DeadlineExceeded", err)
	}
	killed := false
	for _, e := range log.Take() {
		if e.Op == "kill" && e.Replica != 0 && e.Err == nil {
			killed = true
		}
		if e.Op == "query" && e.Replica == 0 {
			t.Errorf("the read ran again on the primary after its context ended: %+v", e)
		}
	}
	if !killed {
		t.Error("no KILL QUERY was sent to the replica")
	}
	admin := p.replica.open("")
	defer admin.Close()
	// A loaded server may take a moment to act on the KILL: up to 3 s.
	var n int
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%SLEEP(0.01)%' AND info NOT LIKE '%processlist%'").Scan(&n)
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("statements still running on the replica 3 s after the KILL: %d, %v", n, err)
			break
		}
	}
}

// bigRead is a Query of every item that takes a while on the server.
func bigRead(ctx context.Context, db *sqlgen.DB) ([]*rpItem, error) {
	var items []*rpItem
	err := db.Query(ctx, &items, nil, &sqlgen.SelectOptions{Where: "id <= 3000 AND SLEEP(0.0005) = 0", AllowNoIndex: true})
	return items, err
}

func testReplicaKilledMidRead(t *testing.T, p *replicaPair, name string, cfg func(*mysql.Config), opts []sqlgen.Option) {
	db, log := rpOpen(t, p, name, cfg, sqlgen.ReplicaOptions{RetryAfter: 200 * time.Millisecond}, opts...)
	admin := p.replica.open("")
	defer admin.Close()
	for _, stmt := range []string{"KILL QUERY", "KILL"} {
		log.Take()
		done := make(chan struct{})
		killed := make(chan string, 1)
		go func() {
			defer close(done)
			for i := 0; i < 400; i++ {
				var id int64
				err := admin.QueryRow("SELECT id FROM information_schema.processlist WHERE info LIKE '%SLEEP(0.0005)%' AND info NOT LIKE '%processlist%' LIMIT 1").Scan(&id)
				if err == nil {
					time.Sleep(100 * time.Millisecond)
					if _, err := admin.Exec(stmt + " " + strconv.FormatInt(id, 10)); err == nil {
						killed <- stmt
					}
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		items, err := bigRead(context.Background(), db)
		<-done
		if err != nil {
			t.Fatalf("%s mid-read: the caller sees %v", stmt, err)
		}
		if len(items) != 3000 {
			t.Fatalf("%s mid-read: %d rows, want 3000", stmt, len(items))
		}
		select {
		case <-killed:
		default:
			t.Fatalf("%s: the read was not seen on the replica", stmt)
		}
		var failed, redone bool
		for _, e := range log.Take() {
			if e.Op == "query" && e.Replica != 0 && e.Err != nil {
				failed = true
			}
			if e.Op == "query" && failed && e.Err == nil {
				redone = true
			}
		}
		if !failed || !redone {
			t.Errorf("%s: want a failed read on the replica then a good one elsewhere; failed %v, redone %v", stmt, failed, redone)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func testReplicaDown(t *testing.T, p *replicaPair, name string) {
	db, log := rpOpen(t, p, name, nil, sqlgen.ReplicaOptions{RetryAfter: 300 * time.Millisecond, LagCheckInterval: time.Hour})
	ctx := context.Background()
	if got := whereOf(t, db, ctx, nil); got != "replica" {
		t.Fatalf("read answered by %s", got)
	}
	// Killed while a large Query is reading.
	errc := make(chan error, 1)
	var items []*rpItem
	go func() {
		var err error
		items, err = bigRead(ctx, db)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	p.replica.kill()
	if err := <-errc; err != nil || len(items) != 3000 {
		t.Fatalf("Query with the replica killed mid-read: %d rows, %v", len(items), err)
	}
	failed := false
	for _, e := range log.Take() {
		if e.Op == "query" && e.Replica != 0 && e.Err != nil && strings.Contains(e.SQL, "SLEEP") {
			failed = true
		}
	}
	if !failed {
		t.Error("the large read was not cut on the replica by the kill (no failed read of it there)")
	}
	// Down: refused connections, then skipped, then refused again.
	for i := 0; i < 10; i++ {
		if got := whereOf(t, db, ctx, nil); got != "primary" {
			t.Errorf("read %d with the replica down answered by %s", i, got)
		}
		if n, err := db.Count(ctx, &rpItem{}, sqlgen.Filter{"id": 1}); err != nil || n != 1 {
			t.Errorf("Count with the replica down: %d, %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.replica.start()
	deadline := time.Now().Add(10 * time.Second)
	for whereOf(t, db, ctx, nil) != "replica" {
		if time.Now().After(deadline) {
			t.Fatal("the restarted replica serves no read")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
