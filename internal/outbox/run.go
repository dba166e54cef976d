package outbox

import (
	"context"
	"errors"
	"slices"
	"time"

	"hearth/internal/backoff"
)

// reconnect is the retry schedule: after the n-th consecutive failure, wait a delay drawn
// uniformly from [0, min(Max, Base*2^(n-1))]; a success starts again from the bottom.
//
// TS-0045 5.6.1.3: full jitter spreads a fleet's reconnects after a shared outage, where
// a fixed or merely exponential schedule would bring every gateway back in the same
// second the cloud returns.
type reconnect struct {
	policy   backoff.Policy
	failures int
}

func (r *reconnect) failed() time.Duration {
	r.failures++
	return r.policy.Delay(r.failures)
}

func (r *reconnect) succeeded() { r.failures = 0 }

// Run drains the queue to the cloud until ctx ends, and returns ctx's error.
//
// TS-0045 5.6.1.2: the queue fills while the cloud is unreachable and drains, in order,
// once it is back; nothing else on the gateway waits for it.
func (o *Outbox) Run(ctx context.Context) error {
	r := runner{o: o, retry: reconnect{policy: o.cfg.Policy}, limit: maxBatchItems}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, mode := r.step(ctx)
		if err := o.wait(ctx, d, mode); err != nil {
			return err
		}
	}
}

// runner is the state of one Run loop.
type runner struct {
	o     *Outbox
	retry reconnect
	// limit is the batch size; it is halved when the cloud refuses a batch, to isolate
	// the item it refuses, and doubles back after each success.
	limit int
}

// How Run waits between steps.
type waitMode int

const (
	backingOff waitMode = iota // the delay, unless consent is withdrawn meanwhile
	rechecking                 // the delay or a Wake, whichever comes first
	idle                       // until Wake
)

// step makes one attempt and says how long to wait before the next one.
func (r *runner) step(ctx context.Context) (time.Duration, waitMode) {
	o := r.o
	if o.purge(ctx) {
		// Nothing may be sent at all: look again after a while or a Wake.
		return o.cfg.Recheck, rechecking
	}
	o.mu.Lock()
	items, err := o.q.peek(ctx, r.limit, maxBatchBytes)
	b := Batch{Stream: o.q.stream, Items: items, Dropped: o.q.DroppedUnreported}
	o.mu.Unlock()
	if err != nil {
		o.noteError(err)
		return r.retry.failed(), backingOff
	}
	if len(items) == 0 {
		return 0, idle
	}
	err = o.send(ctx, b)
	last := items[len(items)-1].Seq
	if err != nil && len(o.withdrawn(items)) > 0 {
		return 0, backingOff // consent withdrawn meanwhile: the loop purges the queue
	}
	switch {
	case err == nil:
		o.acknowledged(ctx, last, b.Dropped)
		r.retry.succeeded()
		r.limit = min(maxBatchItems, r.limit*2)
		return 0, backingOff
	case ctx.Err() != nil:
		return 0, backingOff
	case errors.Is(err, ErrRejected) && len(items) > 1:
		// Retry at once with the first half: the refusal concerns the content, and
		// halving finds the offending item in a few requests.
		o.cfg.Log.Warn("cloud refused a batch, retrying it in halves", "items", len(items), "err", err)
		r.limit = len(items) / 2
		return 0, backingOff
	case errors.Is(err, ErrRejected):
		// The cloud refuses this one item and will go on refusing it: drop it rather
		// than block everything behind it. The drop is counted (Stats.Rejected) and the
		// cloud sees the gap in the sequence numbers. The backoff still applies, so a
		// cloud that wrongly refuses everything drains the queue slowly, not at once.
		o.cfg.Log.Error("cloud refused an item, dropped", "seq", last, "kind", items[0].Kind, "err", err)
		o.mu.Lock()
		if rerr := o.q.remove(ctx, last, 0, 1); rerr != nil {
			o.cfg.Log.Error("outbox remove", "err", rerr)
		}
		o.mu.Unlock()
		o.noteError(err)
		return r.retry.failed(), backingOff
	default:
		o.noteError(err)
		d := r.retry.failed()
		o.cfg.Log.Info("cloud unreachable, will retry", "failures", r.retry.failures, "delay", d, "err", err)
		return d, backingOff
	}
}

// send delivers b, abandoning the request if consent for any of its items is withdrawn
// (and Wake called) while it is in flight.
//
// TS-0045 5.7.1.9: withdrawing consent stops sending at once.
func (o *Outbox) send(ctx context.Context, b Batch) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-o.wake:
				// Consumed: the loop looks at the queue again after this send anyway.
				if len(o.withdrawn(b.Items)) > 0 {
					cancel()
					return
				}
			}
		}
	}()
	return o.cfg.Sender.Send(ctx, b)
}

// acknowledged removes a batch the cloud accepted.
func (o *Outbox) acknowledged(ctx context.Context, last, reported int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastSuccess = o.cfg.Now()
	if err := o.q.remove(ctx, last, reported, 0); err != nil {
		// The batch stays queued and is sent again; the cloud deduplicates it.
		o.cfg.Log.Error("outbox remove", "err", err)
	}
}

// disallowed lists the kinds the owner does not consent to sending now.
func (o *Outbox) disallowed() []string {
	var kinds []string
	for _, k := range allKinds {
		if !o.cfg.Allowed(k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// allKinds are every kind an outbox may hold.
var allKinds = []string{KindSecurityEvent, KindTelemetry, KindCrashReport, KindBackup, KindConsent}

// withdrawn lists the kinds among items whose consent is no longer given.
func (o *Outbox) withdrawn(items []Item) []string {
	var kinds []string
	for _, it := range items {
		if !o.cfg.Allowed(it.Kind) && !slices.Contains(kinds, it.Kind) {
			kinds = append(kinds, it.Kind)
		}
	}
	return kinds
}

// purge deletes queued items whose consent was withdrawn, and reports whether no kind
// may be sent at all.
//
// TS-0045 5.7.1.10: a withdrawal takes effect at once; what was collected under the
// consent is not kept for a later send.
func (o *Outbox) purge(ctx context.Context) (nothingAllowed bool) {
	kinds := o.disallowed()
	if len(kinds) == 0 {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.q.count > 0 {
		n, err := o.q.purgeKinds(ctx, kinds)
		if err != nil {
			o.cfg.Log.Error("outbox purge", "err", err)
		} else if n > 0 {
			o.cfg.Log.Info("consent withdrawn, queued items deleted", "items", n)
		}
	}
	return len(kinds) == len(allKinds)
}

func (o *Outbox) noteError(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastError, o.lastErrorAt = err.Error(), o.cfg.Now()
}

// wait sleeps d or until Wake, as mode says. During a backoff a Wake only checks
// consent, so that a withdrawal empties the queue at once while new items do not cut
// the backoff short.
func (o *Outbox) wait(ctx context.Context, d time.Duration, mode waitMode) error {
	var timer <-chan time.Time
	if mode != idle {
		if d <= 0 {
			return nil
		}
		timer = o.cfg.After(d)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer:
			return nil
		case <-o.wake:
			if mode != backingOff || o.hasWithdrawn(ctx) {
				return nil
			}
		}
	}
}

// hasWithdrawn reports whether items whose consent was withdrawn are queued.
func (o *Outbox) hasWithdrawn(ctx context.Context) bool {
	kinds := o.disallowed()
	if len(kinds) == 0 {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.q.hasKinds(ctx, kinds)
}
