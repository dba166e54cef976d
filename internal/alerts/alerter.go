package alerts

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"hearth/internal/backoff"
	"hearth/internal/events"
)

// Defaults of Config.
const (
	DefaultMaxAlerts = 1000
	DefaultGiveUp    = 24 * time.Hour
	DefaultTimeout   = 30 * time.Second
	defaultBase      = 30 * time.Second
	defaultMax       = time.Hour
	// Bounds on what an alert keeps of its event.
	maxDetail  = 512
	maxArgs    = 8
	maxArgLen  = 128
	batchLimit = 16
)

// Config configures an Alerter. Path is required.
type Config struct {
	// Path is the queue database file, e.g. <data>/alerts.db.
	Path string
	// Settings are the owner's rules and channels; change them later with SetSettings.
	// The zero value alerts on nothing: pass DefaultSettings() for the defaults.
	Settings Settings
	// Device, when set, is sent as "device" in webhook bodies (e.g. the model and the
	// owner's name for the gateway); nil leaves it out.
	Device *Device
	// Forward delivers an alert's event to the vendor cloud (normally by queueing it on
	// the outbox). Nil disables the vendor channel.
	Forward func(ctx context.Context, e events.Event) error
	// Consent reports whether the owner consents to forwarding alerts to the vendor. It
	// is asked when an alert is raised and again before each attempt; nil means never.
	Consent func() bool
	// Roots are the trust anchors for webhook receivers and SMTP relays; nil means the
	// host's system pool (these are the owner's servers, not the vendor's).
	Roots *x509.CertPool
	// MaxAlerts bounds the stored alerts; the oldest are dropped, delivered or not. Zero
	// means DefaultMaxAlerts.
	MaxAlerts int
	// GiveUp is how long a delivery is retried before it is marked failed; zero means
	// DefaultGiveUp (24 hours).
	GiveUp time.Duration
	// Timeout bounds one delivery attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Policy spaces retries of one delivery; its zero value here means 30 seconds
	// growing to one hour, with full jitter.
	Policy backoff.Policy
	// Now stamps alerts and attempts; nil means time.Now.
	Now func() time.Time
	// After waits between attempts; nil means time.After. Tests pass a fake clock.
	After func(time.Duration) <-chan time.Time
	// Rand is the source of Message-IDs; nil means crypto/rand.
	Rand io.Reader
	// Log receives delivery failures and drops; nil discards.
	Log *slog.Logger
}

