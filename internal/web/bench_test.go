package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkRenderLogin and BenchmarkRenderDashboard measure the server time of a page
// (routing, session check, template execution), without TLS or network.
//
//	go test ./internal/web -run '^$' -bench Render -benchmem
func BenchmarkRenderLogin(b *testing.B) {
	u := newUI(b)
	h := u.srv.Config.Handler
	req := httptest.NewRequest("GET", "https://gateway/login", nil)
	req.Header.Set("Accept-Language", "zh-TW")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkRenderDashboard(b *testing.B) {
	u := newUI(b)
	br := u.setUpOwner("zh-TW")
	req := httptest.NewRequest("GET", "https://gateway/", nil)
	req.Header.Set("Accept-Language", "zh-TW")
	for _, c := range br.hc.Jar.Cookies(mustURL(u.srv.URL)) {
		req.AddCookie(c)
	}
	h := u.srv.Config.Handler
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "HG-100") {
			b.Fatal(rec.Code)
		}
	}
}
