package benchmarks

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
)

// BunModel is model A for bun.
type BunModel struct {
	bun.BaseModel `bun:"table:models,alias:m"`

	ID      int64 `bun:"id,pk,autoincrement"`
	Name    string
	Title   string
	Fax     string
	Web     string
	Age     int
	Right   bool
	Counter int64
}

// BunProfile is model B for bun; bun encodes a struct field as JSON.
type BunProfile struct {
	bun.BaseModel `bun:"table:profiles,alias:p"`

	ID       int64 `bun:"id,pk,autoincrement"`
	Name     string
	Settings Settings `bun:"type:json"`
}

type bunLib struct {
	db       *bun.DB
	last     *BunModel
	slice    []*BunModel
	prof     *BunProfile
	ins, upd BunModel
	del      BunModel
	multi    []BunModel
	insProf  BunProfile
}

func toBun(m Model) BunModel {
	return BunModel{ID: m.ID, Name: m.Name, Title: m.Title, Fax: m.Fax, Web: m.Web, Age: m.Age, Right: m.Right, Counter: m.Counter}
}

func fromBun(m *BunModel) Model {
	return Model{ID: m.ID, Name: m.Name, Title: m.Title, Fax: m.Fax, Web: m.Web, Age: m.Age, Right: m.Right, Counter: m.Counter}
}

func newBun(conn *sql.DB) *Lib {
	l := &bunLib{db: bun.NewDB(conn, mysqldialect.New()), ins: toBun(NewModel(1)), upd: toBun(ModelRow(UpdateID))}
	p := ProfileRow(1)
	l.insProf = BunProfile{Name: p.Name, Settings: p.Settings}
	for i := range MultiRows {
		l.multi = append(l.multi, toBun(NewModel(int64(i))))
	}
	return &Lib{
		Name: "bun",
		Ops: map[string]Op{
			OpRead: l.read, OpReadWhere: l.readWhere, OpReadSlice: l.readSlice,
			OpInsert: l.insert, OpInsertMulti: l.insertMulti, OpUpdate: l.update, OpDelete: l.delete,
			OpReadJSON: l.readJSON, OpInsertJSON: l.insertJSON,
		},
		LastModel:   func() Model { return fromBun(l.last) },
		LastSlice:   func() []Model { return modelSlice(l.slice, fromBun) },
		LastProfile: func() Profile { return Profile{ID: l.prof.ID, Name: l.prof.Name, Settings: l.prof.Settings} },
		InsertedIDs: func() []int64 {
			ids := []int64{l.ins.ID, l.insProf.ID}
			for _, m := range l.multi {
				ids = append(ids, m.ID)
			}
			return ids
		},
	}
}

func (l *bunLib) read(ctx context.Context, _ int64) error {
	m := new(BunModel)
	err := l.db.NewSelect().Model(m).Where("id = ?", readID).Scan(ctx)
	l.last = m
	return err
}

func (l *bunLib) readWhere(ctx context.Context, _ int64) error {
	m := new(BunModel)
	err := l.db.NewSelect().Model(m).Where("name = ?", readWhereName).Where("age = ?", readWhereAge).Scan(ctx)
	l.last = m
	return err
}

func (l *bunLib) readSlice(ctx context.Context, _ int64) error {
	var ms []*BunModel
	err := l.db.NewSelect().Model(&ms).Limit(SliceLimit).Scan(ctx)
	l.slice = ms
	return err
}

func (l *bunLib) insert(ctx context.Context, _ int64) error {
	l.ins.ID = 0
	_, err := l.db.NewInsert().Model(&l.ins).Exec(ctx)
	return err
}

// insertMulti passes the slice to one InsertQuery: one multi-row INSERT.
func (l *bunLib) insertMulti(ctx context.Context, _ int64) error {
	for i := range l.multi {
		l.multi[i].ID = 0
	}
	_, err := l.db.NewInsert().Model(&l.multi).Exec(ctx)
	return err
}

func (l *bunLib) update(ctx context.Context, n int64) error {
	l.upd.Counter = n
	_, err := l.db.NewUpdate().Model(&l.upd).WherePK().Exec(ctx)
	return err
}

func (l *bunLib) delete(ctx context.Context, id int64) error {
	l.del.ID = id
	_, err := l.db.NewDelete().Model(&l.del).WherePK().Exec(ctx)
	return err
}

func (l *bunLib) readJSON(ctx context.Context, _ int64) error {
	p := new(BunProfile)
	err := l.db.NewSelect().Model(p).Where("id = ?", readID).Scan(ctx)
	l.prof = p
	return err
}

func (l *bunLib) insertJSON(ctx context.Context, _ int64) error {
	l.insProf.ID = 0
	_, err := l.db.NewInsert().Model(&l.insProf).Exec(ctx)
	return err
}
