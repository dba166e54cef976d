package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hearth/internal/alerts"
	"hearth/internal/auth"
	"hearth/internal/events"
)

// alertRoutes are the alert list (owners: whoever may read security events) and the
// alert settings (owners, with a recent password for every change).
func (s *Server) alertRoutes() []route {
	return []route{
		{"GET /alerts", auth.PermViewEvents, stageReady, s.alertsPage, ""},
		{"POST /alerts/read", auth.PermViewEvents, stageReady, s.alertsRead, "/alerts"},
		{"GET /alerts/settings", auth.PermChangeSettings, stageReady, s.alertSettingsPage, ""},
		{"POST /alerts/rules", auth.PermChangeSettings, stageReady, s.alertRulesSubmit, "/alerts/settings"},
		{"POST /alerts/webhooks/add", auth.PermChangeSettings, stageReady, s.webhookAdd, "/alerts/settings"},
		{"POST /alerts/webhooks/remove", auth.PermChangeSettings, stageReady, s.webhookRemove, "/alerts/settings"},
		{"POST /alerts/email", auth.PermChangeSettings, stageReady, s.emailSubmit, "/alerts/settings"},
	}
}

// alertListLimit bounds the alerts the list shows.
const alertListLimit = 100

// bannerScan bounds the alerts read to grade the banner: the newest unread ones decide
// its colour.
const bannerScan = 20

// alertBanner is the notice of unread alerts at the top of every page.
type alertBanner struct {
	Text     string
	Severity events.Severity
}

// alertBanner announces unread alerts to users who may see them. It costs one count
// query per page, and one bounded read to grade the banner only while alerts are unread.
// A failing query hides the banner rather than the page.
//
// TS-0045 5.8.1.1: the owner is told of security alerts on every page until they have
// read them.
func (s *Server) alertBanner(r *http.Request, p *auth.Principal, v *view) *alertBanner {
	if s.cfg.Alerts == nil || p == nil || !p.Can(auth.PermViewEvents) {
		return nil
	}
	n, err := s.cfg.Alerts.Unread(r.Context())
	if err != nil || n == 0 {
		if err != nil {
			s.cfg.Log.Error("count unread alerts", "err", err)
		}
		return nil
	}
	b := &alertBanner{Text: v.T("alerts.banner", n), Severity: events.Warning}
	list, err := s.cfg.Alerts.List(r.Context(), bannerScan)
	if err != nil {
		return b
	}
	for _, a := range list {
		if a.UI && !a.Read && a.Severity == events.Critical {
			b.Severity = events.Critical
			break
		}
	}
	return b
}

type alertRow struct {
	ID       int64
	Time     string
	Kind     string
	Severity events.Severity
	SevKey   string
	Summary  string
	Read     bool
	// Deliveries say per channel and target how the alert travelled.
	Deliveries []deliveryRow
}

type deliveryRow struct {
	Channel string
	State   string
	Failed  bool
	// Detail is the receiver's or relay's answer, shortened; html/template escapes it.
	Detail string
}

type alertsData struct {
	Alerts []alertRow
	Unread int
	// CanConfigure shows the link to the alert settings.
	CanConfigure bool
}

// alertsPage lists the alerts, newest first, with the state of each delivery.
//
// TS-0045 5.8.1.1: the owner sees every alert and whether each channel delivered it.
func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	list, err := s.cfg.Alerts.List(r.Context(), alertListLimit)
	if err != nil {
		return err
	}
	hooks := map[string]string{}
	for _, h := range s.cfg.Alerts.Settings().Redacted().Webhooks {
		hooks[h.ID] = h.URL
	}
	d := alertsData{CanConfigure: c.p.Can(auth.PermChangeSettings)}
	for _, a := range list {
		row := alertRow{ID: a.ID, Time: c.v.p.DateTime(a.Time), Kind: kindText(c.v, a.Kind), Severity: a.Severity,
			SevKey: severityKey(c.v, a.Severity), Read: a.Read || !a.UI}
		if c.v.Lang == "en" {
			// The stored summary is the English one sent by e-mail and webhook; other
			// languages show the kind in words only.
			row.Summary = shorten(a.Summary, 300)
		}
		if !row.Read {
			d.Unread++
		}
		for _, dl := range a.Deliveries {
			row.Deliveries = append(row.Deliveries, deliveryView(c.v, dl, hooks))
		}
		d.Alerts = append(d.Alerts, row)
	}
	c.v.Page = d
	s.render(w, http.StatusOK, "alerts", c.v)
	return nil
}

