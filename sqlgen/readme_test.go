package sqlgen_test

import (
	"bytes"
	"context"
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

	// A directory inside the module (testdata is ignored by ./... patterns),
	// so the program builds against this checkout of the library.
	// A clean clone has no sqlgen/testdata (git keeps no empty directories).
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	dsn := sqlgentest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./"+filepath.ToSlash(dir))
	cmd.Env = append(os.Environ(), "SQLGEN_DSN="+dsn)
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
