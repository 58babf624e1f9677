// Package livetest starts throwaway MariaDB servers with a binary log for
// the tests of package live and of the programs built on it.
//
// A server is initialised under /tmp (mariadbd and mariadb-install-db
// found on PATH or in /usr/sbin, /usr/local/bin, /usr/local/mysql/bin,
// /usr/bin, like scripts/db.sh finds them), listens on a free port of
// 127.0.0.1, takes root with no password, and is killed by its PID: by
// [Server.Stop], by [Stop] (for the shared one of [Start]), and, on
// Linux, with the test binary should it crash. It never touches the
// server of SQLGEN_TEST_DSN.
//
//	func TestMain(m *testing.M) { livetest.Main(m) }
//
//	func TestX(t *testing.T) {
//		dsn := livetest.Start(t) // root@tcp(127.0.0.1:PORT)/
//		...
//	}
//
// Without a server binary, [Start] fails the test: it never skips.
package livetest

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver
)

// Server is a throwaway MariaDB.
type Server struct {
	// DSN reaches the server as root, with no database:
	// root@tcp(127.0.0.1:PORT)/.
	DSN string
	dir string
	cmd *exec.Cmd
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	sharedMu   sync.Mutex // guards shared against Stop
	installMu  sync.Mutex // one mariadb-install-db at a time
)

// Start returns the DSN (root@tcp(127.0.0.1:PORT)/, no database) of the
// process's shared throwaway MariaDB with a binary log in row format with
// full images and metadata (what package live needs), starting it on first
// use. If it cannot be started, tb fails. Call [Stop] (or use [Main]) to
// kill it when the tests end.
func Start(tb testing.TB) string {
	tb.Helper()
	sharedOnce.Do(func() {
		s, err := New(true)
		sharedMu.Lock()
		shared, sharedErr = s, err
		sharedMu.Unlock()
	})
	if sharedErr != nil {
		tb.Fatalf("the throwaway MariaDB with a binary log did not start: %v", sharedErr)
	}
	return shared.DSN
}

// Stop kills the shared server of [Start], if it was started, and removes
// its data.
func Stop() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
	}
}

// Main runs the tests, stops the shared server and exits: a TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
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

// New initialises and starts a MariaDB of its own under /tmp, with a
// binary log in row format (binlog true) or without one, and waits until
// it answers. The caller stops it with [Server.Stop].
func New(binlog bool) (*Server, error) {
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
	// A temporary directory of its own: servers that bootstrap at once
	// in /tmp were seen to trip over each other's temporary tables.
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, runAs...)
	installMu.Lock()
	out, err := exec.Command(install, args...).CombinedOutput()
	installMu.Unlock()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: %v\n%s", install, err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	sargs := append([]string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, fmt.Sprintf("--port=%d", port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "pid"),
		"--log-error=" + filepath.Join(dir, "error.log"), "--innodb-buffer-pool-size=64M",
		"--max-connections=500", "--skip-name-resolve=0"}, runAs...)
	if binlog {
		sargs = append(sargs, "--log-bin="+filepath.Join(dir, "binlog"), "--binlog-format=ROW",
			"--server-id=1", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--sync-binlog=0")
	}
	// Throwaway data: no fsync per commit, so tests and benchmarks
	// measure the feed, not the disk.
	sargs = append(sargs, "--innodb-flush-log-at-trx-commit=2")
	cmd := exec.Command(bin, sargs...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{dir: dir, cmd: cmd, DSN: fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, _ := sql.Open("mysql", s.DSN)
		err := db.Ping()
		db.Close()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			s.Stop()
			return nil, fmt.Errorf("server on port %d did not answer: %v\n%s", port, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server by its PID and removes its data.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}
