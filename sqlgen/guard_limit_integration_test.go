package sqlgen_test

// WithShardLimit and WithDynamicLimit on the CRUD schema: reads and writes
// of another tenant refused, ShouldContinueOnError. (Every method under a
// limit, with another tenant's rows present, is in
// guard_integration_test.go.)

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

func TestShardLimit(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	for _, u := range []*user{{OrgID: 42, Name: "in"}, {OrgID: 7, Name: "out"}} {
		if _, err := db.InsertRow(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	limited, err := db.WithShardLimit(sqlgen.Filter{"org_id": 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := limited.WithShardLimit(sqlgen.Filter{"org_id": 1}); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("second limit: %v", err)
	}
	var rows []*user
	if err := limited.Query(ctx, &rows, sqlgen.Filter{"org_id": int32(42)}, nil); err != nil || len(rows) != 1 {
		t.Errorf("pinned read: %v, %d rows", err, len(rows))
	}
	if err := limited.Query(ctx, &rows, sqlgen.Filter{"org_id": []int64{42}}, nil); err != nil {
		t.Errorf("IN (42): %v", err)
	}
	for _, f := range []sqlgen.Filter{nil, {"name": "out"}, {"org_id": 7}, {"org_id": []int{42, 7}}} {
		if err := limited.Query(ctx, &rows, f, nil); !errors.Is(err, sqlgen.ErrLimit) {
			t.Errorf("read with %v: %v, want ErrLimit", f, err)
		}
		if _, err := limited.Count(ctx, &user{}, f); !errors.Is(err, sqlgen.ErrLimit) {
			t.Errorf("count with %v: %v, want ErrLimit", f, err)
		}
	}
	if _, err := limited.InsertRow(ctx, &user{OrgID: 7, Name: "sneaky"}); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("write outside the limit: %v", err)
	}
	if err := limited.InsertRows(ctx, []*user{{OrgID: 42}, {OrgID: 8}}, 0); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("batch write outside the limit: %v", err)
	}
	if _, err := limited.InsertRow(ctx, &user{OrgID: 42, Name: "ok"}); err != nil {
		t.Errorf("write inside the limit: %v", err)
	}
	// Tables without the column are not limited.
	if _, err := limited.InsertRow(ctx, &org{Name: "global"}); err != nil {
		t.Errorf("table without org_id: %v", err)
	}
	if n, _ := db.Count(ctx, &user{}, sqlgen.Filter{"org_id": 7}); n != 1 {
		t.Errorf("a refused write reached the table: %d rows for org 7", n)
	}
}

type tenantKey struct{}

type dryRunKey struct{}

func TestDynamicLimit(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	var allowed atomic.Int32
	dl := sqlgen.DynamicLimit{
		GetLimitFilter: func(ctx context.Context, table string) (sqlgen.Filter, error) {
			tenant, ok := ctx.Value(tenantKey{}).(int64)
			if !ok {
				return nil, errors.New("no tenant in context")
			}
			return sqlgen.Filter{"org_id": tenant}, nil
		},
		ShouldContinueOnError: func(ctx context.Context, table string, err error) bool {
			if ctx.Value(dryRunKey{}) != nil {
				allowed.Add(1)
				return true
			}
			return false
		},
	}
	limited, err := db.WithDynamicLimit(dl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := limited.WithDynamicLimit(dl); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("second limit: %v", err)
	}
	t42 := context.WithValue(ctx, tenantKey{}, int64(42))
	if _, err := limited.InsertRow(t42, &user{OrgID: 42, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := limited.InsertRow(t42, &user{OrgID: 43, Name: "b"}); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("write for another tenant: %v", err)
	}
	var rows []*user
	if err := limited.Query(t42, &rows, sqlgen.Filter{"org_id": 43}, nil); !errors.Is(err, sqlgen.ErrLimit) {
		t.Errorf("read of another tenant: %v", err)
	}
	if err := limited.Query(ctx, &rows, sqlgen.Filter{"org_id": 42}, nil); err == nil || !strings.Contains(err.Error(), "no tenant") {
		t.Errorf("no tenant: %v", err)
	}
	dry := context.WithValue(t42, dryRunKey{}, true)
	if err := limited.Query(dry, &rows, nil, nil); err != nil || allowed.Load() != 1 {
		t.Errorf("ShouldContinueOnError did not let the read through: %v (%d)", err, allowed.Load())
	}
}
