package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/text/language"

	"hearth/internal/i18n"
)

// Desktop viewport of every tab; screenshots add the phone viewport (browser_shots_test.go).
const desktopWidth, desktopHeight = 1280, 800

// stepTimeout bounds one browser step (a navigation, a click and its page load, a wait).
const stepTimeout = 20 * time.Second

// chromium returns the browser binary. A machine without it fails the browser tests
// instead of skipping them.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is required for the browser tests (.ci/run installs it)")
	return ""
}

// spki returns the pin Chromium takes in --ignore-certificate-errors-spki-list: the
// base64 SHA-256 of the gateway's leaf SubjectPublicKeyInfo. The served chain is first
// verified against the vendor root, so the browser is pinned to a key the vendor issued.
func (d *device) spki() string {
	d.t.Helper()
	pem, err := os.ReadFile(d.root)
	if err != nil {
		d.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", d.addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err != nil {
		d.t.Fatalf("TLS to the gateway with the vendor root: %v", err)
	}
	defer conn.Close()
	return pin(conn.ConnectionState().PeerCertificates[0])
}

func pin(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// chrome is one headless Chromium for one test. It verifies TLS as usual, except that
// it accepts the certificates whose keys are pinned (the gateways under test, which the
// vendor root signs but Chromium does not know).
type chrome struct {
	t   *testing.T
	ctx context.Context // the browser's first tab; children open new tabs
	ua  string          // the browser's own user agent, which a language override restates
}

// newChrome starts Chromium pinned to the keys of the running devices and of any
// extra certificates (other servers a test runs).
func newChrome(t *testing.T, devs []*device, extra ...*x509.Certificate) *chrome {
	t.Helper()
	var pins []string
	for _, d := range devs {
		pins = append(pins, d.spki())
	}
	for _, c := range extra {
		pins = append(pins, pin(c))
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(desktopWidth, desktopHeight),
		chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(pins, ",")),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	attach(t, ctx, "start chromium")
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("chromium version: %v", err)
	}
	return &chrome{t: t, ctx: ctx, ua: v.UserAgent}
}

// attach runs the first action on ctx, which starts the browser or opens the tab. That
// call ties the browser or tab to the context it is given, so it gets ctx itself and
// the timer only bounds the wait.
func attach(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer within 30 s", what)
	}
}

// tab is one signed-in (or signed-out) person: a separate browser context (its own
// cookies and cache) with one tab, a language, and a collector of every page error.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the gateway's URL
	lang string // the language the UI must answer in: "zh-TW" or "en"
	msg  i18n.Printer

	mu       sync.Mutex
	problems []string
	docs     map[network.RequestID]bool // requests for whole pages
	received float64                    // bytes received since the last resetCount
	requests []string                   // URLs finished since the last resetCount
	urls     map[network.RequestID]string
	names    []string      // proper names and codes that pages show in any language
	shots    string        // this tab's screenshot directory, made at the first shot
	recorded chan struct{} // signalled when the listener records something
}

// acceptLanguage is the language list of a browser set to the language; Chromium adds
// the q-values (Accept-Language: zh-TW,zh;q=0.9,en;q=0.8).
var acceptLanguage = map[string]string{"zh-TW": "zh-TW,zh,en", "en": "en-US,en"}

// tab opens a new browser context on the device d, with the Accept-Language of lang.
// When the test ends it fails if any page of the tab threw a JavaScript error, logged an
// error, or violated the Content Security Policy.
func (b *chrome) tab(d *device, lang string) *tab {
	b.t.Helper()
	cat, err := i18n.New()
	if err != nil {
		b.t.Fatal(err)
	}
	tb := &tab{t: b.t, base: d.url(), lang: lang, msg: cat.Printer(language.MustParse(lang)),
		names: []string{"Hearth", "中文", "English", "TS-0045", "TLS", "FIPS", "Webhook",
			"ts0045 verify-events --root root-ca.crt hearth-events.json",
			d.label["vendor"], d.label["model"], d.label["name"], d.label["serial"], d.label["username"]},
		docs: map[network.RequestID]bool{}, urls: map[network.RequestID]string{}, recorded: make(chan struct{}, 1)}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	tb.ctx = ctx
	attach(b.t, ctx, "open a tab")
	b.t.Cleanup(func() {
		cancel()
		if p := tb.takeProblems(); len(p) > 0 {
			b.t.Errorf("%s tab: the pages reported errors:\n  %s", lang, strings.Join(p, "\n  "))
		}
	})
	tb.do(
		chromedp.EmulateViewport(desktopWidth, desktopHeight),
		call(emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: b.ua, AcceptLanguage: acceptLanguage[lang]}),
	)
	return tb
}

