package alerts

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"hearth/internal/alerts/alertstest"
	"hearth/internal/events"
)

func withEmail(relay string, user string, pass Password) func(*Config) {
	return func(c *Config) {
		c.Settings.Email = &EmailSpec{Relay: relay, From: "hearth@example.com", To: []string{"owner@example.com", "second@example.com"},
			Username: user, Password: pass, Link: "https://hearth.local:8443/"}
	}
}

// TS-0045 5.8.1.1: a refused firmware image reaches the owner by e-mail, over STARTTLS
// and authenticated, in English and Traditional Chinese.
func TestEmailDeliveredWithSTARTTLS(t *testing.T) {
	g := newRig(t, nil)
	srv := alertstest.NewSMTPServer(t, alertstest.WithTLS(g.cert.TLS), alertstest.WithAuth("hearth", "relay-pass"))
	withEmail(srv.Addr, "hearth", "relay-pass")(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.FirmwareRejected)
	if d := g.settled(t, id, Email); d.State != Delivered || d.Attempts != 1 {
		t.Fatalf("delivery %+v", d)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.User != "hearth" || m.Helo != "[127.0.0.1]" || m.From != "hearth@example.com" || len(m.To) != 2 || m.To[1] != "second@example.com" {
		t.Fatalf("message envelope %+v", m)
	}
	head, rawBody, ok := bytes.Cut(m.Data, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header/body split: %q", m.Data)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(rawBody)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"firmware.rejected", "critical", "2026-03-01T11:59:00Z", "https://hearth.local:8443/", "韌體映像檔遭拒絕", "嚴重程度", "A firmware image was refused"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(m.Data), "alice") || !strings.Contains(string(head), "Subject: =?utf-8?q?") {
		t.Errorf("message %s", m.Data)
	}
}

// TS-0045 5.4.2.1: a relay without STARTTLS gets nothing: the delivery fails, retried
// until it is given up, and the message was never sent.
func TestEmailRefusedWithoutSTARTTLS(t *testing.T) {
	g := newRig(t, nil)
	srv := alertstest.NewSMTPServer(t)
	withEmail(srv.Addr, "", "")(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	d := g.settled(t, id, Email)
	if d.State != Failed || !strings.Contains(d.LastError, "STARTTLS") || d.Attempts < 2 {
		t.Fatalf("delivery %+v", d)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent without TLS", n)
	}

	// The insecure switch allows it (for tests and deliberate setups only).
	g.cfg.Settings.Email.InsecurePlaintextSMTP = true
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	id = g.raise(t, events.AccountLocked)
	if d := g.settled(t, id, Email); d.State != Delivered {
		t.Fatalf("delivery %+v", d)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].TLS {
		t.Fatalf("messages %+v", m)
	}
}

// Wrong credentials are a permanent refusal (535), not retried.
func TestEmailAuthRefused(t *testing.T) {
	g := newRig(t, nil)
	srv := alertstest.NewSMTPServer(t, alertstest.WithTLS(g.cert.TLS), alertstest.WithAuth("hearth", "relay-pass"))
	withEmail(srv.Addr, "hearth", "wrong")(&g.cfg)
	if err := g.a.SetSettings(g.cfg.Settings); err != nil {
		t.Fatal(err)
	}
	g.run(t)
	id := g.raise(t, events.AccountLocked)
	d := g.settled(t, id, Email)
	if d.State != Failed || d.Attempts != 1 || !strings.Contains(d.LastError, "535") {
		t.Fatalf("delivery %+v", d)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message sent with wrong credentials")
	}
}
