package sqlgen_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// TestCheckMatchesCreateTableSQL: tables made by CreateTableSQL pass.
func TestCheckMatchesCreateTableSQL(t *testing.T) {
	t.Parallel()
	s := sqlgen.NewSchema()
	s.MustRegisterType("ddl_every", sqlgen.UniqueID, ddlEvery{})
	s.MustRegisterType("ddl_golden", sqlgen.AutoIncrement, ddlGolden{})
	s.MustRegisterType("ddl_composite", sqlgen.UniqueID, ddlComposite{})
	conn := sqlgentest.OpenSchema(t, s)
	if tables := s.Tables(); len(tables) != 3 {
		t.Fatalf("Tables() = %v", tables)
	}
	if err := s.Check(context.Background(), conn); err != nil {
		t.Fatalf("Check of tables made by CreateTableSQL: %v", err)
	}
}

type chkLoose struct {
	ID      int64 `sql:",primary"`
	Small   int64
	Unsig   uint32
	Flag    bool
	Name    string
	Kind    ddlLabel
	Blob    []byte
	When    time.Time
	Doc     map[string]any `sql:",json"`
	Maybe   *string
	Ratio   float64
	Renamed string `sql:"MixedCase"`
}

// TestCheckAcceptsCompatibleTypes: live types other than CreateTableSQL's
// that hold the fields' values pass.
func TestCheckAcceptsCompatibleTypes(t *testing.T) {
	t.Parallel()
	s := sqlgen.NewSchema()
	s.MustRegisterType("chk_loose", sqlgen.UniqueID, chkLoose{})
	conn := sqlgentest.Open(t, []string{"CREATE TABLE chk_loose (" +
		"id BIGINT NOT NULL PRIMARY KEY, " +
		"small SMALLINT NOT NULL, " + // a wider field than the column
		"unsig INT NOT NULL, " + // an unsigned field on a signed column
		"flag BIT(1) NULL DEFAULT NULL, " + // placeholder, altered below
		"name TEXT NOT NULL, " +
		"kind ENUM('a','b') NOT NULL, " +
		"blob_ MEDIUMBLOB NULL, " +
		"`when` TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), " +
		"doc TEXT NULL, " +
		"maybe VARCHAR(20) NOT NULL, " + // NOT NULL for a pointer field
		"ratio DECIMAL(10,2) NOT NULL, " +
		"mixedcase VARCHAR(10) NOT NULL, " + // column names compare case-insensitively
		"extra_nullable INT NULL, " +
		"extra_default INT NOT NULL DEFAULT 3, " +
		"extra_generated INT AS (small + 1) VIRTUAL)",
		"ALTER TABLE chk_loose MODIFY flag TINYINT(1) NOT NULL, CHANGE blob_ `blob` MEDIUMBLOB NULL",
	})
	if err := s.Check(context.Background(), conn); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

type chkItem struct {
	ID    int64 `sql:",primary"`
	Name  string
	Count int32
	Small int8
	Big   int64
	Note  string
	When  time.Time
	Doc   ddlPrefs `sql:",json"`
	Raw   []byte
}

type chkMissing struct {
	ID int64 `sql:",primary"`
}

type chkAuto struct {
	ID int64 `sql:",primary"`
}

type chkKeys struct {
	ID    int64 `sql:",primary"`
	Other int64
	Code  string `sql:",primary"`
}

// TestCheckReportsDrift: one error lists a missing table, a missing
// column, a nullable column for a non-pointer field, incompatible types,
// and an unmapped NOT NULL column.
func TestCheckReportsDrift(t *testing.T) {
	t.Parallel()
	s := sqlgen.NewSchema()
	s.MustRegisterType("chk_items", sqlgen.UniqueID, chkItem{})
	s.MustRegisterType("chk_missing", sqlgen.UniqueID, chkMissing{})
	s.MustRegisterType("chk_auto", sqlgen.AutoIncrement, chkAuto{})
	s.MustRegisterType("chk_keys", sqlgen.UniqueID, chkKeys{})
	conn := sqlgentest.Open(t, []string{"CREATE TABLE chk_items (" +
		"id BIGINT NOT NULL PRIMARY KEY, " +
		"name INT NOT NULL, " + // a string field on an INT column
		// count is missing
		"small INT NOT NULL, " + // an int8 field on an INT column
		"big BIGINT UNSIGNED NOT NULL, " + // an int64 field on BIGINT UNSIGNED
		"note VARCHAR(10) NULL, " + // nullable, for a non-pointer string field
		"`when` VARCHAR(30) NOT NULL, " + // a time.Time field on a VARCHAR column
		"doc JSON NOT NULL, " +
		"raw BIGINT NULL, " + // a []byte field on an integer column
		"legacy INT NOT NULL)", // no field, no default
		"CREATE TABLE chk_auto (id BIGINT NOT NULL PRIMARY KEY)", // not AUTO_INCREMENT
		"CREATE TABLE chk_keys (id BIGINT NOT NULL, other BIGINT NOT NULL, code VARCHAR(10) NOT NULL, PRIMARY KEY (id, other))",
	})
	err := s.Check(context.Background(), conn)
	if !errors.Is(err, sqlgen.ErrSchemaDrift) {
		t.Fatalf("Check = %v, want ErrSchemaDrift", err)
	}
	var de *sqlgen.DriftError
	if !errors.As(err, &de) {
		t.Fatalf("Check error %T is not a *DriftError", err)
	}
	want := []struct {
		table, column, field, liveType string // liveType: a prefix
		problem                        string // a substring
	}{
		{"chk_items", "name", "chkItem.Name", "int", "cannot hold a string field"},
		{"chk_items", "count", "chkItem.Count", "", "no such column"},
		{"chk_items", "small", "chkItem.Small", "int", "type int8 cannot hold every value"},
		{"chk_items", "big", "chkItem.Big", "bigint", "type int64 cannot hold every value"},
		{"chk_items", "note", "chkItem.Note", "varchar(10) NULL", "nullable but the field cannot hold NULL"},
		{"chk_items", "when", "chkItem.When", "varchar(30)", "cannot hold a time.Time field"},
		{"chk_items", "raw", "chkItem.Raw", "bigint", "cannot hold a []byte field"},
		{"chk_items", "legacy", "", "int", "NOT NULL without a default"},
		{"chk_keys", "other", "chkKeys.Other", "bigint", "the field is not tagged primary"},
		{"chk_keys", "code", "chkKeys.Code", "varchar(10)", "the column is not part of the live one"},
		{"chk_missing", "", "", "", "no such table"},
	}
	want = append([]struct {
		table, column, field, liveType string
		problem                        string
	}{{"chk_auto", "id", "chkAuto.ID", "bigint", "not AUTO_INCREMENT"}}, want...)
	if len(de.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(de.Problems), len(want), err)
	}
	for i := 0; i < len(want) && i < len(de.Problems); i++ {
		p, w := de.Problems[i], want[i]
		if p.Table != w.table || p.Column != w.column || p.Field != w.field ||
			!strings.HasPrefix(p.LiveType, w.liveType) || !strings.Contains(p.Problem, w.problem) {
			t.Errorf("problem %d = %+v, want %+v", i, p, w)
		}
	}
	msg := err.Error()
	lines := strings.Split(msg, "\n")
	if len(lines) != len(want)+1 {
		t.Errorf("message has %d lines, want a summary and one per problem:\n%s", len(lines), msg)
	}
	for _, s := range []string{
		`table "chk_items" column "name" (field chkItem.Name, Go type string): live type int`,
		`table "chk_items" column "count" (field chkItem.Count, Go type int32): no such column`,
		`table "chk_items" column "note" (field chkItem.Note, Go type string): live type varchar(10) NULL`,
		`table "chk_missing" (Go type sqlgen_test.chkMissing): no such table`,
	} {
		if !strings.Contains(msg, s) {
			t.Errorf("message does not contain %q:\n%s", s, msg)
		}
	}
	if again := s.Check(context.Background(), conn); again == nil || again.Error() != msg {
		t.Errorf("second Check gave a different message:\n%v", again)
	}
	t.Logf("%v", err)
}

func TestCheckEmptySchemaAndErrors(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, []string{"CREATE TABLE chk_missing (id BIGINT NOT NULL PRIMARY KEY)"})
	s := sqlgen.NewSchema()
	// An empty schema always matches.
	if err := s.Check(context.Background(), conn); err != nil {
		t.Errorf("empty schema: %v", err)
	}
	s.MustRegisterType("chk_missing", sqlgen.UniqueID, chkMissing{})
	if err := s.Check(context.Background(), conn); err != nil {
		t.Errorf("matching schema: %v", err)
	}
	// A cancelled context is a plain error, not drift.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Check(ctx, conn); err == nil || errors.Is(err, sqlgen.ErrSchemaDrift) {
		t.Errorf("cancelled context: got %v, want a non-drift error", err)
	}
	// A connection with no current database is refused.
	noDB := sqlgentest.Admin(t)
	if err := s.Check(context.Background(), noDB); !errors.Is(err, sqlgen.ErrInvalidArgument) {
		t.Errorf("no current database: got %v, want ErrInvalidArgument", err)
	}
}
