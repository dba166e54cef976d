package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"hearth/bench/internal/rig"
)

// burstSample is one burst against a fresh start of a server.
type burstSample struct {
	// rssBefore is VmRSS just before the burst; hwm is VmHWM (peak RSS since start) after it.
	rssBefore, hwm int64
	took           time.Duration
	outcomes       map[string]int
}

// ownerPassword is the password the benchmark gives hearthd's owner.
const ownerPassword = "footprint bench passphrase"

// measureBursts runs c.burstRuns bursts per server, alternating between servers, after
// setting hearthd's owner password.
func measureBursts(ctx context.Context, c config, servers []server, dir string) ([][]burstSample, error) {
	for _, s := range servers {
		if err := setOwner(ctx, s, dir); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	out := make([][]burstSample, len(servers))
	for i := 0; i < c.burstRuns; i++ {
		for j, s := range servers {
			b, err := burstOnce(ctx, s, dir, c.burst)
			if err != nil {
				return nil, fmt.Errorf("%s burst %d: %w", s.name, i+1, err)
			}
			out[j] = append(out[j], b)
		}
	}
	return out, nil
}

// burstOnce starts s and sends n requests at once, each from its own loopback address
// (127.0.0.2 upwards) over its own connection: correct owner logins for hearthd, GET /
// for the peer.
func burstOnce(ctx context.Context, s server, dir string, n int) (burstSample, error) {
	p, err := rig.Start(ctx, s.bin, s.args, dir, nil, 30*time.Second)
	if err != nil {
		return burstSample{}, err
	}
	defer p.Stop()
	t, err := s.target(p)
	if err != nil {
		return burstSample{}, err
	}
	before, err := p.Usage()
	if err != nil {
		return burstSample{}, err
	}
	start := time.Now()
	outcomes, err := burst(ctx, s, t, n)
	if err != nil {
		return burstSample{}, err
	}
	b := burstSample{rssBefore: before.RSS, took: time.Since(start), outcomes: outcomes}
	after, err := p.Usage()
	if err != nil {
		return burstSample{}, err
	}
	b.hwm = after.HWM
	return b, p.Stop()
}

// setOwner starts hearthd, replaces the default owner password and stops it again;
// nothing for the peer.
func setOwner(ctx context.Context, s server, dir string) error {
	if s.device == nil {
		return nil
	}
	p, err := rig.Start(ctx, s.bin, s.args, dir, nil, 30*time.Second)
	if err != nil {
		return err
	}
	defer p.Stop()
	t, err := s.target(p)
	if err != nil {
		return err
	}
	tr, err := t.Transport(rig.Loopback(0, 1, 1), rig.Conns{})
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	if err := rig.SetOwnerPassword(ctx, rig.Client(tr, nil), t, *s.device, ownerPassword); err != nil {
		return err
	}
	return p.Stop()
}

// burst sends the n requests and counts the outcomes.
func burst(ctx context.Context, s server, t rig.Target, n int) (map[string]int, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[string]int{}
	)
	for i := range n {
		tr, err := t.Transport(rig.Loopback(0, 0, byte(i+2)), rig.Conns{})
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			defer tr.CloseIdleConnections()
			o := request(ctx, s, t, rig.Client(tr, nil))
			mu.Lock()
			defer mu.Unlock()
			outcomes[o]++
		})
	}
	wg.Wait()
	return outcomes, nil
}

// request sends one burst request and names its outcome.
func request(ctx context.Context, s server, t rig.Target, c *http.Client) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var r rig.Reply
	var err error
	if s.device != nil {
		r, err = rig.Login(ctx, c, t, s.device.Username, ownerPassword)
	} else {
		r, err = rig.Call(ctx, c, http.MethodGet, t.URL("/"), nil)
	}
	if err != nil {
		return "error"
	}
	return r.Outcome()
}

// outcomeText lists outcomes, most frequent first: "34 × 200, 16 × 503 busy".
func outcomeText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	var s string
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d × %s", m[k], k)
	}
	return s
}
