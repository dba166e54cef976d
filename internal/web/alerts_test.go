package web_test

import (
	"context"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/api"
	"hearth/internal/events"
)

// newAlertUI builds the UI with alert channels: the default rules, nothing delivered
// (no Run loop), and a Save that applies the settings as the gateway's does after sealing.
func newAlertUI(t testing.TB) (*ui, *alerts.Alerter) {
	t.Helper()
	al, err := alerts.New(alerts.Config{Path: filepath.Join(t.TempDir(), "alerts.db"), Settings: alerts.DefaultSettings()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	u := newUIWith(t, func(_ *ui, cfg *api.Config) {
		cfg.Alerts = &api.Alerts{Alerter: al, Save: al.SetSettings}
	})
	return u, al
}

func raise(t *testing.T, al *alerts.Alerter, e events.Event) int64 {
	t.Helper()
	id, err := al.Raise(context.Background(), e)
	if err != nil || id == 0 {
		t.Fatalf("raise %s: %d, %v", e.Kind, id, err)
	}
	return id
}

// TS-0045 5.8.1.1: a lockout raises a banner on every page until the owner has read the
// alerts; the list tells what happened and how each channel delivered it.
func TestAlertBannerAndList(t *testing.T) {
	for _, tc := range []struct{ lang, banner, kind, read string }{
		{"en", "1 new security alert", "Account locked", "All alerts are marked read."},
		{"zh-TW", "1 則新的安全警示", "帳號已鎖定", "所有警示都已標示為已讀。"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			u, al := newAlertUI(t)
			b := u.setUpOwner(tc.lang)
			if p := b.do("GET", "/", nil); strings.Contains(p.body, `id="alert-banner"`) || !strings.Contains(p.body, `href="/alerts"`) {
				t.Fatal("a banner without alerts, or no menu entry")
			}
			raise(t, al, events.Event{Kind: events.AccountLocked, Severity: events.Critical, Detail: "owner locked"})
			for _, path := range []string{"/", "/account", "/privacy"} {
				p := b.do("GET", path, nil)
				if !strings.Contains(p.body, `class="banner alert-banner sev-critical" role="alert" id="alert-banner"><a href="/alerts">`+tc.banner) {
					t.Fatalf("%s lacks the critical banner", path)
				}
			}
			p := b.do("GET", "/alerts", nil)
			if p.status != 200 || !strings.Contains(p.body, tc.kind) || !strings.Contains(p.body, `id="alerts-read-all"`) || !strings.Contains(p.body, `class="sev-critical unread"`) {
				t.Fatalf("alert list: %d", p.status)
			}
			if m := missingKeyRE.FindString(p.body); m != "" {
				t.Errorf("a message key is missing: %s", m)
			}
			p = b.post("/alerts", "/alerts/read", url.Values{})
			if p.status != 303 || p.location != "/alerts?m=alerts_read" {
				t.Fatalf("mark all read: %d → %q", p.status, p.location)
			}
			p = b.do("GET", p.location, nil)
			if strings.Contains(p.body, `id="alert-banner"`) || !strings.Contains(p.body, tc.read) || strings.Contains(p.body, `id="alerts-read-all"`) {
				t.Fatal("the banner or the button stays after marking all read")
			}
		})
	}
}

// One alert is marked read on its own; a warning colours the banner as a warning.
func TestMarkOneAlertRead(t *testing.T) {
	u, al := newAlertUI(t)
	b := u.setUpOwner("en")
	first := raise(t, al, events.Event{Kind: events.UpdateFailed, Severity: events.Warning})
	raise(t, al, events.Event{Kind: events.UpdateFailed, Severity: events.Warning})
	p := b.do("GET", "/", nil)
	if !strings.Contains(p.body, `sev-warning" role="alert" id="alert-banner"><a href="/alerts">2 new security alerts`) {
		t.Fatal("no warning banner for two alerts")
	}
	if p := b.post("/alerts", "/alerts/read", url.Values{"id": {itoa(first)}}); p.status != 303 {
		t.Fatalf("mark one read: %d", p.status)
	}
	if n, _ := al.Unread(context.Background()); n != 1 {
		t.Fatalf("%d unread, want 1", n)
	}
	if p := b.do("GET", "/alerts", nil); strings.Contains(p.body, `id="alert-read-`+itoa(first)+`"`) || !strings.Contains(p.body, "1 new security alert<") {
		t.Fatal("the alert read still offers its button, or the banner miscounts")
	}
	for _, id := range []string{"0", "-1", "x", "99999"} {
		if p := b.post("/alerts", "/alerts/read", url.Values{"id": {id}}); p.status != 400 && p.status != 404 {
			t.Errorf("id %q: %d", id, p.status)
		}
	}
}

// TS-0045 5.2.2.7: members see no alert banner, no menu entry and neither page.
func TestAlertsAreForOwners(t *testing.T) {
	u, al := newAlertUI(t)
	owner := u.setUpOwner("en")
	alice := addMember(t, u, owner)
	raise(t, al, events.Event{Kind: events.AccountLocked, Severity: events.Critical})
	p := alice.do("GET", "/", nil)
	if p.status != 200 || strings.Contains(p.body, `id="alert-banner"`) || strings.Contains(p.body, `href="/alerts"`) {
		t.Fatalf("member's dashboard: %d, with the alert banner or menu entry", p.status)
	}
	for _, path := range []string{"/alerts", "/alerts/settings"} {
		if p := alice.do("GET", path, nil); p.status != 403 {
			t.Errorf("member opens %s: %d", path, p.status)
		}
	}
	if p := alice.post("/", "/alerts/read", url.Values{}); p.status != 403 {
		t.Errorf("member marks alerts read: %d", p.status)
	}
	if n, _ := al.Unread(context.Background()); n != 1 {
		t.Error("a member marked the owner's alerts read")
	}
}

// The list writes what the event said as text: a summary laden with markup is escaped.
func TestAlertListEscapesSummary(t *testing.T) {
	u, al := newAlertUI(t)
	b := u.setUpOwner("en")
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	raise(t, al, events.Event{Kind: alerts.IntegrityViolation, Severity: events.Critical, Detail: evil})
	p := b.do("GET", "/alerts", nil)
	if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
		t.Fatal("the summary's markup reached the page")
	}
	if !strings.Contains(p.body, htmlEscape(evil)) {
		t.Fatal("the summary is not shown as text")
	}
}

