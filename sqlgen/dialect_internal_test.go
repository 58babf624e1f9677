package sqlgen

import "testing"

func TestJSONEqualityFor(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    jsonEquality
	}{
		{"8.0.36", jsonCast},
		{"8.4.0-commercial", jsonCast},
		{"10.11.19-MariaDB-0+deb12u1", jsonEquals},
		{"10.7.1-MariaDB", jsonEquals},
		{"11.4.2-MariaDB-log", jsonEquals},
		{"10.6.18-MariaDB", jsonContains},
		{"5.5.5-10.3.39-MariaDB", jsonContains}, // the old replication-compatible prefix
		{"garbage-mariadb", jsonContains},
	} {
		if got := jsonEqualityFor(tc.version); got != tc.want {
			t.Errorf("jsonEqualityFor(%q) = %v, want %v", tc.version, got, tc.want)
		}
	}
}
