package fields

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encoding says how a column's Go value is turned into bytes for the
// database, as chosen by a struct tag option.
type Encoding uint8

// The encodings a struct tag can ask for.
const (
	// EncodingNone stores the value with its natural SQL mapping.
	EncodingNone Encoding = iota
	// EncodingJSON stores the value as a JSON document (`sql:",json"`).
	EncodingJSON
	// EncodingBinary stores the value through encoding.BinaryMarshaler or a
	// Marshal/Unmarshal method pair (`sql:",binary"`).
	EncodingBinary
	// EncodingText stores the value through encoding.TextMarshaler
	// (`sql:",string"`).
	EncodingText
)

// String returns the tag option that selects e, or "" for EncodingNone.
func (e Encoding) String() string {
	switch e {
	case EncodingJSON:
		return "json"
	case EncodingBinary:
		return "binary"
	case EncodingText:
		return "string"
	}
	return ""
}

// MaxNameLength is the longest table or column name MySQL accepts.
const MaxNameLength = 64

// Tag is the parsed form of a `sql:"name,option,..."` struct tag.
type Tag struct {
	// Name is the column name; empty means "derive it from the field name".
	Name string
	// Skip is set by `sql:"-"`: the field is not a column.
	Skip bool
	// Primary marks a primary-key column.
	Primary bool
	// Encoding is the json, binary or string option, if any.
	Encoding Encoding
	// ImplicitNull writes the zero value as NULL and reads NULL as the
	// zero value.
	ImplicitNull bool
	// Version marks the optimistic-locking version column of an integer
	// field (`sql:",version"`): see sqlgen's ErrConflict.
	Version bool
	// ReadOnly marks a column that is read but never written
	// (`sql:",readonly"`), such as a generated column.
	ReadOnly bool
}

// ParseTag parses the value of a `sql` struct tag. An empty tag is valid and
// means "a column named after the field, with no options".
func ParseTag(s string) (Tag, error) {
	var t Tag
	if s == "-" {
		t.Skip = true
		return t, nil
	}
	name, opts, hasOpts := strings.Cut(s, ",")
	if name != "" {
		if err := ValidateName(name); err != nil {
			return Tag{}, fmt.Errorf("tag %q: %w", s, err)
		}
		t.Name = name
	}
	for hasOpts {
		var opt string
		opt, opts, hasOpts = strings.Cut(opts, ",")
		switch opt {
		case "primary":
			t.Primary = true
		case "implicitnull":
			t.ImplicitNull = true
		case "version":
			t.Version = true
		case "readonly":
			t.ReadOnly = true
		case "json", "binary", "string":
			enc := EncodingJSON
			if opt == "binary" {
				enc = EncodingBinary
			} else if opt == "string" {
				enc = EncodingText
			}
			if t.Encoding != EncodingNone && t.Encoding != enc {
				return Tag{}, fmt.Errorf("tag %q: options %q and %q cannot be combined: %w", s, t.Encoding, opt, ErrBadTag)
			}
			t.Encoding = enc
		case "":
			return Tag{}, fmt.Errorf("tag %q: empty option: %w", s, ErrBadTag)
		default:
			return Tag{}, fmt.Errorf("tag %q: unknown option %q (known: primary, json, binary, string, implicitnull, version, readonly): %w", s, opt, ErrBadTag)
		}
	}
	if t.Primary && t.ReadOnly {
		return Tag{}, fmt.Errorf("tag %q: a primary-key column cannot be readonly (the key is written by every insert): %w", s, ErrBadTag)
	}
	return t, nil
}

// ValidateName reports whether s can be used as a table or column name.
// Names are letters and digits (of the Basic Multilingual Plane, as MySQL
// requires), '_' and '$', at most [MaxNameLength] characters: anything that would need escaping inside backticks (a
// backtick, a quote, a space, a NUL byte, ...) is refused, so a name can
// never change the shape of a statement.
func ValidateName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name: %w", ErrBadName)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("name %q is not valid UTF-8: %w", s, ErrBadName)
	}
	if n := utf8.RuneCountInString(s); n > MaxNameLength {
		return fmt.Errorf("name %q is %d characters long, more than %d: %w", s, n, MaxNameLength, ErrBadName)
	}
	for _, r := range s {
		if r == '_' || r == '$' || (r < utf8.RuneSelf && (('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))) {
			continue
		}
		// MySQL identifiers may only hold characters of the Basic
		// Multilingual Plane.
		if r >= utf8.RuneSelf && r <= 0xFFFF && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			continue
		}
		return fmt.Errorf("name %q contains %q; only letters, digits, '_' and '$' are allowed: %w", s, r, ErrBadName)
	}
	return nil
}

// ColumnName derives a column name from a Go field name: snake_case, with
// runs of capitals kept whole as one word, and a plural "s" after such a
// run kept with it: OrgID -> org_id, HTTPStatus -> http_status,
// UserIDs -> user_ids.
func ColumnName(field string) string {
	rs := []rune(field)
	var b strings.Builder
	b.Grow(len(field) + 4)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			switch {
			case unicode.IsLower(prev) || unicode.IsDigit(prev):
				b.WriteByte('_')
			case unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && !pluralAcronym(rs, i+1):
				// The last capital of a run starts the next word: HTTPStatus.
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pluralAcronym reports whether rs[i] is an 's' that ends a run of
// capitals (IDs, URLs): it is the last rune or is followed by a capital.
func pluralAcronym(rs []rune, i int) bool {
	return rs[i] == 's' && (i+1 == len(rs) || unicode.IsUpper(rs[i+1]) || unicode.IsDigit(rs[i+1]))
}