func checkedRE(value string) *regexp.Regexp {
	return regexp.MustCompile(`value="` + regexp.QuoteMeta(value) + `"[^>]*\schecked>`)
}

// The rules table shows the current rules with the defaults marked, saves what is
// ticked, and keeps rules for kinds the table does not offer.
func TestAlertRulesRoundTrip(t *testing.T) {
	u, al := newAlertUI(t)
	set := al.Settings()
	set.Rules = append(set.Rules, alerts.Rule{Kinds: []events.Kind{"custom.thing"}, Channels: []alerts.Channel{alerts.Webhook}})
	if err := al.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	b := u.setUpOwner("en")
	p := b.do("GET", "/alerts/settings", nil)
	if p.status != 200 || !strings.Contains(p.body, `id="vendor-hint"`) || !strings.Contains(p.body, `href="/privacy"`) {
		t.Fatalf("settings page: %d", p.status)
	}
	for _, v := range []string{"account.locked/ui", "integrity.violation/email", "firmware.rejected/webhook"} {
		if !checkedRE(v).MatchString(p.body) {
			t.Errorf("default %s not ticked", v)
		}
	}
	for _, v := range []string{"login.failed/ui", "account.locked/vendor", "gateway.crashed/ui"} {
		if checkedRE(v).MatchString(p.body) {
			t.Errorf("%s ticked without a rule", v)
		}
	}
	if n := strings.Count(p.body, `<span class="badge">Recommended</span>`); n != 12 {
		t.Errorf("%d recommended cells, want 12 (4 kinds × 3 channels)", n)
	}
	p = b.post("/alerts/settings", "/alerts/rules", url.Values{"rule": {"login.failed/email", "gateway.crashed/ui", "gateway.crashed/email", "account.locked/ui", "login.failed/email"}})
	if p.status != 303 || p.location != "/alerts/settings?m=alert_rules_saved" {
		t.Fatalf("save rules: %d → %q", p.status, p.location)
	}
	rules := al.Settings().Rules
	for kind, want := range map[events.Kind][]alerts.Channel{
		events.LoginFailed: {alerts.Email}, events.GatewayCrashed: {alerts.UI, alerts.Email}, events.AccountLocked: {alerts.UI},
		events.UpdateFailed: nil, "custom.thing": {alerts.Webhook},
	} {
		var got []alerts.Channel
		for _, ch := range alerts.Channels {
			for _, r := range rules {
				if slices.Contains(r.Kinds, kind) && slices.Contains(r.Channels, ch) && !slices.Contains(got, ch) {
					got = append(got, ch)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: channels %v, want %v", kind, got, want)
		}
	}
	p = b.do("GET", "/alerts/settings?m=alert_rules_saved", nil)
	if !checkedRE("gateway.crashed/email").MatchString(p.body) || checkedRE("update.failed/ui").MatchString(p.body) || !strings.Contains(p.body, "The alert rules are saved.") {
		t.Error("the page does not show the saved rules")
	}
	if p := b.post("/alerts/settings", "/alerts/rules", url.Values{"rule": {"custom.thing/ui"}}); p.status != 400 {
		t.Errorf("a kind outside the table: %d", p.status)
	}
	if p := b.post("/alerts/settings", "/alerts/rules", url.Values{"rule": {"account.locked/pigeon"}}); p.status != 400 {
		t.Errorf("an unknown channel: %d", p.status)
	}
}

var webhookSecretRE = regexp.MustCompile(`id="webhook-secret">([0-9a-f]{64})<`)

// TS-0045 5.4.2.1: a webhook is https only; its secret is shown once, with how to check
// signatures, and never again.
func TestWebhookSecretShownOnce(t *testing.T) {
	u, al := newAlertUI(t)
	b := u.setUpOwner("en")
	if p := b.post("/alerts/settings", "/alerts/webhooks/add", url.Values{"url": {"http://hooks.example/in"}}); p.status != 400 ||
		!strings.Contains(p.body, `id="webhook-error"`) || !strings.Contains(p.body, "must start with https://") || !strings.Contains(p.body, `id="rules-form"`) {
		t.Fatalf("http webhook: %d", p.status)
	}
	p := b.post("/alerts/settings", "/alerts/webhooks/add", url.Values{"url": {"https://hooks.example/in"}})
	m := webhookSecretRE.FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		t.Fatalf("add webhook: %d", p.status)
	}
	hooks := al.Settings().Webhooks
	if len(hooks) != 1 || hooks[0].Secret.Hex() != m[1] || hooks[0].URL != "https://hooks.example/in" {
		t.Fatal("the secret shown is not the one stored")
	}
	for _, want := range []string{"Hearth-Signature: t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256&gt;", "32 bytes", "&#34;&lt;t&gt;.&#34; &#43; body"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	p = b.do("GET", "/alerts/settings", nil)
	if !strings.Contains(p.body, "https://hooks.example/in") || strings.Contains(p.body, m[1]) {
		t.Fatal("the list lacks the webhook, or shows its secret again")
	}
	raise(t, al, events.Event{Kind: events.AccountLocked, Severity: events.Critical})
	if p := b.do("GET", "/alerts", nil); !strings.Contains(p.body, "Webhook hooks.example: waiting to be sent") || strings.Contains(p.body, m[1]) {
		t.Error("the alert list does not tell the webhook delivery in words, or shows the secret")
	}
	p = b.post("/alerts/settings", "/alerts/webhooks/remove", url.Values{"id": {hooks[0].ID}})
	if p.status != 303 || len(al.Settings().Webhooks) != 0 {
		t.Fatalf("remove webhook: %d", p.status)
	}
	if p := b.post("/alerts/settings", "/alerts/webhooks/remove", url.Values{"id": {hooks[0].ID}}); p.status != 404 {
		t.Errorf("remove twice: %d", p.status)
	}
}

// A refused e-mail setting is named in the form, in the viewer's language; the page
// stays usable and nothing is saved. An empty password keeps the stored one.
func TestEmailForm(t *testing.T) {
	for _, tc := range []struct{ lang, msg string }{
		{"en", "check the field \u201cSender address\u201d"},
		{"zh-TW", "請檢查「寄件者地址」欄位"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			u, al := newAlertUI(t)
			b := u.setUpOwner(tc.lang)
			bad := url.Values{"relay": {"smtp.example.com:587"}, "from": {"Mallory <m@example.com>\r\nBcc: x@evil"}, "to": {"owner@example.com"}}
			p := b.post("/alerts/settings", "/alerts/email", bad)
			if p.status != 400 || !strings.Contains(p.body, `id="email-error">`) || !strings.Contains(p.body, tc.msg) {
				t.Fatalf("bad sender: %d", p.status)
			}
			if !strings.Contains(p.body, `value="smtp.example.com:587"`) || !strings.Contains(p.body, `id="email-from" required maxlength="254" value="Mallory`) ||
				!strings.Contains(p.body, `aria-invalid="true"`) || !csrfRE.MatchString(p.body) || !strings.Contains(p.body, `id="rules-form"`) {
				t.Fatal("the form lost what was typed, or the page is not usable")
			}
			if al.Settings().Email != nil {
				t.Fatal("a refused e-mail setting was saved")
			}
			good := url.Values{"relay": {"smtp.example.com:587"}, "from": {"hearth@example.com"}, "to": {"a@example.com, b@example.com"},
				"username": {"hearth"}, "password": {"relay pass phrase"}, "link": {"https://hearth.local:8443/"}}
			if p := b.post("/alerts/settings", "/alerts/email", good); p.status != 303 {
				t.Fatalf("good e-mail settings: %d %s", p.status, p.body)
			}
			e := al.Settings().Email
			if e == nil || !slices.Equal(e.To, []string{"a@example.com", "b@example.com"}) || e.Password != "relay pass phrase" {
				t.Fatalf("saved: %+v", e)
			}
			p = b.do("GET", "/alerts/settings", nil)
			if strings.Contains(p.body, "relay pass phrase") || !strings.Contains(p.body, `value="a@example.com, b@example.com"`) {
				t.Fatal("the password is shown, or the recipients are not")
			}
			good.Set("password", "")
			good.Set("to", "c@example.com")
			b.post("/alerts/settings", "/alerts/email", good)
			if e := al.Settings().Email; e.Password != "relay pass phrase" || !slices.Equal(e.To, []string{"c@example.com"}) {
				t.Fatalf("an empty password did not keep the stored one: %+v", e)
			}
			nine := url.Values{"relay": {"smtp.example.com:587"}, "from": {"hearth@example.com"}, "to": {strings.Repeat("a@example.com,", 9)}}
			if p := b.post("/alerts/settings", "/alerts/email", nine); p.status != 400 || !strings.Contains(p.body, `id="email-to" required maxlength="2100" value="a@example.com`) {
				t.Errorf("nine recipients: %d", p.status)
			}
			if p := b.post("/alerts/settings", "/alerts/email", url.Values{"remove": {"yes"}}); p.status != 303 || al.Settings().Email != nil {
				t.Fatalf("turn e-mail off: %d", p.status)
			}
		})
	}
}

// Every change of the alert settings needs a recent password and returns to the page.
func TestAlertSettingsNeedReauth(t *testing.T) {
	u, al := newAlertUI(t)
	b := u.setUpOwner("en")
	u.clk.Advance(11 * time.Minute)
	for _, action := range []string{"/alerts/rules", "/alerts/webhooks/add", "/alerts/webhooks/remove", "/alerts/email"} {
		p := b.post("/alerts/settings", action, url.Values{"url": {"https://hooks.example/in"}, "rule": {"login.failed/ui"}})
		if p.status != 303 || p.location != "/reauth?next=%2Falerts%2Fsettings" {
			t.Errorf("stale %s: %d → %q", action, p.status, p.location)
		}
	}
	if len(al.Settings().Webhooks) != 0 || len(al.Settings().Rules) != 1 {
		t.Fatal("a stale session changed the alert settings")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
