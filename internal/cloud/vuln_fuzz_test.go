package cloud

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TS-0045 5.5.2.1: the intake never fails with a 5xx.
// FuzzVulnIntake sends arbitrary bodies to the API and the form: never a 5xx, and a
// stored report never comes back unescaped on the status page.
func FuzzVulnIntake(f *testing.F) {
	good := `{"title":"t","description":"<script>x</script>","product":"p"}`
	f.Add(good, true)
	f.Add(good[:20], true)
	f.Add("title=%3Cb%3E&description=d&product=p&cvss=CVSS%3A3.1%2FAV%3AN", false)
	f.Add("title=t&description=%00&product=p", false)
	f.Add("title=%zz", false)
	dir := f.TempDir()
	os.MkdirAll(filepath.Join(dir, "vulns"), 0o700)
	os.WriteFile(filepath.Join(dir, "vulns", "policy.json"), []byte(`{"max_pending":1000000}`), 0o600)
	s := &Server{cfg: Config{VendorDir: dir, Log: slog.New(slog.DiscardHandler), Now: time.Now}}
	mux := http.NewServeMux()
	s.registerVulns(mux)
	n := 0
	f.Fuzz(func(t *testing.T, body string, api bool) {
		n++
		path, ctype := "/security/report", "application/x-www-form-urlencoded"
		if api {
			path, ctype = "/v1/vulns", "application/json"
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&255, n>>8&255, n&255)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
		}
		if !api && strings.Contains(rec.Body.String(), "<script>x") {
			t.Fatalf("unescaped: %s", rec.Body)
		}
	})
}
