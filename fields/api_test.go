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
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	w := &apiWalker{t: t, fset: token.NewFileSet()}
	for _, name := range files {
		if !strings.HasSuffix(name, "_test.go") {
			w.file(name)
		}
	}
	if w.checked < 20 {
		t.Fatalf("only %d exported declarations checked: the walk is broken", w.checked)
	}
}

// apiWalker checks the exported declarations of the package's files.
type apiWalker struct {
	t       *testing.T
	fset    *token.FileSet
	src     []byte
	checked int
}

func (w *apiWalker) file(name string) {
	var err error
	if w.src, err = os.ReadFile(name); err != nil {
		w.t.Fatal(err)
	}
	f, err := parser.ParseFile(w.fset, name, w.src, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			if decl.Name.IsExported() && (decl.Recv == nil || exportedRecv(decl.Recv)) {
				w.check("func "+decl.Name.Name, decl.Type)
			}
		case *ast.GenDecl:
			for _, spec := range decl.Specs {
				w.spec(spec)
			}
		}
	}
}

func (w *apiWalker) spec(spec ast.Spec) {
	switch spec := spec.(type) {
	case *ast.TypeSpec:
		if spec.Name.IsExported() {
			w.typeSpec(spec)
		}
	case *ast.ValueSpec:
		for _, n := range spec.Names {
			if n.IsExported() && spec.Type != nil {
				w.check("value "+n.Name, spec.Type)
			}
		}
	}
}

func (w *apiWalker) typeSpec(spec *ast.TypeSpec) {
	st, ok := spec.Type.(*ast.StructType)
	if !ok {
		w.check("type "+spec.Name.Name, spec.Type)
		return
	}
	for _, fld := range st.Fields.List {
		for _, n := range fld.Names {
			if !n.IsExported() {
				continue
			}
			w.check("field "+spec.Name.Name+"."+n.Name, fld.Type)
			if spec.Name.Name == "Descriptor" {
				w.t.Errorf("Descriptor has an exported field %s", n.Name)
			}
		}
	}
}

// check reports an exported declaration whose type text names unsafe or
// uintptr.
func (w *apiWalker) check(what string, n ast.Node) {
	w.checked++
	text := string(w.src[w.fset.Position(n.Pos()).Offset:w.fset.Position(n.End()).Offset])
	if strings.Contains(text, "unsafe.") || strings.Contains(text, "uintptr") {
		w.t.Errorf("%s: exported %s: %s", w.fset.Position(n.Pos()), what, text)
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
