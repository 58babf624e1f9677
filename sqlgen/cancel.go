package sqlgen

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"strconv"
	"sync"
	"time"
	"weak"

	"github.com/go-sql-driver/mysql"
)

// Server-side cancellation.
//
// When a statement's context ends, go-sql-driver/mysql closes the
// connection and returns, but the server goes on running the statement
// until it ends by itself: a slow query keeps its thread busy, a write
// waiting for a lock may still be applied (autocommitted) after the caller
// got its context error, and a later DROP or ALTER waits behind it. So a
// DB stops the statement itself, with KILL QUERY <connection id> sent on
// another connection of the pool.
//
// To know the connection, a statement whose context can end (ctx.Done()
// is not nil) runs on a connection sqlgen takes from the pool for it
// (sql.DB.Conn), whose server id is read once per physical connection
// (SELECT CONNECTION_ID()) and remembered. Contexts that cannot end pay
// nothing. The KILL is armed with context.AfterFunc and settled when the
// statement is over (see [settle]): while the connection can still serve
// a statement, a KILL under way is waited for (or called off while it
// still waits for a connection) before the connection serves another, so
// that it never stops a later statement. Once the driver has closed the
// connection (as it does when the context ends mid-statement), the KILL
// can only reach the statement it was meant for: it is sent, and the
// call waits briefly for its answer.

// killTimeout bounds how long a KILL waits for a connection and an answer.
const killTimeout = 5 * time.Second

// WithoutServerCancel turns off server-side cancellation.
//
// By default, when the context of a statement ends while the server runs
// it, the DB stops it on the server with KILL QUERY sent on another
// connection of the pool, instead of only dropping the connection as
// go-sql-driver/mysql does (the server would run the statement to its
// end: a slow query keeps going, a write waiting for a lock is applied
// after the caller got its context error, a later DROP waits behind it).
// The call still returns the context's error at once.
//
// It covers the statements of calls outside a transaction (except those
// run through [WithStmtCache]: database/sql picks their connection, so
// sqlgen cannot tell which one to stop), and those of [DB.Transact],
// [DB.TransactWithRetry] and the own transaction of [DB.InsertRows] and
// [DB.UpsertRows], whose connection sqlgen holds. Statements in a
// transaction from [DB.WithTx] or [DB.WithExistingTx] are not stopped on
// the server: when their context ends the driver drops the connection
// and the server rolls the transaction back once the statement is over.
//
// It costs contexts that can end (ctx.Done() != nil) a connection taken
// from the pool per statement (as database/sql takes one anyway) and, once
// per physical connection, a SELECT CONNECTION_ID(); context.Background()
// and the like pay nothing. It is used only with go-sql-driver/mysql's
// driver. KILL needs the same user or the PROCESS / CONNECTION ADMIN
// privilege; a KILL that fails (reported to the [Observer] with Op "kill")
// changes nothing: the call returns the context's error as it would
// without it. Turn it off behind a proxy that multiplexes client
// connections over server connections, where a connection id does not
// name one client's session.
func WithoutServerCancel() Option {
	return func(db *DB) { db.noServerCancel = true }
}

// isMySQL reports whether conn uses go-sql-driver/mysql's driver.
func isMySQL(conn *sql.DB) bool {
	if conn == nil {
		return false
	}
	switch conn.Driver().(type) {
	case *mysql.MySQLDriver, mysql.MySQLDriver:
		return true
	}
	return false
}

// pin takes a connection from the pool for one statement that is to be
// stopped on the server if ctx ends, and returns it with its server id.
// It returns a nil connection (and no error) when the id cannot be read:
// the statement then runs on the pool, as without the feature.
func (db *DB) pin(ctx context.Context) (*sql.Conn, int64, error) {
	conn, err := db.conn.Conn(ctx)
	if err != nil {
		return nil, 0, err
	}
	id, err := db.connID(ctx, conn)
	if err != nil || id <= 0 {
		conn.Close()
		if ctx.Err() != nil {
			return nil, 0, err
		}
		return nil, 0, nil
	}
	return conn, id, nil
}

// serverIDs remembers the server id of each physical connection. It is
// keyed by a weak pointer to the driver's connection: an entry keeps no
// closed connection alive, and a later connection allocated at the same
// address has another key.
var serverIDs = connIDs{ids: map[weak.Pointer[byte]]int64{}, sweepAt: 64}

type connIDs struct {
	mu      sync.Mutex
	ids     map[weak.Pointer[byte]]int64
	sweepAt int // drop the entries of collected connections when the map reaches this size
}

func (c *connIDs) get(k weak.Pointer[byte]) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[k]
}

func (c *connIDs) put(k weak.Pointer[byte], id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) >= c.sweepAt {
		for k := range c.ids {
			if k.Value() == nil {
				delete(c.ids, k)
			}
		}
		c.sweepAt = max(64, 2*len(c.ids))
	}
	c.ids[k] = id
}

func (c *connIDs) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// connID returns the server's id of conn's physical connection, reading
// it with SELECT CONNECTION_ID() the first time (reported to the hook as
// a "lookup").
func (db *DB) connID(ctx context.Context, conn *sql.Conn) (int64, error) {
	var key weak.Pointer[byte]
	var id int64
	err := conn.Raw(func(dc any) error {
		if v := reflect.ValueOf(dc); v.Kind() == reflect.Pointer && !v.IsNil() {
			key = weak.Make((*byte)(v.UnsafePointer()))
			id = serverIDs.get(key)
		}
		return nil
	})
	if err != nil || id > 0 {
		return id, err
	}
	if err := db.queryRowOn(ctx, conn, "", "lookup", "SELECT CONNECTION_ID()", nil, &id); err != nil {
		return 0, err
	}
	if id > 0 && key != (weak.Pointer[byte]{}) {
		serverIDs.put(key, id)
	}
	return id, nil
}

