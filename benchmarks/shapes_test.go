package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
)

// TestFakeShapesMatchMySQL checks the fake driver against the real one:
// the same statements, scanned into *any (which keeps the driver's value
// types), give values of the same types and contents on both backends.
func TestFakeShapesMatchMySQL(t *testing.T) {
	fake, real := fakeBackend(t), mysqlBackend(t)
	queries := []string{
		"SELECT * FROM models WHERE id = 777",
		"SELECT id, name, title, fax, web, age, `right`, counter FROM models WHERE name = 'user-00777' AND age = 47",
		"SELECT * FROM models LIMIT 100",
		"SELECT `counter`, `id` FROM `models` LIMIT 3",
		"SELECT * FROM profiles WHERE id = ?",
		"SELECT * FROM profiles LIMIT 5",
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			want, err := scanAll(real.Conn, q)
			if err != nil {
				t.Fatalf("MySQL: %v", err)
			}
			got, err := scanAll(fake.Conn, q)
			if err != nil {
				t.Fatalf("fake: %v", err)
			}
			if len(got) != len(want) {
				t.Fatalf("fake returned %d rows, MySQL %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("row %d: fake %s, MySQL %s", i, describe(got[i]), describe(want[i]))
				}
			}
		})
	}
}

func scanAll(db *sql.DB, q string) ([][]any, error) {
	var args []any
	if n := len(q); q[n-1] == '?' {
		args = append(args, readID)
	}
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func describe(row []any) string {
	s := "["
	for i, v := range row {
		if i > 0 {
			s += " "
		}
		if b, ok := v.([]byte); ok {
			s += fmt.Sprintf("[]byte(%q)", b)
		} else {
			s += fmt.Sprintf("%T(%v)", v, v)
		}
	}
	return s + "]"
}
