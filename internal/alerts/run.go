package alerts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNoConsent means a vendor delivery was dropped because the owner does not consent
// (any more) to forwarding alerts.
var ErrNoConsent = errors.New("alerts: no consent to forward to the vendor")

// permanent marks an error that retrying will not cure.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Run delivers pending alerts until ctx ends, and returns ctx's error.
//
// TS-0045 5.8.1.1: alerts are delivered to the owner's channels, retried with backoff
// while a channel is unreachable.
func (a *Alerter) Run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, idle := a.step(ctx)
		if err := a.wait(ctx, d, idle); err != nil {
			return err
		}
	}
}

// step makes the attempts that are due and says how long to wait before the next.
func (a *Alerter) step(ctx context.Context) (d time.Duration, idle bool) {
	jobs, err := a.db.due(ctx, a.cfg.Now(), batchLimit)
	if err != nil {
		a.cfg.Log.Error("alert queue", "err", err)
		return a.cfg.Policy.Delay(1), false
	}
	a.attemptAll(ctx, jobs)
	if ctx.Err() != nil {
		return 0, false
	}
	if len(jobs) == batchLimit {
		return 0, false
	}
	next, ok, err := a.db.next(ctx)
	switch {
	case err != nil:
		a.cfg.Log.Error("alert queue", "err", err)
		return a.cfg.Policy.Delay(1), false
	case !ok:
		return 0, true
	}
	return max(0, next.Sub(a.cfg.Now())), false
}

// attemptAll makes the attempts, one goroutine per channel and target (so a receiver
// that hangs until the timeout delays only its own alerts), in order within each.
func (a *Alerter) attemptAll(ctx context.Context, jobs []job) {
	type key struct {
		c Channel
		t string
	}
	groups := map[key][]job{}
	var order []key
	for _, j := range jobs {
		k := key{j.channel, j.target}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Go(func() {
			for _, j := range groups[k] {
				if ctx.Err() != nil {
					return
				}
				a.attempt(ctx, j)
			}
		})
	}
	wg.Wait()
}

// attempt delivers one alert through one channel and records the outcome.
func (a *Alerter) attempt(ctx context.Context, j job) {
	actx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	err := a.deliver(actx, j)
	cancel()
	if err != nil && ctx.Err() != nil {
		return // stopping: the attempt did not count
	}
	now := a.cfg.Now().UTC()
	state, next, text := Delivered, now, ""
	switch {
	case err == nil:
	case isPermanent(err):
		state, text = Failed, errorText(err)
	case now.Sub(j.created) >= a.cfg.GiveUp:
		state, text = Failed, errorText(fmt.Errorf("gave up after %d attempts: %w", j.attempts+1, err))
	default:
		state, text = Pending, errorText(err)
		next = now.Add(a.cfg.Policy.Delay(j.attempts + 1))
	}
	if state != Delivered {
		a.cfg.Log.Warn("alert not delivered", "alert", j.alert, "channel", string(j.channel), "state", string(state), "err", text)
	}
	if rerr := a.db.record(context.WithoutCancel(ctx), j, state, text, now, next); rerr != nil {
		a.cfg.Log.Error("alert queue", "err", rerr)
	}
}

// deliver makes one attempt through j's channel with the current settings.
func (a *Alerter) deliver(ctx context.Context, j job) error {
	s := a.Settings()
	switch j.channel {
	case Webhook:
		for _, w := range s.Webhooks {
			if w.ID == j.target {
				return a.postWebhook(ctx, w, j)
			}
		}
		return permanent{errors.New("webhook no longer configured")}
	case Email:
		if s.Email == nil {
			return permanent{errors.New("email no longer configured")}
		}
		return a.sendEmail(ctx, s.Email, j)
	case Vendor:
		// TS-0045 5.7.1.9: consent is asked again before anything leaves for the vendor.
		if a.cfg.Forward == nil || !a.consent() {
			return permanent{ErrNoConsent}
		}
		return a.cfg.Forward(ctx, j.event)
	}
	return permanent{fmt.Errorf("channel %q has no deliveries", j.channel)}
}

// wait sleeps d, or until Wake when idle.
func (a *Alerter) wait(ctx context.Context, d time.Duration, idle bool) error {
	var timer <-chan time.Time
	if !idle {
		if d <= 0 {
			return nil
		}
		timer = a.cfg.After(d)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer:
	case <-a.wake:
	}
	return nil
}
