package vitesstest

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"vitess.io/vitess/go/stats"
	"vitess.io/vitess/go/vt/topo/memorytopo"
	"vitess.io/vitess/go/vt/vtenv"
	"vitess.io/vitess/go/vt/vtexplain"
)

// Explainer plans statements with Vitess's vtgate executor over fake
// tablets (vtexplain), for a VSchema and the tables' CREATE TABLE
// statements.
type Explainer struct {
	vte     *vtexplain.VTExplain
	cancel  context.CancelFunc
	sharded string // the sharded keyspace whose shards are counted
}

// NewExplainer starts vtexplain with numShards shards per sharded
// keyspace. shardedKeyspace names the keyspace whose shards
// [Explainer.Shards] counts. Stop it with [Explainer.Stop].
func NewExplainer(vschemaJSON, schemaSQL, shardedKeyspace string, numShards int) (*Explainer, error) {
	ctx, cancel := context.WithCancel(context.Background())
	ts := memorytopo.NewServer(ctx, vtexplain.Cell)
	opts := &vtexplain.Options{
		ReplicationMode: "ROW",
		NumShards:       numShards,
		Normalize:       true,
		ExecutionMode:   vtexplain.ModeMulti,
	}
	counts := stats.NewCountersWithSingleLabel("", "vtexplain srvtopo operations", "type")
	vte, err := vtexplain.Init(ctx, vtenv.NewTestEnv(), ts, vschemaJSON, schemaSQL, "", opts, counts)
	if err != nil {
		cancel()
		return nil, err
	}
	return &Explainer{vte: vte, cancel: cancel, sharded: shardedKeyspace}, nil
}

// Stop stops the fake tablets and vtgate.
func (e *Explainer) Stop() {
	e.vte.Stop()
	e.cancel()
}

// Shards plans one statement (plain SQL, no placeholders) in the
// explainer's session and returns the shards of the sharded keyspace it
// touches, such as "ks/-40".
func (e *Explainer) Shards(query string) ([]string, error) {
	explains, err := e.vte.Run(query)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, x := range explains {
		for shard := range x.TabletActions {
			if strings.HasPrefix(shard, e.sharded+"/") {
				set[shard] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// Unit is what must stay in one shard: one statement outside a
// transaction, or the statements of one transaction.
type Unit struct {
	Steps []Step
}

// String lists the unit's statements.
func (u Unit) String() string {
	var b strings.Builder
	for _, s := range u.Steps {
		switch s.Kind {
		case Begin:
			b.WriteString("BEGIN; ")
		case Commit:
			b.WriteString("COMMIT; ")
		case Rollback:
			b.WriteString("ROLLBACK; ")
		default:
			q, err := Interpolate(s.SQL, s.Args)
			if err != nil {
				q = s.SQL
			}
			b.WriteString(q + "; ")
		}
	}
	return b.String()
}

// Units splits steps, in the order sent, into units: each transaction
// (from its BEGIN to its COMMIT or ROLLBACK, on its connection) and each
// statement outside one.
func Units(steps []Step) []Unit {
	var out []Unit
	open := map[int]int{} // connection -> index in out of its open transaction
	for _, s := range steps {
		switch s.Kind {
		case Begin:
			open[s.Conn] = len(out)
			out = append(out, Unit{Steps: []Step{s}})
		case Commit, Rollback:
			if i, ok := open[s.Conn]; ok {
				out[i].Steps = append(out[i].Steps, s)
				delete(open, s.Conn)
			}
		default:
			if i, ok := open[s.Conn]; ok {
				out[i].Steps = append(out[i].Steps, s)
			} else {
				out = append(out, Unit{Steps: []Step{s}})
			}
		}
	}
	return out
}

// UnitShards plans the statements of a unit in order (a transaction as
// one vtgate session transaction) and returns the shards of the sharded
// keyspace they touch together.
func (e *Explainer) UnitShards(u Unit) ([]string, error) {
	set := map[string]bool{}
	for _, s := range u.Steps {
		var q string
		switch s.Kind {
		case Begin:
			q = "begin"
		case Commit:
			q = "commit"
		case Rollback:
			q = "rollback"
		default:
			var err error
			if q, err = Interpolate(s.SQL, s.Args); err != nil {
				return nil, err
			}
		}
		shards, err := e.Shards(q)
		if err != nil {
			return nil, fmt.Errorf("vtexplain: %s: %w", q, err)
		}
		for _, sh := range shards {
			set[sh] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// Interpolate replaces the ? placeholders of query (outside quotes and
// backticks) with args as SQL literals.
func Interpolate(query string, args []driver.NamedValue) (string, error) {
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
			b.WriteByte(ch)
		case ch == '\'' || ch == '"' || ch == '`':
			quote = ch
			b.WriteByte(ch)
		case ch == '?':
			if n >= len(args) {
				return "", fmt.Errorf("vitesstest: %d arguments for more placeholders in %s", len(args), query)
			}
			lit, err := literal(args[n].Value)
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			n++
		default:
			b.WriteByte(ch)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("vitesstest: %d arguments for %d placeholders in %s", len(args), n, query)
	}
	return b.String(), nil
}

func literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case string:
		return quoteString(x), nil
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'", nil
	case time.Time:
		return "'" + x.UTC().Format("2006-01-02 15:04:05.999999") + "'", nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.String:
		return quoteString(rv.String()), nil
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return "X'" + hex.EncodeToString(rv.Bytes()) + "'", nil
		}
	}
	return "", fmt.Errorf("vitesstest: no SQL literal for %T", v)
}

func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`)
	return "'" + r.Replace(s) + "'"
}
