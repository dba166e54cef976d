// Package simtest runs a real gateway for tests of sensors: the sensors service over
// SQLite stores in a temporary directory, behind the embedded MQTTS broker on
// loopback with a throwaway certificate. It records what the broker sees: connection
// attempts and readings in arrival order. For tests only.
package simtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"testing"
	"time"

	"hearth/internal/events"
	"hearth/internal/sensors"
	"hearth/internal/sensors/broker"
	"hearth/internal/sensors/sensorstest"
	"hearth/internal/tlspolicy"
	"hearth/internal/tlspolicy/tlstest"
)

// Name is the name on the test gateway's certificate.
const Name = "gateway.test"

// Gateway is the real sensors service over real SQLite stores behind the real
// embedded broker, on loopback, with a throwaway certificate. The broker can be
// stopped and started again on the same address, as when the gateway restarts.
type Gateway struct {
	Service *sensors.Service
	Rec     *Recorder
	// CAPEM is the certificate sensors are given to verify the gateway (--ca).
	CAPEM []byte
	// Addr is the broker's address, the same across Stop and Start.
	Addr string
	cert tls.Certificate
	pool *x509.CertPool
	b    *broker.Broker
}

func NewGateway(t testing.TB) *Gateway {
	t.Helper()
	svc := sensorstest.Run(t, sensors.Config{Events: events.Discard})
	g := &Gateway{Service: svc, Rec: &Recorder{Service: svc}}
	c := tlstest.SelfSigned(t, Name)
	g.cert, g.CAPEM, g.pool = c.TLS, c.PEM, c.Pool
	t.Cleanup(func() { g.Stop(t) })
	g.Start(t)
	return g
}

// Start serves the broker: on a fresh port the first time, on the same address after.
func (g *Gateway) Start(t testing.TB) {
	t.Helper()
	addr := g.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srvTLS, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &g.cert, nil })
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Config{
		Listen:  func() (net.Listener, error) { return net.Listen("tcp", addr) },
		TLS:     srvTLS,
		Sensors: g.Rec,
		Events:  events.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.SetOpen(true); err != nil {
		t.Fatal(err)
	}
	g.b, g.Addr = b, b.Addr()
}

// Stop closes the broker, disconnecting every sensor, as a gateway going down.
func (g *Gateway) Stop(t testing.TB) {
	t.Helper()
	if g.b != nil {
		g.b.Close()
		g.b = nil
	}
}

func (g *Gateway) Pair(t testing.TB, modelID string) (string, sensors.Credential) {
	t.Helper()
	v, cred, err := g.Service.Pair(context.Background(), "alice", "Test "+modelID, modelID)
	if err != nil {
		t.Fatal(err)
	}
	return v.ID, cred
}

// ClientTLS is what a sensor given the gateway's CA file uses.
func (g *Gateway) ClientTLS(t testing.TB) *tls.Config {
	t.Helper()
	c, err := tlspolicy.Client(g.pool, Name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Stored returns the readings the gateway stored for id.
func (g *Gateway) Stored(t testing.TB, id string) []sensors.Reading {
	t.Helper()
	now := time.Now()
	rs, err := g.Service.Readings(context.Background(), id, now.Add(-sensors.MaxAge), now.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Recorder is the sensors service as the broker sees it, noting when each sensor
// tried to connect and which readings arrived when, in arrival order.
type Recorder struct {
	*sensors.Service
	mu       sync.Mutex
	attempts []time.Time
	arrivals []Arrival
	held     bool // readings arriving now are never stored nor acknowledged
}

// Hold makes the gateway swallow the readings arriving from now on (true), as one
// that goes down before storing them.
func (r *Recorder) Hold(on bool) {
	r.mu.Lock()
	r.held = on
	r.mu.Unlock()
}

// Arrival is a reading as it reached the broker.
type Arrival struct {
	At      time.Time
	Payload string
}

func (r *Recorder) Authenticate(id, clientID string, credential []byte, remote string) error {
	r.mu.Lock()
	r.attempts = append(r.attempts, time.Now())
	r.mu.Unlock()
	return r.Service.Authenticate(id, clientID, credential, remote)
}

func (r *Recorder) Accept(ctx context.Context, id string, payload []byte, remote string, done func(error)) error {
	r.mu.Lock()
	r.arrivals = append(r.arrivals, Arrival{At: time.Now(), Payload: string(payload)})
	held := r.held
	r.mu.Unlock()
	if held {
		return nil
	}
	return r.Service.Accept(ctx, id, payload, remote, done)
}

func (r *Recorder) Snapshot() ([]time.Time, []Arrival) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.attempts...), append([]Arrival(nil), r.arrivals...)
}

// WaitFor polls cond until it holds or the deadline passes.
func WaitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// LogBuffer collects log output written from several goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
