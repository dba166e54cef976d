package outbox

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"hearth/internal/backoff"
)

// TS-0045 5.6.1.2, 5.6.1.3: through a one-hour cloud outage items stay queued on disk
// and more can be added; reconnect attempts follow full jitter under the policy's
// ceiling; once the cloud is back everything arrives in order, exactly once, although
// a lost acknowledgement makes the gateway resend a batch.
func TestOutageOfOneHour(t *testing.T) {
	g := newRig(t, nil)
	start := g.clock.Now()
	g.cloud.downUntil = start.Add(time.Hour)
	g.enqueue(t, 1, 150)
	var queuedDuringOutage []int64
	next := 151
	g.cloud.onFail = func() {
		queuedDuringOutage = append(queuedDuringOutage, g.ob.Stats().Queued)
		if next <= 160 { // the gateway keeps producing while the cloud is away
			if err := g.ob.Enqueue(t.Context(), KindTelemetry, doc(next)); err != nil {
				t.Errorf("enqueue during the outage: %v", err)
			}
			next++
		}
	}
	lost := false
	g.cloud.loseAck = func(accepted int) bool {
		if !lost && accepted > 0 {
			lost = true
			return true
		}
		return false
	}
	stop := g.run(t)
	eventually(t, "the drain", func() bool { return g.ob.Stats().Queued == 0 && len(g.cloud.received()) == 160 })
	fails := g.cloud.failures()
	waits := g.clock.Waits()

	// A later blip starts the backoff again from the bottom: success reset it.
	g.cloud.mu.Lock()
	g.cloud.downUntil = g.clock.Now().Add(time.Millisecond)
	g.cloud.onFail = nil
	g.cloud.mu.Unlock()
	g.enqueue(t, 161, 161)
	eventually(t, "the drain after a blip", func() bool { return g.ob.Stats().Queued == 0 && len(g.cloud.received()) == 161 })
	stop()
	if after := g.clock.Waits()[len(waits):]; len(after) == 0 || after[0] > time.Second {
		t.Fatalf("waits after a blip following success: %v, want a first one within 1 s", after)
	}

	// Queued on disk throughout, never dropped.
	for i, q := range queuedDuringOutage {
		if want := int64(min(150+i, 160)); q != want {
			t.Fatalf("failed attempt %d saw %d queued, want %d", i+1, q, want)
		}
	}
	// Every attempt during the outage waited a jittered delay under the ceiling.
	policy := backoff.Policy{Base: time.Second, Max: 5 * time.Minute}
	if fails < 12 || len(waits) < fails {
		t.Fatalf("%d failed attempts and %d waits in an hour", fails, len(waits))
	}
	atCap := 0
	for i, w := range waits[:fails] {
		if ceil := policy.Ceiling(i + 1); w < 0 || w > ceil {
			t.Fatalf("wait %d is %v, above the ceiling %v", i+1, w, ceil)
		}
		if policy.Ceiling(i+1) == policy.Max {
			atCap++
		}
	}
	capped := waits[fails-atCap : fails]
	if slices.Min(capped) > policy.Max/2 || slices.Max(capped) < policy.Max/2 {
		t.Fatalf("delays at the ceiling are not spread over it: %v", capped)
	}
	// The first attempt after the outage came within one ceiling of its end.
	var firstAfter time.Time
	for _, a := range g.cloud.attempts {
		if !a.Before(g.cloud.downUntil) {
			firstAfter = a
			break
		}
	}
	if d := firstAfter.Sub(g.cloud.downUntil); d > policy.Max {
		t.Fatalf("first attempt %v after the outage", d)
	}
	// In order, exactly once, the resent batch deduplicated by the cloud.
	for i, it := range g.cloud.received() {
		if n := docN(t, it); n != i+1 {
			t.Fatalf("cloud item %d is document %d", i, n)
		}
	}
	if g.cloud.duplicates == 0 {
		t.Fatal("the lost acknowledgement caused no resend")
	}
	t.Logf("outage of 1h: %d failed attempts, first reconnect %v after the cloud returned, %d duplicate items refused by the cloud",
		fails, firstAfter.Sub(g.cloud.downUntil), g.cloud.duplicates)
}

