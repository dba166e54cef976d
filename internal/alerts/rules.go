package alerts

import (
	"errors"
	"fmt"
	"slices"

	"hearth/internal/events"
)

// Channel names a way an alert reaches someone. Values are stable: they appear in the
// settings JSON and in the API.
type Channel string

// Channels.
const (
	// UI is the web UI's notification list and banner.
	UI Channel = "ui"
	// Webhook is every configured webhook (Settings.Webhooks).
	Webhook Channel = "webhook"
	// Email is the configured SMTP relay and recipients (Settings.Email).
	Email Channel = "email"
	// Vendor forwards the event to the vendor cloud, only while the owner consents.
	Vendor Channel = "vendor"
)

// Channels lists every known channel.
var Channels = []Channel{UI, Webhook, Email, Vendor}

// Event kinds the default rules alert on that internal/events does not define yet.
const (
	// IntegrityViolation: a file, image or record failed its integrity check.
	IntegrityViolation events.Kind = "integrity.violation"
)

// Bounds on the rules.
const (
	MaxRules        = 64
	MaxKindsPerRule = 64
	maxKindLen      = 64
)

// Rule sends the events of Kinds through Channels.
type Rule struct {
	Kinds    []events.Kind `json:"kinds"`
	Channels []Channel     `json:"channels"`
}

// DefaultRules alert on lockouts, integrity violations and refused or failed updates
// through the UI, webhooks and e-mail (the latter two only when configured).
//
// TS-0045 5.8.1.1: an unauthorized software change (a refused image, an integrity
// violation) is reported to the owner by default.
func DefaultRules() []Rule {
	return []Rule{{
		Kinds:    []events.Kind{events.AccountLocked, IntegrityViolation, events.UpdateFailed, events.FirmwareRejected},
		Channels: []Channel{UI, Webhook, Email},
	}}
}

// ValidateRules reports rules that are not acceptable: too many, an empty or malformed
// kind, an unknown channel, or a rule with no kinds or no channels.
func ValidateRules(rules []Rule) error {
	if len(rules) > MaxRules {
		return fmt.Errorf("alerts: %d rules, at most %d", len(rules), MaxRules)
	}
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("alerts: rule %d: %w", i, err)
		}
	}
	return nil
}

func (r Rule) validate() error {
	switch {
	case len(r.Kinds) == 0:
		return errors.New("no kinds")
	case len(r.Kinds) > MaxKindsPerRule:
		return fmt.Errorf("%d kinds, at most %d", len(r.Kinds), MaxKindsPerRule)
	case len(r.Channels) == 0:
		return errors.New("no channels")
	case len(r.Channels) > len(Channels):
		return errors.New("too many channels")
	}
	for _, k := range r.Kinds {
		if !validKind(k) {
			return fmt.Errorf("bad kind %q", k)
		}
	}
	for i, c := range r.Channels {
		if !slices.Contains(Channels, c) {
			return fmt.Errorf("unknown channel %q", c)
		}
		if slices.Contains(r.Channels[:i], c) {
			return fmt.Errorf("channel %q twice", c)
		}
	}
	return nil
}

// validKind accepts the shape of event kinds: lowercase letters, digits, '.' and '_',
// starting with a letter.
func validKind(k events.Kind) bool {
	if len(k) == 0 || len(k) > maxKindLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range []byte(k) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// match returns the channels the rules send an event of kind k through, in the order
// of Channels.
func match(rules []Rule, k events.Kind) []Channel {
	var out []Channel
	for _, c := range Channels {
		for _, r := range rules {
			if slices.Contains(r.Kinds, k) && slices.Contains(r.Channels, c) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
