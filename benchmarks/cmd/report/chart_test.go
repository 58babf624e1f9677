package main

import "testing"

// Every library of the report has a colour of its own.
func TestLibColors(t *testing.T) {
	seen := map[any]string{}
	for _, lib := range libOrder {
		c := libColor(lib)
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share a colour", lib, other)
		}
		seen[c] = lib
	}
}
