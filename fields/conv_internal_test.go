package fields

import (
	"strings"
	"testing"
)

// TestConvFuncsComplete checks that every conversion has its scan and
// value functions and a name: a conversion added without them would
// panic on its first value instead of failing here.
func TestConvFuncsComplete(t *testing.T) {
	for c := ConvBool; c <= ConvByteArray; c++ {
		if int(c) >= len(convFuncs) || convFuncs[c].scan == nil || convFuncs[c].value == nil {
			t.Errorf("conversion %v has no scan or value function", c)
		}
		if strings.HasPrefix(c.String(), "Conversion(") {
			t.Errorf("conversion %d has no name", c)
		}
	}
	if got := Conversion(0).String(); got != "Conversion(0)" {
		t.Errorf("Conversion(0).String() = %q", got)
	}
}
