package fleet

import (
	"encoding/json"
	"strings"
	"time"
)

// Metric is one daily count the detector scores.
type Metric int

// The metrics, in the order of their arrays.
const (
	LoginFailed Metric = iota
	AccountLocked
	UpdateRefused
	IntegrityViolation
	SensorReconnects
	NumMetrics
)

var metricNames = [NumMetrics]string{"login_failed", "account_locked", "update_refused", "integrity_violation", "sensor_reconnects"}

// String returns the metric's name, as in a summary's counts and in anomaly reports.
func (m Metric) String() string {
	if m < 0 || m >= NumMetrics {
		return "unknown"
	}
	return metricNames[m]
}

// MarshalText implements encoding.TextMarshaler.
func (m Metric) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Metric) UnmarshalText(b []byte) error {
	for i, n := range metricNames {
		if n == string(b) {
			*m = Metric(i)
			return nil
		}
	}
	*m = NumMetrics
	return nil
}

// Counts is one device's counts for one day, indexed by Metric.
type Counts [NumMetrics]int64

// eventMetric maps the kinds of security events a gateway sends (internal/events) to
// the metric they count, for devices whose summaries carry no counts. A firmware image
// refused at launch failed its integrity check; a failed installation is a refused
// update. Refused sensor connections are not reconnects and are not counted.
var eventMetric = map[string]Metric{
	"login.failed":      LoginFailed,
	"account.locked":    AccountLocked,
	"update.failed":     UpdateRefused,
	"firmware.rejected": IntegrityViolation,
}

// EventMetric returns the metric a security event's kind counts, if any. Kinds
// starting with "integrity." are integrity violations.
func EventMetric(kind string) (Metric, bool) {
	if m, ok := eventMetric[kind]; ok {
		return m, true
	}
	if strings.HasPrefix(kind, "integrity.") {
		return IntegrityViolation, true
	}
	return 0, false
}

// maxCount bounds one count: larger or negative values in a document are ignored, so
// a lying device cannot overflow a day's sum.
const maxCount = 1 << 40

// ParseSummaryCounts reads the counts of an hourly telemetry summary,
// {"firmware":"1.2.0","sensors":{...},"counts":{"login_failed":N,...}}. Missing
// counts are 0, unknown keys are ignored, and a count that is not a non-negative
// integer below 2^40 is ignored. ok is false when the document has no counts object
// (an older gateway): its events are counted instead.
func ParseSummaryCounts(doc []byte) (c Counts, ok bool) {
	var d struct {
		Counts map[string]json.RawMessage `json:"counts"`
	}
	if json.Unmarshal(doc, &d) != nil || d.Counts == nil {
		return c, false
	}
	for i, name := range metricNames {
		raw, found := d.Counts[name]
		if !found {
			continue
		}
		var n int64
		if json.Unmarshal(raw, &n) == nil && n >= 0 && n < maxCount {
			c[i] = n
		}
	}
	return c, true
}

// ParseEvent reads a security event document, {"kind":"login.failed",
// "severity":"warning","time":"2026-03-01T12:34:00Z"}, and returns its kind and time
// (zero when missing or not RFC 3339).
func ParseEvent(doc []byte) (kind string, at time.Time, ok bool) {
	var d struct {
		Kind string `json:"kind"`
		Time string `json:"time"`
	}
	if json.Unmarshal(doc, &d) != nil || d.Kind == "" {
		return "", time.Time{}, false
	}
	at, _ = time.Parse(time.RFC3339, d.Time)
	return d.Kind, at, true
}
