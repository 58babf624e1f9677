package sqlgen_test

import (
	"bytes"
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

	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// throwawayServer starts a server of its own for t (sqlgentest.StartServer)
// with the extra server options given, and returns its address. Tests that
// need a server setting that others must not see (a small
// max_allowed_packet) use one instead of the shared test server.
func throwawayServer(t *testing.T, options ...string) string {
	t.Helper()
	return sqlgentest.StartServer(t, options...).Addr
}

// openOn creates database name on the server at addr (with ddl) and
// returns a one-connection pool to it with cfgFn applied to its DSN.
func openOn(t *testing.T, addr, name string, ddl []string, cfgFn func(*mysql.Config)) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", addr
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	if cfgFn != nil {
		cfgFn(cfg)
	}
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// One connection: a connection the server dropped would be the very
	// one the next call gets.
	conn.SetMaxOpenConns(1)
	for _, s := range ddl {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return conn
}

type pktBlob struct {
	ID  int64 `sql:",primary"`
	A   []byte
	B   *string
	Doc map[string]string `sql:",json"`
}

type pktKeyed struct {
	K string `sql:",primary"`
	V string
}

var pktDDL = []string{
	"CREATE TABLE blobs (id BIGINT PRIMARY KEY, a LONGBLOB NULL, b LONGTEXT NULL, doc JSON NULL)",
	"CREATE TABLE keyed (k VARCHAR(255) PRIMARY KEY, v LONGTEXT NOT NULL)",
}

func pktSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType("blobs", sqlgen.UniqueID, pktBlob{})
	s.MustRegisterType("keyed", sqlgen.UniqueID, pktKeyed{})
	return s
}

const testPacket = 1 << 20 // the throwaway server's max_allowed_packet

// wantTooLarge checks that err refuses a statement as too large, naming
// table and column (if column is set) and the server's limit.
func wantTooLarge(t *testing.T, what string, err error, table, column string) {
	t.Helper()
	var fe *fields.Error
	switch {
	case !errors.Is(err, sqlgen.ErrTooLarge):
		t.Errorf("%s: %v, want ErrTooLarge", what, err)
	case !strings.Contains(err.Error(), "max_allowed_packet of "+strconv.Itoa(testPacket)+" bytes"):
		t.Errorf("%s: %q does not give the server's limit", what, err)
	case column != "" && (!errors.As(err, &fe) || fe.Table != table || fe.Column != column || fe.Field == ""):
		t.Errorf("%s: %v, want a *fields.Error naming %s.%s and its field", what, err, table, column)
	}
}

func TestMaxAllowedPacket(t *testing.T) {
	t.Parallel()
	addr := throwawayServer(t, "--max-allowed-packet="+strconv.Itoa(testPacket))

	// First, alone on the server (the parallel subtests wait for the
	// body of this test to end): max_allowed_packet lowered after the DB
	// read it. The statement the DB lets through fails at the server,
	// which drops the connection; the DB reads the limit again and the
	// next calls, on the same one-connection pool, work.
	t.Run("lowered", func(t *testing.T) {
		admin := openOn(t, addr, "lowered", pktDDL, nil)
		if _, err := admin.Exec("SET GLOBAL max_allowed_packet = 4194304"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := admin.Exec("SET GLOBAL max_allowed_packet = " + strconv.Itoa(testPacket)); err != nil {
				t.Error(err)
			}
		})
		conn := openOn(t, addr, "lowered2", pktDDL, nil)
		db := sqlgen.NewDB(conn, pktSchema())
		ctx := context.Background()
		row := func(id int64, n int) *pktBlob { return &pktBlob{ID: id, A: bytes.Repeat([]byte("x"), n)} }
		if _, err := db.InsertRow(ctx, row(1, 2<<20)); err != nil { // the DB reads 4 MiB
			t.Fatal(err)
		}
		if _, err := admin.Exec("SET GLOBAL max_allowed_packet = " + strconv.Itoa(testPacket)); err != nil {
			t.Fatal(err)
		}
		conn.SetMaxIdleConns(0) // the next connection has the new limit
		conn.SetMaxIdleConns(1)
		if _, err := db.InsertRow(ctx, row(2, 2<<20)); err == nil {
			t.Fatal("a 2 MiB row went through a 1 MiB max_allowed_packet")
		}
		if n, err := db.Count(ctx, &pktBlob{}, nil); err != nil || n != 1 {
			t.Fatalf("the call after the dropped connection: %d, %v", n, err)
		}
		_, err := db.InsertRow(ctx, row(2, 2<<20))
		wantTooLarge(t, "the same insert again", err, "blobs", "a")
		if n, err := db.Count(ctx, &pktBlob{}, nil); err != nil || n != 1 {
			t.Fatalf("the call after the refusal: %d, %v", n, err)
		}
	})

	type path struct {
		name        string
		interpolate bool
		cache       bool
	}
	for _, p := range []path{{"binary", false, false}, {"interpolateParams", true, false},
		{"stmtCache", false, true}, {"stmtCache+interpolateParams", true, true}} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			conn := openOn(t, addr, strings.ReplaceAll(strings.ToLower(p.name), "+", "_"), pktDDL, func(c *mysql.Config) {
				c.InterpolateParams = p.interpolate
			})
			log := &sqlgentest.Recorder{}
			opts := []sqlgen.Option{sqlgen.WithObserver(log.Observe)}
			if p.cache {
				opts = append(opts, sqlgen.WithStmtCache(16))
				// The cache prepares a statement new to it on the pool,
				// also for a transaction (which then re-prepares it on its
				// own connection): with one connection, held by the
				// transaction of a batch, it would wait forever.
				conn.SetMaxOpenConns(2)
			}
			db := sqlgen.NewDB(conn, pktSchema(), opts...)
			t.Cleanup(func() { db.Close() })
			testPacketPath(t, db, log, p.interpolate && !p.cache)
		})
	}

	t.Run("batched reads", func(t *testing.T) {
		t.Parallel()
		testBatchSplit(t, addr)
	})
}

