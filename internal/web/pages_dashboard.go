package web

import (
	"net/http"
	"strings"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/privacy"
	"hearth/internal/settings"
)

type postureRow struct {
	OK      bool
	Text    string
	Clauses string
}

type eventRow struct {
	Time, Text, User, Remote string
	Severity                 events.Severity
}

type dashboardData struct {
	Device            Device
	Support           string
	Posture           []postureRow
	ShowEvents        bool
	Events            []eventRow
	CanChangeSettings bool
}

// dashboard shows the device, its support period in plain words, the security posture
// and, for owners, recent security events.
//
// TS-0045 5.3.1.13: the support period is stated plainly. TS-0045 5.3.1.16: model and
// name are shown on the interface.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	d := dashboardData{Device: s.cfg.Device, Support: s.supportText(c.v), Posture: s.posture(c.v, st),
		CanChangeSettings: c.p.Can(auth.PermChangeSettings), ShowEvents: c.p.Can(auth.PermViewEvents)}
	if d.ShowEvents {
		list, err := s.cfg.Events.Events(r.Context(), events.Query{Limit: 10})
		if err != nil {
			return err
		}
		for _, e := range list {
			d.Events = append(d.Events, eventRow{Time: c.v.p.DateTime(e.Time), Text: eventText(c.v, e), User: e.User, Remote: e.Remote, Severity: e.Severity})
		}
	}
	c.v.Page = d
	s.render(w, http.StatusOK, "dashboard", c.v)
	return nil
}

func (s *Server) supportText(v *view) string {
	end, err := time.Parse(time.DateOnly, s.cfg.Device.SupportEnd)
	if err != nil {
		return v.T("device.support_unknown")
	}
	now := s.cfg.Now()
	if !end.After(now) {
		return v.T("device.support_ended", v.p.Date(end))
	}
	return v.T("device.support_until", v.p.Date(end), v.p.Until(now, end))
}

// posture lists each protection, whether it is as recommended, and the item it serves.
func (s *Server) posture(v *view, st settings.State) []postureRow {
	lock := s.cfg.Auth.Lockout()
	rows := []postureRow{
		{true, v.T("posture.password"), "5.1.1.1, 5.1.2.1"},
		{true, v.T("posture.lockout", lock.MaxFailures, minutes(lock.LockPeriod.Minutes())), "5.1.2.2"},
		{s.cfg.Device.FIPSMode, v.T("posture.tls"), "5.1.2.3, 5.4.2.1"},
		{true, v.T("posture.secrets"), "5.4.1.1, 5.4.1.4"},
		{true, v.T("posture.surface"), "5.2.2.1, 5.2.2.2"},
	}
	for _, d := range settings.Defs {
		val := st.Values[d.Key]
		state := v.T("setting.off")
		if val {
			state = v.T("setting.on")
		}
		rows = append(rows, postureRow{val == d.Recommended, v.T("posture.setting", v.T("setting."+string(d.Key)), state), strings.Join(d.Clauses, ", ")})
	}
	// TS-0045 5.7.1.9: either choice is fine, so the row states the rule, never a warning.
	given := 0
	for _, c := range s.cfg.Consents.Current() {
		if c.Granted {
			given++
		}
	}
	rows = append(rows, postureRow{true, v.T("posture.consents", given, len(privacy.Purposes)), "5.7.1.9, 5.7.1.10"})
	end, err := time.Parse(time.DateOnly, s.cfg.Device.SupportEnd)
	rows = append(rows, postureRow{err == nil && end.After(s.cfg.Now()), v.T("posture.support"), "5.3.1.13"})
	return rows
}

// eventText describes an event in the user's language: its kind's message and, when the
// catalogue has one, the detail message filled with the event's arguments. The English
// Detail text is for logs and never shown. Unknown kinds show their code.
func eventText(v *view, e events.Event) string {
	key := "event." + string(e.Kind)
	if !v.has(key) {
		return string(e.Kind)
	}
	text := v.T(key)
	if dk := key + ".detail"; v.has(dk) && len(e.Args) > 0 {
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			if k, ok := strings.CutPrefix(a, "@"); ok && v.has(k) {
				a = v.T(k)
			}
			args[i] = a
		}
		text += " · " + v.T(dk, args...)
	}
	return text
}
