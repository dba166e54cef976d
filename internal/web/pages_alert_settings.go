package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"hearth/internal/alerts"
	"hearth/internal/auth"
	"hearth/internal/events"
)

// alertKinds are the event kinds the rules table offers, in display order. Rules set
// through the API for other kinds are kept when the table is saved.
var alertKinds = []events.Kind{
	events.AccountLocked, events.LoginFailed, events.IntegrityViolation, events.UpdateFailed, events.UpdateRolledBack,
	events.FirmwareRejected, events.IdentityMismatch, events.KeystoreUnreadable, events.CertificateRenewalFailing,
	events.SensorPlaintextRefused, events.GatewayCrashed,
}

type ruleCell struct {
	Value       string // "<kind>/<channel>", the checkbox's value
	Label       string
	Checked     bool
	Recommended bool
	// Channel is the column's name, shown before the box where the table is laid out as
	// cards (phones).
	Channel string
}

type ruleRow struct {
	Name  string
	Cells []ruleCell
}

type webhookRow struct{ ID, URL string }

// emailForm is the e-mail section's fields; the password is never sent back.
type emailForm struct {
	Relay, From, To, Username, Link string
	Configured, HasPassword         bool
	Plaintext                       bool
}

type alertSettingsData struct {
	Channels []string // message keys, the table's columns
	Rules    []ruleRow
	Webhooks []webhookRow
	// CanAddWebhook is false once alerts.MaxWebhooks are configured.
	CanAddWebhook bool
	WebhookURL    string
	WebhookError  string
	Email         emailForm
	// EmailError says what to fix; EmailField names the field ("" for the whole form).
	EmailError string
	EmailField string
	RulesError string
}

// alertSettingsData fills the page from the current settings, without secrets.
func (s *Server) alertSettingsData(v *view) alertSettingsData {
	cur := s.cfg.Alerts.Settings().Redacted()
	d := alertSettingsData{CanAddWebhook: len(cur.Webhooks) < alerts.MaxWebhooks}
	for _, ch := range alerts.Channels {
		d.Channels = append(d.Channels, "alerts.channel."+string(ch))
	}
	defaults := alerts.DefaultRules()
	for _, k := range alertKinds {
		row := ruleRow{Name: kindText(v, k)}
		on, rec := ruleChannels(cur.Rules, k), ruleChannels(defaults, k)
		for _, ch := range alerts.Channels {
			row.Cells = append(row.Cells, ruleCell{Value: string(k) + "/" + string(ch), Label: v.T("alerts.rules.cell", row.Name, channelName(v, ch)),
				Checked: slices.Contains(on, ch), Recommended: slices.Contains(rec, ch), Channel: channelName(v, ch)})
		}
		d.Rules = append(d.Rules, row)
	}
	for _, h := range cur.Webhooks {
		d.Webhooks = append(d.Webhooks, webhookRow{ID: h.ID, URL: h.URL})
	}
	if e := cur.Email; e != nil {
		d.Email = emailForm{Relay: e.Relay, From: e.From, To: strings.Join(e.To, ", "), Username: e.Username, Link: e.Link,
			Configured: true, HasPassword: s.cfg.Alerts.Settings().Email.Password != "", Plaintext: e.InsecurePlaintextSMTP}
	}
	return d
}

// ruleChannels returns the channels rules send kind k through, in the order of
// alerts.Channels.
func ruleChannels(rules []alerts.Rule, k events.Kind) []alerts.Channel {
	var out []alerts.Channel
	for _, ch := range alerts.Channels {
		for _, r := range rules {
			if slices.Contains(r.Kinds, k) && slices.Contains(r.Channels, ch) {
				out = append(out, ch)
				break
			}
		}
	}
	return out
}

// alertSettingsPage shows the rules, the webhooks and the e-mail relay (owners).
func (s *Server) alertSettingsPage(w http.ResponseWriter, _ *http.Request, c *call) error {
	s.renderAlertSettings(w, c, http.StatusOK, s.alertSettingsData(c.v))
	return nil
}

func (s *Server) renderAlertSettings(w http.ResponseWriter, c *call, status int, d alertSettingsData) {
	c.v.Page = d
	s.render(w, status, "alert_settings", c.v)
}

