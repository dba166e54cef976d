package broker_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/internal/mqttload"
	"hearth/internal/sensors"
	"hearth/internal/sensors/broker"
	"hearth/internal/sensors/sensorstest"
	"hearth/internal/store/sqlite"
	"hearth/internal/tlspolicy"
	"hearth/internal/tlspolicy/tlstest"
)

// failing is a reading store whose inserts can be made to fail, like a full disk.
type failing struct {
	*readingsDB
	fail atomic.Bool
}

type readingsDB = sqlite.Readings

func (f *failing) Insert(ctx context.Context, recs []sensors.Record) error {
	if f.fail.Load() {
		return errors.New("disk full")
	}
	return f.readingsDB.Insert(ctx, recs)
}

type rig struct {
	svc    *sensors.Service
	store  *failing
	broker *broker.Broker
	client *tls.Config
}

func newRig(t *testing.T) *rig {
	t.Helper()
	store := &failing{readingsDB: sensorstest.OpenReadings(t)}
	svc := sensorstest.Run(t, sensors.Config{Readings: store})
	cert := tlstest.SelfSigned(t, "gateway.test")
	srvCfg, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert.TLS, nil })
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Config{Listen: func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, TLS: srvCfg, Sensors: svc})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &rig{svc: svc, store: store, broker: b, client: &tls.Config{RootCAs: cert.Pool, ServerName: "gateway.test", MinVersion: tls.VersionTLS12}}
}

func (r *rig) pair(t *testing.T) (string, string) {
	t.Helper()
	v, cred, err := r.svc.Pair(t.Context(), "owner", "Test", "HS-TH1")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.broker.SetOpen(true); err != nil {
		t.Fatal(err)
	}
	return v.ID, cred.Reveal()
}

func (r *rig) dial(t *testing.T, id, cred string, version byte) *mqttload.Conn {
	t.Helper()
	c, err := mqttload.Dial(t.Context(), mqttload.Options{Addr: r.broker.Addr(), TLS: r.client, ClientID: id, Username: id, Password: []byte(cred), Version: version})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acks publishes payloads at QoS 1 and returns the reason codes in publish order.
func acks(t *testing.T, c *mqttload.Conn, topic string, payloads ...[]byte) []byte {
	t.Helper()
	var mu sync.Mutex
	codes := make([]byte, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		wg.Add(1)
		if err := c.Publish(topic, p, 1, func(code byte) { mu.Lock(); codes[i] = code; mu.Unlock(); wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	c.Flush()
	wg.Wait()
	return codes
}

func reading(v float64) []byte {
	return sensors.Reading{Kind: sensors.Temperature, Value: v, Time: time.Now()}.Marshal()
}

// TS-0045 5.6.1.1, 5.5.2.1: readings are acknowledged in order, once stored; over MQTT
// 5 a malformed reading is refused with "payload format invalid" without disturbing the
// ones around it.
func TestAcknowledgedInOrderOnceStored(t *testing.T) {
	r := newRig(t)
	id, cred := r.pair(t)
	c := r.dial(t, id, cred, 5)
	codes := acks(t, c, sensors.ReadingTopic(id), reading(1), []byte(`{"type":"temperature"}`), reading(2), reading(3))
	if codes[0] != 0 || codes[1] != 0x99 || codes[2] != 0 || codes[3] != 0 {
		t.Fatalf("reason codes % x", codes)
	}
	got, err := r.svc.Readings(t.Context(), id, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 10)
	if err != nil || len(got) != 3 || got[0].Value != 1 || got[2].Value != 3 {
		t.Fatalf("stored %v %v", got, err)
	}
}

// TS-0045 5.6.1.1: a reading the database could not store is never acknowledged: the
// connection is closed, so the sensor keeps it and sends it again.
func TestNotAcknowledgedWhenNotStored(t *testing.T) {
	for _, version := range []byte{4, 5} {
		r := newRig(t)
		id, cred := r.pair(t)
		c := r.dial(t, id, cred, version)
		if codes := acks(t, c, sensors.ReadingTopic(id), reading(1)); codes[0] != 0 {
			t.Fatalf("v%d: first reading refused: % x", version, codes)
		}
		r.store.fail.Store(true)
		acked := make(chan byte, 1)
		if err := c.Publish(sensors.ReadingTopic(id), reading(2), 1, func(code byte) { acked <- code }); err != nil {
			t.Fatal(err)
		}
		c.Flush()
		select {
		case <-c.Done():
		case code := <-acked:
			t.Fatalf("v%d: unstored reading acknowledged with 0x%02x", version, code)
		case <-time.After(10 * time.Second):
			t.Fatalf("v%d: connection kept open after a failed store", version)
		}
		if n := c.Unacknowledged(); n != 1 {
			t.Fatalf("v%d: %d readings unacknowledged, want 1", version, n)
		}
	}
}

// TS-0045 5.4.2.4: a sensor reaches only its own topic and subscribes to nothing.
func TestTopicAndSubscriptionRefused(t *testing.T) {
	r := newRig(t)
	id, cred := r.pair(t)
	other, _ := r.pair(t)
	c := r.dial(t, id, cred, 5)
	if codes := acks(t, c, sensors.ReadingTopic(other), reading(1)); codes[0] != 0x87 {
		t.Fatalf("cross-topic publish over MQTT 5: % x", codes)
	}
	if code, err := c.Subscribe(t.Context(), "sensors/#"); err != nil || code < 0x80 {
		t.Fatalf("subscribe granted: 0x%02x %v", code, err)
	}
	c3 := r.dial(t, id, cred, 4)
	c3.Publish(sensors.ReadingTopic(other), reading(1), 1, nil)
	c3.Flush()
	select {
	case <-c3.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("MQTT 3.1.1 cross-topic publisher not disconnected")
	}
	if got, _ := r.svc.Readings(t.Context(), other, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("cross-topic readings stored: %v", got)
	}
}

// TS-0045 5.3.1.15: quarantine disconnects a connected sensor and refuses it until
// released; a removed sensor's connection ends too.
func TestQuarantineDisconnects(t *testing.T) {
	r := newRig(t)
	id, cred := r.pair(t)
	c := r.dial(t, id, cred, 4)
	if _, err := r.svc.Quarantine(t.Context(), "owner", id); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("quarantined sensor still connected")
	}
	_, err := mqttload.Dial(t.Context(), mqttload.Options{Addr: r.broker.Addr(), TLS: r.client, ClientID: id, Username: id, Password: []byte(cred)})
	var refused mqttload.ConnectError
	if !errors.As(err, &refused) {
		t.Fatalf("quarantined sensor connected: %v", err)
	}
	if _, err := r.svc.Release(t.Context(), "owner", id); err != nil {
		t.Fatal(err)
	}
	c = r.dial(t, id, cred, 4)
	if err := r.svc.Remove(t.Context(), "owner", id); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("removed sensor still connected")
	}
}

// TS-0045 5.2.2.1: the socket exists only while open; reopening binds the same address.
func TestSocketOpensAndCloses(t *testing.T) {
	r := newRig(t)
	if r.broker.Addr() != "" {
		t.Fatalf("a new broker listens on %s", r.broker.Addr())
	}
	r.pair(t)
	addr := r.broker.Addr()
	if err := r.broker.SetOpen(false); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("shut broker accepts connections")
	}
	if r.broker.Addr() != "" {
		t.Fatal("shut broker reports an address")
	}
}
