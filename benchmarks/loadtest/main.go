package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	cfg := DefaultConfig()
	limits := flag.String("limits", joinInts(cfg.Limits), "comma-separated limits on requests served at once, run in turn (0 = unbounded)")
	limit := flag.Int("limit", -1, "run only this limit on requests served at once (0 = unbounded); overrides -limits")
	libs := flag.String("libs", strings.Join(cfg.Libs, ","), "comma-separated libraries, among "+strings.Join(AllLibs, ","))
	flag.IntVar(&cfg.Requests, "requests", cfg.Requests, "requests per library and limit, per round")
	flag.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "requests the load generator keeps in flight")
	flag.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds (every configuration once per round, interleaved); the report gives medians")
	flag.IntVar(&cfg.DBConns, "dbconns", cfg.DBConns, "maximum open (and idle) connections of the database pool")
	flag.DurationVar(&cfg.SampleEvery, "sample", cfg.SampleEvery, "runtime/metrics sampling period")
	flag.DurationVar(&cfg.Pause, "pause", cfg.Pause, "pause after runtime.GC() between runs")
	flag.StringVar(&cfg.Out, "out", "", "write the Markdown report to this file (and the chart to -charts)")
	flag.StringVar(&cfg.ChartDir, "charts", "charts", "directory of the heap chart (with -out)")
	flag.Parse()

	var err error
	if *limit >= 0 {
		cfg.Limits = []int{*limit}
	} else if cfg.Limits, err = parseInts(*limits); err != nil {
		fatal(fmt.Errorf("-limits: %w", err))
	}
	cfg.Libs = strings.Split(*libs, ",")
	cfg.Command = "go run ./loadtest"
	if len(os.Args) > 1 {
		cfg.Command += " " + strings.Join(os.Args[1:], " ")
	}
	if _, err := Run(cfg, os.Stdout, os.Stderr); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadtest:", err)
	os.Exit(1)
}

// Config is one load test.
type Config struct {
	Libs        []string      // libraries, in report order
	Limits      []int         // limits on requests served at once; 0 is unbounded
	Requests    int           // measured requests per library, limit and round
	Concurrency int           // requests in flight from the load generator
	Rounds      int           // interleaved rounds; the report gives medians
	DBConns     int           // maximum open and idle connections of the pool
	SampleEvery time.Duration // runtime/metrics sampling period
	Pause       time.Duration // pause after runtime.GC() before each run
	Out         string        // Markdown report path; "" writes none
	ChartDir    string        // directory of the heap chart, with Out
	Command     string        // command line, recorded in the report
}

// DefaultConfig returns the configuration of a plain `go run ./loadtest`:
// every library, unbounded and limited to 2×GOMAXPROCS requests at once.
func DefaultConfig() Config {
	return Config{
		Libs:        append([]string(nil), AllLibs...),
		Limits:      []int{0, 2 * runtime.GOMAXPROCS(0)},
		Requests:    10000,
		Concurrency: 64,
		Rounds:      3,
		DBConns:     64,
		SampleEvery: 10 * time.Millisecond,
		Pause:       200 * time.Millisecond,
		ChartDir:    "charts",
		Command:     "go run ./loadtest",
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a limit (an integer >= 0)", f)
		}
		out = append(out, n)
	}
	return out, nil
}
