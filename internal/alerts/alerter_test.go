package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/internal/events"
)

// TS-0045 5.8.1.1: by default a lockout, an integrity violation and a refused or failed
// update raise a UI alert; other events raise none.
func TestDefaultRulesRaise(t *testing.T) {
	g := newRig(t, nil)
	for _, k := range []events.Kind{events.AccountLocked, IntegrityViolation, events.UpdateFailed, events.FirmwareRejected} {
		id := g.raise(t, k)
		if id == 0 {
			t.Fatalf("%s raised no alert", k)
		}
		// No webhook or e-mail configured: the UI is the only channel.
		list, _ := g.a.List(t.Context(), 1)
		if len(list) != 1 || list[0].ID != id || len(list[0].Deliveries) != 1 || list[0].Deliveries[0].Channel != UI || !list[0].UI {
			t.Fatalf("%s: %+v", k, list)
		}
	}
	for _, k := range []events.Kind{events.LoginSucceeded, events.LoginFailed, events.SettingChanged} {
		if id := g.raise(t, k); id != 0 {
			t.Fatalf("%s raised alert %d", k, id)
		}
	}
}

// TS-0045 5.6.1.1: alerts and their pending deliveries survive a restart and are
// delivered after it.
func TestQueueSurvivesReopen(t *testing.T) {
	g := newRig(t, nil)
	recv := newReceiver(t, g.cert)
	withWebhook(t, recv.srv.URL, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	id1 := g.raise(t, events.AccountLocked)
	id2 := g.raise(t, IntegrityViolation)
	if err := g.a.MarkRead(t.Context(), id1); err != nil {
		t.Fatal(err)
	}
	stream := g.a.db.stream
	if err := g.a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(recv.requests()); n != 0 {
		t.Fatalf("%d requests before Run", n)
	}

	g.open(t)
	if g.a.db.stream != stream {
		t.Fatalf("stream %q after reopening, was %q", g.a.db.stream, stream)
	}
	list, err := g.a.List(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != id2 || list[1].ID != id1 || !list[1].Read || list[0].Read {
		t.Fatalf("after reopening: %+v", list)
	}
	if d := g.delivery(t, id2, Webhook); d.State != Pending || d.Attempts != 0 {
		t.Fatalf("webhook delivery after reopening %+v", d)
	}
	g.run(t)
	for _, id := range []int64{id1, id2} {
		if d := g.settled(t, id, Webhook); d.State != Delivered {
			t.Fatalf("alert %d: %+v", id, d)
		}
	}
	if id3 := g.raise(t, events.UpdateFailed); id3 <= id2 {
		t.Fatalf("id %d reused after %d", id3, id2)
	}
}

// TS-0045 5.6.1.1: the queue is bounded; the oldest alerts go first.
func TestQueueBounded(t *testing.T) {
	g := newRig(t, func(c *Config) { c.MaxAlerts = 5 })
	var ids []int64
	for range 8 {
		ids = append(ids, g.raise(t, events.AccountLocked))
	}
	list, err := g.a.List(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 || list[0].ID != ids[7] || list[4].ID != ids[3] {
		t.Fatalf("kept %d alerts: %+v", len(list), list)
	}
	if n, _ := g.a.Unread(t.Context()); n != 5 {
		t.Fatalf("unread %d", n)
	}
}

// The UI's list, banner count and mark-read.
func TestUIListUnreadMarkRead(t *testing.T) {
	g := newRig(t, func(c *Config) {
		c.Settings.Rules = append(c.Settings.Rules, Rule{Kinds: []events.Kind{events.SensorQuarantined}, Channels: []Channel{Vendor}})
		c.Forward = func(context.Context, events.Event) error { return nil }
		c.Consent = func() bool { return true }
	})
	a := g.raise(t, events.AccountLocked)
	b := g.raise(t, events.UpdateFailed)
	c := g.raise(t, events.SensorQuarantined) // vendor only: not in the banner
	if n, err := g.a.Unread(t.Context()); err != nil || n != 2 {
		t.Fatalf("unread %d, %v", n, err)
	}
	list, err := g.a.List(t.Context(), 0)
	if err != nil || len(list) != 3 || list[0].ID != c || list[0].UI || list[2].Summary != "An account was locked after repeated failed logins: slot B" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if list[1].Kind != events.UpdateFailed || list[1].Severity != events.Critical || list[1].EventID != 7 || list[1].Created != g.clock.Now() {
		t.Fatalf("alert %+v", list[1])
	}
	if err := g.a.MarkRead(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.a.Unread(t.Context()); n != 1 {
		t.Fatalf("unread %d after marking one", n)
	}
	if err := g.a.MarkRead(t.Context(), 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MarkRead(999): %v", err)
	}
	if err := g.a.MarkAllRead(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.a.Unread(t.Context()); n != 0 {
		t.Fatalf("unread %d after marking all", n)
	}
	if list, _ := g.a.List(t.Context(), 2); len(list) != 2 || list[1].ID != b {
		t.Fatalf("limited list %+v", list)
	}
}

// flag is a consent switch.
type flag struct{ on atomic.Bool }

// TS-0045 5.7.1.9: an alert is forwarded to the vendor only while the owner consents,
// asked both when it is raised and before it is sent.
func TestVendorOnlyWithConsent(t *testing.T) {
	var consent flag
	var mu sync.Mutex
	var forwarded []events.Event
	g := newRig(t, func(c *Config) {
		c.Settings.Rules = []Rule{{Kinds: []events.Kind{events.AccountLocked}, Channels: []Channel{UI, Vendor}}}
		c.Consent = consent.on.Load
		c.Forward = func(_ context.Context, e events.Event) error {
			mu.Lock()
			defer mu.Unlock()
			forwarded = append(forwarded, e)
			return nil
		}
	})
	sent := func() []events.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]events.Event(nil), forwarded...)
	}

	// Without consent: no vendor delivery at all.
	id := g.raise(t, events.AccountLocked)
	list, _ := g.a.List(t.Context(), 1)
	if len(list[0].Deliveries) != 1 || list[0].Deliveries[0].Channel != UI {
		t.Fatalf("deliveries without consent %+v", list[0].Deliveries)
	}

	// Consent given when raised, withdrawn before Run sends it: dropped, not sent.
	consent.on.Store(true)
	id = g.raise(t, events.AccountLocked)
	consent.on.Store(false)
	g.run(t)
	if d := g.settled(t, id, Vendor); d.State != Failed || !strings.Contains(d.LastError, "consent") {
		t.Fatalf("delivery after withdrawal %+v", d)
	}
	if n := len(sent()); n != 0 {
		t.Fatalf("%d forwarded without consent", n)
	}

	// With consent: forwarded, minimised.
	consent.on.Store(true)
	id = g.raise(t, events.AccountLocked)
	if d := g.settled(t, id, Vendor); d.State != Delivered {
		t.Fatalf("delivery with consent %+v", d)
	}
	got := sent()
	if len(got) != 1 || got[0].Kind != events.AccountLocked || got[0].User != "" || got[0].Remote != "" {
		t.Fatalf("forwarded %+v", got)
	}
}

// Forward errors are retried.
func TestVendorRetries(t *testing.T) {
	var calls atomic.Int32
	g := newRig(t, func(c *Config) {
		c.Settings.Rules = []Rule{{Kinds: []events.Kind{events.AccountLocked}, Channels: []Channel{Vendor}}}
		c.Consent = func() bool { return true }
		c.Forward = func(context.Context, events.Event) error {
			if calls.Add(1) < 3 {
				return fmt.Errorf("outbox busy")
			}
			return nil
		}
	})
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	if d := g.settled(t, id, Vendor); d.State != Delivered || d.Attempts != 3 {
		t.Fatalf("delivery %+v", d)
	}
}

// Publish stores the alert even when the caller's context has ended.
func TestPublishDetachedFromCaller(t *testing.T) {
	g := newRig(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	g.a.Publish(ctx, event(events.AccountLocked))
	if n, _ := g.a.Unread(t.Context()); n != 1 {
		t.Fatalf("unread %d", n)
	}
}

// Secrets print as REDACTED in logs and fmt, and Redacted removes them for display.
func TestSecretsRedacted(t *testing.T) {
	w := webhook(t, "https://receiver.test/hook")
	e := &EmailSpec{Relay: "smtp.example.com:587", From: "a@example.com", To: []string{"b@example.com"}, Username: "u", Password: "hunter2-relay"}
	s := Settings{Rules: DefaultRules(), Webhooks: []WebhookSpec{w}, Email: e}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("settings", "secret", w.Secret, "password", e.Password, "email", e)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", s, s, s, w.Secret)
	if strings.Contains(out, w.Secret.Hex()) || strings.Contains(out, "hunter2-relay") || !strings.Contains(out, "REDACTED") {
		t.Fatalf("secret printed: %s", out)
	}
	r := s.Redacted()
	if r.Webhooks[0].Secret != nil || r.Email.Password != "" || s.Email.Password == "" || len(s.Webhooks[0].Secret) != SecretSize {
		t.Fatalf("redacted %+v from %+v", r, s)
	}
}

// An alert keeps only a bounded, minimised copy of its event.
func TestMinimise(t *testing.T) {
	e := event(events.AccountLocked)
	e.Detail = strings.Repeat("界", 400) // 1200 bytes of 3-byte runes
	for range 20 {
		e.Args = append(e.Args, strings.Repeat("a", 500))
	}
	m := minimise(e)
	if m.User != "" || m.Remote != "" || len(m.Detail) > maxDetail || len(m.Args) != maxArgs || len(m.Args[0]) != maxArgLen {
		t.Fatalf("minimised: user %q remote %q detail %d args %d", m.User, m.Remote, len(m.Detail), len(m.Args))
	}
	if !strings.HasPrefix(e.Detail, m.Detail) || len(m.Detail)%3 != 0 {
		t.Fatalf("detail cut inside a rune: %d bytes", len(m.Detail))
	}
	if e.User != "alice" || len(e.Args) != 20 {
		t.Fatal("minimise changed the caller's event")
	}
}

// A delivery to a webhook the owner removed meanwhile fails instead of going out.
func TestRemovedWebhookFails(t *testing.T) {
	g := newRig(t, nil)
	recv := newReceiver(t, g.cert)
	withWebhook(t, recv.srv.URL, false)(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	id := g.raise(t, events.AccountLocked)
	if err := g.a.SetSettings(DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	if d := g.settled(t, id, Webhook); d.State != Failed || !strings.Contains(d.LastError, "no longer configured") {
		t.Fatalf("delivery %+v", d)
	}
	if n := len(recv.requests()); n != 0 {
		t.Fatalf("%d requests to a removed webhook", n)
	}
}

func TestResetDeletesAlertsAndSettings(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{Path: filepath.Join(dir, "alerts.db"), Settings: DefaultSettings()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w, err := NewWebhook("https://hooks.example/alert", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := DefaultSettings()
	s.Webhooks = []WebhookSpec{w}
	if err := a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Raise(t.Context(), events.Event{ID: 1, Time: time.Now(), Kind: events.AccountLocked, Severity: events.Warning}); err != nil {
		t.Fatal(err)
	}
	if err := a.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l, _ := a.List(t.Context(), 10); len(l) != 0 {
		t.Fatalf("%d alerts after reset", len(l))
	}
	if got := a.Settings(); len(got.Webhooks) != 0 || len(got.Rules) != len(DefaultRules()) {
		t.Fatalf("settings after reset %+v", got)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "alerts.db"))
	if bytes.Contains(raw, []byte("hooks.example")) {
		t.Fatal("the webhook's address is still in the file")
	}
}
