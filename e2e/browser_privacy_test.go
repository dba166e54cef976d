package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"hearth/internal/privacy"
)

// TS-0045 5.7.1.3, 5.7.1.4, 5.7.1.7, 5.7.1.9, 5.7.1.10, 5.7.1.12: as a lab would, in
// both languages: the first-run wizard offers the three consents, none ticked and none
// recommended; the privacy page lists every kind of data of the inventory; the owner
// gives consent to telemetry (confirming the password), sees it given with its time,
// withdraws it; then deletes all data, is signed out and sent to the status page, which
// confirms the deletion (this gateway runs without vendor services, so the vendor's
// part is not applicable); the owner account is back to the label password and must
// be changed again, as on a new device.
func TestBrowserPrivacy(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			d := provision(t, newVendor(t))
			d.start(bin.hearthd)
			tb := newChrome(t, []*device{d}).tab(d, lang)
			// Technical words the Chinese inventory keeps in English.
			tb.allow("Cookie", "API", "panic")

			tb.open("/login")
			tb.signIn(d.label["username"], d.label["default_password"])
			tb.changePassword(d.label["default_password"], ownerPassword, "#setup-password-submit")
			tb.expectPage("/setup/settings", "setup.settings.heading")
			expectConsentsOffered(t, tb)
			tb.shoot("privacy-setup")
			tb.click("#setup-settings-submit")
			tb.expectPage("/setup/done", "setup.done.heading")

			tb.open("/privacy")
			tb.expectPage("/privacy", "privacy.heading")
			expectInventory(t, tb)
			if got := tb.text("#consent-telemetry-state"); got != tb.T("privacy.state.never") {
				t.Errorf("telemetry before any choice: %q", got)
			}
			tb.shoot("privacy")

			// Opt in, confirming the password first.
			tb.open("/reauth?next=/privacy")
			tb.fill("#reauth-password", ownerPassword)
			tb.click("#reauth-submit")
			tb.expectPage("/privacy", "privacy.heading")
			setConsent(t, tb, privacy.PurposeTelemetry, true)
			given := tb.text("#consent-telemetry-state")
			if !strings.HasPrefix(given, strings.SplitN(tb.T("privacy.state.given", "\x00", "", ""), "\x00", 2)[0]) ||
				!strings.Contains(given, d.label["username"]) || !clockRE.MatchString(given) {
				t.Errorf("telemetry after giving: %q, want it given with the time and by whom", given)
			}
			if n := js[int](tb, `document.querySelectorAll("#consent-history tbody tr").length`); n != 1 {
				t.Errorf("consent history has %d rows after one choice", n)
			}
			tb.shoot("privacy-consent-given")

			setConsent(t, tb, privacy.PurposeTelemetry, false)
			if got := tb.text("#consent-telemetry-state"); !strings.HasPrefix(got, strings.SplitN(tb.T("privacy.state.withdrawn", "\x00", "", ""), "\x00", 2)[0]) {
				t.Errorf("telemetry after withdrawing: %q", got)
			}
			if n := js[int](tb, `document.querySelectorAll("#consent-history tbody tr").length`); n != 2 {
				t.Errorf("consent history has %d rows after two choices", n)
			}

			eraseAll(t, tb, d)
		})
	}
}

// clockRE finds a time of day, as the pages write moments in both languages.
var clockRE = regexp.MustCompile(`\d{2}:\d{2}:\d{2}`)

// expectConsentsOffered checks the wizard's consent boxes: one per purpose, with its
// text, unticked, and not marked as recommended.
func expectConsentsOffered(t *testing.T, tb *tab) {
	t.Helper()
	type box struct {
		Value       string `json:"value"`
		Checked     bool   `json:"checked"`
		Text        string `json:"text"`
		Recommended bool   `json:"recommended"`
	}
	boxes := js[[]box](tb, `Array.from(document.querySelectorAll('#setup-settings-form input[name="consent"]')).map(b => {
		const f = b.closest("fieldset");
		return {value: b.value, checked: b.checked, text: f.querySelector(".consent-text").textContent.trim(),
			recommended: f.querySelector(".badge, .recommended") !== null};
	})`)
	if len(boxes) != len(privacy.Purposes) {
		t.Fatalf("the wizard offers %d consents, want %d: %+v", len(boxes), len(privacy.Purposes), boxes)
	}
	for i, b := range boxes {
		p := privacy.Purposes[i]
		if b.Value != string(p) || b.Checked || b.Recommended || b.Text != tb.T("privacy.consent."+string(p)) {
			t.Errorf("consent %d: %+v; want %s unticked, unmarked, with its text", i, b, p)
		}
	}
}

