package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-b2691315/sqlgen/benchmarks"
)

// NewClient returns the load generator's client: keep-alive connections,
// enough of them idle per host for every worker, no compression.
func NewClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        2 * concurrency,
			MaxIdleConnsPerHost: 2 * concurrency,
			IdleConnTimeout:     5 * time.Minute,
			DisableCompression:  true,
		},
	}
}

// Load sends n GET requests to u with concurrency workers, and checks
// that every answer is a 200 with a JSON array of benchmarks.SliceLimit
// objects. It returns how many answers it checked, and the first failure.
// u must be on 127.0.0.1: the load test never sends anything elsewhere.
func Load(ctx context.Context, client *http.Client, u string, n, concurrency int) (int64, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return 0, err
	}
	if pu.Hostname() != "127.0.0.1" {
		return 0, fmt.Errorf("load test target %s is not on 127.0.0.1", u)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, checked atomic.Int64
		once          sync.Once
		firstErr      error
		wg            sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	for range min(concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 8<<10)
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				if err := get(ctx, client, u, buf); err != nil {
					fail(err)
					return
				}
				checked.Add(1)
			}
		}()
	}
	wg.Wait()
	return checked.Load(), firstErr
}

// get sends one request and checks its answer, streamed through buf
// (the worker's own, reused: the client should hold and allocate little
// in the process being measured).
func get(ctx context.Context, client *http.Client, u string, buf []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		n, _ := io.ReadFull(resp.Body, buf[:min(len(buf), 200)])
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, buf[:n])
	}
	var c objectCounter
	if _, err := io.CopyBuffer(&c, resp.Body, buf); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if n, err := c.Count(); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	} else if n != benchmarks.SliceLimit {
		return fmt.Errorf("GET %s: %d rows, want %d", u, n, benchmarks.SliceLimit)
	}
	return nil
}

// objectCounter counts the objects of a JSON array written to it, without
// decoding them (decoding would allocate in the process being measured).
// It follows strings, escapes and nesting, and checks that the text is
// one array of objects, balanced; it does not validate the JSON grammar
// further (a wrong row count, the check that matters, still shows).
type objectCounter struct {
	n, depth                   int
	started, ended             bool
	inString, escaped, invalid bool
}

// Write consumes the next part of the text.
func (c *objectCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		switch {
		case c.inString:
			switch {
			case c.escaped:
				c.escaped = false
			case b == '\\':
				c.escaped = true
			case b == '"':
				c.inString = false
			}
		case b == ' ' || b == '\n' || b == '\r' || b == '\t':
		case c.ended || (!c.started && b != '['):
			c.invalid = true
		case b == '"':
			c.inString = true
		case b == '[' || b == '{':
			if c.depth == 1 {
				if b != '{' {
					c.invalid = true
				}
				c.n++
			}
			c.started = true
			c.depth++
		case b == ']' || b == '}':
			c.depth--
			if c.depth < 0 {
				c.invalid = true
			}
			c.ended = c.depth == 0
		}
	}
	return len(p), nil
}

// Count returns the number of objects in the array.
func (c *objectCounter) Count() (int, error) {
	if c.invalid || !c.ended || c.inString {
		return 0, errors.New("the body is not a JSON array of objects")
	}
	return c.n, nil
}
