// Package alertstest provides a minimal SMTP server for tests of alert e-mail: it
// listens on a loopback port, speaks EHLO, STARTTLS (when given a certificate), AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT, and records the messages it accepts.
// It is for tests only: it implements just enough of RFC 5321 for net/smtp.
package alertstest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"hearth/internal/tlspolicy"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte // as received, dot-unstuffed, with CRLF line ends
	TLS  bool   // whether the session had switched to TLS
	User string // the AUTH PLAIN identity, if any
	Helo string // the EHLO or HELO argument
}

// SMTPServer is a running test server.
type SMTPServer struct {
	// Addr is the host:port it listens on.
	Addr string

	tls        *tls.Config
	user, pass string
	ln         net.Listener
	wg         sync.WaitGroup

	mu   sync.Mutex
	msgs []Message
}

// Option configures an SMTPServer.
type Option func(*SMTPServer)

// WithTLS offers STARTTLS with cert, under the gateway's TLS policy.
func WithTLS(cert tls.Certificate) Option {
	return func(s *SMTPServer) {
		s.tls, _ = tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil })
		s.tls.NextProtos = nil
	}
}

// WithAuth requires AUTH PLAIN with these credentials before MAIL.
func WithAuth(user, pass string) Option {
	return func(s *SMTPServer) { s.user, s.pass = user, pass }
}

// NewSMTPServer starts a server on 127.0.0.1 and stops it when the test ends.
func NewSMTPServer(t testing.TB, opts ...Option) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Addr: ln.Addr().String(), ln: ln}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Messages returns the messages accepted so far.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

func (s *SMTPServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

// session is one client's conversation.
type session struct {
	s     *SMTPServer
	conn  net.Conn
	tp    *textproto.Conn
	isTLS bool
	user  string
	helo  string
	msg   *Message
}

func (s *SMTPServer) session(c net.Conn) {
	ss := &session{s: s, conn: c, tp: textproto.NewConn(c)}
	ss.reply(220, "hearth test smtp ready")
	for {
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !ss.handle(strings.ToUpper(verb), arg) {
			return
		}
	}
}

func (ss *session) reply(code int, lines ...string) {
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		ss.tp.PrintfLine("%d%s%s", code, sep, l)
	}
}

// handle answers one command and reports whether the session goes on.
func (ss *session) handle(verb, arg string) bool {
	switch verb {
	case "EHLO", "HELO":
		ss.helo = arg
		ext := []string{"hearth-test"}
		if ss.s.tls != nil && !ss.isTLS {
			ext = append(ext, "STARTTLS")
		}
		if ss.s.user != "" {
			ext = append(ext, "AUTH PLAIN")
		}
		ss.reply(250, ext...)
	case "STARTTLS":
		return ss.startTLS()
	case "AUTH":
		ss.auth(arg)
	case "MAIL":
		ss.mail(arg)
	case "RCPT":
		ss.rcpt(arg)
	case "DATA":
		ss.data()
	case "RSET":
		ss.msg = nil
		ss.reply(250, "ok")
	case "NOOP":
		ss.reply(250, "ok")
	case "QUIT":
		ss.reply(221, "bye")
		return false
	default:
		ss.reply(502, "not implemented")
	}
	return true
}

func (ss *session) startTLS() bool {
	if ss.s.tls == nil || ss.isTLS {
		ss.reply(502, "not available")
		return true
	}
	ss.reply(220, "go ahead")
	tc := tls.Server(ss.conn, ss.s.tls)
	if err := tc.Handshake(); err != nil {
		return false
	}
	ss.conn, ss.tp, ss.isTLS = tc, textproto.NewConn(tc), true
	ss.user, ss.msg = "", nil
	return true
}

func (ss *session) auth(arg string) {
	mech, resp, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") || ss.s.user == "" {
		ss.reply(504, "mechanism not supported")
		return
	}
	if resp == "" {
		ss.reply(334, "")
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		resp = line
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	parts := bytes.Split(raw, []byte{0})
	if err != nil || len(parts) != 3 || string(parts[1]) != ss.s.user || string(parts[2]) != ss.s.pass {
		ss.reply(535, "authentication failed")
		return
	}
	ss.user = ss.s.user
	ss.reply(235, "authenticated")
}

func (ss *session) mail(arg string) {
	from, ok := path(arg, "FROM:")
	switch {
	case !ok:
		ss.reply(501, "syntax")
	case ss.s.user != "" && ss.user == "":
		ss.reply(530, "authentication required")
	default:
		ss.msg = &Message{From: from, TLS: ss.isTLS, User: ss.user, Helo: ss.helo}
		ss.reply(250, "ok")
	}
}

func (ss *session) rcpt(arg string) {
	to, ok := path(arg, "TO:")
	if !ok || ss.msg == nil {
		ss.reply(503, "bad sequence")
		return
	}
	ss.msg.To = append(ss.msg.To, to)
	ss.reply(250, "ok")
}

func (ss *session) data() {
	if ss.msg == nil || len(ss.msg.To) == 0 {
		ss.reply(503, "bad sequence")
		return
	}
	ss.reply(354, "end with .")
	data, err := ss.tp.ReadDotBytes()
	if err != nil {
		return
	}
	ss.msg.Data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, *ss.msg)
	ss.s.mu.Unlock()
	ss.msg = nil
	ss.reply(250, "queued")
}

// path extracts the address from "FROM:<a@b>" or "TO:<a@b>".
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	addr, _, ok := strings.Cut(rest[1:], ">")
	return addr, ok
}
