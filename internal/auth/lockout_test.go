package auth

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// TS-0045 5.1.2.2: (a) 5 failures lock, (b) the lock lasts its period, (c) the counter
// resets only after the window.
func TestLockoutArithmetic(t *testing.T) {
	p := LockoutPolicy{MaxFailures: 5, LockPeriod: 15 * time.Minute, ResetWindow: 30 * time.Minute}
	var s LockState
	now := t0
	for i := 1; i <= 4; i++ {
		var locked bool
		s, locked = p.Failed(s, now)
		if locked || s.Failures != i {
			t.Fatalf("failure %d: locked=%v failures=%d", i, locked, s.Failures)
		}
		now = now.Add(time.Minute)
	}
	s, locked := p.Failed(s, now)
	if !locked {
		t.Fatal("fifth failure did not lock")
	}
	if l, wait := p.Locked(s, now.Add(14*time.Minute)); !l || wait != time.Minute {
		t.Fatalf("14 min into the lock: locked=%v wait=%v", l, wait)
	}
	if l, _ := p.Locked(s, now.Add(15*time.Minute)); l {
		t.Fatal("still locked after the lock period")
	}
	// The window (30 min) is longer than the lock: one more failure right after relocks.
	s2, relocked := p.Failed(s, now.Add(16*time.Minute))
	if !relocked || s2.Failures != 6 {
		t.Fatalf("failure after lock within window: relocked=%v failures=%d", relocked, s2.Failures)
	}
	// After a quiet window the counter starts from zero.
	s3, locked := p.Failed(s, now.Add(31*time.Minute))
	if locked || s3.Failures != 1 {
		t.Fatalf("after quiet window: locked=%v failures=%d, want 1 failure", locked, s3.Failures)
	}
	if p.Succeeded(s) != (LockState{}) {
		t.Fatal("success does not clear the state")
	}
}

func TestLockoutCounterDoesNotResetEarly(t *testing.T) {
	p := DefaultLockout
	var s LockState
	now := t0
	// Failures spaced 14 minutes apart (under the 15 minute window) keep accumulating.
	for i := 1; i <= 5; i++ {
		s, _ = p.Failed(s, now)
		now = now.Add(14 * time.Minute)
	}
	if s.Failures != 5 || s.LockedUntil.IsZero() {
		t.Fatalf("spaced failures: %+v, want a lock after 5", s)
	}
}