// fleet simulates n gateways that all lose the cloud at t=0 and each retry on their
// own schedule until the cloud returns at outage; it returns the times of every
// attempt made from then on (each gateway's first attempt after the return succeeds).
func fleet(n int, outage time.Duration, schedule func(i int) func() time.Duration) (reconnects, all []time.Duration) {
	for i := range n {
		next := schedule(i)
		t := time.Duration(0)
		for {
			t += next()
			all = append(all, t)
			if t >= outage {
				reconnects = append(reconnects, t)
				break
			}
		}
	}
	slices.Sort(reconnects)
	slices.Sort(all)
	return reconnects, all
}

// busiestSecond is the largest number of times within any one-second sliding window.
func busiestSecond(times []time.Duration) (count int, at time.Duration) {
	j := 0
	for i := range times {
		for times[i]-times[j] >= time.Second {
			j++
		}
		if i-j+1 > count {
			count, at = i-j+1, times[j]
		}
	}
	return count, at
}

// TS-0045 5.6.1.3: 1,000 gateways that lost the cloud together reconnect spread out,
// not in a stampede. Each gateway follows the outbox's own retry schedule (reconnect,
// with Config's default policy: 1 s doubling to 5 min, full jitter) on an injected
// clock. With a fixed 30 s retry interval, or exponential backoff without jitter, the
// whole fleet arrives in the same second the cloud returns.
func TestFleetReconnectsSpreadOut(t *testing.T) {
	const n = 1000
	const outage = time.Hour
	const limit = 0.05 // the busiest second may see under 5 % of the fleet

	jitter := func(i int) func() time.Duration {
		rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
		r := reconnect{policy: backoff.Policy{Rand: rng.Int64N}} // zero Base/Max: the defaults Config uses
		return r.failed
	}
	reconnects, all := fleet(n, outage, jitter)
	peak, at := busiestSecond(reconnects)
	// Attempts against the dead cloud once the schedules reached their 5 min ceiling
	// (the first retries, ceilings of 1 s, 2 s, 4 s..., bunch up by design).
	steady := all[sort.Search(len(all), func(i int) bool { return all[i] >= 10*time.Minute }):]
	peakAll, _ := busiestSecond(steady)
	early, _ := busiestSecond(all)
	spread := reconnects[len(reconnects)-1] - reconnects[0]
	t.Logf("full jitter: busiest second after the return has %d of %d reconnects (%.1f %%) at +%v; "+
		"reconnects spread over %v (median +%v); during the outage after 10 min the busiest second has %d attempts (%.1f %%), in the first seconds %d; %.1f attempts per gateway",
		peak, n, 100*float64(peak)/n, (at - outage).Round(time.Millisecond), spread.Round(time.Second),
		(reconnects[n/2] - outage).Round(time.Second), peakAll, 100*float64(peakAll)/n, early, float64(len(all))/n)
	if float64(peak) >= limit*n || float64(peakAll) >= limit*n {
		t.Fatalf("stampede: %d reconnects (%d attempts) in one second, limit %.0f", peak, peakAll, limit*n)
	}
	if spread < 2*time.Minute {
		t.Fatalf("reconnects spread over only %v", spread)
	}

	for name, sched := range map[string]func(int) func() time.Duration{
		"fixed 30 s": func(int) func() time.Duration {
			return func() time.Duration { return 30 * time.Second }
		},
		"exponential, no jitter": func(int) func() time.Duration {
			p, failures := backoff.Policy{}, 0
			return func() time.Duration { failures++; return p.Ceiling(failures) }
		},
	} {
		reconnects, _ := fleet(n, outage, sched)
		peak, at := busiestSecond(reconnects)
		t.Logf("%s: busiest second after the return has %d of %d reconnects (%.1f %%) at +%v",
			name, peak, n, 100*float64(peak)/n, at-outage)
		if peak != n {
			t.Fatalf("%s: expected the whole fleet in one second, got %d", name, peak)
		}
	}
}
