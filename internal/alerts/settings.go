package alerts

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Bounds on the settings.
const (
	MaxSettingsBytes = 64 << 10
	MaxWebhooks      = 8
	MaxRecipients    = 8
	SecretSize       = 32
	maxURLLen        = 2048
)

// Settings are the owner's alert settings, stored by the caller in their JSON form and
// changed through the API. The zero value has no rules (nothing alerts); use
// DefaultSettings.
type Settings struct {
	Rules    []Rule        `json:"rules"`
	Webhooks []WebhookSpec `json:"webhooks,omitempty"`
	// Email, when nil, disables the e-mail channel.
	Email *EmailSpec `json:"email,omitempty"`
}

// DefaultSettings are the default rules with no webhook and no e-mail configured.
func DefaultSettings() Settings { return Settings{Rules: DefaultRules()} }

// WebhookSpec is one webhook receiver.
type WebhookSpec struct {
	// ID names the webhook in delivery records; NewWebhook draws it.
	ID string `json:"id"`
	// URL must be https:// unless InsecureAllowHTTP is set.
	URL string `json:"url"`
	// Secret keys the HMAC-SHA256 signature of every request; NewWebhook draws it. The
	// owner sees it once, when the webhook is created; Settings.Redacted hides it.
	Secret Secret `json:"secret"`
	// InsecureAllowHTTP accepts an http:// URL: the alert then travels unencrypted
	// (still signed). Release builds must refuse settings that set it.
	InsecureAllowHTTP bool `json:"insecure_allow_http,omitempty"`
}

// EmailSpec is the SMTP relay that sends alert e-mail and its recipients.
type EmailSpec struct {
	// Relay is the relay's host:port, typically port 587 (submission with STARTTLS).
	Relay string `json:"relay"`
	// From is the sender address; To the recipients (1 to MaxRecipients).
	From string   `json:"from"`
	To   []string `json:"to"`
	// Username and Password, when Username is set, authenticate with AUTH PLAIN (only
	// ever after STARTTLS).
	Username string   `json:"username,omitempty"`
	Password Password `json:"password,omitempty"`
	// Link is the text of the link to the gateway's web UI printed in the message, e.g.
	// "https://hearth.local:8443/"; empty means no link.
	Link string `json:"link,omitempty"`
	// InsecurePlaintextSMTP sends through a relay that does not offer STARTTLS: the
	// alert (and the password, if any) then travels unencrypted. Release builds must
	// refuse settings that set it.
	InsecurePlaintextSMTP bool `json:"insecure_plaintext_smtp,omitempty"`
}

// Secret is a webhook's signing key. It prints as REDACTED; its JSON form is hex.
type Secret []byte

func (s Secret) String() string               { return "REDACTED" }
func (s Secret) LogValue() slog.Value         { return slog.StringValue("REDACTED") }
func (s Secret) GoString() string             { return "REDACTED" }
func (s Secret) Hex() string                  { return hex.EncodeToString(s) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(s)), nil }

func (s *Secret) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return errors.New("secret is not hex")
	}
	*s = v
	return nil
}

// Password is the SMTP password. It prints as REDACTED; its JSON form is the text.
type Password string

func (p Password) String() string       { return "REDACTED" }
func (p Password) LogValue() slog.Value { return slog.StringValue("REDACTED") }
func (p Password) GoString() string     { return "REDACTED" }

// NewWebhook makes a webhook for rawURL with a fresh ID and a fresh 32-byte secret drawn
// from r (nil means crypto/rand). Show w.Secret.Hex() to the owner once, then store it.
func NewWebhook(rawURL string, r io.Reader) (WebhookSpec, error) {
	if r == nil {
		r = rand.Reader
	}
	id := make([]byte, 8)
	secret := make([]byte, SecretSize)
	if _, err := io.ReadFull(r, id); err != nil {
		return WebhookSpec{}, fmt.Errorf("alerts: webhook id: %w", err)
	}
	if _, err := io.ReadFull(r, secret); err != nil {
		return WebhookSpec{}, fmt.Errorf("alerts: webhook secret: %w", err)
	}
	w := WebhookSpec{ID: hex.EncodeToString(id), URL: rawURL, Secret: secret}
	return w, w.validate()
}

