package live

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// proxy forwards TCP connections to a server; freeze makes every open
// connection go silent without closing (a network that dropped them), new
// connections still pass.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []*proxyConn
	done   chan struct{}
}

type proxyConn struct {
	frozen chan struct{}
	once   sync.Once
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, done: make(chan struct{})}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			pc := &proxyConn{frozen: make(chan struct{})}
			p.mu.Lock()
			p.conns = append(p.conns, pc)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					select {
					case <-pc.frozen: // silent until the proxy ends
						<-p.done
						dst.Close()
						src.Close()
						return
					default:
					}
					if n > 0 {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							err = werr
						}
					}
					if err != nil {
						if err != io.EOF {
							dst.Close()
						}
						dst.Close()
						return
					}
				}
			}
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	t.Cleanup(func() { close(p.done); l.Close() })
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.once.Do(func() { close(c.frozen) })
	}
}

// TestSilentConnectionReconnects: a replication connection that goes
// silent without closing (no heartbeat) is dropped and the feed resumes
// from its position; nothing is lost or repeated.
func TestSilentConnectionReconnects(t *testing.T) {
	dsn, db := newDatabase(t, "", "CREATE TABLE item2 (id BIGINT PRIMARY KEY, owner BIGINT NOT NULL)")
	type Item2 struct {
		ID    int64 `sql:",primary"`
		Owner int64
	}
	s := sqlgen.NewSchema()
	s.MustRegisterType("item2", sqlgen.AutoIncrement, Item2{})
	target := strings.TrimSuffix(strings.TrimPrefix(binlogDSN, "root@tcp("), ")/")
	p := newProxy(t, target)
	pdsn := strings.Replace(dsn, target, p.addr(), 1) + "?readTimeout=1s"
	f := openFeed(t, pdsn, s, withHeartbeat(100*time.Millisecond), WithRetry(20*time.Millisecond))
	ch := collect(t, f)
	exec1(t, db, "INSERT INTO item2 VALUES (1, 0)")
	if got := next(t, ch, 10*time.Second); got.err != nil || got.c.After.(*Item2).ID != 1 {
		t.Fatalf("got %+v", got)
	}
	p.freeze()
	for i := 2; i <= 20; i++ {
		exec1(t, db, "INSERT INTO item2 VALUES (?, 0)", i)
	}
	for i := int64(2); i <= 20; i++ {
		got := next(t, ch, 15*time.Second)
		if got.err != nil || got.c.After.(*Item2).ID != i {
			t.Fatalf("want row %d, got %+v", i, got)
		}
	}
	select {
	case got := <-ch:
		t.Fatalf("extra change %+v", got)
	case <-time.After(200 * time.Millisecond):
	}
	f.mu.Lock()
	rc := f.reconnects
	f.mu.Unlock()
	if rc == 0 {
		t.Fatal("the feed did not reconnect")
	}
}