// alertRulesSubmit saves the rules table (owner, recent password).
//
// TS-0045 5.4.2.5: changing who is alerted, and how, needs authentication.
func (s *Server) alertRulesSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermChangeSettings); err != nil {
		return err
	}
	chosen := map[events.Kind][]alerts.Channel{}
	for _, val := range r.PostForm["rule"] {
		kind, ch, ok := strings.Cut(val, "/")
		k, channel := events.Kind(kind), alerts.Channel(ch)
		if !ok || !slices.Contains(alertKinds, k) || !slices.Contains(alerts.Channels, channel) {
			s.errorPage(w, c, http.StatusBadRequest, "error.bad_request.title", "error.bad_request.text")
			return nil
		}
		if !slices.Contains(chosen[k], channel) {
			chosen[k] = append(chosen[k], channel)
		}
	}
	cur := s.cfg.Alerts.Settings()
	cur.Rules = mergeRules(cur.Rules, chosen)
	if err := s.cfg.Alerts.Save(cur); err != nil {
		s.cfg.Log.Warn("alert rules refused", "err", err)
		d := s.alertSettingsData(c.v)
		d.RulesError = c.v.T("alerts.error.save")
		s.renderAlertSettings(w, c, http.StatusBadRequest, d)
		return nil
	}
	redirect(w, r, "/alerts/settings", "alert_rules_saved")
	return nil
}

// mergeRules replaces the channels of the table's kinds with chosen and keeps those of
// other kinds, then writes one rule per distinct set of channels.
func mergeRules(cur []alerts.Rule, chosen map[events.Kind][]alerts.Channel) []alerts.Rule {
	kinds := slices.Clone(alertKinds)
	for _, r := range cur {
		for _, k := range r.Kinds {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	var out []alerts.Rule
	index := map[string]int{}
	for _, k := range kinds {
		var chans []alerts.Channel
		if slices.Contains(alertKinds, k) {
			for _, ch := range alerts.Channels { // a stable order
				if slices.Contains(chosen[k], ch) {
					chans = append(chans, ch)
				}
			}
		} else {
			chans = ruleChannels(cur, k)
		}
		if len(chans) == 0 {
			continue
		}
		key := ""
		for _, ch := range chans {
			key += string(ch) + ","
		}
		if i, ok := index[key]; ok {
			out[i].Kinds = append(out[i].Kinds, k)
			continue
		}
		index[key] = len(out)
		out = append(out, alerts.Rule{Kinds: []events.Kind{k}, Channels: chans})
	}
	return out
}

// webhookCreated is the page showing a new webhook's secret, once.
type webhookCreated struct {
	ID, URL, Secret string
}

// webhookAdd creates a webhook with a fresh secret and shows the secret once (owner,
// recent password). The answer is a page, not a redirect, so the secret is never in a
// URL or the browser's history.
//
// TS-0045 5.4.2.1: webhooks are https only; each signs its requests with its own secret.
func (s *Server) webhookAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermChangeSettings); err != nil {
		return err
	}
	raw := strings.TrimSpace(r.PostFormValue("url"))
	cur := s.cfg.Alerts.Settings()
	fail := func(key string) error {
		d := s.alertSettingsData(c.v)
		d.WebhookURL, d.WebhookError = shorten(raw, 2048), c.v.T(key)
		s.renderAlertSettings(w, c, http.StatusBadRequest, d)
		return nil
	}
	if len(cur.Webhooks) >= alerts.MaxWebhooks {
		return fail("alerts.error.webhook_limit")
	}
	hook, err := alerts.NewWebhook(raw, nil)
	switch {
	case errors.Is(err, alerts.ErrInsecureURL):
		return fail("alerts.error.webhook_https")
	case err != nil:
		return fail("alerts.error.webhook_url")
	}
	cur.Webhooks = append(cur.Webhooks, hook)
	if err := s.cfg.Alerts.Save(cur); err != nil {
		s.cfg.Log.Warn("webhook refused", "err", err)
		return fail("alerts.error.save")
	}
	w.Header().Set("Cache-Control", "no-store")
	c.v.Page = webhookCreated{ID: hook.ID, URL: hook.URL, Secret: hook.Secret.Hex()}
	s.render(w, http.StatusOK, "alert_webhook", c.v)
	return nil
}

