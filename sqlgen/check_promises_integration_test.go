package sqlgen_test

// Integration tests of the configurations that void sqlgen's promises,
// which Schema.Check reports: tables without transactions, string columns
// that cannot hold every character, and a non-strict sql_mode.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type chkPromise struct {
	ID   int64 `sql:",primary"`
	Name string
	Doc  map[string]any `sql:",json"`
	Raw  []byte
}

func chkPromiseSchema(tables ...string) *sqlgen.Schema {
	s := sqlgen.NewSchema()
	for _, n := range tables {
		// One type per table: register copies under distinct named types.
		switch n {
		case "chk_innodb":
			s.MustRegisterType(n, sqlgen.UniqueID, chkPromise{})
		case "chk_myisam":
			s.MustRegisterType(n, sqlgen.UniqueID, chkMyISAM{})
		case "chk_aria":
			s.MustRegisterType(n, sqlgen.UniqueID, chkAria{})
		case "chk_charsets":
			s.MustRegisterType(n, sqlgen.UniqueID, chkCharsets{})
		}
	}
	return s
}

type (
	chkMyISAM   chkPromise
	chkAria     chkPromise
	chkCharsets chkPromise
)

const chkCols = "id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, doc JSON NULL, raw BLOB NULL"

var chkPromiseDDL = []string{
	"CREATE TABLE chk_innodb (" + chkCols + ") ENGINE=InnoDB CHARACTER SET utf8mb4",
	"CREATE TABLE chk_myisam (" + chkCols + ") ENGINE=MyISAM CHARACTER SET utf8mb4",
	"CREATE TABLE chk_aria (" + chkCols + ") ENGINE=Aria CHARACTER SET utf8mb4",
	// name in utf8mb3, the JSON document in latin1 text, raw bytes in a
	// utf8mb3 text column (bytes are not characters: not reported).
	"CREATE TABLE chk_charsets (id BIGINT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb3 NOT NULL, " +
		"doc LONGTEXT CHARACTER SET latin1 NULL, raw TEXT CHARACTER SET utf8mb3 NULL) ENGINE=InnoDB",
}

func TestCheckReportsWhatVoidsThePromises(t *testing.T) {
	t.Parallel()
	conn := sqlgentest.Open(t, chkPromiseDDL)
	ctx := context.Background()
	if err := chkPromiseSchema("chk_innodb").Check(ctx, conn); err != nil {
		t.Fatalf("Check of an InnoDB utf8mb4 table under the default strict sql_mode: %v", err)
	}
	err := chkPromiseSchema("chk_innodb", "chk_myisam", "chk_aria", "chk_charsets").Check(ctx, conn)
	var de *sqlgen.DriftError
	if !errors.As(err, &de) || !errors.Is(err, sqlgen.ErrSchemaDrift) {
		t.Fatalf("Check: %v, want a *DriftError", err)
	}
	type problem struct{ table, column, says string }
	want := []problem{
		{"chk_aria", "", "engine Aria has no transactions"},
		{"chk_charsets", "name", "character set utf8mb3"},
		{"chk_charsets", "doc", "character set latin1"},
		{"chk_myisam", "", "engine MyISAM has no transactions"},
	}
	if len(de.Problems) != len(want) {
		t.Fatalf("Check found %d problems, want %d:\n%v", len(de.Problems), len(want), err)
	}
	for i, w := range want {
		p := de.Problems[i]
		if p.Table != w.table || p.Column != w.column || !strings.Contains(p.Problem, w.says) {
			t.Errorf("problem %d: %+v, want table %q column %q saying %q", i, p, w.table, w.column, w.says)
		}
	}
	for _, says := range []string{"use InnoDB", "utf8mb4", "InsertRows"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("Check's error does not say %q:\n%v", says, err)
		}
	}

	// What the messages say happens does happen: a failed InsertRows on
	// MyISAM leaves its first statement's rows.
	db := sqlgen.NewDB(conn, chkPromiseSchema("chk_myisam"))
	err = db.InsertRows(ctx, []*chkMyISAM{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}, {ID: 1, Name: "dup"}}, 2)
	if err == nil {
		t.Fatal("InsertRows of a duplicate key succeeded")
	}
	var n int
	if err := conn.QueryRow("SELECT COUNT(*) FROM chk_myisam").Scan(&n); err != nil || n != 2 {
		t.Errorf("MyISAM after a failed InsertRows: %d rows, %v; the test expects the 2 rows its engine cannot roll back", n, err)
	}
}

func TestCheckReportsNonStrictSQLMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		mode   string
		strict bool
	}{
		{"''", false},
		{"'NO_ENGINE_SUBSTITUTION'", false},
		{"'STRICT_TRANS_TABLES'", true},
		{"'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'", true},
	} {
		conn := sqlgentest.Open(t, chkPromiseDDL[:1], sqlgentest.Params("sql_mode", c.mode))
		err := chkPromiseSchema("chk_innodb").Check(ctx, conn)
		if c.strict {
			if err != nil {
				t.Errorf("sql_mode=%s: %v", c.mode, err)
			}
			continue
		}
		var de *sqlgen.DriftError
		if !errors.As(err, &de) || len(de.Problems) != 1 || de.Problems[0].Table != "" ||
			!strings.Contains(err.Error(), "STRICT_TRANS_TABLES") || !strings.Contains(err.Error(), "session: sql_mode") {
			t.Errorf("sql_mode=%s: %v, want one session problem naming STRICT_TRANS_TABLES", c.mode, err)
		}
		if c.mode != "''" {
			continue
		}
		// What the message says happens does happen: a string too long is
		// cut with no error.
		db := sqlgen.NewDB(conn, chkPromiseSchema("chk_innodb"))
		if _, err := db.InsertRow(ctx, &chkPromise{ID: 1, Name: strings.Repeat("x", 100)}); err != nil {
			t.Fatalf("InsertRow under sql_mode='': %v", err)
		}
		var n int
		if err := conn.QueryRow("SELECT CHAR_LENGTH(name) FROM chk_innodb WHERE id = 1").Scan(&n); err != nil || n != 64 {
			t.Errorf("stored %d characters, %v; the test expects the server to cut the 100 to 64", n, err)
		}
	}
}
