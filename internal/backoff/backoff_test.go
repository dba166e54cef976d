package backoff

import (
	"testing"
	"time"
)

func TestCeilingGrowsAndCaps(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Minute}
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for n, w := range want {
		if got := p.Ceiling(n); got != w {
			t.Errorf("Ceiling(%d) = %v, want %v", n, got, w)
		}
	}
	if got := p.Ceiling(1 << 20); got != time.Minute {
		t.Errorf("Ceiling(huge) = %v", got)
	}
}

// TestDelayIsSpreadOverTheWindow checks full jitter: delays cover the whole window
// roughly uniformly rather than clustering at its end.
func TestDelayIsSpreadOverTheWindow(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Minute}
	const n = 10000
	var buckets [10]int
	for range n {
		d := p.Delay(10)
		if d < 0 || d > time.Minute {
			t.Fatalf("delay %v outside [0, 1m]", d)
		}
		buckets[min(int(d*10/time.Minute), 9)]++
	}
	for i, b := range buckets {
		if b < n/10*7/10 || b > n/10*13/10 {
			t.Errorf("bucket %d holds %d of %d delays; want about %d", i, b, n, n/10)
		}
	}
}

func TestDefaults(t *testing.T) {
	var p Policy
	if p.Ceiling(1) != time.Second || p.Ceiling(100) != 5*time.Minute {
		t.Fatalf("defaults: %v %v", p.Ceiling(1), p.Ceiling(100))
	}
}
