package e2e

// The web UI as people use it: headless Chromium against the release hearthd, in both
// languages. Every tab fails its test when a page throws a JavaScript error, logs an
// error or violates the Content Security Policy (browser_chrome_test.go).

import (
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

var screenshots = flag.Bool("screenshots", false, "also write the browser tests' screenshots to docs/screenshots")

// languages the UI speaks; every page is checked and shot in each.
var languages = []string{"zh-TW", "en"}

// TS-0045 5.1.1.1, 5.2.1.4, 5.3.1.13, 5.3.1.16: a new owner signs in with the label
// password, must choose a password (the strength meter answers while typing), reviews
// the settings with the recommended choices preselected and marked, and reaches the
// overview naming model, name, serial, firmware and the support period in words; then
// visits every owner page. All in the browser's language.
func TestBrowserFirstRun(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			d := provision(t, newVendor(t))
			d.start(bin.hearthd)
			tb := newChrome(t, []*device{d}).tab(d, lang)

			n, reqs := tb.weigh("/login")
			t.Logf("sign-in page weight: %.0f bytes (%s)", n, strings.Join(reqs, ", "))
			if res := tb.open("/"); res.Status != http.StatusOK {
				t.Fatalf("/ without a session: %d", res.Status)
			}
			tb.expectPage("/login", "login.heading")
			if got := tb.text("main p.hint"); got != tb.T("login.hint_label") {
				t.Errorf("sign-in hint %q, want %q", got, tb.T("login.hint_label"))
			}
			tb.shoot("login")

			tb.signIn(d.label["username"], d.label["default_password"])
			tb.expectPage("/setup/password", "setup.password.heading")
			tb.open("/users") // nothing else is reachable with the label password
			tb.expectPage("/setup/password", "setup.password.heading")
			firstRunPassword(t, tb, d)
			tb.expectPage("/setup/settings", "setup.settings.heading")
			expectRecommended(t, tb, "#setup-settings-form", true)
			tb.shoot("setup-settings")

			tb.click("#setup-settings-submit")
			tb.expectPage("/setup/done", "setup.done.heading")
			tb.shoot("setup-done")
			tb.click("#to-dashboard")
			tb.expectPage("/", "dashboard.title")
			expectOverview(t, tb, d)
			n, reqs = tb.weigh("/")
			t.Logf("overview page weight: %.0f bytes (%s)", n, strings.Join(reqs, ", "))
			tb.shoot("dashboard")

			ownerPages(t, tb)
		})
	}
}

// firstRunPassword replaces the label password on /setup/password, watching the
// strength meter as the new password is typed.
func firstRunPassword(t *testing.T, tb *tab, d *device) {
	t.Helper()
	if got := tb.text(`label[for="current-password"]`); got != tb.T("field.label_password") {
		t.Errorf("current password label %q, want %q", got, tb.T("field.label_password"))
	}
	if got := tb.text("main h1 + p"); got != tb.T("setup.password.intro") {
		t.Errorf("introduction %q, want %q", got, tb.T("setup.password.intro"))
	}
	steps := js[[]string](tb, `Array.from(document.querySelectorAll("ol.steps li")).map(li => li.textContent + (li.getAttribute("aria-current") === "step" ? "*" : ""))`)
	want := []string{tb.T("setup.step.password") + "*", tb.T("setup.step.settings"), tb.T("setup.step.done")}
	if !slices.Equal(steps, want) {
		t.Errorf("wizard steps %q, want %q", steps, want)
	}
	if !js[bool](tb, `document.getElementById("strength").hidden`) {
		t.Error("the strength meter shows before anything is typed")
	}
	tb.fill("#current-password", d.label["default_password"])

	// Too short: the meter appears and names the problem in the page's language.
	first, rest, _ := strings.Cut(ownerPassword, " ")
	tb.typeInto("#new-password", first)
	tb.waitFor(`!document.getElementById("strength").hidden && document.getElementById("strength").dataset.acceptable === "no"`, "the strength meter")
	if got := tb.text("#strength-text"); got != tb.T("error.password_too_short") {
		t.Errorf("meter for %q says %q, want %q", first, got, tb.T("error.password_too_short"))
	}
	weak := js[int](tb, `document.getElementById("strength-meter").value`)

	// The rest of a passphrase: the meter changes to strong.
	tb.typeInto("#new-password", " "+rest)
	tb.waitFor(`document.getElementById("strength").dataset.acceptable === "yes"`, "the meter to accept the passphrase")
	strong := js[int](tb, `document.getElementById("strength-meter").value`)
	if got := tb.text("#strength-text"); strong < 3 || strong <= weak || got != tb.T(fmt.Sprintf("strength.%d", strong)) {
		t.Errorf("meter for the passphrase: score %d (was %d), text %q", strong, weak, got)
	}
	tb.typeInto("#confirm-password", ownerPassword)
	tb.shoot("setup-password")
	tb.click("#setup-password-submit")
	if got := tb.text("main .flash"); got != tb.T("flash.password_changed") {
		t.Errorf("after the change: %q, want %q", got, tb.T("flash.password_changed"))
	}
}

