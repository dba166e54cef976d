package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"hearth/internal/auth"
)

// stage says where a page sits in the first-run flow.
type stage int

const (
	// stageReady pages need the password changed and (for owners) setup completed.
	stageReady stage = iota
	// stagePassword pages are reachable while the default password is in use.
	stagePassword
	// stageSetup pages are reachable once the password is changed, before setup is done.
	stageSetup
)

// route is one page or form action.
type route struct {
	pattern string
	// perm is the permission needed; "" marks a public page.
	perm   auth.Permission
	stage  stage
	handle func(w http.ResponseWriter, r *http.Request, c *call) error
	// page is where a form action's user returns after confirming their password;
	// empty means the request's own path (pages).
	page string
}

// call is a request with its resolved caller and prepared view.
type call struct {
	p   auth.Principal
	v   *view
	src netip.Addr
}

// routes lists every page and action of the UI.
func (s *Server) routes() []route {
	rts := []route{
		{"GET /login", "", stagePassword, s.loginPage, ""},
		{"POST /login", "", stagePassword, s.loginSubmit, ""},
		{"POST /lang", "", stagePassword, s.setLanguage, ""},
		{"POST /logout", auth.PermOwnSession, stagePassword, s.logout, ""},
		{"GET /setup/password", auth.PermChangePassword, stagePassword, s.setupPasswordPage, ""},
		{"POST /setup/password", auth.PermChangePassword, stagePassword, s.setupPasswordSubmit, ""},
		{"GET /setup/settings", auth.PermChangeSettings, stageSetup, s.setupSettingsPage, ""},
		{"POST /setup/settings", auth.PermChangeSettings, stageSetup, s.setupSettingsSubmit, "/setup/settings"},
		{"GET /setup/done", auth.PermViewDevice, stageReady, s.setupDonePage, ""},
		{"GET /{$}", auth.PermViewDevice, stageReady, s.dashboard, ""},
		{"GET /account", auth.PermOwnSession, stageReady, s.accountPage, ""},
		{"POST /account/password", auth.PermChangePassword, stageReady, s.accountPassword, "/account"},
		{"POST /account/signout-all", auth.PermOwnSession, stageReady, s.signOutAll, "/account"},
		{"POST /account/sessions/revoke", auth.PermOwnSession, stageReady, s.revokeSession, "/account"},
		{"GET /users", auth.PermManageUsers, stageReady, s.usersPage, ""},
		{"POST /users/add", auth.PermManageUsers, stageReady, s.addUser, "/users"},
		{"POST /users/reset", auth.PermManageUsers, stageReady, s.resetUser, "/users"},
		{"POST /users/unlock", auth.PermUnlockUsers, stageReady, s.unlockUser, "/users"},
		{"POST /users/remove", auth.PermManageUsers, stageReady, s.removeUser, "/users"},
		{"GET /settings", auth.PermViewSettings, stageReady, s.settingsPage, ""},
		{"POST /settings", auth.PermChangeSettings, stageReady, s.settingsSubmit, "/settings"},
		{"GET /update", auth.PermViewDevice, stageReady, s.updatesPage, ""},
		{"POST /update/check", auth.PermCheckUpdates, stageReady, s.updateCheck, "/update"},
		{"POST /update/install", auth.PermInstallUpdates, stageReady, s.updateInstall, "/update"},
		{"POST /update/settings", auth.PermChangeSettings, stageReady, s.updateSettings, "/update"},
		{"POST /update/upload", auth.PermInstallUpdates, stageReady, s.updateUpload, "/update"},
		{"GET /privacy", auth.PermViewDevice, stageReady, s.privacyPage, ""},
		{"POST /privacy/consents", auth.PermManageConsent, stageReady, s.consentsSubmit, "/privacy"},
		{"GET /privacy/erase", auth.PermEraseData, stageReady, s.erasePage, ""},
		{"POST /privacy/erase", auth.PermEraseData, stageReady, s.eraseSubmit, "/privacy/erase"},
		{"GET /privacy/vendor-export", auth.PermManageConsent, stageReady, s.vendorExportDownload, "/privacy"},
		{"GET /erasure/{token...}", "", stagePassword, s.erasureStatusPage, ""},
		{"GET /reauth", auth.PermOwnSession, stageSetup, s.reauthPage, ""},
		{"POST /reauth", auth.PermOwnSession, stageSetup, s.reauthSubmit, ""},
	}
	if s.cfg.Sensors != nil {
		rts = append(rts, s.sensorRoutes()...)
	}
	if s.cfg.Alerts != nil {
		rts = append(rts, s.alertRoutes()...)
	}
	return rts
}

// Handler returns the UI's handler, to be mounted at "/" behind the API's middleware
// (security headers, panic guard, cross-origin protection).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	mux.HandleFunc("GET /assets/{file}", s.asset)
	mux.Handle("/", s.wrap(route{perm: auth.PermViewDevice, stage: stagePassword, handle: s.notFound}))
	return mux
}

