package benchmarks

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/seed-b2691315/sqlgen/benchmarks/fakedb"
)

// Sizes and the rows the operations aim at. The seeded rows of both
// backends are ModelRow(1..SeedRows) and ProfileRow(1..SeedRows).
const (
	SeedRows   = 1000
	ReadID     = 777 // Read, ReadWhere and ReadJSON read this row
	UpdateID   = 900 // Update writes this row
	SliceLimit = 100 // ReadSlice reads this many rows
	MultiRows  = 100 // InsertMulti writes this many rows in one call
)

// Model is model A, as plain Go (the raw library's type, and the
// canonical view every library's own type is compared with).
type Model struct {
	ID      int64
	Name    string
	Title   string
	Fax     string
	Web     string
	Age     int
	Right   bool
	Counter int64
}

// Settings is the document stored in model B's JSON column.
type Settings struct {
	Theme         string         `json:"theme"`
	Language      string         `json:"language"`
	Timezone      string         `json:"timezone"`
	FontSize      int            `json:"font_size"`
	Ratio         float64        `json:"ratio"`
	Notifications bool           `json:"notifications"`
	Tags          []string       `json:"tags"`
	Limits        map[string]int `json:"limits"`
}

// Profile is model B, as plain Go.
type Profile struct {
	ID       int64
	Name     string
	Settings Settings
}

// ModelRow returns the canonical row i of table models.
func ModelRow(i int64) Model {
	return Model{
		ID:      i,
		Name:    fmt.Sprintf("user-%05d", i),
		Title:   fmt.Sprintf("Senior Engineer, team %d", i%17),
		Fax:     fmt.Sprintf("+1-555-%04d", i%10000),
		Web:     fmt.Sprintf("https://example.com/people/user-%05d", i),
		Age:     20 + int(i%50),
		Right:   i%2 == 0,
		Counter: i * 1000,
	}
}

// ProfileRow returns the canonical row i of table profiles.
func ProfileRow(i int64) Profile {
	themes := []string{"dark", "light", "solarized"}
	return Profile{
		ID:   i,
		Name: fmt.Sprintf("profile-%05d", i),
		Settings: Settings{
			Theme:         themes[i%3],
			Language:      "en-US",
			Timezone:      "Europe/Paris",
			FontSize:      12 + int(i%6),
			Ratio:         1.25 + float64(i%4)/8,
			Notifications: i%2 == 1,
			Tags:          []string{"alpha", "beta", "gamma", "delta", fmt.Sprintf("tag-%d", i)},
			Limits:        map[string]int{"posts": 100, "uploads": 25, "followers": 5000, "api_calls": 10000, "storage_mb": int(i)},
		},
	}
}

// NewModel returns the row the write operations start from: canonical
// values with a zero id (so the server assigns it).
func NewModel(i int64) Model {
	m := ModelRow(i)
	m.ID = 0
	m.Name = fmt.Sprintf("new-%05d", i)
	return m
}

// SettingsJSON encodes s as the server stores it.
func SettingsJSON(s Settings) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

// DDL creates the two tables on a real server.
var DDL = []string{
	"CREATE TABLE models (" +
		"id BIGINT AUTO_INCREMENT PRIMARY KEY, " +
		"name VARCHAR(255) NOT NULL, title VARCHAR(255) NOT NULL, " +
		"fax VARCHAR(255) NOT NULL, web VARCHAR(255) NOT NULL, " +
		"age INT NOT NULL, `right` TINYINT(1) NOT NULL, counter BIGINT NOT NULL, " +
		"KEY name_age (name, age)" +
		") CHARACTER SET utf8mb4",
	"CREATE TABLE profiles (" +
		"id BIGINT AUTO_INCREMENT PRIMARY KEY, " +
		"name VARCHAR(255) NOT NULL, settings JSON NULL" +
		") CHARACTER SET utf8mb4",
}

// modelColumns are the columns of models, in table order.
var modelColumns = []fakedb.Column{
	{Name: "id", Type: "BIGINT"},
	{Name: "name", Type: "VARCHAR"},
	{Name: "title", Type: "VARCHAR"},
	{Name: "fax", Type: "VARCHAR"},
	{Name: "web", Type: "VARCHAR"},
	{Name: "age", Type: "INT"},
	{Name: "right", Type: "TINYINT"},
	{Name: "counter", Type: "BIGINT"},
}

var profileColumns = []fakedb.Column{
	{Name: "id", Type: "BIGINT"},
	{Name: "name", Type: "VARCHAR"},
	{Name: "settings", Type: "JSON", Nullable: true},
}

func modelValues(m Model) []driver.Value {
	return fakedb.Row(m.ID, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter)
}

func profileValues(p Profile) []driver.Value {
	return fakedb.Row(p.ID, p.Name, SettingsJSON(p.Settings))
}

// FakeTables returns the canned tables of the fake backend: reads without
// a WHERE clause get rows 1..SliceLimit, reads with one get row ReadID,
// exactly what the seeded real server returns.
func FakeTables() []*fakedb.Table {
	models := &fakedb.Table{Name: "models", Columns: modelColumns, Match: modelValues(ModelRow(ReadID))}
	profiles := &fakedb.Table{Name: "profiles", Columns: profileColumns, Match: profileValues(ProfileRow(ReadID))}
	for i := int64(1); i <= SliceLimit; i++ {
		models.Rows = append(models.Rows, modelValues(ModelRow(i)))
		profiles.Rows = append(profiles.Rows, profileValues(ProfileRow(i)))
	}
	return []*fakedb.Table{models, profiles}
}

// insertModelsSQL returns a multi-row INSERT of n models with the id
// column when withID, for seeding.
func insertModelsSQL(n int, withID bool) string {
	cols, ph := "name, title, fax, web, age, `right`, counter", "(?, ?, ?, ?, ?, ?, ?)"
	if withID {
		cols, ph = "id, "+cols, "(?, ?, ?, ?, ?, ?, ?, ?)"
	}
	return "INSERT INTO models (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", n), ", ")
}

// equalModel compares a library's view of a row with the canonical one.
func equalModel(got, want Model) error {
	if got != want {
		return fmt.Errorf("read %+v, want %+v", got, want)
	}
	return nil
}

func equalProfile(got, want Profile) error {
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("read %+v, want %+v", got, want)
	}
	return nil
}

// The read arguments, as variables (as an application has them): a
// constant boxed into an interface costs nothing, a variable may not.
var (
	readID        int64 = ReadID
	readWhereName       = ModelRow(ReadID).Name
	readWhereAge        = ModelRow(ReadID).Age
)
