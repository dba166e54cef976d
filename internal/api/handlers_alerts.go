package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"hearth/internal/alerts"
)

// Alerts is what the API needs of the alert channels (the gateway provides it).
type Alerts struct {
	*alerts.Alerter
	// Save validates, seals and applies new settings (the gateway refuses weakened
	// channels in release builds).
	Save func(alerts.Settings) error
}

// withAlerts answers 404 when the gateway has no alert channels.
func (s *Server) withAlerts(h func(http.ResponseWriter, *http.Request, *call) error) func(http.ResponseWriter, *http.Request, *call) error {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		if s.cfg.Alerts == nil {
			return errNotFound
		}
		return h(w, r, c)
	}
}

// listAlerts: GET /alerts, the owner's notifications with their delivery status.
//
// TS-0045 5.8.1.1: the owner sees every alert and whether each channel delivered it.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, _ *call) error {
	list, err := s.cfg.Alerts.List(r.Context(), 100)
	if err != nil {
		return err
	}
	unread, err := s.cfg.Alerts.Unread(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []alerts.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"unread": unread, "alerts": list})
	return nil
}

// readAlerts: POST /alerts/read, {"id": N} or {} for all.
func (s *Server) readAlerts(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		ID int64 `json:"id"`
	}
	if err := decode(c.body, &req); err != nil {
		return err
	}
	var err error
	if req.ID == 0 {
		err = s.cfg.Alerts.MarkAllRead(r.Context())
	} else {
		err = s.cfg.Alerts.MarkRead(r.Context(), req.ID)
	}
	if errors.Is(err, alerts.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getAlertSettings: GET /alerts/settings, without secrets.
func (s *Server) getAlertSettings(w http.ResponseWriter, _ *http.Request, _ *call) error {
	writeJSON(w, http.StatusOK, s.cfg.Alerts.Settings().Redacted())
	return nil
}

// changeAlertSettings: PUT /alerts/settings: rules and e-mail; webhooks are added and
// removed on their own paths, so their secrets never travel back.
func (s *Server) changeAlertSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Rules []alerts.Rule    `json:"rules"`
		Email *json.RawMessage `json:"email"`
	}
	if err := decode(c.body, &req); err != nil {
		return err
	}
	cur := s.cfg.Alerts.Settings()
	if req.Rules != nil {
		cur.Rules = req.Rules
	}
	if req.Email != nil {
		probe, _ := json.Marshal(map[string]any{"rules": cur.Rules, "email": req.Email})
		parsed, err := alerts.ParseSettings(probe)
		if err != nil {
			return badRequest("invalid_request", err.Error(), "/email")
		}
		cur.Email = parsed.Email
	}
	if err := s.save(r.Context(), cur); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.cfg.Alerts.Settings().Redacted())
	return nil
}

// addWebhook: POST /alerts/webhooks {"url": "https://..."}; the answer carries the
// signing secret, shown this once.
func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		URL string `json:"url"`
	}
	if err := decode(c.body, &req); err != nil {
		return err
	}
	hook, err := alerts.NewWebhook(req.URL, nil)
	if err != nil {
		return badRequest("invalid_request", err.Error(), "/url")
	}
	cur := s.cfg.Alerts.Settings()
	cur.Webhooks = append(cur.Webhooks, hook)
	if err := s.save(r.Context(), cur); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": hook.ID, "url": hook.URL, "secret": hook.Secret.Hex(),
		"signature": "Hearth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 keyed with the secret's 32 bytes (hex-decoded) over \"<t>.\" + body>"})
	return nil
}

// removeWebhook: DELETE /alerts/webhooks/{id}.
func (s *Server) removeWebhook(w http.ResponseWriter, r *http.Request, _ *call) error {
	cur := s.cfg.Alerts.Settings()
	n := len(cur.Webhooks)
	cur.Webhooks = slices.DeleteFunc(cur.Webhooks, func(h alerts.WebhookSpec) bool { return h.ID == r.PathValue("id") })
	if len(cur.Webhooks) == n {
		return errNotFound
	}
	if err := s.save(r.Context(), cur); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// save applies new settings: invalid ones, and weakened channels in a release build, are
// the caller's mistake (400); a failure to store them is the gateway's (500).
func (s *Server) save(_ context.Context, set alerts.Settings) error {
	if err := set.Validate(); err != nil {
		return badRequest("invalid_request", err.Error(), "")
	}
	err := s.cfg.Alerts.Save(set)
	if errors.Is(err, alerts.ErrInsecureInRelease) {
		return badRequest("invalid_request", err.Error(), "")
	}
	return err
}
