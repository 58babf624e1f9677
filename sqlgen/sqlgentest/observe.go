package sqlgentest

import (
	"context"
	"sync"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// Recorder is a sqlgen observer that records every event, for tests that
// check which statements ran. Pass its Observe method to
// [sqlgen.WithObserver]. It is safe for concurrent use; the zero value is
// ready to use.
type Recorder struct {
	mu     sync.Mutex
	events []sqlgen.Event
}

// Observe records e. Its signature is [sqlgen.Observer]'s.
func (r *Recorder) Observe(_ context.Context, e sqlgen.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the events recorded so far.
func (r *Recorder) Events() []sqlgen.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sqlgen.Event(nil), r.events...)
}

// Take returns the events recorded so far and forgets them.
func (r *Recorder) Take() []sqlgen.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// Op returns the events recorded so far whose Op is op (such as "kill"),
// and keeps them all.
func (r *Recorder) Op(op string) []sqlgen.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sqlgen.Event
	for _, e := range r.events {
		if e.Op == op {
			out = append(out, e)
		}
	}
	return out
}
