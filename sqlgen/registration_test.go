package sqlgen_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seed-b2691315/sqlgen/sqlgen"
)

type meta struct{ Source string }

// regUnexportedTagged has an unexported field with a tag: a column the
// user meant to have, which reflection cannot set.
type regUnexportedTagged struct {
	ID int64 `sql:",primary"`
	//lint:ignore U1000 an unexported field: not a column
	note string
	meta `sql:"meta,json"`
}

type regUnexportedUntagged struct {
	ID   int64 `sql:",primary"`
	note string
}

func TestRegisterRefusesTaggedUnexportedFields(t *testing.T) {
	s := sqlgen.NewSchema()
	err := s.RegisterType("reg_a", sqlgen.UniqueID, regUnexportedTagged{})
	if !errors.Is(err, sqlgen.ErrBadSchema) || !strings.Contains(err.Error(), "regUnexportedTagged.meta") {
		t.Errorf("tagged unexported field: %v, want ErrBadSchema naming regUnexportedTagged.meta", err)
	}
	if err := s.RegisterType("reg_b", sqlgen.UniqueID, regUnexportedUntagged{note: "x"}); err != nil {
		t.Errorf("untagged unexported field: %v, want it skipped", err)
	}
	cols, err := s.Columns("reg_b")
	if err != nil || strings.Join(cols, ",") != "id" {
		t.Errorf("columns of reg_b: %v, %v", cols, err)
	}
}

// TestUniqueIdAlias: the former name UniqueId still compiles and means
// UniqueID.
func TestUniqueIdAlias(t *testing.T) {
	old := sqlgen.UniqueId
	if old != sqlgen.UniqueID || old.String() != "UniqueID" {
		t.Errorf("UniqueId is %v (%d), want UniqueID (%d)", old, old, sqlgen.UniqueID)
	}
	s := sqlgen.NewSchema()
	if err := s.RegisterType("reg_alias", old, regUnexportedUntagged{}); err != nil {
		t.Errorf("RegisterType with UniqueId: %v", err)
	}
}
