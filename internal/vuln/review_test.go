package vuln

import (
	"strings"
	"testing"
	"time"
)

// TS-0045 5.4.2.2: the review lists every known report with its state, and a critical
// report past its fix deadline blocks the release unless the risk is accepted in writing.
func TestReviewBlocksOnOverdueCritical(t *testing.T) {
	s, clk := newStore(t)
	crit, _, err := s.Submit(goodSub, "web") // CVSS 9.8: critical
	if err != nil {
		t.Fatal(err)
	}
	low := goodSub
	low.Title, low.CVSS = "Banner | shows *version*", "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
	lr, _, err := s.Submit(low, "api")
	if err != nil {
		t.Fatal(err)
	}
	fixed := goodSub
	fixed.Title = "Old bug"
	fr, _, err := s.Submit(fixed, "api")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []State{Triaged, Fixing, Fixed} {
		if _, err := s.SetState(fr.ID, st, "done"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.Review("hearthd", "1.1.0", "ab", 10, 42, "Mei Lin", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Decision != "release" || len(r.Open) != 2 || len(r.Fixed) != 1 || len(r.Blocking) != 0 {
		t.Fatalf("within deadlines: %+v", r)
	}
	clk.t = clk.t.Add(8 * 24 * time.Hour) // past the critical fix deadline (7 days)
	r, err = s.Review("hearthd", "1.1.1", "ab", 10, 42, "Mei Lin", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Decision != "blocked" || len(r.Blocking) != 1 || r.Blocking[0].ID != crit.ID {
		t.Fatalf("overdue critical: %+v", r)
	}
	r, _ = s.Review("hearthd", "1.1.1", "ab", 10, 42, "Mei Lin", "mitigated by default configuration; fix in 1.1.2")
	if r.Decision != "release" {
		t.Fatalf("accepted risk: %+v", r)
	}
	md := string(r.Markdown())
	for _, want := range []string{"Risk accepted by the vendor: mitigated", crit.ID, lr.ID, `Banner \| shows \*version\*`, "Reviewer: Mei Lin"} {
		if !strings.Contains(md, want) {
			t.Errorf("record lacks %q:\n%s", want, md)
		}
	}
}
