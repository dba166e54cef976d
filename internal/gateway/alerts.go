package gateway

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/buildinfo"
	"hearth/internal/events"
	"hearth/internal/keystore"
	"hearth/internal/outbox"
	"hearth/internal/privacy"
)

// AlertsFile is the queue of alerts and their deliveries in the data directory.
const AlertsFile = "alerts.db"

// alertSettingsKey is the keystore record holding the owner's alert settings: they
// carry webhook secrets and the SMTP password, so they are sealed.
const alertSettingsKey = "alert-settings"

// openAlerts sets up the alert channels with the owner's settings (the defaults until
// changed): the web UI's notifications, webhooks, e-mail, and, with consent to
// telemetry, the vendor.
//
// TS-0045 5.8.1.1: lockouts, integrity violations and refused updates reach the owner.
func (m *Main) openAlerts() error {
	set := alerts.DefaultSettings()
	raw, err := m.ks.Get(alertSettingsKey)
	switch {
	case errors.Is(err, keystore.ErrNotFound):
	case err != nil:
		return fmt.Errorf("gateway: alert settings: %w", err)
	default:
		if set, err = alerts.ParseSettings(raw); err != nil {
			return fmt.Errorf("gateway: alert settings: %w", err)
		}
	}
	roots, err := m.alertRoots()
	if err != nil {
		return err
	}
	info := m.identity().Info
	a, err := alerts.New(alerts.Config{Path: filepath.Join(m.cfg.DataDir, AlertsFile), Settings: set, Device: &alerts.Device{Model: info.Model, Name: info.Name},
		Forward: m.forwardAlert, Consent: func() bool { return m.consents.Allowed(privacy.PurposeTelemetry) }, Roots: roots, Log: m.log, Now: m.cfg.Now})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m.alerts = a
	m.closers = append(m.closers, a.Close)
	m.events.alerts.Store(a)
	return nil
}

// alertRoots are the CAs alert deliveries trust: the system's, plus the owner's own CA
// (--alert-ca) for a webhook or mail relay at home.
func (m *Main) alertRoots() (*x509.CertPool, error) {
	if m.cfg.AlertCA == "" {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(m.cfg.AlertCA)
	if err != nil {
		return nil, fmt.Errorf("gateway: alert CA: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("gateway: alert CA %s holds no PEM certificate", m.cfg.AlertCA)
	}
	return pool, nil
}

// forwardAlert is the vendor channel: the event, minimised as every copy for the vendor
// is, through the outbox.
func (m *Main) forwardAlert(ctx context.Context, e events.Event) error {
	if m.outbox == nil {
		return errors.New("no vendor services")
	}
	doc, _ := json.Marshal(map[string]string{"kind": string(e.Kind), "severity": string(e.Severity), "time": e.Time.UTC().Truncate(time.Minute).Format(time.RFC3339)})
	return m.outbox.Enqueue(ctx, outbox.KindSecurityEvent, doc)
}

// SetAlertSettings validates, seals and applies the owner's alert settings.
func (m *Main) SetAlertSettings(s alerts.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	insecure := s.Email != nil && s.Email.InsecurePlaintextSMTP
	for _, w := range s.Webhooks {
		insecure = insecure || w.InsecureAllowHTTP
	}
	if insecure && buildinfo.Release() {
		return alerts.ErrInsecureInRelease
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := m.ks.Put(alertSettingsKey, raw); err != nil {
		return err
	}
	return m.alerts.SetSettings(s)
}

// eraseAlerts deletes the alerts and the owner's alert settings.
func (m *Main) eraseAlerts(ctx context.Context) error {
	if err := m.ks.Delete(alertSettingsKey); err != nil {
		return err
	}
	return m.alerts.Reset(ctx)
}
