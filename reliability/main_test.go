package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/internal/leakcheck"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// TestMain fails the package if any goroutine, including the background
// goroutines of a *sql.DB or of a driver connection, is still running
// after all tests: every pool a test opens must be closed.
//
// The driver logs every connection it finds broken to standard error; the
// fault tests break many on purpose, so its log is dropped unless
// SQLGEN_DRIVER_LOG is set.
func TestMain(m *testing.M) {
	if os.Getenv("SQLGEN_DRIVER_LOG") == "" {
		_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	}
	os.Exit(leakcheck.Main(m, leakcheck.StrictSQL()))
}

// defaultSeed makes runs reproducible unless SQLGEN_SEED says otherwise.
const defaultSeed = 20240229

// figure logs one figure of the reliability report. The report generator
// (reliability/cmd/report) collects these lines from `go test -json`.
func figure(t testing.TB, key string, value any) {
	t.Helper()
	t.Logf("RELIABILITY: %s=%v", key, value)
}

// envDuration reads a duration such as "60s" from the environment.
func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q is not a positive duration: %v", name, s, err)
	}
	return d
}

// envInt reads a positive integer from the environment.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive integer", name, s)
	}
	return n
}

var (
	baseSeedOnce sync.Once
	baseSeed     uint64
	baseSeedErr  error
)

// testSeed returns the seed of t's random choices: SQLGEN_SEED (or the
// default, or the clock for "random") mixed with t's name, so that each
// test has its own stream and can be replayed alone. It logs the base
// seed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	baseSeedOnce.Do(func() {
		switch s := os.Getenv("SQLGEN_SEED"); s {
		case "":
			baseSeed = defaultSeed
		case "random":
			baseSeed = uint64(time.Now().UnixNano())
		default:
			baseSeed, baseSeedErr = strconv.ParseUint(s, 0, 64)
		}
	})
	if baseSeedErr != nil {
		t.Fatalf("SQLGEN_SEED: %v", baseSeedErr)
	}
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	t.Logf("seed: SQLGEN_SEED=%d (replay with SQLGEN_SEED=%d go test -run '^%s$' ./reliability/)", baseSeed, baseSeed, strings.Split(t.Name(), "/")[0])
	figure(t, "seed", baseSeed)
	return baseSeed ^ h.Sum64()
}

// dsnVariant is a driver configuration the tests run under.
type dsnVariant struct {
	name string
	opts []sqlgentest.Option
}

// protocolVariants are the two wire protocols: server-side prepared
// statements (binary results), and client-side interpolation (text).
var protocolVariants = []dsnVariant{
	{"prepared", nil},
	{"interpolate", []sqlgentest.Option{sqlgentest.Params("interpolateParams", "true")}},
}

// kill ends connection id on the server, as an operator's KILL would.
func kill(ctx context.Context, admin *sql.DB, id int64) error {
	// KILL takes no placeholder; id is an integer read from the server.
	_, err := admin.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id))
	return err
}

// waitThreadGone waits until thread id has left the process list (its
// transaction is then rolled back), up to 10 s.
func waitThreadGone(t testing.TB, admin *sql.DB, id int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server thread %d still there 10 s after KILL", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killStatementsOf stops (KILL QUERY) every statement still running in
// dbName on the server, and returns how many there were. The driver
// closes its connection when a context ends but does not stop the
// statement on the server; the tests clean such leftovers up so that
// dropping the database does not wait for them.
func killStatementsOf(t testing.TB, admin *sql.DB, dbName string) int {
	t.Helper()
	ths, err := sqlgentest.Threads(context.Background(), admin, dbName)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, th := range ths {
		if th.Command == "Query" || th.Command == "Execute" {
			if _, err := admin.Exec(fmt.Sprintf("KILL QUERY %d", th.ID)); err != nil && !isUnknownThread(err) {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func isUnknownThread(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1094 // ER_NO_SUCH_THREAD
}

// mysqlErrorNumber returns the MySQL error number err wraps, or 0.
func mysqlErrorNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// noPanic runs fn and turns a panic into a test failure with its stack.
func noPanic(t testing.TB, what string, fn func()) (panicked bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v\n%s", what, p, debug.Stack())
			panicked = true
		}
	}()
	fn()
	return false
}

// serverVersion returns the server's version string.
func serverVersion(t testing.TB, conn *sql.DB) string {
	t.Helper()
	var v string
	if err := conn.QueryRow("SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sqlMode returns the session's sql_mode.
func sqlMode(t testing.TB, conn *sql.DB) string {
	t.Helper()
	var m string
	if err := conn.QueryRow("SELECT @@SESSION.sql_mode").Scan(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitIdle waits until no connection of conn's pool is in use, and
// returns the pool's statistics.
func waitIdle(t testing.TB, conn *sql.DB) sql.DBStats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := conn.Stats()
		if st.InUse == 0 || time.Now().After(deadline) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
}
