package fields_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-b2691315/sqlgen/fields"
)

// parseTagCase is one ParseTag example. It is shared with FuzzParseTag,
// which uses the tags as its seed corpus.
type parseTagCase struct {
	tag     string
	want    fields.Tag
	wantErr error // a sentinel the error must wrap; nil means success
	// mention, if set, must appear in the error message (the tag itself,
	// or the offending option).
	mention string
}

var parseTagCases = []parseTagCase{
	// Valid tags.
	{tag: "", want: fields.Tag{}},
	{tag: "-", want: fields.Tag{Skip: true}},
	{tag: "name", want: fields.Tag{Name: "name"}},
	{tag: "org_id", want: fields.Tag{Name: "org_id"}},
	{tag: ",primary", want: fields.Tag{Primary: true}},
	{tag: ",json", want: fields.Tag{Encoding: fields.EncodingJSON}},
	{tag: ",binary", want: fields.Tag{Encoding: fields.EncodingBinary}},
	{tag: ",string", want: fields.Tag{Encoding: fields.EncodingText}},
	{tag: ",implicitnull", want: fields.Tag{ImplicitNull: true}},
	{tag: "theme,readonly", want: fields.Tag{Name: "theme", ReadOnly: true}},
	{tag: ",readonly,implicitnull", want: fields.Tag{ReadOnly: true, ImplicitNull: true}},
	{tag: "id,primary", want: fields.Tag{Name: "id", Primary: true}},
	{tag: "data,json,implicitnull", want: fields.Tag{Name: "data", Encoding: fields.EncodingJSON, ImplicitNull: true}},
	{tag: ",primary,implicitnull", want: fields.Tag{Primary: true, ImplicitNull: true}},
	{tag: "k,primary,string", want: fields.Tag{Name: "k", Primary: true, Encoding: fields.EncodingText}},
	{tag: ",implicitnull,binary,primary", want: fields.Tag{Primary: true, Encoding: fields.EncodingBinary, ImplicitNull: true}},
	// Repeating the same encoding is not a conflict.
	{tag: ",json,json", want: fields.Tag{Encoding: fields.EncodingJSON}},
	{tag: ",primary,primary", want: fields.Tag{Primary: true}},
	// Names: letters (any script), digits, '_' and '$'; 64 characters.
	{tag: "$col", want: fields.Tag{Name: "$col"}},
	{tag: "1col", want: fields.Tag{Name: "1col"}},
	{tag: "prénom", want: fields.Tag{Name: "prénom"}},
	{tag: "名前,primary", want: fields.Tag{Name: "名前", Primary: true}},
	{tag: "Größe", want: fields.Tag{Name: "Größe"}},
	{tag: "٣x", want: fields.Tag{Name: "٣x"}}, // an Arabic-Indic digit is a digit
	{tag: strings.Repeat("a", 64), want: fields.Tag{Name: strings.Repeat("a", 64)}},
	// 64 characters but 128 bytes: the limit counts characters.
	{tag: strings.Repeat("é", 64), want: fields.Tag{Name: strings.Repeat("é", 64)}},

	// Conflicting encodings.
	{tag: ",json,binary", wantErr: fields.ErrBadTag, mention: ",json,binary"},
	{tag: ",binary,json", wantErr: fields.ErrBadTag, mention: ",binary,json"},
	{tag: ",binary,string", wantErr: fields.ErrBadTag, mention: "string"},
	{tag: "x,string,json", wantErr: fields.ErrBadTag, mention: "json"},
	{tag: ",json,primary,string", wantErr: fields.ErrBadTag, mention: "string"},
	// A key column is written by every insert.
	{tag: "id,primary,readonly", wantErr: fields.ErrBadTag, mention: "readonly"},
	{tag: ",readonly,primary", wantErr: fields.ErrBadTag, mention: "readonly"},
	// '.' and '[' start a JSON path in a Filter key: never in a name.
	{tag: "a.b", wantErr: fields.ErrBadName, mention: "a.b"},
	{tag: "a[0]", wantErr: fields.ErrBadName, mention: "a[0]"},
	// Unknown options; matching is case-sensitive and spaces are not trimmed.
	{tag: ",unknown", wantErr: fields.ErrBadTag, mention: "unknown"},
	{tag: "id,primarykey", wantErr: fields.ErrBadTag, mention: "primarykey"},
	{tag: ",JSON", wantErr: fields.ErrBadTag, mention: "JSON"},
	{tag: ",omitempty", wantErr: fields.ErrBadTag, mention: "omitempty"},
	{tag: "id, primary", wantErr: fields.ErrBadTag, mention: " primary"},
	{tag: ",-", wantErr: fields.ErrBadTag, mention: "-"},
	// Empty options.
	{tag: ",", wantErr: fields.ErrBadTag, mention: "empty option"},
	{tag: "name,", wantErr: fields.ErrBadTag, mention: "empty option"},
	{tag: ",,json", wantErr: fields.ErrBadTag, mention: "empty option"},
	{tag: ",json,", wantErr: fields.ErrBadTag, mention: "empty option"},
	{tag: ",json,,primary", wantErr: fields.ErrBadTag, mention: "empty option"},
	// "-" only skips on its own; as a name it is invalid.
	{tag: "-,", wantErr: fields.ErrBadName, mention: `"-"`},
	{tag: "-,json", wantErr: fields.ErrBadName, mention: `"-"`},
	// Names that would need escaping.
	{tag: "a`b", wantErr: fields.ErrBadName, mention: "a`b"},
	{tag: "`", wantErr: fields.ErrBadName},
	{tag: "a'b", wantErr: fields.ErrBadName},
	{tag: `a"b`, wantErr: fields.ErrBadName},
	{tag: "a b", wantErr: fields.ErrBadName},
	{tag: " ", wantErr: fields.ErrBadName},
	{tag: "a\tb", wantErr: fields.ErrBadName},
	{tag: "a\nb", wantErr: fields.ErrBadName},
	{tag: "a\x00b", wantErr: fields.ErrBadName},
	{tag: "a;b", wantErr: fields.ErrBadName},
	{tag: "a;DROP TABLE x", wantErr: fields.ErrBadName},
	{tag: "a-b", wantErr: fields.ErrBadName},
	{tag: "a.b", wantErr: fields.ErrBadName},
	{tag: "a\\b", wantErr: fields.ErrBadName},
	{tag: "a/*b*/", wantErr: fields.ErrBadName},
	{tag: "a\u00a0b", wantErr: fields.ErrBadName}, // no-break space
	{tag: "a\u3000b", wantErr: fields.ErrBadName}, // ideographic space
	{tag: "a\u200bb", wantErr: fields.ErrBadName}, // zero-width space
	{tag: "a\uff40b", wantErr: fields.ErrBadName}, // fullwidth grave accent
	{tag: "a\xffb", wantErr: fields.ErrBadName},   // not UTF-8
	{tag: strings.Repeat("a", 65), wantErr: fields.ErrBadName, mention: "65"},
	{tag: strings.Repeat("é", 65) + ",json", wantErr: fields.ErrBadName, mention: "65"},
}

