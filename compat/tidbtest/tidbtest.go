// Package tidbtest starts an in-process TiDB server (unistore storage, no
// PD or TiKV) for tests.
package tidbtest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pingcap/log"
	"github.com/pingcap/tidb/pkg/config"
	"github.com/pingcap/tidb/pkg/server"
	"github.com/pingcap/tidb/pkg/session"
	"github.com/pingcap/tidb/pkg/store/mockstore"
	"go.uber.org/zap/zapcore"
)

// mu serializes starts and stops: TiDB keeps process-wide state (the
// schema lease, the server's test hooks).
var mu sync.Mutex

// Start starts a TiDB server in the process, on unistore (TiDB's
// embedded storage), listening on a free port of 127.0.0.1, and returns
// a DSN for it ending in "/", like SQLGEN_TEST_DSN
// ("root@tcp(127.0.0.1:PORT)/"). The server is stopped at tb's Cleanup.
// TiDB logs only errors, unless TIDBTEST_LOG is set.
func Start(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if os.Getenv("TIDBTEST_LOG") == "" {
		log.SetLevel(zapcore.ErrorLevel)
	}

	store, err := mockstore.NewMockStore(mockstore.WithStoreType(mockstore.EmbedUnistore))
	if err != nil {
		tb.Fatalf("tidbtest: unistore: %v", err)
	}
	session.SetSchemaLease(100 * time.Millisecond)
	session.DisableStats4Test()
	dom, err := session.BootstrapSession(store)
	if err != nil {
		store.Close()
		tb.Fatalf("tidbtest: bootstrap: %v", err)
	}

	cfg := config.NewConfig()
	cfg.Host = "127.0.0.1"
	cfg.Port = 0
	cfg.Socket = ""
	cfg.Status.ReportStatus = false
	cfg.Security.AutoTLS = false
	server.RunInGoTest = true
	server.RunInGoTestChan = make(chan struct{})
	srv, err := server.NewServer(cfg, server.NewTiDBDriver(store))
	if err != nil {
		dom.Close()
		store.Close()
		tb.Fatalf("tidbtest: server: %v", err)
	}
	srv.SetDomain(dom)
	dom.InfoSyncer().SetSessionManager(srv)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(nil) }()
	select {
	case <-server.RunInGoTestChan:
	case err := <-runErr:
		dom.Close()
		store.Close()
		tb.Fatalf("tidbtest: run: %v", err)
	}
	_, port, err := net.SplitHostPort(srv.ListenAddr().String())
	if err != nil {
		tb.Fatalf("tidbtest: listen address: %v", err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		tb.Fatalf("tidbtest: port %q: %v", port, err)
	}
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		srv.Close()
		dom.Close()
		store.Close()
	})
	return fmt.Sprintf("root@tcp(127.0.0.1:%s)/", port)
}
