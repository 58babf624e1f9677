package exampledb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// Organization is a row of the organizations table.
type Organization struct {
	ID   int64 `sql:",primary"`
	Name string
}

// Role is a user's role in their organisation: a named string type,
// stored as its text.
type Role string

// The roles a user can have.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleGuest  Role = "guest"
)

// Settings are a user's preferences, stored as one JSON document.
type Settings struct {
	Theme         string `json:"theme"`
	Language      string `json:"language"`
	Notifications bool   `json:"notifications"`
}

// User is a row of the users table. Email is nullable; Settings is a JSON
// column.
type User struct {
	ID       int64 `sql:",primary"`
	OrgID    int64
	Name     string
	Email    *string
	Role     Role
	Settings Settings `sql:",json"`
}

// Feature is a row of the org_features table, a feature flag of an
// organisation. Its composite key is set by the application, so rows can
// be upserted (sqlgen refuses upserts on AutoIncrement tables).
type Feature struct {
	OrgID   int64  `sql:",primary"`
	Name    string `sql:",primary"`
	Enabled bool
}

// Table names.
const (
	OrgsTable     = "organizations"
	UsersTable    = "users"
	FeaturesTable = "org_features"
)

// NewSchema registers the examples' three types.
func NewSchema() *sqlgen.Schema {
	s := sqlgen.NewSchema()
	s.MustRegisterType(OrgsTable, sqlgen.AutoIncrement, Organization{})
	s.MustRegisterType(UsersTable, sqlgen.AutoIncrement, User{})
	s.MustRegisterType(FeaturesTable, sqlgen.UniqueID, Feature{})
	return s
}

// DDL returns the statements that create the schema's tables: the CREATE
// TABLE of each, from [sqlgen.Schema.CreateTableSQL], and the secondary
// index on users.org_id, which CreateTableSQL does not generate and which
// the "users of an organisation" reads need.
func DDL(s *sqlgen.Schema) ([]string, error) {
	var stmts []string
	for _, t := range []string{OrgsTable, UsersTable, FeaturesTable} {
		ddl, err := s.CreateTableSQL(t)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, ddl)
	}
	return append(stmts, "CREATE INDEX `users_org_id` ON `users` (`org_id`)"), nil
}

// CreateTables runs the statements of [DDL], calling show (when not nil)
// with each before it runs. A table that already exists is an error that
// says so: the examples never drop tables they did not create.
func CreateTables(ctx context.Context, conn *sql.DB, s *sqlgen.Schema, show func(stmt string)) error {
	stmts, err := DDL(s)
	if err != nil {
		return err
	}
	for _, stmt := range stmts {
		if show != nil {
			show(stmt)
		}
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			var me *mysql.MySQLError
			if errors.As(err, &me) && me.Number == 1050 { // ER_TABLE_EXISTS_ERROR
				return fmt.Errorf("%w\nthe examples create their own tables (%s, %s, %s) and drop them when they end: "+
					"point SQLGEN_DSN at another database, or drop those tables", err, OrgsTable, UsersTable, FeaturesTable)
			}
			return fmt.Errorf("creating the tables: %w", err)
		}
	}
	return nil
}

// DropTables drops the examples' tables, if they exist.
func DropTables(ctx context.Context, conn *sql.DB) error {
	_, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS `"+FeaturesTable+"`, `"+UsersTable+"`, `"+OrgsTable+"`")
	return err
}

// Str returns a pointer to s, for nullable string fields.
func Str(s string) *string { return &s }

// Seed writes the sample data of the GraphQL example: orgs organisations
// with perOrg users each (every third user without an email), with batch
// inserts. It returns the organisations and users, with their new ids.
func Seed(ctx context.Context, db *sqlgen.DB, orgs, perOrg int) ([]*Organization, []*User, error) {
	var orgList []*Organization
	for i := range orgs {
		orgList = append(orgList, &Organization{Name: fmt.Sprintf("Org %c", 'A'+rune(i%26))})
	}
	if err := db.InsertRows(ctx, orgList, 0); err != nil {
		return nil, nil, err
	}
	themes := []string{"light", "dark", "solarized"}
	roles := []Role{RoleAdmin, RoleMember, RoleMember, RoleGuest}
	var us []*User
	n := 0
	for _, o := range orgList {
		for j := range perOrg {
			n++
			u := &User{
				OrgID:    o.ID,
				Name:     fmt.Sprintf("user%d", n),
				Role:     roles[j%len(roles)],
				Settings: Settings{Theme: themes[n%len(themes)], Language: "en", Notifications: n%2 == 0},
			}
			if n%3 != 0 {
				u.Email = Str(fmt.Sprintf("user%d@example.com", n))
			}
			us = append(us, u)
		}
	}
	if err := db.InsertRows(ctx, us, 0); err != nil {
		return nil, nil, err
	}
	return orgList, us, nil
}

// Summary describes the outcome of a statement for a person, such as
// "query, 2 args -> 5 rows" or "update, 6 args -> 1 row affected".
func Summary(e sqlgen.Event) string {
	res := plural(e.Rows, "row")
	if e.Op != "query" && e.Op != "count" {
		res += " affected"
	}
	if e.Err != nil {
		res = "error: " + e.Err.Error()
	}
	return fmt.Sprintf("%s, %s -> %s", e.Op, plural(int64(e.Args), "arg"), res)
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
