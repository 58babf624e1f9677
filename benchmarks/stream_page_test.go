package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// The streaming and pagination figures (see NOTES.md, "Streaming and
// pagination"): on the real server only, in a table of their own.
//
//	go test -run '^$' -bench 'MySQLStream|MySQLPage' -benchtime 1x .   # streaming: one pass each
//	go test -run '^$' -bench 'MySQLPage' -benchtime 200x .

// StreamRows is the size of the streaming table.
const StreamRows = 200_000

// StreamItem is a row of stream_items: about 150 bytes.
type StreamItem struct {
	ID   int64 `sql:",primary"`
	Grp  int32
	Name string
	Body string
}

const streamDDL = "CREATE TABLE stream_items (id BIGINT AUTO_INCREMENT PRIMARY KEY, grp INT NOT NULL, " +
	"name VARCHAR(64) NOT NULL, body VARCHAR(255) NOT NULL, KEY grp (grp))"

var (
	streamOnce sync.Once
	streamDB   *sqlgen.DB
	streamOne  *sql.DB // a pool of one connection, for session status
	streamErr  error
)

// streamBackend creates and fills stream_items (StreamRows rows, grp =
// i % 1000: 200 ties per value) in the real server's benchmark database.
func streamBackend(tb testing.TB) (*sqlgen.DB, *sql.DB) {
	tb.Helper()
	be := mysqlBackend(tb)
	streamOnce.Do(func() {
		ctx := context.Background()
		if _, streamErr = be.Conn.ExecContext(ctx, streamDDL); streamErr != nil {
			return
		}
		s := sqlgen.NewSchema()
		s.MustRegisterType("stream_items", sqlgen.AutoIncrement, StreamItem{})
		streamDB = sqlgen.NewDB(be.Conn, s)
		body := strings.Repeat("b", 100)
		const chunk = 5000
		rows := make([]*StreamItem, chunk)
		for start := 0; start < StreamRows; start += chunk {
			for i := range rows {
				n := start + i
				rows[i] = &StreamItem{Grp: int32(n % 1000), Name: fmt.Sprintf("item %06d", n), Body: body}
			}
			if streamErr = streamDB.InsertRows(ctx, rows, 0); streamErr != nil {
				return
			}
		}
		var name string
		if streamErr = be.Conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); streamErr != nil {
			return
		}
		cfg, err := mysql.ParseDSN(DSN())
		if err != nil {
			streamErr = err
			return
		}
		cfg.DBName = name
		cfg.InterpolateParams = true
		if streamOne, streamErr = sql.Open("mysql", cfg.FormatDSN()); streamErr != nil {
			return
		}
		streamOne.SetMaxOpenConns(1)
		_, streamErr = be.Conn.ExecContext(ctx, "ANALYZE TABLE stream_items")
	})
	if streamErr != nil {
		tb.Fatalf("stream_items: %v", streamErr)
	}
	return streamDB, streamOne
}

// heapPeak runs f while sampling the heap in use
// (/memory/classes/heap/objects:bytes) every half millisecond, and
// returns the highest sample above the level before f, after a GC.
func heapPeak(f func() error) (uint64, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := f()
	close(stop)
	<-done
	p := peak.Load()
	if p < base {
		return 0, err
	}
	return p - base, err
}

