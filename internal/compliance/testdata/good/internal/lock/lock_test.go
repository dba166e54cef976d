package lock

import "testing"

// TS-0045 5.1.2.2: directly above.
func TestLock(t *testing.T) {
	// TS-0045 5.1.1.1: inside.
	Lock()
}

func TestInside(t *testing.T) {
	t.Run("sub", func(t *testing.T) {
		// TS-0045 5.3.1.14-15
	})
}

// TS-0045 5.1.1.2
func FuzzLock(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {})
}

// TS-0045 5.1.1.2
func BenchmarkLock(b *testing.B) {
	for b.Loop() {
		Lock()
	}
}

// TS-0045 5.1.2.2: a test that cites an item twice is listed once.
func TestLockTwice(t *testing.T) {
	// TS-0045 5.1.2.2
}
