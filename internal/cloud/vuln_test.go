package cloud

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/vuln"
)

// vreq sends an anonymous request with headers and returns the response and its body.
func (g *rig) vreq(t *testing.T, method, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.url(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := g.mtlsClient(t, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

const jsonType = "application/json"

// TS-0045 5.2.1.1: anyone finds the contact, the acknowledgement time and the status
// updates without logging in.
func TestSecurityTxtAndPolicy(t *testing.T) {
	g := newRig(t)
	res, body := g.vreq(t, "GET", "/.well-known/security.txt", "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("security.txt: %d %s", res.StatusCode, body)
	}
	for _, want := range []string{"Contact: mailto:", "Contact: https://", "/security/report\n", "Expires: ", "Policy: ", "Preferred-Languages: zh-TW, en", "Canonical: "} {
		if !strings.Contains(body, want) {
			t.Errorf("security.txt lacks %q", want)
		}
	}
	res, body = g.vreq(t, "GET", "/v1/vulns/policy", "")
	var p struct {
		AckWorkingDays int `json:"ack_working_days"`
		UpdateDays     int `json:"update_days"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &p) != nil || p.AckWorkingDays != 5 || p.UpdateDays != 14 {
		t.Fatalf("policy JSON: %d %s", res.StatusCode, body)
	}
	res, body = g.vreq(t, "GET", "/security/policy", "")
	if res.StatusCode != 200 || !strings.Contains(body, "5 個工作天") || !strings.Contains(body, "5 working days") {
		t.Fatalf("policy page: %d %s", res.StatusCode, body)
	}
}

// TS-0045 5.2.1.1: a report by API, its status to the holder of its token only.
func TestVulnAPI(t *testing.T) {
	g := newRig(t)
	sub := `{"title":"Login lockout bypass","description":"Steps:\n1. ...","product":"HG-100","version":"1.2.0",
		"cvss":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","contact":"r@example.org"}`
	res, body := g.vreq(t, "POST", "/v1/vulns", sub, "Content-Type", jsonType)
	if res.StatusCode != 201 {
		t.Fatalf("submit: %d %s", res.StatusCode, body)
	}
	var got struct{ ID, Token, State, Message string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.State != "received" || !strings.Contains(got.Message, "received") {
		t.Fatalf("submit answer: %s", body)
	}
	res, body = g.vreq(t, "GET", "/v1/vulns/"+got.ID, "", "Authorization", "Bearer "+got.Token)
	if res.StatusCode != 200 || !strings.Contains(body, `"severity":"critical"`) || strings.Contains(body, "token_sha256") || strings.Contains(body, got.Token) {
		t.Fatalf("status: %d %s", res.StatusCode, body)
	}
	// The operator triages; the reporter sees it.
	st, _ := vuln.Open(vuln.Config{VendorDir: g.vendor})
	if _, err := st.SetState(got.ID, vuln.Triaged, "Confirmed <b>bold</b>"); err != nil {
		t.Fatal(err)
	}
	res, body = g.vreq(t, "GET", "/security/report/"+got.ID+"?token="+url.QueryEscape(got.Token), "")
	if res.StatusCode != 200 || !strings.Contains(body, "Confirmed &lt;b&gt;bold&lt;/b&gt;") || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("status page: %d %s", res.StatusCode, body)
	}
	for _, hdr := range [][]string{{}, {"Authorization", "Bearer " + strings.Repeat("A", 43)}, {"Authorization", got.Token}} {
		if res, _ := g.vreq(t, "GET", "/v1/vulns/"+got.ID, "", hdr...); res.StatusCode != 404 {
			t.Errorf("status with %v: %d", hdr, res.StatusCode)
		}
	}
	if res, _ := g.vreq(t, "GET", "/security/report/HV-0000000000000000?token="+got.Token, ""); res.StatusCode != 404 {
		t.Errorf("unknown id: %d", res.StatusCode)
	}
}

// TS-0045 5.5.2.1: malformed and oversized reports get a clear 4xx.
// Hostile and malformed input gets a clear 4xx, never a 5xx.
func TestVulnIntakeRefusals(t *testing.T) {
	g := newRig(t)
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"not JSON", jsonType, "{", 400, ""},
		{"unknown field", jsonType, `{"title":"t","description":"d","product":"p","state":"fixed"}`, 400, ""},
		{"missing title", jsonType, `{"description":"d","product":"p"}`, 400, "title"},
		{"control character", jsonType, `{"title":"t\u0007","description":"d","product":"p"}`, 400, "title"},
		{"invalid UTF-8", jsonType, "{\"title\":\"\xff\xfe\",\"description\":\"d\",\"product\":\"p\"}", 400, "body"},
		{"bad CVSS", jsonType, `{"title":"t","description":"d","product":"p","cvss":"CVSS:3.1/AV:Z"}`, 400, "cvss"},
		{"long description", jsonType, `{"title":"t","product":"p","description":"` + strings.Repeat("x", 20001) + `"}`, 400, "description"},
		{"oversized", jsonType, `{"title":"t","product":"p","description":"` + strings.Repeat("x", 70000) + `"}`, 413, ""},
		{"wrong type", "text/plain", `{}`, 415, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := g.vreq(t, "POST", "/v1/vulns", tc.body, "Content-Type", tc.ctype)
			var e struct{ Error, Field, Message string }
			json.Unmarshal([]byte(body), &e)
			if res.StatusCode != tc.status || e.Message == "" || (tc.field != "" && e.Field != tc.field) {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
		})
	}
	form := url.Values{"title": {"t"}, "description": {strings.Repeat("x", 70000)}, "product": {"p"}}.Encode()
	if res, _ := g.vreq(t, "POST", "/security/report", form, "Content-Type", "application/x-www-form-urlencoded"); res.StatusCode != 413 {
		t.Fatalf("oversized form: %d", res.StatusCode)
	}
	if res, _ := g.vreq(t, "POST", "/security/report", "title=%zz", "Content-Type", "application/x-www-form-urlencoded"); res.StatusCode != 400 {
		t.Fatalf("malformed form: %d", res.StatusCode)
	}
}

// TS-0045 5.5.2.1: a script-laden report is rendered escaped.
// A script-laden report is stored as sent and always rendered escaped.
func TestVulnFormEscapes(t *testing.T) {
	g := newRig(t)
	res, body := g.vreq(t, "GET", "/security/report", "")
	if res.StatusCode != 200 || !strings.Contains(body, `<form method="post" action="/security/report"`) || strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Fatalf("form: %d %s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	evil := `<script>alert(1)</script>"><img src=x onerror=alert(2)>`
	form := url.Values{"title": {evil}, "description": {evil + "\r\nline 2"}, "product": {"HG-100"}, "contact": {"r@example.org"}}.Encode()
	res, body = g.vreq(t, "POST", "/security/report", form, "Content-Type", "application/x-www-form-urlencoded")
	if res.StatusCode != 201 || strings.Contains(body, "<script>alert") {
		t.Fatalf("submit: %d %s", res.StatusCode, body)
	}
	i := strings.Index(body, "?token=")
	if i < 0 {
		t.Fatalf("no status link: %s", body)
	}
	link := body[strings.LastIndex(body[:i], `href="`)+6 : i+7+43]
	res, body = g.vreq(t, "GET", strings.ReplaceAll(link, "&amp;", "&"), "")
	if res.StatusCode != 200 || strings.Contains(body, "<script>alert") || strings.Contains(body, "<img") ||
		!strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "line 2") {
		t.Fatalf("status page: %d %s", res.StatusCode, body)
	}
	// A refused form keeps the reporter's text, escaped.
	form = url.Values{"title": {evil}, "description": {"d"}, "product": {""}}.Encode()
	res, body = g.vreq(t, "POST", "/security/report", form, "Content-Type", "application/x-www-form-urlencoded")
	if res.StatusCode != 400 || strings.Contains(body, "<script>alert") || !strings.Contains(body, "product: required") {
		t.Fatalf("refused form: %d %s", res.StatusCode, body)
	}
	// A cross-site form post is refused.
	res, _ = g.vreq(t, "POST", "/security/report", form, "Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != 403 {
		t.Fatalf("cross-site post: %d", res.StatusCode)
	}
}

// TS-0045 5.5.2.1: anonymous intake is rate limited, with Retry-After.
func TestVulnRateLimit(t *testing.T) {
	g := newRig(t)
	sub := `{"title":"t","description":"d","product":"p"}`
	for i := range submissionsPerHour {
		if res, body := g.vreq(t, "POST", "/v1/vulns", sub, "Content-Type", jsonType); res.StatusCode != 201 {
			t.Fatalf("report %d: %d %s", i+1, res.StatusCode, body)
		}
	}
	res, body := g.vreq(t, "POST", "/v1/vulns", sub, "Content-Type", jsonType)
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != 429 || err != nil || n < 1 {
		t.Fatalf("sixth report: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
}

// TS-0045 5.3.1.13: the support period is public, as JSON and as a page.
func TestSupportPeriod(t *testing.T) {
	g := newRig(t)
	res, body := g.vreq(t, "GET", "/v1/support", "")
	var got struct{ Models []vuln.Model }
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got.Models) != 1 || got.Models[0].Model != "HG-100" || got.Models[0].SupportEnd == "" {
		t.Fatalf("support: %d %s", res.StatusCode, body)
	}
	res, body = g.vreq(t, "GET", "/support", "")
	if res.StatusCode != 200 || !strings.Contains(body, "支援期限") || !strings.Contains(body, "Support period") || !strings.Contains(body, got.Models[0].SupportEnd) {
		t.Fatalf("support page: %d %s", res.StatusCode, body)
	}
}

// TS-0045 5.2.1.2: the services warn about reports past their deadlines.
func TestOverdueLogged(t *testing.T) {
	v := t.TempDir()
	past := func() time.Time { return time.Now().AddDate(0, 0, -30) }
	st, err := vuln.Open(vuln.Config{VendorDir: v, Now: past})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := st.Submit(vuln.Submission{Title: "t", Description: "d", Product: "p"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	s := &Server{cfg: Config{VendorDir: v, Log: slog.New(slog.NewTextHandler(&buf, nil)), Now: time.Now}}
	s.logOverdue()
	for _, want := range []string{"level=WARN", "vulnerability report overdue", "report=" + r.ID, "deadline=ack", "deadline=update"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