// kindText names an event kind in words, or shows its code when the catalogue has none.
func kindText(v *view, k events.Kind) string {
	if key := "event." + string(k); v.has(key) {
		return v.T(key)
	}
	return string(k)
}

func severityKey(v *view, sev events.Severity) string {
	if key := "alerts.severity." + string(sev); v.has(key) {
		return key
	}
	return "alerts.severity.warning"
}

// deliveryView describes one delivery in words: delivered at T, waiting, retrying (N
// attempts, next at T) or failed with the reason in general terms.
func deliveryView(v *view, dl alerts.Delivery, hooks map[string]string) deliveryRow {
	row := deliveryRow{Channel: channelName(v, dl.Channel)}
	if dl.Channel == alerts.Webhook {
		target := dl.Target
		if u, err := url.Parse(hooks[dl.Target]); err == nil && u.Host != "" {
			target = u.Host
		}
		row.Channel = v.T("alerts.channel.webhook_to", shorten(target, 80))
	}
	switch {
	case dl.State == alerts.Delivered:
		row.State = v.T("alerts.delivery.delivered", v.p.DateTime(dl.Done))
	case dl.State == alerts.Failed:
		row.Failed = true
		row.State = v.T("alerts.delivery.failed", v.p.DateTime(dl.Done), v.T(failureKey(dl.LastError)))
		row.Detail = shorten(dl.LastError, 160)
	case dl.Attempts == 0:
		row.State = v.T("alerts.delivery.waiting")
	default:
		row.State = v.T("alerts.delivery.retrying", dl.Attempts, v.p.DateTime(dl.NextAttempt))
		row.Detail = shorten(dl.LastError, 160)
	}
	return row
}

func channelName(v *view, ch alerts.Channel) string {
	if key := "alerts.channel." + string(ch); v.has(key) {
		return v.T(key)
	}
	return string(ch)
}

// failureKey sorts a delivery error into a reason the owner can act on. The error text
// comes from the receiver's side of the network, so it only ever picks a message.
func failureKey(errText string) string {
	e := strings.ToLower(errText)
	switch {
	case strings.Contains(e, "consent"):
		return "alerts.reason.consent"
	case strings.Contains(e, "no longer configured"):
		return "alerts.reason.removed"
	case strings.Contains(e, "starttls"), strings.Contains(e, "tls"), strings.Contains(e, "x509"), strings.Contains(e, "certificate"):
		return "alerts.reason.tls"
	case strings.Contains(e, "timeout"), strings.Contains(e, "deadline"):
		return "alerts.reason.timeout"
	case strings.Contains(e, "answered"):
		return "alerts.reason.refused"
	case strings.Contains(e, "smtp"):
		return "alerts.reason.relay"
	case strings.Contains(e, "dial"), strings.Contains(e, "connect"), strings.Contains(e, "no such host"), strings.Contains(e, "lookup"):
		return "alerts.reason.unreachable"
	}
	return "alerts.reason.other"
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// alertsRead marks one alert read (id given) or all of them.
func (s *Server) alertsRead(w http.ResponseWriter, r *http.Request, c *call) error {
	raw := r.PostFormValue("id")
	if raw == "" {
		if err := s.cfg.Alerts.MarkAllRead(r.Context()); err != nil {
			return err
		}
		redirect(w, r, "/alerts", "alerts_read")
		return nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		s.errorPage(w, c, http.StatusBadRequest, "error.bad_request.title", "error.bad_request.text")
		return nil
	}
	if err := s.cfg.Alerts.MarkRead(r.Context(), id); errors.Is(err, alerts.ErrNotFound) {
		return s.notFound(w, r, c)
	} else if err != nil {
		return err
	}
	redirect(w, r, "/alerts", "")
	return nil
}