// connUsable reports whether conn's physical connection could serve
// another statement: false once the driver has closed it (as it does when
// a context ends mid-statement) or when it is gone. A nil conn is
// taken as usable.
func connUsable(conn *sql.Conn) bool {
	if conn == nil {
		return true
	}
	usable := false
	err := conn.Raw(func(dc any) error {
		v, ok := dc.(driver.Validator)
		usable = !ok || v.IsValid()
		return nil
	})
	return err == nil && usable
}

// The states of a killer.
const (
	killArmed   = iota // waiting for the context to end, or for a connection to send the KILL on
	killSending        // the KILL is on its way
	killDone           // the KILL has been answered, or could not be sent
	killAborted        // called off before it was sent
)

// killWait bounds how long a call whose context ended waits for its KILL
// to be answered, once its connection can serve no other statement: long
// enough for a KILL that finds a connection, short enough not to hold the
// call when the pool has none to spare.
const killWait = 250 * time.Millisecond

// killer stops one statement on the server when its context ends.
type killer struct {
	db    *DB
	ctx   context.Context // the statement's
	table string
	id    int64 // the server id of the statement's connection
	stop  func() bool

	mu     sync.Mutex
	state  int
	cancel context.CancelFunc // ends the KILL's wait for a connection
	done   chan struct{}      // closed when fire returns (made by fire or settle, whichever comes first)
}

// watch arms a KILL QUERY of connection id for when ctx ends. It returns
// nil (a killer that does nothing) when ctx has already ended: the
// statement will not be sent.
func (db *DB) watch(ctx context.Context, table string, id int64) *killer {
	if ctx.Err() != nil {
		return nil
	}
	k := &killer{db: db, ctx: ctx, table: table, id: id}
	k.stop = context.AfterFunc(ctx, k.fire)
	return k
}

// doneChan returns k.done, making it if needed. k.mu must be held.
func (k *killer) doneChan() chan struct{} {
	if k.done == nil {
		k.done = make(chan struct{})
	}
	return k.done
}

// fire sends the KILL, on its own goroutine (context.AfterFunc's).
func (k *killer) fire() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx), killTimeout)
	defer cancel()
	k.mu.Lock()
	done := k.doneChan()
	defer close(done)
	if k.state != killArmed {
		k.mu.Unlock()
		return
	}
	k.cancel = cancel
	k.mu.Unlock()
	q := "KILL QUERY " + strconv.FormatInt(k.id, 10)
	db := k.db
	conn, err := db.conn.Conn(ctx)
	if err == nil {
		k.mu.Lock()
		if k.state != killArmed {
			k.mu.Unlock()
			conn.Close()
			return
		}
		k.state = killSending
		k.mu.Unlock()
		hctx, start := k.ctx, time.Time{}
		if db.hook != nil {
			hctx, start = db.before(k.ctx, k.table, "kill", q, 0)
		}
		_, err = conn.ExecContext(ctx, q)
		conn.Close()
		if db.hook != nil {
			db.after(hctx, k.table, "kill", q, 0, start, -1, err)
		}
	}
	k.mu.Lock()
	aborted := k.state == killAborted
	k.state = killDone
	k.mu.Unlock()
	if conn == nil && !aborted && db.hook != nil {
		// No connection to send it on: reported as a KILL that failed.
		hctx, start := db.before(k.ctx, k.table, "kill", q, 0)
		db.after(hctx, k.table, "kill", q, 0, start, -1, err)
	}
}

// settle ends k's watch once its statement is over (k may be nil), before
// the statement's connection, conn, serves another statement; pinned says
// conn was taken from the pool for the statement, and settle returns it.
//
// If the connection can still serve a statement, the statement is over on
// the server too: a KILL not yet started is stopped, one that still waits
// for a connection of its own is called off, and one on its way is waited
// for, so that it never reaches a later statement. If the driver has
// closed the connection (as it does when the context ends mid-statement),
// the statement may still run on the server, and the KILL, which can only
// reach it, is sent (also when the context ended before the watch
// started it): a pinned connection is returned first (a pool of one then
// has a connection for the KILL), and the call waits up to killWait for
// the KILL to be answered, so that when it returns the statement no longer
// runs (a write waiting for a lock will not be applied once the lock is
// free); past that, the KILL goes on in the background.
func settle(k *killer, conn *sql.Conn, pinned bool) {
	if k == nil {
		if pinned {
			conn.Close()
		}
		return
	}
	stopped := k.stop()
	if stopped && k.ctx.Err() == nil {
		// The statement ended before its context: nothing to stop.
		if pinned {
			conn.Close()
		}
		return
	}
	usable := connUsable(conn)
	if stopped {
		if usable {
			// The context ended, but after the statement (the driver
			// did not have to drop the connection).
			if pinned {
				conn.Close()
			}
			return
		}
		// The context ended mid-statement before the watch started
		// the KILL: send it now.
		go k.fire()
	}
	if pinned && !usable {
		conn.Close() // dropped by database/sql: the driver closed it
		pinned = false
	}
	k.mu.Lock()
	done := k.doneChan()
	if k.state == killArmed && usable {
		k.state = killAborted
		cancel := k.cancel
		k.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	} else {
		k.mu.Unlock()
		if usable {
			<-done // bounded by killTimeout
		} else {
			timer := time.NewTimer(killWait)
			select {
			case <-done:
			case <-timer.C:
			}
			timer.Stop()
		}
	}
	if pinned {
		conn.Close()
	}
}
