package alerts

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hearth/internal/backoff"
	"hearth/internal/events"
	"hearth/internal/tlspolicy"
	"hearth/internal/tlspolicy/tlstest"
)

// clock is a virtual clock: After advances it by the delay at once, so hours of
// backoff pass in milliseconds, and records every delay asked for.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// rig is an Alerter on a temporary file with a virtual clock, trusting cert.
type rig struct {
	path  string
	clock *clock
	cert  tlstest.Cert
	cfg   Config
	a     *Alerter
}

func newRig(t *testing.T, tweak func(*Config)) *rig {
	t.Helper()
	c := newClock()
	rng := rand.New(rand.NewPCG(1, 2))
	g := &rig{path: filepath.Join(t.TempDir(), "alerts.db"), clock: c, cert: tlstest.SelfSigned(t, "receiver.test")}
	g.cfg = Config{
		Path:     g.path,
		Settings: DefaultSettings(),
		Roots:    g.cert.Pool,
		Policy:   backoff.Policy{Base: 30 * time.Second, Max: time.Hour, Rand: rng.Int64N},
		Timeout:  5 * time.Second,
		Now:      c.Now,
		After:    c.After,
	}
	if tweak != nil {
		tweak(&g.cfg)
	}
	g.open(t)
	return g
}

func (g *rig) open(t *testing.T) {
	t.Helper()
	a, err := New(g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	g.a = a
}

// run starts Run and returns a function that stops it and waits for it to return.
func (g *rig) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// raise publishes an event of kind and returns the alert's id.
func (g *rig) raise(t *testing.T, kind events.Kind) int64 {
	t.Helper()
	id, err := g.a.Raise(t.Context(), event(kind))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func event(kind events.Kind) events.Event {
	return events.Event{ID: 7, Time: time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC), Kind: kind, Severity: events.Critical,
		User: "alice", Remote: "192.0.2.1", Detail: "slot B"}
}

// delivery returns the delivery of alert id through ch, failing if there is none.
func (g *rig) delivery(t *testing.T, id int64, ch Channel) Delivery {
	t.Helper()
	list, err := g.a.List(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range list {
		if al.ID != id {
			continue
		}
		for _, d := range al.Deliveries {
			if d.Channel == ch {
				return d
			}
		}
	}
	t.Fatalf("alert %d has no %s delivery", id, ch)
	return Delivery{}
}

// settled waits until alert id's delivery through ch is no longer pending.
func (g *rig) settled(t *testing.T, id int64, ch Channel) Delivery {
	t.Helper()
	var d Delivery
	eventually(t, string(ch)+" delivery", func() bool {
		d = g.delivery(t, id, ch)
		return d.State != Pending
	})
	return d
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// receiver is an HTTPS webhook receiver on loopback that answers with the statuses in
// order (then 200) and records each request.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	statuses []int
	reqs     []request
}

type request struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, cert tlstest.Cert, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	cfg, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert.TLS, nil })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{cert.TLS} // no SNI for an IP address
	r.srv.TLS = cfg
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body := make([]byte, 0, 512)
	buf := make([]byte, 512)
	for {
		n, err := req.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, request{header: req.Header.Clone(), body: body})
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// webhook makes a webhook spec for url with a fixed secret.
func webhook(t *testing.T, url string) WebhookSpec {
	t.Helper()
	w, err := NewWebhook(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// newPlainReceiver is an http:// receiver that accepts everything.
func newPlainReceiver(t *testing.T, mu *sync.Mutex, got *http.Header) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*got = r.Header.Clone()
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newHandlerServer is an HTTPS server on loopback with cert running h; it returns the URL.
func newHandlerServer(t *testing.T, cert tlstest.Cert, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	cfg, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert.TLS, nil })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{cert.TLS}
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}
