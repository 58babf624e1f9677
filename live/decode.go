package live

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Column types of the binary log (include/mysql_com.h, enum_field_types).
const (
	typeDecimal    = 0
	typeTiny       = 1
	typeShort      = 2
	typeLong       = 3
	typeFloat      = 4
	typeDouble     = 5
	typeNull       = 6
	typeTimestamp  = 7
	typeLongLong   = 8
	typeInt24      = 9
	typeDate       = 10
	typeTime       = 11
	typeDateTime   = 12
	typeYear       = 13
	typeNewDate    = 14
	typeVarchar    = 15
	typeBit        = 16
	typeTimestamp2 = 17
	typeDateTime2  = 18
	typeTime2      = 19
	typeJSON       = 245
	typeNewDecimal = 246
	typeEnum       = 247
	typeSet        = 248
	typeTinyBlob   = 249
	typeMediumBlob = 250
	typeLongBlob   = 251
	typeBlob       = 252
	typeVarString  = 253
	typeString     = 254
	typeGeometry   = 255
)

// Optional metadata field types of a TABLE_MAP event
// (binlog_row_metadata=FULL; MySQL 8.0.1+, MariaDB 10.5+).
const (
	optSignedness       = 1
	optDefaultCharset   = 2
	optColumnCharset    = 3
	optColumnName       = 4
	optSetStrValue      = 5
	optEnumStrValue     = 6
	optGeometryType     = 7
	optSimplePrimaryKey = 8
	optPrimaryKeyPrefix = 9
)

// tableMap is a decoded TABLE_MAP event: the live table's columns, by
// position, with their names.
type tableMap struct {
	id       uint64
	db, name string
	types    []byte
	meta     []uint16
	unsigned []bool
	names    []string
	enums    map[int][]string // column index: ENUM values
	sets     map[int][]string // column index: SET values
	pk       []int            // primary key column indexes
	charset  []int            // collation id of character columns, 0 for others
	enumCS   []int            // collation id of ENUM and SET columns
}

// isNumeric reports whether the signedness bitmap has a bit for typ.
func isNumeric(typ byte) bool {
	switch typ {
	case typeTiny, typeShort, typeInt24, typeLong, typeLongLong, typeFloat, typeDouble, typeNewDecimal, typeDecimal:
		return true
	}
	return false
}

// realType returns the type a STRING column really has (ENUM and SET are
// logged as STRING with the real type in the metadata) and its metadata.
func realType(typ byte, meta uint16) (byte, uint16) {
	if typ == typeString && meta >= 256 {
		b0 := byte(meta >> 8)
		if b0&0x30 != 0x30 {
			// A CHAR longer than 255 bytes: the high bits of the length
			// are folded into the type byte.
			length := uint16((b0&0x30)^0x30)<<4 | (meta & 0xff)
			return typeString, length
		}
		if b0 == typeEnum || b0 == typeSet {
			return b0, meta & 0xff
		}
		return b0, meta & 0xff
	}
	return typ, meta
}

// readLenenc reads a length-encoded integer: a length or count within an
// event, so at most 2^31 (anything larger is a corrupt event).
func readLenenc(b []byte, pos int) (uint64, int, error) {
	v, p, err := readLenenc64(b, pos)
	if err == nil && v > 1<<31 {
		return 0, 0, fmt.Errorf("live: length %d in an event: %w", v, errShort)
	}
	return v, p, err
}

func readLenenc64(b []byte, pos int) (uint64, int, error) {
	if pos >= len(b) {
		return 0, 0, errShort
	}
	switch c := b[pos]; {
	case c < 0xfb:
		return uint64(c), pos + 1, nil
	case c == 0xfc:
		if pos+3 > len(b) {
			return 0, 0, errShort
		}
		return uint64(binary.LittleEndian.Uint16(b[pos+1:])), pos + 3, nil
	case c == 0xfd:
		if pos+4 > len(b) {
			return 0, 0, errShort
		}
		return uint64(b[pos+1]) | uint64(b[pos+2])<<8 | uint64(b[pos+3])<<16, pos + 4, nil
	case c == 0xfe:
		if pos+9 > len(b) {
			return 0, 0, errShort
		}
		return binary.LittleEndian.Uint64(b[pos+1:]), pos + 9, nil
	}
	return 0, 0, fmt.Errorf("live: bad length-encoded integer 0x%x", b[pos])
}

