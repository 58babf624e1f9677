package main

import (
	"cmp"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// TargetRatio is the target on sqlgen's peak heap in use, as a multiple
// of raw's.
const TargetRatio = 1.10

// ChartName is the file name of the heap chart, in the chart directory.
const ChartName = "loadtest_heap.svg"

// Summary is one library at one limit: the median of each figure over
// the rounds (each figure's median on its own).
type Summary struct {
	Lib            string
	Limit          int
	ReqPerSec      float64
	BaseHeapMiB    float64 // heap in use after runtime.GC(), before the run
	PeakHeapMiB    float64 // peak heap in use
	PeakLiveMiB    float64 // peak live heap
	AllocMiB       float64 // bytes allocated during the run
	AllocPerReqKiB float64
	GCs            float64
	XRaw           float64 // PeakHeapMiB / raw's at the same limit
}

// Summaries returns one Summary per limit and library, in run order.
func (r *Report) Summaries() []Summary {
	var out []Summary
	for _, limit := range r.Config.Limits {
		var rawPeak float64
		for _, lib := range r.Config.Libs {
			runs := r.runs(lib, limit)
			if len(runs) == 0 {
				continue
			}
			f := func(v func(RunResult) float64) float64 {
				vs := make([]float64, len(runs))
				for i, run := range runs {
					vs[i] = v(run)
				}
				return median(vs)
			}
			s := Summary{
				Lib:            lib,
				Limit:          limit,
				ReqPerSec:      f(func(x RunResult) float64 { return float64(x.Requests) / x.Elapsed.Seconds() }),
				BaseHeapMiB:    f(func(x RunResult) float64 { return mib(x.BaseHeap) }),
				PeakHeapMiB:    f(func(x RunResult) float64 { return mib(x.PeakHeap) }),
				PeakLiveMiB:    f(func(x RunResult) float64 { return mib(x.PeakLive) }),
				AllocMiB:       f(func(x RunResult) float64 { return mib(x.Allocs) }),
				AllocPerReqKiB: f(func(x RunResult) float64 { return float64(x.Allocs) / 1024 / float64(x.Requests) }),
				GCs:            f(func(x RunResult) float64 { return float64(x.GCs) }),
			}
			if lib == "raw" {
				rawPeak = s.PeakHeapMiB
			}
			if rawPeak > 0 {
				s.XRaw = s.PeakHeapMiB / rawPeak
			}
			out = append(out, s)
		}
	}
	return out
}

func (r *Report) runs(lib string, limit int) []RunResult {
	var out []RunResult
	for _, run := range r.Runs {
		if run.Lib == lib && run.Limit == limit {
			out = append(out, run)
		}
	}
	return out
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

func limitName(limit int) string {
	if limit == 0 {
		return "unbounded"
	}
	return fmt.Sprint(limit)
}

// Table returns the Markdown table of the summaries.
func (r *Report) Table() string {
	var b strings.Builder
	b.WriteString("| library | limit | requests/s | heap after GC MiB | peak heap in use MiB | peak live heap MiB | total allocated MiB | allocated per request KiB | GC cycles | peak heap ×raw |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.Summaries() {
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f | %.0f | %.2f |\n",
			s.Lib, limitName(s.Limit), s.ReqPerSec, s.BaseHeapMiB, s.PeakHeapMiB, s.PeakLiveMiB, s.AllocMiB, s.AllocPerReqKiB, s.GCs, s.XRaw)
	}
	return b.String()
}

// Targets checks, per limit, sqlgen's peak heap in use against
// TargetRatio × raw's and against sqlx's and gorm's: one line per limit,
// with the figures, and whether all of them were met.
func (r *Report) Targets() ([]string, bool) {
	byKey := map[string]Summary{}
	for _, s := range r.Summaries() {
		byKey[fmt.Sprint(s.Lib, "/", s.Limit)] = s
	}
	var lines []string
	all := true
	verdict := func(ok bool) string {
		if !ok {
			all = false
			return "**missed**"
		}
		return "met"
	}
	for _, limit := range r.Config.Limits {
		get := func(lib string) (Summary, bool) { s, ok := byKey[fmt.Sprint(lib, "/", limit)]; return s, ok }
		sg, ok1 := get("sqlgen")
		raw, ok2 := get("raw")
		if !ok1 || !ok2 {
			continue
		}
		parts := []string{fmt.Sprintf("sqlgen %.2f MiB = %.2f× raw (%.2f MiB), ≤ %.2f×: %s",
			sg.PeakHeapMiB, sg.XRaw, raw.PeakHeapMiB, TargetRatio, verdict(sg.XRaw <= TargetRatio))}
		for _, other := range []string{"sqlx", "gorm"} {
			if o, ok := get(other); ok {
				parts = append(parts, fmt.Sprintf("below %s (%.2f MiB): %s", other, o.PeakHeapMiB, verdict(sg.PeakHeapMiB < o.PeakHeapMiB)))
			}
		}
		lines = append(lines, fmt.Sprintf("limit %s: %s", limitName(limit), strings.Join(parts, "; ")))
	}
	return lines, all
}

// WriteMarkdown writes the report to path and the heap chart to
// chartDir/ChartName, linked from the report.
func (r *Report) WriteMarkdown(path, chartDir string) error {
	chart := filepath.Join(chartDir, ChartName)
	if err := os.MkdirAll(chartDir, 0o755); err != nil {
		return err
	}
	if err := r.Chart(chart); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	link, err := filepath.Rel(filepath.Dir(path), chart)
	if err != nil {
		link = chart
	}
	cfg := r.Config
	var b strings.Builder
	b.WriteString("# Load test: 100 rows of model A as JSON over HTTP\n\n")
	fmt.Fprintf(&b, "Generated by `%s` (in `benchmarks/`; `make loadtest`) on %s, in %s.  \n",
		cfg.Command, r.Started.Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	fmt.Fprintf(&b, "%s; server %s; client and server in one process on a shared VM.\n\n", r.GoInfo, r.Server)
	fmt.Fprintf(&b, "Each library serves `GET /models` (raw `QueryContext` + `Scan`, sqlgen `Query` with `Limit: 100`, "+
		"sqlx `SelectContext`, GORM `Limit(100).Find`, the model types of `lib_*.go`, the rows encoded with "+
		"`encoding/json`). For every library and limit, %d requests at a concurrency of %d (after %d unmeasured "+
		"warm-up requests, a `runtime.GC()` and a %s pause); limit is the most requests served (query + encoding) "+
		"at once. %d rounds, interleaved; every figure is the median over the rounds. %d of %d answers checked "+
		"(status 200, a JSON array of 100 objects). The heap is sampled from `runtime/metrics` every %s.\n\n",
		cfg.Requests, cfg.Concurrency, min(cfg.Requests, 2*cfg.Concurrency), cfg.Pause, cfg.Rounds,
		r.Checked, r.Sent, cfg.SampleEvery)
	b.WriteString(r.Table())
	lines, all := r.Targets()
	result := "all met"
	if !all {
		result = "not all met"
	}
	fmt.Fprintf(&b, "\n**Targets** (sqlgen peak heap in use ≤ %.2f× raw, and below sqlx and gorm): %s.\n\n", TargetRatio, result)
	for _, l := range lines {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, "\n![heap in use over time, per library](%s)\n\n", filepath.ToSlash(link))
	b.WriteString("*Heap after GC* is the heap in use just before the run, after the `runtime.GC()`: the part of the peak that " +
		"is not the requests'. *Peak heap in use* is the highest `/memory/classes/heap/objects:bytes` seen (live and not yet swept " +
		"objects: what the heap holds), *peak live heap* the highest `/gc/heap/live:bytes` (live as marked by the last " +
		"GC). Both include what the whole process holds: the load generator's requests and buffers (the same for every " +
		"library, which narrows the ratios to raw) and the libraries' caches. *Total allocated* is " +
		"`/gc/heap/allocs:bytes` over the run, client included; *GC cycles* `/gc/cycles/total:gc-cycles`. " +
		"The chart shows, per library, the round whose peak is the median.\n\n")
	fmt.Fprintf(&b, "The limit bounds only the query and the encoding: the %d keep-alive HTTP connections (both ends, "+
		"in this process) and the database pool (up to %d connections, each with its read buffer) hold memory whatever "+
		"the limit, and with GOGC=100 the peak heap in use follows the GC's heap goal, about twice the live heap of the "+
		"last cycle; so a library's own retention is a small part of the peak, and differences of a few per cent are "+
		"within the rounds' spread on this shared machine.\n", cfg.Concurrency, cfg.DBConns)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// libColor matches the colours of cmd/report's charts.
func libColor(lib string) color.Color {
	switch lib {
	case "raw":
		return color.RGBA{0x8c, 0x8c, 0x8c, 0xff}
	case "sqlgen":
		return color.RGBA{0xd6, 0x27, 0x28, 0xff}
	case "sqlx":
		return color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	case "gorm":
		return color.RGBA{0x2c, 0xa0, 0x2c, 0xff}
	}
	return color.RGBA{0x17, 0xbe, 0xcf, 0xff}
}

// Chart draws the heap in use over time, one panel per limit, one line
// per library (its round with the median peak), to path as SVG.
func (r *Report) Chart(path string) error {
	panels, err := r.panels()
	if err != nil {
		return err
	}
	w, h := vg.Points(760), vg.Points(float64(300*len(panels))+40)
	svg := vgsvg.New(w, h)
	r.drawChart(draw.New(svg), panels, w, h)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := svg.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// panels returns the chart's panels: one per limit, one line per library.
func (r *Report) panels() ([]*plot.Plot, error) {
	var panels []*plot.Plot
	for _, limit := range r.Config.Limits {
		p := plot.New()
		p.Title.Text = "limit " + limitName(limit)
		p.X.Label.Text = "time since the first request (s)"
		p.Y.Label.Text = "heap in use (MiB)"
		p.X.Min, p.Y.Min = 0, 0
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		top := 0.0
		for _, lib := range r.Config.Libs {
			run, ok := r.medianRun(lib, limit)
			if !ok {
				continue
			}
			xys := make(plotter.XYs, len(run.Series))
			for i, s := range run.Series {
				xys[i] = plotter.XY{X: s.T.Seconds(), Y: mib(s.Heap)}
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color = libColor(lib)
			l.Width = vg.Points(1.2)
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s (peak %.1f MiB)", lib, mib(run.PeakHeap)), l)
			top = max(top, mib(run.PeakHeap))
		}
		p.Y.Max = top * 1.45 // room for the legend above the lines
		panels = append(panels, p)
	}
	return panels, nil
}

// drawChart draws the panels, stacked, under a title, on c of size w×h.
func (r *Report) drawChart(c draw.Canvas, panels []*plot.Plot, w, h vg.Length) {
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	title := fmt.Sprintf("Heap in use under load: %d requests at concurrency %d (lower is better)", r.Config.Requests, r.Config.Concurrency)
	tStyle := plot.New().Title.TextStyle
	tStyle.Font = font.From(plot.DefaultFont, vg.Points(13))
	tStyle.XAlign, tStyle.YAlign = draw.XCenter, draw.YTop
	c.FillText(tStyle, vg.Point{X: w / 2, Y: h - vg.Points(8)}, title)
	body := draw.Crop(c, 0, 0, 0, -vg.Points(34))
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: vg.Points(14), PadY: vg.Points(18),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(6), PadRight: vg.Points(10)}
	canvases := plot.Align(grid, tiles, body)
	for i := range grid {
		grid[i][0].Draw(canvases[i][0])
	}
}

// medianRun returns the run of lib at limit whose peak heap in use is the
// median over the rounds (the lower middle one for an even count).
func (r *Report) medianRun(lib string, limit int) (RunResult, bool) {
	runs := r.runs(lib, limit)
	if len(runs) == 0 {
		return RunResult{}, false
	}
	slices.SortFunc(runs, func(a, b RunResult) int { return cmp.Compare(a.PeakHeap, b.PeakHeap) })
	return runs[(len(runs)-1)/2], true
}
