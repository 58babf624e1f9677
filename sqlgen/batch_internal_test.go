package sqlgen

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/fields"
)

// The chunk planner of InsertRows and UpsertRows, without a database.

func TestChunkRows(t *testing.T) {
	for _, tc := range []struct {
		name             string
		chunkSize, width int
		oneRow           bool
		want             int
	}{
		{"default for zero", 0, 7, false, DefaultChunkSize},
		{"default for negative", -3, 7, false, DefaultChunkSize},
		{"as asked", 100, 7, false, 100},
		{"at MaxPlaceholders exactly", MaxPlaceholders / 5, 5, false, MaxPlaceholders / 5},
		{"cut to MaxPlaceholders", 100000, 7, false, MaxPlaceholders / 7},
		{"one placeholder a row", 100000, 1, false, MaxPlaceholders},
		{"a huge chunk size does not overflow", int(^uint(0) >> 1), 3, false, MaxPlaceholders / 3},
		{"a row wider than MaxPlaceholders still gets one row", 10, MaxPlaceholders + 1, false, 1},
		{"Vitess: one row per statement", 500, 7, true, 1},
		{"no placeholders (only an AutoIncrement column)", 10, 0, false, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := chunkRows(tc.chunkSize, tc.width, tc.oneRow)
			if got != tc.want {
				t.Fatalf("chunkRows(%d, %d, %v) = %d, want %d", tc.chunkSize, tc.width, tc.oneRow, got, tc.want)
			}
			if tc.width > 0 && got > 1 && got*tc.width > MaxPlaceholders {
				t.Fatalf("%d rows of %d placeholders pass MaxPlaceholders", got, tc.width)
			}
		})
	}
}

// byteFit is a fit function for nextChunk over rows of the given sizes in
// a statement of base bytes plus its rows, refused at limit bytes or more
// (as the server refuses a packet of max_allowed_packet bytes).
func byteFit(sizes []int64, base, limit int64) (fit func(int) (bool, error), reset func()) {
	used, rows := base, 0
	fit = func(i int) (bool, error) {
		if base+sizes[i] >= limit {
			return false, ErrTooLarge // too large even alone
		}
		if used+sizes[i] >= limit {
			return false, nil
		}
		used += sizes[i]
		rows++
		return true, nil
	}
	return fit, func() { used, rows = base, 0 }
}

// plan returns the boundaries of every chunk of n rows.
func plan(n, maxRows int, fit func(int) (bool, error), reset func()) ([]int, error) {
	var ends []int
	for start := 0; start < n; {
		reset()
		end, err := nextChunk(start, n, maxRows, fit)
		if err != nil {
			return ends, err
		}
		ends = append(ends, end)
		start = end
	}
	return ends, nil
}

func TestNextChunk(t *testing.T) {
	sizes := func(n int, s int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		sizes   []int64
		maxRows int
		limit   int64
		want    []int
		wantErr bool
	}{
		{"all in one", sizes(10, 10), 500, 1 << 20, []int{10}, false},
		{"by rows", sizes(10, 10), 3, 1 << 20, []int{3, 6, 9, 10}, false},
		{"exact multiple of rows", sizes(9, 10), 3, 1 << 20, []int{3, 6, 9}, false},
		{"one row a statement (Vitess)", sizes(4, 10), 1, 1 << 20, []int{1, 2, 3, 4}, false},
		// base 100: 100+10*k < 150 holds for k <= 4.
		{"by bytes (max_allowed_packet)", sizes(10, 10), 500, 150, []int{4, 8, 10}, false},
		{"by bytes before rows", sizes(10, 10), 5, 150, []int{4, 8, 10}, false},
		{"by rows before bytes", sizes(10, 10), 3, 150, []int{3, 6, 9, 10}, false},
		{"a large row opens its own chunk", []int64{10, 10, 45, 10, 10}, 500, 150, []int{2, 3, 5}, false},
		{"a row at the limit exactly is refused", []int64{10, 50}, 500, 150, nil, true},
		{"a single row too big, found before anything is sent", []int64{10, 10, 60, 10}, 500, 150, nil, true},
		{"the first row too big", []int64{60}, 500, 150, nil, true},
		{"no rows", nil, 500, 150, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fit, reset := byteFit(tc.sizes, 100, tc.limit)
			got, err := plan(len(tc.sizes), tc.maxRows, fit, reset)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("chunk ends = %v, want %v", got, tc.want)
			}
		})
	}
}

