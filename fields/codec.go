package fields

import "encoding/json"

// Codec encodes and decodes the values of JSON columns. The default is
// [JSONCodec], which uses encoding/json; a faster compatible library can be
// plugged in per schema.
//
// Unmarshal receives the driver's own buffer, which is only valid until it
// returns: an implementation must not keep data after returning (the
// encoding/json contract already guarantees that).
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default [Codec], backed by encoding/json.
type JSONCodec struct{}

// Marshal calls json.Marshal.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal calls json.Unmarshal.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
