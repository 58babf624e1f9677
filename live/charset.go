package live

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Optional metadata of the character sets (collation ids) of ENUM and SET
// columns.
const (
	optEnumSetDefaultCharset = 10
	optEnumSetColumnCharset  = 11
)

// isCharType reports whether a column of (real) type typ has a character
// set in the table map's charset metadata.
func isCharType(typ byte) bool {
	switch typ {
	case typeString, typeVarString, typeVarchar, typeBlob, typeTinyBlob, typeMediumBlob, typeLongBlob:
		return true
	}
	return false
}

// parseCharsets fills collation ids from a DEFAULT_CHARSET-style field
// (a default, then column/collation pairs) or a COLUMN_CHARSET-style one
// (one collation per column), over the columns for which want is true.
func parseCharsets(v []byte, perColumn bool, want func(i int) bool, out []int) error {
	var idx []int
	for i := range out {
		if want(i) {
			idx = append(idx, i)
		}
	}
	q := 0
	if perColumn {
		for k := 0; q < len(v) && k < len(idx); k++ {
			c, p, err := readLenenc(v, q)
			if err != nil {
				return err
			}
			out[idx[k]] = int(c)
			q = p
		}
		return nil
	}
	def, q, err := readLenenc(v, 0)
	if err != nil {
		return err
	}
	for _, i := range idx {
		out[i] = int(def)
	}
	for q < len(v) {
		k, p, err := readLenenc(v, q)
		if err != nil {
			return err
		}
		c, p, err := readLenenc(v, p)
		if err != nil {
			return err
		}
		if int(k) < len(idx) {
			out[idx[k]] = int(c)
		}
		q = p
	}
	return nil
}

// loadCharsets reads the server's collation ids and their character sets.
func loadCharsets(ctx context.Context, db *sql.DB) (map[int]string, error) {
	m := map[int]string{}
	for _, q := range []string{
		"SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS",
		// MariaDB 10.10+: every collation id, UCA 14.0.0 ones included.
		"SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY",
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			if len(m) > 0 {
				continue // MySQL has no ID there
			}
			return nil, fmt.Errorf("live: Open: reading the collations: %w", err)
		}
		for rows.Next() {
			var id sql.NullInt64
			var cs sql.NullString
			if err := rows.Scan(&id, &cs); err != nil {
				rows.Close()
				return nil, fmt.Errorf("live: Open: reading the collations: %w", err)
			}
			if id.Valid && cs.Valid {
				m[int(id.Int64)] = strings.ToLower(cs.String)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("live: Open: reading the collations: %w", err)
		}
	}
	return m, nil
}

// converter returns how to turn a value of the character set of
// collation id into what a utf8mb4 connection reads: nil when the bytes
// are that already (UTF-8, ASCII, binary), an error for a character set
// the feed does not convert.
func converter(charsets map[int]string, id int) (func([]byte) []byte, error) {
	if id == 0 {
		return nil, nil
	}
	switch cs := charsets[id]; cs {
	case "utf8mb4", "utf8mb3", "utf8", "ascii", "binary":
		return nil, nil
	case "latin1":
		return latin1ToUTF8, nil
	case "":
		return nil, fmt.Errorf("unknown collation id %d", id)
	default:
		return nil, fmt.Errorf("character set %s is not supported by the feed (use utf8mb4, latin1, ascii or binary)", cs)
	}
}

// cp1252 is MySQL's latin1 (Windows-1252) from 0x80 to 0x9f.
var cp1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func latin1ToUTF8(b []byte) []byte {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xa0:
			out = utf8.AppendRune(out, cp1252[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}
