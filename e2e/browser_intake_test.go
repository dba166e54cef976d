package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
)

// Reporter's text that would run or add elements if a page did not escape it.
const (
	xssTitle       = `Stored XSS <script>alert(1)</script>`
	xssDescription = "Steps:\n<img src=x onerror=alert(2)>\n<script>alert(1)</script>\nImpact: script runs in the vendor's pages."
)

// TS-0045 5.2.1.1, 5.5.2.1: a researcher with an ordinary browser and no account
// reports a vulnerability on the vendor's form (hearth-cloud serve), in a title and a
// description made of markup that would run script if echoed; the acknowledgement gives
// the tracking id and the status token once, and the status page shows the text as
// text: no element injected, no dialog, no page error or Content Security Policy
// violation. security.txt names the contact, expiry, policy, languages and canonical
// address. The intake takes 5 reports per hour from one network; the next is refused
// with 429 on a page that says why, keeping the reporter's text.
//
// The vendor's pages are bilingual (zh-TW and English on one page, no ?lang), so the
// test runs once, with an English browser.
func TestBrowserVulnerabilityIntake(t *testing.T) {
	vendor := newVendor(t)
	addr := freeAddr(t)
	startVendor(t, vendor, addr)
	b := newChrome(t, nil, vendorLeaf(t, vendor, addr))
	// The tab's harness speaks to a gateway; here its base is the vendor's address.
	tb := b.tab(&device{t: t, addr: addr, label: map[string]string{}}, "en")
	// Every window.alert would be recorded here instead of opening a dialog.
	tb.do(call(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__dialogs = []; window.alert = window.confirm = window.prompt = m => { window.__dialogs.push(String(m)); };`}))

	if res := tb.open("/security/report"); res.Status != http.StatusOK || !strings.Contains(header(res, "Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("report form: %d, policy %q", res.Status, header(res, "Content-Security-Policy"))
	}
	tb.shootIfFits("vuln-report-form")

	res := submitReport(t, tb, xssTitle, xssDescription)
	if res.Status != http.StatusCreated {
		t.Fatalf("first report: %d %q", res.Status, tb.text("main"))
	}
	id := tb.text("main h1 code")
	token := tb.text("main p > code")
	if !regexp.MustCompile(`^[A-Za-z0-9-]{6,}$`).MatchString(id) || len(token) < 20 {
		t.Fatalf("acknowledgement: id %q, token %q", id, token)
	}
	expectInert(t, tb)
	tb.shootIfFits("vuln-report-received")

	tb.click(`main a[href^="/security/report/"]`)
	if !strings.HasPrefix(tb.path(), "/security/report/"+id) {
		t.Fatalf("the status link leads to %s", tb.path())
	}
	if got, want := tb.text("main h1"), id+": "+xssTitle; got != want {
		t.Errorf("status heading %q, want the title as text %q", got, want)
	}
	if got := js[string](tb, `document.querySelector("main pre").textContent`); got != xssDescription {
		t.Errorf("status description %q, want the text as written %q", got, xssDescription)
	}
	expectInert(t, tb)
	tb.shootIfFits("vuln-report-status")

	tb.open("/.well-known/security.txt")
	expectSecurityTxt(t, js[string](tb, "document.body.innerText"))

	// The declared limit: 5 reports per network and hour. The first was one of them.
	for i := 2; i <= 5; i++ {
		if res := submitReport(t, tb, "Report number "+string(rune('0'+i)), "Another finding."); res.Status != http.StatusCreated {
			t.Fatalf("report %d of 5: %d %q", i, res.Status, tb.text("main"))
		}
	}
	for i := 6; i <= 7; i++ {
		res := submitReport(t, tb, xssTitle, xssDescription)
		if res.Status != http.StatusTooManyRequests || header(res, "Retry-After") == "" {
			t.Fatalf("report %d within the hour: %d, Retry-After %q, want 429 with Retry-After", i, res.Status, header(res, "Retry-After"))
		}
		if alert := tb.text(`main p[role="alert"]`); !strings.Contains(alert, "too many reports from your network") {
			t.Errorf("report %d: the refusal says %q", i, alert)
		}
		if got := js[string](tb, `document.getElementById("title").value`); got != xssTitle {
			t.Errorf("report %d: the refused form lost the title: %q", i, got)
		}
		expectInert(t, tb)
	}
	tb.shootIfFits("vuln-report-limited")
}

// vendorLeaf returns the certificate hearth-cloud serve presents, verified against the
// vendor's root, for the browser to pin.
func vendorLeaf(t *testing.T, vendor, addr string) *x509.Certificate {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(vendor, "pki", "root-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS to the vendor services with the vendor root: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// header is a response header as the browser received it, whatever its case.
func header(res *network.Response, name string) string {
	for k, v := range res.Headers {
		if s, ok := v.(string); ok && strings.EqualFold(k, name) {
			return s
		}
	}
	return ""
}

// submitReport fills the report form (opening it if the tab is elsewhere) and returns
// the answer to its submission.
func submitReport(t *testing.T, tb *tab, title, description string) *network.Response {
	t.Helper()
	if tb.path() != "/security/report" || !tb.has("#title") {
		tb.open("/security/report")
	}
	tb.fill("#title", title, "#product", "Hearth Gateway", "#version", "1.0.0", "#description", description)
	return tb.click(`main form button[type="submit"]`)
}

// expectInert checks the page runs and shows nothing the reporter wrote as markup: no
// script, image or handler attribute, and no dialog.
func expectInert(t *testing.T, tb *tab) {
	t.Helper()
	type dom struct {
		Scripts  int      `json:"scripts"`
		Images   int      `json:"images"`
		Handlers int      `json:"handlers"`
		Dialogs  []string `json:"dialogs"`
	}
	got := js[dom](tb, `({scripts: document.scripts.length, images: document.querySelectorAll("img").length,
		handlers: document.querySelectorAll("[onerror], [onload], [onclick]").length, dialogs: window.__dialogs || []})`)
	if got.Scripts != 0 || got.Images != 0 || got.Handlers != 0 || len(got.Dialogs) != 0 {
		t.Errorf("%s: the reporter's markup took effect: %+v", tb.where(), got)
	}
}

// expectSecurityTxt checks the RFC 9116 fields a researcher relies on.
func expectSecurityTxt(t *testing.T, txt string) {
	t.Helper()
	fields := map[string][]string{}
	for _, line := range strings.Split(txt, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
			fields[k] = append(fields[k], strings.TrimSpace(v))
		}
	}
	for _, k := range []string{"Contact", "Expires", "Policy", "Preferred-Languages", "Canonical"} {
		if len(fields[k]) == 0 {
			t.Errorf("security.txt lacks %s:\n%s", k, txt)
		}
	}
	if exp, err := time.Parse(time.RFC3339, strings.Join(fields["Expires"], "")); err != nil || !exp.After(time.Now()) || exp.After(time.Now().AddDate(1, 0, 0)) {
		t.Errorf("security.txt Expires %q: want a time within the coming year", fields["Expires"])
	}
	if !strings.Contains(strings.Join(fields["Preferred-Languages"], ""), "zh-TW") {
		t.Errorf("security.txt languages %q lack zh-TW", fields["Preferred-Languages"])
	}
}
