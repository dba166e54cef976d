package vuln

import (
	"net/netip"
	"sync"
	"time"
)

// Limiter is a token bucket per source network for anonymous submitters: an IPv4
// address, or an IPv6 /64 (what one subscriber usually holds). The number of networks
// tracked is bounded; when full, buckets that have refilled are dropped, and if none
// has, the new network is refused (a flood from many networks cannot grow memory).
//
// Concurrency: safe for use by many goroutines.
type Limiter struct {
	Burst    int           // reports allowed at once
	Every    time.Duration // one more report allowed per Every
	MaxNets  int           // networks tracked
	Now      func() time.Time
	mu       sync.Mutex
	networks map[netip.Prefix]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewLimiter allows burst reports per network, refilled at burst per hour (5 per hour
// per network for burst 5).
func NewLimiter(burst int) *Limiter {
	return &Limiter{Burst: burst, Every: time.Hour / time.Duration(burst), MaxNets: 100000, Now: time.Now}
}

// Network is the unit rate limits apply to: the address for IPv4, its /64 for IPv6.
func Network(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32)
	}
	p, _ := addr.Prefix(64)
	return p
}

// Allow takes one token for addr's network. When there is none it returns false and
// how long until there is.
//
// TS-0045 5.5.2.1: anonymous intake is bounded per source (a flood of reports cannot
// bury real ones or fill the disk).
func (l *Limiter) Allow(addr netip.Addr) (bool, time.Duration) {
	now := l.Now()
	net := Network(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.networks == nil {
		l.networks = map[netip.Prefix]bucket{}
	}
	b, ok := l.networks[net]
	if !ok {
		if len(l.networks) >= l.MaxNets && !l.evict(now) {
			return false, l.Every
		}
		b = bucket{tokens: float64(l.Burst), at: now}
	}
	b.tokens = min(float64(l.Burst), b.tokens+float64(now.Sub(b.at))/float64(l.Every))
	b.at = now
	if b.tokens < 1 {
		l.networks[net] = b
		wait := time.Duration((1 - b.tokens) * float64(l.Every))
		return false, wait.Round(time.Second) + time.Second
	}
	b.tokens--
	l.networks[net] = b
	return true, 0
}

// evict drops the buckets that are full again; it reports whether any was dropped.
func (l *Limiter) evict(now time.Time) bool {
	full := time.Duration(l.Burst) * l.Every
	n := len(l.networks)
	for k, b := range l.networks {
		if now.Sub(b.at) >= full {
			delete(l.networks, k)
		}
	}
	return len(l.networks) < n
}
