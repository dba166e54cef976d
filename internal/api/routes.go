package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/routers"

	"hearth/internal/auth"
	"hearth/internal/web"
)

// route is one operation of the REST API.
type route struct {
	method, path string // path as in openapi.yaml, relative to /api/v1
	// perm is what the caller's role must hold; "" marks the one public operation.
	perm auth.Permission
	// allowDefault keeps the operation reachable before the default password is changed.
	allowDefault bool
	handle       func(w http.ResponseWriter, r *http.Request, c *call) error
}

// call is what a handler gets besides the request.
type call struct {
	p    auth.Principal
	body []byte
	src  netip.Addr
}

// routes is the API's route table; every entry must be documented in openapi.yaml and
// every documented operation must be here (tested).
func (s *Server) routes() []route {
	rts := []route{
		{"POST", "/session", "", true, s.login},
		{"GET", "/session", auth.PermOwnSession, true, s.getSession},
		{"DELETE", "/session", auth.PermOwnSession, true, s.logout},
		{"POST", "/session/reauth", auth.PermOwnSession, false, s.reauth},
		{"POST", "/account/password", auth.PermChangePassword, true, s.changePassword},
		{"GET", "/device", auth.PermViewDevice, false, s.getDevice},
		{"GET", "/users", auth.PermUnlockUsers, false, s.listUsers},
		{"POST", "/users", auth.PermManageUsers, false, s.addUser},
		{"DELETE", "/users/{username}", auth.PermManageUsers, false, s.removeUser},
		{"POST", "/users/{username}/password-reset", auth.PermManageUsers, false, s.resetPassword},
		{"POST", "/users/{username}/unlock", auth.PermUnlockUsers, false, s.unlockUser},
		{"GET", "/sessions", auth.PermOwnSession, false, s.listSessions},
		{"DELETE", "/sessions", auth.PermOwnSession, false, s.signOutEverywhere},
		{"DELETE", "/sessions/{id}", auth.PermOwnSession, false, s.revokeSession},
		{"POST", "/tokens", auth.PermOwnTokens, false, s.createToken},
		{"GET", "/events", auth.PermViewEvents, false, s.listEvents},
		{"GET", "/events/export", auth.PermViewEvents, false, s.exportEvents},
		{"GET", "/openapi.json", auth.PermViewAPI, false, s.getOpenAPI},
		{"GET", "/settings", auth.PermViewSettings, false, s.getSettings},
		{"PUT", "/settings", auth.PermChangeSettings, false, s.changeSettings},
		{"POST", "/password/check", auth.PermChangePassword, true, s.checkPassword},
		{"GET", "/update", auth.PermViewDevice, false, s.getUpdate},
		{"POST", "/update/check", auth.PermCheckUpdates, false, s.checkUpdate},
		{"POST", "/update/install", auth.PermInstallUpdates, false, s.installUpdate},
		{"PUT", "/update/settings", auth.PermChangeSettings, false, s.changeUpdateSettings},
		{"POST", "/update/upload", auth.PermInstallUpdates, false, s.uploadUpdate},
		{"GET", "/sensor-models", auth.PermViewSensors, false, s.listSensorModels},
		{"GET", "/sensors", auth.PermViewSensors, false, s.listSensors},
		{"POST", "/sensors", auth.PermManageSensors, false, s.pairSensor},
		{"GET", "/sensors/{id}", auth.PermViewSensors, false, s.getSensor},
		{"DELETE", "/sensors/{id}", auth.PermManageSensors, false, s.removeSensor},
		{"POST", "/sensors/{id}/quarantine", auth.PermManageSensors, false, s.quarantineSensor},
		{"POST", "/sensors/{id}/release", auth.PermManageSensors, false, s.releaseSensor},
		{"POST", "/sensors/{id}/replace", auth.PermManageSensors, false, s.replaceSensor},
		{"GET", "/sensors/{id}/readings", auth.PermViewSensors, false, s.listReadings},
		{"GET", "/privacy", auth.PermViewDevice, false, s.getPrivacy},
		{"GET", "/privacy/consents", auth.PermManageConsent, false, s.listConsents},
		{"PUT", "/privacy/consents", auth.PermManageConsent, false, s.changeConsents},
		{"GET", "/privacy/erasure", auth.PermViewDevice, false, s.getErasure},
		{"POST", "/privacy/erasure", auth.PermEraseData, false, s.eraseData},
		{"GET", "/privacy/vendor-export", auth.PermManageConsent, false, s.vendorExport},
	}
	return append(rts,
		route{"GET", "/alerts", auth.PermViewEvents, false, s.withAlerts(s.listAlerts)},
		route{"POST", "/alerts/read", auth.PermViewEvents, false, s.withAlerts(s.readAlerts)},
		route{"GET", "/alerts/settings", auth.PermViewEvents, false, s.withAlerts(s.getAlertSettings)},
		route{"PUT", "/alerts/settings", auth.PermChangeSettings, false, s.withAlerts(s.changeAlertSettings)},
		route{"POST", "/alerts/webhooks", auth.PermChangeSettings, false, s.withAlerts(s.addWebhook)},
		route{"DELETE", "/alerts/webhooks/{id}", auth.PermChangeSettings, false, s.withAlerts(s.removeWebhook)},
	)
}

