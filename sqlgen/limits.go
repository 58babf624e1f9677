package sqlgen

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// ErrLimit is wrapped by the errors of a DB with a shard or dynamic limit
// when a read or write falls outside the limit.
var ErrLimit = errors.New("sqlgen: outside the DB's limit")

// DynamicLimit computes a DB's limit per call, for a limit that depends on
// the request (the tenant of the caller, say).
type DynamicLimit struct {
	// GetLimitFilter returns the filter every read of table must pin and
	// every written row must match, for the call made with ctx. A nil or
	// empty filter means no limit for this call.
	GetLimitFilter func(ctx context.Context, table string) (Filter, error)
	// ShouldContinueOnError, if set, is asked about each call that breaks
	// the limit; returning true lets the call through anyway (for a staged
	// roll-out that first only logs). err wraps [ErrLimit].
	ShouldContinueOnError func(ctx context.Context, table string, err error) bool
}

// limit is a DB's shard limit (static) or dynamic limit.
type limit struct {
	static  Filter
	dynamic *DynamicLimit
}

// WithShardLimit returns a copy of db that refuses, with an error wrapping
// [ErrLimit], any read whose filter does not pin each column of filter to
// its value, and any write of a row with another value there: with
// Filter{"org_id": 42}, every read must carry org_id = 42 (or an IN list
// of only 42) and every row written must have OrgID 42. Values compare
// after conversion through the column's field type, so int32(42) equals
// int64(42). Tables without one of the columns are not limited by it.
//
// A DB has at most one limit: a second one is an error.
func (db *DB) WithShardLimit(filter Filter) (*DB, error) {
	if db.limit != nil {
		return nil, fmt.Errorf("sqlgen: WithShardLimit: the DB already has a limit: %w", ErrInvalidArgument)
	}
	if len(filter) == 0 {
		return nil, fmt.Errorf("sqlgen: WithShardLimit: empty filter: %w", ErrInvalidArgument)
	}
	for k, v := range filter {
		if v == nil || reflect.TypeOf(v).Kind() == reflect.Slice {
			return nil, fmt.Errorf("sqlgen: WithShardLimit: column %q must have one non-nil value: %w", k, ErrInvalidArgument)
		}
	}
	cp := *db
	cp.limit = &limit{static: filter}
	return &cp, nil
}

// WithDynamicLimit is [DB.WithShardLimit] with the filter computed per
// call by dl.GetLimitFilter.
func (db *DB) WithDynamicLimit(dl DynamicLimit) (*DB, error) {
	if db.limit != nil {
		return nil, fmt.Errorf("sqlgen: WithDynamicLimit: the DB already has a limit: %w", ErrInvalidArgument)
	}
	if dl.GetLimitFilter == nil {
		return nil, fmt.Errorf("sqlgen: WithDynamicLimit: GetLimitFilter is nil: %w", ErrInvalidArgument)
	}
	cp := *db
	cp.limit = &limit{dynamic: &dl}
	return &cp, nil
}

func (l *limit) filter(ctx context.Context, t *table) (Filter, error) {
	if l.dynamic == nil {
		return l.static, nil
	}
	f, err := l.dynamic.GetLimitFilter(ctx, t.name)
	if err != nil {
		return nil, fmt.Errorf("sqlgen: computing the limit of table %q: %w", t.name, err)
	}
	return f, nil
}

// verdict lets a broken limit through when the dynamic limit says so.
func (l *limit) verdict(ctx context.Context, t *table, err error) error {
	if l.dynamic != nil && l.dynamic.ShouldContinueOnError != nil && l.dynamic.ShouldContinueOnError(ctx, t.name, err) {
		return nil
	}
	return err
}

// checkRead checks that filter pins every limited column of t.
func (l *limit) checkRead(ctx context.Context, t *table, filter Filter) error {
	lf, err := l.filter(ctx, t)
	if err != nil {
		return err
	}
	for k, lv := range lf {
		c, ok := t.byName[k]
		if !ok {
			continue
		}
		want, err := c.desc.ValueOf(lv)
		if err != nil {
			return fmt.Errorf("sqlgen: limit on table %q column %q: %w", t.name, k, err)
		}
		fv, present := filter[k]
		if !present {
			return l.verdict(ctx, t, fmt.Errorf("sqlgen: read of table %q without a filter on %q = %v: %w", t.name, k, want, ErrLimit))
		}
		vals := []any{fv}
		if c.isList(fv) {
			rv := reflect.ValueOf(fv)
			vals = make([]any, rv.Len())
			for i := range vals {
				vals[i] = rv.Index(i).Interface()
			}
			if len(vals) == 0 {
				continue // matches nothing, so nothing outside the limit
			}
		}
		for _, v := range vals {
			got, err := c.desc.ValueOf(v)
			if err != nil || !sameValue(got, want) {
				return l.verdict(ctx, t, fmt.Errorf("sqlgen: read of table %q with %q = %v, outside the limit %v: %w", t.name, k, v, want, ErrLimit))
			}
		}
	}
	return nil
}

// checkWrite checks that row (a struct value of t) has the limit's value
// in every limited column.
func (l *limit) checkWrite(ctx context.Context, t *table, row reflect.Value) error {
	lf, err := l.filter(ctx, t)
	if err != nil {
		return err
	}
	for k, lv := range lf {
		c, ok := t.byName[k]
		if !ok {
			continue
		}
		want, err := c.desc.ValueOf(lv)
		if err != nil {
			return fmt.Errorf("sqlgen: limit on table %q column %q: %w", t.name, k, err)
		}
		got, err := c.desc.Value(c.fieldOf(row))
		if err != nil {
			return err
		}
		if !sameValue(got, want) {
			return l.verdict(ctx, t, fmt.Errorf("sqlgen: write to table %q with %s = %v, outside the limit %v: %w", t.name, c.field, got, want, ErrLimit))
		}
	}
	return nil
}

// sameValue compares two plain driver values.
func sameValue(a, b driver.Value) bool {
	switch a := a.(type) {
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	}
	return a == b
}
