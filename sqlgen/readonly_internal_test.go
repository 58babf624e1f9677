package sqlgen

import (
	"strings"
	"testing"
)

// TestReadOnlySQL: a readonly column is in the SELECT and in no write's
// column list (INSERT, the INSERT without the AutoIncrement column, the
// upsert's ON DUPLICATE KEY UPDATE, UPDATE's SET, the guarded upsert),
// and a table without one keeps its lists as they were.
func TestReadOnlySQL(t *testing.T) {
	type row struct {
		ID    int64 `sql:",primary"`
		Name  string
		Doc   map[string]any `sql:",json"`
		Theme string         `sql:",readonly"`
		Size  *int64         `sql:",readonly"`
	}
	tb, err := newTable("t", AutoIncrement, row{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.selectSQL, "`theme`") || !strings.Contains(tb.selectSQL, "`size`") {
		t.Errorf("SELECT leaves a readonly column out: %s", tb.selectSQL)
	}
	for _, q := range []string{tb.insertSQL, tb.insertAutoSQL, tb.upsertSQL, tb.updateSQL, tb.guarded([]*column{tb.byName["name"]}).upsertSQL} {
		if strings.Contains(q, "`theme`") || strings.Contains(q, "`size`") {
			t.Errorf("a write sets a readonly column: %s", q)
		}
	}
	if want := "INSERT INTO `t` (`id`,`name`,`doc`) VALUES (?,?,?)"; tb.insertSQL != want {
		t.Errorf("INSERT: %s, want %s", tb.insertSQL, want)
	}
	if want := "UPDATE `t` SET `name`=?,`doc`=? WHERE `id`=?"; tb.updateSQL != want {
		t.Errorf("UPDATE: %s, want %s", tb.updateSQL, want)
	}
	if len(tb.writable) != 3 || len(tb.updatable) != 2 {
		t.Errorf("writable %d, updatable %d columns", len(tb.writable), len(tb.updatable))
	}
	plain, err := newTable("p", UniqueID, struct {
		ID   int64 `sql:",primary"`
		Name string
	}{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &plain.writable[0] != &plain.columns[0] || &plain.updatable[0] != &plain.others[0] {
		t.Errorf("without a readonly column the write lists are not the table's own")
	}
}
