package sqlgen

import "testing"

func TestServerKindFor(t *testing.T) {
	for _, tc := range []struct {
		version string
		kind    serverKind
		json    jsonEquality
	}{
		{"8.0.11-TiDB-v7.5.0", kindTiDB, jsonCast},
		{"8.0.11-TiDB-v9.0.0-beta.2.pre-12-ge4e814f", kindTiDB, jsonCast},
		{"5.7.25-TiDB-v6.5.0", kindTiDB, jsonCast},
		{"10.11.6-MariaDB-0+deb12u1", kindMariaDB, jsonEquals},
		{"8.0.36", kindMySQL, jsonCast},
	} {
		if got := serverKindFor(tc.version); got != tc.kind {
			t.Errorf("serverKindFor(%q) = %v, want %v", tc.version, got, tc.kind)
		}
		if got := jsonEqualityFor(tc.version); got != tc.json {
			t.Errorf("jsonEqualityFor(%q) = %v, want %v", tc.version, got, tc.json)
		}
	}
}

// TestTiDBPlan reads plans as TiDB's EXPLAIN prints them (id, access object).
func TestTiDBPlan(t *testing.T) {
	type row struct{ id, obj string }
	for _, tc := range []struct {
		name string
		plan []row
		full bool
	}{
		{"table full scan", []row{{"TableReader_7", ""}, {"└─Selection_6", ""}, {"  └─TableFullScan_5", "table:users"}}, true},
		{"full scan without a filter", []row{{"TableReader_5", ""}, {"└─TableFullScan_4", "table:users"}}, true},
		{"point get", []row{{"Point_Get_1", "table:users"}}, false},
		{"batch point get", []row{{"Batch_Point_Get_1", "table:users"}}, false},
		{"index range scan", []row{{"IndexLookUp_10", ""}, {"├─IndexRangeScan_8(Build)", "table:users, index:org(org_id)"}, {"└─TableRowIDScan_9(Probe)", "table:users"}}, false},
		{"table range scan", []row{{"TableReader_6", ""}, {"└─TableRangeScan_5", "table:users"}}, false},
		{"impossible where", []row{{"TableDual_6", ""}}, false},
		{"covering index full scan", []row{{"IndexReader_7", ""}, {"└─IndexFullScan_6", "table:users, index:org(org_id)"}}, false},
		{"filtered index full scan", []row{{"IndexReader_7", ""}, {"└─Selection_6", ""}, {"  └─IndexFullScan_5", "table:users, index:org(org_id)"}}, true},
		{"count full scan", []row{{"StreamAgg_16", ""}, {"└─TableReader_17", ""}, {"  └─StreamAgg_8", ""}, {"    └─TableFullScan_15", "table:users"}}, true},
	} {
		var p tidbPlan
		for _, r := range tc.plan {
			p.row(r.id, r.obj)
		}
		if got := p.result(); (got != "") != tc.full {
			t.Errorf("%s: result %q, want full scan %v", tc.name, got, tc.full)
		}
	}
	if got := tidbOperator("Point_Get_1"); got != "Point_Get" {
		t.Errorf("tidbOperator: %q", got)
	}
	if got := tidbOperator("  └─IndexRangeScan_8(Build)"); got != "IndexRangeScan" {
		t.Errorf("tidbOperator: %q", got)
	}
}

// TestGuardedUpsertAssignsNoLimitedColumn: the guarded upsert never
// assigns a limited column (Vitess refuses any assignment to a shard key,
// VT12001), also when every key column is limited.
func TestGuardedUpsertAssignsNoLimitedColumn(t *testing.T) {
	type onlyOrg struct {
		OrgID int64 `sql:"org_id,primary"`
		Name  string
		Note  string
	}
	type keyOnly struct {
		OrgID int64 `sql:"org_id,primary"`
	}
	for _, tc := range []struct {
		value any
		want  string
	}{
		{onlyOrg{}, " ON DUPLICATE KEY UPDATE `name`=IF(`org_id`<=>VALUES(`org_id`),VALUES(`name`),IF(LAST_INSERT_ID(18446744073709551615+0*LENGTH(`name`)),`name`,`name`)),`note`=IF(`org_id`<=>VALUES(`org_id`),VALUES(`note`),`note`)"},
		{keyOnly{}, " ON DUPLICATE KEY UPDATE `org_id`=IF(`org_id`<=>VALUES(`org_id`),`org_id`,IF(LAST_INSERT_ID(18446744073709551615+0*LENGTH(`org_id`)),`org_id`,`org_id`))"},
	} {
		tb, err := newTable("t", UniqueId, tc.value, nil)
		if err != nil {
			t.Fatal(err)
		}
		g := tb.guarded([]*column{tb.byName["org_id"]})
		if g.upsertSuffix != tc.want {
			t.Errorf("%T: guarded upsert suffix\n got %s\nwant %s", tc.value, g.upsertSuffix, tc.want)
		}
	}
}
