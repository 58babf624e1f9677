package sqlgen_test

// RefuseFullScans: reads that EXPLAIN says scan a whole table are refused.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

func TestRefuseFullScans(t *testing.T) {
	t.Parallel()
	db, _, _ := newObserved(t)
	ctx := context.Background()
	var us []*user
	for i := 0; i < 50; i++ {
		us = append(us, &user{OrgID: int64(i % 5), Name: fmt.Sprint("u", i)})
	}
	if err := db.InsertRows(ctx, us, 0); err != nil {
		t.Fatal(err)
	}
	strict := db.RefuseFullScans()
	var rows []*user
	if err := strict.Query(ctx, &rows, sqlgen.Filter{"name": "u1"}, nil); !errors.Is(err, sqlgen.ErrNoIndex) ||
		!strings.Contains(err.Error(), `"users"`) || !strings.Contains(err.Error(), "SELECT") {
		t.Errorf("unindexed read: %v, want ErrNoIndex naming the table and the SQL", err)
	}
	if _, err := strict.Count(ctx, &user{}, sqlgen.Filter{"name": "u1"}); !errors.Is(err, sqlgen.ErrNoIndex) {
		t.Errorf("unindexed count: %v", err)
	}
	for name, f := range map[string]sqlgen.Filter{"primary key": {"id": us[3].ID}, "secondary index": {"org_id": 2}, "impossible": {"id": []int{}}} {
		if err := strict.Query(ctx, &rows, f, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	opts := &sqlgen.SelectOptions{Limit: 10}
	if err := strict.FullScanQuery(ctx, &rows, sqlgen.Filter{"name": "u1"}, opts); err != nil || len(rows) != 1 {
		t.Errorf("FullScanQuery: %v, %d rows", err, len(rows))
	}
	if opts.AllowNoIndex {
		t.Error("FullScanQuery modified the caller's options")
	}
	if err := strict.Query(ctx, &rows, sqlgen.Filter{"name": "u1"}, &sqlgen.SelectOptions{AllowNoIndex: true}); err != nil {
		t.Errorf("AllowNoIndex: %v", err)
	}
	if err := db.Query(ctx, &rows, sqlgen.Filter{"org_id": 1}, &sqlgen.SelectOptions{ForceIndex: []string{"org_id"}}); err != nil || len(rows) != 10 {
		t.Errorf("FORCE INDEX: %v, %d rows", err, len(rows))
	}
	if err := db.Query(ctx, &rows, sqlgen.Filter{"org_id": 1}, &sqlgen.SelectOptions{UseIndex: []string{"PRIMARY"}}); err != nil {
		t.Errorf("USE INDEX: %v", err)
	}
	if err := db.Query(ctx, &rows, nil, &sqlgen.SelectOptions{UseIndex: []string{"x`; DROP TABLE users; --"}}); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("hostile index name: %v", err)
	}
}
