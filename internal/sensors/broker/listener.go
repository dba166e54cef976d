package broker

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"

	"hearth/internal/events"
)

// listener is the broker's only listener: TLS over a caller-bounded TCP listener, with
// the handshake and the CONNECT packet under one deadline. A client speaking plaintext
// MQTT to it is refused and raised as an event.
//
// The TCP socket exists only while it is open (SetOpen): the gateway opens it while at
// least one sensor may connect, so a gateway without sensors has no MQTT port at all.
// Reopening binds the same address as before.
//
// TS-0045 5.4.2.1, 5.4.2.6: sensors reach the gateway, and send their credentials, only over TLS 1.2+.
// TS-0045 5.2.2.1: the MQTTS port is open only while sensors need it.
type listener struct {
	listen func() (net.Listener, error)
	tls    *tls.Config
	log    *slog.Logger
	events events.Publisher
	// plaintext rate-limits plaintext events to one a minute.
	plaintextAt atomic.Int64

	mu     sync.Mutex
	wake   *sync.Cond
	cur    net.Listener // nil while shut
	addr   string       // the address last bound
	closed bool
}

func newListener(listen func() (net.Listener, error), tlsCfg *tls.Config, log *slog.Logger, ev events.Publisher) *listener {
	l := &listener{listen: listen, tls: tlsCfg, log: log, events: ev}
	l.wake = sync.NewCond(&l.mu)
	return l
}

func (l *listener) Init(*slog.Logger) error { return nil }
func (l *listener) ID() string              { return "mqtts" }
func (l *listener) Protocol() string        { return "tcp+tls" }

// Address is the address the socket is bound to, or "" while shut.
func (l *listener) Address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return ""
	}
	return l.addr
}

// setOpen binds or closes the socket. Connections already established stay.
func (l *listener) setOpen(open bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return net.ErrClosed
	case open && l.cur == nil:
		ln, err := l.listen()
		if err != nil {
			return err
		}
		l.cur, l.addr = ln, ln.Addr().String()
		l.wake.Broadcast()
	case !open && l.cur != nil:
		l.cur.Close()
		l.cur = nil
	}
	return nil
}

// current waits until the socket is open and returns it; nil once closed for good.
func (l *listener) current() net.Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.cur == nil && !l.closed {
		l.wake.Wait()
	}
	return l.cur
}

func (l *listener) Serve(establish listeners.EstablishFn) {
	for {
		ln := l.current()
		if ln == nil {
			return
		}
		c, err := ln.Accept()
		if err != nil {
			l.mu.Lock()
			live := l.cur == ln
			l.mu.Unlock()
			if live {
				// A transient failure (such as running out of descriptors): pause
				// rather than spin.
				l.log.Warn("mqtts accept failed", "err", err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
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
	// The connection is served on a new goroutine and this one ends: the handshake's
	// deep call stack (ECDH, ML-KEM, ECDSA) grew this goroutine's stack, which would stay
	// that large for the life of the connection, a few KiB more for each of a thousand
	// idle sensors. The deadline set above still bounds reading CONNECT; the broker
	// replaces it with the keepalive once the sensor is authenticated.
	go func() {
		if err := establish(l.ID(), tc); err != nil {
			l.log.Debug("mqtt connection ended", "remote", c.RemoteAddr().String(), "err", err)
		}
	}()
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
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	if l.cur != nil {
		l.cur.Close()
		l.cur = nil
	}
	l.wake.Broadcast()
	l.mu.Unlock()
	closeClients(l.ID())
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
