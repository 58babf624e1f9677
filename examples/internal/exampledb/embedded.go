package exampledb

import (
	"fmt"
	"net"
	"sync"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"
)

// Embedded is a database of its own on the process's embedded, in-memory
// MySQL-compatible server (github.com/dolthub/go-mysql-server), which
// listens on a free port of 127.0.0.1.
type Embedded struct {
	// DSN reaches the database as root, with no password, for
	// github.com/go-sql-driver/mysql.
	DSN      string
	Addr     string
	Database string
	once     sync.Once
}

// The process's one embedded server. go-mysql-server keeps its status
// variables in package globals, which every new engine resets without
// synchronisation while the sessions of running engines read them, so two
// engines in one process race (go test -race reports it). Every
// [StartEmbedded] therefore gets a database of its own on one shared
// server, which stops when the last of them is closed.
var embedded embeddedServer

type embeddedServer struct {
	mu     sync.Mutex
	users  int // open Embedded values
	dbs    int // databases made, for unique names
	addr   string
	srv    *server.Server
	engine *sqle.Engine
	pro    *memory.DbProvider
	done   chan error
}

// StartEmbedded returns a new, empty in-memory database named dbName (or
// dbName_2, dbName_3, ... when others are open in this process) on the
// embedded server, starting the server if it is not running. Its data
// lives until [Embedded.Close]. The server's own logging (logrus) is
// limited to errors.
func StartEmbedded(dbName string) (*Embedded, error) {
	s := &embedded
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == 0 {
		// go-mysql-server logs every connection at info level, and a
		// warning about secure_file_priv at start-up, through logrus's
		// standard logger.
		logrus.SetLevel(logrus.ErrorLevel)
		pro := memory.NewDBProvider()
		pro.WithOption(memory.NativeIndexProvider(true))
		engine := sqle.NewDefault(pro)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("embedded server: %w", err)
		}
		srv, err := server.NewServer(server.Config{Protocol: "tcp", Listener: l}, engine, gmssql.NewContext, memory.NewSessionBuilder(pro), nil)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("embedded server: %w", err)
		}
		s.addr, s.srv, s.engine, s.pro, s.done = l.Addr().String(), srv, engine, pro, make(chan error, 1)
		go func() { s.done <- srv.Start() }()
	}
	s.dbs++
	name := dbName
	if s.users > 0 {
		name = fmt.Sprintf("%s_%d", dbName, s.dbs)
	}
	if err := s.pro.CreateDatabase(gmssql.NewEmptyContext(), name); err != nil {
		if s.users == 0 {
			s.stop()
		}
		return nil, fmt.Errorf("embedded server: creating database %s: %w", name, err)
	}
	s.users++
	return &Embedded{DSN: fmt.Sprintf("root@tcp(%s)/%s", s.addr, name), Addr: s.addr, Database: name}, nil
}

// Close drops the database, and stops the server if no other database
// of this process is open.
func (e *Embedded) Close() error {
	var err error
	e.once.Do(func() {
		s := &embedded
		s.mu.Lock()
		defer s.mu.Unlock()
		err = s.pro.DropDatabase(gmssql.NewEmptyContext(), e.Database)
		s.users--
		if s.users == 0 {
			if serr := s.stop(); err == nil {
				err = serr
			}
		}
	})
	return err
}

// stop stops the server; s.mu is held.
func (s *embeddedServer) stop() error {
	err := s.srv.Close()
	<-s.done
	if cerr := s.engine.Close(); err == nil {
		err = cerr
	}
	s.srv, s.engine, s.pro, s.done = nil, nil, nil, nil
	return err
}
