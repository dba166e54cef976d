package auth

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Throttle limits login attempts per network source before any password is hashed, so a
// flood of guesses is turned away for the price of a map lookup and cannot starve the
// CPU (each hash costs ~100 ms). It also remembers which sources failed recently, so the
// hashing gate can serve clean sources first.
//
// IPv6 sources are grouped by /64, the block one host usually owns.
//
// TS-0045 5.1.2.2: login frequency is limited per source in addition to the per-account lock.
type Throttle struct {
	mu      sync.Mutex
	now     func() time.Time
	limit   rate.Limit
	burst   int
	maxSrc  int
	memory  time.Duration
	sources map[netip.Addr]*sourceState
}

type sourceState struct {
	lim         *rate.Limiter
	lastSeen    time.Time
	lastFailure time.Time
	inFlight    int
}

// MaxInFlight is how many attempts one source may have under way at once.
const MaxInFlight = 2

// ThrottleConfig sets the per-source budget.
type ThrottleConfig struct {
	// Every is the steady interval between attempts one source may make; Burst is how many
	// it may make at once. Zero values mean one attempt per 3 s with a burst of 10.
	Every time.Duration
	Burst int
	// MaxSources bounds the memory used; 0 means 16384. When it is full and no idle entry
	// can be dropped, new sources are refused until entries age out (fail closed).
	MaxSources int
	// FailureMemory is how long a failed attempt marks its source as suspect; 0 means 15 min.
	FailureMemory time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewThrottle returns a throttle with cfg's limits.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.Every == 0 {
		cfg.Every = 3 * time.Second
	}
	if cfg.Burst == 0 {
		cfg.Burst = 10
	}
	if cfg.MaxSources == 0 {
		cfg.MaxSources = 16384
	}
	if cfg.FailureMemory == 0 {
		cfg.FailureMemory = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{
		now: cfg.Now, limit: rate.Every(cfg.Every), burst: cfg.Burst, maxSrc: cfg.MaxSources,
		memory: cfg.FailureMemory, sources: make(map[netip.Addr]*sourceState),
	}
}

// sourceKey folds an address to the unit that is limited.
func sourceKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// Allow spends one attempt of src's budget. When the budget is exhausted it returns false
// and how long until the next attempt is allowed.
func (t *Throttle) Allow(src netip.Addr) (bool, time.Duration) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(sourceKey(src), now)
	if st == nil {
		return false, time.Minute
	}
	st.lastSeen = now
	r := st.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Begin records the start of an attempt from src; it returns false when src already has
// MaxInFlight attempts under way. Every true must be paired with End.
func (t *Throttle) Begin(src netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state(sourceKey(src), t.now())
	if st == nil || st.inFlight >= MaxInFlight {
		return false
	}
	st.inFlight++
	return true
}

// End records the end of an attempt begun with Begin.
func (t *Throttle) End(src netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.sources[sourceKey(src)]; ok && st.inFlight > 0 {
		st.inFlight--
	}
}

// Failed marks src as the source of a failed login.
func (t *Throttle) Failed(src netip.Addr) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.state(sourceKey(src), now); st != nil {
		st.lastFailure = now
	}
}

// Suspect reports whether src failed a login within the failure memory.
func (t *Throttle) Suspect(src netip.Addr) bool {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.sources[sourceKey(src)]
	return ok && !st.lastFailure.IsZero() && now.Sub(st.lastFailure) < t.memory
}

// state returns src's entry, creating it if there is room. Caller holds t.mu.
func (t *Throttle) state(src netip.Addr, now time.Time) *sourceState {
	if st, ok := t.sources[src]; ok {
		return st
	}
	if len(t.sources) >= t.maxSrc {
		t.prune(now)
		if len(t.sources) >= t.maxSrc {
			return nil
		}
	}
	st := &sourceState{lim: rate.NewLimiter(t.limit, t.burst), lastSeen: now}
	t.sources[src] = st
	return st
}

// prune drops entries that are idle long enough to have a full budget and no failure
// worth remembering. Caller holds t.mu.
func (t *Throttle) prune(now time.Time) {
	refill := time.Duration(float64(t.burst) / float64(t.limit) * float64(time.Second))
	for k, st := range t.sources {
		if st.inFlight == 0 && now.Sub(st.lastSeen) > refill && now.Sub(st.lastFailure) > t.memory {
			delete(t.sources, k)
		}
	}
}