// webhookRemove deletes a webhook (owner, recent password).
func (s *Server) webhookRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermChangeSettings); err != nil {
		return err
	}
	cur := s.cfg.Alerts.Settings()
	n := len(cur.Webhooks)
	id := r.PostFormValue("id")
	cur.Webhooks = slices.DeleteFunc(cur.Webhooks, func(h alerts.WebhookSpec) bool { return h.ID == id })
	if len(cur.Webhooks) == n {
		return s.notFound(w, r, c)
	}
	if err := s.cfg.Alerts.Save(cur); err != nil {
		return err
	}
	redirect(w, r, "/alerts/settings", "webhook_removed")
	return nil
}

// emailSubmit saves or removes the e-mail relay (owner, recent password). An empty
// password keeps the current one; a refused field is named in the form, in the
// viewer's language.
func (s *Server) emailSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermChangeSettings); err != nil {
		return err
	}
	cur := s.cfg.Alerts.Settings()
	if r.PostFormValue("remove") == "yes" {
		cur.Email = nil
		if err := s.cfg.Alerts.Save(cur); err != nil {
			return err
		}
		redirect(w, r, "/alerts/settings", "alert_email_removed")
		return nil
	}
	spec := formEmail(r, cur.Email)
	cur.Email = spec
	err := cur.Validate()
	if err == nil {
		if err = s.cfg.Alerts.Save(cur); err != nil {
			s.cfg.Log.Warn("e-mail settings refused", "err", err)
		}
	}
	if err != nil {
		d := s.alertSettingsData(c.v)
		d.Email = emailForm{Relay: spec.Relay, From: spec.From, To: strings.Join(spec.To, ", "), Username: spec.Username, Link: spec.Link,
			Configured: d.Email.Configured, HasPassword: d.Email.HasPassword, Plaintext: spec.InsecurePlaintextSMTP}
		d.EmailField = emailField(err)
		if d.EmailField == "" {
			d.EmailError = c.v.T("alerts.error.email")
		} else {
			d.EmailError = c.v.T("alerts.error.email_field", c.v.T("alerts.email."+d.EmailField))
		}
		s.renderAlertSettings(w, c, http.StatusBadRequest, d)
		return nil
	}
	redirect(w, r, "/alerts/settings", "alert_email_saved")
	return nil
}

// formEmail reads the e-mail form. The recipients are comma separated; an empty
// password keeps the current one. The test-only plaintext switch is kept as it was: the
// form cannot set it.
func formEmail(r *http.Request, cur *alerts.EmailSpec) *alerts.EmailSpec {
	spec := &alerts.EmailSpec{Relay: strings.TrimSpace(r.PostFormValue("relay")), From: strings.TrimSpace(r.PostFormValue("from")),
		Username: r.PostFormValue("username"), Password: alerts.Password(r.PostFormValue("password")), Link: strings.TrimSpace(r.PostFormValue("link"))}
	for _, to := range strings.Split(r.PostFormValue("to"), ",") {
		if to = strings.TrimSpace(to); to != "" {
			spec.To = append(spec.To, to)
		}
	}
	if cur != nil {
		if spec.Password == "" && spec.Username != "" {
			spec.Password = cur.Password
		}
		spec.InsecurePlaintextSMTP = cur.InsecurePlaintextSMTP
	}
	return spec
}

// emailField names the form field a validation error of alerts.EmailSpec is about, or
// "" when it is not about one field.
func emailField(err error) string {
	_, msg, ok := strings.Cut(err.Error(), "alerts: email: ")
	switch {
	case !ok:
		return ""
	case strings.HasPrefix(msg, "from:"):
		return "from"
	case strings.HasPrefix(msg, "to:"), strings.Contains(msg, " recipients, want "):
		return "to"
	case strings.HasPrefix(msg, "relay"):
		return "relay"
	case strings.Contains(msg, "password"), strings.Contains(msg, "credentials"):
		return "username"
	case strings.Contains(msg, "link"):
		return "link"
	}
	return ""
}
