package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/seed-b2691315/sqlgen/examples/internal/exampledb"
	"github.com/seed-b2691315/sqlgen/live"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// app answers GraphQL requests over a sqlgen DB.
type app struct {
	schema      *graphql.Schema
	batchWindow time.Duration
	batchSize   int
	// sem bounds the requests resolved at once: each holds a slot from
	// the moment its query starts until its answer is built. Without it,
	// every open connection resolves at once, each with up to
	// Parallelism goroutines and its rows in memory.
	sem          chan struct{}
	queueTimeout time.Duration
	// subs bounds the open subscriptions, which hold no slot of sem.
	subs chan struct{}
}

// errNoFeed is the subscriptions' error when the app has no feed.
var errNoFeed = errors.New("subscriptions need a MySQL/MariaDB server with a binary log in row format: " +
	"the embedded go-mysql-server has none; set " + exampledb.EnvDSN + " to such a server (see examples/README.md)")

func newApp(db *sqlgen.DB, cfg config) (*app, error) {
	return newLiveApp(db, cfg, nil, errNoFeed)
}

// newLiveApp is newApp whose subscriptions follow feed, or fail with
// feedErr when feed is nil.
func newLiveApp(db *sqlgen.DB, cfg config, feed *live.Feed, feedErr error) (*app, error) {
	schema, err := graphql.ParseSchema(sdl, &resolver{db: db, feed: feed, feedErr: feedErr},
		// graphql-go runs resolvers that take a context in parallel
		// goroutines, at most MaxParallelism at a time per request
		// (default 10). The batcher can only merge reads that are
		// waiting at the same time, so allow as many as one level can
		// have: the users of every listed organisation.
		graphql.MaxParallelism(cfg.Parallelism),
		graphql.MaxDepth(10),
		graphql.MaxQueryLength(16<<10),
		// The time to resolve one answer of a subscription (graphql-go's
		// default of 1s drops answers on a loaded machine).
		graphql.SubscribeResolverTimeout(30*time.Second),
	)
	if err != nil {
		return nil, err
	}
	return &app{
		schema:       schema,
		batchWindow:  cfg.BatchWindow,
		batchSize:    max(cfg.Parallelism, sqlgen.DefaultBatchSize),
		sem:          make(chan struct{}, cfg.MaxInFlight),
		queueTimeout: cfg.QueueTimeout,
		subs:         make(chan struct{}, cfg.MaxSubscriptions),
	}, nil
}

// request is a GraphQL request, as POSTed.
type request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// stats collects the statements of one request; the DB's observer finds
// it in the statement's context (batched reads run with the context given
// to sqlgen.WithBatching, which carries it too).
type stats struct {
	mu    sync.Mutex
	stmts []sqlgen.Event
}

type statsKey struct{}

func observe(ctx context.Context, e sqlgen.Event) {
	if s, ok := ctx.Value(statsKey{}).(*stats); ok {
		s.mu.Lock()
		s.stmts = append(s.stmts, e)
		s.mu.Unlock()
	}
}

func (s *stats) statements() []sqlgen.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sqlgen.Event(nil), s.stmts...)
}

var errBusy = errors.New("too many requests in flight")

// exec answers one request: it waits for a slot, then runs the query
// with a batcher on its context. The answer's extensions carry the number
// of SQL statements it took.
func (a *app) exec(ctx context.Context, req request) (*graphql.Response, []sqlgen.Event, error) {
	wait, cancel := context.WithTimeout(ctx, a.queueTimeout)
	defer cancel()
	select {
	case a.sem <- struct{}{}:
	case <-wait.Done():
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, errBusy
	}
	defer func() { <-a.sem }()

	st := &stats{}
	ctx = context.WithValue(ctx, statsKey{}, st)
	ctx = sqlgen.WithBatching(ctx, sqlgen.BatchWindow(a.batchWindow), sqlgen.BatchSize(a.batchSize))
	resp := a.schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
	stmts := st.statements()
	resp.Extensions = map[string]any{"sqlStatements": len(stmts)}
	return resp, stmts, nil
}

