package sensors_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/internal/events"
	"hearth/internal/sensors"
	"hearth/internal/store/sqlite"
)

type eventRec struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *eventRec) Publish(_ context.Context, e events.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}

func (r *eventRec) count(k events.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func payload(k sensors.Kind, v float64, t time.Time) []byte {
	return sensors.Reading{Kind: k, Value: v, Time: t}.Marshal()
}

type harness struct {
	svc      *sensors.Service
	db       *sqlite.DB
	readings *sqlite.Readings
	ev       *eventRec
	clk      *clock
	kicked   chan string
	cancel   context.CancelFunc
	done     chan struct{}
}

func newHarness(t *testing.T, dir string, mod func(*sensors.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "hearthd.db"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := sqlite.OpenReadings(ctx, filepath.Join(dir, "readings.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{db: db, readings: rd, ev: &eventRec{}, clk: newClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)), kicked: make(chan string, 16), done: make(chan struct{})}
	cfg := sensors.Config{Store: db, Readings: rd, Events: h.ev, Now: h.clk.now}
	if mod != nil {
		mod(&cfg)
	}
	h.svc, err = sensors.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.svc.SetDisconnector(func(id string) { h.kicked <- id })
	runCtx, cancel := context.WithCancel(ctx)
	h.cancel = cancel
	go func() { h.svc.Run(runCtx); close(h.done) }()
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
	h.readings.Close()
	h.db.Close()
}

// accept submits a payload and waits for its outcome.
func (h *harness) accept(t *testing.T, id string, p []byte) error {
	t.Helper()
	res := make(chan error, 1)
	if err := h.svc.Accept(context.Background(), id, p, "192.0.2.7:4000", func(err error) { res <- err }); err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("reading neither stored nor refused")
		return nil
	}
}

func TestPairAuthenticateAndLifecycle(t *testing.T) {
	h := newHarness(t, t.TempDir(), nil)
	v, cred, err := h.svc.Pair(context.Background(), "alice", "Living room", "HS-TH1")
	if err != nil {
		t.Fatal(err)
	}
	if !sensors.ValidID(v.ID) || v.State != sensors.Active || len(cred.Reveal()) < 40 || cred.String() != "REDACTED" {
		t.Fatalf("pairing result %+v", v)
	}
	c := []byte(cred.Reveal())
	if err := h.svc.Authenticate(v.ID, v.ID, c, "192.0.2.7:1"); err != nil {
		t.Fatalf("own credential refused: %v", err)
	}
	for name, tc := range map[string]struct {
		id, client string
		cred       []byte
	}{
		"anonymous":        {"", "", nil},
		"wrong credential": {v.ID, v.ID, []byte("guess")},
		"other client ID":  {v.ID, "someone-else", c},
		"unknown sensor":   {sensors.NewID(), "", c},
		"malformed id":     {"../../etc", "../../etc", c},
	} {
		if err := h.svc.Authenticate(tc.id, tc.client, tc.cred, "198.51.100."+string(rune('1'+len(name)%9))+":1"); !errors.Is(err, sensors.ErrRefused) {
			t.Errorf("%s: %v, want refusal", name, err)
		}
	}
	if h.ev.count(events.SensorConnectRefused) == 0 {
		t.Error("refusals raised no event")
	}

	if _, err := h.svc.Quarantine(context.Background(), "alice", v.ID); err != nil {
		t.Fatal(err)
	}
	if got := <-h.kicked; got != v.ID {
		t.Fatalf("quarantine disconnected %q", got)
	}
	if err := h.svc.Authenticate(v.ID, v.ID, c, "192.0.2.7:1"); err == nil || !strings.Contains(err.Error(), "quarantined") {
		t.Fatalf("quarantined sensor: %v", err)
	}
	if err := h.svc.Accept(context.Background(), v.ID, payload(sensors.Temperature, 20, h.clk.now()), "", func(error) { t.Error("quarantined reading processed") }); !errors.Is(err, sensors.ErrRefused) {
		t.Fatalf("reading from quarantined sensor: %v", err)
	}
	if _, err := h.svc.Quarantine(context.Background(), "alice", v.ID); !errors.Is(err, sensors.ErrState) {
		t.Fatalf("second quarantine: %v", err)
	}
	if _, err := h.svc.Release(context.Background(), "alice", v.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Authenticate(v.ID, v.ID, c, "192.0.2.7:1"); err != nil {
		t.Fatalf("released sensor: %v", err)
	}

	next, cred2, err := h.svc.Replace(context.Background(), "alice", v.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	<-h.kicked
	if next.Model != "HS-TH2" || next.Name != v.Name || next.Replaces != v.ID {
		t.Fatalf("replacement %+v", next)
	}
	if err := h.svc.Authenticate(v.ID, v.ID, c, "192.0.2.7:1"); err == nil {
		t.Fatal("retired sensor still authenticates")
	}
	if err := h.svc.Authenticate(next.ID, next.ID, []byte(cred2.Reveal()), "192.0.2.7:1"); err != nil {
		t.Fatalf("replacement refused: %v", err)
	}
	old, _ := h.svc.Get(v.ID)
	if old.State != sensors.Retired || old.ReplacedBy != next.ID {
		t.Fatalf("old sensor after replacement: %+v", old)
	}
}

func TestRegistrySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, nil)
	v, cred, err := h.svc.Pair(context.Background(), "alice", "Hall", "HS-D1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.accept(t, v.ID, payload(sensors.Door, 1, h.clk.now())); err != nil {
		t.Fatal(err)
	}
	h.close()
	h2 := newHarness(t, dir, nil)
	got, err := h2.svc.Get(v.ID)
	if err != nil || got.Name != "Hall" || got.LastSeen.IsZero() {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if err := h2.svc.Authenticate(v.ID, v.ID, []byte(cred.Reveal()), "192.0.2.7:1"); err != nil {
		t.Fatalf("credential after restart: %v", err)
	}
}

func TestPairValidates(t *testing.T) {
	h := newHarness(t, t.TempDir(), nil)
	for _, tc := range []struct{ name, model string }{{"", "HS-TH1"}, {" padded", "HS-TH1"}, {strings.Repeat("x", 65), "HS-TH1"}, {"bell\a", "HS-TH1"}, {"ok", "HS-X9"}} {
		if _, _, err := h.svc.Pair(context.Background(), "alice", tc.name, tc.model); err == nil {
			t.Errorf("Pair(%q, %q) accepted", tc.name, tc.model)
		}
	}
}

func TestAcceptStoresValidReadingsAndRejectsOthers(t *testing.T) {
	h := newHarness(t, t.TempDir(), nil)
	v, _, _ := h.svc.Pair(context.Background(), "alice", "Kitchen", "HS-TH1")
	now := h.clk.now()
	for i := range 10 {
		if err := h.accept(t, v.ID, payload(sensors.Temperature, 20+float64(i)/10, now.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range [][]byte{
		[]byte(`{"type":"temperature","value":500,"unit":"C","ts":"2026-11-26T12:00:00Z"}`),
		payload(sensors.Motion, 1, now), // a climate sensor has no motion detector
		[]byte(`not json`),
	} {
		if err := h.accept(t, v.ID, bad); !errors.Is(err, sensors.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad, err)
		}
	}
	if h.ev.count(events.SensorReadingRejected) != 1 {
		t.Errorf("rejected readings from one source within a minute: %d events, want 1 (the rest counted)", h.ev.count(events.SensorReadingRejected))
	}
	got, err := h.svc.Readings(context.Background(), v.ID, now.Add(-time.Hour), now.Add(time.Hour), 0)
	if err != nil || len(got) != 10 {
		t.Fatalf("stored readings: %d, %v", len(got), err)
	}
	for i, r := range got {
		if r.Kind != sensors.Temperature || r.Time != now.Add(time.Duration(i)*time.Second) {
			t.Fatalf("reading %d: %+v", i, r)
		}
	}
	pts, err := h.svc.Series(context.Background(), v.ID, sensors.Temperature, now, now.Add(10*time.Second), 5*time.Second)
	if err != nil || len(pts) != 2 || pts[0].Count != 5 || pts[0].Min != 20 || pts[1].Max != 20.9 {
		t.Fatalf("series: %+v, %v", pts, err)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, t.TempDir(), nil)
	v, _, _ := h.svc.Pair(context.Background(), "alice", "Door", "HS-D1")
	var limited, stored atomic.Int64
	var wg sync.WaitGroup
	for i := range 2100 {
		wg.Add(1)
		err := h.svc.Accept(context.Background(), v.ID, payload(sensors.Door, float64(i%2), h.clk.now()), "192.0.2.7:1", func(err error) {
			defer wg.Done()
			switch {
			case errors.Is(err, sensors.ErrRateExceeded):
				limited.Add(1)
			case err == nil:
				stored.Add(1)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if limited.Load() < 50 || stored.Load()+limited.Load() != 2100 {
		t.Fatalf("2100 readings in an instant: %d limited, %d stored; want the burst allowance (2000) enforced", limited.Load(), stored.Load())
	}
	h.clk.add(time.Minute)
	if err := h.accept(t, v.ID, payload(sensors.Door, 1, h.clk.now())); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
	if h.ev.count(events.SensorRateExceeded) != 1 {
		t.Fatalf("rate events: %d", h.ev.count(events.SensorRateExceeded))
	}
}

func TestRetention(t *testing.T) {
	h := newHarness(t, t.TempDir(), nil)
	ctx := context.Background()
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var recs []sensors.Record
	for i := range 1000 {
		at := start.Add(time.Duration(i) * time.Hour)
		recs = append(recs, sensors.Record{Sensor: "abcdefghijklmnop", Reading: sensors.Reading{Kind: sensors.Door, Value: 1, Time: at}, Received: at})
	}
	if err := h.readings.Insert(ctx, recs); err != nil {
		t.Fatal(err)
	}
	n, err := h.readings.Prune(ctx, start.Add(400*time.Hour), 0)
	if err != nil || n != 400 {
		t.Fatalf("pruned %d, %v; want 400", n, err)
	}
	n, err = h.readings.Prune(ctx, start, 100)
	if err != nil || n != 500 {
		t.Fatalf("capped %d, %v; want 500", n, err)
	}
	left, _ := h.readings.Readings(ctx, "abcdefghijklmnop", start, start.Add(2000*time.Hour), 0)
	if len(left) != 100 || !left[0].Time.Equal(start.Add(900*time.Hour)) {
		t.Fatalf("left %d readings starting %v", len(left), left[0].Time)
	}
}

func TestRemoveDeletesReadings(t *testing.T) {
	h := newHarness(t, t.TempDir(), nil)
	v, _, _ := h.svc.Pair(context.Background(), "alice", "Porch", "HS-M1")
	if err := h.accept(t, v.ID, payload(sensors.Motion, 1, h.clk.now())); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Remove(context.Background(), "alice", v.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.readings.Count(context.Background(), v.ID); n != 0 {
		t.Fatalf("%d readings left after removal", n)
	}
	if _, err := h.svc.Get(v.ID); !errors.Is(err, sensors.ErrNotFound) {
		t.Fatalf("removed sensor: %v", err)
	}
}
