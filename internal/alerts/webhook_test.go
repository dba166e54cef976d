package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/events"
)

// withWebhook configures one webhook to url.
func withWebhook(t *testing.T, url string, insecure bool) func(*Config) {
	return func(c *Config) {
		w := webhook(t, strings.Replace(url, "http://", "https://", 1))
		w.URL, w.InsecureAllowHTTP = url, insecure
		c.Settings.Webhooks = []WebhookSpec{w}
	}
}

// TS-0045 5.8.1.1: an integrity violation reaches the owner's webhook, signed so the
// receiver can verify it came from the gateway.
func TestWebhookDeliveredSigned(t *testing.T) {
	var recv *receiver
	g := newRig(t, func(c *Config) {
		c.Device = &Device{Model: "HG-1"}
	})
	recv = newReceiver(t, g.cert)
	w := webhook(t, recv.srv.URL+"/hook")
	s := g.a.Settings()
	s.Webhooks = []WebhookSpec{w}
	if err := g.a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, IntegrityViolation)
	d := g.settled(t, id, Webhook)
	if d.State != Delivered || d.Attempts != 1 || d.Target != w.ID || d.LastError != "" || d.Done.IsZero() {
		t.Fatalf("delivery %+v", d)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if err := Verify(w.Secret, r.header.Get(SignatureHeader), r.body, g.clock.Now(), 5*time.Minute); err != nil {
		t.Fatalf("verify: %v (header %q)", err, r.header.Get(SignatureHeader))
	}
	if err := Verify(w.Secret, r.header.Get(SignatureHeader), append(r.body, ' '), g.clock.Now(), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verify of an altered body: %v", err)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p["kind"] != "integrity.violation" || p["severity"] != "critical" || p["id"] != fmt.Sprintf("%s-%d", g.a.db.stream, id) || len(g.a.db.stream) != 16 ||
		p["time"] != "2026-03-01T11:59:00Z" || !strings.Contains(p["summary"].(string), "slot B") {
		t.Fatalf("payload %s", r.body)
	}
	if dev, _ := p["device"].(map[string]any); dev["model"] != "HG-1" {
		t.Fatalf("payload device %s", r.body)
	}
	// TS-0045 5.7.1.11: nothing identifying the user beyond the minimised event leaves.
	if strings.Contains(string(r.body), "alice") || strings.Contains(string(r.body), "192.0.2.1") || len(p) != 6 {
		t.Fatalf("payload carries more than the alert: %s", r.body)
	}
}

// TS-0045 5.8.1.1: a receiver that fails is retried with full-jitter backoff until it
// accepts the alert.
func TestWebhookRetriesThenDelivers(t *testing.T) {
	g := newRig(t, nil)
	recv := newReceiver(t, g.cert, 500, 503, 429, 408)
	withWebhook(t, recv.srv.URL, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	start := g.clock.Now()
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	d := g.settled(t, id, Webhook)
	if d.State != Delivered || d.Attempts != 5 || d.LastError != "" {
		t.Fatalf("delivery %+v", d)
	}
	if n := len(recv.requests()); n != 5 {
		t.Fatalf("%d requests, want 5", n)
	}
	waits := g.clock.Waits()
	if len(waits) < 4 {
		t.Fatalf("waits %v", waits)
	}
	// Full jitter: each wait is within the growing ceiling.
	var total time.Duration
	for i, w := range waits[:4] {
		if c := g.cfg.Policy.Ceiling(i + 1); w < 0 || w > c {
			t.Fatalf("wait %d = %v beyond ceiling %v", i, w, c)
		}
		total += w
	}
	if d.LastAttempt.Sub(start) != total {
		t.Fatalf("last attempt at +%v, waits total %v", d.LastAttempt.Sub(start), total)
	}
}

// A 4xx refusal is permanent: the delivery fails at once and is not retried.
func TestWebhookPermanentFailure(t *testing.T) {
	g := newRig(t, nil)
	recv := newReceiver(t, g.cert, 400)
	withWebhook(t, recv.srv.URL, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.UpdateFailed)
	d := g.settled(t, id, Webhook)
	if d.State != Failed || d.Attempts != 1 || !strings.Contains(d.LastError, "400") {
		t.Fatalf("delivery %+v", d)
	}
	// The UI still has it.
	if ui := g.delivery(t, id, UI); ui.State != Delivered {
		t.Fatalf("ui delivery %+v", ui)
	}
	if n := len(recv.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// A receiver that never answers well is given up on after GiveUp.
func TestWebhookGivesUp(t *testing.T) {
	g := newRig(t, nil)
	statuses := make([]int, 1000)
	for i := range statuses {
		statuses[i] = 502
	}
	recv := newReceiver(t, g.cert, statuses...)
	withWebhook(t, recv.srv.URL, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	start := g.clock.Now()
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	d := g.settled(t, id, Webhook)
	if d.State != Failed || !strings.Contains(d.LastError, "gave up") || !strings.Contains(d.LastError, "502") {
		t.Fatalf("delivery %+v", d)
	}
	if d.Done.Sub(start) < DefaultGiveUp || d.Done.Sub(start) > DefaultGiveUp+time.Hour {
		t.Fatalf("gave up at %v, before %v", d.Done, DefaultGiveUp)
	}
	if n := len(recv.requests()); n != d.Attempts || n < 10 {
		t.Fatalf("%d requests, %d attempts", n, d.Attempts)
	}
}

// TS-0045 5.4.2.1: alerts are not sent to a plain http:// webhook unless the insecure
// switch is set.
func TestWebhookRefusesHTTP(t *testing.T) {
	if _, err := NewWebhook("http://receiver.test/hook", nil); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("NewWebhook(http): %v", err)
	}
	w := webhook(t, "https://receiver.test/hook")
	w.URL = "http://receiver.test/hook"
	s := DefaultSettings()
	s.Webhooks = []WebhookSpec{w}
	if err := s.Validate(); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("Validate(http): %v", err)
	}
	g := newRig(t, nil)
	if err := g.a.SetSettings(s); !errors.Is(err, ErrInsecureURL) {
		t.Fatalf("SetSettings(http): %v", err)
	}

	// With the switch, a plain receiver gets the alert (still signed).
	var mu sync.Mutex
	var got http.Header
	plain := newPlainReceiver(t, &mu, &got)
	w.URL, w.InsecureAllowHTTP = plain, true
	s.Webhooks = []WebhookSpec{w}
	if err := g.a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	if d := g.settled(t, id, Webhook); d.State != Delivered {
		t.Fatalf("delivery %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Get(SignatureHeader) == "" {
		t.Fatal("request over http was not signed")
	}
}

// A redirect is not followed: the alert goes only where the owner said.
func TestWebhookNoRedirect(t *testing.T) {
	g := newRig(t, func(c *Config) { c.GiveUp = 2 * time.Hour })
	elsewhere := newReceiver(t, g.cert)
	redirector := newHandlerServer(t, g.cert, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL, http.StatusTemporaryRedirect)
	})
	withWebhook(t, redirector, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	d := g.settled(t, id, Webhook)
	if d.State != Failed || !strings.Contains(d.LastError, "307") {
		t.Fatalf("delivery %+v", d)
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Fatalf("redirect followed: %d requests", n)
	}
}

// A receiver that does not answer within the timeout costs one attempt, retried.
func TestWebhookTimeout(t *testing.T) {
	g := newRig(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	var mu sync.Mutex
	calls := 0
	url := newHandlerServer(t, g.cert, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			<-r.Context().Done() // hang until the client gives up
		}
	})
	withWebhook(t, url, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	if d := g.settled(t, id, Webhook); d.State != Delivered || d.Attempts != 2 {
		t.Fatalf("delivery %+v", d)
	}
}

// A receiver that hangs delays only its own deliveries: e-mail and the other webhook
// go out meanwhile.
func TestWebhookHangDoesNotBlockOthers(t *testing.T) {
	g := newRig(t, nil)
	release := make(chan struct{})
	hung := newHandlerServer(t, g.cert, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	fine := newReceiver(t, g.cert)
	w1, w2 := webhook(t, hung), webhook(t, fine.srv.URL)
	s := g.a.Settings()
	s.Webhooks = []WebhookSpec{w1, w2}
	if err := g.a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, IntegrityViolation)
	eventually(t, "the other webhook", func() bool { return len(fine.requests()) == 1 })
	list, _ := g.a.List(t.Context(), 1)
	for _, d := range list[0].Deliveries {
		if d.Target == w1.ID && (d.State != Pending || d.Attempts != 0) {
			t.Fatalf("hung delivery %+v", d)
		}
	}
	close(release)
	eventually(t, "both webhooks", func() bool {
		list, _ := g.a.List(t.Context(), 1)
		n := 0
		for _, d := range list[0].Deliveries {
			if d.Channel == Webhook && d.State == Delivered {
				n++
			}
		}
		return list[0].ID == id && n == 2
	})
}

// A receiver answering with an endless body costs a bounded read, not a hang.
func TestWebhookResponseBounded(t *testing.T) {
	g := newRig(t, nil)
	url := newHandlerServer(t, g.cert, func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	withWebhook(t, url, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	start := time.Now()
	id := g.raise(t, events.AccountLocked)
	if d := g.settled(t, id, Webhook); d.State != Delivered || d.Attempts != 1 {
		t.Fatalf("delivery %+v", d)
	}
	if el := time.Since(start); el > g.cfg.Timeout {
		t.Fatalf("delivery took %v", el)
	}
}
