package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hearth/internal/backoff"
)

// clock is a virtual clock: After advances it by the delay at once, so hours of
// backoff pass in milliseconds, and records every delay asked for.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	// never, when set, makes delays of at least this long never end (only Wake does).
	never time.Duration
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.never > 0 && d >= c.never {
		return nil
	}
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

// cloud is an in-memory cloud that stores each (stream, seq) once, like the real one.
type cloud struct {
	mu        sync.Mutex
	clock     *clock
	downUntil time.Time
	// loseAck, when set, is asked after a batch is stored whether its acknowledgement
	// is lost on the way back (the gateway then retries a batch already stored).
	loseAck func(accepted int) bool
	// reject refuses, as malformed, any batch containing one of these seqs.
	reject map[int64]bool
	// onFail runs on each refused connection.
	onFail func()

	attempts   []time.Time
	fails      int
	stream     string
	got        []Item
	last       int64
	duplicates int
	dropped    int64
	batches    []int
}

func (c *cloud) Send(ctx context.Context, b Batch) error {
	c.mu.Lock()
	now := c.clock.Now()
	c.attempts = append(c.attempts, now)
	if now.Before(c.downUntil) {
		c.fails++
		f := c.onFail
		c.mu.Unlock()
		if f != nil {
			f()
		}
		return errors.New("dial tcp: connection refused")
	}
	defer c.mu.Unlock()
	for _, it := range b.Items {
		if c.reject[it.Seq] {
			return fmt.Errorf("%w: cloud answered 400", ErrRejected)
		}
	}
	if c.stream != "" && c.stream != b.Stream {
		return fmt.Errorf("%w: stream changed", ErrRejected)
	}
	c.stream = b.Stream
	c.batches = append(c.batches, len(b.Items))
	accepted := 0
	for i, it := range b.Items {
		if it.Seq <= c.last {
			c.duplicates++
			continue
		}
		if i == 0 {
			c.dropped += b.Dropped
		}
		c.got = append(c.got, it)
		c.last = it.Seq
		accepted++
	}
	if c.loseAck != nil && c.loseAck(accepted) {
		return errors.New("read tcp: connection reset by peer")
	}
	return nil
}

func (c *cloud) failures() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fails
}

func (c *cloud) received() []Item {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Item(nil), c.got...)
}

// rig is an outbox on a temporary file with a virtual clock and an in-memory cloud.
type rig struct {
	path    string
	clock   *clock
	cloud   *cloud
	allowed *allowFlag
	ob      *Outbox
}

type allowFlag struct {
	mu sync.Mutex
	on bool
}

func (a *allowFlag) get() bool  { a.mu.Lock(); defer a.mu.Unlock(); return a.on }
func (a *allowFlag) set(v bool) { a.mu.Lock(); a.on = v; a.mu.Unlock() }

func newRig(t *testing.T, tweak func(*Config)) *rig {
	t.Helper()
	c := newClock()
	g := &rig{path: filepath.Join(t.TempDir(), "outbox.db"), clock: c, cloud: &cloud{clock: c}, allowed: &allowFlag{on: true}}
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := Config{
		Sender:  g.cloud,
		Allowed: func(string) bool { return g.allowed.get() },
		Policy:  backoff.Policy{Base: time.Second, Max: 5 * time.Minute, Rand: rng.Int64N},
		Now:     c.Now,
		After:   c.After,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	ob, err := Open(g.path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	g.ob = ob
	return g
}

func (g *rig) enqueue(t *testing.T, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := g.ob.Enqueue(t.Context(), KindTelemetry, doc(i)); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
}

// doc is a telemetry document; its only field is one the inventory lists for the kind.
func doc(i int) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"sensors": {"n": %d}}`, i)) }

// docN reads back the n of a document made by doc.
func docN(t *testing.T, it Item) int {
	t.Helper()
	var v struct{ Sensors struct{ N int } }
	if err := json.Unmarshal(it.Doc, &v); err != nil {
		t.Fatal(err)
	}
	return v.Sensors.N
}

// run starts Run and returns a function that stops it and waits for it to return.
func (g *rig) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.ob.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	}
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
