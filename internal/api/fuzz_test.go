package api

import (
	"context"
	"encoding/json"
	"hearth/internal/privacy"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"hearth/internal/auth"
	"hearth/internal/settings"
	"hearth/internal/store/sqlite"
	"hearth/internal/web"
)

// TestRouteTableMatchesDocument: every documented operation is served, and (by
// construction in apiHandler) every served operation is documented.
func TestRouteTableMatchesDocument(t *testing.T) {
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{spec: sp}
	served := map[string]bool{}
	for _, rt := range s.routes() {
		if _, err := sp.route(rt.method, rt.path); err != nil {
			t.Error(err)
		}
		served[rt.method+" "+rt.path] = true
	}
	for path, item := range sp.doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is documented but not served", method, path)
			}
		}
	}
}

// fuzzServer returns a handler and an owner session cookie.
func fuzzServer(f *testing.F) (http.Handler, *http.Cookie) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "hearthd.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	h := auth.Hasher{Iterations: auth.MinIterations}
	hash, _ := h.Hash("label password 1")
	svc, err := auth.New(auth.Config{Hasher: h, Throttle: auth.ThrottleConfig{Burst: 1 << 20}}, db, nil)
	if err != nil {
		f.Fatal(err)
	}
	svc.EnsureOwner(ctx, "owner", hash)
	consents, err := privacy.NewConsentService(ctx, privacy.ConsentConfig{Store: db, Authz: svc})
	if err != nil {
		f.Fatal(err)
	}
	// The eraser has no parts: a fuzzed deletion request writes its journal only, so
	// the fuzzer's session survives it.
	eraser, err := privacy.NewEraser(privacy.EraserConfig{Path: filepath.Join(f.TempDir(), privacy.ErasureFile), Authz: svc})
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Auth: svc, Settings: settings.New(db, svc, nil, nil), Events: &sqlite.EventLog{DB: db}, Consents: consents, Eraser: eraser})
	if err != nil {
		f.Fatal(err)
	}
	handler := s.Handler()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"username":"owner","password":"label password 1"}`))
	req.Header.Set("Content-Type", "application/json")
	handler.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == web.SessionCookie {
			return handler, c
		}
	}
	f.Fatal("no session cookie")
	return nil, nil
}

// FuzzAPI sends arbitrary bodies, paths and query strings to every operation: the answer
// is always a well-formed JSON error or success, never a 5xx.
//
// TS-0045 5.5.2.1: every decoder is fuzzed.
func FuzzAPI(f *testing.F) {
	handler, cookie := fuzzServer(f)
	ops := []string{"POST /api/v1/session", "POST /api/v1/account/password", "POST /api/v1/session/reauth",
		"POST /api/v1/users", "POST /api/v1/tokens", "PUT /api/v1/settings", "POST /api/v1/password/check", "GET /api/v1/events", "DELETE /api/v1/users/", "POST /api/v1/users/x/unlock", "DELETE /api/v1/sessions/"}
	for i := range ops {
		f.Add(uint8(i), "", `{"username":"owner","password":"x"}`, true)
		f.Add(uint8(i), "limit=5", `{"current_password":"a","new_password":"bbbbbbbbbbbbbbb"}`, true)
		f.Add(uint8(i), "a%zz", `{"username":"alice","role":"member"}`, false)
		f.Add(uint8(i), "", `{"name":"app","expires_in_days":1e400}`, true)
		f.Add(uint8(i), "kind=login.failed", "\xff\xfe", true)
	}
	f.Fuzz(func(t *testing.T, op uint8, query, body string, withCookie bool) {
		m, path, _ := strings.Cut(ops[int(op)%len(ops)], " ")
		if strings.HasSuffix(path, "/") {
			path += strings.Map(func(r rune) rune {
				if r < 0x21 || r > 0x7e || r == '/' || r == '?' || r == '#' || r == '%' {
					return -1
				}
				return r
			}, body)
		}
		req, err := http.NewRequest(m, "https://gateway"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Content-Type", "application/json")
		if withCookie {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s?%s %q -> %d %s", m, path, query, body, rec.Code, rec.Body)
		}
		if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s -> non-JSON body %q", m, path, rec.Body)
		}
	})
}