// expectInventory checks the page names every kind of data of the inventory, in the
// tab's language, with its class in words.
func expectInventory(t *testing.T, tb *tab) {
	t.Helper()
	for _, c := range privacy.Inventory {
		name, fields := c.Name.EN, c.Fields.EN
		if tb.lang == "zh-TW" {
			name, fields = c.Name.ZH, c.Fields.ZH
		}
		h := tb.text("#data-" + c.ID + " h3")
		if !strings.HasPrefix(h, name) || !strings.Contains(h, tb.T("privacy.class."+string(c.Class))) {
			t.Errorf("%s: heading %q, want %q and its class", c.ID, h, name)
		}
		if !strings.Contains(tb.text("#data-"+c.ID), fields) {
			t.Errorf("%s: the page does not say what the data is (%q)", c.ID, fields)
		}
	}
}

// setConsent ticks or unticks the purpose's box and saves the form.
func setConsent(t *testing.T, tb *tab, p privacy.Purpose, on bool) {
	t.Helper()
	sel := "#consent-" + string(p) + "-box"
	if js[bool](tb, `document.querySelector("`+sel+`").checked`) != on {
		tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	}
	tb.click("#consents-submit")
	tb.expectPage("/privacy", "privacy.heading")
	if got := tb.text("main .flash"); got != tb.T("flash.consents_saved") {
		t.Errorf("after saving the consents: %q", got)
	}
	if js[bool](tb, `document.querySelector("`+sel+`").checked`) != on {
		t.Errorf("%s is not %v after saving", p, on)
	}
}

var statusPathRE = regexp.MustCompile(`^/erasure/[0-9a-f]{32}$`)

// eraseAll deletes all data from the privacy page and follows the owner to the status
// page and back to the label password.
func eraseAll(t *testing.T, tb *tab, d *device) {
	t.Helper()
	tb.click("#erase-start")
	tb.expectPage("/privacy/erase", "privacy.erase.confirm.heading")
	tb.shoot("erase-confirm")

	// The box is required in the browser; the gateway refuses the form without it too.
	tb.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("erase-understand").removeAttribute("required")`))
	if res := tb.click("#erase-submit"); res.Status != http.StatusBadRequest || tb.text("#error") != tb.T("error.erase_confirm") {
		t.Fatalf("deletion without the box ticked: %d %q", res.Status, tb.text("#error"))
	}
	tb.do(chromedp.Click(chromedp.CSS("#erase-understand"), chromedp.NodeVisible))
	tb.click("#erase-submit")
	status := tb.path()
	if !statusPathRE.MatchString(status) {
		t.Fatalf("after the deletion the browser is at %s, want /erasure/<token>", status)
	}
	tb.expectPage(status, "erasure.heading")
	if _, ok := tb.cookies()["__Host-session"]; ok {
		t.Error("the session cookie outlives the deletion")
	}
	if got := tb.text("#erasure-done"); got != tb.T("erasure.done_local") {
		t.Errorf("confirmation %q, want %q", got, tb.T("erasure.done_local"))
	}
	if got := tb.text("#erasure-vendor"); got != tb.T("erasure.vendor.not_applicable") {
		t.Errorf("vendor side %q", got)
	}
	if !tb.has("#erasure-gateway.done") || !clockRE.MatchString(tb.text("#erasure-gateway")) {
		t.Errorf("gateway side %q, want deleted at a time", tb.text("#erasure-gateway"))
	}
	if tb.has(`meta[http-equiv="refresh"]`) {
		t.Error("the completed status keeps refreshing")
	}
	tb.shoot("erase-status")

	tb.click("#erasure-sign-in")
	tb.expectPage("/login", "login.heading")
	if res := tb.signIn(d.label["username"], ownerPassword); res.Status != http.StatusUnauthorized {
		t.Errorf("the owner's own password after the deletion: %d", res.Status)
	}
	tb.signIn(d.label["username"], d.label["default_password"])
	tb.expectPage("/setup/password", "setup.password.heading")
	if got := tb.text(`label[for="current-password"]`); got != tb.T("field.label_password") {
		t.Errorf("after the deletion the owner is asked for %q, want the label password", got)
	}
}
