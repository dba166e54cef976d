package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// FuzzForms posts arbitrary form bodies to every form action of the UI, with a valid
// session and form token: the answer is a page or a redirect, never a 5xx.
//
// TS-0045 5.5.2.1: the web UI's inputs are validated like the API's.
func FuzzForms(f *testing.F) {
	u, _ := newAlertUI(f)
	b := u.setUpOwner("en")
	token := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(b.do("GET", "/account", nil).body)[1]
	cookies := b.hc.Jar.Cookies(mustURL(u.srv.URL))
	h := u.srv.Config.Handler
	actions := []string{"/login", "/lang", "/setup/password", "/setup/settings", "/account/password", "/account/sessions/revoke",
		"/users/add", "/users/reset", "/users/unlock", "/users/remove", "/settings", "/reauth", "/privacy/consents", "/privacy/erase",
		"/alerts/read", "/alerts/rules", "/alerts/webhooks/add", "/alerts/webhooks/remove", "/alerts/email"}
	for i := range actions {
		f.Add(uint8(i), "username=alice&role=member")
		f.Add(uint8(i), "auto_update=on&update_notifications=maybe&consent=telemetry")
		f.Add(uint8(i), "consent=telemetry&consent=nope&consent=cloud_backup")
		f.Add(uint8(i), "understand=no")
		f.Add(uint8(i), "current_password=x&new_password=y&confirm_password=y")
		f.Add(uint8(i), "next=//evil&lang=xx&id=%zz")
		f.Add(uint8(i), "password="+strings.Repeat("a", 600))
		f.Add(uint8(i), "id=1&id=9223372036854775807&rule=account.locked/ui&rule=gateway.crashed/vendor&rule=a/b&rule=/")
		f.Add(uint8(i), "url=https://hooks.example/in&url=http://x&url=https://u:p@h/#f")
		f.Add(uint8(i), "relay=smtp.example.com:587&from=a@example.com&to=b@example.com,+c@example.com&username=u&password=p&link=https://h/")
		f.Add(uint8(i), "relay=:0&from=%0d%0aBcc:x&to="+strings.Repeat("a@b,", 20)+"&remove=yes")
	}
	f.Fuzz(func(t *testing.T, action uint8, body string) {
		path := actions[int(action)%len(actions)]
		req := httptest.NewRequest("POST", "https://gateway"+path, strings.NewReader(body+"&csrf="+url.QueryEscape(token)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "192.0.2.9:4000"
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("POST %s %q -> %d", path, body, rec.Code)
		}
	})
}
