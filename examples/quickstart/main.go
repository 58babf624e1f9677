package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/seed-b2691315/sqlgen/examples/internal/exampledb"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

func main() {
	// A flag set of our own: go-mysql-server's vitess registers flags of
	// its own on flag.CommandLine.
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	keep := fs.Bool("keep", false, "keep the tables at the end (on a SQLGEN_DSN server; the embedded one forgets everything anyway)")
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv(exampledb.EnvDSN), *keep); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// walk prints the steps of the walk-through and the statements they run.
type walk struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (k *walk) printf(format string, args ...any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fmt.Fprintf(k.w, format, args...)
}

// step starts a numbered step: a title and the Go code it runs.
func (k *walk) step(title string, code ...string) {
	k.n++
	k.printf("\n%d. %s\n", k.n, title)
	for _, c := range code {
		k.printf("   go>  %s\n", c)
	}
}

// observe is the DB's [sqlgen.Observer]: it prints every statement.
func (k *walk) observe(_ context.Context, e sqlgen.Event) {
	q := e.SQL
	if len(q) > 140 {
		q = q[:137] + "..."
	}
	k.printf("   sql> %s\n        [%s]\n", q, exampledb.Summary(e))
}

func (k *walk) result(format string, args ...any) {
	k.printf("   =>   "+format+"\n", args...)
}

