package e2e

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TS-0045 5.8.1.1, 5.4.2.5: as an owner meets alerts, in both languages. A member's
// account locks after five wrong passwords through the API; every owner page then shows
// the alert banner, which leads to the alert list with the account.locked alert and its
// delivery to this web page; "Mark all read" ends the banner. The owner adds a webhook
// on the alert settings (confirming the password if asked), sees its secret once and
// gives it to the receiver; the list no longer shows it. A second member's lock then
// reaches the receiver as a signed delivery, which the alert list reports as delivered.
func TestBrowserAlerts(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			hook := newHookReceiver(t)
			d := provision(t, newVendor(t))
			d.start(bin.hearthd, "--alert-ca", hook.caFile)
			tb := newChrome(t, []*device{d}).tab(d, lang)
			tb.setUp(d)
			if tb.has("#alert-banner") {
				t.Fatalf("a new gateway shows the alert banner: %q", tb.text("#alert-banner"))
			}

			addMember(t, tb, "grandpa")
			lockAccount(t, d, "grandpa")
			tb.open("/account")
			expectBanner(t, tb, 1)
			tb.click("#alert-banner a")
			tb.expectPage("/alerts", "alerts.heading")
			locked := expectAlertRow(t, tb, tb.T("event.account.locked"), tb.T("alerts.channel.ui")+": ")
			if !tb.has("#" + locked + ".unread") {
				t.Errorf("the new alert is not marked unread: %q", tb.text("#"+locked))
			}
			tb.shoot("alerts")

			tb.click("#alerts-read-all button")
			tb.expectPage("/alerts", "alerts.heading")
			if got := tb.text("main .flash"); got != tb.T("flash.alerts_read") {
				t.Errorf("after marking all read: %q, want %q", got, tb.T("flash.alerts_read"))
			}
			if tb.has("#alert-banner") || tb.has("#alerts-read-all") || tb.has("#alert-list tr.unread") {
				t.Errorf("after marking all read: banner %v, button %v, unread rows %v", tb.has("#alert-banner"), tb.has("#alerts-read-all"), tb.has("#alert-list tr.unread"))
			}
			if !strings.Contains(tb.text("#"+locked), tb.T("alerts.state.read")) {
				t.Errorf("the alert read: %q", tb.text("#"+locked))
			}
			tb.open("/")
			if tb.has("#alert-banner") {
				t.Errorf("the overview still shows the banner: %q", tb.text("#alert-banner"))
			}

			secret := addWebhook(t, tb, hook)
			hook.mu.Lock()
			hook.secret, _ = hex.DecodeString(secret)
			hook.mu.Unlock()

			addMember(t, tb, "nephew")
			lockAccount(t, d, "nephew")
			waitUntil(t, 20*time.Second, "the signed webhook", func() bool { return len(hook.kinds()) > 0 })
			hook.mu.Lock()
			got, bad := slices.Clone(hook.got), slices.Clone(hook.bad)
			hook.mu.Unlock()
			if len(bad) != 0 || len(got) != 1 || got[0]["kind"] != "account.locked" || got[0]["severity"] != "critical" {
				t.Fatalf("the receiver got %v, refused %v; want one signed account.locked alert", got, bad)
			}
			if raw, _ := json.Marshal(got[0]); strings.Contains(string(raw), secret) {
				t.Error("the webhook payload carries its secret")
			}

			// The list reports the delivery to the receiver, by its host.
			host := strings.TrimSuffix(strings.TrimPrefix(hook.url(), "https://"), "/hearth")
			tb.allow(host)
			delivered := tb.T("alerts.channel.webhook_to", host) + ": " + strings.SplitN(tb.T("alerts.delivery.delivered", "\x00"), "\x00", 2)[0]
			waitUntil(t, 10*time.Second, "the delivery in the alert list", func() bool {
				tb.open("/alerts")
				return strings.Contains(tb.text("#alert-list tbody tr"), delivered)
			})
			expectBanner(t, tb, 1)
			tb.expectPage("/alerts", "alerts.heading")
			tb.shoot("alerts-webhook")
		})
	}
}