var errShort = fmt.Errorf("live: event too short")

// parseTableMap decodes the body of a TABLE_MAP event (after the common
// header, without checksum); postHeaderLen is the format's post-header
// length for the event (6 on old servers, 8 on current ones).
func parseTableMap(body []byte, postHeaderLen int) (*tableMap, error) {
	tm := &tableMap{}
	pos, err := tm.parseHead(body, postHeaderLen)
	if err != nil {
		return nil, err
	}
	if pos, err = tm.parseColumnMeta(body, pos); err != nil {
		return nil, err
	}
	n := len(tm.types)
	pos += (n + 7) / 8 // the nullability bitmap
	if pos > len(body) {
		return nil, errShort
	}
	tm.unsigned = make([]bool, n)
	tm.charset = make([]int, n)
	tm.enumCS = make([]int, n)
	// Optional metadata: type, length, value.
	for pos < len(body) {
		ft := body[pos]
		l, p, err := readLenenc(body, pos+1)
		if err != nil {
			return nil, err
		}
		v := body[p:]
		if int(l) > len(v) {
			return nil, errShort
		}
		pos = p + int(l)
		if err := tm.parseOptional(ft, v[:l]); err != nil {
			return nil, err
		}
	}
	return tm, nil
}

// parseHead reads the table id, the database and table names and the
// column types, and returns the position after them.
func (tm *tableMap) parseHead(body []byte, postHeaderLen int) (int, error) {
	if len(body) < postHeaderLen {
		return 0, errShort
	}
	if postHeaderLen == 6 {
		tm.id = uint64(binary.LittleEndian.Uint32(body))
	} else {
		var id [8]byte
		copy(id[:6], body[:6])
		tm.id = binary.LittleEndian.Uint64(id[:])
	}
	pos := postHeaderLen
	readName := func() (string, error) {
		if pos >= len(body) {
			return "", errShort
		}
		n := int(body[pos])
		pos++
		if pos+n+1 > len(body) {
			return "", errShort
		}
		s := string(body[pos : pos+n])
		pos += n + 1 // and the NUL
		return s, nil
	}
	var err error
	if tm.db, err = readName(); err != nil {
		return 0, err
	}
	if tm.name, err = readName(); err != nil {
		return 0, err
	}
	n64, p, err := readLenenc(body, pos)
	if err != nil {
		return 0, err
	}
	pos = p
	n := int(n64)
	if n < 0 || pos+n > len(body) {
		return 0, errShort
	}
	tm.types = append([]byte(nil), body[pos:pos+n]...)
	return pos + n, nil
}

// parseColumnMeta reads the per-column metadata block at pos (its length,
// then one to two bytes for each type that has some) and returns the
// position after it.
func (tm *tableMap) parseColumnMeta(body []byte, pos int) (int, error) {
	mlen, p, err := readLenenc(body, pos)
	if err != nil {
		return 0, err
	}
	pos = p
	mend := pos + int(mlen)
	if mend > len(body) || mend < pos {
		return 0, errShort
	}
	tm.meta = make([]uint16, len(tm.types))
	for i, t := range tm.types {
		size := metaSize(t)
		if pos+size > mend {
			return 0, errShort
		}
		switch {
		case size == 1:
			tm.meta[i] = uint16(body[pos])
		case size == 2 && (t == typeVarchar || t == typeVarString):
			tm.meta[i] = binary.LittleEndian.Uint16(body[pos:])
		case size == 2: // BIT, NEWDECIMAL, STRING, ENUM, SET: big-endian
			tm.meta[i] = uint16(body[pos])<<8 | uint16(body[pos+1])
		}
		pos += size
	}
	return mend, nil
}

// metaSize is how many bytes of column metadata a column of binlog type t
// has.
func metaSize(t byte) int {
	switch t {
	case typeFloat, typeDouble, typeBlob, typeTinyBlob, typeMediumBlob, typeLongBlob, typeJSON, typeGeometry,
		typeTimestamp2, typeDateTime2, typeTime2:
		return 1
	case typeVarchar, typeVarString, typeBit, typeNewDecimal, typeString, typeEnum, typeSet:
		return 2
	}
	return 0
}