func run(ctx context.Context, w io.Writer, dsn string, keep bool) (err error) {
	k := &walk{w: w}
	target, err := exampledb.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer target.Close()
	k.printf("sqlgen quick start\nserver: %s\nversion: %s\n", target.Desc, target.Server(ctx))

	schema := exampledb.NewSchema()
	db := sqlgen.NewDB(target.Conn, schema, sqlgen.WithObserver(k.observe))

	k.step("Register the types and create their tables (DDL from Schema.CreateTableSQL, plus an index on users.org_id)",
		`schema.MustRegisterType("organizations", sqlgen.AutoIncrement, Organization{})`,
		`schema.MustRegisterType("users", sqlgen.AutoIncrement, User{})     // Email *string, Role Role, Settings Settings `+"`sql:\",json\"`",
		`schema.MustRegisterType("org_features", sqlgen.UniqueID, Feature{}) // key (org_id, name)`)
	err = exampledb.CreateTables(ctx, target.Conn, schema, func(stmt string) {
		k.printf("   ddl> %s\n", strings.ReplaceAll(stmt, "\n", "\n        "))
	})
	if err != nil {
		return err
	}
	if !keep {
		defer func() {
			// Drop even when ctx was cancelled (Ctrl-C).
			if derr := exampledb.DropTables(context.WithoutCancel(ctx), target.Conn); derr != nil && err == nil {
				err = fmt.Errorf("dropping the tables: %w", derr)
			}
		}()
	}

	// Single insert.
	acme := &exampledb.Organization{Name: "Acme"}
	k.step("Insert one row: InsertRow leaves the AUTO_INCREMENT key out and writes the new id back",
		`acme := &Organization{Name: "Acme"}`, `db.InsertRow(ctx, acme)`)
	if _, err := db.InsertRow(ctx, acme); err != nil {
		return err
	}
	k.result("acme.ID = %d", acme.ID)

	// Batch inserts.
	globex, initech := &exampledb.Organization{Name: "Globex"}, &exampledb.Organization{Name: "Initech"}
	k.step("Insert many rows: InsertRows sends one multi-row INSERT per chunk, all or nothing, and writes every new id back",
		`db.InsertRows(ctx, []*Organization{globex, initech}, 0)`,
		`db.InsertRows(ctx, []*User{ada, grace, linus, hank, marge, peter}, 0)`)
	if err := db.InsertRows(ctx, []*exampledb.Organization{globex, initech}, 0); err != nil {
		return err
	}
	str := exampledb.Str
	users := []*exampledb.User{
		{OrgID: acme.ID, Name: "ada", Email: str("ada@acme.test"), Role: exampledb.RoleAdmin, Settings: exampledb.Settings{Theme: "dark", Language: "en", Notifications: true}},
		{OrgID: acme.ID, Name: "grace", Email: str("grace@acme.test"), Role: exampledb.RoleMember, Settings: exampledb.Settings{Theme: "light", Language: "en", Notifications: true}},
		{OrgID: acme.ID, Name: "linus", Role: exampledb.RoleMember, Settings: exampledb.Settings{Theme: "light", Language: "fi"}},
		{OrgID: globex.ID, Name: "hank", Email: str("hank@globex.test"), Role: exampledb.RoleAdmin, Settings: exampledb.Settings{Theme: "solarized", Language: "en"}},
		{OrgID: globex.ID, Name: "marge", Role: exampledb.RoleGuest, Settings: exampledb.Settings{Theme: "light", Language: "en"}},
		{OrgID: initech.ID, Name: "peter", Email: str("peter@initech.test"), Role: exampledb.RoleMember, Settings: exampledb.Settings{Theme: "dark", Language: "en"}},
	}
	if err := db.InsertRows(ctx, users, 0); err != nil {
		return err
	}
	k.result("(InsertRows also ran BEGIN, SELECT @@SESSION.auto_increment_increment and COMMIT, which the Observer does not report)")
	k.result("organisations:")
	k.orgs([]*exampledb.Organization{acme, globex, initech})
	k.result("users (ids written back):")
	k.users(users)
	ada, grace, linus := users[0], users[1], users[2]

	// Reads.
	k.step("Read by filter: the members of Acme, ordered by name (a Filter is ANDed equality; Role is a named type)",
		`sqlgen.Select[User](ctx, db, sqlgen.Filter{"org_id": acme.ID, "role": RoleMember},`,
		`    &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("name")}})`)
	got, err := sqlgen.Select[exampledb.User](ctx, db, sqlgen.Filter{"org_id": acme.ID, "role": exampledb.RoleMember},
		&sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("name")}})
	if err != nil {
		return err
	}
	k.users(got)

	k.step("Read one row by key: QueryRow (LIMIT 2 tells one row from several)",
		`sqlgen.Get[User](ctx, db, sqlgen.Filter{"id": grace.ID}, nil)`)
	one, err := sqlgen.Get[exampledb.User](ctx, db, sqlgen.Filter{"id": grace.ID}, nil)
	if err != nil {
		return err
	}
	k.users([]*exampledb.User{one})

	ids := []int64{ada.ID, linus.ID, users[5].ID}
	k.step("Read by an IN list: a slice value means IN (...)",
		fmt.Sprintf(`sqlgen.Select[User](ctx, db, sqlgen.Filter{"id": []int64{%d, %d, %d}}, byID)`, ids[0], ids[1], ids[2]))
	byID := &sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}}
	if got, err = sqlgen.Select[exampledb.User](ctx, db, sqlgen.Filter{"id": ids}, byID); err != nil {
		return err
	}
	k.users(got)

	k.step("Read with IS NULL: a nil value means IS NULL (users without an email)",
		`sqlgen.Select[User](ctx, db, sqlgen.Filter{"email": nil}, byID)`)
	if got, err = sqlgen.Select[exampledb.User](ctx, db, sqlgen.Filter{"email": nil}, byID); err != nil {
		return err
	}
	k.users(got)

	k.step("Count", `db.Count(ctx, (*User)(nil), sqlgen.Filter{"org_id": acme.ID})`)
	n, err := db.Count(ctx, (*exampledb.User)(nil), sqlgen.Filter{"org_id": acme.ID})
	if err != nil {
		return err
	}
	k.result("%d users in Acme", n)

	// Update a JSON field.
	k.step("Update a field of the JSON column: change the struct, UpdateRow writes the row back by its key",
		`grace.Settings.Theme, grace.Settings.Notifications = "dark", false`,
		`db.UpdateRow(ctx, grace)`,
		`sqlgen.Get[User](ctx, db, sqlgen.Filter{"id": grace.ID}, nil)`)
	before := grace.Settings
	grace.Settings.Theme, grace.Settings.Notifications = "dark", false
	if err := db.UpdateRow(ctx, grace); err != nil {
		return err
	}
	back, err := sqlgen.Get[exampledb.User](ctx, db, sqlgen.Filter{"id": grace.ID}, nil)
	if err != nil {
		return err
	}
	k.result("settings before: %s", jsonText(before))
	k.result("settings after:  %s", jsonText(back.Settings))

	// Upserts.
	k.step("Upsert (INSERT ... ON DUPLICATE KEY UPDATE) on org_features, whose composite key the application sets",
		`db.UpsertRow(ctx, &Feature{OrgID: acme.ID, Name: "sso", Enabled: true})                  // new row`,
		`db.UpsertRows(ctx, []*Feature{{acme.ID, "sso", false}, {acme.ID, "audit_log", true},`,
		`    {globex.ID, "sso", true}}, 0)                                                        // one update, two inserts`)
	if _, err := db.UpsertRow(ctx, &exampledb.Feature{OrgID: acme.ID, Name: "sso", Enabled: true}); err != nil {
		return err
	}
	err = db.UpsertRows(ctx, []*exampledb.Feature{
		{OrgID: acme.ID, Name: "sso", Enabled: false},
		{OrgID: acme.ID, Name: "audit_log", Enabled: true},
		{OrgID: globex.ID, Name: "sso", Enabled: true},
	}, 0)
	if err != nil {
		return err
	}
	features, err := sqlgen.Select[exampledb.Feature](ctx, db, nil,
		&sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("org_id"), sqlgen.Asc("name")}})
	if err != nil {
		return err
	}
	k.features(features)
	_, err = db.UpsertRow(ctx, ada)
	k.result("an upsert on the AutoIncrement users table is refused: %v", err)
	if !errors.Is(err, sqlgen.ErrUnsupported) {
		return fmt.Errorf("UpsertRow on users: got %v, want an error wrapping sqlgen.ErrUnsupported", err)
	}

	// A transaction that rolls back.
	k.step("A transaction that rolls back: Transact commits if fn returns nil, and rolls back otherwise",
		`db.Transact(ctx, func(ctx context.Context) error {`,
		`    db.InsertRows(ctx, []*User{mallory, trudy}, 0) // inside the caller's transaction`,
		`    db.DeleteRow(ctx, ada)`,
		`    db.Count(ctx, (*User)(nil), nil)`,
		`    return errors.New("changed my mind")`,
		`})`)
	total := func(ctx context.Context) (int64, error) { return db.Count(ctx, (*exampledb.User)(nil), nil) }
	countBefore, err := total(ctx)
	if err != nil {
		return err
	}
	errChanged := errors.New("changed my mind")
	var inside int64
	txErr := db.Transact(ctx, func(ctx context.Context) error {
		intruders := []*exampledb.User{
			{OrgID: acme.ID, Name: "mallory", Role: exampledb.RoleAdmin},
			{OrgID: acme.ID, Name: "trudy", Role: exampledb.RoleAdmin},
		}
		if err := db.InsertRows(ctx, intruders, 0); err != nil {
			return err
		}
		if err := db.DeleteRow(ctx, ada); err != nil {
			return err
		}
		var err error
		if inside, err = total(ctx); err != nil {
			return err
		}
		return errChanged
	})
	if !errors.Is(txErr, errChanged) {
		return fmt.Errorf("transaction: got %v, want %v", txErr, errChanged)
	}
	countAfter, err := total(ctx)
	if err != nil {
		return err
	}
	intruders, err := db.Count(ctx, (*exampledb.User)(nil), sqlgen.Filter{"name": []string{"mallory", "trudy"}})
	if err != nil {
		return err
	}
	_, adaErr := sqlgen.Get[exampledb.User](ctx, db, sqlgen.Filter{"id": ada.ID}, nil)
	k.result("Transact returned %q", txErr)
	k.result("users: %d before, %d inside the transaction, %d after", countBefore, inside, countAfter)
	if countAfter == countBefore && intruders == 0 && adaErr == nil {
		k.result("rolled back: mallory and trudy are gone, ada is still there")
	} else {
		k.result("THIS SERVER DID NOT ROLL BACK: %d intruders left, ada: %v", intruders, adaErr)
		return errors.New("the server did not roll the transaction back")
	}

	// Delete.
	k.step("Delete by key: DeleteRow; a read that finds nothing wraps sql.ErrNoRows",
		`db.DeleteRow(ctx, linus)`, `sqlgen.Get[User](ctx, db, sqlgen.Filter{"id": linus.ID}, nil)`)
	if err := db.DeleteRow(ctx, linus); err != nil {
		return err
	}
	_, err = sqlgen.Get[exampledb.User](ctx, db, sqlgen.Filter{"id": linus.ID}, nil)
	k.result("err = %v", err)
	k.result("errors.Is(err, sql.ErrNoRows) = %t", errors.Is(err, sql.ErrNoRows))
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading a deleted row: got %v, want sql.ErrNoRows", err)
	}
	if got, err = sqlgen.Select[exampledb.User](ctx, db, nil, byID); err != nil {
		return err
	}
	k.result("the users left:")
	k.users(got)

	if keep {
		k.printf("\nDone. The tables are kept (-keep).\n")
	} else {
		k.printf("\nDone. The tables are dropped.\n")
	}
	return nil
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// table prints rows under a header, aligned.
func (k *walk) table(header string, rows [][]any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tw := tabwriter.NewWriter(k.w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "        %s\n", header)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = fmt.Sprint(c)
		}
		fmt.Fprintf(tw, "        %s\n", strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func (k *walk) users(us []*exampledb.User) {
	rows := make([][]any, len(us))
	for i, u := range us {
		email := "NULL"
		if u.Email != nil {
			email = *u.Email
		}
		rows[i] = []any{u.ID, u.OrgID, u.Name, email, u.Role, jsonText(u.Settings)}
	}
	k.table("id\torg_id\tname\temail\trole\tsettings", rows)
}

func (k *walk) orgs(os []*exampledb.Organization) {
	rows := make([][]any, len(os))
	for i, o := range os {
		rows[i] = []any{o.ID, o.Name}
	}
	k.table("id\tname", rows)
}

func (k *walk) features(fs []*exampledb.Feature) {
	rows := make([][]any, len(fs))
	for i, f := range fs {
		rows[i] = []any{f.OrgID, f.Name, f.Enabled}
	}
	k.table("org_id\tname\tenabled", rows)
}
