// Package web is the gateway's web UI: server-rendered pages (html/template, embedded
// assets, no inline script, no build step) served by hearthd over the same HTTPS listener
// and under the same rules as the REST API: the same sessions, roles, lockout and
// cross-origin protection, plus a per-session token in every form.
//
// Every page works without JavaScript; app.js only adds the password strength meter.
// Every user-facing string comes from the message catalogue of internal/i18n, in
// Traditional Chinese and English.
//
// Adding a page: write templates/NAME.html (defining "title" and "content"), add its
// messages to internal/i18n/messages.go, and add a route to routes() (and a nav entry
// if it belongs in the menu).
//
// TS-0045 5.1.1.1 (first-run password change), 5.2.1.4 (secure settings with the
// recommendation highlighted), 5.3.1.13 and 5.3.1.16 (support period, model and name on
// the dashboard), 5.2.2.2 (the sign-in page reveals nothing about the device), 5.7.1.x
// (the privacy page: the data inventory, consents, "delete my data" and its status),
// 5.8.1.1 (security alerts: a banner on every page while alerts are unread, the list with
// each channel's delivery state, and the owner's rules, webhooks and e-mail relay).
//
// One page is public: /erasure/{token}, the status of a deletion of all user data. The
// requester's account is deleted with the rest, so the page is opened by an unguessable
// token (128 bits, stored hashed) instead of a session; it shows only the progress.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/i18n"
	"hearth/internal/privacy"
	"hearth/internal/sensors"
	"hearth/internal/settings"
	"hearth/internal/update"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Device is what the gateway says about itself once a user has signed in.
type Device struct {
	Vendor          string `json:"vendor"`
	Model           string `json:"model"`
	Name            string `json:"name"`
	Serial          string `json:"serial"`
	FirmwareVersion string `json:"firmware_version"`
	SupportEnd      string `json:"support_end"`
	FIPSMode        bool   `json:"fips_mode"`
	CryptoModule    string `json:"crypto_module"`
}

// Updates is what the UI needs of the update scheduler.
type Updates interface {
	Status() update.Status
	CheckNow(ctx context.Context) update.Status
	InstallNow(ctx context.Context) error
	InstallBundle(ctx context.Context, r io.Reader) error
}

// Config wires the UI to the domain services.
type Config struct {
	Auth     *auth.Service
	Settings *settings.Service
	Events   events.Log
	// Updates is nil when the gateway cannot update itself (no A/B slots).
	Updates Updates
	// Sensors is nil when the gateway runs without its sensor broker.
	Sensors *sensors.Service
	// Consents and Eraser are the owner's privacy choices and the deletion of user data
	// (both required).
	Consents *privacy.ConsentService
	Eraser   *privacy.Eraser
	// Alerts, when set, adds the alert list, the banner of unread alerts and the alert
	// settings; nil hides them (the gateway has no alert channels).
	Alerts *Alerts
	Device Device
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: discard
}

// Alerts is what the UI needs of the alert channels: the alerter itself and Save, which
// validates, seals and applies new settings (and refuses weakened channels in release
// builds). The API passes the same value it serves.
type Alerts struct {
	*alerts.Alerter
	Save func(alerts.Settings) error
}

// Server serves the UI.
type Server struct {
	cfg   Config
	cat   *i18n.Catalog
	pages map[string]*template.Template
}

// New parses the templates and the catalogue.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil || cfg.Settings == nil || cfg.Events == nil || cfg.Consents == nil || cfg.Eraser == nil {
		return nil, errors.New("web: auth, settings, events, consents and eraser are required")
	}
	if cfg.Alerts != nil && (cfg.Alerts.Alerter == nil || cfg.Alerts.Save == nil) {
		return nil, errors.New("web: alerts need the alerter and save")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cat, err := i18n.New()
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, cat: cat, pages: pages}, nil
}

// partials are templates included by pages, not pages themselves.
var partials = []string{"templates/steps.html", "templates/password_fields.html", "templates/settings_fields.html",
	"templates/consent_fields.html", "templates/erasure_status.html", "templates/erase_lists.html"}

// parseTemplates builds one template set per page: layout, partials and the page.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := n[len("templates/") : len(n)-len(".html")]
		if base == "layout" || isPartial(n) {
			continue
		}
		files := append([]string{"templates/layout.html", n}, partials...)
		t, err := template.New(base).ParseFS(templateFS, files...)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

func isPartial(name string) bool {
	for _, p := range partials {
		if p == name {
			return true
		}
	}
	return false
}
