package update

import (
	"fmt"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, ok := range []string{"0.0.0", "1.2.3", "10.20.30"} {
		if v, err := ParseVersion(ok); err != nil || v.String() != ok {
			t.Errorf("ParseVersion(%q) = %v, %v", ok, v, err)
		}
	}
	for _, bad := range []string{"", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.-2.3", "1.2.x", "1.2.3-rc1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
	a, _ := ParseVersion("1.10.0")
	b, _ := ParseVersion("1.9.9")
	if a.Compare(b) != 1 || b.Compare(a) != -1 || a.Compare(a) != 0 {
		t.Fatal("semantic order wrong")
	}
}

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

func FuzzParseVersion(f *testing.F) {
	f.Add("1.2.3")
	f.Add("1.2")
	f.Add("99999999999999999999.0.0")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err == nil && v.String() != s {
			t.Fatalf("%q parsed to %v", s, v)
		}
	})
}