// BenchmarkMySQLStream reads all StreamRows rows with Iter (each row
// looked at, then dropped) and with Query (the slice of all rows), and
// reports the peak heap in use above the level before the read; Iter-20k
// streams a tenth of the rows, to show that the stream's peak does not
// grow with the rows.
func BenchmarkMySQLStream(b *testing.B) {
	db, _ := streamBackend(b)
	ctx := context.Background()
	opts := &sqlgen.SelectOptions{AllowNoIndex: true}
	reads := []struct {
		name string
		rows int
		read func() (int, error)
	}{
		{"Iter-20k", StreamRows / 10, func() (int, error) {
			n := 0
			for r, err := range sqlgen.Iter[StreamItem](ctx, db, nil, &sqlgen.SelectOptions{AllowNoIndex: true, Limit: StreamRows / 10}) {
				if err != nil {
					return n, err
				}
				if r.Body == "" {
					return n, fmt.Errorf("row %d empty", r.ID)
				}
				n++
			}
			return n, nil
		}},
		{"Iter", StreamRows, func() (int, error) {
			n := 0
			for r, err := range sqlgen.Iter[StreamItem](ctx, db, nil, opts) {
				if err != nil {
					return n, err
				}
				if r.Body == "" {
					return n, fmt.Errorf("row %d empty", r.ID)
				}
				n++
			}
			return n, nil
		}},
		{"Query", StreamRows, func() (int, error) {
			rows, err := sqlgen.Select[StreamItem](ctx, db, nil, opts)
			for _, r := range rows {
				if r.Body == "" {
					return 0, fmt.Errorf("row %d empty", r.ID)
				}
			}
			return len(rows), err
		}},
	}
	for _, r := range reads {
		b.Run(r.name, func(b *testing.B) {
			var worst uint64
			for i := 0; i < b.N; i++ {
				var n int
				peak, err := heapPeak(func() error {
					var err error
					n, err = r.read()
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				if n != r.rows {
					b.Fatalf("%d rows, want %d", n, r.rows)
				}
				worst = max(worst, peak)
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
		})
	}
}

// PageSize and PageNo are the page of BenchmarkMySQLPage: rows 19,981 to
// 20,000 of the order by grp (an index; 200 rows share each value), then
// id.
const (
	PageSize = 20
	PageNo   = 1000
)

// handlerReads returns the session's Handler_read_% counters.
func handlerReads(ctx context.Context, conn *sql.DB) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'Handler_read%'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// BenchmarkMySQLPage reads page PageNo with Offset (as the server plans
// it, and forced onto the index on grp) and with After (the cursor of the
// last row of the page before), on a pool of one connection, and reports
// the rows the server's handler read for it (Handler_read_next, _key and
// _rnd_next, from SHOW SESSION STATUS around one read).
func BenchmarkMySQLPage(b *testing.B) {
	_, one := streamBackend(b)
	s := sqlgen.NewSchema()
	s.MustRegisterType("stream_items", sqlgen.AutoIncrement, StreamItem{})
	db := sqlgen.NewDB(one, s)
	ctx := context.Background()
	order := []sqlgen.Order{sqlgen.Asc("grp"), sqlgen.Asc("id")}
	prev, err := sqlgen.Select[StreamItem](ctx, db, nil, &sqlgen.SelectOptions{Order: order, Limit: 1, Offset: (PageNo-1)*PageSize - 1})
	if err != nil || len(prev) != 1 {
		b.Fatalf("the last row of page %d: %v", PageNo-1, err)
	}
	after, err := db.Cursor(prev[0], order...)
	if err != nil {
		b.Fatal(err)
	}
	reads := map[string]*sqlgen.SelectOptions{
		"Offset":            {Order: order, Limit: PageSize, Offset: (PageNo - 1) * PageSize},
		"Offset-ForceIndex": {Order: order, Limit: PageSize, Offset: (PageNo - 1) * PageSize, ForceIndex: []string{"grp"}},
		"After":             {Order: order, Limit: PageSize, After: after},
	}
	var want []int64
	for _, name := range []string{"Offset", "Offset-ForceIndex", "After"} {
		opts := reads[name]
		b.Run(name, func(b *testing.B) {
			before, err := handlerReads(ctx, one)
			if err != nil {
				b.Fatal(err)
			}
			page, err := sqlgen.Select[StreamItem](ctx, db, nil, opts)
			if err != nil {
				b.Fatal(err)
			}
			later, err := handlerReads(ctx, one)
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, len(page))
			for i, r := range page {
				ids[i] = r.ID
			}
			if want == nil {
				want = ids
			} else if fmt.Sprint(ids) != fmt.Sprint(want) {
				b.Fatalf("%s read %v, Offset %v", name, ids, want)
			}
			if len(ids) != PageSize {
				b.Fatalf("%d rows", len(ids))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := sqlgen.Select[StreamItem](ctx, db, nil, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// After the loop: ResetTimer drops reported metrics.
			b.ReportMetric(float64(later["Handler_read_next"]-before["Handler_read_next"]), "read_next")
			b.ReportMetric(float64(later["Handler_read_key"]-before["Handler_read_key"]), "read_key")
			b.ReportMetric(float64(later["Handler_read_rnd_next"]-before["Handler_read_rnd_next"]), "read_rnd_next")
		})
	}
}
