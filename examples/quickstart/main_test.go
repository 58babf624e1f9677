package main

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// checkInOrder fails t unless out contains every one of want, in order.
func checkInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (after the previous expected lines); output:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

// rowsOf returns the output's lines with their white space collapsed, to
// compare table rows without their alignment.
func rowsOf(out string) map[string]bool {
	rows := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		rows[strings.Join(strings.Fields(l), " ")] = true
	}
	return rows
}

// checkWalkthrough checks the whole walk-through: each step, its SQL and
// the rows it printed.
func checkWalkthrough(t *testing.T, out string) {
	t.Helper()
	const userCols = "SELECT `id`,`org_id`,`name`,`email`,`role`,`settings` FROM `users`"
	checkInOrder(t, out,
		"1. Register the types", "CREATE TABLE `organizations`", "CREATE TABLE `users`", "`settings` JSON NOT NULL",
		"CREATE TABLE `org_features`", "PRIMARY KEY (`org_id`,`name`)", "CREATE INDEX `users_org_id`",
		"2. Insert one row", "sql> INSERT INTO `organizations` (`name`) VALUES (?)", "[insert, 1 arg -> 1 row affected]",
		"=>   acme.ID = 1",
		"3. Insert many rows", "INSERT INTO `organizations` (`name`) VALUES (?),(?)", "[batch insert, 2 args -> 2 rows affected]",
		"INSERT INTO `users`", "[batch insert, 30 args -> 6 rows affected]",
		"4. Read by filter", userCols+" WHERE `org_id`=? AND `role`=? ORDER BY `name`", "[query, 2 args -> 2 rows]",
		"5. Read one row by key", userCols+" WHERE `id`=? LIMIT 2", "[query, 1 arg -> 1 row]",
		"6. Read by an IN list", userCols+" WHERE `id` IN (?,?,?) ORDER BY `id`", "[query, 3 args -> 3 rows]",
		"7. Read with IS NULL", userCols+" WHERE `email` IS NULL ORDER BY `id`", "[query, 0 args -> 2 rows]",
		"8. Count", "SELECT COUNT(*) FROM `users` WHERE `org_id`=?", "=>   3 users in Acme",
		"9. Update a field of the JSON column", "UPDATE `users` SET", "[update, 6 args -> 1 row affected]",
		`settings before: {"theme":"light","language":"en","notifications":true}`,
		`settings after:  {"theme":"dark","language":"en","notifications":false}`,
		"10. Upsert", "ON DUPLICATE KEY UPDATE `enabled`=VALUES(`enabled`)", "[upsert, 3 args -> 1 row affected]",
		"[batch upsert, 9 args -> 4 rows affected]",
		"an upsert on the AutoIncrement users table is refused",
		"11. A transaction that rolls back", `Transact returned "changed my mind"`,
		"users: 6 before, 7 inside the transaction, 6 after", "rolled back: mallory and trudy are gone, ada is still there",
		"12. Delete by key", "DELETE FROM `users` WHERE `id`=?", "errors.Is(err, sql.ErrNoRows) = true",
		"the users left:",
		"Done. The tables are dropped.",
	)
	rows := rowsOf(out)
	for _, r := range []string{
		// Inserted, with their new ids.
		"1 Acme", "2 Globex", "3 Initech",
		`1 1 ada ada@acme.test admin {"theme":"dark","language":"en","notifications":true}`,
		`3 1 linus NULL member {"theme":"light","language":"fi","notifications":false}`,
		`5 2 marge NULL guest {"theme":"light","language":"en","notifications":false}`,
		`6 3 peter peter@initech.test member {"theme":"dark","language":"en","notifications":false}`,
		// Upserted.
		"1 audit_log true", "1 sso false", "2 sso true",
		// After the update: grace's new settings.
		`2 1 grace grace@acme.test member {"theme":"dark","language":"en","notifications":false}`,
	} {
		if !rows[r] {
			t.Errorf("output lacks the row %q", r)
		}
	}
	// The last table: linus deleted, the rolled-back rows absent.
	last := out[strings.LastIndex(out, "the users left:"):]
	for _, gone := range []string{"linus", "mallory", "trudy"} {
		if strings.Contains(last, gone) {
			t.Errorf("%s is still listed at the end:\n%s", gone, last)
		}
	}
	if n := strings.Count(last, "\n        ") - 1; n != 5 {
		t.Errorf("%d users left at the end, want 5:\n%s", n, last)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestQuickstartEmbedded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, "", false); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	checkInOrder(t, out.String(), "server: an embedded go-mysql-server")
	checkWalkthrough(t, out.String())
}

func TestQuickstartServer(t *testing.T) {
	t.Parallel()
	dsn := sqlgentest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, dsn, false); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	checkInOrder(t, out.String(), "server: the server at tcp ")
	checkWalkthrough(t, out.String())
	if n := tableCount(t, dsn); n != 0 {
		t.Errorf("%d tables left after the run, want 0", n)
	}

	// A second run on the same database works (the first dropped its
	// tables); with -keep the tables stay, and a third run refuses to
	// touch them.
	out.Reset()
	if err := run(ctx, &out, dsn, true); err != nil {
		t.Fatalf("second run: %v\noutput:\n%s", err, out.String())
	}
	checkInOrder(t, out.String(), "Done. The tables are kept (-keep).")
	if n := tableCount(t, dsn); n != 3 {
		t.Errorf("%d tables after a -keep run, want 3", n)
	}
	out.Reset()
	err := run(ctx, &out, dsn, false)
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "SQLGEN_DSN") {
		t.Errorf("a run over existing tables: err = %v, want one saying the table exists and how to proceed", err)
	}
	if n := tableCount(t, dsn); n != 3 {
		t.Errorf("%d tables after the refused run, want the 3 kept ones", n)
	}
}

func tableCount(t *testing.T, dsn string) int {
	t.Helper()
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
