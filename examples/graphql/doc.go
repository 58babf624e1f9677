// Command graphql is a GraphQL server over sqlgen whose nested queries
// cost one SQL statement per level, not one per parent: each request's
// context carries a batcher (sqlgen.WithBatching), graphql-go runs the
// per-parent resolvers in parallel, and the batcher merges their reads
// into one IN query.
//
//	cd examples
//	go run ./graphql -query '{ organizations { name users { name settings { theme } } } }'
//	go run ./graphql            # serves POST http://127.0.0.1:8080/graphql
//
// The subscription users(orgId) pushes an organisation's users again
// after every committed change to any of them, as server-sent events
// (a request with the header Accept: text/event-stream), from the
// server's binary log through live.Watch:
//
//	SQLGEN_DSN='root@tcp(127.0.0.1:3306)/' go run ./graphql
//	curl -N http://127.0.0.1:8080/graphql -H 'Accept: text/event-stream' \
//	  -d '{"query":"subscription { users(orgId: 1) { id name email } }"}'
//
// It needs a server with a binary log in row format (see live's README);
// on the embedded server, or a server without one, it answers with an
// error that says so, and queries and mutations work as before.
//
// -query prints the JSON answer and the SQL statements it took. Like the
// quick start, it runs against the server of SQLGEN_DSN, or without it an
// embedded in-memory go-mysql-server. It creates the tables
// organizations, users and org_features, fills them with sample data and
// drops them when it ends.
package main
