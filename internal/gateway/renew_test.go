package gateway

import (
	"context"
	"crypto"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/cloud"
	"hearth/internal/events"
	"hearth/internal/identity"
	"hearth/internal/provision"
)

type wallClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *wallClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *wallClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// renewalRig is a provisioned gateway (not serving) and the vendor's services.
type renewalRig struct {
	m      *Main
	vendor string
	cloud  *httptest.Server
	clock  *wallClock
	r      *renewer
}

func newRenewalRig(t *testing.T) *renewalRig {
	t.Helper()
	v := filepath.Join(t.TempDir(), "vendor")
	if err := provision.InitVendor(v, "Hearth Labs", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(t.TempDir(), "device")
	if _, err := provision.Device(provision.Request{VendorDir: v, OutDir: d, Model: "HG-100", Name: "Hearth Gateway", Hasher: auth.Hasher{Iterations: auth.MinIterations}}); err != nil {
		t.Fatal(err)
	}
	svc, err := cloud.New(cloud.Config{VendorDir: v})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(svc.Handler())
	srv.TLS, err = svc.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	clk := &wallClock{now: time.Now()}
	m, err := New(context.Background(), Config{DataDir: d, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r, err := newRenewer(m, "https://localhost:"+port, clk.Now, renewTick)
	if err != nil {
		t.Fatal(err)
	}
	return &renewalRig{m: m, vendor: v, cloud: srv, clock: clk, r: r}
}

func countEvents(t *testing.T, m *Main, kind events.Kind) int {
	t.Helper()
	list, err := m.evlog.Events(context.Background(), events.Query{Kinds: []events.Kind{kind}})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TS-0045 5.4.1.4: the device renews its certificates over mutual TLS once two thirds of
// their validity have passed, keeps its key, and serves the new certificate at once.
func TestCertificateRenewal(t *testing.T) {
	g := newRenewalRig(t)
	ctx := context.Background()
	old := g.m.identity()
	g.r.tick(ctx)
	if g.m.identity() != old {
		t.Fatal("renewed before it was due")
	}
	g.clock.Set(identity.RenewAt(old.Leaf).Add(time.Hour))
	g.r.tick(ctx)
	now := g.m.identity()
	if now == old || now.Leaf.SerialNumber.Cmp(old.Leaf.SerialNumber) == 0 {
		t.Fatalf("not renewed when due (failures %d)", g.r.failures)
	}
	if !now.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(old.Leaf.PublicKey) || now.Info.Serial != old.Info.Serial {
		t.Fatal("renewal changed the key or the identity")
	}
	if _, err := os.Stat(filepath.Join(g.m.cfg.DataDir, identity.RenewedDir, identity.CertFile)); err != nil {
		t.Fatalf("renewed certificate not stored: %v", err)
	}
	if countEvents(t, g.m, events.CertificateRenewed) != 1 {
		t.Fatal("no renewal event")
	}
	// The served HTTPS certificate is the new one.
	if got := g.m.identity().ServerCertificate().Leaf; got != now.ServerChain[0] {
		t.Fatal("the HTTPS listener would not present the renewed certificate")
	}
	// After a restart, the renewed certificates are loaded and verified.
	g.m.Close()
	m2, err := New(ctx, Config{DataDir: g.m.cfg.DataDir})
	if err != nil {
		t.Fatalf("restart with renewed certificates: %v", err)
	}
	defer m2.Close()
	if m2.identity().Leaf.SerialNumber.Cmp(now.Leaf.SerialNumber) != 0 {
		t.Fatal("restart went back to the factory certificate")
	}
	// The superseded certificate is refused by the vendor.
	stale := *old
	if _, err := g.r.renew(ctx, &stale); err == nil {
		t.Fatal("the vendor renewed a superseded certificate")
	}
}

// Renewal failures back off and raise an event from the third in a row; a wall clock
// jumping backwards neither stalls nor hurries the retries.
func TestRenewalFailuresBackOffAndAlarm(t *testing.T) {
	g := newRenewalRig(t)
	ctx := context.Background()
	g.cloud.Close()
	id := g.m.identity()
	g.clock.Set(identity.RenewAt(id.Leaf).Add(time.Minute))
	attempts := 0
	for i := 0; i < 200 && attempts < 4; i++ {
		before := g.r.failures
		g.r.tick(ctx)
		if g.r.failures > before {
			attempts++
		}
		if i == 50 {
			g.clock.Set(id.Leaf.NotBefore.Add(-time.Hour)) // the clock jumps back before issuance
		}
	}
	if attempts < 4 {
		t.Fatalf("only %d attempts in 200 ticks: backoff stalled", attempts)
	}
	if n := countEvents(t, g.m, events.CertificateRenewalFailing); n < 2 {
		t.Fatalf("%d failing-renewal events after %d failures, want one per failure from the third", n, attempts)
	}
	if g.r.skip > g.r.maxSkip {
		t.Fatalf("backoff %d ticks exceeds the cap %d", g.r.skip, g.r.maxSkip)
	}
}

func TestRenewerRefusesPlainURL(t *testing.T) {
	g := newRenewalRig(t)
	for _, u := range []string{"http://localhost:1", "localhost", "https://"} {
		if _, err := newRenewer(g.m, u, time.Now, renewTick); err == nil {
			t.Errorf("cloud URL %q accepted", u)
		}
	}
}
