package root

import "testing"

// TS-0045 5.5.1.1
func TestBoot(t *testing.T) {
	if !Boot {
		t.Fatal("no boot")
	}
}
