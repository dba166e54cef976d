package vuln

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// seeded is a deterministic random source for ids and tokens.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

func newStore(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)} // a Friday
	s, err := Open(Config{VendorDir: t.TempDir(), Now: clk.Now, Rand: seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

var goodSub = Submission{Title: "Session fixation", Description: "Steps:\n\t1. log in", Product: "HG-100",
	Version: "1.2.0", CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Contact: "researcher@example.org"}

// TS-0045 5.2.1.1, 5.2.1.2: triage within working days, fix deadlines by severity.
func TestAckDeadlineSkipsWeekends(t *testing.T) {
	p := DefaultPolicy()
	fri := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	if got, want := p.AckDeadline(fri), time.Date(2026, 3, 13, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("ack deadline from Friday = %v, want %v", got, want)
	}
	if got := p.FixDeadline(fri, Critical); !got.Equal(fri.AddDate(0, 0, 7)) {
		t.Fatalf("critical fix deadline = %v", got)
	}
	if got := p.FixDeadline(fri, ""); !got.Equal(fri.AddDate(0, 0, p.FixDays[High])) {
		t.Fatalf("unscored fix deadline = %v, want the high one", got)
	}
}

// TS-0045 5.2.1.2: the risk level comes from a CVSS v3.1 or v4.0 vector.
func TestParseCVSS(t *testing.T) {
	for _, tc := range []struct {
		in    string
		ver   string
		score float64
		sev   Severity
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8, Critical},
		{"CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "3.1", 1.8, Low},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, Critical},
	} {
		c, err := ParseCVSS(tc.in)
		if err != nil || c.Version != tc.ver || c.Score != tc.score || c.Severity != tc.sev {
			t.Errorf("ParseCVSS(%q) = %+v, %v", tc.in, c, err)
		}
	}
	for _, bad := range []string{"", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N",
		"CVSS:4.0/AV:X", "CVSS:3.1/" + strings.Repeat("A", 600), "AV:N/AC:L"} {
		if _, err := ParseCVSS(bad); !errors.Is(err, ErrCVSS) {
			t.Errorf("ParseCVSS(%q) = %v, want ErrCVSS", bad, err)
		}
	}
}

// TS-0045 5.5.2.1: every field of a report is validated.
func TestValidation(t *testing.T) {
	mod := func(f func(*Submission)) Submission { s := goodSub; f(&s); return s }
	for _, tc := range []struct {
		name  string
		sub   Submission
		field string
	}{
		{"no title", mod(func(s *Submission) { s.Title = "  " }), "title"},
		{"long title", mod(func(s *Submission) { s.Title = strings.Repeat("漏", MaxTitle+1) }), "title"},
		{"newline in title", mod(func(s *Submission) { s.Title = "a\nb" }), "title"},
		{"NUL in description", mod(func(s *Submission) { s.Description = "a\x00b" }), "description"},
		{"escape in description", mod(func(s *Submission) { s.Description = "a\x1b[2Jb" }), "description"},
		{"long description", mod(func(s *Submission) { s.Description = strings.Repeat("x", MaxDescription+1) }), "description"},
		{"invalid UTF-8", mod(func(s *Submission) { s.Product = "\xff" }), "product"},
		{"no product", mod(func(s *Submission) { s.Product = "" }), "product"},
		{"bad cvss", mod(func(s *Submission) { s.CVSS = "CVSS:3.1/AV:Q" }), "cvss"},
		{"named contact", mod(func(s *Submission) { s.Contact = "Eve <eve@example.org>" }), "contact"},
		{"not an address", mod(func(s *Submission) { s.Contact = "eve" }), "contact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sub.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("Validate = %v, want an error on %s", err, tc.field)
			}
		})
	}
	s := mod(func(s *Submission) { s.Description = strings.Repeat("漏", MaxDescription) })
	if err := s.Validate(); err != nil {
		t.Fatalf("20,000 characters (60,000 bytes) refused: %v", err)
	}
}

