package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/live/livetest"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type Item struct {
	ID    int64 `sql:",primary"`
	Owner int64
	Name  string
	Data  []byte
	Price float64
	Score float32
	Big   uint64
	Small int8
	When  time.Time
	Stamp time.Time
	Day   time.Time
	Doc   map[string]any `sql:",json"`
	Note  *string
	Dec   string
	Kind  string
	Tags  string
	Dur   string
	Bits  []byte
	Year  int
}

const itemDDL = "CREATE TABLE item (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL, name VARCHAR(300) COLLATE utf8mb4_bin NOT NULL, " +
	"data BLOB, price DOUBLE NOT NULL, score FLOAT NOT NULL, big BIGINT UNSIGNED NOT NULL, small TINYINT NOT NULL, " +
	"`when` DATETIME(6) NOT NULL, stamp TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), day DATE NOT NULL, doc JSON, note TEXT, " +
	"`dec` DECIMAL(30,4) NOT NULL, kind ENUM('alpha','beta','gamma') NOT NULL, tags SET('x','y','z') NOT NULL, dur TIME(3) NOT NULL, " +
	"bits BIT(12), `year` YEAR NOT NULL, KEY (owner))"

func itemSchema(t testing.TB) *sqlgen.Schema {
	s := sqlgen.NewSchema()
	if err := s.RegisterType("item", sqlgen.AutoIncrement, Item{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func openFeed(t testing.TB, dsn string, s *sqlgen.Schema, opts ...Option) *Feed {
	t.Helper()
	f, err := Open(context.Background(), dsn, s, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func sampleItem(id int64) *Item {
	note := fmt.Sprintf("note %d", id)
	return &Item{
		ID: id, Owner: id % 3, Name: fmt.Sprintf("name-%d ü", id), Data: []byte{0, 1, byte(id)},
		Price: 1.1 * float64(id), Score: 2.5, Big: 1<<63 + uint64(id), Small: -5,
		When:  time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC),
		Stamp: time.Date(2023, 6, 1, 2, 3, 4, 567000000, time.UTC),
		Day:   time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		Doc:   map[string]any{"a": "b", "n": []any{true, nil, "x"}},
		Note:  &note, Dec: "-12345678901234.5678", Kind: "beta", Tags: "x,z", Dur: "-838:59:58.250",
		Bits: []byte{0x0a, 0xbc}, Year: 2024,
	}
}

// next reads the next value of a pull iterator with a deadline.
func next[V any](t testing.TB, ch <-chan V, d time.Duration) V {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("nothing within %v", d)
	}
	var zero V
	return zero
}

type changeOrErr struct {
	c   Change
	err error
}

// collect runs f.Changes in a goroutine and sends what it yields.
func collect(t testing.TB, f *Feed, tables ...string) <-chan changeOrErr {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan changeOrErr, 10000)
	done := make(chan struct{})
	f.mu.Lock()
	n0 := len(f.subs)
	f.mu.Unlock()
	go func() {
		defer close(done)
		for c, err := range f.Changes(ctx, tables...) {
			ch <- changeOrErr{c, err}
			if err != nil && ctx.Err() != nil {
				return
			}
		}
	}()
	// Changes subscribes when iterated: wait for it.
	for {
		f.mu.Lock()
		n := len(f.subs)
		f.mu.Unlock()
		if n > n0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// TestChangesDecodeLikeRead: every column type of an insert, update and
// delete arrives as the struct a read of the row gives, under each DSN
// setting that changes the read path.
func TestChangesDecodeLikeRead(t *testing.T) {
	dsn, db := newDatabase(t, "", itemDDL)
	s := itemSchema(t)
	f := openFeed(t, dsn, s)
	ch := collect(t, f, "item")
	sdb := sqlgen.NewDB(db, s)
	ctx := ctxT(t, 30*time.Second)

	in := sampleItem(7)
	if _, err := sdb.InsertRow(ctx, in); err != nil {
		t.Fatal(err)
	}
	got := next(t, ch, 10*time.Second)
	if got.err != nil || got.c.Before != nil || got.c.After == nil || got.c.Table != "item" {
		t.Fatalf("insert: %+v", got)
	}
	checkLikeRead(t, dsn, s, got.c.After.(*Item), 7)

	upd := *in
	upd.Name, upd.Note, upd.Doc, upd.Bits, upd.Kind = "renamed", nil, nil, nil, "gamma"
	upd.Dec = "0.0001"
	if err := sdb.UpdateRow(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got = next(t, ch, 10*time.Second)
	if got.err != nil || got.c.Before == nil || got.c.After == nil {
		t.Fatalf("update: %+v", got)
	}
	if b := got.c.Before.(*Item); b.Name != in.Name || b.Kind != "beta" {
		t.Fatalf("before image %+v", b)
	}
	a := checkLikeRead(t, dsn, s, got.c.After.(*Item), 7)
	if a.Note != nil || a.Doc != nil || a.Dec != "0.0001" || a.Kind != "gamma" {
		t.Fatalf("after image %+v", a)
	}

	if err := sdb.DeleteRow(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got = next(t, ch, 10*time.Second)
	if got.err != nil || got.c.Before == nil || got.c.After != nil {
		t.Fatalf("delete: %+v", got)
	}
	if !reflect.DeepEqual(got.c.Before, a) {
		t.Fatalf("delete's before image %+v, want %+v", got.c.Before, a)
	}
}

// checkLikeRead compares a change's image with reads of the row under
// each DSN setting that changes the read path.
func checkLikeRead(t *testing.T, dsn string, s *sqlgen.Schema, img *Item, id int64) *Item {
	t.Helper()
	// Times decode as UTC, the reading of the default loc=UTC; a DSN with
	// another loc reads DATETIME as that zone's wall clock (see README).
	for _, p := range []string{"", "parseTime=true", "interpolateParams=true", "parseTime=true&interpolateParams=true"} {
		d := dsn
		if p != "" {
			d += "?" + p
		}
		conn, err := sql.Open("mysql", d)
		if err != nil {
			t.Fatal(err)
		}
		read, err := sqlgen.Get[Item](context.Background(), sqlgen.NewDB(conn, s), sqlgen.Filter{"id": id}, nil)
		conn.Close()
		if err != nil {
			t.Fatalf("read (%s): %v", p, err)
		}
		if !reflect.DeepEqual(img, read) {
			t.Errorf("DSN %q: binlog image\n %+v\nread\n %+v", p, *img, *read)
		}
	}
	return img
}

// TestChangesTransactionTogether: the changes of one transaction arrive
// one after the other, in order, with nothing of other transactions
// between them, and the position advances past it.
func TestChangesTransactionTogether(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	f := openFeed(t, dsn, s)
	ch := collect(t, f)
	pos0 := f.Position()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				tx, err := db.Begin()
				if err != nil {
					t.Error(err)
					return
				}
				base := int64(w*1000 + i*10)
				for k := range 3 {
					if _, err := tx.Exec("INSERT INTO item2 VALUES (?, ?)", base+int64(k), base); err != nil {
						t.Error(err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for range 40 {
		var owner int64 = -1
		for k := range 3 {
			got := next(t, ch, 10*time.Second)
			if got.err != nil {
				t.Fatal(got.err)
			}
			a := got.c.After.(*Item2)
			if owner == -1 {
				owner = a.Owner
			}
			if a.Owner != owner || a.ID != owner+int64(k) {
				t.Fatalf("transaction of owner %d interleaved or out of order: got %+v", owner, a)
			}
		}
	}
	if f.Position() == pos0 {
		t.Fatalf("position did not advance from %q", pos0)
	}
}

// TestResumeAfterDroppedConnection: the replication connection is killed
// repeatedly while transactions commit; every row arrives once, in order.
func TestResumeAfterDroppedConnection(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	f := openFeed(t, dsn, s, WithRetry(20*time.Millisecond))
	ch := collect(t, f)
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			if _, err := db.Exec("INSERT INTO item2 VALUES (?, 0)", i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	kills := 0
	for k := 0; k < 5; k++ {
		time.Sleep(30 * time.Millisecond)
		f.mu.Lock()
		id := f.connID
		f.mu.Unlock()
		if _, err := db.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err == nil {
			kills++
		}
	}
	<-done
	for i := int64(1); i <= n; i++ {
		got := next(t, ch, 15*time.Second)
		if got.err != nil {
			t.Fatal(got.err)
		}
		if a := got.c.After.(*Item2); a.ID != i {
			t.Fatalf("row %d arrived as row %d (a gap or a duplicate)", a.ID, i)
		}
	}
	select {
	case got := <-ch:
		t.Fatalf("extra change %+v", got)
	case <-time.After(200 * time.Millisecond):
	}
	f.mu.Lock()
	rc := f.reconnects
	f.mu.Unlock()
	if kills == 0 || rc == 0 {
		t.Fatalf("the test did not drop the connection: %d kills, %d reconnects", kills, rc)
	}
}

// TestAlterTableDuringFeed: columns are mapped by name, so adding and
// reordering columns while the feed runs is handled.
func TestAlterTableDuringFeed(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL, name VARCHAR(20) NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
		Name  string
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	f := openFeed(t, dsn, s)
	ch := collect(t, f)
	exec1(t, db, "INSERT INTO item2 VALUES (1, 10, 'a')")
	exec1(t, db, "ALTER TABLE item2 ADD COLUMN extra INT NOT NULL DEFAULT 7 FIRST, MODIFY name VARCHAR(20) NOT NULL AFTER extra")
	exec1(t, db, "INSERT INTO item2 (id, owner, name) VALUES (2, 20, 'b')")
	exec1(t, db, "UPDATE item2 SET owner = 21 WHERE id = 2")
	want := []Item2{{1, 10, "a"}, {2, 20, "b"}, {2, 21, "b"}}
	for _, w := range want {
		got := next(t, ch, 10*time.Second)
		if got.err != nil {
			t.Fatal(got.err)
		}
		if a := got.c.After.(*Item2); *a != w {
			t.Fatalf("got %+v, want %+v", *a, w)
		}
	}
	// A registered column dropped from the table is an error in the
	// stream, naming it, and the stream goes on.
	exec1(t, db, "ALTER TABLE item2 DROP COLUMN name")
	exec1(t, db, "INSERT INTO item2 (id, owner) VALUES (3, 30)")
	got := next(t, ch, 10*time.Second)
	if got.err == nil || !strings.Contains(got.err.Error(), `"name"`) {
		t.Fatalf("want an error naming the missing column, got %+v", got)
	}
}

// TestOpenChecksServer: a server without a binary log is refused at once;
// a missing setting is named.
func TestOpenChecksServer(t *testing.T) {
	needServer(t)
	s := itemSchema(t)
	nolog, err := livetest.New(false)
	if err != nil {
		t.Fatal(err)
	}
	defer nolog.Stop()
	start := time.Now()
	_, err = Open(context.Background(), nolog.DSN, s)
	if !errors.Is(err, ErrServerConfig) || !strings.Contains(err.Error(), "log_bin") {
		t.Fatalf("Open on a server without a binary log: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("refusal took %v", d)
	}
	root, err := sql.Open("mysql", binlogDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, c := range []struct{ name, bad, good string }{
		{"binlog_format", "MIXED", "ROW"},
		{"binlog_row_image", "MINIMAL", "FULL"},
		{"binlog_row_metadata", "MINIMAL", "FULL"},
	} {
		// A setting changed for the whole server: this test does not run
		// in parallel with the others.
		exec1(t, root, fmt.Sprintf("SET GLOBAL %s = '%s'", c.name, c.bad))
		_, err := Open(context.Background(), binlogDSN, s)
		exec1(t, root, fmt.Sprintf("SET GLOBAL %s = '%s'", c.name, c.good))
		if !errors.Is(err, ErrServerConfig) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s=%s: Open error %v, want one naming it", c.name, c.bad, err)
		}
	}
}

// TestPurgedPositionIsError: resuming from a position the server purged is
// an error, not silence.
func TestPurgedPositionIsError(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	exec1(t, db, "INSERT INTO item2 VALUES (1, 1)")
	var old string
	if err := db.QueryRow("SELECT @@gtid_binlog_pos").Scan(&old); err != nil {
		t.Fatal(err)
	}
	exec1(t, db, "INSERT INTO item2 VALUES (2, 1)")
	// Purge every log but the current one; the server keeps a log that a
	// dump thread or crash recovery still needs, so retry until it went.
	deadline := time.Now().Add(15 * time.Second)
	for {
		exec1(t, db, "FLUSH BINARY LOGS")
		var file string
		var posn int64
		var x1, x2 []byte
		if err := db.QueryRow("SHOW MASTER STATUS").Scan(&file, &posn, &x1, &x2); err != nil {
			t.Fatal(err)
		}
		exec1(t, db, "PURGE BINARY LOGS TO '"+file+"'")
		var n int
		rows, err := db.Query("SHOW BINARY LOGS")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			n++
		}
		rows.Close()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("could not purge the binary logs: %d left", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f, err := Open(context.Background(), dsn, s, StartAt(old))
	if err != nil {
		if !errors.Is(err, ErrPurged) {
			t.Fatalf("Open: %v, want ErrPurged", err)
		}
		return
	}
	defer f.Close()
	for c, err := range f.Changes(ctxT(t, 10*time.Second)) {
		if !errors.Is(err, ErrPurged) {
			t.Fatalf("got %+v, %v; want an error wrapping ErrPurged", c, err)
		}
		break
	}
}

// TestIdleFeedKeepsStreaming: heartbeat events on an idle connection do
// not disturb the stream.
func TestIdleFeedKeepsStreaming(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	f := openFeed(t, dsn, s, withHeartbeat(50*time.Millisecond))
	ch := collect(t, f)
	time.Sleep(400 * time.Millisecond)
	exec1(t, db, "INSERT INTO item2 VALUES (1, 1)")
	if got := next(t, ch, 10*time.Second); got.err != nil || got.c.After.(*Item2).ID != 1 {
		t.Fatalf("got %+v", got)
	}
	f.mu.Lock()
	rc := f.reconnects
	f.mu.Unlock()
	if rc != 0 {
		t.Fatalf("%d reconnects on an idle feed", rc)
	}
}

// TestDroppedTableDoesNotStopFeed: a table dropped right after its rows
// changed (its visibility read finds no table) does not stop the feed.
func TestDroppedTableDoesNotStopFeed(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	f := openFeed(t, dsn, s)
	ch := collect(t, f)
	for i := range 20 {
		exec1(t, db, "INSERT INTO item2 VALUES (?, 1)", i)
		if i == 10 {
			exec1(t, db, "DROP TABLE item2")
			exec1(t, db, "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
		}
	}
	for i := range 20 {
		got := next(t, ch, 10*time.Second)
		if got.err != nil || got.c.After.(*Item2).ID != int64(i) {
			t.Fatalf("change %d: %+v", i, got)
		}
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestChangesEndsOnClose: Close ends the iterators with ErrClosed.
func TestChangesEndsOnClose(t *testing.T) {
	dsn, _ := newDatabase(t, "")
	f := openFeed(t, dsn, itemSchema(t))
	errc := make(chan error, 1)
	go func() {
		for _, err := range f.Changes(context.Background()) {
			errc <- err
			return
		}
	}()
	time.Sleep(50 * time.Millisecond)
	f.Close()
	if err := next(t, errc, 5*time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

// TestUndecodableRowIsErrorInStream: a row that does not fit its Go field
// is an error in place of its change, naming the column, and the stream
// goes on; other tables' subscribers do not see it.
func TestUndecodableRowIsErrorInStream(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE tiny (id BIGINT PRIMARY KEY, v INT NOT NULL)", counterDDL)
	type Tiny struct {
		ID int64 `sql:",primary"`
		V  int8
	}
	s := counterSchema()
	s.MustRegisterType("tiny", sqlgen.AutoIncrement, Tiny{})
	f := openFeed(t, dsn, s)
	ch := collect(t, f, "tiny")
	other := collect(t, f, "counter")
	exec1(t, db, "INSERT INTO tiny VALUES (1, 1000)")
	exec1(t, db, "INSERT INTO counter VALUES (1, 1, 'x', 0)")
	exec1(t, db, "INSERT INTO tiny VALUES (2, 100)")
	got := next(t, ch, 10*time.Second)
	if got.err == nil || !strings.Contains(got.err.Error(), "tiny") || !strings.Contains(got.err.Error(), "V") {
		t.Fatalf("want an error naming the table and field, got %+v", got)
	}
	got = next(t, ch, 10*time.Second)
	if got.err != nil || got.c.Table != "tiny" || got.c.After.(*Tiny).V != 100 {
		t.Fatalf("after the error: %+v", got)
	}
	if got := next(t, other, 10*time.Second); got.err != nil || got.c.Table != "counter" {
		t.Fatalf("the counter subscriber got %+v", got)
	}
	select {
	case got := <-other:
		t.Fatalf("the counter subscriber got %+v", got)
	case <-time.After(100 * time.Millisecond):
	}
}
