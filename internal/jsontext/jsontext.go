// Package jsontext reads JSON text the way the servers compare it: it
// finds duplicate object keys, which MySQL and MariaDB store differently,
// and it writes a canonical form of a document such that two documents
// have the same canonical form exactly when MariaDB's JSON_EQUALS finds
// them equal.
//
// MariaDB 10.11's JSON_EQUALS (checked against the server):
//
//   - ignores white space and the order of object keys;
//   - compares numbers by their exact decimal value: 1, 1.0, 1e0 and
//     10e-1 are equal, 9007199254740993 and 9007199254740992 are not, nor
//     are 1.5 and 1.50000000000000000001;
//   - compares strings and keys by their text as written, escapes
//     included: "\u0041" is not "A", and "\u00E9" is not "\u00e9";
//   - keeps duplicate keys: {"a":1,"a":2} equals {"a":2,"a":1} and
//     neither {"a":2} nor {"a":1}.
//
// MySQL 8 keeps only the last of duplicate keys when it stores a
// document, so the two servers hold different documents for the same
// text: callers refuse such documents (see [DuplicateKey]).
package jsontext

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax is returned for text that is not one JSON value.
var ErrSyntax = errors.New("not a JSON document")

// maxDepth bounds nesting, as encoding/json does (10000).
const maxDepth = 10000

// DuplicateKey returns the first key that appears twice in one object of
// the JSON document b, comparing keys after their escapes are decoded
// (MySQL decodes them, so {"a":1,"\u0061":2} has a duplicate there), and
// whether there is one. b must be valid JSON (json.Valid); on text that
// is not, the answer is false.
func DuplicateKey(b []byte) (string, bool) {
	p := parser{b: b}
	p.space()
	if err := p.value(nil, 0); err != nil {
		var d *dupError
		if errors.As(err, &d) {
			return d.key, true
		}
	}
	return "", false
}

// Canonical returns the canonical form of the JSON document b: white
// space removed, object keys sorted by their text, numbers written as
// their exact decimal value ("1e0" for 1, 1.0 and 10e-1; "0" for any
// zero), strings and keys as written. A document with a duplicate key is
// an error wrapping [ErrDuplicateKey]; text that is not one JSON value,
// one wrapping [ErrSyntax].
func Canonical(b []byte) (string, error) {
	p := parser{b: b}
	var out strings.Builder
	out.Grow(len(b))
	p.space()
	if err := p.value(&out, 0); err != nil {
		return "", err
	}
	p.space()
	if p.i != len(p.b) {
		return "", p.syntax("data after the document")
	}
	return out.String(), nil
}

// ErrDuplicateKey is wrapped by the error of [Canonical] for a document
// with a key twice in one object.
var ErrDuplicateKey = errors.New("duplicate object key")

type dupError struct{ key string }

func (e *dupError) Error() string { return fmt.Sprintf("key %q appears twice in one object", e.key) }
func (e *dupError) Unwrap() error { return ErrDuplicateKey }

type parser struct {
	b []byte
	i int
}

func (p *parser) syntax(what string) error {
	return fmt.Errorf("%s at byte %d: %w", what, p.i, ErrSyntax)
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads one value, writing its canonical form to out when out is
// not nil.
func (p *parser) value(out *strings.Builder, depth int) error {
	if depth > maxDepth {
		return p.syntax("nesting too deep")
	}
	if p.i >= len(p.b) {
		return p.syntax("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(out, depth)
	case c == '[':
		return p.array(out, depth)
	case c == '"':
		raw, err := p.str()
		if err != nil {
			return err
		}
		if out != nil {
			out.WriteByte('"')
			out.Write(raw)
			out.WriteByte('"')
		}
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number(out)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				if out != nil {
					out.WriteString(lit)
				}
				return nil
			}
		}
		return p.syntax("unexpected character")
	}
}

// array reads an array, at its '['.
func (p *parser) array(out *strings.Builder, depth int) error {
	p.i++
	if out != nil {
		out.WriteByte('[')
	}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		if out != nil {
			out.WriteByte(']')
		}
		return nil
	}
	for n := 0; ; n++ {
		if n > 0 && out != nil {
			out.WriteByte(',')
		}
		p.space()
		if err := p.value(out, depth+1); err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.b) {
			return p.syntax("unexpected end in an array")
		}
		if p.b[p.i] == ']' {
			p.i++
			if out != nil {
				out.WriteByte(']')
			}
			return nil
		}
		if p.b[p.i] != ',' {
			return p.syntax("expected , or ] in an array")
		}
		p.i++
	}
}

type member struct {
	raw []byte // the key as written, without quotes
	val string // canonical value, when writing
}

