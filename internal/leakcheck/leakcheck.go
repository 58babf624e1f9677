package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout is how long a check waits for new goroutines to end.
const DefaultTimeout = 5 * time.Second

// Goroutine is one goroutine as runtime.Stack prints it.
type Goroutine struct {
	ID        uint64
	State     string   // "running", "chan receive", "IO wait", ...
	Functions []string // the function of each frame, innermost first
	CreatedBy string   // the function that started it ("" for main)
	Stack     string   // the whole record, header included
}

// String returns the goroutine's stack record.
func (g Goroutine) String() string { return g.Stack }

// TB is the part of testing.TB that [Check] uses.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// M is the part of *testing.M that [Main] uses.
type M interface{ Run() int }

type config struct {
	timeout     time.Duration
	ignoreFuncs []string // a frame whose function starts with one of these
	strictSQL   bool
}

// Option adjusts a check.
type Option func(*config)

// Timeout sets how long a check waits for new goroutines to end.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// IgnoreFunction ignores goroutines with a frame (or a creator) whose
// function name starts with prefix, such as "example.com/pkg.(*Pool).run".
func IgnoreFunction(prefix string) Option {
	return func(c *config) { c.ignoreFuncs = append(c.ignoreFuncs, prefix) }
}

// StrictSQL stops ignoring the goroutines of open *sql.DB pools and of
// the MySQL driver's connections: every pool opened since the snapshot
// must be closed by the time of the check.
func StrictSQL() Option { return func(c *config) { c.strictSQL = true } }

// alwaysIgnoredCreators start goroutines that belong to the test binary
// itself, not to the code under test.
var alwaysIgnoredCreators = []string{
	"testing.",
	"internal/fuzz.",
	"runtime.",
	"os/signal.",
}

// alwaysIgnoredFrames are frames of goroutines the runtime and testing
// keep.
var alwaysIgnoredFrames = []string{
	"testing.tRunner",
	"testing.(*M).",
	"testing.(*F).",
	"testing.runFuzzing",
	"testing.runFuzzTests",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.",
}

// sqlPoolFrames are the background goroutines of an open *sql.DB and of
// the MySQL driver's open connections.
var sqlPoolFrames = []string{
	"database/sql.(*DB).connectionOpener",
	"database/sql.(*DB).connectionCleaner",
	"github.com/go-sql-driver/mysql.(*mysqlConn).startWatcher",
}

func newConfig(opts []Option) *config {
	c := &config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	return c
}

func (c *config) ignored(g Goroutine) bool {
	for _, p := range alwaysIgnoredCreators {
		if strings.HasPrefix(g.CreatedBy, p) {
			return true
		}
	}
	match := func(prefixes []string) bool {
		for _, f := range append(g.Functions, g.CreatedBy) {
			for _, p := range prefixes {
				if f != "" && strings.HasPrefix(f, p) {
					return true
				}
			}
		}
		return false
	}
	if match(alwaysIgnoredFrames) || match(c.ignoreFuncs) {
		return true
	}
	return !c.strictSQL && match(sqlPoolFrames)
}

// Snapshot records which goroutines exist at one moment.
type Snapshot struct {
	ids map[uint64]bool
}

// Take records the goroutines that exist now.
func Take() Snapshot {
	s := Snapshot{ids: map[uint64]bool{}}
	for _, g := range All() {
		s.ids[g.ID] = true
	}
	return s
}

// Len is the number of goroutines in the snapshot.
func (s Snapshot) Len() int { return len(s.ids) }

// Leaks waits, up to the timeout of opts, for the goroutines started since
// the snapshot (and not ignored) to end, and returns those still running,
// sorted by id. Goroutine ids are never reused, so a goroutine of the
// snapshot that ended cannot hide a new one.
func (s Snapshot) Leaks(opts ...Option) []Goroutine {
	c := newConfig(opts)
	deadline := time.Now().Add(c.timeout)
	wait := time.Millisecond
	for {
		var leaked []Goroutine
		for _, g := range All() {
			if !s.ids[g.ID] && !c.ignored(g) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || !time.Now().Before(deadline) {
			return leaked
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// Check takes a snapshot now and, when t and its subtests end (in a
// t.Cleanup, so after the cleanups registered later, such as closing a
// pool), reports every goroutine started since then that is still running
// after the timeout. Call it first in the test. Tests that run in
// parallel with others see their goroutines too: use Check only in tests
// that do not call t.Parallel, or in TestMain through [Main].
func Check(t TB, opts ...Option) {
	t.Helper()
	snap := Take()
	t.Cleanup(func() {
		if leaked := snap.Leaks(opts...); len(leaked) > 0 {
			t.Errorf("leakcheck: %s", Describe(leaked))
		}
	})
}

// Main runs the tests of m with a snapshot taken before them and a check
// after them, and returns the exit code for os.Exit: m's own, or 1 when
// the tests passed but goroutines were left behind (they are printed on
// standard error).
func Main(m M, opts ...Option) int {
	snap := Take()
	code := m.Run()
	if leaked := snap.Leaks(opts...); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "leakcheck: after all tests: %s\n", Describe(leaked))
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Describe formats leaked goroutines for an error message.
func Describe(leaked []Goroutine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d goroutine(s) still running:\n", len(leaked))
	for _, g := range leaked {
		b.WriteString("\n")
		b.WriteString(g.Stack)
		b.WriteString("\n")
	}
	return b.String()
}

// All returns every goroutine of the program (system goroutines of the
// runtime excluded, as runtime.Stack excludes them), sorted by id.
func All() []Goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return Parse(buf)
}

// Parse reads the output of runtime.Stack(buf, true) (or a panic's
// goroutine dump).
func Parse(dump []byte) []Goroutine {
	var out []Goroutine
	for _, rec := range bytes.Split(dump, []byte("\n\n")) {
		rec = bytes.TrimSpace(rec)
		if g, ok := parseRecord(string(rec)); ok {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// parseRecord parses one record:
//
//	goroutine 7 [chan receive, 2 minutes]:
//	main.worker(0xc000012345)
//		/src/main.go:12 +0x1d
//	created by main.main in goroutine 1
//		/src/main.go:8 +0x25
func parseRecord(rec string) (Goroutine, bool) {
	lines := strings.Split(rec, "\n")
	head, ok := strings.CutPrefix(lines[0], "goroutine ")
	if !ok {
		return Goroutine{}, false
	}
	idText, rest, ok := strings.Cut(head, " ")
	if !ok {
		return Goroutine{}, false
	}
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return Goroutine{}, false
	}
	g := Goroutine{ID: id, Stack: rec}
	if open, end := strings.IndexByte(rest, '['), strings.LastIndexByte(rest, ']'); open >= 0 && end > open {
		g.State, _, _ = strings.Cut(rest[open+1:end], ",")
	}
	for _, l := range lines[1:] {
		if l == "" || l[0] == '\t' || strings.HasPrefix(l, "...") {
			continue
		}
		if c, ok := strings.CutPrefix(l, "created by "); ok {
			c, _, _ = strings.Cut(c, " in goroutine ")
			g.CreatedBy = c
			continue
		}
		g.Functions = append(g.Functions, funcName(l))
	}
	return g, true
}

// funcName strips the argument list of a frame line:
// "pkg.(*T).m(0x1, {0x2, 0x3})" is "pkg.(*T).m".
func funcName(line string) string {
	if strings.HasSuffix(line, ")") {
		if i := strings.LastIndexByte(line, '('); i > 0 {
			return line[:i]
		}
	}
	return line
}