// ServeHTTP serves POST /graphql with a JSON body {"query", "operationName",
// "variables"}. A request that accepts text/event-stream gets its answers
// as server-sent events (serveEvents): that is how subscriptions are
// answered; such a request may also be a GET with the parameters query,
// operationName and variables (JSON), as a browser's EventSource sends.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if wantsEvents(r) && r.Method == http.MethodGet {
		q := r.URL.Query()
		req := request{Query: q.Get("query"), OperationName: q.Get("operationName")}
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				http.Error(w, "bad variables: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		a.serveEvents(w, r, req)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a JSON body {\"query\": ...}", http.StatusMethodNotAllowed)
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if wantsEvents(r) {
		a.serveEvents(w, r, req)
		return
	}
	resp, _, err := a.exec(r.Context(), req)
	switch {
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil: // the client went away
		return
	}
	if len(resp.Errors) == 1 && resp.Errors[0].Message == "graphql-ws protocol header is missing" {
		// graphql-go's answer to a subscription sent to Exec.
		resp.Errors[0].Message = "a subscription is answered as server-sent events: send the header Accept: text/event-stream"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func wantsEvents(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streamEnd records why a subscription's stream ended early (a failed
// read, a stopped feed), for serveEvents to send as its last answer.
type streamEnd struct {
	mu  sync.Mutex
	err error
}

type streamEndKey struct{}

func (e *streamEnd) set(err error) {
	e.mu.Lock()
	e.err = err
	e.mu.Unlock()
}

func (e *streamEnd) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Timing of the event streams.
const (
	eventWriteTimeout = 10 * time.Second // a client that takes longer to read an answer is dropped
	keepAlive         = 15 * time.Second // a comment line when there is nothing to send
)

// serveEvents answers req as server-sent events: one event
// "data: <the JSON answer>" per answer, for a subscription each time its
// result changes, and the stream ends when the subscription does (a query
// or a mutation: after its one answer). A subscription that fails ends
// with an answer carrying the error. The answers of users(orgId) are whole
// results, so a client that reads slowly gets the latest one, not every
// one: an answer not yet written is replaced by a newer one.
func (a *app) serveEvents(w http.ResponseWriter, r *http.Request, req request) {
	select {
	case a.subs <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many subscriptions open", http.StatusServiceUnavailable)
		return
	}
	defer func() { <-a.subs }()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	end := &streamEnd{}
	ctx = context.WithValue(ctx, streamEndKey{}, end)
	// The users of one answer read their organisations in one statement.
	ctx = sqlgen.WithBatching(ctx, sqlgen.BatchWindow(a.batchWindow), sqlgen.BatchSize(a.batchSize))
	answers, err := a.schema.Subscribe(ctx, req.Query, req.OperationName, req.Variables)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The stream outlives the server's read and write timeouts (a read
	// deadline that passes would cancel the request's context).
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(text string) bool {
		rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := io.WriteString(w, text); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": subscribed\n\n") {
		return
	}
	event := func(resp *graphql.Response) bool {
		b, err := json.Marshal(resp)
		if err != nil {
			b, _ = json.Marshal(map[string]any{"errors": []map[string]string{{"message": err.Error()}}})
		}
		return write("data: " + string(b) + "\n\n")
	}
	// graphql-go drops an answer its reader does not take within
	// SubscribeResolverTimeout, so answers are taken at once, and only the
	// latest unwritten one is kept.
	latest := make(chan *graphql.Response, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range answers {
			resp, ok := v.(*graphql.Response)
			if !ok {
				continue
			}
			select {
			case <-latest:
			default:
			}
			latest <- resp
		}
	}()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case resp := <-latest:
			if !event(resp) {
				return
			}
		case <-done:
			select {
			case resp := <-latest:
				if !event(resp) {
					return
				}
			default:
			}
			if err := end.get(); err != nil {
				event(&graphql.Response{Errors: []*gqlerrors.QueryError{{Message: err.Error()}}})
			}
			return
		case <-tick.C:
			if !write(": keep-alive\n\n") {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func newMux(a *app) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/graphql", a)
	return mux
}
