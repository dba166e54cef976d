package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/language"

	"hearth/internal/auth"
	"hearth/internal/i18n"
	"hearth/internal/settings"
)

// view is what every template receives.
type view struct {
	p         i18n.Printer
	Lang      string
	Languages []langChoice
	User      *auth.User
	Nav       []navItem
	CSRF      string
	Path      string
	Flash     string
	Error     string
	// Notice announces an available update on every page.
	Notice string
	// Alert announces unread alerts on every page of users who may see them; nil: none.
	Alert *alertBanner
	// Refresh has the browser reload the page every 5 seconds (a meta element: no
	// script needed, allowed by the CSP).
	Refresh bool
	Page    any
}

// T translates a message key; templates call it as {{$.T "key" args...}}.
func (v *view) T(key string, args ...any) string { return v.p.T(key, args...) }

func (v *view) has(key string) bool { return v.p.Has(key) }

type langChoice struct {
	Code, Label string
	Current     bool
}

type navItem struct {
	Path, Label string
	Current     bool
}

// navEntries is the menu, in order, with the permission each entry needs.
var navEntries = []struct {
	path, label string
	perm        auth.Permission
	// shown, when set, says whether the gateway has the function at all.
	shown func(*Server) bool
}{
	{"/", "nav.dashboard", auth.PermViewDevice, nil},
	{"/account", "nav.account", auth.PermOwnSession, nil},
	{"/users", "nav.users", auth.PermManageUsers, nil},
	{"/settings", "nav.settings", auth.PermViewSettings, nil},
	{"/update", "nav.update", auth.PermViewDevice, nil},
	{"/sensors", "nav.sensors", auth.PermViewSensors, func(s *Server) bool { return s.cfg.Sensors != nil }},
	{"/privacy", "nav.privacy", auth.PermViewDevice, nil},
	{"/alerts", "nav.alerts", auth.PermViewEvents, func(s *Server) bool { return s.cfg.Alerts != nil }},
}

// langCookie remembers an explicit language choice.
const langCookie = "lang"

// language returns the request's language: the cookie, else Accept-Language.
func (s *Server) language(r *http.Request) language.Tag {
	choice := ""
	if c, err := r.Cookie(langCookie); err == nil {
		choice = c.Value
	}
	return i18n.Match(choice, r.Header.Get("Accept-Language"))
}

// newView prepares the common part of a page for principal p (zero when signed out).
func (s *Server) newView(r *http.Request, p *auth.Principal) *view {
	tag := s.language(r)
	v := &view{p: s.cat.Printer(tag), Lang: tag.String(), Path: r.URL.Path}
	for _, l := range i18n.Supported {
		v.Languages = append(v.Languages, langChoice{Code: l.String(), Label: "lang." + l.String(), Current: l == tag})
	}
	if p != nil && p.User.Username != "" {
		u := p.User
		v.User = &u
		v.CSRF = csrfToken(p.Session)
		if !u.MustChange {
			for _, n := range navEntries {
				if p.Can(n.perm) && (n.shown == nil || n.shown(s)) {
					current := n.path == r.URL.Path || n.path != "/" && strings.HasPrefix(r.URL.Path, n.path+"/")
					v.Nav = append(v.Nav, navItem{Path: n.path, Label: n.label, Current: current})
				}
			}
		}
	}
	if v.User != nil && !v.User.MustChange {
		v.Notice = s.updateNotice(r, v)
		v.Alert = s.alertBanner(r, p, v)
	}
	if m := r.URL.Query().Get("m"); flashes[m] {
		v.Flash = v.T("flash." + m)
	}
	return v
}

// flashes are the confirmation messages a redirect may ask for (?m=...); anything
// else in the query is ignored, so the parameter cannot inject text.
var flashes = map[string]bool{
	"saved": true, "password_changed": true, "signed_out": true, "signed_out_all": true,
	"unlocked": true, "removed": true, "session_revoked": true, "reauthed": true, "update_installing": true,
	"sensor_quarantined": true, "sensor_released": true, "sensor_removed": true, "consents_saved": true,
	"alerts_read": true, "alert_rules_saved": true, "alert_email_saved": true, "alert_email_removed": true, "webhook_removed": true,
}

// updateNotice is the banner announcing an available update, unless notifications are
// off or postponed.
//
// TS-0045 5.3.1.11: updates are announced in a clearly visible way.
func (s *Server) updateNotice(r *http.Request, v *view) string {
	if s.cfg.Updates == nil {
		return ""
	}
	a := s.cfg.Updates.Status().Available
	if a == nil {
		return ""
	}
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil || !st.Values[settings.UpdateNotifications] || st.NotificationsDeferred(s.cfg.Now()) {
		return ""
	}
	return v.T("update.banner", a.Version, a.Fixes)
}

// csrfToken binds forms to the session: HMAC of a constant under the session's stored
// id, which only the holder of the session cookie can know.
func csrfToken(sess auth.Session) string {
	m := hmac.New(sha256.New, []byte(sess.ID))
	m.Write([]byte("hearth-form-token"))
	return hex.EncodeToString(m.Sum(nil))
}

func validCSRF(sess auth.Session, got string) bool {
	return hmac.Equal([]byte(csrfToken(sess)), []byte(got))
}

// render executes a page into a buffer first, so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, status int, page string, v *view) {
	t, ok := s.pages[page]
	if !ok {
		s.cfg.Log.Error("unknown page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.cfg.Log.Error("render page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// redirect sends a 303 to a local path, optionally with a flash message key.
func redirect(w http.ResponseWriter, r *http.Request, path, flash string) {
	if flash != "" {
		path += "?m=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// localPath accepts only same-site absolute paths (no scheme, host or "//"), so a
// "next" parameter cannot send the user elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	for _, r := range u.Path {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	return u.Path
}
