package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"hearth/internal/events"
	"hearth/internal/outbox"
	"hearth/internal/update"
)

// DefaultIntegrityInterval is how often the installed programs are checked.
const DefaultIntegrityInterval = time.Hour

// MinIntegrityInterval is the shortest interval accepted.
const MinIntegrityInterval = time.Second

// integrityMonitor checks, at start and every interval, that the programs in the A/B
// slots still match the release metadata signed by the vendor (the checks the launcher
// makes before running one), so a program changed on disk is noticed while it runs,
// not only at the next start.
//
// TS-0045 5.8.1.1: an unauthorised change to the installed software raises a critical
// event (and so an alert to the owner); while it stands, nothing but security
// notifications leaves the device, and the launcher will not run the changed slot.
type integrityMonitor struct {
	m *Main
	// violated lists the slots found changed at the last check; read by the outbox's
	// consent check from other goroutines.
	violated atomicSlots
}

// check verifies every installed slot and reports a change of the outcome as an event.
func (im *integrityMonitor) check(ctx context.Context) {
	m := im.m
	if _, err := update.LoadState(m.cfg.DataDir); err != nil {
		return // not running from A/B slots: nothing installed to check
	}
	root, err := update.TrustedRoot(m.ks)
	if err != nil {
		m.log.Error("integrity check: trusted root unreadable", "err", err)
		return
	}
	var bad []string
	reasons := map[string]string{}
	for _, s := range []string{update.SlotA, update.SlotB} {
		_, err := update.VerifySlot(m.cfg.DataDir, s, root)
		switch {
		case err == nil, errors.Is(err, update.ErrNoSlot):
		default:
			bad = append(bad, s)
			reasons[s] = err.Error()
		}
	}
	before := im.violated.load()
	im.violated.store(bad)
	for _, s := range bad {
		if slices.Contains(before, s) {
			continue // already reported
		}
		m.log.Error("integrity violation: installed program changed", "slot", s, "err", reasons[s])
		m.events.Publish(ctx, events.Event{Time: m.now().UTC(), Kind: events.IntegrityViolation, Severity: events.Critical,
			Detail: fmt.Sprintf("slot %s: %s", s, reasons[s]), Args: []string{s, reasons[s]}})
	}
	if len(before) > 0 && len(bad) == 0 {
		m.events.Publish(ctx, events.Event{Time: m.now().UTC(), Kind: events.IntegrityRestored, Severity: events.Info,
			Detail: "slots " + strings.Join(before, ", ") + " verify again", Args: []string{strings.Join(before, ", ")}})
	}
}

// run checks at start and then every interval until ctx ends.
func (im *integrityMonitor) run(ctx context.Context, every time.Duration) {
	im.check(ctx)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			im.check(ctx)
		}
	}
}

// allowKind narrows what the outbox may send while a violation stands: security events
// (the notification) and consent documents only.
func (im *integrityMonitor) allowKind(kind string) bool {
	if len(im.violated.load()) == 0 {
		return true
	}
	return kind == outbox.KindSecurityEvent || kind == outbox.KindConsent
}

// atomicSlots is a list of slot names shared between goroutines.
type atomicSlots struct {
	mu    sync.Mutex
	slots []string
}

func (a *atomicSlots) load() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.slots
}

func (a *atomicSlots) store(s []string) {
	a.mu.Lock()
	a.slots = s
	a.mu.Unlock()
}