const apiPrefix = "/api/v1"

// apiHandler routes /api/v1. Authentication runs before routing, so an unauthenticated
// caller cannot tell an existing path from a missing one.
func (s *Server) apiHandler() http.Handler {
	mux := http.NewServeMux()
	methods := map[string][]string{}
	allowDefault := map[string]bool{}
	for _, rt := range s.routes() {
		kr, err := s.spec.route(rt.method, rt.path)
		if err != nil {
			panic(err) // the route table and openapi.yaml disagree: a build-time bug, tested
		}
		mux.Handle(rt.method+" "+apiPrefix+rt.path, s.wrap(rt, kr))
		methods[rt.path] = append(methods[rt.path], rt.method)
		if rt.allowDefault {
			allowDefault[rt.method+" "+apiPrefix+rt.path] = true
		}
	}
	for path, ms := range methods {
		mux.Handle(apiPrefix+path, methodNotAllowed(ms))
	}
	mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) { writeError(w, r, errNotFound) })
	return s.authenticate(mux, allowDefault)
}

func methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(slices.Sorted(slices.Values(methods)), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "use " + allow})
	})
}

type principalKey struct{}

// authenticate resolves the caller for every API request but the login, and holds back
// every operation but changing the password while the default password is in use.
//
// TS-0045 5.1.1.1: the factory default password is good only for choosing a new one.
// TS-0045 5.4.2.4: resources are reached only after authentication.
func (s *Server) authenticate(next http.Handler, allowDefault map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == apiPrefix+"/session" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.principal(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if p.User.MustChange && !allowDefault[r.Method+" "+r.URL.Path] {
			writeError(w, r, errMustChange)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func (s *Server) principal(r *http.Request) (auth.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return auth.Principal{}, errUnauthenticated
		}
		return s.cfg.Auth.Authenticate(r.Context(), strings.TrimSpace(tok), auth.KindToken)
	}
	c, err := r.Cookie(web.SessionCookie)
	if err != nil {
		return auth.Principal{}, errUnauthenticated
	}
	return s.cfg.Auth.Authenticate(r.Context(), c.Value, auth.KindCookie)
}

// wrap applies role check and validation, then runs the handler.
//
// TS-0045 5.2.2.7: each operation checks the caller's role against the privilege table.
func (s *Server) wrap(rt route, kr *routers.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{src: remoteAddr(r)}
		if rt.perm != "" {
			p, _ := r.Context().Value(principalKey{}).(auth.Principal)
			if !p.Can(rt.perm) {
				writeError(w, r, auth.ErrForbidden)
				return
			}
			c.p = p
		}
		body, err := s.validate(r, kr)
		if err != nil {
			writeError(w, r, err)
			return
		}
		c.body = body
		if err := rt.handle(w, r, c); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail writes err, logging it when it is not one the client caused.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if ae := toAPIError(err); ae == errInternal && !errors.Is(err, context.Canceled) {
		s.cfg.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, r, err)
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
