// Package api is hearthd's HTTP surface: the REST API of openapi.yaml and the web UI of
// internal/web behind one middleware chain that every request passes:
//
//	security headers -> panic guard -> cross-origin (CSRF) check -> routing:
//	  /api/v1/*: authenticate (except POST /session) -> default-password gate ->
//	             role check -> validation against the OpenAPI document -> handler
//
// Unauthenticated callers reach only the login operation; any other path, existing or
// not, answers 401 so nothing is learned about the device before login. Only this
// package maps errors to HTTP status codes; clients get a stable error code and a short
// message, internals go to the log.
//
// TS-0045 5.5.2.1 (every input validated), 5.2.2.2 (nothing disclosed before login),
// 5.4.2.4, 5.4.2.5 (authentication before access and before changing settings).
package api

import (
	"context"
	"errors"
	"hearth/internal/privacy"
	"log/slog"
	"net/http"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/sensors"
	"hearth/internal/settings"
	"hearth/internal/web"
)

// Device is what GET /device reports (and the web UI shows).
type Device = web.Device

// Config wires the API to the domain services.
type Config struct {
	Auth     *auth.Service
	Settings *settings.Service
	Events   events.Log
	// Updates is the update scheduler; nil when updates are unavailable.
	Updates Updates
	// Sensors is the sensor registry; nil when the gateway runs without its broker.
	Sensors *sensors.Service
	// SensorsAddr is the broker's address while its socket is open (told to a sensor
	// when it is paired); nil when unknown.
	SensorsAddr func() string
	// Alerts are the alert channels; nil: no alert endpoints.
	Alerts *Alerts
	// ExportEvents returns the signed, hash-chained event log; nil: not offered.
	ExportEvents func(ctx context.Context) (events.Export, error)
	// Consents and Eraser are the owner's privacy choices and the deletion of user data.
	Consents *privacy.ConsentService
	Eraser   *privacy.Eraser
	Device   Device
	Log      *slog.Logger     // nil: discard
	Now      func() time.Time // nil: time.Now
	// MaxBody bounds request bodies; 0 means 16 KiB.
	MaxBody int64
}

// Updates is what the API and the UI need of the update scheduler.
type Updates = web.Updates

// Server serves the API.
type Server struct {
	cfg  Config
	spec *spec
	ui   *web.Server
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil || cfg.Events == nil || cfg.Settings == nil || cfg.Consents == nil || cfg.Eraser == nil {
		return nil, errors.New("api: auth service, settings, consents, eraser and event log are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 16 << 10
	}
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	var uiAlerts *web.Alerts
	if cfg.Alerts != nil {
		uiAlerts = &web.Alerts{Alerter: cfg.Alerts.Alerter, Save: cfg.Alerts.Save}
	}
	ui, err := web.New(web.Config{Auth: cfg.Auth, Settings: cfg.Settings, Events: cfg.Events, Device: cfg.Device, Now: cfg.Now, Log: cfg.Log, Updates: cfg.Updates, Sensors: cfg.Sensors,
		Consents: cfg.Consents, Eraser: cfg.Eraser, Alerts: uiAlerts})
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, spec: sp, ui: ui}, nil
}

// Handler returns the complete HTTP handler.
func (s *Server) Handler() http.Handler {
	root := http.NewServeMux()
	root.Handle("/api/v1/", s.apiHandler())
	root.Handle("/", s.ui.Handler())
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &apiError{status: http.StatusForbidden, code: "forbidden", msg: "cross-origin request refused"})
	}))
	return s.secureHeaders(s.recoverPanics(csrf.Handler(root)))
}
