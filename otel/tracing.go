package sqlgenotel

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// ScopeName is the instrumentation scope of the spans: the name of the
// tracer WithTracing asks the provider for.
const ScopeName = "github.com/seed-b2691315/sqlgen/otel"

// ReplicaKey is the attribute that holds the number of the replica that
// ran a statement (1 for the first of [sqlgen.WithReplicas], ...), on the
// spans of the statements a replica ran.
const ReplicaKey = attribute.Key("sqlgen.replica")

// WithTracing traces every statement of the DB with a tracer of tp: one
// span per statement, the child of the span in the call's context (see
// the package's documentation). A nil tp stands for the global provider
// (otel.GetTracerProvider()).
func WithTracing(tp trace.TracerProvider) sqlgen.Option {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return sqlgen.WithHook(&hook{tracer: tp.Tracer(ScopeName)})
}

// hook is the [sqlgen.Hook] of WithTracing.
type hook struct {
	tracer trace.Tracer
}

// Before starts the statement's span and returns a context that holds it.
func (h *hook) Before(ctx context.Context, e sqlgen.Event) context.Context {
	op := operation(e)
	name := op
	if e.Table != "" {
		name = op + " " + e.Table
	}
	system := semconv.DBSystemNameMySQL
	if e.Server == "mariadb" {
		system = semconv.DBSystemNameMariaDB
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, system, semconv.DBOperationName(op), semconv.DBQueryText(e.SQL))
	if e.Table != "" {
		attrs = append(attrs, semconv.DBCollectionName(e.Table))
	}
	if e.Replica != 0 {
		attrs = append(attrs, ReplicaKey.Int(e.Replica))
	}
	ctx, span := h.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	// Kept under a key of this hook's too: with other hooks after this one
	// (sqlgen.WithHook), the context After gets may hold their spans.
	return context.WithValue(ctx, spanKey{h}, span)
}

// spanKey is the context key of the span a hook started for a statement.
type spanKey struct{ h *hook }

// After ends the span Before started, with the statement's outcome.
func (h *hook) After(ctx context.Context, e sqlgen.Event) {
	span, ok := ctx.Value(spanKey{h}).(trace.Span)
	if !ok {
		return
	}
	if e.Rows >= 0 && returnsRows(e) {
		span.SetAttributes(semconv.DBResponseReturnedRows(int(e.Rows)))
	}
	if e.Err != nil {
		var me *mysql.MySQLError
		if errors.As(e.Err, &me) {
			code := strconv.Itoa(int(me.Number))
			span.SetAttributes(semconv.DBResponseStatusCode(code), semconv.ErrorTypeKey.String(code))
		} else {
			span.SetAttributes(semconv.ErrorType(e.Err))
		}
		span.RecordError(e.Err)
		span.SetStatus(codes.Error, e.Err.Error())
	}
	span.End()
}

// operation is db.operation.name for e: the first keyword of its SQL,
// upper case, or PREPARE for a prepare.
func operation(e sqlgen.Event) string {
	if e.Op == "prepare" {
		return "PREPARE"
	}
	q := strings.TrimSpace(e.SQL)
	end := strings.IndexFunc(q, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_') })
	if end >= 0 {
		q = q[:end]
	}
	return strings.ToUpper(q)
}

// returnsRows reports whether e's statement returns rows, whose number
// its Rows then is (for the others, it is the rows affected).
func returnsRows(e sqlgen.Event) bool {
	switch e.Op {
	case "begin", "commit", "rollback", "prepare", "insert", "upsert", "update", "delete", "batch insert", "batch upsert",
		"savepoint", "rollback to savepoint", "kill":
		return false
	}
	return true
}
