package main

import (
	"context"
	"fmt"
	"time"

	"hearth/bench/internal/rig"
)

// startSample is one start of a server.
type startSample struct {
	// ready is the time from starting the process to its ready file; tls to the first
	// completed TLS handshake of a client.
	ready, tls time.Duration
	// ready and idle are the memory use when the ready file appeared and after the idle
	// wait (zero if this start did not wait).
	memReady, memIdle rig.Usage
}

// startSeries is every start of one server.
type startSeries struct {
	first   startSample // the warm-up start (for hearthd, the first after provisioning)
	samples []startSample
}

// measureStarts starts each server 1+c.starts times, alternating between them.
func measureStarts(ctx context.Context, c config, servers []server, dir string) ([]startSeries, error) {
	out := make([]startSeries, len(servers))
	for i := 0; i <= c.starts; i++ {
		var idle time.Duration
		if i >= 1 && i <= c.idleRuns {
			idle = c.idle
		}
		for j, s := range servers {
			smp, err := startOnce(ctx, s, dir, idle)
			if err != nil {
				return nil, fmt.Errorf("%s start %d: %w", s.name, i, err)
			}
			if i == 0 {
				out[j].first = smp
			} else {
				out[j].samples = append(out[j].samples, smp)
			}
		}
	}
	return out, nil
}

// startOnce starts s, measures time to ready and to the first TLS handshake and the
// resident memory, waits idle (if not zero) and measures memory again, then stops s.
func startOnce(ctx context.Context, s server, dir string, idle time.Duration) (startSample, error) {
	p, err := rig.Start(ctx, s.bin, s.args, dir, nil, 30*time.Second)
	if err != nil {
		return startSample{}, err
	}
	defer p.Stop()
	smp := startSample{ready: p.ReadyAfter}
	u, err := p.Usage()
	if err != nil {
		return startSample{}, err
	}
	smp.memReady = u
	t, err := s.target(p)
	if err != nil {
		return startSample{}, err
	}
	if smp.tls, err = firstHandshake(ctx, t, p.Started); err != nil {
		return startSample{}, err
	}
	if idle > 0 {
		if err := sleep(ctx, idle); err != nil {
			return startSample{}, err
		}
		if smp.memIdle, err = p.Usage(); err != nil {
			return startSample{}, err
		}
	}
	return smp, p.Stop()
}

// firstHandshake retries a TLS handshake until one succeeds (at most 10 s) and returns
// the time since started.
func firstHandshake(ctx context.Context, t rig.Target, started time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := t.Handshake(ctx, rig.Loopback(0, 0, 1))
		if err == nil {
			return time.Since(started), nil
		}
		if sleep(ctx, time.Millisecond) != nil {
			return 0, fmt.Errorf("no TLS handshake within 10 s: %w", err)
		}
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