// ParseSettings parses and validates the JSON form of Settings strictly: one object of
// at most MaxSettingsBytes, no unknown fields, nothing after it.
func ParseSettings(data []byte) (Settings, error) {
	var s Settings
	if len(data) > MaxSettingsBytes {
		return s, fmt.Errorf("alerts: settings of %d bytes exceed %d", len(data), MaxSettingsBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("alerts: settings: %w", err)
	}
	if dec.More() {
		return Settings{}, errors.New("alerts: settings: data after the object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Settings{}, errors.New("alerts: settings: data after the object")
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate reports settings that cannot work or are not acceptable.
func (s Settings) Validate() error {
	if err := ValidateRules(s.Rules); err != nil {
		return err
	}
	if len(s.Webhooks) > MaxWebhooks {
		return fmt.Errorf("alerts: %d webhooks, at most %d", len(s.Webhooks), MaxWebhooks)
	}
	for i, w := range s.Webhooks {
		if err := w.validate(); err != nil {
			return fmt.Errorf("alerts: webhook %d: %w", i, err)
		}
		for _, o := range s.Webhooks[:i] {
			if o.ID == w.ID {
				return fmt.Errorf("alerts: webhook id %q twice", w.ID)
			}
		}
	}
	if s.Email != nil {
		if err := s.Email.validate(); err != nil {
			return fmt.Errorf("alerts: email: %w", err)
		}
	}
	return nil
}

// clone copies s deeply, so that the caller's slices are not shared.
func (s Settings) clone() Settings {
	out := Settings{}
	for _, r := range s.Rules {
		out.Rules = append(out.Rules, Rule{Kinds: slices.Clone(r.Kinds), Channels: slices.Clone(r.Channels)})
	}
	for _, w := range s.Webhooks {
		w.Secret = slices.Clone(w.Secret)
		out.Webhooks = append(out.Webhooks, w)
	}
	if s.Email != nil {
		e := *s.Email
		e.To = slices.Clone(e.To)
		out.Email = &e
	}
	return out
}

// Redacted returns a copy for display: webhook secrets and the SMTP password removed.
func (s Settings) Redacted() Settings {
	out := s.clone()
	for i := range out.Webhooks {
		out.Webhooks[i].Secret = nil
	}
	if out.Email != nil {
		out.Email.Password = ""
	}
	return out
}

func (w WebhookSpec) validate() error {
	if w.ID == "" || len(w.ID) > 64 || strings.ContainsFunc(w.ID, notIDRune) {
		return errors.New("bad id")
	}
	if len(w.Secret) != SecretSize {
		return fmt.Errorf("secret of %d bytes, want %d", len(w.Secret), SecretSize)
	}
	return checkWebhookURL(w.URL, w.InsecureAllowHTTP)
}

func notIDRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

// ErrInsecureURL means a webhook URL is not https:// and InsecureAllowHTTP is not set.
var ErrInsecureURL = errors.New("alerts: webhook URL is not https")

// ErrInsecureInRelease is what a release build answers to settings that use an
// Insecure... switch (a plain-HTTP webhook, a relay without STARTTLS).
var ErrInsecureInRelease = errors.New("alerts: plain HTTP webhooks and SMTP without STARTTLS are refused in release builds")

// checkWebhookURL accepts an absolute https URL (http with allowHTTP) with a host and
// without credentials or a fragment.
//
// TS-0045 5.4.2.1: alerts leave the gateway over TLS only.
func checkWebhookURL(raw string, allowHTTP bool) error {
	if len(raw) > maxURLLen {
		return errors.New("url too long")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("bad url")
	}
	switch {
	case u.Scheme == "http" && !allowHTTP, u.Scheme != "https" && u.Scheme != "http":
		return ErrInsecureURL
	case u.Host == "" || u.Hostname() == "":
		return errors.New("url has no host")
	case u.User != nil:
		return errors.New("url carries credentials")
	case u.Fragment != "" || u.Opaque != "":
		return errors.New("bad url")
	}
	return nil
}

func (e *EmailSpec) validate() error {
	host, port, err := net.SplitHostPort(e.Relay)
	if err != nil || host == "" || len(e.Relay) > 255 {
		return errors.New("relay is not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errors.New("relay port is not a port number")
	}
	if err := checkAddress(e.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if len(e.To) == 0 || len(e.To) > MaxRecipients {
		return fmt.Errorf("%d recipients, want 1 to %d", len(e.To), MaxRecipients)
	}
	for _, to := range e.To {
		if err := checkAddress(to); err != nil {
			return fmt.Errorf("to: %w", err)
		}
	}
	if e.Username == "" && e.Password != "" {
		return errors.New("password without username")
	}
	if hasControl(e.Username) || hasControl(string(e.Password)) || len(e.Username) > 256 || len(e.Password) > 256 {
		return errors.New("bad credentials")
	}
	if e.Link != "" {
		if len(e.Link) > maxURLLen || hasControl(e.Link) {
			return errors.New("bad link")
		}
		if u, err := url.Parse(e.Link); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("link is not an http(s) URL")
		}
	}
	return nil
}

// checkAddress accepts a bare address (no display name): what net/mail parses as
// exactly the input, so nothing can be smuggled into a header or an SMTP command.
func checkAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || hasControl(s) || len(s) > 254 {
		return fmt.Errorf("bad address %q", s)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
