package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hearth/bench/internal/rig"
)

// commonNames are user names that guessing tools try first.
var commonNames = []string{"admin", "root", "user", "guest", "support", "test", "service", "operator", "pi", "ubnt", "manager", "installer"}

// flood sends wrong guesses at a fixed pace from many loopback sources. It never guesses
// for the owner's user name, so the owner's account is not locked by it.
type flood struct {
	target   rig.Target
	owner    string
	sources  int
	conns    int
	interval time.Duration // between two guesses of one source

	sent, skipped atomic.Int64
	mu            sync.Mutex
	outcomes      map[string][]time.Duration // latencies by outcome
	otherErr      error                      // first error classified as "error: other"
}

// floodResult is what a flood did.
type floodResult struct {
	sent, skipped int64
	// outcomes holds the latency of each answered guess, by outcome.
	outcomes map[string][]time.Duration
	otherErr error
}

func newFlood(c config, t rig.Target, owner string) *flood {
	return &flood{
		target: t, owner: owner, sources: c.sources, conns: c.conns,
		interval: time.Duration(c.sources) * time.Second / time.Duration(c.rate),
		outcomes: map[string][]time.Duration{},
	}
}

// run floods until stop is done, then waits for the guesses in flight (each bounded by
// a timeout under ctx).
func (f *flood) run(ctx, stop context.Context) (floodResult, error) {
	clients := make([]*http.Client, f.sources)
	for i := range clients {
		tr, err := f.target.Transport(rig.Loopback(0, 0, byte(i+2)), rig.Conns{Max: f.conns, KeepAlive: true})
		if err != nil {
			return floodResult{}, err
		}
		defer tr.CloseIdleConnections()
		clients[i] = rig.Client(tr, nil)
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			offset := time.Duration(i) * f.interval / time.Duration(f.sources)
			f.source(ctx, stop, c, offset)
		})
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return floodResult{sent: f.sent.Load(), skipped: f.skipped.Load(), outcomes: f.outcomes, otherErr: f.otherErr}, nil
}

// source sends one source's guesses: one per interval, at most f.conns in flight; a
// guess due while all are busy is counted as skipped, so the pace never drifts.
func (f *flood) source(ctx, stop context.Context, c *http.Client, offset time.Duration) {
	var wg sync.WaitGroup
	defer wg.Wait()
	if !sleep(ctx, stop.Done(), offset) {
		return
	}
	slots := make(chan struct{}, f.conns)
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case slots <- struct{}{}:
			f.sent.Add(1)
			wg.Go(func() {
				defer func() { <-slots }()
				f.guess(ctx, c)
			})
		default:
			f.skipped.Add(1)
		}
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
	}
}

// sleep waits for d; false means ctx or stop ended the wait.
func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}

// guess sends one wrong login and records its outcome.
func (f *flood) guess(ctx context.Context, c *http.Client) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	start := time.Now()
	r, err := rig.Login(ctx, c, f.target, f.username(), randomString(12))
	took := time.Since(start)
	f.mu.Lock()
	defer f.mu.Unlock()
	o := r.Outcome()
	if err != nil {
		o = errOutcome(err)
		if o == "error: other" && f.otherErr == nil {
			f.otherErr = err
		}
	}
	f.outcomes[o] = append(f.outcomes[o], took)
}

// username picks a common name one time in five, otherwise a random valid one; never
// the owner's.
func (f *flood) username() string {
	if rand.IntN(5) == 0 {
		if n := commonNames[rand.IntN(len(commonNames))]; n != f.owner {
			return n
		}
	}
	return "u" + randomString(8)
}

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n random characters of alphabet (not secret: load only).
func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// errOutcome names a transport error for counting.
func errOutcome(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "error: timeout"
	case errors.Is(err, context.Canceled):
		return "error: canceled"
	case errors.Is(err, syscall.ECONNRESET):
		return "error: connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "error: connection refused"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "error: connection closed"
	default:
		return "error: other"
	}
}
