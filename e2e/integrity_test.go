package e2e

import (
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/tlspolicy/tlstest"
	"hearth/internal/update"
)

// hookReceiver is the owner's webhook endpoint: HTTPS with the owner's own CA, checking
// each delivery's signature.
type hookReceiver struct {
	srv    *httptest.Server
	caFile string
	mu     sync.Mutex
	secret []byte
	got    []map[string]any
	bad    []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	cert := tlstest.SelfSigned(t, "localhost")
	h := &hookReceiver{caFile: filepath.Join(t.TempDir(), "owner-ca.pem")}
	os.WriteFile(h.caFile, cert.PEM, 0o600)
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := alerts.Verify(h.secret, r.Header.Get("Hearth-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			h.bad = append(h.bad, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p map[string]any
		json.Unmarshal(body, &p)
		h.got = append(h.got, p)
	}))
	h.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) url() string {
	return "https://localhost:" + h.srv.URL[strings.LastIndex(h.srv.URL, ":")+1:] + "/hearth"
}

func (h *hookReceiver) kinds() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var k []string
	for _, p := range h.got {
		k = append(k, p["kind"].(string))
	}
	return k
}

// TS-0045 5.8.1.1: a program changed on disk while the gateway runs (replaced by a
// copy with one byte flipped, as an attacker with the file system would) is noticed
// within one check interval: a critical integrity event, an alert in the web UI's
// notifications and a signed webhook to the owner; the launcher refuses the slot at the
// next start.
func TestIntegrityViolationNoticedWhileRunning(t *testing.T) {
	hook := newHookReceiver(t)
	g := newUpdRig(t)
	g.stop()
	g.args = []string{"--integrity-interval", "1s", "--alert-ca", hook.caFile}
	g.start()
	r := g.dev.call(g.c, "POST", "/api/v1/alerts/webhooks", map[string]string{"url": hook.url()})
	var added struct{ ID, Secret string }
	if r.status != 201 || json.Unmarshal(r.body, &added) != nil || len(added.Secret) != 64 {
		t.Fatalf("add webhook: %v", r)
	}
	hook.mu.Lock()
	hook.secret, _ = hex.DecodeString(added.Secret)
	hook.mu.Unlock()
	count := func() int { return g.dev.eventCount(g.c, "integrity.violation") }
	time.Sleep(1500 * time.Millisecond)
	if n := count(); n != 0 {
		t.Fatalf("%d integrity violations before any change", n)
	}
	path := update.SlotBinary(g.data, update.SlotA)
	prog, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prog[len(prog)/2] ^= 0x01
	tmp := filepath.Join(filepath.Dir(path), ".tampered")
	if err := os.WriteFile(tmp, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	waitUntil(t, 10*time.Second, "the integrity event", func() bool { return count() > 0 })
	waitUntil(t, 15*time.Second, "the signed webhook", func() bool { return len(hook.kinds()) > 0 })
	t.Logf("webhook %s after the change", time.Since(changed).Round(time.Millisecond))
	if k := hook.kinds(); k[0] != "integrity.violation" || len(hook.bad) != 0 {
		t.Fatalf("webhook got %v, bad signatures %v", k, hook.bad)
	}
	var list struct {
		Unread int
		Alerts []struct {
			Kind string
			UI   bool
		}
	}
	r = g.dev.call(g.c, "GET", "/api/v1/alerts", nil)
	if r.status != 200 || json.Unmarshal(r.body, &list) != nil || list.Unread != 1 || len(list.Alerts) != 1 || list.Alerts[0].Kind != "integrity.violation" {
		t.Fatalf("UI notifications: %v", r)
	}
	time.Sleep(2 * time.Second)
	if n := count(); n != 1 {
		t.Fatalf("%d integrity events for one change, want it reported once", n)
	}
}
