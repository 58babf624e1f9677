package live

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestJSONText: MySQL's binary JSON (sql-common/json_binary.cc) becomes
// JSON text: objects, arrays, inline and offset values, small and large.
func TestJSONText(t *testing.T) {
	dbl := make([]byte, 8)
	binary.LittleEndian.PutUint64(dbl, math.Float64bits(2.5))
	u64 := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	cases := []struct {
		in   []byte
		want string
	}{
		{nil, "null"},
		{[]byte{0x04, 0x01}, "true"},
		{[]byte{0x04, 0x00}, "null"},
		{[]byte{0x05, 0xff, 0xff}, "-1"},
		{[]byte{0x0c, 0x03, 'a', '"', 'c'}, `"a\"c"`},
		// {"a": 1, "bc": "x"}
		{[]byte{0x00, 2, 0, 23, 0, 18, 0, 1, 0, 19, 0, 2, 0, 0x05, 1, 0, 0x0c, 21, 0, 'a', 'b', 'c', 1, 'x'}, `{"a":1,"bc":"x"}`},
		// [null, 2.5]
		{append([]byte{0x02, 2, 0, 18, 0, 0x04, 0, 0, 0x0b, 10, 0}, dbl...), `[null,2.5]`},
		// large array [18446744073709551615, false]
		{append([]byte{0x03, 2, 0, 0, 0, 26, 0, 0, 0, 0x0a, 18, 0, 0, 0, 0x04, 2, 0, 0, 0}, u64...), `[18446744073709551615,false]`},
		// nested: [[]] (the inner array at offset 7)
		{[]byte{0x02, 1, 0, 11, 0, 0x02, 7, 0, 0, 0, 4, 0}, `[[]]`},
	}
	for _, c := range cases {
		got, err := jsonText(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("jsonText(% x) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range [][]byte{{0x00, 5, 0}, {0x0c, 0x05, 'a'}, {0x02, 1, 0, 9, 0, 0x0c, 200, 0}, {0x04, 9}, {0x20}} {
		if _, err := jsonText(bad); err == nil {
			t.Errorf("jsonText(% x): no error", bad)
		}
	}
}

// FuzzDecode: no input makes the table map, row or JSON decoders panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 'd', 0, 1, 't', 0, 2, 0xf6, 0x13, 3, 10, 2, 3, 0}, []byte{0, 0x80, 0, 0, 0, 1, 0x80})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 'd', 0, 1, 't', 0, 1, 0xfe, 2, 0xf7, 1, 0, 6, 4, 1, 1, 'a'}, []byte{0, 1})
	f.Fuzz(func(t *testing.T, tmb, row []byte) {
		jsonText(row)
		tm, err := parseTableMap(tmb, 8)
		if err != nil {
			return
		}
		cols := make([]byte, (len(tm.types)+7)/8)
		for i := range cols {
			cols[i] = 0xff
		}
		decodeRow(tm, cols, row)
	})
}