// recommended is what TS-0045 expects a new device to suggest: updates and their
// notices on (5.3.1.x). Telemetry is not a setting but a consent, never preselected nor
// recommended (5.7.1.9, browser_privacy_test.go).
var recommended = map[string]string{"auto_update": "on", "update_notifications": "on"}

type radio struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Checked     bool   `json:"checked"`
	Disabled    bool   `json:"disabled"`
	Recommended bool   `json:"recommended"`
	Badge       string `json:"badge"`
}

// expectRecommended checks the settings form: each setting's recommended choice is
// marked with the badge, and (first run) preselected; editable says whether the
// choices can be changed.
func expectRecommended(t *testing.T, tb *tab, form string, editable bool) {
	t.Helper()
	radios := js[[]radio](tb, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(r => {
		const l = r.closest("label"), b = l.querySelector(".badge");
		return {name: r.name, value: r.value, checked: r.checked, disabled: r.disabled,
			recommended: l.classList.contains("recommended"), badge: b ? b.textContent.trim() : ""};
	})`, form+" input[type=radio]"))
	if len(radios) != 2*len(recommended) {
		t.Fatalf("%d radio buttons, want on and off for %d settings: %+v", len(radios), len(recommended), radios)
	}
	for _, r := range radios {
		best := recommended[r.Name] == r.Value
		if r.Checked != best {
			t.Errorf("%s=%s checked=%v, want the recommended choice %s selected", r.Name, r.Value, r.Checked, recommended[r.Name])
		}
		if r.Recommended != best || (r.Badge == tb.T("setting.recommended")) != best || (!best && r.Badge != "") {
			t.Errorf("%s=%s marked recommended=%v badge %q; recommended is %s", r.Name, r.Value, r.Recommended, r.Badge, recommended[r.Name])
		}
		if r.Disabled == editable {
			t.Errorf("%s=%s disabled=%v, want editable=%v", r.Name, r.Value, r.Disabled, editable)
		}
	}
}

// expectOverview checks the owner's overview: the device as on its label, the support
// period in words, every protection as recommended, and the security events.
func expectOverview(t *testing.T, tb *tab, d *device) {
	t.Helper()
	for sel, want := range map[string]string{
		"#device-model": d.label["model"], "#device-name": d.label["name"],
		"#device-serial": d.label["serial"], "#device-firmware": "1.0.0",
	} {
		if got := tb.text(sel); got != want || want == "" {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	end, err := time.Parse(time.DateOnly, d.label["support_end"])
	if err != nil {
		t.Fatalf("label support_end: %v", err)
	}
	// The page was rendered a moment ago, maybe just before midnight.
	now := time.Now()
	want := tb.T("device.support_until", tb.msg.Date(end), tb.msg.Until(now, end))
	if got := tb.text("#support-period"); got != want && got != tb.T("device.support_until", tb.msg.Date(end), tb.msg.Until(now.Add(-time.Minute), end)) {
		t.Errorf("support period %q, want %q", got, want)
	}
	posture := js[[]string](tb, `Array.from(document.querySelectorAll("#posture li")).map(li => li.className + ": " + li.querySelector(".what").textContent)`)
	if len(posture) < 9 {
		t.Errorf("security state lists %d items: %q", len(posture), posture)
	}
	for _, p := range posture {
		if !strings.HasPrefix(p, "ok: ") {
			t.Errorf("security state after the recommended setup: %q", p)
		}
	}
	if !tb.has("#events") || !strings.Contains(tb.text("#events"), tb.T("event.password.changed")) {
		t.Errorf("the owner's overview lacks the security events (password change): %q", tb.text("main"))
	}
	nav := js[[]string](tb, `Array.from(document.querySelectorAll("header nav a")).map(a => a.getAttribute("href"))`)
	if !slices.Equal(nav, []string{"/", "/account", "/users", "/settings", "/update", "/sensors", "/privacy", "/alerts"}) {
		t.Errorf("owner menu %q", nav)
	}
}

// ownerPages visits the owner's other pages: account, settings, the password
// confirmation, and accounts with a new member's temporary password.
func ownerPages(t *testing.T, tb *tab) {
	t.Helper()
	tb.open("/account")
	tb.expectPage("/account", "account.heading")
	if s := tb.text("#sessions tbody"); !strings.Contains(s, tb.T("account.sessions.this")) || !strings.Contains(s, tb.T("session.kind.cookie")) {
		t.Errorf("sessions table %q lacks this browser", s)
	}
	tb.shoot("account")

	tb.open("/settings")
	tb.expectPage("/settings", "settings.heading")
	expectRecommended(t, tb, "#settings-form", true)
	tb.shoot("settings")

	// A gateway not installed under the launcher says it cannot update itself; the page
	// still shows the update settings, with the recommended values.
	tb.open("/update")
	tb.expectPage("/update", "update.heading")
	if got := tb.text("#update-none"); got != tb.T("update.unavailable") {
		t.Errorf("update page without slots: %q", got)
	}
	tb.shoot("update")

	tb.open("/reauth?next=/settings")
	tb.expectPage("/reauth", "reauth.heading")
	tb.shoot("reauth")
	tb.fill("#reauth-password", ownerPassword)
	tb.click("#reauth-submit")
	tb.expectPage("/settings", "settings.heading")
	if got := tb.text("main .flash"); got != tb.T("flash.reauthed") {
		t.Errorf("after the confirmation: %q, want %q", got, tb.T("flash.reauthed"))
	}

	tb.open("/users")
	tb.expectPage("/users", "users.heading")
	tb.fill("#new-username", "grandma")
	tb.ownerAction("#add-user-submit", ownerPassword)
	tb.allow("grandma", tb.text("#temporary-password-value"))
	tb.expectTranslated()
	if got := tb.text("#temporary-password h2"); got != tb.T("users.temporary.heading", "grandma") {
		t.Errorf("temporary password heading %q", got)
	}
	if len(tb.text("#temporary-password-value")) < 12 {
		t.Errorf("temporary password %q", tb.text("#temporary-password-value"))
	}
	tb.shoot("users")
}

// TS-0045 5.1.2.2: five wrong passwords through the sign-in form lock the account; the
// right password then gets 429 and the lock message, in the browser's language.
func TestBrowserLockout(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			d := provision(t, newVendor(t))
			d.start(bin.hearthd)
			tb := newChrome(t, []*device{d}).tab(d, lang)
			tb.open("/login")
			for i := range 5 {
				res := tb.signIn("owner", fmt.Sprintf("wrong guess number %d", i))
				if res.Status != http.StatusUnauthorized || tb.text("#error") != tb.T("error.invalid_credentials") {
					t.Fatalf("guess %d: %d %q", i, res.Status, tb.text("#error"))
				}
			}
			res := tb.signIn("owner", d.label["default_password"])
			want := tb.T("error.account_locked", 15)
			if res.Status != http.StatusTooManyRequests || tb.text("#error") != want {
				t.Fatalf("right password on a locked account: %d %q, want 429 %q", res.Status, tb.text("#error"), want)
			}
			tb.expectPage("/login", "login.heading")
			tb.shoot("login-locked")
		})
	}
}

// TS-0045 5.1.2.1, 5.1.2.2, 5.4.2.5: the owner adds a member and sees the temporary
// password once; the member must replace it, then sees the overview but neither the
// accounts page nor the security events; the owner lifts the member's lock, resets the
// password (ending the member's sessions) and removes the account.
func TestBrowserMembers(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	b := newChrome(t, []*device{d})
	owner := b.tab(d, "zh-TW")
	owner.setUp(d)

	owner.open("/users")
	owner.fill("#new-username", "guest")
	owner.ownerAction("#add-user-submit", ownerPassword)
	temp := owner.text("#temporary-password-value")
	owner.allow("guest", temp)
	if row := owner.text("#user-guest"); temp == "" || !strings.Contains(row, owner.T("role.member")) || !strings.Contains(row, owner.T("users.must_change")) {
		t.Fatalf("new member: temporary password %q, row %q", temp, row)
	}
	owner.open("/users")
	if owner.has("#temporary-password") || strings.Contains(owner.text("main"), temp) {
		t.Fatal("the temporary password is shown again")
	}

	member := b.tab(d, "en")
	member.signIn("guest", temp)
	member.expectPage("/setup/password", "setup.password.heading")
	if member.has("ol.steps") {
		t.Error("a member sees the owner's setup steps")
	}
	if got := member.text(`label[for="current-password"]`); got != member.T("field.temporary_password") {
		t.Errorf("a member with a temporary password is asked for %q, want %q", got, member.T("field.temporary_password"))
	}
	if got := member.text("main h1 + p"); got != member.T("setup.password.intro_temporary") {
		t.Errorf("a member with a temporary password is told %q, want %q", got, member.T("setup.password.intro_temporary"))
	}
	member.changePassword(temp, memberPassword, "#setup-password-submit")
	member.expectPage("/", "dashboard.title")
	if got := member.text("main .flash"); got != member.T("flash.password_changed") {
		t.Errorf("member after the change: %q", got)
	}
	if member.text("#device-model") != d.label["model"] || member.has("#events") {
		t.Errorf("member overview: model %q, events shown %v", member.text("#device-model"), member.has("#events"))
	}
	nav := js[[]string](member, `Array.from(document.querySelectorAll("header nav a")).map(a => a.getAttribute("href"))`)
	if !slices.Equal(nav, []string{"/", "/account", "/settings", "/update", "/sensors", "/privacy"}) {
		t.Errorf("member menu %q", nav)
	}
	if res := member.open("/users"); res.Status != http.StatusForbidden {
		t.Errorf("member at /users: %d, want 403", res.Status)
	}
	member.expectPage("/users", "error.forbidden.title")
	member.open("/settings")
	expectRecommended(t, member, "#settings-form", false)
	if member.has("#settings-submit") || !strings.Contains(member.text("main"), member.T("settings.owner_only")) {
		t.Error("a member is offered to change the security settings")
	}

	// The member's account locks; the owner sees it and lifts the lock.
	member.click("#logout")
	for i := range 5 {
		member.signIn("guest", fmt.Sprintf("not my password %d", i))
	}
	if res := member.signIn("guest", memberPassword); res.Status != http.StatusTooManyRequests || member.text("#error") != member.T("error.account_locked", 15) {
		t.Fatalf("member after 5 failures: %d %q", res.Status, member.text("#error"))
	}
	owner.open("/users")
	if !owner.has("#user-guest .badge.warn") || !owner.has("#user-guest button.unlock") {
		t.Fatalf("locked member's row: %q", owner.text("#user-guest"))
	}
	owner.ownerAction("#user-guest button.unlock", ownerPassword)
	if owner.text("main .flash") != owner.T("flash.unlocked") || owner.has("#user-guest .badge.warn") {
		t.Errorf("after unlocking: %q / row %q", owner.text("main .flash"), owner.text("#user-guest"))
	}
	if res := member.signIn("guest", memberPassword); res.Status != http.StatusOK || member.path() != "/" {
		t.Fatalf("member after the unlock: %d at %s", res.Status, member.path())
	}

	// A reset ends the member's sessions and issues a new temporary password.
	owner.ownerAction("#user-guest button.reset", ownerPassword)
	temp2 := owner.text("#temporary-password-value")
	owner.allow(temp2)
	if temp2 == "" || temp2 == temp {
		t.Fatalf("reset: temporary password %q (first was %q)", temp2, temp)
	}
	member.open("/")
	member.expectPage("/login", "login.heading")
	if res := member.signIn("guest", memberPassword); res.Status != http.StatusUnauthorized {
		t.Errorf("old password after the reset: %d", res.Status)
	}
	member.signIn("guest", temp2)
	member.expectPage("/setup/password", "setup.password.heading")

	// Removal ends the member's sessions and the account.
	owner.open("/users")
	owner.ownerAction("#user-guest button.remove", ownerPassword)
	if owner.text("main .flash") != owner.T("flash.removed") || owner.has("#user-guest") {
		t.Errorf("after removing: %q, row present %v", owner.text("main .flash"), owner.has("#user-guest"))
	}
	member.open("/")
	member.expectPage("/login", "login.heading")
	if res := member.signIn("guest", temp2); res.Status != http.StatusUnauthorized {
		t.Errorf("removed member signs in: %d", res.Status)
	}

	// TS-0045 5.8: the owner's overview records what happened, in the owner's language.
	owner.open("/")
	owner.expectPage("/", "dashboard.title")
	for _, key := range []string{"event.password.reset", "event.user.removed"} {
		if !strings.Contains(owner.text("#events"), owner.T(key)) {
			t.Errorf("security events lack %q: %q", owner.T(key), owner.text("#events"))
		}
	}
}

// TS-0045 5.4.2.5: a change to accounts or security settings whose password entry is
// older than 10 minutes is sent to /reauth?next=<the form's action> (internal/web,
// routes.go); once the password is confirmed, the owner must land where the change can
// be repeated, as the page promises. The release binary's 10 minutes cannot be shortened,
// so the test follows the link the gateway builds for each action that needs it; a change
// to how that link is built must change the list below with it.
func TestBrowserReauthReturnsToTheForm(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	tb := newChrome(t, []*device{d}).tab(d, "en")
	tb.setUp(d)
	tb.open("/users")
	tb.fill("#new-username", "cousin")
	tb.ownerAction("#add-user-submit", ownerPassword)
	// The gateway sends each form's user back to the page holding the form.
	for page, action := range map[string]string{"/settings": "/settings", "/setup/settings": "/setup/settings", "/users": "/users/add", "/account": "/account/password"} {
		tb.open("/reauth?next=" + page)
		tb.fill("#reauth-password", ownerPassword)
		res := tb.click("#reauth-submit")
		if res.Status != http.StatusOK || tb.text("main .flash") != tb.T("flash.reauthed") || !tb.has(`form[action="`+action+`"]`) {
			t.Errorf("password confirmed for %s: %d at %s, %q; want the page with that form to repeat the change", action, res.Status, tb.path(), tb.text("main h1"))
		}
	}
}

// The language switch overrides Accept-Language for every page (a cookie); signing
// out, and signing out everywhere, end the sessions.
func TestBrowserLanguageAndSignOut(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	b := newChrome(t, []*device{d})
	tb := b.tab(d, "zh-TW")
	tb.setUp(d)
	tb.expectPage("/", "dashboard.title")

	tb.switchLanguage("en")
	tb.expectPage("/", "dashboard.title")
	tb.open("/account")
	tb.expectPage("/account", "account.heading")
	if c := tb.cookies()["lang"]; c == nil || c.Value != "en" {
		t.Fatalf("language cookie: %+v", c)
	}
	tb.open("/login") // signed in: back to the overview, still in English
	tb.expectPage("/", "dashboard.title")
	tb.switchLanguage("zh-TW")
	tb.open("/settings")
	tb.expectPage("/settings", "settings.heading")

	tb.click("#logout")
	tb.expectPage("/login", "login.heading")
	if got := tb.text("main .flash"); got != tb.T("flash.signed_out") {
		t.Errorf("after signing out: %q", got)
	}
	if _, ok := tb.cookies()["__Host-session"]; ok {
		t.Error("the session cookie outlives the sign-out")
	}
	tb.open("/")
	tb.expectPage("/login", "login.heading")

	// Two browsers signed in; "sign out everywhere" in one ends the other too.
	tb.signIn("owner", ownerPassword)
	other := b.tab(d, "en")
	other.signIn("owner", ownerPassword)
	other.expectPage("/", "dashboard.title")
	tb.open("/account")
	tb.click("#signout-all")
	tb.expectPage("/login", "login.heading")
	if got := tb.text("main .flash"); got != tb.T("flash.signed_out_all") {
		t.Errorf("after signing out everywhere: %q", got)
	}
	other.open("/account")
	other.expectPage("/login", "login.heading")
}

// TS-0045 5.4.2.7, 5.5.2.1: the browser holds the gateway's cookies as HttpOnly, Secure
// and SameSite=Strict; a form on another site that posts to the gateway while the
// owner is signed in creates nothing, whether the site is cross-site (another host)
// or same-site (another port of localhost, where SameSite does not help).
func TestBrowserCookiesAndCrossSiteForms(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	attack := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>prize</title><form method="post" action="%s/users/add">
<input type="hidden" name="username" value="%s"><input type="hidden" name="role" value="owner">
<input type="hidden" name="csrf" value="guess"><button id="go">Claim your prize</button></form>`, d.url(), name)
		})
	}
	crossSite := httptest.NewServer(attack("intruder"))
	defer crossSite.Close()
	sameSite := httptest.NewTLSServer(attack("neighbour"))
	defer sameSite.Close()
	b := newChrome(t, []*device{d}, sameSite.Certificate())
	tb := b.tab(d, "en")
	tb.setUp(d)
	tb.switchLanguage("en") // sets the language cookie

	cookies := tb.cookies()
	for _, name := range []string{"__Host-session", "__Host-device", "lang"} {
		c := cookies[name]
		if c == nil {
			t.Errorf("no %s cookie; the browser has %v", name, slices.Collect(maps.Keys(cookies)))
			continue
		}
		if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteStrict || c.Path != "/" {
			t.Errorf("cookie %s: HttpOnly=%v Secure=%v SameSite=%q Path=%q", name, c.HTTPOnly, c.Secure, c.SameSite, c.Path)
		}
	}

	for _, site := range []struct{ url, user string }{
		{crossSite.URL, "intruder"},
		{strings.Replace(sameSite.URL, "127.0.0.1", "localhost", 1), "neighbour"},
	} {
		tb.do(chromedp.Navigate(site.url))
		res := tb.click("#go")
		if res.Status != http.StatusForbidden {
			t.Errorf("form posted from %s: %d, want 403", site.url, res.Status)
		}
		tb.open("/users")
		if tb.has("#user-" + site.user) {
			t.Errorf("the form on %s created the account %q", site.url, site.user)
		}
	}
}

// The collector catches what the other browser tests rely on it to catch: an inline
// script the Content Security Policy blocks, and an uncaught JavaScript exception.
func TestBrowserReportsPageErrors(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	tb := newChrome(t, []*device{d}).tab(d, "en")
	tb.open("/login")

	tb.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.createElement("script");
		s.textContent = "window.injected = true";
		document.body.appendChild(s);
	})()`))
	seen := tb.waitProblem("Content Security Policy")
	if js[bool](tb, "window.injected === true") {
		t.Errorf("the inline script ran despite the policy; collector: %q", seen)
	}

	tb.do(chromedp.Evaluate[chromedp.Void](`setTimeout(() => { throw new Error("deliberate") }, 0)`))
	tb.waitProblem("deliberate")

	tb.do(chromedp.Evaluate[chromedp.Void](`console.error("deliberate console error")`))
	tb.waitProblem("deliberate console error")
}
