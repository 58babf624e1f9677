package main

import (
	"strings"
	"testing"
	"time"
)

const sample = `{"Action":"start","Package":"example/reliability"}
{"Action":"run","Package":"example/reliability","Test":"TestSoak"}
{"Action":"output","Package":"example/reliability","Test":"TestSoak","Output":"    soak_test.go:12: RELIABILITY: lost_writes=0\n"}
{"Action":"output","Package":"example/reliability","Test":"TestSoak","Output":"    soak_test.go:13: RELIABILITY: rows_checked=120\n"}
{"Action":"pass","Package":"example/reliability","Test":"TestSoak","Elapsed":3.2}
{"Action":"run","Package":"example/reliability","Test":"TestKillDuringBatch"}
{"Action":"run","Package":"example/reliability","Test":"TestKillDuringBatch/AutoIncrement"}
{"Action":"output","Package":"example/reliability","Test":"TestKillDuringBatch/AutoIncrement","Output":"    faults_test.go:99: after the failed InsertRows, 14 of 30 rows hold ids\n"}
{"Action":"output","Package":"example/reliability","Test":"TestKillDuringBatch/AutoIncrement","Output":"--- FAIL: TestKillDuringBatch/AutoIncrement (0.01s)\n"}
{"Action":"fail","Package":"example/reliability","Test":"TestKillDuringBatch/AutoIncrement","Elapsed":0.01}
{"Action":"output","Package":"example/reliability","Test":"TestKillDuringBatch","Output":"    faults_test.go:120: RELIABILITY: faults_injected=17\n"}
{"Action":"output","Package":"example/reliability","Test":"TestKillDuringBatch","Output":"    faults_test.go:121: RELIABILITY: rows_checked=850\n"}
{"Action":"fail","Package":"example/reliability","Test":"TestKillDuringBatch","Elapsed":0.2}
{"Action":"output","Package":"example/reliability","Output":"leakcheck: after all tests: 1 goroutine(s) still running:\n"}
{"Action":"fail","Package":"example/reliability","Elapsed":4}
`

func TestParseAndRender(t *testing.T) {
	r, err := parse(strings.NewReader("go: downloading something\n" + sample))
	if err != nil {
		t.Fatal(err)
	}
	if r.Package != "fail" || !r.LeakReport || len(r.Tests) != 2 {
		t.Fatalf("parsed %+v", r)
	}
	soak := r.Tests["TestSoak"]
	if soak.Status != "pass" || soak.Figures["rows_checked"] != "120" || soak.Figures["lost_writes"] != "0" {
		t.Errorf("TestSoak: %+v", soak)
	}
	kill := r.Tests["TestKillDuringBatch"]
	if kill.Status != "fail" || len(kill.Failures) != 1 || !strings.Contains(kill.Failures[0], "14 of 30") {
		t.Errorf("TestKillDuringBatch: %+v", kill)
	}
	if n, ok := r.sum("rows_checked"); !ok || n != 970 {
		t.Errorf("sum of rows_checked = %d, %v", n, ok)
	}
	md := render(r, renderInfo{Command: "go test", When: time.Unix(0, 0), GoVer: "go1.x"})
	for _, want := range []string{
		"| Rows checked against what was written | 970 |",
		"| Lost, duplicated or partial writes | 0 |",
		"`TestKillDuringBatch` | **FAIL** |",
		"`TestSoak` | PASS |",
		"A failed AutoIncrement InsertRows left ids in the rows — *open* (its test fails)",
		"Goroutines left after all tests (TestMain, leakcheck with StrictSQL): **FAIL**",
		"14 of 30 rows hold ids",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
