package cloud

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hearth/internal/alerts/alertstest"
	"hearth/internal/tlspolicy/tlstest"
	"hearth/internal/vuln"
)

// TS-0045 5.2.1.1: a change of a report's status is mailed to its reporter through the
// vendor's relay (STARTTLS), once; while the relay is away it waits in the queue.
func TestReporterMailThroughRelay(t *testing.T) {
	g := newRig(t)
	store, err := vuln.Open(vuln.Config{VendorDir: g.vendor})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := store.Submit(vuln.Submission{Title: "Weak session id", Description: "see steps", Product: "HG-100", Contact: "finder@example.org"}, "web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetState(r.ID, vuln.Triaged, "reproduced; severity high"); err != nil {
		t.Fatal(err)
	}
	queued, _ := store.Outbox()
	if len(queued) == 0 {
		t.Fatal("nothing queued for the reporter")
	}
	// The relay is away: nothing is lost.
	down := &MailRelay{Relay: "127.0.0.1:1", From: "security@hearth.example"}
	svc, err := New(Config{VendorDir: g.vendor, Mail: down})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.sendReporterMail(t.Context()); err == nil || n != 0 {
		t.Fatalf("relay away: sent %d, %v", n, err)
	}
	if still, _ := store.Outbox(); len(still) != len(queued) {
		t.Fatalf("queue %d after a failed send, want %d", len(still), len(queued))
	}
	cert := tlstest.SelfSigned(t, "localhost")
	relay := alertstest.NewSMTPServer(t, alertstest.WithTLS(cert.TLS))
	svc, err = New(Config{VendorDir: g.vendor, Mail: &MailRelay{Relay: relay.Addr, From: "security@hearth.example"}, MailRoots: cert.Pool})
	if err != nil {
		t.Fatal(err)
	}
	n, err := svc.sendReporterMail(t.Context())
	if err != nil || n != len(queued) {
		t.Fatalf("sent %d of %d: %v", n, len(queued), err)
	}
	msgs := relay.Messages()
	if len(msgs) != len(queued) || !msgs[0].TLS || msgs[len(msgs)-1].To[0] != "finder@example.org" ||
		!strings.Contains(string(msgs[len(msgs)-1].Data), r.ID) {
		t.Fatalf("relay got %+v", msgs)
	}
	if n, err := svc.sendReporterMail(t.Context()); n != 0 || err != nil {
		t.Fatalf("sent again: %d %v", n, err)
	}
	if sent, _ := os.ReadDir(filepath.Join(g.vendor, vuln.SentDir)); len(sent) != len(queued) {
		t.Fatalf("%d messages kept as sent", len(sent))
	}
}
