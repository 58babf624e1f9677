package fields

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Codec encodes and decodes the values of JSON columns. The default is
// [JSONCodec], which uses encoding/json; a faster compatible library can be
// plugged in per schema.
//
// Unmarshal receives the driver's own buffer, which is only valid until it
// returns: an implementation must not keep data after returning (the
// encoding/json contract already guarantees that).
//
// A [json.RawMessage] column does not go through the Codec: its bytes are
// the document, checked to be one JSON value in valid UTF-8 and stored as
// they are.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default [Codec], backed by encoding/json.
type JSONCodec struct{}

// Marshal encodes v as json.Marshal does, except that <, > and & in
// strings are written as themselves, not as \u003c, \u003e and \u0026: a
// column is not HTML, and the stored text stays what a person (or
// JSON_EXTRACT) expects. It is what a json.Encoder with SetEscapeHTML(false)
// writes, without the encoder, its buffer and the copy out of it.
func (JSONCodec) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return unescapeHTML(b), nil
}

// Unmarshal calls json.Unmarshal.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// UnmarshalUseNumber is json.Unmarshal with the numbers that go into
// interface values decoded as json.Number, which keeps them exactly (a
// float64 holds integers up to 2^53 only, and 9007199254740993 would come
// back as ...992).
func (JSONCodec) UnmarshalUseNumber(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) != 0 {
		return fmt.Errorf("invalid character %q after top-level value", rest[0])
	}
	return nil
}

// NumberCodec is implemented by a [Codec] that can decode JSON numbers
// into interface values exactly, as json.Number (encoding/json's
// Decoder.UseNumber). A JSON column whose Go type holds an interface
// somewhere (any, map[string]any, []any, a struct with an any field) is
// decoded with UnmarshalUseNumber when the schema's codec has it, as
// [JSONCodec] does: such a column's numbers read as json.Number, and are
// written back as the same text. A codec without it decodes them its own
// way (encoding/json's is float64, which changes integers above 2^53).
type NumberCodec interface {
	UnmarshalUseNumber(data []byte, v any) error
}

// unescapeHTML rewrites in place the \u003c, \u003e and \u0026 escapes of
// the JSON document b, which json.Marshal writes for <, > and &, and
// returns the shortened document. Every other escape is kept. A backslash
// in json.Marshal's output always starts an escape (there is none outside
// strings), so reading escapes as pairs from the first backslash never
// mistakes an escaped backslash followed by "u0026" for an escape.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	w := bytes.IndexByte(b, '\\')
	for r := w; r < len(b); {
		c := b[r]
		if c != '\\' || r+1 == len(b) {
			b[w] = c
			w++
			r++
			continue
		}
		if b[r+1] == 'u' && r+6 <= len(b) && b[r+2] == '0' && b[r+3] == '0' {
			var plain byte
			switch string(b[r+4 : r+6]) {
			case "3c":
				plain = '<'
			case "3e":
				plain = '>'
			case "26":
				plain = '&'
			}
			if plain != 0 {
				b[w] = plain
				w++
				r += 6
				continue
			}
		}
		b[w], b[w+1] = c, b[r+1] // any other escape, kept as it is
		w += 2
		r += 2
	}
	return b[:w]
}
