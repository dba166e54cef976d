package cloud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/vuln"
)

// MailRelay is where the services send mail to vulnerability reporters: an SMTP relay
// with STARTTLS (required), optionally with AUTH PLAIN.
type MailRelay struct {
	Relay    string // host:port
	From     string
	Username string
	Password string
}

// Validate reports a relay configuration that cannot work.
func (m MailRelay) Validate() error {
	spec := alerts.EmailSpec{Relay: m.Relay, From: m.From, To: []string{m.From}, Username: m.Username, Password: alerts.Password(m.Password)}
	s := alerts.DefaultSettings()
	s.Email = &spec
	if err := s.Validate(); err != nil {
		return fmt.Errorf("mail relay: %w", err)
	}
	return nil
}

// mailEvery is how often queued mail to reporters is sent.
const mailEvery = time.Minute

// mailReporters sends what the vulnerability workflow queued for reporters, at start
// and every minute, until ctx ends.
//
// TS-0045 5.2.1.1: every change of a report's status reaches its reporter.
func (s *Server) mailReporters(ctx context.Context) {
	if s.cfg.Mail == nil {
		return
	}
	t := time.NewTicker(mailEvery)
	defer t.Stop()
	for {
		if n, err := s.sendReporterMail(ctx); err != nil {
			s.cfg.Log.Warn("mail to reporters not sent, will retry", "sent", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendReporterMail drains the reporters' mail queue once.
func (s *Server) sendReporterMail(ctx context.Context) (int, error) {
	store, err := vuln.Open(vuln.Config{VendorDir: s.cfg.VendorDir, Now: s.cfg.Now})
	if err != nil {
		return 0, err
	}
	relay := s.cfg.Mail
	return store.DrainMail(func(m vuln.Mail) error {
		to, err := mail.ParseAddress(m.To)
		if err != nil {
			return fmt.Errorf("reporter address %q: %w", m.To, err)
		}
		msg, err := reporterMessage(relay.From, to.Address, m, s.cfg.Now())
		if err != nil {
			return err
		}
		spec := &alerts.EmailSpec{Relay: relay.Relay, From: relay.From, To: []string{to.Address}, Username: relay.Username, Password: alerts.Password(relay.Password)}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return alerts.SendMail(sctx, s.cfg.MailRoots, spec, msg)
	})
}

// reporterMessage renders a queued message as a plain-text mail.
func reporterMessage(from, to string, m vuln.Mail, now time.Time) ([]byte, error) {
	id := make([]byte, 12)
	if _, err := io.ReadFull(rand.Reader, id); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@hearth.invalid>\r\n", from, to,
		mime.QEncoding.Encode("utf-8", m.Subject), now.Format(time.RFC1123Z), hex.EncodeToString(id))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	io.WriteString(qp, m.Body)
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
