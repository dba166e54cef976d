package e2e

import (
	"context"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/text/language"

	"hearth/internal/i18n"
)

// Passwords the browser tests choose: long, unrelated words, accepted by the policy.
const (
	ownerPassword  = "tidal quiet harbour lantern"
	memberPassword = "amber meadow violin orbit"
)

// signIn submits the sign-in form and returns the response of the page it leads to.
func (tb *tab) signIn(user, password string) *network.Response {
	tb.t.Helper()
	if tb.path() != "/login" {
		tb.open("/login")
	}
	tb.fill("#username", user, "#password", password)
	return tb.click("#login-submit")
}

// changePassword fills the password form of the page (first-run or account) and
// submits it with submit.
func (tb *tab) changePassword(current, next, submit string) *network.Response {
	tb.t.Helper()
	tb.fill("#current-password", current, "#new-password", next, "#confirm-password", next)
	return tb.click(submit)
}

// setUp runs the owner's first-run flow in the shortest way: label password, own
// password, recommended settings. The tab ends on the overview.
func (tb *tab) setUp(d *device) {
	tb.t.Helper()
	tb.open("/login")
	tb.signIn(d.label["username"], d.label["default_password"])
	tb.changePassword(d.label["default_password"], ownerPassword, "#setup-password-submit")
	tb.click("#setup-settings-submit")
	tb.click("#to-dashboard")
	if tb.path() != "/" || !tb.has("#device-model") {
		tb.t.Fatalf("%s: the first-run flow did not end on the overview", tb.where())
	}
}

// ownerAction clicks a button of an account or settings form. When the gateway asks
// for the password again first (/reauth), it is given and the click repeated on the
// page the gateway returns to.
func (tb *tab) ownerAction(sel, password string) *network.Response {
	tb.t.Helper()
	res := tb.click(sel)
	if tb.path() != "/reauth" {
		return res
	}
	tb.t.Logf("%s: the gateway asked for the password again", tb.where())
	tb.fill("#reauth-password", password)
	tb.click("#reauth-submit")
	return tb.click(sel)
}

// switchLanguage clicks the header's language button for lang and from then on
// expects the pages in lang.
func (tb *tab) switchLanguage(lang string) {
	tb.t.Helper()
	tb.click(`.lang button[value="` + lang + `"]`)
	cat, err := i18n.New()
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.lang, tb.msg = lang, cat.Printer(language.MustParse(lang))
	tb.expectLang(lang)
}

// cookies returns the cookies the browser holds for the gateway, by name.
func (tb *tab) cookies() map[string]*network.Cookie {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base + "/"}})
	if err != nil {
		tb.t.Fatalf("%s: cookies: %v", tb.where(), err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		out[c.Name] = c
	}
	return out
}

// waitProblem waits until the tab's collector has recorded a problem containing
// substr and returns everything it recorded (which it then forgets).
func (tb *tab) waitProblem(substr string) []string {
	tb.t.Helper()
	var seen []string
	tb.until(func() bool {
		seen = append(seen, tb.takeProblems()...)
		for _, p := range seen {
			if strings.Contains(p, substr) {
				return true
			}
		}
		return false
	}, "the collector to report "+substr)
	return seen
}

// weigh loads path with the browser cache off and returns the bytes received for the
// page and everything it loads (headers and bodies, as sent), with the list of requests.
func (tb *tab) weigh(path string) (float64, []string) {
	tb.t.Helper()
	tb.do(call(network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}))
	defer tb.do(call(network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: false}))
	tb.resetCount()
	tb.open(path)
	// The icon may arrive after the load event; the page is complete with it (if the
	// browser asks for it at all).
	tb.within(5*time.Second, func() bool {
		_, reqs := tb.count()
		for _, r := range reqs {
			if strings.Contains(r, "/assets/icon.svg") {
				return true
			}
		}
		return false
	})
	return tb.count()
}