func TestParseTag(t *testing.T) {
	for _, tc := range parseTagCases {
		t.Run(tc.tag, func(t *testing.T) {
			got, err := fields.ParseTag(tc.tag)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseTag(%q): unexpected error %v", tc.tag, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ParseTag(%q) mismatch (-want +got):\n%s", tc.tag, diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseTag(%q) = %+v, want an error wrapping %v", tc.tag, got, tc.wantErr)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("ParseTag(%q) error %q does not wrap %v", tc.tag, err, tc.wantErr)
			}
			if diff := cmp.Diff(fields.Tag{}, got); diff != "" {
				t.Errorf("ParseTag(%q) returned a non-zero Tag with its error (-want +got):\n%s", tc.tag, diff)
			}
			if tc.mention != "" && !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("ParseTag(%q) error %q does not mention %q", tc.tag, err, tc.mention)
			}
		})
	}
}

// The encodings print as the tag options that select them.
func TestEncodingString(t *testing.T) {
	for enc, want := range map[fields.Encoding]string{
		fields.EncodingNone:   "",
		fields.EncodingJSON:   "json",
		fields.EncodingBinary: "binary",
		fields.EncodingText:   "string",
	} {
		if got := enc.String(); got != want {
			t.Errorf("Encoding(%d).String() = %q, want %q", enc, got, want)
		}
		if want == "" {
			continue
		}
		tag, err := fields.ParseTag("," + want)
		if err != nil || tag.Encoding != enc {
			t.Errorf("ParseTag(%q) = %+v, %v; want Encoding %d", ","+want, tag, err, enc)
		}
	}
}

