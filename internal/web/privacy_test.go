package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/internal/api"
	"hearth/internal/privacy"
)

var missingKeyRE = regexp.MustCompile(`\[[a-z_]+\.[a-z_.0-9A-Z-]+\]`)

// TS-0045 5.7.1.3, 5.7.1.12: the privacy page tells, in the viewer's language, every
// kind of data the inventory lists: what it is, why, how long, where, who receives it
// and which consent it needs.
func TestPrivacyPageInBothLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang    string
		text    func(privacy.Text) string
		class   string
		consent string
	}{
		{"zh-TW", func(x privacy.Text) string { return x.ZH }, "敏感性個人資料", "每小時傳送摘要"},
		{"en", func(x privacy.Text) string { return x.EN }, "Sensitive personal data", "Send the vendor an hourly summary"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			u := newUI(t)
			b := u.setUpOwner(tc.lang)
			p := b.do("GET", "/privacy", nil)
			if p.status != 200 || !strings.Contains(p.body, `href="/privacy" aria-current="page"`) {
				t.Fatalf("privacy page: %d, or not in the menu", p.status)
			}
			for _, c := range privacy.Inventory {
				for _, want := range []privacy.Text{c.Name, c.Fields, c.Purpose, c.Retention, c.Location, c.Recipients} {
					if !strings.Contains(p.body, htmlEscape(tc.text(want))) {
						t.Errorf("%s: the page lacks %q", c.ID, tc.text(want))
					}
				}
			}
			for _, want := range []string{tc.class, tc.consent, `id="consents-form"`, `href="/privacy/erase"`, `id="consent-history-none"`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			if strings.Contains(p.body, " checked") {
				t.Error("a consent is ticked that was never given")
			}
			if m := missingKeyRE.FindString(p.body); m != "" {
				t.Errorf("a message key is missing: %s", m)
			}
		})
	}
}

// A member reads the page but has no consent form, no history and no deletion.
func TestPrivacyPageForMembers(t *testing.T) {
	u := newUI(t)
	owner := u.setUpOwner("en")
	alice := addMember(t, u, owner)
	p := alice.do("GET", "/privacy", nil)
	if p.status != 200 || !strings.Contains(p.body, "Only an owner can give or withdraw consent.") || !strings.Contains(p.body, privacy.Inventory[0].Name.EN) {
		t.Fatalf("member's privacy page: %d", p.status)
	}
	for _, absent := range []string{`id="consents-form"`, `type="checkbox"`, `href="/privacy/erase"`, `id="consent-history`} {
		if strings.Contains(p.body, absent) {
			t.Errorf("the member's page holds %s", absent)
		}
	}
	if p := alice.do("GET", "/privacy/erase", nil); p.status != 403 {
		t.Errorf("member opens the deletion: %d", p.status)
	}
	if p := alice.do("GET", "/privacy/vendor-export", nil); p.status != 403 {
		t.Errorf("member downloads the vendor's export: %d", p.status)
	}
	// The owner is handed to the API's download; without vendor services there is no
	// link to it.
	if p := owner.do("GET", "/privacy/vendor-export", nil); p.status != 303 || p.location != "/api/v1/privacy/vendor-export" {
		t.Errorf("owner's download: %d %s", p.status, p.location)
	}
	if p := owner.do("GET", "/privacy", nil); strings.Contains(p.body, `id="vendor-export"`) {
		t.Error("a download of the vendor's data is offered without vendor services")
	}
	if p := alice.post("/privacy", "/privacy/consents", url.Values{"consent": {"telemetry"}}); p.status != 403 {
		t.Errorf("member gives consent: %d", p.status)
	}
	if p := alice.post("/privacy", "/privacy/erase", url.Values{"understand": {"yes"}}); p.status != 403 {
		t.Errorf("member deletes all data: %d", p.status)
	}
	if u.consents.Allowed(privacy.PurposeTelemetry) {
		t.Fatal("a member's form gave consent")
	}
	if _, ok := u.eraser.Status(); ok {
		t.Fatal("a member's form deleted the data")
	}
}

