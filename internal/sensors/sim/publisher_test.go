package sim_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/backoff"
	"hearth/internal/sensors"
	"hearth/internal/sensors/sim"
	"hearth/internal/sensors/sim/simtest"
)

// fast is a backoff for tests: retries within tens of milliseconds.
var fast = backoff.Policy{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond}

func newPublisher(t *testing.T, g *simtest.Gateway, id string, cred sensors.Credential, modelID string, mod func(*sim.Config)) *sim.Publisher {
	t.Helper()
	m, _ := sensors.LookupModel(modelID)
	cfg := sim.Config{Broker: g.Addr, TLS: g.ClientTLS(t), ID: id, Credential: cred, Model: m, Backoff: fast}
	if mod != nil {
		mod(&cfg)
	}
	p, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs p in the background; the returned function stops it and returns Run's error.
func run(t *testing.T, p *sim.Publisher) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	res := make(chan error, 1)
	go func() { res <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-res })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// doorReadings are n alternating door readings, a second apart, ending at end.
func doorReadings(n int, end time.Time) []sensors.Reading {
	rs := make([]sensors.Reading, n)
	for i := range rs {
		rs[i] = sensors.Reading{Kind: sensors.Door, Value: float64(1 - i%2), Time: end.Add(time.Duration(i-n+1) * time.Second).Truncate(time.Millisecond).UTC()}
	}
	return rs
}

