package sqlgentest_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

func TestReadSQLFile(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "s.sql")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := sqlgentest.ReadSQLFile(write("-- a comment\n\nCREATE TABLE a (\n  id INT\n);\nINSERT INTO a VALUES (1);  \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CREATE TABLE a (\n  id INT\n)", "INSERT INTO a VALUES (1)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"CREATE TABLE a (id INT)\n", "-- only a comment\n", ""} {
		if _, err := sqlgentest.ReadSQLFile(write(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := sqlgentest.ReadSQLFile(filepath.Join(dir, "missing.sql")); err == nil {
		t.Error("a missing file: no error")
	}
	// The repository's shared schema parses into its three tables.
	stmts, err := sqlgentest.ReadSQLFile("../../testdata/crud.sql")
	if err != nil || len(stmts) != 3 {
		t.Errorf("testdata/crud.sql: %d statements, %v", len(stmts), err)
	}
}
