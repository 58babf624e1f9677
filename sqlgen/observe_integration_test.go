package sqlgen_test

// Observers: SlogObserver's lines for statements and slow statements.

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

func TestSlogObserver(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.OpenFile(t, crudSchemaFile)
	s := sqlgen.NewSchema()
	s.MustRegisterType("orgs", sqlgen.AutoIncrement, org{})
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := sqlgen.NewDB(conn, s, sqlgen.WithObserver(sqlgen.SlogObserver(logger, time.Hour)))
	ctx := context.Background()
	if _, err := db.InsertRow(ctx, &org{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	_, _ = sqlgen.Get[org](ctx, db, sqlgen.Filter{"id": 12345}, nil)
	slow := sqlgen.NewDB(conn, s, sqlgen.WithObserver(sqlgen.SlogObserver(logger, time.Nanosecond)))
	_, _ = sqlgen.Select[org](ctx, slow, nil, nil)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"level=DEBUG", "table=orgs", "op=insert", "rows=1", "op=query", "level=WARN", "slow statement", "INSERT INTO `orgs`"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
