package api_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"hearth/internal/api"
)

// documentedOperations lists every method and path in openapi.yaml, with path
// parameters filled in.
func documentedOperations(t *testing.T) [][2]string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	var ops [][2]string
	for path, item := range doc.Paths.Map() {
		p := strings.NewReplacer("{username}", "someone", "{id}", "0123456789abcdef").Replace(path)
		for method := range item.Operations() {
			ops = append(ops, [2]string{method, "/api/v1" + p})
		}
	}
	return ops
}

// TS-0045 5.2.2.2, 5.4.2.4: before login, only the login operation answers; everything
// else, existing or not, is 401 and discloses nothing about the device.
func TestUnauthenticatedLearnNothing(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ops := append(documentedOperations(t), [2]string{"GET", "/api/v1/no-such-thing"}, [2]string{"PUT", "/api/v1/device"}, [2]string{"GET", "/api/v1/"})
	for _, op := range ops {
		if op[0] == "POST" && op[1] == "/api/v1/session" {
			continue
		}
		r := c.do(op[0], op[1], nil)
		if r.status != http.StatusUnauthorized || r.code() != "unauthenticated" {
			t.Errorf("%s %s unauthenticated: %d %s, want 401", op[0], op[1], r.status, r.body)
		}
		assertNoDisclosure(t, r)
	}
	r := c.login("owner", "wrong password!")
	if r.status != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", r.status)
	}
	assertNoDisclosure(t, r)
	r = c.do("GET", "/", nil)
	assertNoDisclosure(t, r)
}

