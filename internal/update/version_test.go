package update

import (
	"fmt"
	"testing"
)

// TS-0045 5.6.1.3: a 10 % rollout offers the release to 10 % ± 3 % of 1,000 devices,
// and widening it keeps the devices already in.
func TestRolloutShare(t *testing.T) {
	in10, in50 := 0, 0
	for i := 0; i < 1000; i++ {
		serial := fmt.Sprintf("HRT-%04d-TEST", i)
		a, b := InRollout(serial, "1.1.0", 10), InRollout(serial, "1.1.0", 50)
		if a && !b {
			t.Fatalf("%s left the rollout when it widened", serial)
		}
		if a {
			in10++
		}
		if b {
			in50++
		}
	}
	if in10 < 70 || in10 > 130 {
		t.Fatalf("10%% rollout reached %d of 1000 devices", in10)
	}
	if in50 < 470 || in50 > 530 {
		t.Fatalf("50%% rollout reached %d of 1000 devices", in50)
	}
	if InRollout("x", "1.1.0", 0) || !InRollout("x", "1.1.0", 100) {
		t.Fatal("0 % or 100 % wrong")
	}
}
