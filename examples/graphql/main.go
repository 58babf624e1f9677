package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/seed-b2691315/sqlgen/examples/internal/exampledb"
	"github.com/seed-b2691315/sqlgen/live"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// config is what the flags set.
type config struct {
	DSN       string // "" for the embedded server
	Query     string // answer this and exit, instead of serving
	Variables string // JSON object of the query's variables
	Addr      string
	// MaxInFlight bounds the requests resolved at once; QueueTimeout is
	// how long one waits for a slot before a 503.
	MaxInFlight  int
	QueueTimeout time.Duration
	// MaxSubscriptions bounds the open subscriptions (event streams).
	MaxSubscriptions int
	// Parallelism is graphql-go's MaxParallelism: the resolvers of one
	// request run at once.
	Parallelism int
	BatchWindow time.Duration
	Orgs        int // sample data: organisations
	UsersPerOrg int // and users in each

	ready func(addr string) // called once the server listens (tests)
}

// defaultConfig is the configuration of the flags' defaults.
func defaultConfig() config {
	return config{
		DSN:              os.Getenv(exampledb.EnvDSN),
		Addr:             "127.0.0.1:8080",
		MaxInFlight:      4 * runtime.GOMAXPROCS(0),
		QueueTimeout:     5 * time.Second,
		MaxSubscriptions: 100,
		Parallelism:      maxOrgs,
		BatchWindow:      5 * time.Millisecond,
		Orgs:             5,
		UsersPerOrg:      2,
	}
}

func main() {
	cfg := defaultConfig()
	// A flag set of our own: go-mysql-server's vitess registers flags of
	// its own on flag.CommandLine.
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	fs.StringVar(&cfg.Query, "query", "", "answer this GraphQL query, print the answer and the SQL it took, and exit")
	fs.StringVar(&cfg.Variables, "variables", "", "with -query: the query's variables, a JSON object")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "without -query: the address to serve POST /graphql on")
	fs.IntVar(&cfg.MaxInFlight, "max-inflight", cfg.MaxInFlight, "most requests resolved at once, the others wait (4 x GOMAXPROCS)")
	fs.DurationVar(&cfg.QueueTimeout, "queue-timeout", cfg.QueueTimeout, "how long a request waits for a slot before a 503")
	fs.IntVar(&cfg.MaxSubscriptions, "max-subscriptions", cfg.MaxSubscriptions, "most subscriptions (event streams) open at once, the others get a 503")
	fs.IntVar(&cfg.Parallelism, "parallelism", cfg.Parallelism, "resolvers of one request run at once (graphql-go MaxParallelism); reads are batched only among these")
	fs.DurationVar(&cfg.BatchWindow, "batch-window", cfg.BatchWindow, "how long the first read of a batch waits for others")
	fs.IntVar(&cfg.Orgs, "orgs", cfg.Orgs, "sample organisations")
	fs.IntVar(&cfg.UsersPerOrg, "users-per-org", cfg.UsersPerOrg, "sample users in each organisation")
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "graphql:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	if cfg.MaxInFlight <= 0 || cfg.MaxSubscriptions <= 0 || cfg.Parallelism <= 0 || cfg.BatchWindow <= 0 || cfg.QueueTimeout <= 0 {
		return errors.New("-max-inflight, -max-subscriptions, -parallelism, -batch-window and -queue-timeout must be positive")
	}
	var vars map[string]any
	if cfg.Variables != "" {
		if err := json.Unmarshal([]byte(cfg.Variables), &vars); err != nil {
			return fmt.Errorf("-variables: %w", err)
		}
	}
	target, err := exampledb.Open(ctx, cfg.DSN)
	if err != nil {
		return err
	}
	defer target.Close()
	fmt.Fprintf(w, "# server: %s\n", target.Desc)

	schema := exampledb.NewSchema()
	db := sqlgen.NewDB(target.Conn, schema, sqlgen.WithObserver(observe))
	if err := exampledb.CreateTables(ctx, target.Conn, schema, nil); err != nil {
		return err
	}
	defer func() {
		if derr := exampledb.DropTables(context.WithoutCancel(ctx), target.Conn); derr != nil && err == nil {
			err = fmt.Errorf("dropping the tables: %w", derr)
		}
	}()
	if _, _, err := exampledb.Seed(ctx, db, cfg.Orgs, cfg.UsersPerOrg); err != nil {
		return fmt.Errorf("writing the sample data: %w", err)
	}
	fmt.Fprintf(w, "# sample data: %d organisations with %d users each\n", cfg.Orgs, cfg.UsersPerOrg)

	// Subscriptions (served, not -query) follow the server's binary log;
	// without one (the embedded server has none) they answer with an
	// error saying so.
	var feed *live.Feed
	feedErr := errNoFeed
	if !target.Embedded && cfg.Query == "" {
		feed, err = live.Open(ctx, target.DSN, schema)
		if err != nil {
			feedErr = fmt.Errorf("subscriptions are unavailable: %w", err)
			fmt.Fprintf(w, "# %v\n", feedErr)
		} else {
			defer feed.Close()
			fmt.Fprintln(w, "# subscriptions: following the server's binary log")
		}
	}

	a, err := newLiveApp(db, cfg, feed, feedErr)
	if err != nil {
		return err
	}
	if cfg.Query != "" {
		return answer(ctx, w, a, request{Query: cfg.Query, Variables: vars})
	}
	return serve(ctx, w, a, cfg)
}

// answer runs one query and prints its answer and its statements.
func answer(ctx context.Context, w io.Writer, a *app, req request) error {
	resp, stmts, err := a.exec(ctx, req)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", out)
	fmt.Fprintf(w, "# %d SQL statements (as sqlgen's Observer reports them: BEGIN and COMMIT are not):\n", len(stmts))
	for i, e := range stmts {
		fmt.Fprintf(w, "#   %d. %s\n#      [%s]\n", i+1, e.SQL, exampledb.Summary(e))
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("the query failed: %v", resp.Errors[0])
	}
	return nil
}

// serve serves POST /graphql on cfg.Addr until ctx ends.
func serve(ctx context.Context, w io.Writer, a *app, cfg config) error {
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newMux(a),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(w, "# serving POST http://%s/graphql (at most %d requests at once); Ctrl-C stops\n", l.Addr(), cfg.MaxInFlight)
	fmt.Fprintf(w, "# try: curl -s http://%s/graphql -d '{\"query\":\"{ organizations { name users { name settings { theme } } } }\"}'\n", l.Addr())
	fmt.Fprintf(w, "# subscribe: curl -N http://%s/graphql -H 'Accept: text/event-stream' -d '{\"query\":\"subscription { users(orgId: 1) { id name } }\"}'\n", l.Addr())
	if cfg.ready != nil {
		cfg.ready(l.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(w, "# stopped")
	return nil
}
