package update

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"hearth/internal/events"
	"hearth/internal/settings"
)

// Status is what the device reports about its updates.
type Status struct {
	Current        string
	Slot           string
	SlotsAvailable bool
	LastCheck      time.Time
	LastError      string
	Available      *Info
	AnnouncedAt    time.Time
	LastInstall    string
}

// Settings is the part of the settings service the scheduler reads.
type Settings interface {
	Get(ctx context.Context) (settings.State, error)
}

// Scheduler applies the update policy: check shortly after start and then daily at a
// randomised time; announce what it finds (unless notifications are off or postponed);
// install automatically (unless automatic updates are off or postponed). A release that
// interrupts basic functions is announced first and installed automatically only a day
// later, so the owner can choose the moment (install now, or postpone).
//
// TS-0045 5.3.1.4, 5.3.1.5, 5.3.1.6, 5.3.1.8, 5.3.1.11, 5.3.1.12.
type Scheduler struct {
	agent    *Agent
	settings Settings
	events   events.Publisher
	// restart ends hearthd so the launcher starts the newly installed slot.
	restart func()
	now     func() time.Time
	// InitialDelay and Interval set the check times; zero means 1-5 minutes after start
	// and every 24 h ± 2 h.
	InitialDelay, Interval time.Duration

	mu     sync.Mutex
	status Status
	offer  *Offer
}

// InterruptNotice is how long an interrupting release is announced before it installs
// by itself.
const InterruptNotice = 24 * time.Hour

// NewScheduler returns a scheduler; restart is called after a successful install.
func NewScheduler(a *Agent, s Settings, pub events.Publisher, restart func()) *Scheduler {
	if pub == nil {
		pub = events.Discard
	}
	st, err := LoadState(a.cfg.DataDir)
	sc := &Scheduler{agent: a, settings: s, events: pub, restart: restart, now: a.cfg.Now}
	sc.status = Status{Current: a.cfg.Current, SlotsAvailable: err == nil, Slot: st.Active, LastInstall: st.Last}
	return sc
}

// Run checks on the policy's schedule until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	delay := s.InitialDelay
	if delay == 0 {
		delay = time.Minute + rand.N(4*time.Minute)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		s.CheckNow(ctx)
		delay = s.Interval
		if delay == 0 {
			delay = 22*time.Hour + rand.N(4*time.Hour)
		}
	}
}

// Status returns the current update status. The slot and the last install's outcome are
// read from the slot state each time: the launcher records them after this program
// started (it commits a new slot once the slot is healthy).
func (s *Scheduler) Status() Status {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	if slots, err := LoadState(s.agent.cfg.DataDir); err == nil {
		st.Slot, st.LastInstall = slots.Active, slots.Last
		if slots.Trial != nil {
			st.Slot = slots.Trial.Slot
		}
	}
	return st
}

// CheckNow checks for an update and applies the policy to the result.
func (s *Scheduler) CheckNow(ctx context.Context) Status {
	offer, err := s.agent.Check(ctx)
	s.mu.Lock()
	s.status.LastCheck = s.now().UTC()
	s.status.LastError = ""
	switch {
	case errors.Is(err, ErrNothingNew):
		s.offer, s.status.Available = nil, nil
	case err != nil:
		s.status.LastError = err.Error()
	default:
		if s.offer == nil || s.offer.Target != offer.Target {
			s.status.AnnouncedAt = time.Time{}
		}
		s.offer, s.status.Available = &offer, &offer.Info
	}
	s.mu.Unlock()
	// TS-0045 5.3.1.8 and 5.8.1.1: every check, and every refusal of what the vendor's
	// server sent, is a security event.
	now := s.now().UTC()
	switch {
	case err == nil:
		s.events.Publish(ctx, events.Event{Time: now, Kind: events.UpdateChecked, Severity: events.Info, Detail: "available: " + offer.Info.Version, Args: []string{offer.Info.Version}})
	case errors.Is(err, ErrNothingNew):
		s.events.Publish(ctx, events.Event{Time: now, Kind: events.UpdateChecked, Severity: events.Info, Detail: "nothing new", Args: []string{"—"}})
	default:
		s.events.Publish(ctx, events.Event{Time: now, Kind: events.UpdateCheckRefused, Severity: events.Warning, Detail: err.Error(), Args: []string{err.Error()}})
	}
	if err == nil {
		s.apply(ctx, offer)
	}
	return s.Status()
}

// apply announces and, when the policy allows, installs the offer.
func (s *Scheduler) apply(ctx context.Context, o Offer) {
	st, err := s.settings.Get(ctx)
	if err != nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	announced := !s.status.AnnouncedAt.IsZero()
	if !announced && st.Values[settings.UpdateNotifications] && !st.NotificationsDeferred(now) {
		s.status.AnnouncedAt = now.UTC()
		s.events.Publish(ctx, events.Event{Time: now.UTC(), Kind: events.UpdateAvailable, Severity: events.Info,
			Detail: o.Info.Version + ": " + o.Info.Fixes, Args: []string{o.Info.Version}})
	}
	announcedAt := s.status.AnnouncedAt
	s.mu.Unlock()
	if !st.Values[settings.AutoUpdate] || st.UpdatesDeferred(now) {
		return
	}
	if o.Info.Interrupts && (announcedAt.IsZero() || now.Sub(announcedAt) < InterruptNotice) {
		return
	}
	s.install(ctx, o)
}

// InstallNow installs the offered update at the owner's request.
//
// TS-0045 5.3.1.3: the owner can start an update from the web UI or the API.
func (s *Scheduler) InstallNow(ctx context.Context) error {
	s.mu.Lock()
	o := s.offer
	s.mu.Unlock()
	if o == nil {
		return ErrNothingNew
	}
	return s.install(ctx, *o)
}

// InstallBundle verifies an offline bundle and installs its release.
func (s *Scheduler) InstallBundle(ctx context.Context, r io.Reader) error {
	o, err := s.agent.OfferBundle(ctx, r)
	if err != nil {
		s.mu.Lock()
		s.status.LastError = err.Error()
		s.mu.Unlock()
		return err
	}
	return s.install(ctx, o)
}

func (s *Scheduler) install(ctx context.Context, o Offer) error {
	if err := s.agent.Install(ctx, o); err != nil {
		s.events.Publish(ctx, events.Event{Time: s.now().UTC(), Kind: events.UpdateFailed, Severity: events.Warning,
			Detail: err.Error(), Args: []string{o.Info.Version}})
		s.mu.Lock()
		s.status.LastError = err.Error()
		s.mu.Unlock()
		return err
	}
	s.restart()
	return nil
}