// addMember adds a member account through the accounts page.
func addMember(t *testing.T, tb *tab, name string) {
	t.Helper()
	tb.open("/users")
	tb.fill("#new-username", name)
	tb.ownerAction("#add-user-submit", ownerPassword)
	tb.allow(name, tb.text("#temporary-password-value"))
	if !tb.has("#user-" + name) {
		t.Fatalf("%s: no row for the new member %s", tb.where(), name)
	}
}

// lockAccount sends wrong passwords for user through POST /api/v1/session until the
// gateway answers that the account is locked, which must happen after five. A refusal
// of the source's rate limit (which the owner's own sign-ins share) is waited out as
// Retry-After says, and is not a failure of the account.
func lockAccount(t *testing.T, d *device, user string) {
	t.Helper()
	c := d.client()
	failures := 0
	for range 20 {
		r := d.login(c, user, fmt.Sprintf("not the password %d", failures))
		switch {
		case r.status == http.StatusUnauthorized:
			failures++
		case r.status == http.StatusTooManyRequests && r.code() == "rate_limited":
			wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		case r.status == http.StatusTooManyRequests && r.code() == "account_locked":
			if failures != 5 {
				t.Fatalf("%s locked after %d wrong passwords, want 5", user, failures)
			}
			return
		default:
			t.Fatalf("wrong password %d for %s: %v", failures+1, user, r)
		}
	}
	t.Fatalf("%s is not locked after %d wrong passwords", user, failures)
}

// expectBanner checks the page shows the banner of n unread alerts, graded critical
// (an account lock is), leading to the alert list.
func expectBanner(t *testing.T, tb *tab, n int) {
	t.Helper()
	if !tb.has("#alert-banner") {
		t.Fatalf("%s: no alert banner with %d unread alerts", tb.where(), n)
	}
	if got, want := tb.text("#alert-banner"), tb.T("alerts.banner", n); got != want {
		t.Errorf("%s: banner %q, want %q", tb.where(), got, want)
	}
	if !tb.has("#alert-banner.sev-critical") || !tb.has(`#alert-banner a[href="/alerts"]`) {
		t.Errorf("%s: banner %s, want critical and a link to /alerts", tb.where(), js[string](tb, `document.getElementById("alert-banner").outerHTML`))
	}
}

// expectAlertRow checks the list's newest alert names kind and has a delivery starting
// with delivery, and returns the row's id.
func expectAlertRow(t *testing.T, tb *tab, kind, delivery string) string {
	t.Helper()
	rows := js[[]string](tb, `Array.from(document.querySelectorAll("#alert-list tbody tr")).map(r => r.id)`)
	if len(rows) == 0 {
		t.Fatalf("%s: the alert list is empty", tb.where())
	}
	row := "#" + rows[0]
	if got := tb.text(row + " strong"); got != kind {
		t.Errorf("%s: newest alert %q, want %q", tb.where(), got, kind)
	}
	if got := tb.text(row + " td:nth-child(3)"); got != tb.T("alerts.severity.critical") {
		t.Errorf("%s: severity %q, want %q", tb.where(), got, tb.T("alerts.severity.critical"))
	}
	deliveries := js[[]string](tb, `Array.from(document.querySelectorAll("`+row+` .deliveries li")).map(li => li.textContent.trim())`)
	if !slices.ContainsFunc(deliveries, func(s string) bool { return strings.HasPrefix(s, delivery) }) {
		t.Errorf("%s: deliveries %q, want one starting %q", tb.where(), deliveries, delivery)
	}
	return rows[0]
}

