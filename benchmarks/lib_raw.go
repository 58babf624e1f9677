package benchmarks

import (
	"context"
	"database/sql"
	"encoding/json"
)

// raw is hand-written database/sql: QueryRowContext(...).Scan(&m.ID, ...)
// and ExecContext, the baseline every library is measured against.
type raw struct {
	db          *sql.DB
	last        *Model
	slice       []*Model
	prof        *Profile
	ins, upd    Model
	del         int64
	multi       []Model
	insProf     Profile
	multiInsert string
}

const (
	rawSelect     = "SELECT id, name, title, fax, web, age, `right`, counter FROM models"
	rawInsert     = "INSERT INTO models (name, title, fax, web, age, `right`, counter) VALUES (?, ?, ?, ?, ?, ?, ?)"
	rawUpdate     = "UPDATE models SET name = ?, title = ?, fax = ?, web = ?, age = ?, `right` = ?, counter = ? WHERE id = ?"
	rawDelete     = "DELETE FROM models WHERE id = ?"
	rawSelectJSON = "SELECT id, name, settings FROM profiles WHERE id = ?"
	rawInsertJSON = "INSERT INTO profiles (name, settings) VALUES (?, ?)"
)

func newRaw(db *sql.DB) *Lib {
	r := &raw{db: db, ins: NewModel(1), upd: ModelRow(UpdateID), insProf: ProfileRow(1), multiInsert: insertModelsSQL(MultiRows, false)}
	r.insProf.ID = 0
	for i := range MultiRows {
		r.multi = append(r.multi, NewModel(int64(i)))
	}
	return &Lib{
		Name: "raw",
		Ops: map[string]Op{
			OpRead: r.read, OpReadWhere: r.readWhere, OpReadSlice: r.readSlice,
			OpInsert: r.insert, OpInsertMulti: r.insertMulti, OpUpdate: r.update, OpDelete: r.delete,
			OpReadJSON: r.readJSON, OpInsertJSON: r.insertJSON,
		},
		LastModel:   func() Model { return *r.last },
		LastSlice:   func() []Model { return modelSlice(r.slice, func(m *Model) Model { return *m }) },
		LastProfile: func() Profile { return *r.prof },
		InsertedIDs: func() []int64 {
			ids := []int64{r.ins.ID, r.insProf.ID}
			for _, m := range r.multi {
				ids = append(ids, m.ID)
			}
			return ids
		},
	}
}

func (r *raw) read(ctx context.Context, _ int64) error {
	m := new(Model)
	err := r.db.QueryRowContext(ctx, rawSelect+" WHERE id = ?", readID).
		Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter)
	r.last = m
	return err
}

func (r *raw) readWhere(ctx context.Context, _ int64) error {
	m := new(Model)
	err := r.db.QueryRowContext(ctx, rawSelect+" WHERE name = ? AND age = ?", readWhereName, readWhereAge).
		Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter)
	r.last = m
	return err
}

func (r *raw) readSlice(ctx context.Context, _ int64) error {
	rows, err := r.db.QueryContext(ctx, rawSelect+" LIMIT 100")
	if err != nil {
		return err
	}
	defer rows.Close()
	ms := make([]*Model, 0, SliceLimit)
	for rows.Next() {
		m := new(Model)
		if err := rows.Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter); err != nil {
			return err
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.slice = ms
	return rows.Close()
}

func (r *raw) insert(ctx context.Context, _ int64) error {
	m := &r.ins
	res, err := r.db.ExecContext(ctx, rawInsert, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter)
	if err != nil {
		return err
	}
	m.ID, err = res.LastInsertId()
	return err
}

func (r *raw) insertMulti(ctx context.Context, _ int64) error {
	args := make([]any, 0, 7*len(r.multi))
	for i := range r.multi {
		m := &r.multi[i]
		args = append(args, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter)
	}
	res, err := r.db.ExecContext(ctx, r.multiInsert, args...)
	if err != nil {
		return err
	}
	first, err := res.LastInsertId()
	for i := range r.multi {
		r.multi[i].ID = first + int64(i)
	}
	return err
}

func (r *raw) update(ctx context.Context, n int64) error {
	m := &r.upd
	m.Counter = n
	_, err := r.db.ExecContext(ctx, rawUpdate, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter, m.ID)
	return err
}

func (r *raw) delete(ctx context.Context, id int64) error {
	r.del = id
	_, err := r.db.ExecContext(ctx, rawDelete, id)
	return err
}

func (r *raw) readJSON(ctx context.Context, _ int64) error {
	p := new(Profile)
	var doc []byte
	if err := r.db.QueryRowContext(ctx, rawSelectJSON, readID).Scan(&p.ID, &p.Name, &doc); err != nil {
		return err
	}
	if err := json.Unmarshal(doc, &p.Settings); err != nil {
		return err
	}
	r.prof = p
	return nil
}

func (r *raw) insertJSON(ctx context.Context, _ int64) error {
	p := &r.insProf
	doc, err := json.Marshal(&p.Settings)
	if err != nil {
		return err
	}
	// Sent as a string: MySQL 8 refuses a JSON document sent as _binary
	// (interpolateParams=true).
	res, err := r.db.ExecContext(ctx, rawInsertJSON, p.Name, string(doc))
	if err != nil {
		return err
	}
	p.ID, err = res.LastInsertId()
	return err
}
