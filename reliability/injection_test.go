package reliability_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// hostile are strings an attacker (or an unlucky user) sends: quotes of
// every kind, escapes, comments, statement separators, placeholders, NUL
// and other control bytes, and unicode that changes direction, joins or
// is invisible. Each is at most 255 characters.
var hostile = []string{
	"'", "''", `"`, "`", `\`, `\'`, `\\'`, `\"`, "' OR '1'='1", "' OR 1=1 -- x", "'; DROP TABLE notes; --",
	"`; DROP TABLE canary; --", `"; DROP TABLE canary; --`, "Robert'); DROP TABLE canary;--",
	"/* comment */", "*/", "/*!50000 DROP TABLE canary */", "-- x", "#", "x; DELETE FROM notes", ";;",
	"?", "??", "$1", ":name", "@x", "%", "_", `%_\%`, "\x00", "a\x00b", "\x00'; DROP TABLE canary; --",
	"\x1a", "\r\n\t\b\f\v", "\\0", "\\Z", "\\x27", "0x27", "CHAR(39)", "N'x'", "_binary'x'", "b'0101'",
	"é è ü ß", "長い文字列", "🎉👨‍👩‍👧", "\u202eevil\u202c", "\ufeffbom", "\u2028\u2029", "\ufffd", "\u0301\u0301",
	"${jndi:ldap://x/a}", "<script>alert(1)</script>", "\u00a0nbsp",
	strings.Repeat("'", 255), strings.Repeat(`\`, 255), "x" + strings.Repeat("🎉", 200),
}

// hostileNames are names that a request could carry into a filter key,
// an Order column or an index hint.
var hostileNames = append([]string{
	"title ", " title", "`title`", "title`", "TITLE", "title;", "title--", "title/**/", "id=1 OR 1",
	"title\x00", "title) OR (1=1", "notes.title", "title,body", "", "ti\u200btle",
}, hostile...)

type note struct {
	ID    int64 `sql:",primary"`
	Title string
	Body  string
	Raw   []byte
	Meta  map[string]string `sql:",json"`
	Tags  []string          `sql:",json"`
}

var notesDDL = []string{
	"CREATE TABLE notes (id BIGINT PRIMARY KEY, title VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
		"body TEXT CHARACTER SET utf8mb4 NOT NULL, raw VARBINARY(1024) NULL, meta JSON NULL, tags JSON NULL, KEY (title))",
	"CREATE TABLE canary (id INT PRIMARY KEY)",
	"INSERT INTO canary VALUES (1)",
}

// noteFor is the row that stores hostile value v in every column.
func noteFor(id int64, v string) *note {
	return &note{
		ID: id, Title: v, Body: v + "|" + v,
		Raw:  append([]byte(v), 0xff, 0x00, '\'', '\\', 0xc0),
		Meta: map[string]string{"k": v, "v:" + v: v},
		Tags: []string{v, ""},
	}
}

// sqlMarkers never appear in the statements sqlgen builds: a value that
// leaked into the SQL text would bring one.
var sqlMarkers = []string{"'", `"`, ";", "--", "/*", "#", "\x00", "DROP", "jndi"}