// listen runs in the tab's event loop: it records and returns at once.
func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	defer func() {
		select {
		case tb.recorded <- struct{}{}:
		default:
		}
	}()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		tb.problems = append(tb.problems, "uncaught exception: "+exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, remoteText(a))
			}
			tb.problems = append(tb.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError && !isCSPViolation(e.Text) {
			return
		}
		// A page answered with an error status (401 for a wrong password, 403, 429):
		// the tests check those statuses themselves. So is the browser's own guess at
		// /favicon.ico on a response that names no icon (the JSON of a refused
		// request). A failed script, style or fetch of a page is a problem.
		if e.Source == log.EntrySourceNetwork && (tb.docs[e.NetworkRequestID] || strings.HasSuffix(e.URL, "/favicon.ico")) {
			return
		}
		tb.problems = append(tb.problems, fmt.Sprintf("%s %s: %s (%s)", e.Source, e.Level, e.Text, e.URL))
	case *network.EventRequestWillBeSent:
		tb.urls[ev.RequestID] = ev.Request.URL
		if ev.Type == network.ResourceTypeDocument {
			tb.docs[ev.RequestID] = true
		}
	case *network.EventLoadingFinished:
		tb.received += ev.EncodedDataLength
		tb.requests = append(tb.requests, fmt.Sprintf("%s %.0f B", tb.urls[ev.RequestID], ev.EncodedDataLength))
	}
}

// isCSPViolation recognises Chromium's report of a Content Security Policy violation.
func isCSPViolation(text string) bool {
	return strings.Contains(text, "Content Security Policy")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d)", s, d.URL, d.LineNumber+1)
}

func remoteText(o *runtime.RemoteObject) string {
	if o.Description != "" {
		return o.Description
	}
	return strings.Trim(string(o.Value), `"`)
}

// takeProblems returns and forgets the errors recorded so far.
func (tb *tab) takeProblems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

// until waits, with a deadline, until cond holds; cond is checked again each time the
// listener records an event.
func (tb *tab) until(cond func() bool, what string) {
	tb.t.Helper()
	if !tb.within(stepTimeout, cond) {
		tb.t.Fatalf("%s: timed out waiting for %s", tb.where(), what)
	}
}

// within reports whether cond holds within limit, checking it each time the listener
// records an event.
func (tb *tab) within(limit time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tb.recorded:
		case <-deadline.C:
			return false
		}
	}
	return true
}

// resetCount starts a new count of the bytes received.
func (tb *tab) resetCount() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.received, tb.requests = 0, nil
}

func (tb *tab) count() (float64, []string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.received, append([]string(nil), tb.requests...)
}

// call turns one protocol command into an action.
func call[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

// do runs actions, each step bounded by stepTimeout, and fails the test on error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	for _, a := range actions {
		ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			tb.t.Fatalf("%s: %v", tb.where(), err)
		}
	}
}

// get runs one action that returns a value.
func get[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s: %v", tb.where(), err)
	}
	return v
}

// where names the tab's page for failure messages.
func (tb *tab) where() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return tb.lang + " tab"
	}
	return tb.lang + " tab at " + loc
}

// open navigates to path and returns the final response (after redirects).
func (tb *tab) open(path string) *network.Response {
	tb.t.Helper()
	return get(tb, chromedp.NavigateResponse(tb.base+path))
}

// click clicks sel and waits for the page it leads to.
func (tb *tab) click(sel string) *network.Response {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		tb.t.Fatalf("%s: click %s: %v", tb.where(), sel, err)
	}
	if res == nil {
		tb.t.Fatalf("%s: click %s loaded no page", tb.where(), sel)
	}
	return res
}