// testPacketPath runs every kind of statement, too large and just small
// enough, on db (a one-connection pool on the 1 MiB server). text is set
// when the statements go as text (interpolateParams without the
// statement cache).
func testPacketPath(t *testing.T, db *sqlgen.DB, log *sqlgentest.Recorder, text bool) {
	ctx := context.Background()
	x := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	str := func(s string, n int) *string { v := strings.Repeat(s, n); return &v }
	var count int64
	// next checks that nothing was sent but the look-ups of the server's
	// settings the size check needs (max_allowed_packet, how the driver
	// sends arguments: Op "lookup", sent the first time), and that the
	// next, unrelated call on the pool works.
	next := func(what string) {
		t.Helper()
		var ev []sqlgen.Event
		for _, e := range log.Take() {
			if e.Op != "lookup" {
				ev = append(ev, e)
			}
		}
		if len(ev) != 0 {
			t.Errorf("%s: %d statements sent, want none: %v", what, len(ev), ev[0].SQL[:min(80, len(ev[0].SQL))])
		}
		n, err := db.Count(ctx, &pktBlob{}, nil)
		if err != nil || n != count {
			t.Fatalf("the call after %s: %d rows, %v; want %d", what, n, err, count)
		}
		log.Take()
	}
	insert := func(r *pktBlob) {
		t.Helper()
		if _, err := db.InsertRow(ctx, r); err != nil {
			t.Fatalf("InsertRow %d: %v", r.ID, err)
		}
		count++
	}

	// Writes: two values that fit alone but not together.
	two := &pktBlob{ID: 1, A: x(600 << 10), B: str("y", 600<<10)}
	_, err := db.InsertRow(ctx, two)
	wantTooLarge(t, "InsertRow of two 600 KiB values", err, "blobs", "")
	next("InsertRow")
	_, err = db.UpsertRow(ctx, two)
	wantTooLarge(t, "UpsertRow of two 600 KiB values", err, "blobs", "")
	next("UpsertRow")
	insert(&pktBlob{ID: 1})
	log.Take()
	err = db.UpdateRow(ctx, two)
	wantTooLarge(t, "UpdateRow of two 600 KiB values", err, "blobs", "")
	next("UpdateRow")
	err = db.DeleteRow(ctx, &pktKeyed{K: strings.Repeat("k", 2<<20)})
	wantTooLarge(t, "DeleteRow by a 2 MiB key", err, "keyed", "k")
	next("DeleteRow")
	_, err = db.InsertRow(ctx, &pktBlob{ID: 2, Doc: map[string]string{"k": strings.Repeat("z", 2<<20)}})
	wantTooLarge(t, "InsertRow of a 2 MiB document", err, "blobs", "doc")
	next("InsertRow of a document")

	// A value just under the limit, with nothing to escape, fits either way.
	big := &pktBlob{ID: 3, A: x(testPacket - 300)}
	insert(big)
	log.Take()
	var got *pktBlob
	if err := db.QueryRow(ctx, &got, sqlgen.Filter{"a": big.A}, nil); err != nil || got.ID != 3 || !bytes.Equal(got.A, big.A) {
		t.Errorf("QueryRow by a %d-byte value: %v", len(big.A), err)
	}
	log.Take()
	// 600 KiB of quotes: in binary 600 KiB; escaped into the text, twice
	// that.
	quotes := &pktBlob{ID: 4, B: str("'", 600<<10)}
	_, err = db.InsertRow(ctx, quotes)
	if text {
		wantTooLarge(t, "InsertRow of 600 KiB of quotes as text", err, "blobs", "b")
		next("InsertRow of quotes")
	} else {
		if err != nil {
			t.Errorf("InsertRow of 600 KiB of quotes in binary: %v", err)
		}
		count++
		log.Take()
	}

	// Reads: a filter value, an IN list, a raw Where value, a count.
	var rows []*pktBlob
	err = db.Query(ctx, &rows, sqlgen.Filter{"a": x(2 << 20)}, nil)
	wantTooLarge(t, "Query by a 2 MiB value", err, "blobs", "a")
	next("Query")
	err = db.QueryRow(ctx, &got, sqlgen.Filter{"id": 3, "b": strings.Repeat("b", 2<<20)}, nil)
	wantTooLarge(t, "QueryRow by a 2 MiB value", err, "blobs", "b")
	next("QueryRow")
	err = db.Query(ctx, &rows, sqlgen.Filter{"a": [][]byte{x(400 << 10), x(400<<10 + 1), x(400<<10 + 2)}}, nil)
	wantTooLarge(t, "Query by an IN list of three 400 KiB values", err, "blobs", "a")
	next("Query IN")
	_, err = db.Count(ctx, &pktBlob{}, sqlgen.Filter{"a": x(2 << 20)})
	wantTooLarge(t, "Count by a 2 MiB value", err, "blobs", "a")
	next("Count")
	err = db.Query(ctx, &rows, nil, &sqlgen.SelectOptions{Where: "`b` = ?", Values: []any{strings.Repeat("w", 2<<20)}})
	if wantTooLarge(t, "Query with a 2 MiB Where value", err, "", ""); err != nil && !strings.Contains(err.Error(), "argument 1") {
		t.Errorf("Query with a 2 MiB Where value: %q does not say which argument", err)
	}
	next("Query Where")

	// In a transaction: the refused statement is not sent, the
	// transaction goes on and commits.
	err = db.Transact(ctx, func(ctx context.Context) error {
		if _, err := db.InsertRow(ctx, &pktBlob{ID: 10}); err != nil {
			return err
		}
		_, err := db.InsertRow(ctx, &pktBlob{ID: 11, A: x(600 << 10), B: str("y", 600<<10)})
		wantTooLarge(t, "InsertRow in a transaction", err, "blobs", "")
		var n int64
		if n, err = db.Count(ctx, &pktBlob{}, sqlgen.Filter{"a": x(2 << 20)}); !errors.Is(err, sqlgen.ErrTooLarge) || n != 0 {
			t.Errorf("Count in a transaction: %v", err)
		}
		_, err = db.InsertRow(ctx, &pktBlob{ID: 12})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	count += 2
	log.Take()
	next("the transaction")

	// InsertRows: chunks end where the statement would pass 1 MiB.
	batch := make([]*pktBlob, 5)
	for i := range batch {
		batch[i] = &pktBlob{ID: int64(100 + i), A: x(400 << 10)}
	}
	if err := db.InsertRows(ctx, batch, 0); err != nil {
		t.Fatal(err)
	}
	count += 5
	if n := countOps(log.Take(), "batch insert"); n != 3 {
		t.Errorf("InsertRows of 5 rows of 400 KiB: %d statements, want 3 (two rows each)", n)
	}
	quoted := make([]*pktBlob, 5)
	for i := range quoted {
		quoted[i] = &pktBlob{ID: int64(200 + i), B: str(`"`, 300<<10)}
	}
	if err := db.UpsertRows(ctx, quoted, 0); err != nil {
		t.Fatal(err)
	}
	count += 5
	want := 2 // three rows of 300 KiB, then two
	if text {
		want = 5 // 600 KiB escaped: one row each
	}
	if n := countOps(log.Take(), "batch upsert"); n != want {
		t.Errorf("UpsertRows of 5 rows of 300 KiB of quotes: %d statements, want %d", n, want)
	}
	// A row that cannot fit even alone: refused, nothing written.
	bad := []*pktBlob{{ID: 300}, {ID: 301}, {ID: 302, A: x(600 << 10), B: str("y", 600<<10)}, {ID: 303}}
	err = db.InsertRows(ctx, bad, 0)
	wantTooLarge(t, "InsertRows with a row too large", err, "blobs", "")
	if err != nil && !strings.Contains(err.Error(), "row 2") {
		t.Errorf("InsertRows: %q does not name row 2", err)
	}
	log.Take()
	next("InsertRows")

	// Around the limit, byte by byte, every size is either written (or
	// read) or refused with ErrTooLarge, never sent to fail at the
	// server; and sqlgen refuses little that would fit (for a one-row
	// write, at most the length of the upsert clause it counts for an
	// INSERT that it cannot tell from one).
	largest, largestRead := 0, 0
	for n := testPacket - 176; n <= testPacket+4; n++ {
		id := int64(1000 + n - testPacket)
		_, err := db.InsertRow(ctx, &pktBlob{ID: id, A: x(n)})
		switch {
		case err == nil:
			largest = n
			count++
		case !errors.Is(err, sqlgen.ErrTooLarge):
			t.Fatalf("InsertRow of %d bytes: %v (sent to the server?)", n, err)
		}
		var rows []*pktBlob
		err = db.Query(ctx, &rows, sqlgen.Filter{"id": id, "a": x(n)}, nil)
		switch {
		case err == nil:
			largestRead = n
		case !errors.Is(err, sqlgen.ErrTooLarge):
			t.Fatalf("Query by %d bytes: %v (sent to the server?)", n, err)
		}
	}
	log.Take()
	t.Logf("the largest value written alone: %d bytes, read by: %d (max_allowed_packet %d)", largest, largestRead, testPacket)
	if largest < testPacket-176 || largestRead < testPacket-176 {
		t.Errorf("a value of %d bytes was refused", testPacket-176)
	}
	if largestRead == testPacket-176 || largest == testPacket-176 {
		t.Errorf("no size near the limit was refused: the sweep does not reach it")
	}
	next("the sizes around the limit")
}

func countOps(ev []sqlgen.Event, op string) int {
	n := 0
	for _, e := range ev {
		if e.Op == op {
			n++
		}
	}
	return n
}

// A table whose batched reads make long statements: 4 key columns with
// names of 64 characters.
type wideKey struct {
	A int64 `sql:"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,primary"`
	B int64 `sql:"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,primary"`
	C int64 `sql:"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc,primary"`
	D int64 `sql:"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd,primary"`
	V int64
}

// testBatchSplit: 5,000 QueryRows by a 4-column key under one batch make
// a statement of about 1.5 MB, more than the server's 1 MiB: the batcher
// sends it in as many statements as it needs, each within the limit, and
// every caller gets its row.
func testBatchSplit(t *testing.T, addr string) {
	for _, interpolate := range []bool{false, true} {
		t.Run(fmt.Sprint("interpolateParams=", interpolate), func(t *testing.T) {
			s := sqlgen.NewSchema()
			s.MustRegisterType("wide", sqlgen.UniqueID, wideKey{})
			ddl, err := s.CreateTableSQL("wide")
			if err != nil {
				t.Fatal(err)
			}
			conn := openOn(t, addr, fmt.Sprint("batch_", interpolate), []string{ddl}, func(c *mysql.Config) { c.InterpolateParams = interpolate })
			conn.SetMaxOpenConns(4)
			log := &sqlgentest.Recorder{}
			db := sqlgen.NewDB(conn, s, sqlgen.WithObserver(log.Observe))
			ctx := context.Background()
			const n = 5000
			rows := make([]*wideKey, n)
			for i := range rows {
				rows[i] = &wideKey{A: int64(i), B: int64(i * 7), C: int64(i % 13), D: 1 << 40, V: int64(i)}
			}
			if err := db.InsertRows(ctx, rows, 0); err != nil {
				t.Fatal(err)
			}
			log.Take()
			bctx := sqlgen.WithBatching(ctx, sqlgen.BatchWindow(30*time.Second), sqlgen.BatchSize(n))
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for _, r := range rows {
				wg.Add(1)
				go func(r *wideKey) {
					defer wg.Done()
					var got *wideKey
					f := sqlgen.Filter{
						"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": r.A,
						"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": r.B,
						"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc": r.C,
						"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd": r.D,
					}
					if err := db.QueryRow(bctx, &got, f, nil); err != nil || *got != *r {
						errs <- fmt.Errorf("row %d: %v", r.V, err)
					}
				}(r)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			ev := log.Take()
			args := 0
			for _, e := range ev {
				args += e.Args
				if e.Err != nil || len(e.SQL) > testPacket {
					t.Errorf("statement of %d bytes: %v", len(e.SQL), e.Err)
				}
			}
			if len(ev) < 2 || len(ev) > 3 || args != 4*n {
				t.Errorf("%d reads took %d statements with %d arguments; want 2 or 3 with %d", n, len(ev), args, 4*n)
			}
		})
	}
}
