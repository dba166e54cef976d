// Package backoff computes retry delays: exponential growth with full jitter, so a fleet
// of devices that lost the same server at the same moment spreads its retries over the
// whole window instead of arriving together when the server returns.
//
// TS-0045 5.6.1.3: devices reconnect in a randomised order after an outage.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff with full jitter: after the n-th consecutive failure
// the delay is uniform in [0, min(Max, Base*2^(n-1))].
type Policy struct {
	Base time.Duration // first ceiling; zero means one second
	Max  time.Duration // ceiling cap; zero means five minutes
	// Rand returns a uniform value in [0, n); nil means math/rand/v2.
	Rand func(n int64) int64
}

// Ceiling is the largest delay after failures consecutive failures (failures >= 1).
func (p Policy) Ceiling(failures int) time.Duration {
	base, maxd := p.Base, p.Max
	if base <= 0 {
		base = time.Second
	}
	if maxd <= 0 {
		maxd = 5 * time.Minute
	}
	if failures < 1 {
		return 0
	}
	c := base
	for i := 1; i < failures && c < maxd; i++ {
		c *= 2
	}
	return min(c, maxd)
}

// Delay is a random delay for the given number of consecutive failures: uniform over
// [0, Ceiling(failures)].
func (p Policy) Delay(failures int) time.Duration {
	c := p.Ceiling(failures)
	if c <= 0 {
		return 0
	}
	r := p.Rand
	if r == nil {
		r = rand.Int64N
	}
	return time.Duration(r(int64(c) + 1))
}
