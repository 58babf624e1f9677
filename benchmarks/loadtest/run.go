package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/seed-b2691315/sqlgen/benchmarks"
)

// RunResult is one run: one library at one limit, in one round.
type RunResult struct {
	Lib      string
	Limit    int
	Round    int
	Requests int64         // answers checked (every request sent)
	Elapsed  time.Duration // from the first request to the last answer
	BaseHeap uint64        // heap in use after runtime.GC() before the run, bytes
	PeakHeap uint64        // peak heap in use, bytes
	PeakLive uint64        // peak live heap, bytes
	Allocs   uint64        // bytes allocated during the run
	GCs      uint64        // GC cycles during the run
	Series   []Sample      // heap in use over time
}

// Report is a whole load test: every run, and the checks made.
type Report struct {
	Config  Config
	Runs    []RunResult
	Checked int64 // answers checked (200, SliceLimit rows), warm-ups included
	Sent    int64 // requests sent, warm-ups included
	Started time.Time
	Took    time.Duration
	GoInfo  string // Go version, GOOS/GOARCH, GOMAXPROCS
	Server  string // database server version
}

// Run creates and seeds a database on the server at benchmarks.DSN(),
// runs the load test of cfg, prints the table to stdout (progress to
// progress) and, with cfg.Out, writes the Markdown report and the chart.
// The database is dropped at the end, and on SIGINT/SIGTERM.
func Run(cfg Config, stdout, progress io.Writer) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg, Started: time.Now(),
		GoInfo: fmt.Sprintf("%s %s/%s, GOMAXPROCS=%d, GOGC=%s", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), envOr("GOGC", "100"))}

	be, err := benchmarks.NewMySQLBackend()
	if err != nil {
		return nil, err
	}
	var closeOnce sync.Once
	var closeErr error
	closeBE := func() { closeOnce.Do(func() { closeErr = be.Close() }) }
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "loadtest: %v: dropping the database\n", s)
			closeBE()
			os.Exit(2)
		case <-done:
		}
	}()
	defer func() {
		signal.Stop(sig)
		close(done)
		closeBE()
	}()

	conn := be.Conn
	conn.SetMaxOpenConns(cfg.DBConns)
	conn.SetMaxIdleConns(cfg.DBConns)
	if err := conn.QueryRow("SELECT VERSION()").Scan(&rep.Server); err != nil {
		return nil, err
	}
	fetchers := make(map[string]Fetcher, len(cfg.Libs))
	for _, lib := range cfg.Libs {
		if fetchers[lib], err = NewFetcher(lib, conn); err != nil {
			return nil, err
		}
	}

	srv := &Server{}
	srv.Use(fetchers[cfg.Libs[0]], 0)
	mux := http.NewServeMux()
	mux.Handle("GET /models", srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	u := "http://" + ln.Addr().String() + "/models"
	client := NewClient(cfg.Concurrency)
	defer client.CloseIdleConnections()

	ctx := context.Background()
	warm := int64(min(cfg.Requests, 2*cfg.Concurrency))
	for round := 1; round <= cfg.Rounds; round++ {
		for _, limit := range cfg.Limits {
			for _, lib := range cfg.Libs {
				srv.Use(fetchers[lib], limit)
				// Warm-up, not measured: connections of the pool and of
				// the client open, each library's caches filled.
				n, err := Load(ctx, client, u, int(warm), cfg.Concurrency)
				rep.Sent += warm
				rep.Checked += n
				if err != nil {
					return nil, fmt.Errorf("%s, limit %d, warm-up: %w", lib, limit, err)
				}
				runtime.GC()
				time.Sleep(cfg.Pause)

				s := StartSampler(cfg.SampleEvery)
				base := s.series[0].Heap
				t0 := time.Now()
				n, err = Load(ctx, client, u, cfg.Requests, cfg.Concurrency)
				elapsed := time.Since(t0)
				s.Stop()
				rep.Sent += int64(cfg.Requests)
				rep.Checked += n
				if err != nil {
					return nil, fmt.Errorf("%s, limit %d: %w", lib, limit, err)
				}
				r := RunResult{Lib: lib, Limit: limit, Round: round, Requests: n, Elapsed: elapsed, BaseHeap: base,
					PeakHeap: s.peakHeap, PeakLive: s.peakLive, Allocs: s.allocs, GCs: s.gcs, Series: s.series}
				rep.Runs = append(rep.Runs, r)
				fmt.Fprintf(progress, "round %d/%d  %-7s limit %-3d %7.0f req/s  heap after GC %5.2f MiB, peak %6.2f MiB  alloc %8.1f MiB  %3d GCs\n",
					round, cfg.Rounds, lib, limit, float64(n)/elapsed.Seconds(), mib(r.BaseHeap), mib(r.PeakHeap), mib(r.Allocs), r.GCs)
			}
		}
	}
	rep.Took = time.Since(rep.Started)

	if _, err := io.WriteString(stdout, rep.Table()); err != nil {
		return nil, err
	}
	if cfg.Out != "" {
		if err := rep.WriteMarkdown(cfg.Out, cfg.ChartDir); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "wrote %s\n", cfg.Out)
	}
	closeBE()
	if closeErr != nil {
		return rep, fmt.Errorf("dropping the database: %w", closeErr)
	}
	return rep, nil
}

func (cfg *Config) check() error {
	var errs []error
	if cfg.Requests < 1 || cfg.Concurrency < 1 || cfg.Rounds < 1 || cfg.DBConns < 1 {
		errs = append(errs, errors.New("-requests, -concurrency, -rounds and -dbconns must be at least 1"))
	}
	if len(cfg.Libs) == 0 || len(cfg.Limits) == 0 {
		errs = append(errs, errors.New("no library or no limit to run"))
	} else if cfg.Libs[0] != "raw" {
		errs = append(errs, errors.New("the libraries must start with raw, the baseline"))
	}
	if cfg.SampleEvery <= 0 {
		errs = append(errs, errors.New("-sample must be positive"))
	}
	return errors.Join(errs...)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