func TestValidateName(t *testing.T) {
	valid := []string{
		"a", "A", "_", "$", "id", "org_id", "OrgID", "x1", "123", "$x_9",
		"prénom", "名前", "Ärger", "αβγ", "٣",
		strings.Repeat("z", fields.MaxNameLength),
		strings.Repeat("ж", fields.MaxNameLength),
	}
	for _, s := range valid {
		if err := fields.ValidateName(s); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{
		"", "`", "a`b", "a``b", "'", "a'b", `a"b`, " ", "a b", " a", "a ",
		"\x00", "a\x00", "a;b", ";", "a-b", "a.b", "a,b", "a(b)", "a=b", "a?b",
		"a\\b", "a#b", "a--b", "a\rb", "a\u00a0b", "a\u2028b", "a\ufeffb",
		"\xff", "a\xc3", // invalid UTF-8
		strings.Repeat("z", fields.MaxNameLength+1),
		strings.Repeat("ж", fields.MaxNameLength+1),
		// MySQL and MariaDB refuse characters outside the Basic
		// Multilingual Plane in any identifier, quoted or not ("Invalid
		// utf8mb3 character string", checked on MariaDB 10.11), even when
		// they are letters: MATHEMATICAL SCRIPT CAPITAL A and CJK
		// UNIFIED IDEOGRAPH-20000.
		"\U0001d49c", "tbl\U00020000",
	}
	for _, s := range invalid {
		err := fields.ValidateName(s)
		if err == nil {
			t.Errorf("ValidateName(%q) = nil, want an error", s)
			continue
		}
		if !errors.Is(err, fields.ErrBadName) {
			t.Errorf("ValidateName(%q) = %v, which does not wrap ErrBadName", s, err)
		}
	}
}

func TestColumnName(t *testing.T) {
	// The documented rule: snake_case; a run of capitals is one word (its
	// last capital starts the next word when a lower-case letter follows,
	// as in HTTPStatus); an "s" right after a run of capitals, at the end
	// or before a capital or digit, is a plural kept with the run (UserIDs).
	// A digit ends nothing by itself, but a capital after a digit starts a
	// word.
	tests := map[string]string{
		"":               "",
		"A":              "a",
		"ID":             "id",
		"Id":             "id",
		"Name":           "name",
		"name":           "name",
		"OrgID":          "org_id",
		"UserID":         "user_id",
		"CreatedAt":      "created_at",
		"HTTPStatus":     "http_status",
		"HTTPService":    "http_service",
		"HTTPSServer":    "https_server",
		"APIKey":         "api_key",
		"XMLHTTPRequest": "xmlhttp_request",
		"IDs":            "ids",
		"URLs":           "urls",
		"UserIDs":        "user_ids",
		"HTTPServerURLs": "http_server_urls",
		"IDsCount":       "ids_count",
		"UserIDsSorted":  "user_ids_sorted",
		"URLsByID":       "urls_by_id",
		"IDs2":           "ids2",
		"CPUs2":          "cpus2",
		"MyHTTPs":        "my_https",
		"V2API":          "v2_api",
		"Address2":       "address2",
		"Line2Text":      "line2_text",
		"HTTP2Server":    "http2_server",
		"MP3Player":      "mp3_player",
		"A1B2":           "a1_b2",
		"IDSet":          "id_set",
		"ASlice":         "a_slice",
		"Already_snake":  "already_snake",
		"X_Y":            "x_y",
		"ÄrgerÜber":      "ärger_über",
		"Größe":          "größe",
		"NaïveΔelta":     "naïve_δelta",
	}
	for field, want := range tests {
		got := fields.ColumnName(field)
		if got != want {
			t.Errorf("ColumnName(%q) = %q, want %q", field, got, want)
		}
		if field != "" {
			if err := fields.ValidateName(got); err != nil {
				t.Errorf("ColumnName(%q) = %q, which is not a valid name: %v", field, got, err)
			}
		}
	}
}
