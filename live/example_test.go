package live_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/seed-b2691315/sqlgen/live"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type User struct {
	ID    int64 `sql:",primary"`
	OrgID int64
	Name  string
}

// A live query: the users of organisation 7, now and after every change
// that touches one of them. (Not run: it needs a server with a binary log.)
func ExampleWatch() {
	ctx := context.Background()
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("users", sqlgen.AutoIncrement, User{})
	dsn := "app:pw@tcp(127.0.0.1:3306)/app"
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		log.Fatal(err)
	}
	db := sqlgen.NewDB(conn, schema)

	feed, err := live.Open(ctx, dsn, schema)
	if err != nil {
		log.Fatal(err) // e.g. "binlog_row_metadata is MINIMAL, want FULL"
	}
	defer feed.Close()
	for users, err := range live.Watch[User](ctx, feed, db, sqlgen.Filter{"org_id": 7}) {
		if err != nil {
			log.Print(err)
			continue
		}
		fmt.Println(len(users), "users")
	}
}

// Every committed change of the users table, with its before and after
// images.
func ExampleFeed_Changes() {
	ctx := context.Background()
	schema := sqlgen.NewSchema()
	schema.MustRegisterType("users", sqlgen.AutoIncrement, User{})
	feed, err := live.Open(ctx, "repl:pw@tcp(127.0.0.1:3306)/app", schema)
	if err != nil {
		log.Fatal(err)
	}
	defer feed.Close()
	for c, err := range feed.Changes(ctx, "users") {
		if err != nil {
			log.Print(err)
			break
		}
		before, _ := c.Before.(*User) // nil for an insert
		after, _ := c.After.(*User)   // nil for a delete
		fmt.Println(before, after, feed.Position())
	}
}
