package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/benchmarks"
)

// TestLoadTestTiny runs the whole load test, tiny, against the real
// server: every library at two limits, every answer checked, the table,
// the report and the chart written. No server is a failure, not a skip.
func TestLoadTestTiny(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Requests, cfg.Concurrency, cfg.Rounds, cfg.Limits = 50, 4, 1, []int{0, 2}
	cfg.Pause = 10 * time.Millisecond
	cfg.Out = filepath.Join(dir, "LOADTEST.md")
	cfg.ChartDir = filepath.Join(dir, "charts")
	var stdout bytes.Buffer
	rep, err := Run(cfg, &stdout, io.Discard)
	if errors.Is(err, benchmarks.ErrNoServer) {
		t.Fatalf("%v\nThe load test needs a real server: run `make db` at the repository root, or set %s.", err, benchmarks.EnvDSN)
	}
	if err != nil {
		t.Fatal(err)
	}

	wantRuns := len(cfg.Libs) * len(cfg.Limits) * cfg.Rounds
	if len(rep.Runs) != wantRuns {
		t.Errorf("%d runs, want %d", len(rep.Runs), wantRuns)
	}
	wantSent := int64(wantRuns) * int64(cfg.Requests+min(cfg.Requests, 2*cfg.Concurrency))
	if rep.Sent != wantSent || rep.Checked != rep.Sent {
		t.Errorf("sent %d requests, checked %d answers, want %d of each", rep.Sent, rep.Checked, wantSent)
	}
	for _, run := range rep.Runs {
		if run.Requests != int64(cfg.Requests) {
			t.Errorf("%s limit %d: %d answers checked, want %d", run.Lib, run.Limit, run.Requests, cfg.Requests)
		}
		if run.PeakHeap == 0 || run.Allocs == 0 || len(run.Series) < 2 {
			t.Errorf("%s limit %d: no metrics (peak %d, allocs %d, %d samples)", run.Lib, run.Limit, run.PeakHeap, run.Allocs, len(run.Series))
		}
	}

	table := stdout.String()
	for _, lib := range AllLibs {
		for _, limit := range cfg.Limits {
			row := "| " + lib + " | " + limitName(limit) + " |"
			if n := strings.Count(table, row); n != 1 {
				t.Errorf("the table has %d rows %q, want 1:\n%s", n, row, table)
			}
		}
	}
	md, err := os.ReadFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{table, "**Targets**", "charts/" + ChartName, cfg.Command} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	svg, err := os.ReadFile(filepath.Join(cfg.ChartDir, ChartName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("%s is not an SVG", ChartName)
	}
}

func TestObjectCounter(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{`[]`, 0, true},
		{`[{"a":"}{[","b":[{}]},{"c":"\"{"}]` + "\n", 2, true},
		{`[{"a":1}`, 0, false},
		{`[{"a":1}]]`, 0, false},
		{`x[]`, 0, false},
		{`{"a":1}`, 0, false},
		{`[[1]]`, 0, false},
	} {
		var oc objectCounter
		// In two writes, split in the middle, as a body arrives.
		_, _ = oc.Write([]byte(c.in[:len(c.in)/2]))
		_, _ = oc.Write([]byte(c.in[len(c.in)/2:]))
		n, err := oc.Count()
		if (err == nil) != c.ok || (c.ok && n != c.want) {
			t.Errorf("objectCounter(%s) = %d, %v; want %d, ok %v", c.in, n, err, c.want, c.ok)
		}
	}
}
