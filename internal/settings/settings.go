// Package settings holds the gateway's user-visible security settings: each with a
// secure default, a recommended value shown to the user, and the TS-0045 items it
// serves. The first-run wizard walks the owner through them with the recommended value
// preselected; later issues (updates, privacy) act on their values.
//
// Only the owner may change a setting, with a recent password entry; every change is a
// security event.
//
// TS-0045 5.2.1.4: secure defaults, and the best choice highlighted at each step.
package settings

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
)

// Key names a setting. Values are stable: they appear in the API and in storage.
type Key string

// The settings.
const (
	// AutoUpdate installs security updates automatically.
	AutoUpdate Key = "auto_update"
	// UpdateNotifications tells the users when an update is available or installed.
	UpdateNotifications Key = "update_notifications"
)

// Def describes one setting.
type Def struct {
	Key         Key
	Default     bool
	Recommended bool
	// Clauses are the TS-0045 items the setting serves.
	Clauses []string
}

// Defs lists the settings in display order.
//
// TS-0045 5.3.1.4, 5.3.1.6: automatic updates and update notifications are on after
// setup. Consents to sending data to the vendor are not settings: see package privacy.
var Defs = []Def{
	{AutoUpdate, true, true, []string{"5.3.1.4", "5.3.1.6"}},
	{UpdateNotifications, true, true, []string{"5.3.1.6", "5.3.1.11"}},
}

// Lookup returns the definition of k.
func Lookup(k Key) (Def, bool) {
	for _, d := range Defs {
		if d.Key == k {
			return d, true
		}
	}
	return Def{}, false
}

// ErrUnknown reports a setting that does not exist.
var ErrUnknown = errors.New("settings: unknown setting")

const (
	setupKey                 = "setup_completed_at"
	updatesDeferredKey       = "update_deferred_until"
	notificationsDeferredKey = "notifications_deferred_until"
)

// MaxDeferral is the longest an owner may postpone updates or notifications.
const MaxDeferral = 30 * 24 * time.Hour

// Store keeps raw values by key.
type Store interface {
	Settings(ctx context.Context) (map[string]string, error)
	SetSettings(ctx context.Context, values map[string]string) error
}

// Authorizer checks a principal's permission (auth.Service implements it).
type Authorizer interface {
	Authorize(p auth.Principal, perm auth.Permission) error
}

// Service reads and changes settings.
type Service struct {
	store  Store
	authz  Authorizer
	events events.Publisher
	now    func() time.Time
}

// New returns a Service. now nil means time.Now; pub nil means events.Discard.
func New(store Store, authz Authorizer, pub events.Publisher, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if pub == nil {
		pub = events.Discard
	}
	return &Service{store: store, authz: authz, events: pub, now: now}
}

// State is every setting's current value and whether first-run setup was completed.
type State struct {
	Values         map[Key]bool
	SetupCompleted bool
	// UpdatesDeferredUntil and NotificationsDeferredUntil postpone automatic installs and
	// update notifications; zero means not postponed.
	UpdatesDeferredUntil, NotificationsDeferredUntil time.Time
}

// UpdatesDeferred reports whether automatic installs are postponed at now.
func (st State) UpdatesDeferred(now time.Time) bool { return now.Before(st.UpdatesDeferredUntil) }

// NotificationsDeferred reports whether update notifications are postponed at now.
func (st State) NotificationsDeferred(now time.Time) bool {
	return now.Before(st.NotificationsDeferredUntil)
}

func onOff(v bool) string {
	if v {
		return "@setting.on"
	}
	return "@setting.off"
}

// Get returns the current state, defaults filled in.
func (s *Service) Get(ctx context.Context) (State, error) {
	raw, err := s.store.Settings(ctx)
	if err != nil {
		return State{}, fmt.Errorf("settings: %w", err)
	}
	st := State{Values: map[Key]bool{}, SetupCompleted: raw[setupKey] != ""}
	st.UpdatesDeferredUntil, _ = time.Parse(time.RFC3339, raw[updatesDeferredKey])
	st.NotificationsDeferredUntil, _ = time.Parse(time.RFC3339, raw[notificationsDeferredKey])
	for _, d := range Defs {
		st.Values[d.Key] = d.Default
		if v, ok := raw[string(d.Key)]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return State{}, fmt.Errorf("settings: stored %s is %q", d.Key, v)
			}
			st.Values[d.Key] = b
		}
	}
	return st, nil
}

// Change sets the given values (owner, recent password) and, when completeSetup is true,
// records that the first-run wizard is done. Each changed value raises an event.
func (s *Service) Change(ctx context.Context, p auth.Principal, values map[Key]bool, completeSetup bool, src netip.Addr) (State, error) {
	if err := s.authz.Authorize(p, auth.PermChangeSettings); err != nil {
		return State{}, err
	}
	cur, err := s.Get(ctx)
	if err != nil {
		return State{}, err
	}
	raw := map[string]string{}
	for k, v := range values {
		if _, ok := Lookup(k); !ok {
			return State{}, fmt.Errorf("%w: %q", ErrUnknown, k)
		}
		raw[string(k)] = strconv.FormatBool(v)
	}
	if completeSetup && !cur.SetupCompleted {
		raw[setupKey] = s.now().UTC().Format(time.RFC3339)
	}
	if err := s.store.SetSettings(ctx, raw); err != nil {
		return State{}, fmt.Errorf("settings: %w", err)
	}
	for _, d := range Defs {
		if v, ok := values[d.Key]; ok && v != cur.Values[d.Key] {
			e := events.Event{Time: s.now().UTC(), Kind: events.SettingChanged, Severity: events.Info, User: p.User.Username,
				Detail: fmt.Sprintf("%s set to %v", d.Key, v), Args: []string{"@setting." + string(d.Key), onOff(v)}}
			if src.IsValid() {
				e.Remote = src.String()
			}
			s.events.Publish(ctx, e)
		}
	}
	return s.Get(ctx)
}

// ErrDeferral reports a postponement outside (0, MaxDeferral].
var ErrDeferral = errors.New("settings: updates and notifications can be postponed by up to 30 days")

// Defer postpones automatic installs and/or notifications by the given durations (nil
// leaves one as it is, zero ends a postponement). Owner only, with a recent password.
//
// TS-0045 5.3.1.6: the user can defer updates and update notifications.
func (s *Service) Defer(ctx context.Context, p auth.Principal, updates, notifications *time.Duration, src netip.Addr) (State, error) {
	if err := s.authz.Authorize(p, auth.PermChangeSettings); err != nil {
		return State{}, err
	}
	raw := map[string]string{}
	for key, d := range map[string]*time.Duration{updatesDeferredKey: updates, notificationsDeferredKey: notifications} {
		if d == nil {
			continue
		}
		if *d < 0 || *d > MaxDeferral {
			return State{}, ErrDeferral
		}
		raw[key] = ""
		if *d > 0 {
			raw[key] = s.now().Add(*d).UTC().Format(time.RFC3339)
		}
		e := events.Event{Time: s.now().UTC(), Kind: events.SettingChanged, Severity: events.Info, User: p.User.Username,
			Detail: fmt.Sprintf("%s for %s", key, *d), Args: []string{"@setting." + key, d.Round(time.Hour).String()}}
		if src.IsValid() {
			e.Remote = src.String()
		}
		s.events.Publish(ctx, e)
	}
	if err := s.store.SetSettings(ctx, raw); err != nil {
		return State{}, fmt.Errorf("settings: %w", err)
	}
	return s.Get(ctx)
}