func assertNoDisclosure(t *testing.T, r resp) {
	t.Helper()
	var all bytes.Buffer
	all.Write(r.body)
	for k, vs := range r.header {
		all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	for _, secret := range []string{"HG-100", "Hearth Gateway", "HRT-AB12-CD34", "1.0.0", "Hearth Labs", "Go-http", "hearthd"} {
		if bytes.Contains(all.Bytes(), []byte(secret)) {
			t.Errorf("unauthenticated response discloses %q:\n%s", secret, all.String())
		}
	}
	if r.header.Get("Server") != "" {
		t.Errorf("Server header %q", r.header.Get("Server"))
	}
}

// TS-0045 5.1.1.1: with the default password only the password change is possible.
func TestDefaultPasswordOnlyAllowsChange(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.login("owner", labelPassword)
	var info struct {
		PasswordChangeRequired bool `json:"password_change_required"`
	}
	r.decode(t, &info)
	if r.status != 200 || !info.PasswordChangeRequired {
		t.Fatalf("label login: %d %s", r.status, r.body)
	}
	for _, op := range documentedOperations(t) {
		switch op[0] + " " + op[1] {
		case "POST /api/v1/session", "GET /api/v1/session", "DELETE /api/v1/session", "POST /api/v1/account/password", "POST /api/v1/password/check":
			continue
		}
		if r := c.do(op[0], op[1], nil); r.status != http.StatusForbidden || r.code() != "password_change_required" {
			t.Errorf("%s %s before the change: %d %s", op[0], op[1], r.status, r.body)
		}
	}
	if r := c.do("GET", "/api/v1/session", nil); r.status != 200 {
		t.Fatalf("session info: %d", r.status)
	}
	r = c.do("POST", "/api/v1/account/password", map[string]string{"current_password": labelPassword, "new_password": labelPassword})
	if r.status != 400 || r.code() != "password_reused" {
		t.Fatalf("label password as new: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/api/v1/account/password", map[string]string{"current_password": labelPassword, "new_password": "short"})
	if r.status != 400 || r.code() != "password_too_short" {
		t.Fatalf("short password: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/api/v1/account/password", map[string]string{"current_password": labelPassword, "new_password": ownerPassword})
	if r.status != 204 {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/api/v1/device", nil)
	var dev api.Device
	r.decode(t, &dev)
	if r.status != 200 || dev.Model != "HG-100" || dev.SupportEnd != "2031-05-01" || dev.Serial != "HRT-AB12-CD34" {
		t.Fatalf("device after change: %d %s", r.status, r.body)
	}
	if r := e.client().login("owner", labelPassword); r.status != 401 {
		t.Fatalf("old password still works: %d", r.status)
	}
}

// TS-0045 5.1.2.2: 5 wrong passwords, then the right one: 429 with Retry-After.
func TestLockoutOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.owner()
	for i := 0; i < 5; i++ {
		// Fresh clients from one address: the per-source budget (10) is not the limit here.
		if r := e.client().login("owner", "not the password"); r.status != 401 || r.code() != "invalid_credentials" {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.client().login("owner", ownerPassword)
	if r.status != http.StatusTooManyRequests || r.code() != "account_locked" {
		t.Fatalf("right password while locked: %d %s", r.status, r.body)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 899 || ra > 900 {
		t.Fatalf("Retry-After %q, want 900", r.header.Get("Retry-After"))
	}
	wrong := e.client().login("owner", "still wrong")
	if wrong.status != r.status || wrong.code() != r.code() {
		t.Fatalf("locked answers differ by password: %d vs %d", wrong.status, r.status)
	}
	e.clk.Advance(15 * time.Minute)
	if r := e.client().login("owner", ownerPassword); r.status != 200 {
		t.Fatalf("after the lock period: %d %s", r.status, r.body)
	}
}

// TS-0045 5.5.2.1: malformed input is a 4xx with a stable code, never a 5xx.
func TestValidation(t *testing.T) {
	e := newEnv(t)
	c := e.owner()
	big := `{"username":"owner","password":"` + strings.Repeat("x", 20000) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		hdr                []string
		status             int
		code               string
	}{
		{"unknown field", "POST", "/api/v1/session", `{"username":"a","password":"b","admin":true}`, nil, 400, "invalid_request"},
		{"wrong type", "POST", "/api/v1/session", `{"username":1,"password":"b"}`, nil, 400, "invalid_request"},
		{"missing field", "POST", "/api/v1/session", `{"username":"a"}`, nil, 400, "invalid_request"},
		{"not json", "POST", "/api/v1/session", `{"username":`, nil, 400, "invalid_request"},
		{"trailing data", "POST", "/api/v1/users", `{"username":"alice","role":"member"} {}`, nil, 400, "invalid_request"},
		{"empty body", "POST", "/api/v1/session", "", []string{"Content-Type", "application/json"}, 400, "invalid_request"},
		{"too long", "POST", "/api/v1/session", `{"username":"` + strings.Repeat("a", 65) + `","password":"b"}`, nil, 400, "invalid_request"},
		{"oversized", "POST", "/api/v1/session", big, nil, 413, "body_too_large"},
		{"media type", "POST", "/api/v1/session", `{"username":"a","password":"b"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"bad enum", "POST", "/api/v1/users", map[string]string{"username": "alice", "role": "root"}, nil, 400, "invalid_request"},
		{"bad pattern", "POST", "/api/v1/users", map[string]string{"username": "Alice Smith", "role": "member"}, nil, 400, "invalid_request"},
		{"bad path param", "DELETE", "/api/v1/users/A%20B", nil, nil, 400, "invalid_request"},
		{"out of range", "GET", "/api/v1/events?limit=0", nil, nil, 400, "invalid_request"},
		{"not a number", "GET", "/api/v1/events?limit=ten", nil, nil, 400, "invalid_request"},
		{"unknown query", "GET", "/api/v1/device?debug=1", nil, nil, 400, "unknown_parameter"},
		{"body where none", "GET", "/api/v1/device", `{"x":1}`, nil, 400, "invalid_request"},
		{"token days", "POST", "/api/v1/tokens", map[string]any{"name": "app", "expires_in_days": 9999}, nil, 400, "invalid_request"},
		{"method", "PUT", "/api/v1/device", nil, nil, 405, "method_not_allowed"},
		{"unknown path", "GET", "/api/v1/nothing", nil, nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.path, tc.body, tc.hdr...)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if strings.Contains(string(r.body), strings.Repeat("x", 100)) {
				t.Fatal("error echoes the input")
			}
		})
	}
}

// TS-0045 5.2.2.7: members cannot administer accounts or read the security log.
func TestRolesOverHTTP(t *testing.T) {
	e := newEnv(t)
	owner := e.owner()
	r := owner.do("POST", "/api/v1/users", map[string]string{"username": "alice", "role": "member"})
	var tp struct {
		Password string `json:"temporary_password"`
	}
	r.decode(t, &tp)
	if r.status != 201 || len(tp.Password) < 16 {
		t.Fatalf("add member: %d %s", r.status, r.body)
	}
	if r := owner.do("POST", "/api/v1/users", map[string]string{"username": "alice", "role": "member"}); r.status != 409 {
		t.Fatalf("duplicate: %d", r.status)
	}
	alice := e.client()
	alice.login("alice", tp.Password)
	alice.do("POST", "/api/v1/account/password", map[string]string{"current_password": tp.Password, "new_password": "my very own passphrase"})
	if r := alice.do("GET", "/api/v1/device", nil); r.status != 200 {
		t.Fatalf("member reads device: %d %s", r.status, r.body)
	}
	for _, op := range [][2]string{{"GET", "/api/v1/users"}, {"GET", "/api/v1/events"}, {"POST", "/api/v1/users/owner/unlock"}, {"DELETE", "/api/v1/users/owner"}} {
		if r := alice.do(op[0], op[1], nil); r.status != 403 || r.code() != "forbidden" {
			t.Errorf("member %s %s: %d %s", op[0], op[1], r.status, r.body)
		}
	}
	if r := alice.do("POST", "/api/v1/users", map[string]string{"username": "mallory", "role": "owner"}); r.status != 403 {
		t.Errorf("member adds owner: %d", r.status)
	}
	// Re-authentication window.
	e.clk.Advance(11 * time.Minute)
	if r := owner.do("DELETE", "/api/v1/users/alice", nil); r.status != 403 || r.code() != "reauth_required" {
		t.Fatalf("stale owner removes member: %d %s", r.status, r.body)
	}
	if r := owner.do("POST", "/api/v1/session/reauth", map[string]string{"password": "wrong wrong wrong"}); r.status != 403 || r.code() != "wrong_password" {
		t.Fatalf("reauth with a wrong password: %d %s", r.status, r.body)
	}
	if r := owner.do("POST", "/api/v1/session/reauth", map[string]string{"password": ownerPassword}); r.status != 204 {
		t.Fatalf("reauth: %d %s", r.status, r.body)
	}
	if r := owner.do("DELETE", "/api/v1/users/alice", nil); r.status != 204 {
		t.Fatalf("remove member: %d %s", r.status, r.body)
	}
	if r := alice.do("GET", "/api/v1/device", nil); r.status != 401 {
		t.Fatalf("removed member still signed in: %d", r.status)
	}
}

func TestOwnerSeesAndLiftsLocksOverHTTP(t *testing.T) {
	e := newEnv(t)
	owner := e.owner()
	r := owner.do("POST", "/api/v1/users", map[string]string{"username": "bob", "role": "member"})
	var tp struct {
		Password string `json:"temporary_password"`
	}
	r.decode(t, &tp)
	for i := 0; i < 5; i++ {
		e.client().login("bob", "wrong wrong wrong")
	}
	var list struct {
		Users []struct {
			Username string
			Locked   bool
			Failed   int `json:"failed_attempts"`
		}
	}
	owner.do("GET", "/api/v1/users", nil).decode(t, &list)
	found := false
	for _, u := range list.Users {
		if u.Username == "bob" {
			found = u.Locked && u.Failed == 5
		}
	}
	if !found {
		t.Fatalf("owner does not see bob locked: %+v", list)
	}
	var evs struct{ Events []struct{ Kind string } }
	owner.do("GET", "/api/v1/events?kind=account.locked", nil).decode(t, &evs)
	if len(evs.Events) != 1 {
		t.Fatalf("lock events: %+v", evs)
	}
	if r := owner.do("POST", "/api/v1/users/bob/unlock", nil); r.status != 204 {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	if r := e.client().login("bob", tp.Password); r.status != 200 {
		t.Fatalf("bob after unlock: %d %s", r.status, r.body)
	}
}

func TestTokensAndSessions(t *testing.T) {
	e := newEnv(t)
	owner := e.owner()
	r := owner.do("POST", "/api/v1/tokens", map[string]any{"name": "phone app", "expires_in_days": 30})
	var tok struct{ ID, Token string }
	r.decode(t, &tok)
	if r.status != 201 || tok.Token == "" {
		t.Fatalf("create token: %d %s", r.status, r.body)
	}
	app := &client{e: e, hc: e.srv.Client(), bearer: tok.Token}
	if r := app.do("GET", "/api/v1/device", nil); r.status != 200 {
		t.Fatalf("bearer: %d %s", r.status, r.body)
	}
	if r := app.do("POST", "/api/v1/users", map[string]string{"username": "eve", "role": "owner"}); r.status != 403 || r.code() != "reauth_required" {
		t.Fatalf("token changes accounts: %d %s", r.status, r.body)
	}
	bad := &client{e: e, hc: e.srv.Client(), bearer: tok.Token + "x"}
	if r := bad.do("GET", "/api/v1/device", nil); r.status != 401 {
		t.Fatalf("forged bearer: %d", r.status)
	}
	var sl struct {
		Sessions []struct {
			ID      string
			Kind    string
			Current bool
		}
	}
	owner.do("GET", "/api/v1/sessions", nil).decode(t, &sl)
	if len(sl.Sessions) != 2 {
		t.Fatalf("sessions: %+v", sl)
	}
	if r := owner.do("DELETE", "/api/v1/sessions/"+tok.ID, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := app.do("GET", "/api/v1/device", nil); r.status != 401 {
		t.Fatalf("revoked token: %d", r.status)
	}
	if r := owner.do("DELETE", "/api/v1/sessions", nil); r.status != 204 {
		t.Fatalf("sign out everywhere: %d", r.status)
	}
	if r := owner.do("GET", "/api/v1/session", nil); r.status != 401 {
		t.Fatalf("after sign-out everywhere: %d", r.status)
	}
}

// TS-0045 5.4.2.7: session cookies are Secure, HttpOnly, SameSite=Strict and host-only.
func TestCookieAttributes(t *testing.T) {
	e := newEnv(t)
	r := e.client().login("owner", labelPassword)
	cookies := (&http.Response{Header: r.header}).Cookies()
	if len(cookies) != 2 {
		t.Fatalf("%d cookies, want session and device", len(cookies))
	}
	for _, c := range cookies {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s: %+v", c.Name, c)
		}
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	c := e.owner()
	if r := c.do("DELETE", "/api/v1/session", nil); r.status != 204 {
		t.Fatalf("logout: %d", r.status)
	}
	if r := c.do("GET", "/api/v1/device", nil); r.status != 401 {
		t.Fatalf("after logout: %d", r.status)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	e := newEnv(t)
	c := e.owner()
	r := c.do("POST", "/api/v1/users", map[string]string{"username": "csrf", "role": "owner"}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.status != 403 {
		t.Fatalf("cross-site POST: %d %s", r.status, r.body)
	}
	var list struct{ Users []struct{ Username string } }
	c.do("GET", "/api/v1/users", nil).decode(t, &list)
	if len(list.Users) != 1 {
		t.Fatalf("cross-site request created a user: %+v", list)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.client().do("GET", "/api/v1/device", nil)
	for k, want := range map[string]string{
		"Strict-Transport-Security": "max-age=63072000",
		"Content-Security-Policy":   "default-src 'none'",
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Cache-Control":             "no-store",
	} {
		if !strings.Contains(r.header.Get(k), want) {
			t.Errorf("%s = %q, want %q", k, r.header.Get(k), want)
		}
	}
	if strings.Contains(r.header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline script")
	}
}

func TestOpenAPIServedAfterLogin(t *testing.T) {
	e := newEnv(t)
	c := e.owner()
	r := c.do("GET", "/api/v1/openapi.json", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"openapi":"3.0.3"`)) {
		t.Fatalf("openapi.json: %d %.100s", r.status, r.body)
	}
}

// TS-0045 5.2.1.4: settings start secure; only an owner with a fresh password changes them.
func TestSettingsOverHTTP(t *testing.T) {
	e := newEnv(t)
	owner := e.owner()
	var st struct {
		SetupCompleted bool `json:"setup_completed"`
		Settings       []struct {
			Key                string
			Value, Recommended bool
			Clauses            []string
		}
	}
	owner.do("GET", "/api/v1/settings", nil).decode(t, &st)
	if st.SetupCompleted || len(st.Settings) != 2 {
		t.Fatalf("initial settings %+v", st)
	}
	for _, s := range st.Settings {
		if s.Value != s.Recommended {
			t.Errorf("%s starts %v (recommended %v)", s.Key, s.Value, s.Recommended)
		}
	}
	if r := owner.do("PUT", "/api/v1/settings", map[string]any{"auto_update": "yes"}); r.status != 400 {
		t.Fatalf("wrong type: %v", r.status)
	}
	if r := owner.do("PUT", "/api/v1/settings", map[string]any{"telemetry": true}); r.status != 400 {
		t.Fatalf("telemetry is a consent (PUT /privacy/consents), not a setting: %v", r.status)
	}
	if r := owner.do("PUT", "/api/v1/settings", map[string]any{}); r.status != 400 {
		t.Fatalf("empty change: %v", r.status)
	}
	r := owner.do("PUT", "/api/v1/settings", map[string]any{"auto_update": false, "complete_setup": true})
	r.decode(t, &st)
	if r.status != 200 || !st.SetupCompleted || st.Settings[0].Value {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	e.clk.Advance(11 * time.Minute)
	if r := owner.do("PUT", "/api/v1/settings", map[string]any{"auto_update": true}); r.status != 403 || r.code() != "reauth_required" {
		t.Fatalf("stale change: %d %s", r.status, r.body)
	}
}

func TestPasswordCheck(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.login("owner", labelPassword)
	cases := map[string]struct {
		ok      bool
		problem string
	}{
		"short":                     {false, "password_too_short"},
		"qwerty123456":              {false, "password_common"},
		"owner's own long passw":    {false, "password_context"},
		"violet harbour lantern 19": {true, ""},
		strings.Repeat("é", 129):    {false, "password_too_long"},
	}
	for pw, want := range cases {
		var v api.PasswordVerdict
		r := c.do("POST", "/api/v1/password/check", map[string]string{"password": pw})
		r.decode(t, &v)
		if r.status != 200 || v.Acceptable != want.ok || v.Problem != want.problem {
			t.Errorf("check %q: %d %s", pw, r.status, r.body)
		}
		if want.ok && v.Score < 3 {
			t.Errorf("strong passphrase scored %d", v.Score)
		}
	}
}
