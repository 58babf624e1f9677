package sqlgentest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Point is a column value stored through encoding.BinaryMarshaler (a
// `sql:",binary"` field): X and Y as 8 big-endian bytes.
type Point struct{ X, Y int32 }

// MarshalBinary implements encoding.BinaryMarshaler.
func (p Point) MarshalBinary() ([]byte, error) {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, uint32(p.X))
	binary.BigEndian.PutUint32(b[4:], uint32(p.Y))
	return b, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler; anything but 8
// bytes is an error.
func (p *Point) UnmarshalBinary(b []byte) error {
	if len(b) != 8 {
		return fmt.Errorf("Point: %d bytes, want 8", len(b))
	}
	p.X, p.Y = int32(binary.BigEndian.Uint32(b)), int32(binary.BigEndian.Uint32(b[4:]))
	return nil
}

// Proto has the Marshal/Unmarshal method pair of generated protobuf types
// (a `sql:",binary"` field): "P:" and the payload.
type Proto struct{ Payload string }

// Marshal returns "P:" and the payload.
func (m *Proto) Marshal() ([]byte, error) { return []byte("P:" + m.Payload), nil }

// Unmarshal reads what Marshal writes; anything without the "P:" prefix
// is an error.
func (m *Proto) Unmarshal(b []byte) error {
	if len(b) < 2 || string(b[:2]) != "P:" {
		return errors.New("Proto: bad prefix")
	}
	m.Payload = string(b[2:])
	return nil
}