func TestPublishStoresReadings(t *testing.T) {
	g := simtest.NewGateway(t)
	id, cred := g.Pair(t, "HS-TH1")
	m, _ := sensors.LookupModel("HS-TH1")
	gen, err := sim.NewGenerator(sim.GeneratorConfig{Model: m, Seed: 1, Start: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	p := newPublisher(t, g, id, cred, "HS-TH1", func(c *sim.Config) { c.Count = 3 })
	var want []sensors.Reading
	for range 3 {
		r := gen.Next()
		want = append(want, r)
		p.Add(r)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := g.Stored(t, id)
	sortReadings(got)
	sortReadings(want)
	if !equalReadings(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	if st := p.Stats(); st.Acked != 3 || st.Buffered != 0 || st.Connects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestOutageLosesNothing stops the gateway while the sensor runs: readings taken
// meanwhile wait in the buffer and arrive, in order, once the gateway is back on the
// same address.
//
// TS-0045 5.6.1.1: readings taken during a gateway outage are delivered, none lost.
func TestOutageLosesNothing(t *testing.T) {
	g := simtest.NewGateway(t)
	id, cred := g.Pair(t, "HS-D1")
	p := newPublisher(t, g, id, cred, "HS-D1", nil)
	stop := run(t, p)
	all := doorReadings(6, time.Now())
	for _, r := range all[:2] {
		p.Add(r)
	}
	simtest.WaitFor(t, "first readings acknowledged", 5*time.Second, func() bool { return p.Stats().Acked == 2 })

	// The gateway goes down while a reading is in flight: it arrived but was never
	// acknowledged, so the sensor still holds it.
	g.Rec.Hold(true)
	p.Add(all[2])
	simtest.WaitFor(t, "third reading sent", 5*time.Second, func() bool { _, arr := g.Rec.Snapshot(); return len(arr) == 3 })
	g.Stop(t)
	g.Rec.Hold(false)
	simtest.WaitFor(t, "sensor notices the outage", 5*time.Second, func() bool { return !p.Stats().Connected })
	for _, r := range all[3:] {
		p.Add(r)
	}
	// While the gateway is away the sensor keeps trying, and keeps everything.
	simtest.WaitFor(t, "reconnection attempts", 5*time.Second, func() bool { return p.Stats().Buffered == 4 })
	if st := p.Stats(); st.Acked != 2 || st.Connects != 1 {
		t.Fatalf("during the outage: %+v", st)
	}

	g.Start(t)
	simtest.WaitFor(t, "backlog delivered", 8*time.Second, func() bool { return p.Stats().Acked == 6 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Buffered != 0 || st.Dropped != 0 || st.Connects != 2 {
		t.Fatalf("after the outage: %+v", st)
	}

	// The broker saw the readings in order; the reading whose acknowledgement was lost
	// with the connection arrived twice, one after the other (QoS 1), and no other.
	_, arr := g.Rec.Snapshot()
	var order []string
	dups := 0
	for _, a := range arr {
		if len(order) > 0 && order[len(order)-1] == a.Payload {
			dups++
			continue
		}
		order = append(order, a.Payload)
	}
	var want []string
	for _, r := range all {
		want = append(want, string(r.Marshal()))
	}
	if !slices.Equal(order, want) || dups != 1 {
		t.Fatalf("arrived %q (%d repeated), want %q", order, dups, want)
	}
	if got := g.Stored(t, id); !equalReadings(dedupe(got), all) {
		t.Fatalf("stored %v, want %v", got, all)
	}
}

// TestRefusedBacksOff gives the sensor a wrong credential: it is refused every time,
// and waits longer and longer (a random delay under a doubling ceiling) between tries.
//
// TS-0045 5.6.1.3: reconnection backs off exponentially with full jitter.
func TestRefusedBacksOff(t *testing.T) {
	g := simtest.NewGateway(t)
	id, cred := g.Pair(t, "HS-TH1")
	wrong := sensors.Credential(strings.Repeat("x", len(cred.Reveal())))
	var mu sync.Mutex
	var ceilings, delays []time.Duration
	policy := backoff.Policy{Base: 40 * time.Millisecond, Max: 320 * time.Millisecond, Rand: func(n int64) int64 {
		d := rand.Int64N(n)
		mu.Lock()
		ceilings, delays = append(ceilings, time.Duration(n-1)), append(delays, time.Duration(d))
		mu.Unlock()
		return d
	}}
	var logs simtest.LogBuffer
	p := newPublisher(t, g, id, wrong, "HS-TH1", func(c *sim.Config) {
		c.Backoff = policy
		c.Log = slog.New(slog.NewTextHandler(&logs, nil))
	})
	p.Add(sensors.Reading{Kind: sensors.Battery, Value: 90, Time: time.Now()})
	stop := run(t, p)
	const tries = 7
	simtest.WaitFor(t, "refusals", 8*time.Second, func() bool { return p.Stats().Refused >= tries })
	stop()

	st := p.Stats()
	if st.Connects != 0 || st.Acked != 0 || st.Buffered != 1 {
		t.Fatalf("refused sensor: %+v", st)
	}
	attempts, _ := g.Rec.Snapshot()
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) < tries || len(ceilings) < tries-1 {
		t.Fatalf("%d attempts, %d delays", len(attempts), len(ceilings))
	}
	for i := range tries - 1 {
		// The ceiling doubles from Base up to Max...
		if want := policy.Ceiling(i + 1); ceilings[i] != want {
			t.Errorf("ceiling before retry %d is %v, want %v", i+1, ceilings[i], want)
		}
		// ...and each retry waits its delay before trying again.
		if gap := attempts[i+1].Sub(attempts[i]); gap < delays[i] {
			t.Errorf("retry %d came %v after the previous attempt, before its delay %v", i+1, gap, delays[i])
		}
	}
	// Full jitter: the delays are spread under their ceilings, not the ceilings.
	if slices.Equal(delays[:tries-1], ceilings[:tries-1]) || len(slices.Compact(slices.Clone(delays))) < 3 {
		t.Errorf("delays %v under ceilings %v are not jittered", delays, ceilings)
	}
	out := logs.String()
	if !strings.Contains(out, "gateway refused the sensor") || strings.Contains(out, wrong.Reveal()) {
		t.Fatalf("log does not say the sensor was refused, or shows the credential:\n%s", out)
	}
}

// TestBacklogDrainRespectsMaxRate loads a backlog from the buffer file and checks that
// it reaches the gateway no faster than the model's MaxRate, in order, and that the
// buffer file is empty afterwards.
//
// TS-0045 5.6.1.1: a persisted backlog is delivered after a restart, at a rate the
// gateway accepts.
func TestBacklogDrainRespectsMaxRate(t *testing.T) {
	g := simtest.NewGateway(t)
	id, cred := g.Pair(t, "HS-D1")
	m, _ := sensors.LookupModel("HS-D1")
	backlog := doorReadings(8, time.Now().Add(-time.Minute))
	file := filepath.Join(t.TempDir(), "buffer.json")
	writeBufferFile(t, file, backlog)
	p := newPublisher(t, g, id, cred, "HS-D1", func(c *sim.Config) { c.BufferFile = file; c.Count = len(backlog) })
	if st := p.Stats(); st.Buffered != len(backlog) {
		t.Fatalf("loaded %d readings from the buffer file, want %d", st.Buffered, len(backlog))
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, arr := g.Rec.Snapshot()
	if len(arr) != len(backlog) {
		t.Fatalf("%d readings arrived, want %d", len(arr), len(backlog))
	}
	period := time.Duration(float64(time.Second) / m.MaxRate)
	const slack = 50 * time.Millisecond // scheduling and TLS record timing
	for i := range arr {
		if arr[i].Payload != string(backlog[i].Marshal()) {
			t.Fatalf("reading %d arrived as %s, want %s", i, arr[i].Payload, backlog[i].Marshal())
		}
		for j := i + 1; j < len(arr); j++ {
			if gap, least := arr[j].At.Sub(arr[i].At), time.Duration(j-i)*period-slack; gap < least {
				t.Fatalf("readings %d..%d arrived within %v: faster than %v a second", i, j, gap, m.MaxRate)
			}
		}
	}
	// Not much slower either: the backlog is drained at the rate, not trickled.
	if total := arr[len(arr)-1].At.Sub(arr[0].At); total > time.Duration(len(arr))*period+time.Second {
		t.Fatalf("backlog of %d took %v", len(arr), total)
	}
	var f struct{ Readings []json.RawMessage }
	data, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(data, &f) != nil || len(f.Readings) != 0 {
		t.Fatalf("buffer file after the drain: %s, %v", data, err)
	}
}

func writeBufferFile(t *testing.T, path string, rs []sensors.Reading) {
	t.Helper()
	f := struct {
		Version  int               `json:"version"`
		Readings []json.RawMessage `json:"readings"`
	}{Version: 1}
	for _, r := range rs {
		f.Readings = append(f.Readings, r.Marshal())
	}
	data, _ := json.Marshal(f)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func sortReadings(rs []sensors.Reading) {
	slices.SortStableFunc(rs, func(a, b sensors.Reading) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
}

func equalReadings(a, b []sensors.Reading) bool {
	return slices.EqualFunc(a, b, func(x, y sensors.Reading) bool {
		return x.Kind == y.Kind && x.Value == y.Value && x.Time.Equal(y.Time)
	})
}

// dedupe drops a reading stored twice (the same kind, value and time), as QoS 1 allows.
func dedupe(rs []sensors.Reading) []sensors.Reading {
	return slices.CompactFunc(rs, func(x, y sensors.Reading) bool {
		return x.Kind == y.Kind && x.Value == y.Value && x.Time.Equal(y.Time)
	})
}
