package vitesstest_test

import (
	"log/slog"
	"os"
	"testing"

	vtlog "vitess.io/vitess/go/vt/log"
)

// TestMain silences Vitess's logs (thousands of lines from its fake
// tablets starting and stopping) unless VITESSTEST_LOG is set.
func TestMain(m *testing.M) {
	if os.Getenv("VITESSTEST_LOG") == "" {
		vtlog.SwapLogger(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}
