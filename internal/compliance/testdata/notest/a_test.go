package a

import "testing"

// TS-0045 5.1.2.2: above a helper, not a test.
func lockTwice(t *testing.T) {}

func TestA(t *testing.T) {
	lockTwice(t)
}