// TS-0045 5.7.1.9, 5.7.1.10: the owner gives and withdraws consent per purpose, after
// confirming the password; each choice is recorded with its time, author and text version.
func TestConsentChangeFromPage(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("en")
	u.clk.Advance(11 * time.Minute)
	p := b.post("/privacy", "/privacy/consents", url.Values{"consent": {"telemetry"}})
	if p.status != 303 || p.location != "/reauth?next=%2Fprivacy" {
		t.Fatalf("stale session: %d → %q", p.status, p.location)
	}
	if u.consents.Allowed(privacy.PurposeTelemetry) {
		t.Fatal("consent recorded without the password")
	}
	if p := b.do("GET", "/privacy", nil); !strings.Contains(p.body, `id="consent-history-reauth"`) {
		t.Error("the stale page does not offer to confirm the password for the history")
	}
	b.post("/reauth?next=%2Fprivacy", "/reauth", url.Values{"password": {"quiet river morning"}, "next": {"/privacy"}})
	p = b.post("/privacy", "/privacy/consents", url.Values{"consent": {"telemetry"}})
	if p.status != 303 || p.location != "/privacy?m=consents_saved" {
		t.Fatalf("give: %d → %q", p.status, p.location)
	}
	if !u.consents.Allowed(privacy.PurposeTelemetry) || u.consents.Allowed(privacy.PurposeCrashReports) {
		t.Fatalf("after giving telemetry: %+v", u.consents.Current())
	}
	if p := b.do("GET", "/", nil); !strings.Contains(p.body, "without your consent (given for 1 of 3 purposes)") {
		t.Error("the overview does not count the consent")
	}
	p = b.do("GET", "/privacy?m=consents_saved", nil)
	for _, want := range []string{`value="telemetry" id="consent-telemetry-box" checked`, `value="crash_reports" id="consent-crash_reports-box">`,
		"Given on", "by owner (to text version 1)", `id="consent-history"`, "Your choices are saved"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after giving: the page lacks %q", want)
		}
	}
	if p := b.post("/privacy", "/privacy/consents", url.Values{}); p.status != 303 {
		t.Fatalf("withdraw: %d", p.status)
	}
	if u.consents.Allowed(privacy.PurposeTelemetry) {
		t.Fatal("the withdrawal did not take effect")
	}
	p = b.do("GET", "/privacy", nil)
	if !strings.Contains(p.body, "Withdrawn on") || strings.Count(p.body, "<td data-label=\"Choice\">") != 2 {
		t.Errorf("after withdrawing: state or history missing")
	}
	if p := b.post("/privacy", "/privacy/consents", url.Values{"consent": {"advertising"}}); p.status != 400 {
		t.Errorf("unknown purpose: %d", p.status)
	}
}

var erasureRE = regexp.MustCompile(`^/erasure/([0-9a-f]{32})$`)

// TS-0045 5.7.1.4, 5.7.1.7: "delete my data" needs the box ticked; then the data is
// gone, the browser is signed out and sent to a public status page that confirms it;
// the owner account is back to the label password.
func TestEraseFromPage(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("zh-TW")
	b.post("/privacy", "/privacy/consents", url.Values{"consent": {"telemetry"}})
	p := b.do("GET", "/privacy/erase", nil)
	if p.status != 200 || !strings.Contains(p.body, `id="erase-form"`) || !strings.Contains(p.body, "我了解此動作無法復原") {
		t.Fatalf("confirmation page: %d", p.status)
	}
	p = b.post("/privacy/erase", "/privacy/erase", url.Values{})
	if p.status != 400 || !strings.Contains(p.body, `id="error"`) || !strings.Contains(p.body, `id="erase-form"`) {
		t.Fatalf("without the box: %d", p.status)
	}
	if _, ok := u.eraser.Status(); ok {
		t.Fatal("erased without the box ticked")
	}
	p = b.post("/privacy/erase", "/privacy/erase", url.Values{"understand": {"yes"}})
	m := erasureRE.FindStringSubmatch(p.location)
	if p.status != 303 || m == nil {
		t.Fatalf("erase: %d → %q", p.status, p.location)
	}
	for _, c := range b.hc.Jar.Cookies(mustURL(u.srv.URL)) {
		if c.Name == "__Host-session" {
			t.Error("the session cookie was not cleared")
		}
	}
	st, ok := u.eraser.Status()
	if !ok || st.Device.State != privacy.StateCompleted || st.Cloud.State != privacy.StateNotApplicable {
		t.Fatalf("erasure: %+v", st)
	}
	if u.consents.Allowed(privacy.PurposeTelemetry) {
		t.Error("the consent survived the deletion")
	}
	p = b.do("GET", p.location, nil)
	for _, want := range []string{`id="erasure-gateway" class="done"`, "已於", "您所有的資料都已從閘道器刪除", "不適用：此閘道器從未傳送任何資料給廠商", `href="/login"`} {
		if p.status != 200 || !strings.Contains(p.body, want) {
			t.Errorf("status page (%d) lacks %q", p.status, want)
		}
	}
	if strings.Contains(p.body, `http-equiv="refresh"`) {
		t.Error("a completed deletion's page keeps refreshing")
	}
	if p := b.do("GET", "/", nil); p.location != "/login" {
		t.Fatalf("still signed in after the deletion: %d %q", p.status, p.location)
	}
	if p := b.login("owner", "quiet river morning"); p.status != 401 {
		t.Errorf("the owner's own password works after the deletion: %d", p.status)
	}
	if p := b.login("owner", label); p.status != 303 || p.location != "/setup/password" {
		t.Errorf("label password after the deletion: %d → %q", p.status, p.location)
	}
}

