package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// The positions a context of WithReadYourWrites keeps: per domain the
// highest sequence number, from any goroutine.
func TestWriteMarksMerge(t *testing.T) {
	w := &writeMarks{}
	p := &sql.DB{}
	var wg sync.WaitGroup
	for i := 1; i <= 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.record(p, false, fmt.Sprintf("0-1-%d,1-2-%d", i, 100-i))
		}()
	}
	wg.Wait()
	w.record(p, false, "garbage,2-3-x")
	got, global := w.wants(p, false)
	parts := strings.Split(got, ",")
	sort.Strings(parts)
	if strings.Join(parts, ",") != "0-1-50,1-2-99" || global {
		t.Errorf("wants = %q, %v; want 0-1-50,1-2-99 and no global read", got, global)
	}
	if pos, _ := w.wants(&sql.DB{}, false); pos != "" {
		t.Errorf("another primary's position = %q", pos)
	}
	w.markUnknown(p)
	if _, global := w.wants(p, false); !global {
		t.Error("a write of unknown position does not ask for the global position")
	}
	w.record(p, true, "uuid:1-5")
	w.record(p, true, "")
	if set, _ := w.wants(p, true); set != "uuid:1-5" {
		t.Errorf("MySQL set = %q", set)
	}
}

// What sends a read elsewhere: the replica's faults, not the statement's.
func TestReplicaFault(t *testing.T) {
	ctx := context.Background()
	faults := []error{
		driver.ErrBadConn, mysql.ErrInvalidConn, errReplicaLag,
		&mysql.MySQLError{Number: 1927}, &mysql.MySQLError{Number: 1317}, &mysql.MySQLError{Number: 1053},
		fmt.Errorf("wrapped: %w", &mysql.MySQLError{Number: 1927}),
	}
	for _, err := range faults {
		if !replicaFault(ctx, err) {
			t.Errorf("%v is not a replica fault", err)
		}
	}
	for _, err := range []error{nil, &mysql.MySQLError{Number: 1054}, ErrConvert, ErrTooManyRows, errors.New("scan: out of range")} {
		if replicaFault(ctx, err) {
			t.Errorf("%v is a replica fault", err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if replicaFault(done, driver.ErrBadConn) {
		t.Error("a fault after the caller's context ended is retried")
	}
}
