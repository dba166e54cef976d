package privacy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"sync"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
)

// Consent is one choice the owner made for a purpose.
type Consent struct {
	Purpose Purpose   `json:"purpose"`
	Granted bool      `json:"granted"`
	Version string    `json:"version"` // of the consent text shown (ConsentVersion)
	Time    time.Time `json:"time"`
	By      string    `json:"by"` // the user name of the owner who chose
}

// ConsentStore keeps the history of consents, oldest first. Records are only added;
// deleting all user data removes them with the rest.
type ConsentStore interface {
	Consents(ctx context.Context) ([]Consent, error)
	AddConsent(ctx context.Context, c Consent) error
}

// Authorizer checks a principal's permission (auth.Service implements it).
type Authorizer interface {
	Authorize(p auth.Principal, perm auth.Permission) error
}

// ConsentConfig configures a ConsentService.
type ConsentConfig struct {
	Store  ConsentStore
	Authz  Authorizer
	Events events.Publisher // nil: events.Discard
	Now    func() time.Time // nil: time.Now
	// Changed is called after a change is recorded, before Set returns: the gateway
	// deletes queued documents of a withdrawn purpose and queues the consent document
	// for the vendor. An error is logged by the caller's hook; the choice stands.
	Changed func(ctx context.Context, c Consent)
}

// ConsentService records the owner's consents and answers, without touching storage,
// whether a purpose is consented to now.
//
// TS-0045 5.7.1.9: nothing is processed for a purpose before the owner opts in; every
// purpose starts off. TS-0045 5.7.1.10: a consent can be withdrawn at any time and the
// withdrawal takes effect before Set returns.
type ConsentService struct {
	cfg ConsentConfig

	mu  sync.RWMutex
	cur map[Purpose]Consent
}

// NewConsentService loads the current consents.
func NewConsentService(ctx context.Context, cfg ConsentConfig) (*ConsentService, error) {
	if cfg.Store == nil || cfg.Authz == nil {
		return nil, errors.New("privacy: consent store and authorizer are required")
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &ConsentService{cfg: cfg}
	return s, s.Reload(ctx)
}

// Reload reads the current consents again from the store (after the data was erased).
func (s *ConsentService) Reload(ctx context.Context) error {
	hist, err := s.cfg.Store.Consents(ctx)
	if err != nil {
		return fmt.Errorf("privacy: %w", err)
	}
	cur := map[Purpose]Consent{}
	for _, c := range hist {
		cur[c.Purpose] = c
	}
	s.mu.Lock()
	s.cur = cur
	s.mu.Unlock()
	return nil
}

// Allowed reports whether the owner consents to p now.
func (s *ConsentService) Allowed(p Purpose) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur[p].Granted
}

// AllowedKind reports whether documents of kind may be sent now: those of a consented
// purpose, and consent documents themselves.
func (s *ConsentService) AllowedKind(kind string) bool {
	if kind == KindConsent {
		return true
	}
	p, ok := PurposeOf(kind)
	return ok && s.Allowed(p)
}

// Current returns the latest choice for every purpose; a purpose never chosen is
// returned not granted, with a zero time.
func (s *ConsentService) Current() map[Purpose]Consent {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := maps.Clone(s.cur)
	for _, p := range Purposes {
		if _, ok := out[p]; !ok {
			out[p] = Consent{Purpose: p, Version: ConsentVersion[p]}
		}
	}
	return out
}

// History returns every recorded choice, oldest first (owner only).
func (s *ConsentService) History(ctx context.Context, p auth.Principal) ([]Consent, error) {
	if err := s.cfg.Authz.Authorize(p, auth.PermManageConsent); err != nil {
		return nil, err
	}
	return s.cfg.Store.Consents(ctx)
}

// ErrUnknownPurpose reports a purpose that is not one of Purposes.
var ErrUnknownPurpose = errors.New("privacy: unknown purpose")

// Set records the owner's choices (owner, recent password). A choice equal to the
// current one is not recorded again. Each change raises an event and calls Changed.
func (s *ConsentService) Set(ctx context.Context, p auth.Principal, choices map[Purpose]bool, src netip.Addr) (map[Purpose]Consent, error) {
	if err := s.cfg.Authz.Authorize(p, auth.PermManageConsent); err != nil {
		return nil, err
	}
	for pur := range choices {
		if !pur.Valid() {
			return nil, fmt.Errorf("%w: %q", ErrUnknownPurpose, pur)
		}
	}
	for _, pur := range Purposes {
		granted, ok := choices[pur]
		if !ok || granted == s.Allowed(pur) {
			continue
		}
		c := Consent{Purpose: pur, Granted: granted, Version: ConsentVersion[pur], Time: s.cfg.Now().UTC(), By: p.User.Username}
		if err := s.cfg.Store.AddConsent(ctx, c); err != nil {
			return nil, fmt.Errorf("privacy: %w", err)
		}
		s.mu.Lock()
		s.cur[pur] = c
		s.mu.Unlock()
		state := "@privacy.withdrawn"
		if granted {
			state = "@privacy.given"
		}
		e := events.Event{Time: c.Time, Kind: events.ConsentChanged, Severity: events.Info, User: c.By,
			Detail: fmt.Sprintf("%s granted=%v (text version %s)", pur, granted, c.Version), Args: []string{"@privacy.purpose." + string(pur), state}}
		if src.IsValid() {
			e.Remote = src.String()
		}
		s.cfg.Events.Publish(ctx, e)
		if s.cfg.Changed != nil {
			s.cfg.Changed(ctx, c)
		}
	}
	return s.Current(), nil
}

// Doc is the consent document sent to the vendor for c: purpose, choice, text version
// and the minute, without the user name.
func (c Consent) Doc() ConsentDoc {
	return ConsentDoc{Purpose: c.Purpose, Granted: c.Granted, Version: c.Version, Time: c.Time.UTC().Truncate(time.Minute).Format(time.RFC3339)}
}