func TestDecodeSubmission(t *testing.T) {
	if _, err := DecodeSubmission([]byte(`{"title":"t","description":"d","product":"p"}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"title":"t","description":"d","product":"p","admin":true}`, `[]`, `{}{}`,
		`{"title":1}`, "{\"title\":\"\xff\"}", `{"title":"t","description":"d","product":"p"} x`} {
		if _, err := DecodeSubmission([]byte(bad)); err == nil {
			t.Errorf("DecodeSubmission(%q) accepted", bad)
		}
	}
	if _, err := DecodeSubmission(bytes.Repeat([]byte(" "), MaxBody+1)); err == nil {
		t.Error("oversized body accepted")
	}
}

// TS-0045 5.2.1.1: acknowledgement and status updates to the reporter, by state.
// The workflow: intake, acknowledgement, valid and invalid transitions, history and
// mail, token checks.
func TestWorkflow(t *testing.T) {
	s, clk := newStore(t)
	r, token, err := s.Submit(goodSub, "api")
	if err != nil {
		t.Fatal(err)
	}
	if !validID(r.ID) || !ValidToken(token) || r.State != Received || r.CVSS == nil || r.CVSS.Severity != Critical {
		t.Fatalf("submitted report %+v token %q", r, token)
	}
	b, _ := os.ReadFile(filepath.Join(s.cfg.VendorDir, Dir, r.ID+".json"))
	if bytes.Contains(b, []byte(token)) {
		t.Fatal("the token is stored in the clear")
	}
	if _, err := s.Status(r.ID, token); err != nil {
		t.Fatalf("status with the token: %v", err)
	}
	other := token[:42] + string("AB"[(strings.IndexByte("A", token[42])+1)%2])
	for _, tok := range []string{"", other, strings.Repeat("A", 43)} {
		if _, err := s.Status(r.ID, tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("status with token %q: %v", tok, err)
		}
	}
	if _, err := s.Status("../../etc/passwd", token); !errors.Is(err, ErrNotFound) {
		t.Error("path as id accepted")
	}
	if _, err := s.SetState(r.ID, Fixed, "too early"); !errors.Is(err, ErrTransition) {
		t.Fatalf("received -> fixed: %v", err)
	}
	for _, st := range []State{Triaged, Fixing, Fixed, Disclosed} {
		clk.t = clk.t.Add(24 * time.Hour)
		if r, err = s.SetState(r.ID, st, "now "+string(st)); err != nil {
			t.Fatalf("to %s: %v", st, err)
		}
	}
	if _, err := s.SetState(r.ID, Rejected, ""); !errors.Is(err, ErrTransition) {
		t.Fatalf("disclosed -> rejected: %v", err)
	}
	if r.State != Disclosed || len(r.History) != 5 || r.History[4].Note != "now disclosed" {
		t.Fatalf("history: %+v", r.History)
	}
	mail, err := s.Outbox()
	if err != nil || len(mail) != 5 || mail[0].To != goodSub.Contact || !strings.Contains(mail[4].Body, "now disclosed") {
		t.Fatalf("outbox: %+v, %v", mail, err)
	}
	// CVSS assessment by the vendor.
	r2, _, err := s.Submit(Submission{Title: "t", Description: "d", Product: "p"}, "web")
	if err != nil {
		t.Fatal(err)
	}
	if r2, err = s.SetCVSS(r2.ID, "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", ""); err != nil || r2.Severity() != Low {
		t.Fatalf("set-cvss: %+v %v", r2, err)
	}
	if _, err := s.SetCVSS(r2.ID, "nope", ""); err == nil {
		t.Fatal("bad vector accepted")
	}
	if mail, _ := s.Outbox(); len(mail) != 5 {
		t.Fatalf("mail queued for a report without contact: %d", len(mail))
	}
}

// TS-0045 5.5.2.1: the reports awaiting triage are bounded.
func TestPendingBound(t *testing.T) {
	s, _ := newStore(t)
	s.cfg.Policy.MaxPending = 2
	for i := range 2 {
		if _, _, err := s.Submit(goodSub, "api"); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, _, err := s.Submit(goodSub, "api"); !errors.Is(err, ErrFull) {
		t.Fatalf("third pending report: %v", err)
	}
}

// TS-0045 5.2.1.2: reports past their deadlines are found.
func TestOverdue(t *testing.T) {
	s, clk := newStore(t)
	start := clk.t
	r, _, _ := s.Submit(goodSub, "api") // critical: fix in 7 days
	kinds := func(at time.Time) string {
		rs, _ := s.List()
		var k []string
		for _, f := range s.Policy().Overdue(rs, at) {
			k = append(k, f.Kind)
		}
		return strings.Join(k, ",")
	}
	if got := kinds(start.AddDate(0, 0, 2)); got != "" {
		t.Fatalf("after 2 days: %q", got)
	}
	if got := kinds(start.AddDate(0, 0, 8)); got != "ack,fix" {
		t.Fatalf("after 8 days: %q", got)
	}
	clk.t = start.AddDate(0, 0, 1)
	s.SetState(r.ID, Triaged, "confirmed")
	if got := kinds(start.AddDate(0, 0, 6)); got != "" {
		t.Fatalf("triaged, after 6 days: %q", got)
	}
	if got := kinds(start.AddDate(0, 0, 16)); got != "fix,update" {
		t.Fatalf("triaged, after 16 days: %q", got)
	}
	if got := kinds(start.AddDate(0, 0, 91)); got != "fix,update,disclose" {
		t.Fatalf("triaged, after 91 days: %q", got)
	}
}

// TS-0045 5.5.2.1: anonymous intake is rate limited per network.
func TestLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	l := NewLimiter(5)
	l.Now = clk.Now
	a := netip.MustParseAddr("2001:db8:1:2::1")
	sameNet := netip.MustParseAddr("2001:db8:1:2:ffff::9")
	for i := range 5 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("report %d refused", i+1)
		}
	}
	ok, wait := l.Allow(sameNet)
	if ok || wait <= 0 || wait > 13*time.Minute {
		t.Fatalf("sixth report from the same /64: %v, retry after %v", ok, wait)
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:3::1")); !ok {
		t.Fatal("another /64 refused")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.1")); !ok {
		t.Fatal("an IPv4 address refused")
	}
	clk.t = clk.t.Add(12 * time.Minute)
	if ok, _ := l.Allow(a); !ok {
		t.Fatal("refused after refill")
	}
	// A bounded table: when full of busy networks, new ones wait.
	l2 := NewLimiter(1)
	l2.Now, l2.MaxNets = clk.Now, 2
	l2.Allow(netip.MustParseAddr("192.0.2.1"))
	l2.Allow(netip.MustParseAddr("192.0.2.2"))
	if ok, _ := l2.Allow(netip.MustParseAddr("192.0.2.3")); ok || len(l2.networks) != 2 {
		t.Fatal("table grew past its bound")
	}
}

