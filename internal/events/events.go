// Package events defines Hearth's security events: typed records of what happened to the
// device's security (logins, lockouts, setting changes, integrity findings), published
// through a small interface and kept in a bounded local log the owner can read.
//
// Events are data, not log lines: a consumer (the UI, an alert rule, the vendor's fleet
// checks) branches on Kind, never on message text.
//
// TS-0045 3.17: a security event includes logins and configuration changes.
package events

import (
	"context"
	"time"
)

// Kind names a type of event. Values are stable: they appear in the API and in alerts.
type Kind string

// Event kinds.
const (
	LoginSucceeded   Kind = "login.succeeded"
	LoginFailed      Kind = "login.failed"
	AccountLocked    Kind = "account.locked"
	AccountUnlocked  Kind = "account.unlocked"
	PasswordChanged  Kind = "password.changed"
	PasswordReset    Kind = "password.reset"
	UserAdded        Kind = "user.added"
	UserRemoved      Kind = "user.removed"
	SessionsRevoked  Kind = "sessions.revoked"
	TokenCreated     Kind = "token.created"
	TokenRevoked     Kind = "token.revoked"
	Logout           Kind = "logout"
	GatewayStarted   Kind = "gateway.started"
	IdentityMismatch Kind = "identity.mismatch"
	// KeystoreUnreadable: the sealed keystore did not open (altered, copied, wrong TPM).
	KeystoreUnreadable Kind = "keystore.unreadable"
	SettingChanged     Kind = "setting.changed"
	// CertificateRenewed and CertificateRenewalFailing report the device certificate's
	// lifecycle.
	CertificateRenewed Kind = "certificate.renewed"
	// Firmware and updates.
	FirmwareRejected Kind = "firmware.rejected"
	UpdateAvailable  Kind = "update.available"
	// UpdateChecked: the vendor's signed metadata was fetched and verified;
	// UpdateCheckRefused: it was refused (unreachable, expired, altered, rolled back).
	UpdateChecked             Kind = "update.checked"
	UpdateCheckRefused        Kind = "update.check_refused"
	UpdateInstalled           Kind = "update.installed"
	UpdateRolledBack          Kind = "update.rolled_back"
	UpdateFailed              Kind = "update.failed"
	CertificateRenewalFailing Kind = "certificate.renewal_failing"
	// Sensors: the owner's changes, and what the broker refused.
	SensorPaired           Kind = "sensor.paired"
	SensorRemoved          Kind = "sensor.removed"
	SensorQuarantined      Kind = "sensor.quarantined"
	SensorReleased         Kind = "sensor.released"
	SensorReplaced         Kind = "sensor.replaced"
	SensorConnectRefused   Kind = "sensor.connect_refused"
	SensorTopicRefused     Kind = "sensor.topic_refused"
	SensorReadingRejected  Kind = "sensor.reading_rejected"
	SensorRateExceeded     Kind = "sensor.rate_exceeded"
	SensorPlaintextRefused Kind = "sensor.plaintext_refused"
	// ConsentChanged: the owner gave or withdrew consent for a purpose.
	ConsentChanged Kind = "privacy.consent_changed"
	// DataErased: all user data on the device was deleted (the one event the new log
	// starts with); ErasureConfirmed: the vendor confirmed deleting its copy.
	DataErased       Kind = "privacy.data_erased"
	ErasureConfirmed Kind = "privacy.erasure_confirmed"
	// GatewayCrashed: the previous run ended in a crash.
	GatewayCrashed Kind = "gateway.crashed"
	// IntegrityViolation: an installed program no longer matches its signed release
	// metadata; IntegrityRestored: every installed program matches again.
	IntegrityViolation Kind = "integrity.violation"
	IntegrityRestored  Kind = "integrity.restored"
)

// Severity grades an event for display and alerting.
type Severity string

const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Event is one security event. Detail never holds a secret.
type Event struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	Kind     Kind      `json:"kind"`
	Severity Severity  `json:"severity"`
	User     string    `json:"user,omitempty"`
	Remote   string    `json:"remote,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Args are the values of Detail for display in any language: the UI renders the
	// message "event.<kind>.detail" with them; an argument written "@key" is itself the
	// message key to show (a role, a setting).
	Args []string `json:"args,omitempty"`
}

// Publisher receives events. Publish must not block for long and never fails the
// operation that raised the event; implementations log their own errors.
type Publisher interface {
	Publish(ctx context.Context, e Event)
}

// Query selects events from a log, newest first.
type Query struct {
	// Limit caps the number of events; 0 means 100.
	Limit int
	// Kinds, when non-empty, keeps only these kinds.
	Kinds []Kind
	// Severities, when non-empty, keeps only these severities.
	Severities []Severity
	// From and To, when set, keep events with From <= time < To.
	From, To time.Time
	// Before, when positive, keeps events with an ID below it (paging).
	Before int64
}

// Log is a Publisher whose events can be read back.
type Log interface {
	Publisher
	Events(ctx context.Context, q Query) ([]Event, error)
}

// Discard is a Publisher that drops every event.
var Discard Publisher = discard{}

type discard struct{}

func (discard) Publish(context.Context, Event) {}