// A fit that refuses a chunk's first row without an error cannot make the
// planner loop: that is ErrTooLarge.
func TestNextChunkFirstRowRefused(t *testing.T) {
	end, err := nextChunk(3, 10, 5, func(int) (bool, error) { return false, nil })
	if !errors.Is(err, ErrTooLarge) || end != 3 {
		t.Fatalf("nextChunk = %d, %v; want 3, ErrTooLarge", end, err)
	}
}

type chunkRow struct {
	ID   int64 `sql:",primary"`
	Name string
	Body string
}

// The chunk sizer of a batch (packet.go) with a known max_allowed_packet
// drives nextChunk: chunks end before the packet limit, and a row too big
// alone is ErrTooLarge naming its column, before anything is sent.
func TestChunkSizerPlan(t *testing.T) {
	tb, err := newTable("chunks", AutoIncrement, chunkRow{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1 << 20
	db := &DB{dialect: &dialect{}}
	db.dialect.maxPacket.Store(limit)
	db.dialect.kind.Store(int32(kindMariaDB))
	db.dialect.wire.Store(wireBinary)

	chunksOf := func(rows []chunkRow, maxRows int) ([]int, error) {
		sizer := db.newChunkSizer(tb, tb.columns, tb.autoInc, false, "InsertRows")
		var args []any
		fit := func(i int) (bool, error) {
			k := len(args)
			var err error
			if args, err = tb.rowValues(args, reflect.ValueOf(&rows[i]).Elem(), tb.columns, tb.autoInc); err != nil {
				return false, err
			}
			ok, err := sizer.add(context.Background(), nil, args, k)
			if !ok {
				args = args[:k]
			}
			return ok, err
		}
		return plan(len(rows), maxRows, fit, func() { args = args[:0]; sizer.reset() })
	}
	rows := func(n, body int) []chunkRow {
		out := make([]chunkRow, n)
		for i := range out {
			out[i] = chunkRow{Name: "n", Body: strings.Repeat("x", body)}
		}
		return out
	}

	// Small rows: by rows only.
	got, err := chunksOf(rows(7, 10), 3)
	if err != nil || !reflect.DeepEqual(got, []int{3, 6, 7}) {
		t.Fatalf("small rows: %v, %v", got, err)
	}
	// 300 KiB rows: three fit under 1 MiB, a fourth does not.
	got, err = chunksOf(rows(7, 300<<10), 500)
	if err != nil || !reflect.DeepEqual(got, []int{3, 6, 7}) {
		t.Fatalf("300 KiB rows: %v, %v", got, err)
	}
	// A row of max_allowed_packet bytes fits no statement.
	big := rows(3, 10)
	big[1].Body = strings.Repeat("y", limit)
	got, err = chunksOf(big, 500)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a row too big: %v, %v; want ErrTooLarge", got, err)
	}
	var fe *fields.Error
	if !errors.As(err, &fe) || fe.Column != "body" {
		t.Fatalf("a row too big: error %v does not name column body", err)
	}
	if len(got) != 0 {
		t.Fatalf("a row too big: chunks %v planned before it; want the error before any is sent", got)
	}
}

type smallID struct {
	ID   int8 `sql:",primary"`
	Name string
}

// Ids written back: first, first+step, ... for the chunk's rows only; an
// id the field cannot hold is an error naming the row and the field;
// clear sets every row back to zero.
func TestBatchIDs(t *testing.T) {
	tb, err := newTable("ids", AutoIncrement, smallID{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]smallID, 5)
	structs := make([]reflect.Value, len(rows))
	for i := range rows {
		structs[i] = reflect.ValueOf(&rows[i]).Elem()
	}
	ids := &batchIDs{col: tb.autoInc, step: 3}
	if err := ids.assign(structs, 1, 4, 10); err != nil {
		t.Fatal(err)
	}
	if got := []int8{rows[0].ID, rows[1].ID, rows[2].ID, rows[3].ID, rows[4].ID}; !reflect.DeepEqual(got, []int8{0, 10, 13, 16, 0}) {
		t.Fatalf("ids = %v", got)
	}
	err = ids.assign(structs, 3, 5, 125) // 125, 128: the second passes int8
	if !errors.Is(err, ErrConvert) || !strings.Contains(err.Error(), "row 4 got id 128") || !strings.Contains(err.Error(), "smallID.ID") {
		t.Fatalf("overflow: %v", err)
	}
	ids.clear(structs)
	for i, r := range rows {
		if r.ID != 0 {
			t.Fatalf("row %d keeps id %d after clear", i, r.ID)
		}
	}
}
