package alerts

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"time"

	"hearth/internal/events"
	"hearth/internal/tlspolicy"
)

// ErrNoSTARTTLS means the relay does not offer STARTTLS and InsecurePlaintextSMTP is
// not set: nothing was sent.
var ErrNoSTARTTLS = errors.New("alerts: smtp relay does not offer STARTTLS")

// sendEmail sends j's alert through the relay. An SMTP 5xx reply is a permanent
// failure; anything else is retried.
//
// TS-0045 5.8.1.1: the alert reaches the owner by e-mail.
func (a *Alerter) sendEmail(ctx context.Context, spec *EmailSpec, j job) error {
	msg, err := a.message(spec, j)
	if err != nil {
		return permanent{err}
	}
	err = SendMail(ctx, a.cfg.Roots, spec, msg)
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return permanent{fmt.Errorf("smtp: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// SendMail runs one SMTP session through spec's relay: EHLO, STARTTLS (required unless
// the insecure switch is set; the relay's certificate checked against roots, nil: the
// system's), AUTH PLAIN when a username is configured, MAIL, RCPT for each of spec.To,
// DATA with msg, QUIT. It serves the vendor's mail to vulnerability reporters too.
func SendMail(ctx context.Context, roots *x509.CertPool, spec *EmailSpec, msg []byte) error {
	host, _, _ := net.SplitHostPort(spec.Relay)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", spec.Relay)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(heloName(conn.LocalAddr())); err != nil {
		return err
	}
	// TS-0045 5.4.2.1: the alert and the relay password travel only under TLS.
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc, err := tlspolicy.Client(roots, host)
		if err != nil {
			return err
		}
		if err := c.StartTLS(tc); err != nil {
			return err
		}
	} else if !spec.InsecurePlaintextSMTP {
		return ErrNoSTARTTLS
	}
	if spec.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", spec.Username, string(spec.Password), host)); err != nil {
			return err
		}
	}
	if err := c.Mail(spec.From); err != nil {
		return err
	}
	for _, to := range spec.To {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message renders j's alert as a short plain-text message in English and Traditional
// Chinese.
func (a *Alerter) message(spec *EmailSpec, j job) ([]byte, error) {
	e := j.event
	id := make([]byte, 12)
	if _, err := io.ReadFull(a.cfg.Rand, id); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", spec.From)
	for _, to := range spec.To {
		header("To", to)
	}
	header("Subject", mime.QEncoding.Encode("utf-8", fmt.Sprintf("Hearth alert 安全警示: %s (%s)", e.Kind, e.Severity)))
	header("Date", a.cfg.Now().Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<%d.%s@hearth.invalid>", j.alert, hex.EncodeToString(id)))
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	io.WriteString(qp, body(e, spec.Link))
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func body(e events.Event, link string) string {
	when := e.Time.UTC().Format(time.RFC3339)
	var b bytes.Buffer
	fmt.Fprintf(&b, "Hearth security alert\r\n\r\n%s\r\nKind: %s\r\nSeverity: %s\r\nTime: %s\r\n", summary(e), e.Kind, e.Severity, when)
	if link != "" {
		fmt.Fprintf(&b, "Details in the gateway's web UI: %s\r\n", link)
	}
	fmt.Fprintf(&b, "\r\nHearth 安全警示\r\n\r\n%s\r\n類型：%s\r\n嚴重程度：%s\r\n時間：%s\r\n", summaryZH(e), e.Kind, e.Severity, when)
	if link != "" {
		fmt.Fprintf(&b, "詳情請見閘道器網頁介面：%s\r\n", link)
	}
	return b.String()
}

// heloName is the EHLO argument: the address literal of the local end (RFC 5321
// 4.1.3), which relays that refuse a bare host name accept.
func heloName(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	switch {
	case err != nil:
		return "localhost"
	case ap.Addr().Unmap().Is4():
		return "[" + ap.Addr().Unmap().String() + "]"
	default:
		return "[IPv6:" + ap.Addr().WithZone("").String() + "]"
	}
}
