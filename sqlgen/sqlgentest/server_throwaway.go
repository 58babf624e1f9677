package sqlgentest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is a throwaway MariaDB (or MySQL) server: a data directory of its
// own under a temporary directory, a free port of 127.0.0.1, root with no
// password. It is for tests that need a server setting the shared test
// server must not have (a binary log, a replica, a small
// max_allowed_packet) or a server they can kill. It never touches the
// server of SQLGEN_TEST_DSN: it is stopped by its own PID.
type Server struct {
	// Addr is host:port, DSN reaches the server as root with no database
	// (root@tcp(127.0.0.1:PORT)/).
	Addr, DSN string
	// MariaDB is false when the binary found is MySQL's mysqld.
	MariaDB bool
	Port    int

	binary string
	dir    string
	args   []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// installMu runs one data-directory initialisation at a time: several at
// once were seen to trip over each other.
var installMu sync.Mutex

// StartServer starts a throwaway server with the extra server options
// given (such as "--log-bin=bin", "--max-allowed-packet=65536"), and kills
// it and removes its data when tb ends. Without a server binary it fails
// tb: it never skips.
func StartServer(tb testing.TB, options ...string) *Server {
	tb.Helper()
	s, err := NewServer(options...)
	if err != nil {
		tb.Fatalf("the throwaway server did not start: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// NewServer is [StartServer] for code without a testing.TB (a TestMain, a
// benchmark program): the caller stops the server with [Server.Stop].
func NewServer(options ...string) (*Server, error) {
	binary := findBinary("mariadbd", "mysqld")
	if binary == "" {
		return nil, errors.New("no mariadbd or mysqld found (in PATH, /usr/sbin, /usr/local/bin, /usr/local/mysql/bin, /usr/bin): install mariadb-server")
	}
	version, _ := exec.Command(binary, "--version").CombinedOutput()
	s := &Server{binary: binary, MariaDB: bytes.Contains(bytes.ToLower(version), []byte("mariadb"))}
	dir, err := os.MkdirTemp("", "sqlgen-server-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if err := s.initialise(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Addr = fmt.Sprintf("127.0.0.1:%d", s.Port)
	s.DSN = "root@tcp(" + s.Addr + ")/"
	s.args = append([]string{"--no-defaults", "--datadir=" + s.path("data"), "--tmpdir=" + s.path("tmp"),
		"--port=" + strconv.Itoa(s.Port), "--bind-address=127.0.0.1",
		"--socket=" + s.path("s.sock"), "--pid-file=" + s.path("server.pid"), "--log-error=" + s.path("error.log"),
		"--innodb-buffer-pool-size=32M", "--max-connections=500",
		// Throwaway data: no flush per commit.
		"--innodb-flush-log-at-trx-commit=0"}, asRoot()...)
	if !s.MariaDB {
		// MySQL 8 logs binary by default; MariaDB does not.
		s.args = append(s.args, "--mysqlx=OFF", "--skip-log-bin")
	}
	s.args = append(s.args, options...)
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) path(name string) string { return filepath.Join(s.dir, name) }

func asRoot() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// initialise creates the data directory, with mariadb-install-db for
// MariaDB and mysqld --initialize-insecure for MySQL. The temporary
// directory is the server's own, not /tmp: servers that bootstrap at once
// in /tmp were seen to trip over each other's temporary tables.
func (s *Server) initialise() error {
	if err := os.Mkdir(s.path("tmp"), 0o700); err != nil {
		return err
	}
	installMu.Lock()
	defer installMu.Unlock()
	if !s.MariaDB {
		out, err := exec.Command(s.binary, append([]string{"--no-defaults", "--initialize-insecure", "--datadir=" + s.path("data"),
			"--tmpdir=" + s.path("tmp"), "--log-error=" + s.path("error.log")}, asRoot()...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s --initialize-insecure: %v\n%s", s.binary, err, out)
		}
		return nil
	}
	installer := findBinary("mariadb-install-db", "mysql_install_db")
	if installer == "" {
		return fmt.Errorf("found %s but not mariadb-install-db", s.binary)
	}
	out, err := exec.Command(installer, append([]string{"--no-defaults", "--datadir=" + s.path("data"), "--tmpdir=" + s.path("tmp"),
		"--auth-root-authentication-method=normal", "--skip-test-db"}, asRoot()...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", installer, err, out)
	}
	return nil
}

// Start starts the server (again, after [Server.Kill]) on the same data
// and port and waits until it answers.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("sqlgentest: server already running")
	}
	cmd := exec.Command(s.binary, s.args...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.Timeout = "root", "tcp", s.Addr, 5*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(120 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("%s exited at start-up: %v\n%s", s.binary, err, s.errorLog())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not answer at %s: %v\n%s", s.binary, s.Addr, err, s.errorLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) errorLog() []byte {
	log, _ := os.ReadFile(s.path("error.log"))
	return log
}

// Kill kills the server by its PID and waits for it to exit, keeping its
// data for [Server.Start].
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Stop kills the server and removes its data.
func (s *Server) Stop() {
	s.Kill()
	os.RemoveAll(s.dir)
}

// Open returns a pool to database dbName ("" for none) of the server as
// root, with cfgFns applied to its configuration. The caller closes it.
func (s *Server) Open(dbName string, cfgFns ...func(*mysql.Config)) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", s.Addr, dbName
	cfg.Timeout = 5 * time.Second
	for _, f := range cfgFns {
		f(cfg)
	}
	return sql.Open("mysql", cfg.FormatDSN())
}

// findBinary finds a server program as scripts/db.sh does: on PATH, then
// in the usual directories.
func findBinary(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, d := range []string{"/usr/sbin", "/usr/local/bin", "/usr/local/mysql/bin", "/usr/bin"} {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return ""
}
