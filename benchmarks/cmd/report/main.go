package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The order of operations and libraries in tables and charts; names not
// listed come after, sorted.
var (
	opOrder  = []string{"Read", "ReadWhere", "ReadSlice", "Insert", "InsertMulti", "Update", "Delete", "ReadJSON", "InsertJSON"}
	libOrder = []string{"raw", "raw-prepared", "sqlgen", "sqlgen-stmtcache", "sqlgen-gojson", "sqlx", "gorm", "bun"}
	backends = []string{"Fake", "MySQL"}
	readOps  = []string{"Read", "ReadWhere", "ReadSlice", "ReadJSON"}
	writeOps = []string{"Insert", "InsertMulti", "Update", "Delete", "InsertJSON"}
)

// key names one benchmark: BenchmarkBackend/Op/lib.
type key struct{ backend, op, lib string }

// samples holds every run of one benchmark.
type samples struct{ ns, bytes, allocs []float64 }

// stat is the summary of one benchmark.
type stat struct {
	n                   int
	ns, bytes, allocs   float64 // medians
	nsLo, nsHi          float64 // min and max ns/op
	hasBytes, hasAllocs bool
}

type results struct {
	stats  map[key]stat
	header []string // goos, goarch, cpu, pkg lines
}

var benchLine = regexp.MustCompile(`^Benchmark([^/\s]+)/([^/\s]+)/(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (*results, error) {
	raw := map[key]*samples{}
	res := &results{stats: map[key]stat{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := map[string]bool{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, p := range []string{"goos:", "goarch:", "cpu:", "pkg:"} {
			if strings.HasPrefix(line, p) && !seen[line] {
				seen[line] = true
				res.header = append(res.header, line)
			}
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		k := key{m[1], m[2], m[3]}
		s := raw[k]
		if s == nil {
			s = &samples{}
			raw[k] = s
		}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for k, s := range raw {
		if len(s.ns) == 0 {
			continue
		}
		st := stat{n: len(s.ns), ns: median(s.ns), nsLo: slices.Min(s.ns), nsHi: slices.Max(s.ns)}
		if len(s.bytes) > 0 {
			st.bytes, st.hasBytes = median(s.bytes), true
		}
		if len(s.allocs) > 0 {
			st.allocs, st.hasAllocs = median(s.allocs), true
		}
		res.stats[k] = st
	}
	return res, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ordered returns the names in want order first, then the others sorted.
func ordered(have map[string]bool, want []string) []string {
	var out []string
	for _, w := range want {
		if have[w] {
			out = append(out, w)
		}
	}
	var rest []string
	for h := range have {
		if !slices.Contains(want, h) {
			rest = append(rest, h)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func (r *results) ops(backend string) []string {
	have := map[string]bool{}
	for k := range r.stats {
		if k.backend == backend {
			have[k.op] = true
		}
	}
	return ordered(have, opOrder)
}

func (r *results) libs(backend, op string) []string {
	have := map[string]bool{}
	for k := range r.stats {
		if k.backend == backend && (op == "" || k.op == op) {
			have[k.lib] = true
		}
	}
	return ordered(have, libOrder)
}

func (r *results) get(backend, op, lib string) (stat, bool) {
	s, ok := r.stats[key{backend, op, lib}]
	return s, ok
}

// ---------------------------------------------------------------- formatting

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func fmtRatio(x, base float64) string {
	if base == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x/base)
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func spread(s stat) string {
	if s.n < 2 || s.ns == 0 {
		return "–"
	}
	return fmt.Sprintf("±%.0f%%", 100*math.Max(s.nsHi-s.ns, s.ns-s.nsLo)/s.ns)
}

// ---------------------------------------------------------------- targets

type check struct {
	target, op, detail string
	met                bool
}

func (r *results) targets() []check {
	var out []check
	add := func(target, op string, met bool, format string, args ...any) {
		out = append(out, check{target, op, fmt.Sprintf(format, args...), met})
	}
	// addNs checks a time bound on the medians, and says whether the
	// fastest runs (less disturbed by other load) meet it too.
	addNs := func(target, op string, sg, raw stat, bound float64) {
		onMin := "met"
		if sg.nsLo > bound*raw.nsLo {
			onMin = "missed"
		}
		out = append(out, check{target, op, fmt.Sprintf("median %s vs %s = %s; fastest runs %s vs %s = %s, %s (bound %.2f×)",
			fmtNs(sg.ns), fmtNs(raw.ns), fmtRatio(sg.ns, raw.ns), fmtNs(sg.nsLo), fmtNs(raw.nsLo), fmtRatio(sg.nsLo, raw.nsLo), onMin, bound),
			sg.ns <= bound*raw.ns})
	}
	// 1. Fake reads: sqlgen allocs <= raw and ns <= 1.10x raw.
	for _, op := range readOps {
		sg, ok1 := r.get("Fake", op, "sqlgen")
		raw, ok2 := r.get("Fake", op, "raw")
		if !ok1 || !ok2 {
			continue
		}
		add("Fake read: sqlgen allocs ≤ raw", op, sg.allocs <= raw.allocs,
			"%s vs %s allocs/op (%+.0f)", fmtNum(sg.allocs), fmtNum(raw.allocs), sg.allocs-raw.allocs)
		addNs("Fake read: sqlgen ns ≤ 1.10× raw", op, sg, raw, 1.10)
	}
	// 2. Fake, every op: sqlgen below sqlx, gorm and bun in ns and allocs.
	for _, op := range r.ops("Fake") {
		sg, ok := r.get("Fake", op, "sqlgen")
		if !ok {
			continue
		}
		for _, metric := range []string{"ns", "allocs"} {
			var parts, misses []string
			for _, lib := range []string{"sqlx", "gorm", "bun"} {
				o, ok := r.get("Fake", op, lib)
				if !ok {
					continue
				}
				a, b := sg.ns, o.ns
				f := fmtNs
				if metric == "allocs" {
					a, b, f = sg.allocs, o.allocs, fmtNum
				}
				parts = append(parts, fmt.Sprintf("%s %s", lib, f(b)))
				if a >= b {
					misses = append(misses, fmt.Sprintf("%s by %s", lib, fmtRatio(a, b)))
				}
			}
			v := fmtNs(sg.ns)
			if metric == "allocs" {
				v = fmtNum(sg.allocs)
			}
			detail := fmt.Sprintf("sqlgen %s; %s", v, strings.Join(parts, ", "))
			if len(misses) > 0 {
				detail += "; not below " + strings.Join(misses, ", ")
			}
			add("Fake: sqlgen below sqlx, gorm, bun ("+metric+")", op, len(misses) == 0, "%s", detail)
		}
	}
	// 3. MySQL reads: sqlgen ns <= 1.05x raw.
	for _, op := range readOps {
		sg, ok1 := r.get("MySQL", op, "sqlgen")
		raw, ok2 := r.get("MySQL", op, "raw")
		if !ok1 || !ok2 {
			continue
		}
		addNs("MySQL read: sqlgen ns ≤ 1.05× raw", op, sg, raw, 1.05)
	}
	// 3b. MySQL Read with the statement cache, against raw code on the
	// driver's default DSN (a prepare, an execute and a close per query).
	if sg, ok := r.get("MySQL", "Read", "sqlgen-stmtcache"); ok {
		if raw, ok := r.get("MySQL", "Read", "raw-prepared"); ok {
			addNs("MySQL Read: sqlgen-stmtcache ns ≤ 0.6× raw-prepared (default DSN)", "Read", sg, raw, 0.6)
		}
	}
	// 4. Writes: sqlgen allocs <= raw + 2, on both backends.
	for _, be := range backends {
		for _, op := range writeOps {
			sg, ok1 := r.get(be, op, "sqlgen")
			raw, ok2 := r.get(be, op, "raw")
			if !ok1 || !ok2 {
				continue
			}
			add(be+" write: sqlgen allocs ≤ raw + 2", op, sg.allocs <= raw.allocs+2,
				"%s vs %s allocs/op (%+.0f)", fmtNum(sg.allocs), fmtNum(raw.allocs), sg.allocs-raw.allocs)
		}
	}
	return out
}

// ---------------------------------------------------------------- markdown

func (r *results) markdown(w io.Writer, charts []string, cmdline, rev, notes string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# sqlgen benchmark results\n\n")
	p("Generated by `benchmarks/cmd/report` on %s from `%s`.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cmdline)
	if rev != "" {
		p("Library revision: `%s`.\n", rev)
	}
	p("Every figure is the median of the runs of that benchmark (n = runs; ± is the largest distance of a run's ns/op from the median; *fastest* is the fastest run, the least disturbed by other load on a shared machine). Targets are judged on the medians; the time checks also say how the fastest runs compare.\n")
	if len(r.header) > 0 {
		p("\n```\n%s\n```\n", strings.Join(r.header, "\n"))
	}
	p("\n*Fake* is the in-process fake driver (`benchmarks/fakedb`): no I/O, rows pre-built in the MySQL driver's shapes, so the figures are each library's own overhead. ")
	p("*MySQL* is the real server at `$SQLGEN_TEST_DSN` (interpolateParams=true). ")
	p("×raw is the ratio to hand-written `database/sql` code. sqlgen's InsertMulti is `InsertRows`: one multi-row INSERT, plus one `SELECT @@auto_increment_increment` on the same connection for the spacing of the ids it writes back; sqlx, GORM and bun send one multi-row INSERT.\n")

	checks := r.targets()
	met := 0
	for _, c := range checks {
		if c.met {
			met++
		}
	}
	p("\n## Targets\n\n%d of %d checks met.\n\n", met, len(checks))
	p("| target | op | status | figures |\n|---|---|---|---|\n")
	for _, c := range checks {
		status := "**missed**"
		if c.met {
			status = "met"
		}
		p("| %s | %s | %s | %s |\n", c.target, c.op, status, c.detail)
	}
	if notes != "" {
		p("\n%s\n", strings.TrimSpace(notes))
	}

	for _, be := range backends {
		ops := r.ops(be)
		if len(ops) == 0 {
			continue
		}
		p("\n## %s\n\n", be)
		p("| op | lib | ns/op | ±  | fastest | ns ×raw | fastest ×raw | B/op | allocs/op | allocs ×raw | n |\n")
		p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, op := range ops {
			raw, hasRaw := r.get(be, op, "raw")
			for _, lib := range r.libs(be, op) {
				s, _ := r.get(be, op, lib)
				nsR, loR, alR := "–", "–", "–"
				if hasRaw {
					nsR, loR, alR = fmtRatio(s.ns, raw.ns), fmtRatio(s.nsLo, raw.nsLo), fmtRatio(s.allocs, raw.allocs)
				}
				name := lib
				if lib == "sqlgen" {
					name = "**sqlgen**"
				}
				p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", op, name, fmtNs(s.ns), spread(s), fmtNs(s.nsLo), nsR, loR, fmtNum(s.bytes), fmtNum(s.allocs), alR, s.n)
			}
		}
	}
	if len(charts) > 0 {
		p("\n## Charts\n\n")
		for _, c := range charts {
			p("![%s](%s)\n\n", strings.TrimSuffix(filepath.Base(c), filepath.Ext(c)), filepath.ToSlash(c))
		}
	}
}

func main() {
	in := flag.String("in", "", "go test -bench output (default: standard input)")
	out := flag.String("out", "RESULTS.md", "Markdown file to write")
	chartDir := flag.String("charts", "charts", "directory for the charts, relative to -out's directory (empty: no charts)")
	rev := flag.String("rev", "", "the library revision measured, for the record")
	notesFile := flag.String("notes", "", "a Markdown file (the optimisation write-up) to include after the targets")
	cmdline := flag.String("cmd", "go test -run '^$' -bench . -count 6", "the command that produced the input, for the record")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("report: ")

	var r io.Reader = os.Stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		log.Fatal(err)
	}
	if len(res.stats) == 0 {
		log.Fatal("no Benchmark<Backend>/<Op>/<lib> lines in the input")
	}
	var charts []string
	if *chartDir != "" {
		base := filepath.Dir(*out)
		if err := os.MkdirAll(filepath.Join(base, *chartDir), 0o755); err != nil {
			log.Fatal(err)
		}
		for _, be := range backends {
			if len(res.ops(be)) == 0 {
				continue
			}
			for _, metric := range []string{"ns", "allocs"} {
				name := filepath.Join(*chartDir, strings.ToLower(be)+"_"+metric)
				if err := res.chart(be, metric, filepath.Join(base, name)); err != nil {
					log.Fatalf("chart %s: %v", name, err)
				}
				charts = append(charts, name+".svg")
			}
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	var notes string
	if *notesFile != "" {
		b, err := os.ReadFile(*notesFile)
		if err != nil {
			log.Fatal(err)
		}
		notes = string(b)
	}
	res.markdown(f, charts, *cmdline, *rev, notes)
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s (%d benchmarks) and %d charts\n", *out, len(res.stats), len(charts))
}
