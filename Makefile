# Build and test plumbing for sqlgen.
#
# Integration tests read SQLGEN_TEST_DSN (default root@tcp(127.0.0.1:3306)/).
# Set it in the environment or on the command line
# (make test SQLGEN_TEST_DSN='root@tcp(127.0.0.1:3407)/'); make passes both
# through to every recipe. Do not add a bare `export SQLGEN_TEST_DSN` here:
# that would export an empty value when it is unset.

# Fuzzing budget per target, as an execution count: a wall-clock -fuzztime
# can fail with a bare "context deadline exceeded" on a loaded machine, a race
# in Go's fuzz coordinator (go.dev/issue/75804, fixed in Go 1.27), never a
# crasher. A count has no deadline to race; 10000x takes 1-10 s per target.
FUZZTIME ?= 10000x

.DEFAULT_GOAL := help

# The Go modules of the repository: the library (.) and the nested modules.
#
# go directive policy: each module's `go` line is the lowest Go release its
# own code and its dependencies need, and `go mod tidy` leaves it as is.
# Today that is go 1.24.0 for the library (package weak, and
# go-sql-driver/mysql v1.10 needs 1.24), live/ and benchmarks/, and go 1.25.0
# for examples/ (graphql-go v1.11 and OpenTelemetry, via go-mysql-server,
# need 1.25) and otel/ (OpenTelemetry v1.43 needs 1.25); compat/ is at
# 1.24.0 and compat/vitess/ at the 1.26.8 that vitess.io/vitess itself
# requires. Raise a module's line only when its code or a dependency needs
# it; never raise the library's for a tool or an example.
MODULES := . examples benchmarks live compat compat/vitess otel

# staticcheck, pinned, built once per Go release into a repository-local
# GOBIN (.tools/, ignored by git and by ./... patterns), so a fresh clone
# (CI) gets the same checker as a developer. staticcheck v0.8.2 itself
# needs Go 1.26 to build: with an older go command, GOTOOLCHAIN=auto (the
# default) fetches that toolchain for the install.
STATICCHECK_VERSION := v0.8.2
TOOLS_DIR := $(CURDIR)/.tools
STATICCHECK := $(TOOLS_DIR)/staticcheck-$(STATICCHECK_VERSION)-$(shell go env GOVERSION)

# gocognit, pinned and built like staticcheck: no function of the library
# (the root module's packages, live/ and otel/; tests aside) is above 40
# cognitive complexity, unless its doc comment says why and carries the
# //gocognit:ignore directive (a conversion switch over a format's types).
GOCOGNIT_VERSION := v1.3.0
GOCOGNIT := $(TOOLS_DIR)/gocognit-$(GOCOGNIT_VERSION)-$(shell go env GOVERSION)
COMPLEXITY_DIRS := ./sqlgen ./fields ./internal ./live ./otel

.PHONY: help db vet lint tidy-check complexity test fuzz-short demo reliability bench bench-smoke

help:
	@echo 'Targets:'
	@echo '  make db          ensure a MySQL/MariaDB server answers at $$SQLGEN_TEST_DSN'
	@echo '                   (starts a throwaway server under /tmp if needed)'
	@echo '  make vet         gofmt check and go vet'
	@echo '  make lint        vet, then in every module: go mod tidy -diff, go vet, staticcheck;'
	@echo '                   gocognit: no library function above 40 cognitive complexity'
	@echo '  make test        db + lint, go test -race (library, examples, live, otel), then fuzz-short'
	@echo '                   (live/ and examples/graphql start their own throwaway MariaDB with a binary log)'
	@echo '  make fuzz-short  run every Fuzz* target for $(FUZZTIME) (FUZZTIME=50000x or 30s)'
	@echo '  make demo        run the quickstart example (examples/quickstart)'
	@echo '  make reliability run the reliability tests, rewrite RELIABILITY.md'
	@echo '  make bench       the benchmark suite against raw, sqlx, GORM and bun, and the'
	@echo '                   load test; rewrites benchmarks/RESULTS.md, LOADTEST.md, charts/'
	@echo '  make bench-smoke every benchmark once on both backends (part of make test)'

db:
	bash scripts/db.sh

# gofmt covers every .go file in the tree (nested modules too, not testdata);
# go vet covers the main module.
vet:
	@files=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*')); \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi
	go vet ./...

