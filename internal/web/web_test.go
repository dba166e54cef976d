package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/api"
	"hearth/internal/auth"
	"hearth/internal/privacy"
	"hearth/internal/privacy/privacytest"
	"hearth/internal/settings"
	"hearth/internal/store/sqlite"
)

// label is this test run's label password, generated afresh: no credential is committed.
var label = mustGeneratePassword()

type ui struct {
	t   testing.TB
	srv *httptest.Server
	clk *clock
	db  *sqlite.DB
	ev  *sqlite.EventLog

	consents *privacy.ConsentService
	eraser   *privacy.Eraser
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newUI(t testing.TB) *ui { return newUIWith(t, nil) }

// newUIWith builds the UI; mod may add services to the API's configuration before the
// server starts.
func newUIWith(t testing.TB, mod func(u *ui, cfg *api.Config)) *ui {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := auth.Hasher{Iterations: auth.MinIterations}
	hash, _ := h.Hash(label)
	ev := &sqlite.EventLog{DB: db}
	clk := &clock{now: time.Now()}
	svc, err := auth.New(auth.Config{Hasher: h, DefaultPasswordHash: hash, DeviceWords: []string{"HG-100"}, Now: clk.Now}, db, ev)
	if err != nil {
		t.Fatal(err)
	}
	svc.EnsureOwner(ctx, "owner", hash)
	consents, eraser := privacytest.Services(t, privacytest.Setup{Store: db, Authz: svc, Events: ev, Now: clk.Now,
		Parts:   []privacy.Part{{Name: "database", Erase: db.EraseUserData}},
		Restore: func(ctx context.Context) error { return svc.EnsureOwner(ctx, "owner", hash) }})
	cfg := api.Config{Auth: svc, Settings: settings.New(db, svc, ev, clk.Now), Events: ev, Now: clk.Now, Consents: consents, Eraser: eraser, Device: api.Device{
		Vendor: "Hearth Labs", Model: "HG-100", Name: "Hearth Gateway", Serial: "HRT-AB12-CD34", FirmwareVersion: "1.0.0",
		SupportEnd: time.Now().AddDate(5, 0, 1).Format(time.DateOnly), FIPSMode: true, CryptoModule: "v1.0.0",
	}}
	u := &ui{t: t, clk: clk, db: db, ev: ev, consents: consents, eraser: eraser}
	if mod != nil {
		mod(u, &cfg)
	}
	a, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u.srv = httptest.NewTLSServer(a.Handler())
	t.Cleanup(u.srv.Close)
	return u
}

type browser struct {
	u    *ui
	hc   *http.Client
	lang string
}

func (u *ui) browser(lang string) *browser {
	jar, _ := cookiejar.New(nil)
	hc := *u.srv.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{u: u, hc: &hc, lang: lang}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.u.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.u.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.hc.Do(req)
	if err != nil {
		b.u.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header.Get("Location"), string(raw)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// post submits a form with the token found on the page at from.
func (b *browser) post(from, action string, form url.Values) page {
	b.u.t.Helper()
	p := b.do("GET", from, nil)
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		b.u.t.Fatalf("no form token on %s (%d)", from, p.status)
	}
	form.Set("csrf", m[1])
	return b.do("POST", action, form)
}

func (b *browser) login(user, pw string) page {
	return b.do("POST", "/login", url.Values{"username": {user}, "password": {pw}})
}

// setUpOwner runs the whole first-run flow and returns the owner's browser.
func (u *ui) setUpOwner(lang string) *browser {
	u.t.Helper()
	b := u.browser(lang)
	if p := b.login("owner", label); p.status != 303 || p.location != "/setup/password" {
		u.t.Fatalf("label sign-in: %d → %q", p.status, p.location)
	}
	p := b.post("/setup/password", "/setup/password", url.Values{"current_password": {label}, "new_password": {"quiet river morning"}, "confirm_password": {"quiet river morning"}})
	if p.status != 303 || !strings.HasPrefix(p.location, "/setup/settings") {
		u.t.Fatalf("password step: %d → %q %s", p.status, p.location, p.body)
	}
	p = b.post("/setup/settings", "/setup/settings", url.Values{"auto_update": {"on"}, "update_notifications": {"on"}})
	if p.status != 303 || !strings.HasPrefix(p.location, "/setup/done") {
		u.t.Fatalf("settings step: %d → %q", p.status, p.location)
	}
	return b
}

// TS-0045 5.2.2.2, 5.4.2.4: pages without a session redirect to sign-in and show nothing.
func TestPagesNeedSignIn(t *testing.T) {
	u := newUI(t)
	b := u.browser("en")
	for _, path := range []string{"/", "/account", "/users", "/settings", "/setup/password", "/setup/settings", "/privacy", "/privacy/erase", "/nope"} {
		if p := b.do("GET", path, nil); p.status != 303 || p.location != "/login" {
			t.Errorf("GET %s: %d → %q", path, p.status, p.location)
		}
	}
	p := b.do("GET", "/login", nil)
	for _, secret := range []string{"HG-100", "Hearth Gateway", "HRT-AB12-CD34", "1.0.0"} {
		if strings.Contains(p.body, secret) {
			t.Errorf("the sign-in page shows %q", secret)
		}
	}
}

// TS-0045 5.1.1.1, 5.2.1.4, 5.3.1.13, 5.3.1.16: the first-run flow in both languages.
func TestFirstRunFlow(t *testing.T) {
	for _, tc := range []struct{ lang, htmlLang, dashboard, support string }{
		{"zh-TW,zh;q=0.9", `lang="zh-TW"`, "本閘道器", "安全更新提供至"},
		{"en-US,en;q=0.9", `lang="en"`, "This gateway", "Security updates are provided until"},
	} {
		t.Run(tc.htmlLang, func(t *testing.T) {
			u := newUI(t)
			b := u.browser(tc.lang)
			b.login("owner", label)
			if p := b.do("GET", "/", nil); p.location != "/setup/password" {
				t.Fatalf("dashboard before the change: %d → %q", p.status, p.location)
			}
			p := b.post("/setup/password", "/setup/password", url.Values{"current_password": {label}, "new_password": {label}, "confirm_password": {label}})
			if p.status != 400 || !strings.Contains(p.body, `id="error"`) {
				t.Fatalf("label password as new: %d", p.status)
			}
			b.post("/setup/password", "/setup/password", url.Values{"current_password": {label}, "new_password": {"quiet river morning"}, "confirm_password": {"quiet river morning"}})
			if p := b.do("GET", "/", nil); p.location != "/setup/settings" {
				t.Fatalf("owner skipped the settings review: %q", p.location)
			}
			p = b.do("GET", "/setup/settings", nil)
			for _, want := range []string{`name="auto_update" value="on" checked`, `name="update_notifications" value="on" checked`, `class="badge"`,
				`name="consent" value="telemetry" id="consent-telemetry-box">`, `name="consent" value="crash_reports" id="consent-crash_reports-box">`,
				`name="consent" value="cloud_backup" id="consent-cloud_backup-box">`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("settings step lacks %s", want)
				}
			}
			if strings.Contains(p.body, `name="telemetry"`) {
				t.Error("the settings step still offers telemetry as a setting")
			}
			// TS-0045 5.7.1.9: consents are opt-in, none ticked, none recommended.
			if n := strings.Count(p.body, `class="badge"`); n != 2 {
				t.Errorf("%d recommendation badges, want one per setting and none for consents", n)
			}
			b.post("/setup/settings", "/setup/settings", url.Values{"auto_update": {"on"}, "update_notifications": {"on"}, "consent": {"crash_reports"}})
			if cur := u.consents.Current(); !cur[privacy.PurposeCrashReports].Granted || cur[privacy.PurposeTelemetry].Granted || cur[privacy.PurposeCloudBackup].Granted {
				t.Errorf("consents after the wizard: %+v", cur)
			}
			p = b.do("GET", "/", nil)
			for _, want := range []string{tc.htmlLang, tc.dashboard, tc.support, "HG-100", "Hearth Gateway", "HRT-AB12-CD34", "1.0.0", "TS-0045 5.1.2.2"} {
				if !strings.Contains(p.body, want) {
					t.Errorf("dashboard lacks %q", want)
				}
			}
		})
	}
}

// TS-0045 5.1.2.2: the web form is locked like the API.
func TestLockoutFromForm(t *testing.T) {
	u := newUI(t)
	u.setUpOwner("en")
	b := u.browser("en")
	for i := 0; i < 5; i++ {
		if p := b.login("owner", "wrong password"); p.status != 401 {
			t.Fatalf("guess %d: %d", i, p.status)
		}
	}
	p := b.login("owner", "quiet river morning")
	if p.status != 429 || !strings.Contains(p.body, "this account is locked. Try again in 15 minutes") {
		t.Fatalf("locked sign-in: %d", p.status)
	}
}

func TestFormsNeedToken(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("en")
	if p := b.do("POST", "/users/add", url.Values{"username": {"mallory"}, "role": {"owner"}}); p.status != 403 {
		t.Fatalf("form without token: %d", p.status)
	}
	if p := b.do("POST", "/users/add", url.Values{"username": {"mallory"}, "role": {"owner"}, "csrf": {strings.Repeat("0", 64)}}); p.status != 403 {
		t.Fatalf("form with a forged token: %d", p.status)
	}
	p := b.do("GET", "/users", nil)
	if strings.Contains(p.body, "mallory") {
		t.Fatal("a form without a valid token created a user")
	}
	big := url.Values{"username": {strings.Repeat("x", 20000)}}
	if p := b.do("POST", "/users/add", big); p.status != 400 {
		t.Fatalf("oversized form: %d", p.status)
	}
}

// TS-0045 5.2.2.7: members see their own things only.
func TestMemberManagement(t *testing.T) {
	u := newUI(t)
	owner := u.setUpOwner("en")
	p := owner.post("/users", "/users/add", url.Values{"username": {"alice"}, "role": {"member"}})
	m := regexp.MustCompile(`id="temporary-password-value">([^<]+)<`).FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		t.Fatalf("add member: %d", p.status)
	}
	alice := u.browser("en")
	if p := alice.login("alice", m[1]); p.location != "/setup/password" {
		t.Fatalf("member's first sign-in: %q", p.location)
	}
	if p := alice.do("GET", "/setup/password", nil); !strings.Contains(p.body, "Temporary password") || strings.Contains(p.body, "Password from the label") {
		t.Fatal("a member with a temporary password is asked for the label password")
	}
	alice.post("/setup/password", "/setup/password", url.Values{"current_password": {m[1]}, "new_password": {"blue kettle whistles"}, "confirm_password": {"blue kettle whistles"}})
	p = alice.do("GET", "/", nil)
	if p.status != 200 || strings.Contains(p.body, `id="events"`) || strings.Contains(p.body, `href="/users"`) {
		t.Fatalf("member dashboard: %d, events or accounts visible", p.status)
	}
	if p := alice.do("GET", "/users", nil); p.status != 403 {
		t.Fatalf("member opens /users: %d", p.status)
	}
	p = owner.post("/users", "/users/remove", url.Values{"username": {"alice"}})
	if p.status != 303 {
		t.Fatalf("remove: %d", p.status)
	}
	if p := alice.do("GET", "/", nil); p.location != "/login" {
		t.Fatalf("removed member still signed in: %d %q", p.status, p.location)
	}
}

