package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/jmoiron/sqlx"

	"github.com/seed-b2691315/sqlgen/benchmarks"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// AllLibs lists the libraries the load test knows, in report order; raw
// comes first, as the others are compared with it.
var AllLibs = []string{"raw", "sqlgen", "sqlx", "gorm"}

// rowsSQL is the statement of raw (sqlx says SELECT *, the others build
// theirs).
const rowsSQL = "SELECT id, name, title, fax, web, age, `right`, counter FROM models LIMIT 100"

// Fetcher reads benchmarks.SliceLimit rows of model A with one library
// and returns them, ready for JSON encoding (a slice of the library's own
// row type, allocated afresh per call, as a handler would).
type Fetcher func(ctx context.Context) (any, error)

// NewFetcher builds library lib on conn, the way benchmarks' lib_*.go
// use it (same model types, same options).
func NewFetcher(lib string, conn *sql.DB) (Fetcher, error) {
	switch lib {
	case "raw":
		return func(ctx context.Context) (any, error) {
			rows, err := conn.QueryContext(ctx, rowsSQL)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			ms := make([]*benchmarks.Model, 0, benchmarks.SliceLimit)
			for rows.Next() {
				m := new(benchmarks.Model)
				if err := rows.Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter); err != nil {
					return nil, err
				}
				ms = append(ms, m)
			}
			return ms, rows.Err()
		}, nil
	case "sqlgen":
		s := sqlgen.NewSchema()
		if err := s.RegisterType("models", sqlgen.AutoIncrement, benchmarks.SqlgenModel{}); err != nil {
			return nil, err
		}
		db := sqlgen.NewDB(conn, s)
		return func(ctx context.Context) (any, error) {
			var ms []*benchmarks.SqlgenModel
			err := db.Query(ctx, &ms, nil, &sqlgen.SelectOptions{Limit: benchmarks.SliceLimit})
			return ms, err
		}, nil
	case "sqlx":
		db := sqlx.NewDb(conn, "mysql")
		return func(ctx context.Context) (any, error) {
			var ms []*benchmarks.SqlxModel
			err := db.SelectContext(ctx, &ms, "SELECT * FROM models LIMIT 100")
			return ms, err
		}, nil
	case "gorm":
		db, err := benchmarks.OpenGorm(conn)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) (any, error) {
			var ms []*benchmarks.GormModel
			err := db.WithContext(ctx).Limit(benchmarks.SliceLimit).Find(&ms).Error
			return ms, err
		}, nil
	}
	return nil, fmt.Errorf("unknown library %q (known: %v)", lib, AllLibs)
}

// target is what the server answers with: one library, and the semaphore
// bounding the requests it serves at once (nil: unbounded).
type target struct {
	fetch Fetcher
	sem   chan struct{}
}

// Server answers GET /models with the rows of the current library as a
// JSON array. The library is switched between runs, while no request is
// in flight.
type Server struct {
	cur atomic.Pointer[target]
}

// Use makes the server answer with fetch, serving at most limit requests
// at once (0: unbounded).
func (s *Server) Use(fetch Fetcher, limit int) {
	t := &target{fetch: fetch}
	if limit > 0 {
		t.sem = make(chan struct{}, limit)
	}
	s.cur.Store(t)
}

// ServeHTTP serves one request: under the semaphore, the query and the
// JSON encoding, the two steps whose memory the load test measures.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.cur.Load()
	if t.sem != nil {
		select {
		case t.sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-t.sem }()
	}
	rows, err := t.fetch(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rows) // a failed write is the client's to see
}