// parseOptional applies one field of the optional metadata (binlog_row_metadata).
func (tm *tableMap) parseOptional(ft byte, v []byte) error {
	switch ft {
	case optSignedness:
		bit := 0
		for i, t := range tm.types {
			rt, _ := realType(t, tm.meta[i])
			if !isNumeric(rt) {
				continue
			}
			if bit/8 < len(v) && v[bit/8]&(0x80>>(bit%8)) != 0 {
				tm.unsigned[i] = true
			}
			bit++
		}
	case optDefaultCharset, optColumnCharset:
		isChar := func(i int) bool { rt, _ := realType(tm.types[i], tm.meta[i]); return isCharType(rt) }
		return parseCharsets(v, ft == optColumnCharset, isChar, tm.charset)
	case optEnumSetDefaultCharset, optEnumSetColumnCharset:
		isEnum := func(i int) bool { rt, _ := realType(tm.types[i], tm.meta[i]); return rt == typeEnum || rt == typeSet }
		return parseCharsets(v, ft == optEnumSetColumnCharset, isEnum, tm.enumCS)
	case optColumnName:
		names, _, err := readLenencStrings(v, 0, -1)
		if err != nil {
			return err
		}
		tm.names = append(tm.names, names...)
	case optEnumStrValue, optSetStrValue:
		return tm.parseEnumValues(ft, v)
	case optSimplePrimaryKey, optPrimaryKeyPrefix:
		q := 0
		for q < len(v) {
			c, p, err := readLenenc(v, q)
			if err != nil {
				return err
			}
			if ft == optPrimaryKeyPrefix { // and the prefix length
				if _, p, err = readLenenc(v, p); err != nil {
					return err
				}
			}
			tm.pk = append(tm.pk, int(c))
			q = p
		}
	}
	return nil
}

// readLenencStrings reads length-encoded strings from v at q: count of
// them, or all of them to the end of v when count is negative. It returns
// them and the position after the last.
func readLenencStrings(v []byte, q, count int) ([]string, int, error) {
	var list []string
	for i := 0; count < 0 && q < len(v) || i < count; i++ {
		l, p, err := readLenenc(v, q)
		if err != nil || p+int(l) > len(v) {
			return nil, 0, errShort
		}
		list = append(list, string(v[p:p+int(l)]))
		q = p + int(l)
	}
	return list, q, nil
}

// parseEnumValues reads the value lists of the ENUM (or SET) columns.
func (tm *tableMap) parseEnumValues(ft byte, v []byte) error {
	var lists [][]string
	q := 0
	for q < len(v) {
		cnt, p, err := readLenenc(v, q)
		if err != nil {
			return err
		}
		list, q2, err := readLenencStrings(v, p, int(cnt))
		if err != nil {
			return err
		}
		q = q2
		lists = append(lists, list)
	}
	want := byte(typeEnum)
	m := &tm.enums
	if ft == optSetStrValue {
		want = typeSet
		m = &tm.sets
	}
	*m = map[int][]string{}
	k := 0
	for i, t := range tm.types {
		if rt, _ := realType(t, tm.meta[i]); rt == want && k < len(lists) {
			(*m)[i] = lists[k]
			k++
		}
	}
	return nil
}

