package fields_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/fields"
)

// TestExportedAPIHasNoPlumbing checks that the package's exported API
// (functions, methods, exported struct fields and variables) names no
// unsafe type or uintptr, and that Descriptor has no field a caller could
// write: the row-mode plumbing sqlgen needs lives in internal/rowscan.
func TestExportedAPIHasNoPlumbing(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		text := func(n ast.Node) string {
			return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])
		}
		bad := func(what string, n ast.Node) {
			if s := text(n); strings.Contains(s, "unsafe.") || strings.Contains(s, "uintptr") {
				t.Errorf("%s: exported %s %s", fset.Position(n.Pos()), what, s)
			}
			checked++
		}
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Name.IsExported() && (decl.Recv == nil || exportedRecv(decl.Recv)) {
					bad("func", decl.Type)
				}
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						if !spec.Name.IsExported() {
							continue
						}
						st, ok := spec.Type.(*ast.StructType)
						if !ok {
							bad("type", spec.Type)
							continue
						}
						for _, fld := range st.Fields.List {
							for _, n := range fld.Names {
								if n.IsExported() {
									bad("field", fld.Type)
									if spec.Name.Name == "Descriptor" {
										t.Errorf("Descriptor has an exported field %s", n.Name)
									}
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							if n.IsExported() && spec.Type != nil {
								bad("value", spec.Type)
							}
						}
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d exported declarations checked: the walk is broken", checked)
	}
}

func exportedRecv(l *ast.FieldList) bool {
	typ := l.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

// TestDescriptorImmutable checks that what a caller gets from a
// Descriptor is a copy: changing it changes nothing the descriptor does.
func TestDescriptorImmutable(t *testing.T) {
	d := descFor[time.Time](t, ",implicitnull")
	tag := d.Tag()
	tag.ImplicitNull = false
	tag.Encoding = fields.EncodingJSON
	if !d.Tag().ImplicitNull || d.Tag().Encoding != fields.EncodingNone {
		t.Fatalf("Tag() is not a copy: %+v", d.Tag())
	}
	// implicitnull still applies: the zero time is NULL.
	v, err := d.Value(reflect.ValueOf(time.Time{}))
	if err != nil || v != nil {
		t.Errorf("zero time after changing the Tag() copy: %v, %v; want nil", v, err)
	}
	if d.Conversion() != fields.ConvTime || d.Conversion().String() != "time" {
		t.Errorf("Conversion() = %v", d.Conversion())
	}
}