func (p *parser) object(out *strings.Builder, depth int) error {
	p.i++ // {
	var arr [8]member
	members := arr[:0]
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		if out != nil {
			out.WriteString("{}")
		}
		return nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return p.syntax("expected a key")
		}
		raw, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.syntax("expected :")
		}
		p.i++
		p.space()
		m := member{raw: raw}
		if out != nil {
			var sub strings.Builder
			if err := p.value(&sub, depth+1); err != nil {
				return err
			}
			m.val = sub.String()
		} else if err := p.value(nil, depth+1); err != nil {
			return err
		}
		members = append(members, m)
		p.space()
		if p.i >= len(p.b) {
			return p.syntax("unexpected end in an object")
		}
		if p.b[p.i] == '}' {
			p.i++
			break
		}
		if p.b[p.i] != ',' {
			return p.syntax("expected , or } in an object")
		}
		p.i++
	}
	if k, ok := duplicate(members); ok {
		return &dupError{key: k}
	}
	if out != nil {
		slices.SortFunc(members, func(a, b member) int { return strings.Compare(string(a.raw), string(b.raw)) })
		out.WriteByte('{')
		for i, m := range members {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteByte('"')
			out.Write(m.raw)
			out.WriteString(`":`)
			out.WriteString(m.val)
		}
		out.WriteByte('}')
	}
	return nil
}

// duplicate returns a key that two members share, decoded.
func duplicate(members []member) (string, bool) {
	if len(members) < 2 {
		return "", false
	}
	escaped := false
	for _, m := range members {
		if slices.Contains(m.raw, '\\') {
			escaped = true
			break
		}
	}
	if !escaped && len(members) <= 8 {
		for i := range members {
			for j := i + 1; j < len(members); j++ {
				if string(members[i].raw) == string(members[j].raw) {
					return string(members[i].raw), true
				}
			}
		}
		return "", false
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = unescape(m.raw)
	}
	slices.Sort(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			return keys[i], true
		}
	}
	return "", false
}

// str reads a string and returns its text between the quotes, as written.
func (p *parser) str() ([]byte, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			return raw, nil
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return nil, p.syntax("unexpected end in a string")
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.b) || !isHex4(p.b[p.i+2:p.i+6]) {
					return nil, p.syntax("bad \\u escape")
				}
				p.i += 6
			default:
				return nil, p.syntax("bad escape")
			}
		case c < 0x20:
			return nil, p.syntax("control character in a string")
		default:
			p.i++
		}
	}
	return nil, p.syntax("unexpected end in a string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// unescape decodes the escapes of a string's raw text (checked by str).
// A lone surrogate becomes U+FFFD, as in encoding/json.
func unescape(raw []byte) string {
	if !slices.Contains(raw, '\\') {
		return string(raw)
	}
	var b strings.Builder
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := hex4(raw[i+2 : i+6]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						b.WriteRune(utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
			continue
		default: // " \ /
			b.WriteByte(raw[i+1])
		}
		i += 2
	}
	return b.String()
}

// number reads a number and writes its exact decimal value as
// [-]digits"e"exponent, digits without leading or trailing zeros, or "0".
func (p *parser) number(out *strings.Builder) error {
	start := p.i
	neg := false
	if p.b[p.i] == '-' {
		neg = true
		p.i++
	}
	digitsFrom := func() int {
		s := p.i
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
		}
		return p.i - s
	}
	intStart := p.i
	n := digitsFrom()
	if n == 0 || (n > 1 && p.b[intStart] == '0') {
		p.i = start
		return p.syntax("bad number")
	}
	intPart := p.b[intStart:p.i]
	var frac []byte
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		fs := p.i
		if digitsFrom() == 0 {
			return p.syntax("bad number")
		}
		frac = p.b[fs:p.i]
	}
	var expText []byte
	expNeg := false
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			expNeg = p.b[p.i] == '-'
			p.i++
		}
		es := p.i
		if digitsFrom() == 0 {
			return p.syntax("bad number")
		}
		expText = p.b[es:p.i]
	}
	if out == nil {
		return nil
	}
	// digits = intPart+frac, value = digits * 10^(exp - len(frac)).
	digits := make([]byte, 0, len(intPart)+len(frac))
	digits = append(append(digits, intPart...), frac...)
	lead := 0
	for lead < len(digits) && digits[lead] == '0' {
		lead++
	}
	digits = digits[lead:]
	if len(digits) == 0 {
		out.WriteByte('0')
		return nil
	}
	trail := 0
	for trail < len(digits) && digits[len(digits)-1-trail] == '0' {
		trail++
	}
	digits = digits[:len(digits)-trail]
	if neg {
		out.WriteByte('-')
	}
	out.Write(digits)
	out.WriteByte('e')
	// exponent = exp - len(frac) + trail, exactly (big when it must be).
	shift := int64(trail - len(frac))
	if len(expText) <= 15 {
		var e int64
		for _, c := range expText {
			e = e*10 + int64(c-'0')
		}
		if expNeg {
			e = -e
		}
		out.WriteString(strconv.FormatInt(e+shift, 10))
		return nil
	}
	exp, _ := new(big.Int).SetString(string(expText), 10)
	if expNeg {
		exp.Neg(exp)
	}
	out.WriteString(exp.Add(exp, big.NewInt(shift)).String())
	return nil
}