// Device describes the gateway in webhook bodies.
type Device struct {
	Model string `json:"model,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("alerts: no database path")
	case c.MaxAlerts < 0, c.GiveUp < 0, c.Timeout < 0:
		return errors.New("alerts: negative bound")
	}
	return c.Settings.Validate()
}

func (c *Config) defaults() {
	if c.MaxAlerts == 0 {
		c.MaxAlerts = DefaultMaxAlerts
	}
	if c.GiveUp == 0 {
		c.GiveUp = DefaultGiveUp
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Policy.Base == 0 && c.Policy.Max == 0 {
		c.Policy.Base, c.Policy.Max = defaultBase, defaultMax
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Roots == nil {
		if pool, err := x509.SystemCertPool(); err == nil {
			c.Roots = pool
		} else {
			c.Roots = x509.NewCertPool() // trusts nothing: deliveries fail and say why
		}
	}
}

// Alerter raises and delivers alerts. Close it when Run has returned.
type Alerter struct {
	cfg  Config
	db   *db
	http *http.Client
	wake chan struct{}

	mu       sync.RWMutex // guards settings
	settings Settings
}

var _ events.Publisher = (*Alerter)(nil)

// New opens (creating if needed) the queue database at cfg.Path.
func New(cfg Config) (*Alerter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	client, err := newHTTPClient(cfg.Roots, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	d, err := openDB(context.Background(), cfg.Path)
	if err != nil {
		return nil, err
	}
	return &Alerter{cfg: cfg, db: d, http: client, wake: make(chan struct{}, 1), settings: cfg.Settings.clone()}, nil
}

// Close closes the database.
func (a *Alerter) Close() error {
	a.http.CloseIdleConnections()
	return a.db.close()
}

// Settings returns a copy of the current settings (with secrets: use Redacted for
// display).
func (a *Alerter) Settings() Settings {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.settings.clone()
}

// SetSettings validates and applies new settings. Alerts already raised keep their
// deliveries; a delivery to a webhook or e-mail channel that is no longer configured
// fails at its next attempt.
func (a *Alerter) SetSettings(s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	a.mu.Lock()
	a.settings = s.clone()
	a.mu.Unlock()
	a.Wake()
	return nil
}

// Reset deletes every alert with its deliveries and returns to the default settings:
// part of deleting all user data (the alerts name events of the users; the settings
// hold their addresses and secrets).
func (a *Alerter) Reset(ctx context.Context) error {
	a.mu.Lock()
	a.settings = DefaultSettings()
	a.mu.Unlock()
	return a.db.purge(ctx)
}

// Wake makes Run look at the queue now, e.g. after the owner gave consent.
func (a *Alerter) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Publish raises an alert for e if the rules say so. It only writes to disk, never
// waits for a network, and logs its own errors. Pass a minimised event: its User and
// Remote fields are dropped, its Detail and Args truncated.
//
// TS-0045 5.8.1.1: a detected integrity violation or refused firmware raises an alert.
func (a *Alerter) Publish(ctx context.Context, e events.Event) {
	if _, err := a.Raise(ctx, e); err != nil {
		a.cfg.Log.Error("alert not stored", "kind", string(e.Kind), "err", err)
	}
}

// Raise is Publish returning the new alert's id (0 when no rule matches) or the error.
func (a *Alerter) Raise(ctx context.Context, e events.Event) (int64, error) {
	s := a.Settings()
	ui, targets := a.targets(s, match(s.Rules, e.Kind))
	if !ui && len(targets) == 0 {
		return 0, nil
	}
	e = minimise(e)
	now := a.cfg.Now().UTC()
	if e.Time.IsZero() {
		e.Time = now
	}
	// The alert is stored even when the caller's request ends meanwhile.
	ctx = context.WithoutCancel(ctx)
	id, dropped, err := a.db.insert(ctx, e, now, ui, targets, a.cfg.MaxAlerts)
	if err != nil {
		return 0, err
	}
	if dropped > 0 {
		a.cfg.Log.Warn("alert queue full, oldest alerts dropped", "dropped", dropped)
	}
	a.Wake()
	return id, nil
}

// targets lists the deliveries for the channels; ui reports whether the UI is one.
func (a *Alerter) targets(s Settings, chans []Channel) (ui bool, out []target) {
	for _, c := range chans {
		switch c {
		case UI:
			ui = true
			out = append(out, target{channel: UI, state: Delivered})
		case Webhook:
			for _, w := range s.Webhooks {
				out = append(out, target{channel: Webhook, id: w.ID, state: Pending})
			}
		case Email:
			if s.Email != nil {
				out = append(out, target{channel: Email, state: Pending})
			}
		case Vendor:
			// TS-0045 5.7.1.9: nothing is forwarded to the vendor without consent.
			if a.cfg.Forward != nil && a.consent() {
				out = append(out, target{channel: Vendor, state: Pending})
			}
		}
	}
	return ui, out
}

func (a *Alerter) consent() bool { return a.cfg.Consent != nil && a.cfg.Consent() }

// minimise keeps only what an alert needs of an event.
func minimise(e events.Event) events.Event {
	e.User, e.Remote = "", ""
	e.Detail = truncate(e.Detail, maxDetail)
	if len(e.Args) > maxArgs {
		e.Args = e.Args[:maxArgs]
	}
	args := make([]string, len(e.Args))
	for i, s := range e.Args {
		args[i] = truncate(s, maxArgLen)
	}
	if len(args) == 0 {
		args = nil
	}
	e.Args = args
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n]
}

// List returns the newest alerts, at most limit (0 means 100), with their deliveries.
func (a *Alerter) List(ctx context.Context, limit int) ([]Alert, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, a.cfg.MaxAlerts)
	return a.db.list(ctx, limit)
}

// Unread counts the UI alerts the owner has not marked read, for the banner.
func (a *Alerter) Unread(ctx context.Context) (int, error) { return a.db.unread(ctx) }

// MarkRead marks one alert read; ErrNotFound if there is none with that id.
func (a *Alerter) MarkRead(ctx context.Context, id int64) error {
	if id <= 0 {
		return ErrNotFound
	}
	return a.db.markRead(ctx, id)
}

// MarkAllRead marks every alert read.
func (a *Alerter) MarkAllRead(ctx context.Context) error { return a.db.markRead(ctx, 0) }

// errorText is what a delivery record keeps of an error.
func errorText(err error) string { return truncate(fmt.Sprint(err), 256) }
