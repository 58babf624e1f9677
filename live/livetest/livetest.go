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
	"fmt"
	"os"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// Server is a throwaway MariaDB: [sqlgentest.Server].
type Server = sqlgentest.Server

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	sharedMu   sync.Mutex // guards shared against Stop
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

// New starts a MariaDB of its own (with [sqlgentest.NewServer]), with a
// binary log in row format with full images and metadata (binlog true) or
// without one, and waits until it answers. The caller stops it with
// [Server.Stop].
func New(binlog bool) (*Server, error) {
	var options []string
	if binlog {
		options = []string{"--log-bin=binlog", "--binlog-format=ROW", "--server-id=1",
			"--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--sync-binlog=0"}
	}
	s, err := sqlgentest.NewServer(options...)
	if err == nil && !s.MariaDB {
		s.Stop()
		return nil, fmt.Errorf("the server found is not MariaDB: package live reads MariaDB's binary log")
	}
	return s, err
}
