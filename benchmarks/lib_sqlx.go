package benchmarks

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// SqlxModel is model A for sqlx, mapped by `db` tags.
type SqlxModel struct {
	ID      int64  `db:"id"`
	Name    string `db:"name"`
	Title   string `db:"title"`
	Fax     string `db:"fax"`
	Web     string `db:"web"`
	Age     int    `db:"age"`
	Right   bool   `db:"right"`
	Counter int64  `db:"counter"`
}

// SqlxSettings is Settings with the sql.Scanner and driver.Valuer methods
// sqlx needs for a JSON column (sqlx has no JSON mapping of its own).
type SqlxSettings Settings

// Scan decodes a JSON document.
func (s *SqlxSettings) Scan(src any) error {
	switch b := src.(type) {
	case []byte:
		*s = SqlxSettings{}
		return json.Unmarshal(b, (*Settings)(s))
	case string:
		*s = SqlxSettings{}
		return json.Unmarshal([]byte(b), (*Settings)(s))
	case nil:
		*s = SqlxSettings{}
		return nil
	}
	return fmt.Errorf("SqlxSettings: cannot scan a %T", src)
}

// Value encodes a JSON document, as a string (MySQL 8 refuses _binary
// JSON with interpolateParams=true).
func (s SqlxSettings) Value() (driver.Value, error) {
	b, err := json.Marshal(Settings(s))
	return string(b), err
}

// SqlxProfile is model B for sqlx.
type SqlxProfile struct {
	ID       int64        `db:"id"`
	Name     string       `db:"name"`
	Settings SqlxSettings `db:"settings"`
}

type sqlxLib struct {
	db       *sqlx.DB
	last     *SqlxModel
	slice    []*SqlxModel
	prof     *SqlxProfile
	ins, upd SqlxModel
	multi    []SqlxModel
	insProf  SqlxProfile
}

const (
	sqlxInsert     = "INSERT INTO models (name, title, fax, web, age, `right`, counter) VALUES (:name, :title, :fax, :web, :age, :right, :counter)"
	sqlxUpdate     = "UPDATE models SET name = :name, title = :title, fax = :fax, web = :web, age = :age, `right` = :right, counter = :counter WHERE id = :id"
	sqlxInsertJSON = "INSERT INTO profiles (name, settings) VALUES (:name, :settings)"
)

func newSqlx(conn *sql.DB) *Lib {
	l := &sqlxLib{db: sqlx.NewDb(conn, "mysql"), ins: SqlxModel(NewModel(1)), upd: SqlxModel(ModelRow(UpdateID))}
	p := ProfileRow(1)
	l.insProf = SqlxProfile{Name: p.Name, Settings: SqlxSettings(p.Settings)}
	for i := range MultiRows {
		l.multi = append(l.multi, SqlxModel(NewModel(int64(i))))
	}
	return &Lib{
		Name: "sqlx",
		Ops: map[string]Op{
			OpRead: l.read, OpReadWhere: l.readWhere, OpReadSlice: l.readSlice,
			OpInsert: l.insert, OpInsertMulti: l.insertMulti, OpUpdate: l.update, OpDelete: l.delete,
			OpReadJSON: l.readJSON, OpInsertJSON: l.insertJSON,
		},
		LastModel: func() Model { return Model(*l.last) },
		LastSlice: func() []Model {
			return modelSlice(l.slice, func(m *SqlxModel) Model { return Model(*m) })
		},
		LastProfile: func() Profile {
			return Profile{ID: l.prof.ID, Name: l.prof.Name, Settings: Settings(l.prof.Settings)}
		},
		InsertedIDs: func() []int64 {
			ids := []int64{l.ins.ID, l.insProf.ID}
			for _, m := range l.multi {
				ids = append(ids, m.ID)
			}
			return ids
		},
	}
}

func (l *sqlxLib) read(ctx context.Context, _ int64) error {
	m := new(SqlxModel)
	err := l.db.GetContext(ctx, m, "SELECT * FROM models WHERE id = ?", readID)
	l.last = m
	return err
}

func (l *sqlxLib) readWhere(ctx context.Context, _ int64) error {
	m := new(SqlxModel)
	err := l.db.GetContext(ctx, m, "SELECT * FROM models WHERE name = ? AND age = ?", readWhereName, readWhereAge)
	l.last = m
	return err
}

func (l *sqlxLib) readSlice(ctx context.Context, _ int64) error {
	var ms []*SqlxModel
	err := l.db.SelectContext(ctx, &ms, "SELECT * FROM models LIMIT 100")
	l.slice = ms
	return err
}

func (l *sqlxLib) insert(ctx context.Context, _ int64) error {
	res, err := l.db.NamedExecContext(ctx, sqlxInsert, &l.ins)
	if err != nil {
		return err
	}
	l.ins.ID, err = res.LastInsertId()
	return err
}

// insertMulti uses NamedExec's batch insert: a slice argument expands
// the VALUES tuple into one per element, in one statement.
func (l *sqlxLib) insertMulti(ctx context.Context, _ int64) error {
	res, err := l.db.NamedExecContext(ctx, sqlxInsert, l.multi)
	if err != nil {
		return err
	}
	first, err := res.LastInsertId()
	for i := range l.multi {
		l.multi[i].ID = first + int64(i)
	}
	return err
}

func (l *sqlxLib) update(ctx context.Context, n int64) error {
	l.upd.Counter = n
	_, err := l.db.NamedExecContext(ctx, sqlxUpdate, &l.upd)
	return err
}

func (l *sqlxLib) delete(ctx context.Context, id int64) error {
	_, err := l.db.ExecContext(ctx, "DELETE FROM models WHERE id = ?", id)
	return err
}

func (l *sqlxLib) readJSON(ctx context.Context, _ int64) error {
	p := new(SqlxProfile)
	err := l.db.GetContext(ctx, p, "SELECT * FROM profiles WHERE id = ?", readID)
	l.prof = p
	return err
}

func (l *sqlxLib) insertJSON(ctx context.Context, _ int64) error {
	res, err := l.db.NamedExecContext(ctx, sqlxInsertJSON, &l.insProf)
	if err != nil {
		return err
	}
	l.insProf.ID, err = res.LastInsertId()
	return err
}