// TestInjection stores every hostile string as a value (VARCHAR, TEXT,
// VARBINARY with invalid UTF-8 around it, JSON keys and values) through
// InsertRow and InsertRows, and reads each back exactly: by key, by
// filtering on it (equality, IN list, JSON document, bytes) and through
// Where with a bound value. The text of every statement sqlgen sent
// carries none of them. It does so over the binary protocol, the
// statement cache, and client-side interpolation with the default
// sql_mode and with NO_BACKSLASH_ESCAPES and ANSI_QUOTES (which change
// how the driver must escape). At the end the canary table is intact
// and the table holds exactly the rows written.
func TestInjection(t *testing.T) {
	variants := append(slices.Clone(protocolVariants),
		dsnVariant{"interpolate+NO_BACKSLASH_ESCAPES+ANSI_QUOTES", []sqlgentest.Option{sqlgentest.Params(
			"interpolateParams", "true", "sql_mode", "'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES'")}},
		dsnVariant{"stmt cache", nil},
	)
	var inputs, reads int
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			conn := sqlgentest.Open(t, notesDDL, v.opts...)
			log := &sqlgentest.Recorder{}
			opts := []sqlgen.Option{sqlgen.WithObserver(log.Observe)}
			if v.name == "stmt cache" {
				opts = append(opts, sqlgen.WithStmtCache(64))
			}
			s := sqlgen.NewSchema()
			s.MustRegisterType("notes", sqlgen.UniqueID, note{})
			db := sqlgen.NewDB(conn, s, opts...)
			t.Cleanup(func() { db.Close() })
			ctx := context.Background()
			calls := 0 // successful sqlgen calls, each one statement

			var batch []*note
			for i, h := range hostile {
				if _, err := db.InsertRow(ctx, noteFor(int64(i+1), h)); err != nil {
					t.Fatalf("InsertRow of %q: %v", h, err)
				}
				calls++
				batch = append(batch, noteFor(int64(i+1001), h))
			}
			if err := db.InsertRows(ctx, batch, 7); err != nil {
				t.Fatalf("InsertRows: %v", err)
			}
			calls += (len(batch) + 6) / 7
			inputs += 2 * len(hostile)

			for i, h := range hostile {
				ids := []int64{int64(i + 1), int64(i + 1001)}
				for _, id := range ids {
					got, err := sqlgen.Get[note](ctx, db, sqlgen.Filter{"id": id}, nil)
					calls++
					if err != nil {
						t.Fatalf("reading %q back: %v", h, err)
					}
					if diff := cmp.Diff(noteFor(id, h), got); diff != "" {
						t.Errorf("%q did not round-trip (-wrote +read):\n%s", h, diff)
					}
				}
				// Every way of filtering on the value finds exactly the rows
				// holding it (the collation ignores trailing spaces).
				want := sameTitle(h)
				filters := map[string]struct {
					f    sqlgen.Filter
					opts *sqlgen.SelectOptions
				}{
					"title =":    {sqlgen.Filter{"title": h}, nil},
					"title IN":   {sqlgen.Filter{"title": []string{h, "\x00none"}}, nil},
					"Where ?":    {nil, &sqlgen.SelectOptions{Where: "`title` = ?", Values: []any{h}}},
					"meta JSON":  {sqlgen.Filter{"meta": noteFor(0, h).Meta, "title": h}, nil},
					"raw bytes":  {sqlgen.Filter{"raw": noteFor(0, h).Raw}, nil},
					"body and k": {sqlgen.Filter{"body": h + "|" + h, "id": ids}, nil},
				}
				for name, fc := range filters {
					rows, err := sqlgen.Select[note](ctx, db, fc.f, fc.opts)
					calls++
					reads++
					if err != nil {
						t.Errorf("%s %q: %v", name, h, err)
						continue
					}
					var gotIDs []int64
					for _, r := range rows {
						gotIDs = append(gotIDs, r.ID)
					}
					slices.Sort(gotIDs)
					wantIDs := want
					if name == "raw bytes" || name == "body and k" || name == "meta JSON" {
						wantIDs = ids // exact comparisons: bytes, or pinned by id
					}
					if !slices.Equal(gotIDs, wantIDs) {
						t.Errorf("filter %s = %q matched ids %v, want %v", name, h, gotIDs, wantIDs)
					}
				}
			}

			// Hostile names: refused before anything is sent.
			log.Take()
			for _, name := range hostileNames {
				if name == "title" || name == "id" {
					continue
				}
				checks := map[string]error{}
				_, err := sqlgen.Select[note](ctx, db, sqlgen.Filter{name: 1}, nil)
				checks["Query filter key"] = err
				_, err = sqlgen.Get[note](ctx, db, sqlgen.Filter{"id": 1, name: "x"}, nil)
				checks["QueryRow filter key"] = err
				_, err = db.Count(ctx, &note{}, sqlgen.Filter{name: nil})
				checks["Count filter key"] = err
				_, err = sqlgen.Get[note](sqlgen.WithBatching(ctx), db, sqlgen.Filter{name: int64(1)}, nil)
				checks["batched QueryRow filter key"] = err
				_, err = sqlgen.Select[note](ctx, db, nil, &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id"), sqlgen.Desc(name)}})
				checks["Order column"] = err
				for what, err := range checks {
					inputs++
					if !errors.Is(err, sqlgen.ErrUnknownColumn) {
						t.Errorf("%s %q: error %v, want ErrUnknownColumn", what, name, err)
					}
				}
				if name != "" && fields.ValidateName(name) == nil {
					continue // a well-formed index name (TITLE): the server checks it
				}
				for _, hint := range []*sqlgen.SelectOptions{{UseIndex: []string{name}}, {ForceIndex: []string{"title", name}}} {
					_, err := sqlgen.Select[note](ctx, db, nil, hint)
					inputs++
					if !errors.Is(err, sqlgen.ErrInvalidArgument) {
						t.Errorf("index hint %q: error %v, want ErrInvalidArgument", name, err)
					}
				}
			}
			if ev := log.Take(); len(ev) != 0 {
				t.Errorf("refused names still sent %d statements, the first: %q", len(ev), ev[0].SQL)
			}

			// Nothing but the intended statements ran: one per call, and
			// the table and the canary are as written.
			if calls == 0 {
				t.Fatal("no calls")
			}
			if n, err := db.Count(ctx, &note{}, nil); err != nil || n != int64(2*len(hostile)) {
				t.Errorf("notes holds %d rows (%v), want %d", n, err, 2*len(hostile))
			}
			var canary int
			if err := conn.QueryRow("SELECT COUNT(*) FROM canary").Scan(&canary); err != nil || canary != 1 {
				t.Errorf("the canary table: %d rows, %v", canary, err)
			}
			var tables []string
			rows, err := conn.Query("SHOW TABLES")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, name)
			}
			rows.Close()
			if !slices.Equal(tables, []string{"canary", "notes"}) {
				t.Errorf("tables after the test: %v", tables)
			}
		})
	}
	figure(t, "inputs_tried", inputs)
	figure(t, "filtered_reads_checked", reads)
}