# Every module: go.mod and go.sum are tidy, go vet and staticcheck are
# clean; the library's functions are at most 40 cognitive complexity.
lint: vet tidy-check complexity $(STATICCHECK)
	@set -e; for m in $(MODULES); do \
		if [ $$m != . ]; then echo "go vet ./... ($$m)"; (cd $$m && go vet ./...); fi; \
		echo "staticcheck ./... ($$m)"; (cd $$m && $(STATICCHECK) ./...); \
	done

complexity: $(GOCOGNIT)
	@echo "gocognit -over 40 $(COMPLEXITY_DIRS)"; \
	out=$$($(GOCOGNIT) -over 40 -test=false $(COMPLEXITY_DIRS) 2>/dev/null); \
	if [ -n "$$out" ]; then echo "$$out"; echo "functions above 40 cognitive complexity: split them, or say why in the doc comment and add //gocognit:ignore"; exit 1; fi

$(GOCOGNIT):
	@mkdir -p $(TOOLS_DIR)
	GOBIN=$(TOOLS_DIR) go install github.com/uudashr/gocognit/cmd/gocognit@$(GOCOGNIT_VERSION)
	mv $(TOOLS_DIR)/gocognit $@

tidy-check:
	@set -e; for m in $(MODULES); do \
		echo "go mod tidy -diff ($$m)"; \
		(cd $$m && go mod tidy -diff) || { echo "go.mod/go.sum of $$m are not tidy: run go mod tidy in $$m"; exit 1; }; \
	done

$(STATICCHECK):
	@mkdir -p $(TOOLS_DIR)
	GOBIN=$(TOOLS_DIR) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS_DIR)/staticcheck $@

# compat/ (TiDB, in process) and compat/vitess/ (Vitess's planner) are
# nested modules with heavy dependencies: their first build takes many
# minutes (see compat/README.md for the times measured); with the Go build
# cache kept between runs they rebuild in well under a minute.
# compat/ runs without -race: -race turns on checkptr, and TiDB's storage
# (tikv client-go's ART memdb) dies under it with "fatal error: checkptr:
# pointer arithmetic result points to invalid allocation" on the first
# write; sqlgen's own concurrency is race-tested in the main module.
test: db lint
	go test -race -count=1 -timeout 30m ./...
	cd examples && go test -race -count=1 ./...
	cd live && go test -race -count=1 ./...
	cd otel && go test -race -count=1 ./...
	cd compat && go test -count=1 ./...
	cd compat/vitess && go test -race -count=1 ./...
	$(MAKE) bench-smoke
	$(MAKE) fuzz-short

# Finds every `func FuzzXxx(f *testing.F)` in the main module's test files and
# fuzzes each one on its own (go test -fuzz takes one target per package).
fuzz-short:
	@set -e; \
	for dir in $$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' ./...); do \
		pkg=".$${dir#$(CURDIR)}"; \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' "$$dir"/*_test.go); do \
			echo "go test -run='^\$$' -fuzz='^$$fn\$$' -fuzztime=$(FUZZTIME) $$pkg"; \
			go test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
		done; \
	done

demo:
	@if [ ! -f examples/go.mod ]; then \
		echo "examples/ is not there yet (no examples/go.mod)"; exit 1; \
	fi
	cd examples && go run ./quickstart

# Runs the reliability tests under -race (go test ./reliability/) and
# rewrites RELIABILITY.md with each promise, its tests and the figures of
# the run. The file is written even when tests fail; the target then
# fails. Longer runs:
#   make reliability SQLGEN_SOAK=60s SQLGEN_ROUNDTRIP_N=20000 SQLGEN_FAULT_ROUNDS=5
reliability: db
	go run ./reliability/cmd/report -o RELIABILITY.md

# The benchmark suite (benchmarks/, a nested module): ROUNDS, COUNT,
# BENCHTIME and BENCH are passed to benchmarks/run.sh.
bench: db
	$(MAKE) -C benchmarks bench loadtest

# Every benchmark once, on the fake driver and on the real server, plus the
# suite's own tests (each library's results checked, the fake driver's
# value shapes compared with the real driver's): the suite cannot rot.
bench-smoke: db
	cd benchmarks && go vet ./... && go test -count=1 ./... && go test -count=1 -run '^$$' -bench . -benchtime=1x ./...
