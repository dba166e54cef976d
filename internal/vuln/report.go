package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on a submission.
const (
	MaxBody        = 64 << 10 // bytes of a request body (JSON or form)
	MaxTitle       = 200      // characters
	MaxDescription = 20000    // characters
	MaxProduct     = 100
	MaxVersion     = 64
	MaxContact     = 254
	MaxNote        = 4000
)

// Submission is what a reporter sends.
type Submission struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Product     string `json:"product"`
	Version     string `json:"version,omitempty"` // affected version, when known
	CVSS        string `json:"cvss,omitempty"`    // CVSS v3.1 or v4.0 vector, optional
	Contact     string `json:"contact,omitempty"` // e-mail address, optional
}

// FieldError is a submission rejected for one field; Field names it as in the JSON.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ErrMalformed is a body that is not one JSON object of known fields.
var ErrMalformed = errors.New("malformed report")

// DecodeSubmission reads one JSON object of known fields (at most MaxBody bytes) and
// validates it.
//
// TS-0045 5.5.2.1: input from anyone on the internet is validated before use.
func DecodeSubmission(b []byte) (Submission, error) {
	var s Submission
	if len(b) > MaxBody {
		return s, &FieldError{Field: "body", Msg: fmt.Sprintf("larger than %d bytes", MaxBody)}
	}
	if !utf8.Valid(b) {
		return s, &FieldError{Field: "body", Msg: "not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return s, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	return s, s.Validate()
}

// Validate checks every field: required ones present, lengths bounded (in
// characters), valid UTF-8, no control characters (newline and tab allowed in the
// description only), a CVSS vector that parses, a bare e-mail address.
func (s *Submission) Validate() error {
	s.Title = strings.TrimSpace(s.Title)
	s.Product = strings.TrimSpace(s.Product)
	s.Version = strings.TrimSpace(s.Version)
	s.CVSS = strings.TrimSpace(s.CVSS)
	s.Contact = strings.TrimSpace(s.Contact)
	checks := []struct {
		field, v     string
		max          int
		required, ml bool
	}{
		{"title", s.Title, MaxTitle, true, false},
		{"description", s.Description, MaxDescription, true, true},
		{"product", s.Product, MaxProduct, true, false},
		{"version", s.Version, MaxVersion, false, false},
		{"cvss", s.CVSS, maxVector, false, false},
		{"contact", s.Contact, MaxContact, false, false},
	}
	for _, c := range checks {
		if err := CheckText(c.v, c.max, c.ml); err != nil {
			return &FieldError{Field: c.field, Msg: err.Error()}
		}
		if c.required && strings.TrimSpace(c.v) == "" {
			return &FieldError{Field: c.field, Msg: "required"}
		}
	}
	if s.CVSS != "" {
		if _, err := ParseCVSS(s.CVSS); err != nil {
			return &FieldError{Field: "cvss", Msg: err.Error()}
		}
	}
	if s.Contact != "" {
		a, err := mail.ParseAddress(s.Contact)
		if err != nil || a.Address != s.Contact || a.Name != "" {
			return &FieldError{Field: "contact", Msg: "not a plain e-mail address (name@example.com)"}
		}
	}
	return nil
}

// CheckText refuses invalid UTF-8, more than max characters and control characters
// (newline and tab allowed when multiline).
func CheckText(s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("longer than %d characters (%d)", max, n)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("control character %U not allowed", r)
		}
	}
	return nil
}

// State is where a report is in its handling.
type State string

// States of a report.
const (
	Received  State = "received"
	Triaged   State = "triaged"
	Fixing    State = "fixing"
	Fixed     State = "fixed"
	Disclosed State = "disclosed"
	Rejected  State = "rejected"
)

// transitions lists the states each state may move to.
var transitions = map[State][]State{
	Received: {Triaged, Rejected},
	Triaged:  {Fixing, Rejected},
	Fixing:   {Fixed},
	Fixed:    {Disclosed},
}

// ErrTransition is a state change the workflow does not allow.
var ErrTransition = errors.New("state change not allowed")

// CanMove reports whether a report may move from one state to another.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ParseState reads a state name.
func ParseState(s string) (State, bool) {
	switch st := State(s); st {
	case Received, Triaged, Fixing, Fixed, Disclosed, Rejected:
		return st, true
	}
	return "", false
}

// Open reports whether the report still needs work and status updates.
func (s State) Open() bool { return s != Disclosed && s != Rejected }

// Change is one entry of a report's history, as sent to the reporter.
type Change struct {
	At    time.Time `json:"at"`
	State State     `json:"state"`
	Note  string    `json:"note"`
	CVSS  *CVSS     `json:"cvss,omitempty"` // set when the change scored the report
}

// Report is a vulnerability report and its handling.
type Report struct {
	ID          string    `json:"id"`
	Received    time.Time `json:"received"`
	Source      string    `json:"source"` // "web", "api" or "scan"
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Product     string    `json:"product"`
	Version     string    `json:"version,omitempty"`
	Contact     string    `json:"contact,omitempty"`
	// ReporterCVSS is the reporter's vector as sent; CVSS is the vendor's assessment
	// (initially the reporter's, replaced by set-cvss).
	ReporterCVSS string `json:"reporter_cvss,omitempty"`
	CVSS         *CVSS  `json:"cvss,omitempty"`
	State        State  `json:"state"`
	// TokenSHA256 is the hex SHA-256 of the reporter's status token; empty for
	// internal reports, which have no reporter to show.
	TokenSHA256 string   `json:"token_sha256,omitempty"`
	History     []Change `json:"history"`
	// Advisory and Component identify an internal report opened by a scan.
	Advisory  string `json:"advisory,omitempty"`
	Component string `json:"component,omitempty"`
}

// Severity is the report's current severity, empty when unscored.
func (r *Report) Severity() Severity {
	if r.CVSS == nil {
		return ""
	}
	return r.CVSS.Severity
}

// LastChange is the time of the latest history entry.
func (r *Report) LastChange() time.Time {
	if len(r.History) == 0 {
		return r.Received
	}
	return r.History[len(r.History)-1].At
}

// validID reports whether s has the shape of a report id: "HV-" and 16 lower-case hex
// digits. Ids reach file names, so nothing else is accepted.
func validID(s string) bool {
	if len(s) != 19 || !strings.HasPrefix(s, "HV-") {
		return false
	}
	for _, c := range []byte(s[3:]) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
