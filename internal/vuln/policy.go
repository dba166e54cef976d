package vuln

import (
	"strings"
	"time"
)

// Severity is a CVSS qualitative severity rating, lower case.
type Severity string

// Severities, from most to least severe.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	None     Severity = "none"
)

// Policy is the vendor's vulnerability disclosure policy as numbers. The published
// policy (docs/VULNERABILITY-DISCLOSURE.md) states the same numbers; a test holds
// them together.
//
// TS-0045 5.2.1.1: the acknowledgement time (b) and the status updates (c) are part
// of the policy. TS-0045 5.2.1.2: each severity has its fix deadline.
type Policy struct {
	// AckWorkingDays: a report is triaged (confirmed or rejected, with a note to the
	// reporter) within this many working days (Monday to Friday) of its receipt.
	AckWorkingDays int `json:"ack_working_days"`
	// UpdateDays: an open report gets a status update at least this often.
	UpdateDays int `json:"update_days"`
	// DisclosureDays: coordinated disclosure this many days after receipt at most.
	DisclosureDays int `json:"disclosure_days"`
	// ExploitedDisclosureDays: disclosure deadline when the flaw is exploited in the wild.
	ExploitedDisclosureDays int `json:"exploited_disclosure_days"`
	// FixDays: days from receipt to a fixed release, by severity. A report without a
	// CVSS score is held to UnscoredSeverity's deadline.
	FixDays          map[Severity]int `json:"fix_days"`
	UnscoredSeverity Severity         `json:"unscored_severity"`
	// ExpiresDays: lifetime of the published security.txt.
	ExpiresDays int `json:"expires_days"`
	// MaxPending bounds the reports awaiting triage; intake refuses more.
	MaxPending int `json:"max_pending"`
	// Email is the security contact's address; PublicURL the vendor services' public
	// base URL (https, no trailing slash), used in security.txt and links.
	Email     string `json:"email"`
	PublicURL string `json:"public_url"`
}

// DefaultPolicy is Hearth's policy.
func DefaultPolicy() Policy {
	return Policy{
		AckWorkingDays:          5,
		UpdateDays:              14,
		DisclosureDays:          90,
		ExploitedDisclosureDays: 7,
		FixDays:                 map[Severity]int{Critical: 7, High: 30, Medium: 90, Low: 180, None: 180},
		UnscoredSeverity:        High,
		ExpiresDays:             180,
		MaxPending:              1000,
		Email:                   "security@hearth.example",
		PublicURL:               "https://cloud.hearth.example",
	}
}

// AckDeadline is when a report received at t must be triaged: AckWorkingDays working
// days later (weekends skipped; public holidays are not modelled, which only makes
// the deadline stricter).
func (p Policy) AckDeadline(received time.Time) time.Time {
	t := received
	for n := 0; n < p.AckWorkingDays; {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return t
}

// FixDeadline is when a report received at t with severity sev must be fixed.
func (p Policy) FixDeadline(received time.Time, sev Severity) time.Time {
	if sev == "" {
		sev = p.UnscoredSeverity
	}
	return received.AddDate(0, 0, p.FixDays[sev])
}

// ParseSeverity reads a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, bool) {
	switch sev := Severity(strings.ToLower(s)); sev {
	case Critical, High, Medium, Low, None:
		return sev, true
	}
	return "", false
}

// Fix is the fix deadline in days for a severity name (for templates).
func (p Policy) Fix(severity string) int { return p.FixDays[Severity(severity)] }