// maxForm bounds form bodies.
const maxForm = 16 << 10

// wrap resolves the caller, enforces sign-in, the first-run flow and the role, checks
// the form token of every POST, and renders errors as pages.
//
// TS-0045 5.4.2.4, 5.2.2.2: a page reached without a session redirects to the sign-in
// page and discloses nothing.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{src: remoteAddr(r)}
		if rt.perm == "" {
			c.v = s.newView(r, nil)
			if r.Method == http.MethodPost && !s.parseForm(w, r, c) {
				return
			}
			s.run(w, r, rt, c)
			return
		}
		p, err := s.principal(r)
		if err != nil {
			redirect(w, r, "/login", "")
			return
		}
		c.p, c.v = p, s.newView(r, &p)
		if dest := s.flowRedirect(r.Context(), p, rt.stage); dest != "" && dest != r.URL.Path {
			redirect(w, r, dest, "")
			return
		}
		if !p.Can(rt.perm) {
			s.errorPage(w, c, http.StatusForbidden, "error.forbidden.title", "error.forbidden.text")
			return
		}
		if r.Method == http.MethodPost && !isMultipart(r) {
			if !s.parseForm(w, r, c) {
				return
			}
			if !validCSRF(p.Session, r.PostFormValue("csrf")) {
				s.errorPage(w, c, http.StatusForbidden, "error.csrf.title", "error.csrf.text")
				return
			}
		}
		s.run(w, r, rt, c)
	})
}

func (s *Server) run(w http.ResponseWriter, r *http.Request, rt route, c *call) {
	if err := rt.handle(w, r, c); err != nil {
		switch {
		case errors.Is(err, auth.ErrReauthRequired):
			back := rt.page
			if back == "" {
				back = r.URL.Path
			}
			redirect(w, r, "/reauth?next="+url.QueryEscape(back), "")
		case errors.Is(err, auth.ErrForbidden):
			s.errorPage(w, c, http.StatusForbidden, "error.forbidden.title", "error.forbidden.text")
		default:
			s.cfg.Log.Error("page failed", "path", r.URL.Path, "err", err)
			s.errorPage(w, c, http.StatusInternalServerError, "error.internal.title", "error.internal.text")
		}
	}
}

func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, c *call) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, c, http.StatusBadRequest, "error.bad_request.title", "error.bad_request.text")
		return false
	}
	return true
}

// flowRedirect keeps a user in the first-run flow: the default password must be
// replaced first; an owner then reviews the security settings.
//
// TS-0045 5.1.1.1: nothing but the password change is reachable with the default password.
func (s *Server) flowRedirect(ctx context.Context, p auth.Principal, st stage) string {
	if p.User.MustChange {
		if st != stagePassword {
			return "/setup/password"
		}
		return ""
	}
	if st != stageReady || !p.Can(auth.PermChangeSettings) {
		return ""
	}
	state, err := s.cfg.Settings.Get(ctx)
	if err == nil && !state.SetupCompleted {
		return "/setup/settings"
	}
	return ""
}

// Cookie names shared with the REST API. The __Host- prefix makes browsers insist on
// Secure, Path=/ and no Domain.
const (
	SessionCookie = "__Host-session"
	DeviceCookie  = "__Host-device"
)

func (s *Server) principal(r *http.Request) (auth.Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return s.cfg.Auth.Authenticate(r.Context(), c.Value, auth.KindCookie)
}

// SetSessionCookies sets the session cookie and the trusted-client cookie after a
// sign-in or password change.
//
// TS-0045 5.4.2.7: session secrets travel only over TLS (Secure), are hidden from scripts
// (HttpOnly) and never sent by other sites (SameSite=Strict).
func SetSessionCookies(w http.ResponseWriter, res auth.LoginResult, now time.Time) {
	maxAge := int(res.Session.ExpiresAt.Sub(now).Seconds())
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: res.Secret, Path: "/", MaxAge: maxAge, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	if res.DeviceCookie != "" {
		http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: res.DeviceCookie, Path: "/", MaxAge: 365 * 24 * 3600, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// asset serves the embedded stylesheet, script and icon.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	data, err := assetFS.ReadFile("assets/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	ct := types[name[strings.LastIndex(name, "."):]]
	if ct == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(data)
}

func (s *Server) notFound(w http.ResponseWriter, _ *http.Request, c *call) error {
	s.errorPage(w, c, http.StatusNotFound, "error.not_found.title", "error.not_found.text")
	return nil
}

type errorData struct{ TitleKey, TextKey string }

func (s *Server) errorPage(w http.ResponseWriter, c *call, status int, title, text string) {
	c.v.Page = errorData{title, text}
	s.render(w, status, "error", c.v)
}