// sameTitle returns the ids of the rows whose title equals h under
// utf8mb4_bin, which ignores trailing spaces (PAD SPACE).
func sameTitle(h string) []int64 {
	var ids []int64
	for i, o := range hostile {
		if strings.TrimRight(o, " ") == strings.TrimRight(h, " ") {
			ids = append(ids, int64(i+1), int64(i+1001))
		}
	}
	slices.Sort(ids)
	return ids
}

// TestInjectionStatementText checks the text of every statement sqlgen
// sends while storing, reading and filtering on hostile values: values
// are always bound, so none of them (nor any quote, comment or
// separator) appears in it.
func TestInjectionStatementText(t *testing.T) {
	conn := sqlgentest.Open(t, notesDDL)
	log := &sqlgentest.Recorder{}
	s := sqlgen.NewSchema()
	s.MustRegisterType("notes", sqlgen.UniqueID, note{})
	db := sqlgen.NewDB(conn, s, sqlgen.WithObserver(log.Observe))
	ctx := context.Background()
	var batch []*note
	for i, h := range hostile {
		n := noteFor(int64(i+1), h)
		if _, err := db.InsertRow(ctx, n); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpsertRow(ctx, n); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateRow(ctx, n); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlgen.Select[note](ctx, db, sqlgen.Filter{"title": h, "meta": n.Meta, "raw": n.Raw, "tags": n.Tags}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Count(ctx, &note{}, sqlgen.Filter{"body": []string{h, h + "|" + h}}); err != nil {
			t.Fatal(err)
		}
		batch = append(batch, noteFor(int64(i+1001), h))
	}
	if err := db.UpsertRows(ctx, batch, 5); err != nil {
		t.Fatal(err)
	}
	for _, h := range hostile {
		if err := db.DeleteRow(ctx, noteFor(0, h)); err != nil {
			t.Fatal(err)
		}
	}
	events := log.Take()
	statements := 0
	for _, e := range events {
		statements++
		for _, m := range sqlMarkers {
			if strings.Contains(e.SQL, m) {
				t.Errorf("statement %q contains %q", e.SQL, m)
			}
		}
		for _, h := range hostile {
			if len(h) >= 4 && strings.Contains(e.SQL, h) {
				t.Errorf("statement %q contains the value %q", e.SQL, h)
			}
		}
	}
	var canary int
	if err := conn.QueryRow("SELECT COUNT(*) FROM canary").Scan(&canary); err != nil || canary != 1 {
		t.Errorf("the canary table: %d rows, %v", canary, err)
	}
	figure(t, "statements_checked", statements)
	figure(t, "inputs_tried", 6*len(hostile))
}

// TestInjectionRegistration registers tables and columns named by every
// hostile string, as a table name and as the column name of a `sql` tag
// (on struct types built with reflect.StructOf): a name that holds
// anything but letters, digits, '_' and '$' is refused with ErrBadSchema
// before any statement could be built. No database is involved.
func TestInjectionRegistration(t *testing.T) {
	names := append(slices.Clone(hostileNames), "a b", "a-b", "a.b", "a/b", "𝔘nicode", strings.Repeat("n", 65), "ok_name", "Ünïcödé", "$x")
	accepted, refused := 0, 0
	for _, name := range names {
		// Independently of the library's own check: a name the server
		// would need to escape inside backticks, or that could end them.
		safe := name != "" && len([]rune(name)) <= 64
		for _, r := range name {
			if !(r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)) || r > 0xFFFF {
				safe = false
			}
		}
		type plain struct {
			ID int64 `sql:",primary"`
		}
		errTable := sqlgen.NewSchema().RegisterType(name, sqlgen.UniqueID, plain{})
		st := reflect.StructOf([]reflect.StructField{
			{Name: "ID", Type: reflect.TypeFor[int64](), Tag: `sql:",primary"`},
			{Name: "X", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(`sql:` + strconv.Quote(name+",json"))},
		})
		errColumn := sqlgen.NewSchema().RegisterType("t", sqlgen.UniqueID, reflect.New(st).Interface())
		for what, err := range map[string]error{"table": errTable, "column": errColumn} {
			if name == "" && what == "column" {
				continue // an empty tag name means "derive it from the field"
			}
			switch {
			case err == nil && !safe:
				t.Errorf("%s name %q was accepted", what, name)
			case err == nil:
				accepted++
			case !errors.Is(err, sqlgen.ErrBadSchema):
				t.Errorf("%s name %q: error %v does not wrap ErrBadSchema", what, name, err)
			case safe:
				t.Errorf("%s name %q refused, though it is only letters and digits: %v", what, name, err)
			default:
				refused++
			}
		}
	}
	figure(t, "inputs_tried", 2*len(names))
	figure(t, "names_refused", refused)
	figure(t, "names_accepted", accepted)
}
