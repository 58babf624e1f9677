package sqlgenotel_test

import (
	"context"
	"fmt"

	"github.com/DATA-DOG/go-sqlmock"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	sqlgenotel "github.com/seed-b2691315/sqlgen/otel"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// ExampleWithTracing traces a transaction: BEGIN, the update and COMMIT
// are spans of their own, children of the caller's span. The *sql.DB is a
// go-sqlmock connection here, so that the example needs no server (a
// program gets it from sql.Open("mysql", dsn)); the spans go to the SDK's
// in-memory recorder (a program gives its exporter's provider).
func ExampleWithTracing() {
	conn, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))

	db := sqlgen.NewDB(conn, schema(), sqlgenotel.WithTracing(tp))

	mock.ExpectBegin()
	mock.ExpectExec("UPDATE `items` SET `body`=? WHERE `id`=?").WithArgs("new", int64(1)).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectCommit()
	ctx, request := tp.Tracer("example").Start(context.Background(), "request")
	err = db.Transact(ctx, func(ctx context.Context) error {
		return db.UpdateRow(ctx, &item{ID: 1, Body: "new"})
	})
	request.End()
	fmt.Println(err)
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() == request.SpanContext().SpanID() {
			for _, kv := range s.Attributes() {
				if kv.Key == "db.query.text" {
					fmt.Printf("%s: %s\n", s.Name(), kv.Value.AsString())
				}
			}
		}
	}
	// Output:
	// <nil>
	// BEGIN: BEGIN
	// UPDATE items: UPDATE `items` SET `body`=? WHERE `id`=?
	// COMMIT: COMMIT
}
