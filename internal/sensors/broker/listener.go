package broker

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"

	"hearth/internal/events"
)

// listener is the broker's only listener: TLS over a caller-bounded TCP listener, with
// the handshake and the CONNECT packet under one deadline. A client speaking plaintext
// MQTT to it is refused and raised as an event.
//
// TS-0045 5.4.2.1, 5.4.2.6: sensors reach the gateway, and send their credentials, only over TLS 1.2+.
type listener struct {
	ln     net.Listener
	tls    *tls.Config
	log    *slog.Logger
	events events.Publisher
	closed atomic.Bool
	// plaintext rate-limits plaintext events to one a minute.
	plaintextAt atomic.Int64
}

func (l *listener) Init(*slog.Logger) error { return nil }
func (l *listener) ID() string              { return "mqtts" }
func (l *listener) Address() string         { return l.ln.Addr().String() }
func (l *listener) Protocol() string        { return "tcp+tls" }

func (l *listener) Serve(establish listeners.EstablishFn) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if !l.closed.Load() {
				l.log.Error("mqtts listener stopped", "err", err)
			}
			return
		}
		go l.handle(c, establish)
	}
}

func (l *listener) handle(c net.Conn, establish listeners.EstablishFn) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		c.Close()
		return
	}
	switch first[0] {
	case 0x16: // a TLS handshake record
	case 0x10: // an MQTT CONNECT in the clear
		l.plaintext(c.RemoteAddr().String())
		c.Close()
		return
	default:
		c.Close()
		return
	}
	tc := tls.Server(&prefixConn{Conn: c, first: first[0], pending: true}, l.tls)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		l.log.Debug("mqtts handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		c.Close()
		return
	}
	// The deadline set above still bounds reading CONNECT; the broker replaces it with
	// the keepalive once the sensor is authenticated.
	if err := establish(l.ID(), tc); err != nil {
		l.log.Debug("mqtt connection ended", "remote", c.RemoteAddr().String(), "err", err)
	}
}

func (l *listener) plaintext(remote string) {
	now := time.Now().UnixNano()
	last := l.plaintextAt.Load()
	if now-last < int64(time.Minute) || !l.plaintextAt.CompareAndSwap(last, now) {
		return
	}
	l.events.Publish(context.Background(), events.Event{Time: time.Now().UTC(), Kind: events.SensorPlaintextRefused, Severity: events.Warning,
		Remote: remote, Detail: "MQTT without TLS refused", Args: []string{remote}})
}

func (l *listener) Close(closeClients listeners.CloseFn) {
	if l.closed.CompareAndSwap(false, true) {
		l.ln.Close()
		closeClients(l.ID())
	}
}

// prefixConn gives back the byte read to tell TLS from plaintext.
type prefixConn struct {
	net.Conn
	first   byte
	pending bool
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if p.pending && len(b) > 0 {
		p.pending = false
		b[0] = p.first
		return 1, nil
	}
	return p.Conn.Read(b)
}