// TS-0045 5.2.1.1: the contact is published in security.txt.
func TestSecurityTxt(t *testing.T) {
	now := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	txt := DefaultPolicy().SecurityTxt(now)
	for _, want := range []string{"Contact: mailto:security@hearth.example\n", "Contact: https://cloud.hearth.example/security/report\n",
		"Expires: 2026-09-02T10:00:00Z\n", "Policy: https://", "Preferred-Languages: zh-TW, en\n", "Canonical: https://cloud.hearth.example/.well-known/security.txt\n"} {
		if !strings.Contains(txt, want) {
			t.Errorf("security.txt lacks %q:\n%s", want, txt)
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	v := t.TempDir()
	os.MkdirAll(filepath.Join(v, Dir), 0o700)
	if p, err := LoadPolicy(v); err != nil || p.AckWorkingDays != 5 {
		t.Fatal(p, err)
	}
	os.WriteFile(filepath.Join(v, PolicyFile), []byte(`{"email":"psirt@vendor.example","public_url":"https://vendor.example"}`), 0o600)
	if p, err := LoadPolicy(v); err != nil || p.Email != "psirt@vendor.example" || p.FixDays[Critical] != 7 {
		t.Fatal(p, err)
	}
	for _, bad := range []string{`{"public_url":"http://x"}`, `{"emial":"x"}`, `{"expires_days":400}`, `{"fix_days":{"critical":0}}`, `{"unscored_severity":"urgent"}`} {
		os.WriteFile(filepath.Join(v, PolicyFile), []byte(bad), 0o600)
		if _, err := LoadPolicy(v); err == nil {
			t.Errorf("policy %s accepted", bad)
		}
	}
}

// TS-0045 5.2.1.1, 5.2.1.2, 5.2.1.3: the published policy states the enforced numbers.
// The published policy states the policy's numbers, in both languages.
func TestDisclosureDocMatchesPolicy(t *testing.T) {
	b, err := os.ReadFile("../../docs/VULNERABILITY-DISCLOSURE.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	p := DefaultPolicy()
	for _, want := range []string{
		strconvI(p.AckWorkingDays) + " working days", strconvI(p.AckWorkingDays) + " 個工作天",
		"at least every " + strconvI(p.UpdateDays) + " days", "至少每 " + strconvI(p.UpdateDays) + " 天",
		strconvI(p.DisclosureDays) + " days", strconvI(p.DisclosureDays) + " 天",
		strconvI(p.ExploitedDisclosureDays) + " days", p.Email,
		"| critical | " + strconvI(p.FixDays[Critical]) + " |", "| high | " + strconvI(p.FixDays[High]) + " |",
		"| medium | " + strconvI(p.FixDays[Medium]) + " |", "| low | " + strconvI(p.FixDays[Low]) + " |",
		"| 嚴重 | " + strconvI(p.FixDays[Critical]) + " |", "| 高 | " + strconvI(p.FixDays[High]) + " |",
		"| 中 | " + strconvI(p.FixDays[Medium]) + " |", "| 低 | " + strconvI(p.FixDays[Low]) + " |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/VULNERABILITY-DISCLOSURE.md does not state %q", want)
		}
	}
}

func strconvI(n int) string { return strconv.Itoa(n) }

// TS-0045 5.3.1.13: each model has a published support end.
func TestSupportPeriods(t *testing.T) {
	v := t.TempDir()
	if ms, err := SupportPeriods(v); err != nil || len(ms) != 0 {
		t.Fatal(ms, err)
	}
	os.MkdirAll(filepath.Join(v, "devices"), 0o700)
	os.WriteFile(filepath.Join(v, "devices", "a.json"), []byte(`{"model":"HG-100","provisioned_at":"2026-01-02T00:00:00Z"}`), 0o600)
	os.WriteFile(filepath.Join(v, "devices", "b.json"), []byte(`{"model":"HG-100","provisioned_at":"2026-05-02T00:00:00Z"}`), 0o600)
	if ms, err := SupportPeriods(v); err != nil || len(ms) != 1 || ms[0].SupportEnd != "2031-05-02" {
		t.Fatal(ms, err)
	}
	os.WriteFile(filepath.Join(v, ModelsFile), []byte(`[{"model":"HG-200","name":"Hub","support_end":"2032-12-31"}]`), 0o600)
	if ms, err := SupportPeriods(v); err != nil || len(ms) != 1 || ms[0].Model != "HG-200" {
		t.Fatal(ms, err)
	}
	os.WriteFile(filepath.Join(v, ModelsFile), []byte(`[{"model":"HG-200","support_end":"soon"}]`), 0o600)
	if _, err := SupportPeriods(v); err == nil {
		t.Fatal("bad date accepted")
	}
}

// TS-0045 5.2.2.9: the secure development document names only what exists.
// Every file and directory the secure development document names exists, so the
// document cannot describe practices the repository does not have.
func TestSecureDevelopmentDocPaths(t *testing.T) {
	b, err := os.ReadFile("../../docs/SECURE-DEVELOPMENT.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range regexp.MustCompile("`([A-Za-z0-9_.][A-Za-z0-9_./*-]*)`").FindAllStringSubmatch(string(b), -1) {
		p := m[1]
		if !strings.Contains(p, "/") && !strings.HasSuffix(p, ".md") && !strings.HasPrefix(p, ".") || strings.HasPrefix(p, "golang.org") || p == "html/template" {
			continue
		}
		matches, _ := filepath.Glob(filepath.Join("../..", p))
		if len(matches) == 0 {
			t.Errorf("docs/SECURE-DEVELOPMENT.md names %s, which does not exist", p)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d paths checked", n)
	}
}