// addWebhook adds the receiver on the alert settings page, confirming the password if
// the gateway asks, and returns the secret the page shows once.
func addWebhook(t *testing.T, tb *tab, hook *hookReceiver) string {
	t.Helper()
	tb.open("/alerts")
	tb.click("#alert-settings-link")
	// Protocol names the page keeps in any language.
	tb.allow("https://", "HTTPS", "STARTTLS", "SMTP", "MQTT")
	tb.expectPage("/alerts/settings", "alerts.settings.heading")
	if got := tb.text("#webhooks-none"); got != tb.T("alerts.webhooks.none") {
		t.Errorf("webhooks before any: %q", got)
	}
	tb.fill("#webhook-url", hook.url())
	tb.click("#webhook-add")
	if tb.path() == "/reauth" {
		t.Logf("%s: the gateway asked for the password again", tb.where())
		tb.fill("#reauth-password", ownerPassword)
		tb.click("#reauth-submit")
		tb.expectPage("/alerts/settings", "alerts.settings.heading")
		tb.fill("#webhook-url", hook.url())
		tb.click("#webhook-add")
	}
	secret := tb.text("#webhook-secret")
	// The signature format and the steps to check it are codes, the same in any language.
	tb.allow(secret, hook.url(), tb.T("alerts.webhook.verify.format"), "HMAC-SHA256", "Unix", `"<t>." + body`)
	tb.expectPage("/alerts/webhooks/add", "alerts.webhook.created.heading")
	if b, err := hex.DecodeString(secret); err != nil || len(b) != 32 {
		t.Fatalf("webhook secret %q, want 64 hexadecimal digits", secret)
	}
	if got := tb.text("#signature-format"); got != tb.T("alerts.webhook.verify.format") {
		t.Errorf("signature format %q", got)
	}
	// The owner may well copy the secret on a phone: the page must fit its screen.
	tb.shootIfFits("alert-webhook-secret")

	tb.click("#webhook-done")
	tb.expectPage("/alerts/settings", "alerts.settings.heading")
	if got := tb.text("#webhook-list .url"); got != hook.url() {
		t.Errorf("webhook list shows %q, want %q", got, hook.url())
	}
	if html := js[string](tb, "document.documentElement.outerHTML"); strings.Contains(html, secret) {
		t.Error("the alert settings show the webhook's secret again")
	}
	tb.shoot("alert-settings")
	return secret
}

// widerThanPhone lists the elements that reach past the phone's screen, by their box or
// by content overflowing it, and whose children do not (the ones that make the page
// scroll sideways), with where they end.
var widerThanPhone = `((w) => {
	const out = [];
	for (const el of document.querySelectorAll("body *")) {
		const r = el.getBoundingClientRect(), end = Math.max(r.right, r.left + el.scrollWidth);
		if (end <= w + 1) continue;
		if (Array.from(el.children).some(c => c.getBoundingClientRect().right > w + 1)) continue;
		out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "") + " ends at " + Math.round(end) + " px");
	}
	return out;
})(` + strconv.Itoa(phoneWidth) + `)`

// expectFitsPhone reports, without ending the test, a page that scrolls sideways at
// phone width, naming what sticks out. tb.shoot makes the same check fatal; this one
// lets the test go on to what follows the page.
func expectFitsPhone(t *testing.T, tb *tab) bool {
	t.Helper()
	tb.do(chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	defer tb.do(chromedp.EmulateViewport(desktopWidth, desktopHeight))
	if w := js[int](tb, "document.documentElement.scrollWidth"); w > phoneWidth {
		t.Errorf("%s: at phone width (%d px) the page is %d px wide and scrolls sideways: %q", tb.where(), phoneWidth, w, js[[]string](tb, widerThanPhone))
		return false
	}
	return true
}

// shootIfFits takes the screenshots of tb.shoot when the page fits a phone; when it
// does not, the test fails (expectFitsPhone) but goes on, without those screenshots.
func (tb *tab) shootIfFits(name string) {
	tb.t.Helper()
	if expectFitsPhone(tb.t, tb) {
		tb.shoot(name)
	} else {
		tb.t.Logf("%s: no %s screenshots: the page does not fit a phone", tb.where(), name)
	}
}