// The status page is public but opens only with the exact token; anything else is the
// not-found page, not the sign-in redirect, with the same security headers.
func TestErasureStatusNeedsToken(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("en")
	p := b.post("/privacy/erase", "/privacy/erase", url.Values{"understand": {"yes"}})
	m := erasureRE.FindStringSubmatch(p.location)
	if m == nil {
		t.Fatalf("erase: %d → %q", p.status, p.location)
	}
	token := m[1]
	anon := u.browser("en")
	if p := anon.do("GET", "/erasure/"+token, nil); p.status != 200 || !strings.Contains(p.body, "All your data has been deleted from the gateway") {
		t.Fatalf("status page without a session: %d", p.status)
	}
	other := strings.Repeat("0", 32)
	if token == other {
		other = strings.Repeat("1", 32)
	}
	for _, path := range []string{"/erasure/" + other, "/erasure/" + strings.ToUpper(token), "/erasure/" + token[:31], "/erasure/" + token + "0",
		"/erasure/", "/erasure/" + token + "/x", "/erasure/%3Cscript%3E", "/erasure/" + token[:30] + "%00a"} {
		p := anon.do("GET", path, nil)
		if p.status != 404 || strings.Contains(p.body, "erasure-gateway") {
			t.Errorf("GET %s: %d → %q", path, p.status, p.location)
		}
	}
	res, err := anon.hc.Get(u.srv.URL + "/erasure/" + token)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for h, want := range map[string]string{"Content-Security-Policy": "default-src 'none'", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := res.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
}

// journal writes an erasure journal whose status token is token.
func journal(t *testing.T, path, token string, e privacy.Erasure) {
	t.Helper()
	sum := sha256.Sum256([]byte(token))
	e.TokenHash = hex.EncodeToString(sum[:])
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// newJournalUI is the UI over an eraser that loads a journal written by the test.
func newJournalUI(t *testing.T, token string, e privacy.Erasure) *ui {
	path := filepath.Join(t.TempDir(), privacy.ErasureFile)
	journal(t, path, token, e)
	return newUIWith(t, func(u *ui, cfg *api.Config) {
		er, err := privacy.NewEraser(privacy.EraserConfig{Path: path, Authz: cfg.Auth})
		if err != nil {
			t.Fatal(err)
		}
		u.eraser, cfg.Eraser = er, er
	})
}

// The status page tells the vendor's side in general words (never the raw error, which
// may name addresses), escapes what the vendor's receipt names, and refreshes itself
// until both sides are done.
func TestErasureStatusFromVendor(t *testing.T) {
	// A status token as the eraser hands out: 32 hex digits.
	token := strings.Repeat("0f", 16)
	at := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
	req := "fedcba9876543210fedcba9876543210"
	device := privacy.DeviceSide{State: privacy.StateCompleted, Done: []string{"database"}, CompletedAt: at}

	u := newJournalUI(t, token, privacy.Erasure{Request: req, RequestedAt: at, RequestedBy: privacy.ByConsole, Device: device,
		Cloud: privacy.CloudSide{State: privacy.StatePending, Attempts: 3, LastError: `dial tcp 10.9.8.7:443: <b>refused</b>`, LastAttempt: at}})
	p := u.browser("en").do("GET", "/erasure/"+token, nil)
	for _, want := range []string{`<meta http-equiv="refresh" content="5">`, "the vendor has been asked 3 times so far", "could not be reached or has not confirmed yet",
		"Requested by the local console", `id="erasure-gateway" class="done"`} {
		if p.status != 200 || !strings.Contains(p.body, want) {
			t.Errorf("pending status (%d) lacks %q", p.status, want)
		}
	}
	for _, leak := range []string{"10.9.8.7", "refused", "erasure-done"} {
		if strings.Contains(p.body, leak) {
			t.Errorf("pending status shows %q", leak)
		}
	}

	u = newJournalUI(t, token, privacy.Erasure{Request: req, RequestedAt: at, RequestedBy: privacy.ByOwner, Device: device,
		Cloud: privacy.CloudSide{State: privacy.StateCompleted, Attempts: 1, Verified: true, CompletedAt: at,
			Receipt: &privacy.EraseReceipt{Request: req, Status: privacy.EraseCompleted, Deleted: map[string]int64{`<script>alert(1)</script>`: 7, "telemetry_records": 42}}}})
	p = u.browser("zh-TW").do("GET", "/erasure/"+token, nil)
	for _, want := range []string{`id="erasure-done"`, "您所有的資料都已刪除，包括閘道器與廠商端", "廠商已刪除", "&lt;script&gt;alert(1)&lt;/script&gt;", "<dd>7</dd>", "<dd>42</dd>"} {
		if p.status != 200 || !strings.Contains(p.body, want) {
			t.Errorf("completed status (%d) lacks %q", p.status, want)
		}
	}
	if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, `http-equiv="refresh"`) {
		t.Error("the completed status page runs the receipt's text or keeps refreshing")
	}
}

// htmlEscape is how html/template writes text.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}