func TestLanguageSwitchAndLogout(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("en-US")
	if p := b.do("GET", "/account", nil); !strings.Contains(p.body, `lang="en"`) {
		t.Fatal("not English by Accept-Language")
	}
	if p := b.do("POST", "/lang", url.Values{"lang": {"zh-TW"}, "next": {"/account"}}); p.status != 303 || p.location != "/account" {
		t.Fatalf("switch: %d %q", p.status, p.location)
	}
	if p := b.do("GET", "/account", nil); !strings.Contains(p.body, `lang="zh-TW"`) || !strings.Contains(p.body, "我的帳號") {
		t.Fatal("the language choice did not stick")
	}
	if p := b.do("POST", "/lang", url.Values{"lang": {"en"}, "next": {"//evil.example/"}}); p.location != "/" {
		t.Fatalf("open redirect: %q", p.location)
	}
	if p := b.post("/account", "/logout", url.Values{}); p.status != 303 || !strings.HasPrefix(p.location, "/login") {
		t.Fatalf("logout: %d %q", p.status, p.location)
	}
	if p := b.do("GET", "/", nil); p.location != "/login" {
		t.Fatal("still signed in after logout")
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func mustGeneratePassword() string {
	p, err := auth.GeneratePassword(nil)
	if err != nil {
		panic(err)
	}
	return p
}

// A form action that needs a fresh password sends the user to confirm it, then back to
// the page holding the form.
func TestReauthReturnsToTheFormPage(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("en")
	u.clk.Advance(11 * time.Minute)
	for action, page := range map[string]string{"/users/add": "/users", "/settings": "/settings"} {
		p := b.post(page, action, url.Values{"username": {"cousin"}, "role": {"member"}, "auto_update": {"on"}, "update_notifications": {"on"}})
		if p.status != 303 || p.location != "/reauth?next="+url.QueryEscape(page) {
			t.Fatalf("stale %s: %d → %q", action, p.status, p.location)
		}
	}
	p := b.post("/reauth?next=%2Fusers", "/reauth", url.Values{"password": {"quiet river morning"}, "next": {"/users"}})
	if p.status != 303 || p.location != "/users?m=reauthed" {
		t.Fatalf("confirm: %d → %q", p.status, p.location)
	}
}
