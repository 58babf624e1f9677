package sqlgen_test

// The observer sees every statement a DB sends: the statements the
// observer recorded are checked against the general logs of a throwaway
// primary and replica of their own.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/seed-b2691315/sqlgen/sqlgen"
	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

type obItem struct {
	ID   int64  `sql:",primary"`
	Body string `sql:"body"`
}

// obUser is the user the DBs under test connect as: the general log is
// read for its statements only (the test's own set-up runs as root, and
// so does the replica's connection to the primary).
const obUser = "obapp"

// TestObserverSeesEveryStatement runs every kind of operation (reads and
// writes on the primary and on a replica, Transact committed and rolled
// back, WithTx, InsertRows in a transaction of its own, the statement
// cache, RefuseFullScans, a statement stopped on the server, reads that
// wait for the context's writes) with a recording observer, then compares
// what it recorded with the general log of each server: every statement a
// server ran for the DB's user must have been reported, with its text,
// and nothing reported that the server did not run.
func TestObserverSeesEveryStatement(t *testing.T) {
	p := newReplicaPair(t)
	name := "sqlgen_obs"
	p.primary.exec("CREATE DATABASE " + name)
	p.primary.exec("CREATE TABLE " + name + ".items (id BIGINT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(40) NOT NULL, KEY (body))")
	p.primary.exec("INSERT INTO " + name + ".items (body) VALUES ('a'), ('b'), ('c')")
	p.primary.exec("CREATE USER " + obUser + "@'%'")
	p.primary.exec("GRANT ALL ON *.* TO " + obUser + "@'%'")
	p.sync(t)
	servers := []*mariaServer{p.primary, p.replica}
	for _, s := range servers {
		s.exec("SET GLOBAL log_output = 'TABLE'")
		s.exec("TRUNCATE mysql.general_log")
		s.exec("SET GLOBAL general_log = ON")
	}
	logOff := sync.OnceFunc(func() {
		for _, s := range servers {
			s.exec("SET GLOBAL general_log = OFF")
		}
	})
	t.Cleanup(logOff)

	asApp := func(c *mysql.Config) { c.User, c.InterpolateParams = obUser, true }
	open := func(s *mariaServer) *sql.DB {
		conn := s.open(name, asApp)
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("items", sqlgen.AutoIncrement, obItem{})
	log := &sqlgentest.Recorder{}
	db := sqlgen.NewDB(open(p.primary), schema, sqlgen.WithReplicas(open(p.replica)),
		sqlgen.WithReplicaOptions(sqlgen.ReplicaOptions{LagCheckInterval: time.Nanosecond, MaxLag: time.Hour}),
		sqlgen.WithObserver(log.Observe))
	// The statement cache on a one-connection pool: database/sql then
	// never prepares a cached statement again on another connection, a
	// prepare the DB does not see (see Hook's doc).
	cacheConn := open(p.primary)
	cacheConn.SetMaxOpenConns(1)
	cached := sqlgen.NewDB(cacheConn, schema, sqlgen.WithStmtCache(8), sqlgen.WithObserver(log.Observe))
	t.Cleanup(func() { cached.Close() })

	ctx := context.Background()
	primary := sqlgen.OnPrimary(ctx)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	errRollback := errors.New("roll back")

	// Plain writes and reads, on the primary and on the replica (after
	// its lag check).
	it := &obItem{Body: "d"}
	_, err := db.InsertRow(ctx, it)
	must("InsertRow", err)
	it.Body = "e"
	must("UpdateRow", db.UpdateRow(ctx, it))
	_, err = sqlgen.Select[obItem](primary, db, sqlgen.Filter{"body": "e"}, nil)
	must("Select on the primary", err)
	_, err = sqlgen.Select[obItem](ctx, db, sqlgen.Filter{"body": []string{"a", "b"}}, nil)
	must("Select on the replica", err)
	_, err = db.Count(ctx, &obItem{}, sqlgen.Filter{"body": "a"})
	must("Count on the replica", err)
	must("DeleteRow", db.DeleteRow(ctx, it))

	// Transactions: committed, rolled back, WithTx (whose COMMIT is the
	// caller's), and the batch's own.
	must("Transact", db.Transact(ctx, func(ctx context.Context) error {
		_, err := db.InsertRow(ctx, &obItem{Body: "f"})
		return err
	}))
	if err := db.Transact(ctx, func(ctx context.Context) error {
		if _, err := db.InsertRow(ctx, &obItem{Body: "g"}); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("Transact rolled back: %v", err)
	}
	txCtx, tx, err := db.WithTx(ctx)
	must("WithTx", err)
	_, err = db.InsertRow(txCtx, &obItem{Body: "h"})
	must("InsertRow in WithTx", err)
	must("the caller's commit", tx.Commit())
	must("InsertRows", db.InsertRows(ctx, []*obItem{{Body: "i"}, {Body: "j"}, {Body: "k"}}, 2))

	// RefuseFullScans: an EXPLAIN before the read, where the read runs.
	guarded := db.RefuseFullScans()
	_, err = sqlgen.Select[obItem](primary, guarded, sqlgen.Filter{"body": "a"}, nil)
	must("guarded Select on the primary", err)
	_, err = sqlgen.Select[obItem](ctx, guarded, sqlgen.Filter{"id": 1}, nil)
	must("guarded Select on the replica", err)

	// Reads that wait for the context's writes: the write's GTID
	// position, the replica's wait for it.
	ryw := sqlgen.WithReadYourWrites(ctx)
	_, err = db.InsertRow(ryw, &obItem{Body: "l"})
	must("InsertRow under WithReadYourWrites", err)
	_, err = sqlgen.Select[obItem](ryw, db, sqlgen.Filter{"body": "l"}, nil)
	must("Select under WithReadYourWrites", err)

	// A statement stopped on the server when its context ends: its
	// connection's id, the KILL QUERY.
	kills := len(log.Op("kill"))
	short, cancel := context.WithTimeout(primary, 300*time.Millisecond)
	_, err = sqlgen.Select[obItem](short, db, nil, &sqlgen.SelectOptions{Where: "SLEEP(?) = 0", Values: []any{3}})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a read past its deadline: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(log.Op("kill")) == kills && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if len(log.Op("kill")) == kills {
		t.Fatal("no KILL reported within 5 s")
	}

	// The statement cache: prepared once per text, outside and inside a
	// transaction.
	for range 2 {
		_, err = sqlgen.Get[obItem](ctx, cached, sqlgen.Filter{"id": 1}, nil)
		must("Get through the cache", err)
	}
	_, err = cached.InsertRow(ctx, &obItem{Body: "m"})
	must("InsertRow through the cache", err)
	must("Transact with the cache", cached.Transact(ctx, func(ctx context.Context) error {
		if _, err := sqlgen.Get[obItem](ctx, cached, sqlgen.Filter{"id": 1}, nil); err != nil {
			return err
		}
		_, err := cached.Count(ctx, &obItem{}, nil)
		return err
	}))
	logOff()

	// What the observer saw, by server; the caller's COMMIT of WithTx is
	// the one statement it is not shown (the caller's, on its *sql.Tx).
	events := log.Events()
	byServer := [2][]string{{"COMMIT"}, nil}
	prepares := [2][]string{}
	ops := map[string]int{}
	for _, e := range events {
		if e.Replica < 0 || e.Replica > 1 {
			t.Fatalf("event on replica %d: %+v", e.Replica, e)
		}
		ops[e.Op]++
		if e.Op == "prepare" {
			prepares[e.Replica] = append(prepares[e.Replica], obNormalize(e.SQL))
			continue
		}
		byServer[e.Replica] = append(byServer[e.Replica], obNormalize(e.SQL))
	}
	// Every kind of statement was there to be checked.
	for _, op := range []string{"insert", "update", "delete", "query", "count", "batch insert", "begin", "commit", "rollback",
		"prepare", "explain", "lookup", "replica lag", "gtid position", "gtid wait", "kill"} {
		if ops[op] == 0 {
			t.Errorf("no %q event among %v", op, ops)
		}
	}
	for i, s := range servers {
		ran, prepared := obServerLog(t, s)
		obCompare(t, fmt.Sprintf("server %d, statements", i), byServer[i], ran, true)
		// The cache runs on the primary only.
		obCompare(t, fmt.Sprintf("server %d, prepares", i), prepares[i], prepared, i == 0)
	}
}

// obServerLog returns the statements the server's general log holds for
// obUser (normalized by obNormalize): those it ran (COM_QUERY, COM_STMT_EXECUTE)
// and those it prepared (COM_STMT_PREPARE).
func obServerLog(t *testing.T, s *mariaServer) (ran, prepared []string) {
	t.Helper()
	conn := s.open("")
	defer conn.Close()
	rows, err := conn.Query("SELECT command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log " +
		"WHERE user_host LIKE '" + obUser + "[%' AND command_type IN ('Query', 'Execute', 'Prepare') ORDER BY event_time")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, arg string
		if err := rows.Scan(&typ, &arg); err != nil {
			t.Fatal(err)
		}
		if typ == "Prepare" {
			prepared = append(prepared, obNormalize(arg))
		} else {
			ran = append(ran, obNormalize(arg))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ran, prepared
}

var (
	obString = regexp.MustCompile(`'(?:[^'\\]|\\.|'')*'`)
	obBinary = regexp.MustCompile(`_binary\s*\?`)
	obNumber = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b`)
	obSpace  = regexp.MustCompile(`\s+`)
)

// obNormalize makes a statement's text comparable whether it holds ?
// placeholders (the observer's) or the values (the general log's): every
// string and number literal becomes ?, and the driver's START TRANSACTION
// is the observer's BEGIN.
func obNormalize(q string) string {
	q = obString.ReplaceAllString(q, "?")
	q = obBinary.ReplaceAllString(q, "?")
	q = obNumber.ReplaceAllString(q, "?")
	q = strings.TrimSpace(obSpace.ReplaceAllString(q, " "))
	if q == "START TRANSACTION" {
		q = "BEGIN"
	}
	return q
}

// obCompare fails unless reported and logged hold the same statements, as
// many times each.
func obCompare(t *testing.T, what string, reported, logged []string, wantSome bool) {
	t.Helper()
	count := map[string]int{}
	for _, q := range reported {
		count[q]++
	}
	for _, q := range logged {
		count[q]--
	}
	var diff []string
	for q, n := range count {
		switch {
		case n > 0:
			diff = append(diff, fmt.Sprintf("reported %d more times than the server ran it: %s", n, q))
		case n < 0:
			diff = append(diff, fmt.Sprintf("ran %d more times than reported: %s", -n, q))
		}
	}
	slices.Sort(diff)
	if len(diff) > 0 {
		t.Errorf("%s: %d reported, %d in the server's log:\n%s", what, len(reported), len(logged), strings.Join(diff, "\n"))
	}
	if wantSome && len(logged) == 0 {
		t.Errorf("%s: the server's log holds none: the comparison proves nothing", what)
	}
}