// path is the path of the tab's page.
func (tb *tab) path() string {
	tb.t.Helper()
	u, err := url.Parse(get(tb, chromedp.Location()))
	if err != nil {
		tb.t.Fatal(err)
	}
	return u.Path
}

// fill sets form fields by CSS selector, as autofill would (no key events).
func (tb *tab) fill(fields ...string) {
	tb.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		tb.do(chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1], chromedp.NodeVisible))
	}
}

// typeInto types v into the field sel key by key, as a person would.
func (tb *tab) typeInto(sel, v string) {
	tb.t.Helper()
	tb.do(chromedp.SendKeys(chromedp.CSS(sel), v, chromedp.NodeVisible))
}

// text is the text content of the first element matching sel, trimmed.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.TrimSpace(get(tb, chromedp.TextContent(chromedp.CSS(sel), chromedp.NodeReady)))
}

// js evaluates expr in the page.
func js[T any](tb *tab, expr string) T {
	tb.t.Helper()
	return get(tb, chromedp.Evaluate[T](expr))
}

// has reports whether the page has an element matching sel (without waiting).
func (tb *tab) has(sel string) bool {
	tb.t.Helper()
	return js[bool](tb, fmt.Sprintf("document.querySelector(%q) !== null", sel))
}

// T is the UI text of key in the tab's language.
func (tb *tab) T(key string, args ...any) string { return tb.msg.T(key, args...) }

// expectPage checks the tab shows path with the page heading of key, in the tab's
// language (the <html lang> and the heading text).
func (tb *tab) expectPage(path, headingKey string) {
	tb.t.Helper()
	if got := tb.path(); got != path {
		tb.t.Fatalf("%s: want the page %s", tb.where(), path)
	}
	tb.expectLang(tb.lang)
	if got, want := tb.text("main h1"), tb.T(headingKey); got != want {
		tb.t.Fatalf("%s: heading %q, want %q (%s)", tb.where(), got, want, headingKey)
	}
	tb.expectTranslated()
}

// allow adds names (user names, passwords) that the pages may show in any language.
func (tb *tab) allow(names ...string) { tb.names = append(tb.names, names...) }

var (
	latinWord = regexp.MustCompile(`[A-Za-z]{3,}`)
	hanText   = regexp.MustCompile(`\p{Han}+`)
)

// expectTranslated checks the page shows no text of the other language, apart from
// proper names and codes: no English words on a Chinese page, no Chinese on an
// English one.
func (tb *tab) expectTranslated() {
	tb.t.Helper()
	text := js[string](tb, "document.body.innerText")
	names := slices.Clone(tb.names)
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) }) // "Hearth Gateway" before "Hearth"
	for _, n := range names {
		if n != "" {
			text = strings.ReplaceAll(text, n, " ")
		}
	}
	other := hanText
	if tb.lang == "zh-TW" {
		other = latinWord
	}
	if found := other.FindAllString(text, -1); len(found) > 0 {
		slices.Sort(found)
		tb.t.Errorf("%s: text left untranslated on the %s page: %q", tb.where(), tb.lang, slices.Compact(found))
	}
}

// expectLang checks the page is in lang, and that the language switch says so.
func (tb *tab) expectLang(lang string) {
	tb.t.Helper()
	if got := js[string](tb, "document.documentElement.lang"); got != lang {
		tb.t.Fatalf("%s: <html lang=%q>, want %q", tb.where(), got, lang)
	}
	pressed := js[string](tb, `(document.querySelector('.lang button[aria-pressed="true"]') || {}).value || ""`)
	if pressed != lang {
		tb.t.Fatalf("%s: the language switch marks %q, want %q", tb.where(), pressed, lang)
	}
}

// waitFor polls the boolean expression expr in the page until it holds.
func (tb *tab) waitFor(expr, what string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout))); err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) || errors.Is(err, context.DeadlineExceeded) {
			tb.t.Fatalf("%s: timed out waiting for %s", tb.where(), what)
		}
		tb.t.Fatalf("%s: waiting for %s: %v", tb.where(), what, err)
	}
}
