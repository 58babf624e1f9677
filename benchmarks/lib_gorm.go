package benchmarks

import (
	"context"
	"database/sql"

	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// GormModel is model A for GORM.
type GormModel struct {
	ID      int64 `gorm:"primaryKey;autoIncrement"`
	Name    string
	Title   string
	Fax     string
	Web     string
	Age     int
	Right   bool
	Counter int64
}

// TableName names GORM's table.
func (GormModel) TableName() string { return "models" }

// GormProfile is model B for GORM, with GORM's JSON serializer.
type GormProfile struct {
	ID       int64 `gorm:"primaryKey;autoIncrement"`
	Name     string
	Settings Settings `gorm:"serializer:json"`
}

// TableName names GORM's table.
func (GormProfile) TableName() string { return "profiles" }

type gormLib struct {
	db       *gorm.DB
	last     *GormModel
	slice    []*GormModel
	prof     *GormProfile
	ins, upd GormModel
	del      GormModel
	multi    []GormModel
	insProf  GormProfile
}

// OpenGorm opens GORM on the existing *sql.DB, as its docs recommend for
// a shared pool, with no default transaction around writes, no prepared
// statement cache and a silent logger: the configuration of every GORM
// figure in the suite and the load test.
func OpenGorm(conn *sql.DB) (*gorm.DB, error) {
	return gorm.Open(mysql.New(mysql.Config{Conn: conn}), &gorm.Config{
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		Logger:                 logger.Default.LogMode(logger.Silent),
	})
}

func newGorm(conn *sql.DB) (*Lib, error) {
	db, err := OpenGorm(conn)
	if err != nil {
		return nil, err
	}
	l := &gormLib{db: db, ins: GormModel(NewModel(1)), upd: GormModel(ModelRow(UpdateID))}
	p := ProfileRow(1)
	l.insProf = GormProfile{Name: p.Name, Settings: p.Settings}
	for i := range MultiRows {
		l.multi = append(l.multi, GormModel(NewModel(int64(i))))
	}
	return &Lib{
		Name: "gorm",
		Ops: map[string]Op{
			OpRead: l.read, OpReadWhere: l.readWhere, OpReadSlice: l.readSlice,
			OpInsert: l.insert, OpInsertMulti: l.insertMulti, OpUpdate: l.update, OpDelete: l.delete,
			OpReadJSON: l.readJSON, OpInsertJSON: l.insertJSON,
		},
		LastModel: func() Model { return Model(*l.last) },
		LastSlice: func() []Model {
			return modelSlice(l.slice, func(m *GormModel) Model { return Model(*m) })
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

func (l *gormLib) read(ctx context.Context, _ int64) error {
	m := new(GormModel)
	err := l.db.WithContext(ctx).First(m, readID).Error
	l.last = m
	return err
}

func (l *gormLib) readWhere(ctx context.Context, _ int64) error {
	m := new(GormModel)
	err := l.db.WithContext(ctx).Where("name = ? AND age = ?", readWhereName, readWhereAge).First(m).Error
	l.last = m
	return err
}

func (l *gormLib) readSlice(ctx context.Context, _ int64) error {
	var ms []*GormModel
	err := l.db.WithContext(ctx).Limit(SliceLimit).Find(&ms).Error
	l.slice = ms
	return err
}

func (l *gormLib) insert(ctx context.Context, _ int64) error {
	l.ins.ID = 0
	return l.db.WithContext(ctx).Create(&l.ins).Error
}

// insertMulti passes the slice to Create, which writes one multi-row
// INSERT (CreateBatchSize is not set).
func (l *gormLib) insertMulti(ctx context.Context, _ int64) error {
	for i := range l.multi {
		l.multi[i].ID = 0
	}
	return l.db.WithContext(ctx).Create(&l.multi).Error
}

// update uses Save, which writes every column of the row by primary key.
func (l *gormLib) update(ctx context.Context, n int64) error {
	l.upd.Counter = n
	return l.db.WithContext(ctx).Save(&l.upd).Error
}

func (l *gormLib) delete(ctx context.Context, id int64) error {
	l.del.ID = id
	return l.db.WithContext(ctx).Delete(&l.del).Error
}

func (l *gormLib) readJSON(ctx context.Context, _ int64) error {
	p := new(GormProfile)
	err := l.db.WithContext(ctx).First(p, readID).Error
	l.prof = p
	return err
}

func (l *gormLib) insertJSON(ctx context.Context, _ int64) error {
	l.insProf.ID = 0
	return l.db.WithContext(ctx).Create(&l.insProf).Error
}
