package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
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
}

func newApp(db *sqlgen.DB, cfg config) (*app, error) {
	schema, err := graphql.ParseSchema(sdl, &resolver{db: db},
		// graphql-go runs resolvers that take a context in parallel
		// goroutines, at most MaxParallelism at a time per request
		// (default 10). The batcher can only merge reads that are
		// waiting at the same time, so allow as many as one level can
		// have: the users of every listed organisation.
		graphql.MaxParallelism(cfg.Parallelism),
		graphql.MaxDepth(10),
		graphql.MaxQueryLength(16<<10),
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
// "variables"}.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	resp, _, err := a.exec(r.Context(), req)
	switch {
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil: // the client went away
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func newMux(a *app) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/graphql", a)
	return mux
}