func TestLockoutValidate(t *testing.T) {
	cases := []struct {
		p     LockoutPolicy
		short bool
		ok    bool
	}{
		{DefaultLockout, false, true},
		{LockoutPolicy{6, time.Hour, time.Hour}, false, false},
		{LockoutPolicy{0, time.Hour, time.Hour}, false, false},
		{LockoutPolicy{5, time.Second, time.Second}, false, false},
		{LockoutPolicy{5, time.Second, time.Second}, true, true},
		{LockoutPolicy{5, 0, time.Hour}, true, false},
	}
	for _, c := range cases {
		if err := c.p.Validate(c.short); (err == nil) != c.ok {
			t.Errorf("Validate(%+v, %v) = %v, want ok=%v", c.p, c.short, err, c.ok)
		}
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestThrottlePerSource(t *testing.T) {
	clk := &fakeClock{now: t0}
	th := NewThrottle(ThrottleConfig{Every: 3 * time.Second, Burst: 3, Now: clk.Now})
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	for i := 0; i < 3; i++ {
		if ok, _ := th.Allow(a); !ok {
			t.Fatalf("attempt %d within burst refused", i)
		}
	}
	ok, wait := th.Allow(a)
	if ok || wait <= 0 || wait > 3*time.Second {
		t.Fatalf("over budget: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := th.Allow(b); !ok {
		t.Fatal("another source was limited by the first")
	}
	clk.Advance(3 * time.Second)
	if ok, _ := th.Allow(a); !ok {
		t.Fatal("budget did not refill")
	}
}

func TestThrottleGroupsIPv6By64(t *testing.T) {
	th := NewThrottle(ThrottleConfig{Every: time.Hour, Burst: 1, Now: (&fakeClock{now: t0}).Now})
	th.Allow(netip.MustParseAddr("2001:db8:1:2::1"))
	if ok, _ := th.Allow(netip.MustParseAddr("2001:db8:1:2:ffff::9")); ok {
		t.Fatal("a second address in the same /64 got its own budget")
	}
	if ok, _ := th.Allow(netip.MustParseAddr("2001:db8:1:3::1")); !ok {
		t.Fatal("another /64 was limited")
	}
}

func TestThrottleFailsClosedWhenFull(t *testing.T) {
	clk := &fakeClock{now: t0}
	th := NewThrottle(ThrottleConfig{Every: time.Second, Burst: 1, MaxSources: 2, Now: clk.Now})
	th.Allow(netip.MustParseAddr("192.0.2.1"))
	th.Failed(netip.MustParseAddr("192.0.2.2"))
	if ok, _ := th.Allow(netip.MustParseAddr("192.0.2.3")); ok {
		t.Fatal("table full of fresh entries, yet a new source was admitted")
	}
	clk.Advance(16 * time.Minute)
	if ok, _ := th.Allow(netip.MustParseAddr("192.0.2.3")); !ok {
		t.Fatal("idle entries were not pruned")
	}
}

func TestSuspectMemory(t *testing.T) {
	clk := &fakeClock{now: t0}
	th := NewThrottle(ThrottleConfig{Now: clk.Now})
	a := netip.MustParseAddr("192.0.2.1")
	if th.Suspect(a) {
		t.Fatal("fresh source suspect")
	}
	th.Failed(a)
	if !th.Suspect(a) {
		t.Fatal("failed source not suspect")
	}
	clk.Advance(15 * time.Minute)
	if th.Suspect(a) {
		t.Fatal("suspicion outlived its memory")
	}
}

func TestGatePriorityAndBounds(t *testing.T) {
	g := NewGate(1, 2)
	ctx := context.Background()
	rel, err := g.Acquire(ctx, PrioritySuspect)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan Priority, 8)
	var wg sync.WaitGroup
	start := func(p Priority) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.Acquire(ctx, p)
			if errors.Is(err, ErrBusy) {
				return // turned away to make room: expected for the oldest waiter
			}
			if err != nil {
				t.Error(err)
				return
			}
			order <- p
			r()
		}()
	}
	start(PrioritySuspect)
	waitQueued(t, g, PrioritySuspect, 1)
	start(PrioritySuspect)
	waitQueued(t, g, PrioritySuspect, 2)
	// A third suspect waiter makes room by turning the oldest away.
	evictedErr := make(chan error, 1)
	g.mu.Lock()
	oldest := g.queues[PrioritySuspect][0]
	g.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := g.Acquire(ctx, PrioritySuspect)
		if err == nil {
			order <- PrioritySuspect
			r()
		}
	}()
	<-oldest.ready
	g.mu.Lock()
	evictedErr <- map[bool]error{true: ErrBusy, false: nil}[oldest.evicted]
	g.mu.Unlock()
	if err := <-evictedErr; !errors.Is(err, ErrBusy) {
		t.Fatal("a full queue did not turn its oldest waiter away")
	}
	waitQueued(t, g, PrioritySuspect, 2)
	start(PriorityTrusted)
	waitQueued(t, g, PriorityTrusted, 1)
	rel()
	wg.Wait()
	close(order)
	if first := <-order; first != PriorityTrusted {
		t.Fatalf("first served %v, want the trusted client", first)
	}
}

func TestGateCancelledWaiterPassesSlotOn(t *testing.T) {
	g := NewGate(1, 4)
	rel, _ := g.Acquire(context.Background(), PriorityClean)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := g.Acquire(ctx, PriorityClean); done <- err }()
	waitQueued(t, g, PriorityClean, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	rel()
	r, err := g.Acquire(context.Background(), PriorityClean)
	if err != nil {
		t.Fatal(err)
	}
	r()
}

func waitQueued(t *testing.T, g *Gate, p Priority, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		l := len(g.queues[p])
		g.mu.Unlock()
		if l == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("queue %v never reached %d", p, n)
}

func TestGateServesNewestFirstAndBoundsWait(t *testing.T) {
	g := NewGate(1, 8)
	rel, _ := g.Acquire(context.Background(), PriorityClean)
	order := make(chan int, 3)
	for i := 0; i < 3; i++ {
		go func(i int) {
			r, err := g.Acquire(context.Background(), PriorityClean)
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			r()
		}(i)
		waitQueued(t, g, PriorityClean, i+1)
	}
	rel()
	if first := <-order; first != 2 {
		t.Fatalf("served waiter %d first, want the newest (2)", first)
	}
	<-order
	<-order
	g2 := NewGate(1, 8)
	g2.MaxWait = 20 * time.Millisecond
	hold, _ := g2.Acquire(context.Background(), PriorityClean)
	defer hold()
	if _, err := g2.Acquire(context.Background(), PriorityClean); !errors.Is(err, ErrBusy) {
		t.Fatalf("wait beyond MaxWait: %v, want ErrBusy", err)
	}
}

func TestThrottleInFlightCap(t *testing.T) {
	th := NewThrottle(ThrottleConfig{Now: (&fakeClock{now: t0}).Now})
	a := netip.MustParseAddr("192.0.2.1")
	for i := 0; i < MaxInFlight; i++ {
		if !th.Begin(a) {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if th.Begin(a) {
		t.Fatal("more attempts in flight than allowed")
	}
	th.End(a)
	if !th.Begin(a) {
		t.Fatal("slot not returned by End")
	}
}
