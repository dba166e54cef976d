package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// snapshot copies the database and its WAL as they are on disk right now, without
// closing anything: what a power cut at this instant would leave behind (every commit
// was fsynced before Enqueue returned).
func snapshot(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "outbox.db")
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(dst + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		out.Close()
	}
	return dst
}

// seqs reads the whole queue of an outbox opened on path.
func queued(t *testing.T, path string) []Item {
	t.Helper()
	ob, err := Open(path, Config{Sender: &cloud{}, Allowed: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	items, err := ob.q.peek(t.Context(), 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// checkPrefix asserts items are documents 1..len(items) in order with increasing seqs.
func checkPrefix(t *testing.T, items []Item) {
	t.Helper()
	for i, it := range items {
		if n := docN(t, it); n != i+1 {
			t.Fatalf("item %d holds document %d", i, n)
		}
		if i > 0 && it.Seq <= items[i-1].Seq {
			t.Fatalf("seq %d after %d", it.Seq, items[i-1].Seq)
		}
	}
}

// TS-0045 5.6.1.1: every item Enqueue accepted survives a power cut, in order; a commit
// torn by the cut is discarded without harming the items before it.
func TestSurvivesPowerLoss(t *testing.T) {
	g := newRig(t, nil)
	g.enqueue(t, 1, 50)

	t.Run("cut", func(t *testing.T) {
		items := queued(t, snapshot(t, g.path))
		if len(items) != 50 {
			t.Fatalf("%d items after the cut, want 50", len(items))
		}
		checkPrefix(t, items)
	})
	t.Run("torn last commit", func(t *testing.T) {
		p := snapshot(t, g.path)
		fi, err := os.Stat(p + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		// Cut the last WAL frame in the middle: the last Enqueue's commit is torn.
		if err := os.Truncate(p+"-wal", fi.Size()-100); err != nil {
			t.Fatal(err)
		}
		items := queued(t, p)
		if len(items) != 49 {
			t.Fatalf("%d items after a torn commit, want the 49 committed before it", len(items))
		}
		checkPrefix(t, items)
	})
	t.Run("reopen and continue", func(t *testing.T) {
		p := snapshot(t, g.path)
		ob, err := Open(p, Config{Sender: &cloud{}, Allowed: func(string) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		if err := ob.Enqueue(t.Context(), KindTelemetry, doc(51)); err != nil {
			t.Fatal(err)
		}
		if s := ob.Stats(); s.Queued != 51 {
			t.Fatalf("queued %d, want 51", s.Queued)
		}
		ob.Close()
		items := queued(t, p)
		checkPrefix(t, items)
		if len(items) != 51 || items[50].Seq <= items[49].Seq {
			t.Fatalf("after reopening: %d items", len(items))
		}
	})
}

// TS-0045 5.6.1.1: the queue is bounded; overflow drops the oldest items and the cloud
// is told how many with the next batch, once.
func TestOverflowDropsOldest(t *testing.T) {
	g := newRig(t, func(c *Config) { c.MaxItems = 5 })
	g.enqueue(t, 1, 8)
	s := g.ob.Stats()
	if s.Queued != 5 || s.Dropped != 3 {
		t.Fatalf("stats %+v, want 5 queued and 3 dropped", s)
	}
	stop := g.run(t)
	eventually(t, "the first drain", func() bool { return len(g.cloud.received()) == 5 })
	g.enqueue(t, 9, 9)
	eventually(t, "the second drain", func() bool { return len(g.cloud.received()) == 6 && g.ob.Stats().Queued == 0 })
	stop()
	got := g.cloud.received()
	for i, it := range got {
		if n := docN(t, it); n != i+4 {
			t.Fatalf("cloud item %d is document %d, want %d", i, n, i+4)
		}
	}
	if g.cloud.dropped != 3 {
		t.Fatalf("cloud was told of %d drops, want 3", g.cloud.dropped)
	}
	if s := g.ob.Stats(); s.Dropped != 3 || s.Queued != 0 || g.ob.q.DroppedUnreported != 0 {
		t.Fatalf("after draining: %+v unreported %d", s, g.ob.q.DroppedUnreported)
	}
}

func TestOverflowByBytes(t *testing.T) {
	g := newRig(t, func(c *Config) { c.MaxBytes = MaxDocBytes })
	big := make([]byte, 0, MaxDocBytes)
	big = append(big, `{"firmware":"`...)
	for len(big) < MaxDocBytes/3 {
		big = append(big, 'x')
	}
	big = append(big, `"}`...)
	for range 4 {
		if err := g.ob.Enqueue(t.Context(), KindTelemetry, big); err != nil {
			t.Fatal(err)
		}
	}
	if s := g.ob.Stats(); s.Queued != 2 || s.Dropped != 2 || s.QueuedBytes > MaxDocBytes {
		t.Fatalf("stats %+v, want 2 queued within %d bytes and 2 dropped", s, MaxDocBytes)
	}
}

// TS-0045 5.7.1.9: without consent nothing is queued or sent; withdrawing consent
// empties the queue before anything more leaves the gateway.
func TestConsent(t *testing.T) {
	g := newRig(t, func(c *Config) { c.Recheck = time.Hour })
	g.clock.never = time.Hour // the loop waits for Wake, not spinning through rechecks
	g.allowed.set(false)
	if err := g.ob.Enqueue(t.Context(), KindSecurityEvent, doc(1)); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("enqueue without consent: %v", err)
	}
	if s := g.ob.Stats(); s.Queued != 0 {
		t.Fatalf("queued %d without consent", s.Queued)
	}

	// Items queued under consent, then consent withdrawn while the cloud is down.
	g.allowed.set(true)
	g.enqueue(t, 1, 10)
	g.cloud.downUntil = g.clock.Now().Add(24 * time.Hour)
	g.cloud.onFail = func() { g.allowed.set(false) }
	stop := g.run(t)
	eventually(t, "the purge", func() bool { return g.ob.Stats().Queued == 0 })
	g.cloud.mu.Lock()
	g.cloud.downUntil = g.clock.Now()
	g.cloud.mu.Unlock()
	g.ob.Wake()
	attempts := len(g.cloud.attempts)
	// Give the loop every chance to send: wake it repeatedly.
	for range 100 {
		g.ob.Wake()
	}
	stop()
	if n := len(g.cloud.received()); n != 0 {
		t.Fatalf("%d items sent after consent was withdrawn", n)
	}
	if len(g.cloud.attempts) != attempts || attempts != 1 {
		t.Fatalf("%d attempts, want the single one made before the withdrawal", len(g.cloud.attempts))
	}
}

// A cloud that refuses one item as malformed does not block the queue: the item is
// isolated by halving the batch, dropped and counted; everything else arrives in order.
func TestRejectedItemDoesNotBlock(t *testing.T) {
	g := newRig(t, nil)
	g.cloud.reject = map[int64]bool{37: true}
	g.enqueue(t, 1, 120)
	stop := g.run(t)
	eventually(t, "the drain", func() bool { return g.ob.Stats().Queued == 0 })
	stop()
	got := g.cloud.received()
	if len(got) != 119 {
		t.Fatalf("cloud got %d items, want 119", len(got))
	}
	want := 1
	for _, it := range got {
		if want == 37 {
			want++
		}
		if n := docN(t, it); n != want {
			t.Fatalf("got document %d, want %d", n, want)
		}
		want++
	}
	if s := g.ob.Stats(); s.Rejected != 1 || s.LastError == "" {
		t.Fatalf("stats %+v, want one rejected item and the error", s)
	}
}

func TestEnqueueValidates(t *testing.T) {
	g := newRig(t, nil)
	big := append(append([]byte(`{"a":"`), make([]byte, MaxDocBytes)...), `"}`...)
	for name, tc := range map[string]struct {
		kind string
		doc  string
	}{
		"unknown kind":               {"debug_dump", `{}`},
		"array":                      {KindTelemetry, `[1]`},
		"null":                       {KindTelemetry, `null`},
		"broken":                     {KindTelemetry, `{"a":`},
		"two values":                 {KindTelemetry, `{} {}`},
		"too large":                  {KindTelemetry, string(big)},
		"field not in the inventory": {KindSecurityEvent, `{"kind":"login.failed","user":"alice"}`},
	} {
		t.Run(name, func(t *testing.T) {
			if err := g.ob.Enqueue(t.Context(), tc.kind, []byte(tc.doc)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	if s := g.ob.Stats(); s.Queued != 0 {
		t.Fatalf("invalid items queued: %d", s.Queued)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Config{Sender: &cloud{}}); err == nil {
		t.Fatal("opened without a consent check")
	}
}

// blockingSender holds every request until its context ends.
type blockingSender struct{ started chan struct{} }

func (s blockingSender) Send(ctx context.Context, _ Batch) error {
	s.started <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TS-0045 5.7.1.9: withdrawing consent abandons a request in flight and empties the queue.
func TestConsentWithdrawnDuringSend(t *testing.T) {
	s := blockingSender{started: make(chan struct{}, 1)}
	g := newRig(t, func(c *Config) { c.Sender = s; c.Recheck = time.Hour })
	g.clock.never = time.Hour
	g.enqueue(t, 1, 3)
	stop := g.run(t)
	defer stop()
	<-s.started
	g.allowed.set(false)
	g.ob.Wake()
	eventually(t, "the purge", func() bool { return g.ob.Stats().Queued == 0 })
	if s := g.ob.Stats(); s.LastError != "" {
		t.Fatalf("the abandoned request was counted as a failure: %+v", s)
	}
}

// TS-0045 5.6.1.1: the queue commits with WAL and synchronous=FULL; a copy of the files
// (TestSurvivesPowerLoss) cannot tell whether the commits were fsynced, this can.
func TestDurabilitySettings(t *testing.T) {
	g := newRig(t, nil)
	var mode string
	var sync int
	g.ob.q.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	g.ob.q.db.QueryRow("PRAGMA synchronous").Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal %s synchronous %d, want wal and FULL (2)", mode, sync)
	}
}

// TS-0045 5.7.1.9, 5.7.1.10: consent is per purpose: withdrawing one deletes only that
// purpose's queued items, the others and the consent documents still go.
func TestConsentPerKind(t *testing.T) {
	var mu sync.Mutex
	allowed := map[string]bool{KindTelemetry: true, KindCrashReport: true, KindConsent: true}
	g := newRig(t, func(c *Config) {
		c.Allowed = func(k string) bool { mu.Lock(); defer mu.Unlock(); return allowed[k] }
	})
	if err := g.ob.Enqueue(t.Context(), KindSecurityEvent, json.RawMessage(`{"kind":"login.failed"}`)); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("kind without consent: %v", err)
	}
	g.enqueue(t, 1, 5) // telemetry
	crash := json.RawMessage(`{"firmware":"1.0.0","day":"2026-11-27","reason":"panic","functions":[]}`)
	if err := g.ob.Enqueue(t.Context(), KindCrashReport, crash); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	allowed[KindTelemetry] = false
	mu.Unlock()
	g.ob.PurgeWithdrawn(t.Context())
	if s := g.ob.Stats(); s.Queued != 1 {
		t.Fatalf("queued %d after withdrawing telemetry, want the crash report only", s.Queued)
	}
	withdrawal := json.RawMessage(`{"purpose":"telemetry","granted":false,"version":"1","time":"2026-11-27T10:30:00Z"}`)
	if err := g.ob.Enqueue(t.Context(), KindConsent, withdrawal); err != nil {
		t.Fatal(err)
	}
	stop := g.run(t)
	eventually(t, "the drain", func() bool { return g.ob.Stats().Queued == 0 })
	stop()
	got := g.cloud.received()
	if len(got) != 2 || got[0].Kind != KindCrashReport || got[1].Kind != KindConsent {
		t.Fatalf("cloud got %+v, want the crash report and then the withdrawal", got)
	}
}

// Reset empties the queue and changes the pseudonymous stream id, durably.
func TestResetStartsANewStream(t *testing.T) {
	g := newRig(t, nil)
	g.enqueue(t, 1, 3)
	before := g.ob.Stream()
	if err := g.ob.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := g.ob.Stream()
	if after == before || len(after) != 32 || g.ob.Stats().Queued != 0 {
		t.Fatalf("stream %s -> %s, queued %d", before, after, g.ob.Stats().Queued)
	}
	g.ob.Close()
	ob, err := Open(g.path, Config{Sender: &cloud{}, Allowed: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	if ob.Stream() != after || ob.Stats().Queued != 0 {
		t.Fatalf("after reopening: stream %s, queued %d", ob.Stream(), ob.Stats().Queued)
	}
}

// TS-0045 5.7.1.11: items carry the minute they were queued, not a precise time.
func TestItemTimesAreCoarse(t *testing.T) {
	g := newRig(t, nil)
	g.clock.mu.Lock()
	g.clock.now = g.clock.now.Add(17*time.Second + 500*time.Millisecond)
	g.clock.mu.Unlock()
	g.enqueue(t, 1, 1)
	stop := g.run(t)
	eventually(t, "the drain", func() bool { return g.ob.Stats().Queued == 0 })
	stop()
	got := g.cloud.received()
	if len(got) != 1 || !got[0].Time.Equal(got[0].Time.Truncate(time.Minute)) {
		t.Fatalf("item time %v, want a whole minute", got[0].Time)
	}
}
