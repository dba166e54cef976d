package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Purpose is something the owner consents to, one at a time. Values are stable: they
// appear in the API, in storage and on the wire to the vendor cloud.
type Purpose string

// The purposes. Each is off until the owner opts in.
const (
	// PurposeTelemetry sends security event counts and an hourly device summary.
	PurposeTelemetry Purpose = "telemetry"
	// PurposeCrashReports sends a reduced report after the gateway crashed.
	PurposeCrashReports Purpose = "crash_reports"
	// PurposeCloudBackup keeps an encrypted copy of the sensor readings with the vendor.
	PurposeCloudBackup Purpose = "cloud_backup"
)

// Purposes lists the purposes in display order.
var Purposes = []Purpose{PurposeTelemetry, PurposeCrashReports, PurposeCloudBackup}

// Valid reports whether p is one of Purposes.
func (p Purpose) Valid() bool {
	for _, q := range Purposes {
		if p == q {
			return true
		}
	}
	return false
}

// Kinds of documents a gateway sends to the vendor cloud (outbox items).
const (
	KindSecurityEvent = "security_event"
	KindTelemetry     = "telemetry"
	KindCrashReport   = "crash_report"
	KindBackup        = "backup"
	// KindConsent carries a consent given or withdrawn. It needs no consent of its own:
	// it holds no personal data and is what lets the vendor stop processing.
	KindConsent = "consent"
)

// PurposeOf returns the purpose a kind of document is sent for; ok is false for
// KindConsent (sent whatever the consents) and for unknown kinds.
func PurposeOf(kind string) (p Purpose, ok bool) {
	switch kind {
	case KindSecurityEvent, KindTelemetry:
		return PurposeTelemetry, true
	case KindCrashReport:
		return PurposeCrashReports, true
	case KindBackup:
		return PurposeCloudBackup, true
	}
	return "", false
}

// KnownKind reports whether the cloud accepts documents of kind.
func KnownKind(kind string) bool {
	_, ok := PurposeOf(kind)
	return ok || kind == KindConsent
}

// ConsentDoc is the document of a KindConsent item:
// {"purpose":"telemetry","granted":true,"version":"1","time":"2026-11-27T01:02:00Z"}.
// Version names the consent text the owner saw; time is when the choice was made, to
// the minute.
type ConsentDoc struct {
	Purpose Purpose `json:"purpose"`
	Granted bool    `json:"granted"`
	Version string  `json:"version"`
	Time    string  `json:"time"`
}

// ParseConsentDoc decodes a consent document strictly: one JSON object, no unknown
// fields, a known purpose, a version of 1 to 16 characters [0-9A-Za-z.-], an RFC 3339
// time.
//
// TS-0045 5.5.2.1: the vendor validates what devices send.
func ParseConsentDoc(doc []byte) (ConsentDoc, error) {
	var c ConsentDoc
	if err := decodeStrict(doc, &c); err != nil {
		return c, fmt.Errorf("consent: %w", err)
	}
	if !c.Purpose.Valid() {
		return c, errors.New("consent: unknown purpose")
	}
	if !validVersion(c.Version) {
		return c, errors.New("consent: version must be 1 to 16 of [0-9A-Za-z.-]")
	}
	if _, err := time.Parse(time.RFC3339, c.Time); err != nil {
		return c, errors.New("consent: time is not RFC 3339")
	}
	return c, nil
}

func validVersion(v string) bool {
	if len(v) == 0 || len(v) > 16 {
		return false
	}
	for _, c := range []byte(v) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// EraseRequest is the body of POST /v1/privacy/erase: {"request":"<32 lowercase hex>"}.
// The request id is chosen by the device and makes the call idempotent.
type EraseRequest struct {
	Request string `json:"request"`
}

// ParseEraseRequest decodes an erase request strictly.
func ParseEraseRequest(body []byte) (EraseRequest, error) {
	var r EraseRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, fmt.Errorf("erase request: %w", err)
	}
	if !IsID(r.Request) {
		return r, errors.New("erase request: request must be 32 lowercase hex digits")
	}
	return r, nil
}

// EraseReceipt is the vendor's answer to an erase request, and what it keeps as proof
// that it was carried out: which request, when it was received and completed, and how
// much of each kind of data was deleted. It holds no deleted data.
type EraseReceipt struct {
	Request     string           `json:"request"`
	Status      string           `json:"status"` // "completed"
	ReceivedAt  time.Time        `json:"received_at"`
	CompletedAt time.Time        `json:"completed_at"`
	Deleted     map[string]int64 `json:"deleted"`
}

// EraseCompleted is the status of a receipt whose deletion finished.
const EraseCompleted = "completed"

// IsID reports whether s is 32 lowercase hex digits (a stream or request id).
func IsID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// decodeStrict decodes exactly one JSON object with no unknown fields into v.
func decodeStrict(b []byte, v any) error {
	if len(b) > 4<<10 {
		return errors.New("too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}
