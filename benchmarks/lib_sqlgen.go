package benchmarks

import (
	"context"
	"database/sql"

	gojson "github.com/goccy/go-json"
	"github.com/seed-b2691315/sqlgen/fields"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// SqlgenModel is model A for sqlgen: column names are derived from the
// field names (Right is `right`, quoted by sqlgen).
type SqlgenModel struct {
	ID      int64 `sql:",primary"`
	Name    string
	Title   string
	Fax     string
	Web     string
	Age     int
	Right   bool
	Counter int64
}

// SqlgenProfile is model B for sqlgen: Settings is a first-class JSON
// column.
type SqlgenProfile struct {
	ID       int64 `sql:",primary"`
	Name     string
	Settings Settings `sql:",json"`
}

// goJSONCodec plugs github.com/goccy/go-json into sqlgen's codec
// interface (library sqlgen-gojson).
type goJSONCodec struct{}

var _ fields.Codec = goJSONCodec{}

func (goJSONCodec) Marshal(v any) ([]byte, error)      { return gojson.Marshal(v) }
func (goJSONCodec) Unmarshal(data []byte, v any) error { return gojson.Unmarshal(data, v) }

type sqlgenLib struct {
	db       *sqlgen.DB
	last     *SqlgenModel
	slice    []*SqlgenModel
	prof     *SqlgenProfile
	ins, upd SqlgenModel
	del      SqlgenModel
	multi    []SqlgenModel
	multiPtr []*SqlgenModel // InsertRows takes a []*T
	insProf  SqlgenProfile
}

func newSqlgen(conn *sql.DB, codec fields.Codec, name string, dbOpts ...sqlgen.Option) (*Lib, error) {
	var opts []sqlgen.SchemaOption
	if codec != nil {
		opts = append(opts, sqlgen.WithCodec(codec))
	}
	s := sqlgen.NewSchema(opts...)
	if err := s.RegisterType("models", sqlgen.AutoIncrement, SqlgenModel{}); err != nil {
		return nil, err
	}
	if err := s.RegisterType("profiles", sqlgen.AutoIncrement, SqlgenProfile{}); err != nil {
		return nil, err
	}
	l := &sqlgenLib{db: sqlgen.NewDB(conn, s, dbOpts...), ins: SqlgenModel(NewModel(1)), upd: SqlgenModel(ModelRow(UpdateID))}
	p := ProfileRow(1)
	l.insProf = SqlgenProfile{Name: p.Name, Settings: p.Settings}
	for i := range MultiRows {
		l.multi = append(l.multi, SqlgenModel(NewModel(int64(i))))
	}
	for i := range l.multi {
		l.multiPtr = append(l.multiPtr, &l.multi[i])
	}
	ops := map[string]Op{OpReadJSON: l.readJSON, OpInsertJSON: l.insertJSON}
	if codec == nil {
		ops[OpRead], ops[OpReadWhere], ops[OpReadSlice] = l.read, l.readWhere, l.readSlice
		ops[OpInsert], ops[OpInsertMulti], ops[OpUpdate], ops[OpDelete] = l.insert, l.insertMulti, l.update, l.delete
	}
	return &Lib{
		Name:      name,
		Close:     l.db.Close,
		Ops:       ops,
		LastModel: func() Model { return Model(*l.last) },
		LastSlice: func() []Model {
			return modelSlice(l.slice, func(m *SqlgenModel) Model { return Model(*m) })
		},
		LastProfile: func() Profile { return Profile(*l.prof) },
		InsertedIDs: func() []int64 {
			ids := []int64{l.ins.ID, l.insProf.ID}
			for _, m := range l.multi {
				ids = append(ids, m.ID)
			}
			return ids
		},
	}, nil
}

func (l *sqlgenLib) read(ctx context.Context, _ int64) error {
	var m *SqlgenModel
	err := l.db.QueryRow(ctx, &m, sqlgen.Filter{"id": readID}, nil)
	l.last = m
	return err
}

func (l *sqlgenLib) readWhere(ctx context.Context, _ int64) error {
	var m *SqlgenModel
	err := l.db.QueryRow(ctx, &m, sqlgen.Filter{"name": readWhereName, "age": readWhereAge}, nil)
	l.last = m
	return err
}

func (l *sqlgenLib) readSlice(ctx context.Context, _ int64) error {
	var ms []*SqlgenModel
	err := l.db.Query(ctx, &ms, nil, &sqlgen.SelectOptions{Limit: SliceLimit})
	l.slice = ms
	return err
}

func (l *sqlgenLib) insert(ctx context.Context, _ int64) error {
	l.ins.ID = 0
	_, err := l.db.InsertRow(ctx, &l.ins)
	return err
}

// insertMulti writes the rows with InsertRows: one multi-row INSERT (the
// chunk size is the batch size; one statement needs no transaction), with
// the new ids written back. Rows to insert must all have a zero key.
func (l *sqlgenLib) insertMulti(ctx context.Context, _ int64) error {
	for _, m := range l.multiPtr {
		m.ID = 0
	}
	return l.db.InsertRows(ctx, l.multiPtr, MultiRows)
}

func (l *sqlgenLib) update(ctx context.Context, n int64) error {
	l.upd.Counter = n
	return l.db.UpdateRow(ctx, &l.upd)
}

func (l *sqlgenLib) delete(ctx context.Context, id int64) error {
	l.del.ID = id
	return l.db.DeleteRow(ctx, &l.del)
}

func (l *sqlgenLib) readJSON(ctx context.Context, _ int64) error {
	var p *SqlgenProfile
	err := l.db.QueryRow(ctx, &p, sqlgen.Filter{"id": readID}, nil)
	l.prof = p
	return err
}

func (l *sqlgenLib) insertJSON(ctx context.Context, _ int64) error {
	l.insProf.ID = 0
	_, err := l.db.InsertRow(ctx, &l.insProf)
	return err
}
