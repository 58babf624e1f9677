package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/examples/internal/exampledb"
	"github.com/seed-b2691315/sqlgen/live"
	"github.com/seed-b2691315/sqlgen/live/livetest"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// The subscription tests run against livetest's throwaway MariaDB with a
// binary log, started on first use and killed when the test binary ends.
func TestMain(m *testing.M) { livetest.Main(m) }

var liveDBs atomic.Int64

// liveDSN creates a database on the throwaway MariaDB with a binary log
// and returns its DSN; it is dropped at the end of the test.
func liveDSN(t *testing.T) string {
	t.Helper()
	root, err := sql.Open("mysql", livetest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	name := fmt.Sprintf("graphql_%d_%d", os.Getpid(), liveDBs.Add(1))
	if _, err := root.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	return livetest.Start(t) + name
}

// startServe runs the program as an HTTP server on a free port and
// returns its URL and a function that stops it and returns what it
// printed; stop fails the test if run returned an error or did not
// return within 15s.
func startServe(t *testing.T, cfg config) (url string, stop func() string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	addrc := make(chan string, 1)
	cfg.ready = func(addr string) { addrc <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, &out, cfg) }()
	select {
	case addr := <-addrc:
		url = "http://" + addr + "/graphql"
	case err := <-errc:
		cancel()
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	stopped := false
	stop = func() string {
		t.Helper()
		if stopped {
			return out.String()
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("run did not return 15s after its context ended")
		}
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

// stream is a client of a server-sent event stream.
type stream struct {
	body   io.ReadCloser
	events chan []byte // each event's data; closed at the end of the stream
	err    error       // why it ended, once events is closed
}

// subscribe sends a GraphQL request asking for server-sent events.
func subscribe(t *testing.T, url, query string, vars map[string]any) *stream {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("subscribe: %s, Content-Type %q: %s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	s := &stream{body: resp.Body, events: make(chan []byte, 100)}
	t.Cleanup(func() { s.body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var data []byte
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != nil {
					s.events <- data
					data = nil
				}
			case strings.HasPrefix(line, ":"): // a comment
			case strings.HasPrefix(line, "data: "):
				if data != nil {
					data = append(data, '\n')
				}
				data = append(data, line[len("data: "):]...)
			default:
				s.err = fmt.Errorf("unexpected line %q", line)
				return
			}
		}
		s.err = sc.Err()
	}()
	return s
}

// next returns the data of the next event, failing the test if none comes
// within 30s.
func (s *stream) next(t *testing.T, what string) []byte {
	t.Helper()
	select {
	case data, ok := <-s.events:
		if !ok {
			t.Fatalf("%s: the stream ended (%v)", what, s.err)
		}
		return data
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no event within 30s", what)
	}
	return nil
}

// ends fails the test unless the stream ends within 15s with no further
// event.
func (s *stream) ends(t *testing.T, what string) {
	t.Helper()
	select {
	case data, ok := <-s.events:
		if ok {
			t.Fatalf("%s: an event %s, want the end of the stream", what, data)
		}
		if s.err != nil {
			t.Fatalf("%s: the stream ended with %v", what, s.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: the stream did not end within 15s", what)
	}
}

// subUser is a user as usersSub asks for it.
type subUser struct {
	ID           string
	Name         string
	Email        *string
	Role         string
	Settings     struct{ Theme string }
	Organization struct{ Name string }
}

const usersSub = `subscription($org: ID!) {
	users(orgId: $org) { id name email role settings { theme } organization { name } }
}`

func user(id int, name string, email bool, role, theme, org string) subUser {
	u := subUser{ID: fmt.Sprint(id), Name: name, Role: role}
	if email {
		u.Email = exampledb.Str(fmt.Sprintf("user%d@example.com", id))
	}
	u.Settings.Theme, u.Organization.Name = theme, org
	return u
}

// push checks that the next event of s is an answer whose users are want.
func (s *stream) push(t *testing.T, what string, want ...subUser) {
	t.Helper()
	data := s.next(t, what)
	var a struct {
		Data   *struct{ Users []subUser }
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("%s: %v: %s", what, err, data)
	}
	if len(a.Errors) > 0 || a.Data == nil {
		t.Fatalf("%s: an answer with errors: %s", what, data)
	}
	if want == nil {
		want = []subUser{}
	}
	if !reflect.DeepEqual(a.Data.Users, want) {
		t.Fatalf("%s: pushed\n%+v\nwant\n%+v", what, a.Data.Users, want)
	}
}

func execSQL(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestSubscriptionUsers subscribes to the users of two organisations and
// writes through sqlgen (a DB of its own, and the app's mutation) and
// through raw SQL on another connection, one statement and a transaction
// of two; each write pushes exactly the new users of the organisations it
// touches, and a write to another organisation pushes nothing.
func TestSubscriptionUsers(t *testing.T) {
	t.Parallel()
	dsn := liveDSN(t)
	url, stop := startServe(t, testConfig(dsn))

	// Sample data of testConfig: 4 organisations (ids 1 to 4) of 3 users
	// (ids 1 to 12): user n has theme light, dark, solarized for n%3 = 0,
	// 1, 2, an email unless n%3 = 0, the roles admin, member, member.
	orgA := subscribe(t, url, usersSub, map[string]any{"org": "1"})
	orgB := subscribe(t, url, usersSub, map[string]any{"org": "2"})
	u1 := user(1, "user1", true, "ADMIN", "dark", "Org A")
	u2 := user(2, "user2", true, "MEMBER", "solarized", "Org A")
	u3 := user(3, "user3", false, "MEMBER", "light", "Org A")
	u4 := user(4, "user4", true, "ADMIN", "dark", "Org B")
	u5 := user(5, "user5", true, "MEMBER", "solarized", "Org B")
	u6 := user(6, "user6", false, "MEMBER", "light", "Org B")
	orgA.push(t, "the first answer of org 1", u1, u2, u3)
	orgB.push(t, "the first answer of org 2", u4, u5, u6)

	// Through sqlgen, on a DB of the test's own.
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db := sqlgen.NewDB(conn, exampledb.NewSchema())
	ctx := context.Background()
	u, err := sqlgen.Get[exampledb.User](ctx, db, sqlgen.Filter{"id": 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u.Name, u.Email = "user2-renamed", nil
	if err := db.UpdateRow(ctx, u); err != nil {
		t.Fatal(err)
	}
	u2.Name, u2.Email = "user2-renamed", nil
	orgA.push(t, "after db.UpdateRow of user 2", u1, u2, u3)

	// Raw SQL on another connection.
	raw, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	execSQL(t, raw, `INSERT INTO users (id, org_id, name, email, role, settings) VALUES
		(13, 1, 'raw', NULL, 'guest', '{"theme":"neon","language":"fr","notifications":false}')`)
	u13 := user(13, "raw", false, "GUEST", "neon", "Org A")
	orgA.push(t, "after a raw INSERT into org 1", u1, u2, u3, u13)

	// A change to org 2 pushes org 2, not org 1: org 1's next answer is
	// the one after the DELETE, not a repeat of the last.
	execSQL(t, raw, "UPDATE users SET name = 'user4-raw' WHERE id = 4")
	u4.Name = "user4-raw"
	orgB.push(t, "after a raw UPDATE in org 2", u4, u5, u6)
	execSQL(t, raw, "DELETE FROM users WHERE id = 1")
	orgA.push(t, "after a raw DELETE in org 1", u2, u3, u13)

	// A transaction of two statements: one answer each, with both
	// changes. User 5 moves from org 2 to org 1.
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE users SET org_id = 1 WHERE id = 5", "UPDATE users SET role = 'admin' WHERE id = 3"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	u3.Role = "ADMIN"
	u5.Organization.Name = "Org A"
	orgA.push(t, "after a raw transaction moving user 5 to org 1", u2, u3, u5, u13)
	orgB.push(t, "after a raw transaction moving user 5 out of org 2", u4, u6)

	// The app's own mutation, through sqlgen.
	var m struct{ Errors []json.RawMessage }
	post(t, url, `mutation { updateUserSettings(id: 13, settings: {theme: "sepia"}) { id } }`, nil, &m)
	if len(m.Errors) > 0 {
		t.Fatalf("mutation: %s", m.Errors)
	}
	u13.Settings.Theme = "sepia"
	orgA.push(t, "after the mutation updateUserSettings", u2, u3, u5, u13)

	// The last users of org 2 go: org 2 is pushed an empty list.
	execSQL(t, raw, "DELETE FROM users WHERE org_id = 2")
	orgB.push(t, "after deleting every user of org 2")

	// Stopping the server ends the open streams, and does not wait for
	// them.
	stop()
	orgA.ends(t, "org 1 after the server stopped")
	orgB.ends(t, "org 2 after the server stopped")
	out := stop()
	if !strings.Contains(out, "# subscriptions: following the server's binary log") {
		t.Errorf("the output does not say subscriptions are on:\n%s", out)
	}
}

// TestSubscriptionWithoutBinlog: on the embedded server, and on a real
// server without a binary log, the subscription answers with one error
// that says what is missing, and queries keep working.
func TestSubscriptionWithoutBinlog(t *testing.T) {
	t.Parallel()
	nolog, err := livetest.New(false)
	if err != nil {
		t.Fatal(err)
	}
	defer nolog.Stop()
	for _, c := range []struct {
		name, dsn string
		want      []string
	}{
		{"embedded", "", []string{"binary log", "embedded go-mysql-server", exampledb.EnvDSN}},
		{"no log_bin", nolog.DSN, []string{"subscriptions are unavailable", "log_bin"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, stop := startServe(t, testConfig(c.dsn))
			s := subscribe(t, url, usersSub, map[string]any{"org": "1"})
			data := s.next(t, "the answer")
			var a struct {
				Data   json.RawMessage
				Errors []struct{ Message string }
			}
			if err := json.Unmarshal(data, &a); err != nil {
				t.Fatalf("%v: %s", err, data)
			}
			if len(a.Errors) != 1 || a.Data != nil {
				t.Fatalf("want one error and no data: %s", data)
			}
			for _, w := range c.want {
				if !strings.Contains(a.Errors[0].Message, w) {
					t.Errorf("the error %q does not say %q", a.Errors[0].Message, w)
				}
			}
			s.ends(t, "the stream after the error")

			// Queries keep working; a subscription sent without asking
			// for events gets an error that says how to ask.
			var q struct {
				Data struct{ Organizations []struct{ Name string } }
			}
			post(t, url, `{ organizations { name } }`, nil, &q)
			if len(q.Data.Organizations) != 4 {
				t.Errorf("organizations: %+v", q)
			}
			var sub struct{ Errors []struct{ Message string } }
			post(t, url, usersSub, map[string]any{"org": "1"}, &sub)
			if len(sub.Errors) != 1 || !strings.Contains(sub.Errors[0].Message, "Accept: text/event-stream") {
				t.Errorf("a subscription POSTed as JSON: %+v", sub)
			}
			out := stop()
			if c.dsn != "" && !strings.Contains(out, "# subscriptions are unavailable: ") {
				t.Errorf("the output does not say subscriptions are unavailable:\n%s", out)
			}
		})
	}
}

// TestSubscriptionEnds: a stream whose feed stops ends with an answer
// carrying the error; -max-subscriptions bounds the open streams, and a
// client that goes away frees its slot.
func TestSubscriptionEnds(t *testing.T) {
	t.Parallel()
	dsn := liveDSN(t)
	ctx := context.Background()
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	schema := exampledb.NewSchema()
	if err := exampledb.CreateTables(ctx, conn, schema, nil); err != nil {
		t.Fatal(err)
	}
	db := sqlgen.NewDB(conn, schema)
	if _, _, err := exampledb.Seed(ctx, db, 1, 1); err != nil {
		t.Fatal(err)
	}
	feed, err := live.Open(ctx, dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	cfg := testConfig(dsn)
	cfg.MaxSubscriptions = 1
	a, err := newLiveApp(db, cfg, feed, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newMux(a))
	defer srv.Close()
	url := srv.URL + "/graphql"
	u1 := user(1, "user1", true, "ADMIN", "dark", "Org A")

	// One stream at most: a second gets a 503 until the first goes away.
	first := subscribe(t, url, usersSub, map[string]any{"org": "1"})
	first.push(t, "the first stream's answer", u1)
	body, _ := json.Marshal(map[string]any{"query": usersSub, "variables": map[string]any{"org": "1"}})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a second stream with -max-subscriptions 1: %s, want 503", resp.Status)
	}
	first.body.Close()
	var second *stream
	for deadline := time.Now().Add(15 * time.Second); ; {
		select {
		case a.subs <- struct{}{}: // the slot is free
			<-a.subs
			second = subscribe(t, url, usersSub, map[string]any{"org": "1"})
		default:
		}
		if second != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slot of a stream whose client went away was not freed within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	second.push(t, "the second stream's answer", u1)

	// The feed stops: the stream ends with the error.
	feed.Close()
	data := second.next(t, "the answer after the feed stopped")
	var e struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if len(e.Errors) != 1 || e.Data != nil || !strings.Contains(e.Errors[0].Message, "users(orgId: 1)") ||
		!strings.Contains(e.Errors[0].Message, live.ErrClosed.Error()) {
		t.Fatalf("after the feed stopped: %s, want one error naming the subscription and %q", data, live.ErrClosed)
	}
	second.ends(t, "the stream after the feed stopped")
}