// decodeRow decodes one row image: the values of the columns present in
// the bitmap cols (all of them with binlog_row_image=FULL), in table map
// order, and returns them with the length consumed. Absent columns are nil.
func decodeRow(tm *tableMap, cols []byte, data []byte) ([]driver.Value, int, error) {
	n := len(tm.types)
	present := 0
	for i := range n {
		if cols[i/8]&(1<<(i%8)) != 0 {
			present++
		}
	}
	nullLen := (present + 7) / 8
	if len(data) < nullLen {
		return nil, 0, errShort
	}
	nulls := data[:nullLen]
	pos := nullLen
	out := make([]driver.Value, n)
	k := 0
	for i := range n {
		if cols[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		isNull := nulls[k/8]&(1<<(k%8)) != 0
		k++
		if isNull {
			continue
		}
		v, l, err := decodeCell(tm, i, data[pos:])
		if err != nil {
			name := strconv.Itoa(i)
			if i < len(tm.names) {
				name = strconv.Quote(tm.names[i])
			}
			return nil, 0, fmt.Errorf("live: table %s.%s column %s (type %d): %w", tm.db, tm.name, name, tm.types[i], err)
		}
		out[i] = v
		pos += l
	}
	return out, pos, nil
}

func need(b []byte, n int) error {
	if len(b) < n {
		return errShort
	}
	return nil
}

// uintLE reads an n-byte little-endian unsigned integer.
func uintLE(b []byte, n int) uint64 {
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// uintBE reads an n-byte big-endian unsigned integer.
func uintBE(b []byte, n int) uint64 {
	var v uint64
	for i := range n {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// decodeCell decodes column i's value at the start of b, into the value a
// read of the column gives (text for DECIMAL, DATE, DATETIME and TIME, as
// the text protocol sends them; the instant as a UTC time.Time for
// TIMESTAMP, whose text depends on the reading session's time zone).
//
// It is one switch over the binlog column types, each case a few lines of
// the format: its cognitive complexity (about 75) is the number of types,
// and splitting it would scatter the format across functions.
//
//gocognit:ignore
func decodeCell(tm *tableMap, i int, b []byte) (driver.Value, int, error) {
	typ, meta := realType(tm.types[i], tm.meta[i])
	unsigned := tm.unsigned[i]
	switch typ {
	case typeDateTime2, typeTimestamp2, typeTime2:
		if meta > 6 {
			return nil, 0, fmt.Errorf("live: bad fractional second precision %d", meta)
		}
	}
	intOf := func(n int) (driver.Value, int, error) {
		if err := need(b, n); err != nil {
			return nil, 0, err
		}
		u := uintLE(b, n)
		if unsigned {
			if u > math.MaxInt64 {
				return u, n, nil
			}
			return int64(u), n, nil
		}
		shift := 64 - 8*n
		return int64(u<<shift) >> shift, n, nil
	}
	switch typ {
	case typeTiny:
		return intOf(1)
	case typeShort:
		return intOf(2)
	case typeInt24:
		return intOf(3)
	case typeLong:
		return intOf(4)
	case typeLongLong:
		return intOf(8)
	case typeYear:
		if err := need(b, 1); err != nil {
			return nil, 0, err
		}
		if b[0] == 0 {
			return int64(0), 1, nil
		}
		return int64(b[0]) + 1900, 1, nil
	case typeFloat:
		if err := need(b, 4); err != nil {
			return nil, 0, err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), 4, nil
	case typeDouble:
		if err := need(b, 8); err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case typeNewDecimal:
		return decodeDecimal(b, int(meta>>8), int(meta&0xff))
	case typeDate, typeNewDate:
		if err := need(b, 3); err != nil {
			return nil, 0, err
		}
		v := uintLE(b, 3)
		return []byte(fmt.Sprintf("%04d-%02d-%02d", v>>9, (v>>5)&15, v&31)), 3, nil
	case typeDateTime:
		if err := need(b, 8); err != nil {
			return nil, 0, err
		}
		v := binary.LittleEndian.Uint64(b)
		d, t := v/1000000, v%1000000
		return []byte(fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", d/10000, d/100%100, d%100, t/10000, t/100%100, t%100)), 8, nil
	case typeDateTime2:
		fl := fracLen(meta)
		if err := need(b, 5+fl); err != nil {
			return nil, 0, err
		}
		v := uintBE(b, 5) - 0x8000000000
		ymd, hms := v>>17, v&0x1ffff
		ym := ymd >> 5
		s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", ym/13, ym%13, ymd&31, hms>>12, (hms>>6)&63, hms&63)
		return []byte(s + fracText(b[5:5+fl], meta)), 5 + fl, nil
	case typeTimestamp:
		if err := need(b, 4); err != nil {
			return nil, 0, err
		}
		sec := binary.LittleEndian.Uint32(b)
		if sec == 0 {
			return []byte("0000-00-00 00:00:00"), 4, nil
		}
		return time.Unix(int64(sec), 0).UTC(), 4, nil
	case typeTimestamp2:
		fl := fracLen(meta)
		if err := need(b, 4+fl); err != nil {
			return nil, 0, err
		}
		sec := binary.BigEndian.Uint32(b)
		frac := fracMicros(b[4:4+fl], meta)
		if sec == 0 && frac == 0 {
			return []byte("0000-00-00 00:00:00" + fracText(b[4:4+fl], meta)), 4 + fl, nil
		}
		return time.Unix(int64(sec), int64(frac)*1000).UTC(), 4 + fl, nil
	case typeTime:
		if err := need(b, 3); err != nil {
			return nil, 0, err
		}
		v := int64(uintLE(b, 3)<<40) >> 40
		sign := ""
		if v < 0 {
			sign, v = "-", -v
		}
		return []byte(fmt.Sprintf("%s%02d:%02d:%02d", sign, v/10000, v/100%100, v%100)), 3, nil
	case typeTime2:
		return decodeTime2(b, meta)
	case typeVarchar, typeVarString, typeString:
		ll := 1
		if meta >= 256 {
			ll = 2
		}
		if err := need(b, ll); err != nil {
			return nil, 0, err
		}
		l := int(uintLE(b, ll))
		if err := need(b, ll+l); err != nil {
			return nil, 0, err
		}
		return b[ll : ll+l], ll + l, nil
	case typeEnum:
		if err := need(b, int(meta)); err != nil || meta < 1 || meta > 2 {
			return nil, 0, fmt.Errorf("live: bad ENUM size %d", meta)
		}
		idx := int(uintLE(b, int(meta)))
		if idx == 0 {
			return []byte{}, int(meta), nil // the invalid value ''
		}
		vals, ok := tm.enums[i]
		if !ok || idx > len(vals) {
			return nil, 0, fmt.Errorf("live: ENUM index %d without its values (binlog_row_metadata=FULL gives them)", idx)
		}
		return []byte(vals[idx-1]), int(meta), nil
	case typeSet:
		if err := need(b, int(meta)); err != nil || meta < 1 || meta > 8 {
			return nil, 0, fmt.Errorf("live: bad SET size %d", meta)
		}
		bits := uintLE(b, int(meta))
		vals, ok := tm.sets[i]
		if !ok {
			return nil, 0, fmt.Errorf("live: SET value without its members (binlog_row_metadata=FULL gives them)")
		}
		var parts []string
		for k, v := range vals {
			if bits&(1<<k) != 0 {
				parts = append(parts, v)
			}
		}
		return []byte(strings.Join(parts, ",")), int(meta), nil
	case typeBit:
		nbits := int(meta&0xff)*8 + int(meta>>8) // metadata: bits%8, then bytes
		l := (nbits + 7) / 8
		if err := need(b, l); err != nil {
			return nil, 0, err
		}
		return b[:l], l, nil
	case typeBlob, typeTinyBlob, typeMediumBlob, typeLongBlob, typeGeometry, typeJSON:
		ll := int(meta)
		if ll < 1 || ll > 4 {
			return nil, 0, fmt.Errorf("live: bad length size %d", ll)
		}
		if err := need(b, ll); err != nil {
			return nil, 0, err
		}
		l := int(uintLE(b, ll))
		if err := need(b, ll+l); err != nil {
			return nil, 0, err
		}
		v := b[ll : ll+l]
		if typ == typeJSON { // MySQL's binary JSON
			txt, err := jsonText(v)
			if err != nil {
				return nil, 0, err
			}
			return txt, ll + l, nil
		}
		return v, ll + l, nil
	}
	return nil, 0, fmt.Errorf("live: unsupported column type %d", typ)
}

// fracLen is the byte length of a temporal value's fractional part.
func fracLen(fsp uint16) int { return int(fsp+1) / 2 }

// fracMicros returns a temporal value's fraction in microseconds.
func fracMicros(b []byte, fsp uint16) int {
	switch fracLen(fsp) {
	case 1:
		return int(b[0]) * 10000
	case 2:
		return int(uintBE(b, 2)) * 100
	case 3:
		return int(uintBE(b, 3))
	}
	return 0
}

// fracText formats the fraction with fsp digits, as a read shows it.
func fracText(b []byte, fsp uint16) string {
	if fsp == 0 {
		return ""
	}
	s := fmt.Sprintf(".%06d", fracMicros(b, fsp))
	return s[:1+int(fsp)]
}

// decodeTime2 decodes a TIME(fsp) in the MySQL 5.6 format.
func decodeTime2(b []byte, fsp uint16) (driver.Value, int, error) {
	fl := fracLen(fsp)
	if err := need(b, 3+fl); err != nil {
		return nil, 0, err
	}
	// The whole value is one big-endian integer offset by half its range.
	n := 3 + fl
	packed := int64(uintBE(b, n)) - int64(1)<<(8*n-1)
	sign := ""
	if packed < 0 {
		sign, packed = "-", -packed
	}
	var frac int64
	switch fl {
	case 1:
		frac = (packed & 0xff) * 10000
		packed >>= 8
	case 2:
		frac = (packed & 0xffff) * 100
		packed >>= 16
	case 3:
		frac = packed & 0xffffff
		packed >>= 24
	}
	h, m, s := (packed>>12)&0x3ff, (packed>>6)&63, packed&63
	txt := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
	if fsp > 0 {
		f := fmt.Sprintf(".%06d", frac)
		txt += f[:1+int(fsp)]
	}
	return []byte(txt), n, nil
}

var dig2bytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

// decodeDecimal decodes a DECIMAL(precision, scale) into its text, as a
// read gives it: no leading zeros, exactly scale fraction digits.
func decodeDecimal(b []byte, precision, scale int) (driver.Value, int, error) {
	if precision < 1 || precision > 65 || scale > 38 || scale > precision {
		return nil, 0, fmt.Errorf("live: bad DECIMAL(%d,%d)", precision, scale)
	}
	intg := precision - scale
	intg0, intg0x := intg/9, intg%9
	frac0, frac0x := scale/9, scale%9
	l := intg0*4 + dig2bytes[intg0x] + frac0*4 + dig2bytes[frac0x]
	if err := need(b, l); err != nil {
		return nil, 0, err
	}
	d := append([]byte(nil), b[:l]...)
	neg := d[0]&0x80 == 0
	d[0] ^= 0x80
	if neg {
		for i := range d {
			d[i] ^= 0xff
		}
	}
	var ip strings.Builder
	pos := 0
	if n := dig2bytes[intg0x]; n > 0 {
		ip.WriteString(strconv.FormatUint(uintBE(d[pos:], n), 10))
		pos += n
	}
	for range intg0 {
		fmt.Fprintf(&ip, "%09d", uintBE(d[pos:], 4))
		pos += 4
	}
	is := strings.TrimLeft(ip.String(), "0")
	if is == "" {
		is = "0"
	}
	var out strings.Builder
	if neg {
		out.WriteByte('-')
	}
	out.WriteString(is)
	if scale > 0 {
		out.WriteByte('.')
		for range frac0 {
			fmt.Fprintf(&out, "%09d", uintBE(d[pos:], 4))
			pos += 4
		}
		if n := dig2bytes[frac0x]; n > 0 {
			fmt.Fprintf(&out, "%0*d", frac0x, uintBE(d[pos:], n))
		}
	}
	return []byte(out.String()), l, nil
}

// MySQL binary JSON (sql-common/json_binary.cc).
const (
	jsonSmallObject = 0
	jsonLargeObject = 1
	jsonSmallArray  = 2
	jsonLargeArray  = 3
	jsonLiteral     = 4
	jsonInt16       = 5
	jsonUint16      = 6
	jsonInt32       = 7
	jsonUint32      = 8
	jsonInt64       = 9
	jsonUint64      = 10
	jsonDouble      = 11
	jsonString      = 12
	jsonOpaque      = 15
)

// jsonText converts MySQL's binary JSON to JSON text. An empty value is
// the JSON null (what MySQL logs for a NULL-free empty document).
func jsonText(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return []byte("null"), nil
	}
	var buf bytes.Buffer
	if err := jsonValue(&buf, b[0], b[1:], 0); err != nil {
		return nil, fmt.Errorf("live: binary JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// jsonValue writes the value of type t; data starts at the value (for
// inline-able scalars at the entry itself). Like decodeCell it is one
// switch over the format's value types (MySQL's binary JSON), which is what
// its cognitive complexity counts.
//
//gocognit:ignore
func jsonValue(buf *bytes.Buffer, t byte, data []byte, depth int) error {
	if depth > 100 {
		return fmt.Errorf("too deep")
	}
	switch t {
	case jsonSmallObject, jsonLargeObject, jsonSmallArray, jsonLargeArray:
		large := t == jsonLargeObject || t == jsonLargeArray
		obj := t == jsonSmallObject || t == jsonLargeObject
		w := 2
		if large {
			w = 4
		}
		if err := need(data, 2*w); err != nil {
			return err
		}
		count := int(uintLE(data, w))
		entry := 1 + w // a value entry
		if obj {
			entry += w + 2 // and a key entry
		}
		if count > len(data)/entry {
			return errShort
		}
		pos := 2 * w
		keys := make([]string, 0, count)
		if obj {
			for range count {
				if err := need(data[pos:], w+2); err != nil {
					return err
				}
				off, kl := int(uintLE(data[pos:], w)), int(uintLE(data[pos+w:], 2))
				if off+kl > len(data) {
					return errShort
				}
				keys = append(keys, string(data[off:off+kl]))
				pos += w + 2
			}
			buf.WriteByte('{')
		} else {
			buf.WriteByte('[')
		}
		for k := range count {
			if k > 0 {
				buf.WriteByte(',')
			}
			if obj {
				kb, _ := json.Marshal(keys[k])
				buf.Write(kb)
				buf.WriteByte(':')
			}
			if err := need(data[pos:], 1+w); err != nil {
				return err
			}
			vt := data[pos]
			inline := vt == jsonLiteral || vt == jsonInt16 || vt == jsonUint16 ||
				(large && (vt == jsonInt32 || vt == jsonUint32))
			var err error
			if inline {
				err = jsonValue(buf, vt, data[pos+1:pos+1+w], depth+1)
			} else {
				off := int(uintLE(data[pos+1:], w))
				if off >= len(data) {
					return errShort
				}
				err = jsonValue(buf, vt, data[off:], depth+1)
			}
			if err != nil {
				return err
			}
			pos += 1 + w
		}
		if obj {
			buf.WriteByte('}')
		} else {
			buf.WriteByte(']')
		}
	case jsonLiteral:
		if err := need(data, 1); err != nil {
			return err
		}
		switch data[0] {
		case 0:
			buf.WriteString("null")
		case 1:
			buf.WriteString("true")
		case 2:
			buf.WriteString("false")
		default:
			return fmt.Errorf("bad literal %d", data[0])
		}
	case jsonInt16, jsonUint16, jsonInt32, jsonUint32, jsonInt64, jsonUint64:
		n := map[byte]int{jsonInt16: 2, jsonUint16: 2, jsonInt32: 4, jsonUint32: 4, jsonInt64: 8, jsonUint64: 8}[t]
		if err := need(data, n); err != nil {
			return err
		}
		u := uintLE(data, n)
		if t == jsonUint16 || t == jsonUint32 || t == jsonUint64 {
			buf.WriteString(strconv.FormatUint(u, 10))
		} else {
			shift := 64 - 8*n
			buf.WriteString(strconv.FormatInt(int64(u<<shift)>>shift, 10))
		}
	case jsonDouble:
		if err := need(data, 8); err != nil {
			return err
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(data))
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case jsonString:
		l, n, err := varLen(data)
		if err != nil {
			return err
		}
		if n+l > len(data) {
			return errShort
		}
		sb, _ := json.Marshal(string(data[n : n+l]))
		buf.Write(sb)
	case jsonOpaque:
		// A DECIMAL, temporal or binary value inside a document: written as
		// a JSON string of its bytes (MySQL prints these as strings too).
		if err := need(data, 1); err != nil {
			return err
		}
		l, n, err := varLen(data[1:])
		if err != nil {
			return err
		}
		if 1+n+l > len(data) {
			return errShort
		}
		sb, _ := json.Marshal(string(data[1+n : 1+n+l]))
		buf.Write(sb)
	default:
		return fmt.Errorf("unknown type %d", t)
	}
	return nil
}

// varLen reads binary JSON's variable-length length (7 bits a byte).
func varLen(b []byte) (int, int, error) {
	l := 0
	for i := 0; i < 5 && i < len(b); i++ {
		l |= int(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return l, i + 1, nil
		}
	}
	return 0, 0, errShort
}
