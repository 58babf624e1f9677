package sqlgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-b2691315/sqlgen/sqlgen/sqlgentest"
)

// TestREADMEQuickStart runs the quick-start program of README.md, as a
// newcomer would copy it, against a throwaway database, and checks that it
// prints what the README says it prints.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	_, rest, ok := strings.Cut(text, "## Quick start")
	if !ok {
		t.Fatal("README has no Quick start section")
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	if !ok {
		t.Fatal("Quick start has no Go block")
	}
	program, rest, _ := strings.Cut(rest, "```")
	_, rest, ok = strings.Cut(rest, "It prints:\n\n```\n")
	if !ok {
		t.Fatal("Quick start does not say what it prints")
	}
	want, _, _ := strings.Cut(rest, "```")

	// The program is its own module in a temporary directory, built against
	// this checkout of the library (a replace directive) with the library's
	// own requirements and go.sum.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	writeReadmeModule(t, dir)
	dsn := sqlgentest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SQLGEN_DSN="+dsn, "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run of the README program: %v\n%s", err, stderr.String())
	}
	if string(out) != want {
		t.Errorf("the README program printed\n%s\nthe README says\n%s", out, want)
	}
}

// writeReadmeModule writes into dir the go.mod and go.sum of a module that
// requires what the library's go.mod requires, with the library replaced
// by this checkout.
func writeReadmeModule(t *testing.T, dir string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "mod", "edit", "-json", filepath.Join(root, "go.mod")).Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var lib struct {
		Module  struct{ Path string }
		Go      string
		Require []struct{ Path, Version string }
	}
	if err := json.Unmarshal(out, &lib); err != nil {
		t.Fatal(err)
	}
	var mod strings.Builder
	fmt.Fprintf(&mod, "module readme.example/quickstart\n\ngo %s\n\nrequire (\n\t%s v0.0.0\n", lib.Go, lib.Module.Path)
	for _, r := range lib.Require {
		fmt.Fprintf(&mod, "\t%s %s\n", r.Path, r.Version)
	}
	fmt.Fprintf(&mod, ")\n\nreplace %s => %s\n", lib.Module.Path, root)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}
