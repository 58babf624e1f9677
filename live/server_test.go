package live

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The tests run against a throwaway MariaDB with a binary log, started on
// first use on a free port, data under /tmp, and killed by PID when the
// test binary ends (TestMain; with the binary too, should it crash). If it
// cannot be started, every test that needs it fails (none skips).
var (
	binlogDSN  string // root@tcp(127.0.0.1:PORT)/
	serverErr  error
	serverOnce sync.Once
	dbCounter  atomic.Int64
	liveServer *server
)

type server struct {
	dir string
	cmd *exec.Cmd
	dsn string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if liveServer != nil {
		liveServer.stop()
	}
	os.Exit(code)
}

// findBin finds a server program like scripts/db.sh does.
func findBin(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, d := range []string{"/usr/sbin", "/usr/local/bin", "/usr/local/mysql/bin", "/usr/bin"} {
			if p := filepath.Join(d, n); fileExists(p) {
				return p
			}
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer initialises and starts a MariaDB under /tmp, with a binary
// log in row format (binlog=true) or without one.
func startServer(binlog bool) (*server, error) {
	bin := findBin("mariadbd", "mysqld")
	if bin == "" {
		return nil, fmt.Errorf("no mariadbd found (apt-get install mariadb-server)")
	}
	install := findBin("mariadb-install-db", "mysql_install_db")
	if install == "" {
		return nil, fmt.Errorf("no mariadb-install-db found next to %s", bin)
	}
	dir, err := os.MkdirTemp("/tmp", "sqlgen-live.")
	if err != nil {
		return nil, err
	}
	runAs := []string{}
	if os.Getuid() == 0 {
		runAs = []string{"--user=root"}
	}
	data := filepath.Join(dir, "data")
	args := append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}, runAs...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: %v\n%s", install, err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	sargs := append([]string{"--no-defaults", "--datadir=" + data, fmt.Sprintf("--port=%d", port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "pid"),
		"--log-error=" + filepath.Join(dir, "error.log"), "--innodb-buffer-pool-size=64M",
		"--max-connections=500", "--skip-name-resolve=0"}, runAs...)
	if binlog {
		sargs = append(sargs, "--log-bin="+filepath.Join(dir, "binlog"), "--binlog-format=ROW",
			"--server-id=1", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--sync-binlog=0")
	}
	// Throwaway data: no fsync per commit, so tests and the benchmark
	// measure the feed, not the disk.
	sargs = append(sargs, "--innodb-flush-log-at-trx-commit=2")
	cmd := exec.Command(bin, sargs...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{dir: dir, cmd: cmd, dsn: fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, _ := sql.Open("mysql", s.dsn)
		err := db.Ping()
		db.Close()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			s.stop()
			return nil, fmt.Errorf("server on port %d did not answer: %v\n%s", port, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}

// needServer fails the test when the throwaway server is not there.
func needServer(t testing.TB) {
	t.Helper()
	serverOnce.Do(func() {
		liveServer, serverErr = startServer(true)
		if serverErr == nil {
			binlogDSN = liveServer.dsn
		}
	})
	if serverErr != nil {
		t.Fatalf("the throwaway MariaDB with a binary log did not start: %v", serverErr)
	}
}

// newDatabase creates a database on the binlog server, with stmts run in
// it, and returns its DSN (extra DSN params appended); it is dropped at
// the end of the test.
func newDatabase(t testing.TB, params string, stmts ...string) (string, *sql.DB) {
	t.Helper()
	needServer(t)
	name := fmt.Sprintf("live_%d_%d", os.Getpid(), dbCounter.Add(1))
	root, err := sql.Open("mysql", binlogDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	if _, err := root.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
	dsn := binlogDSN + name
	if params != "" {
		dsn += "?" + params
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = false
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return dsn, db
}

func exec1(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var _ = strings.TrimSpace
