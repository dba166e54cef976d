package api

import (
	"log/slog"
	"net/http"
	"time"

	"hearth/internal/auth"
	"hearth/internal/web"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String and LogValue keep the password out of logs.
func (l loginRequest) String() string { return "loginRequest(" + l.Username + ", REDACTED)" }

func (l loginRequest) LogValue() slog.Value { return slog.StringValue(l.String()) }

type sessionInfo struct {
	Username               string     `json:"username"`
	Role                   auth.Role  `json:"role"`
	PasswordChangeRequired bool       `json:"password_change_required"`
	Kind                   string     `json:"kind"`
	ExpiresAt              time.Time  `json:"expires_at"`
	ReauthUntil            *time.Time `json:"reauth_until,omitempty"`
}

func (s *Server) sessionInfo(u auth.User, sess auth.Session) sessionInfo {
	return sessionInfo{Username: u.Username, Role: u.Role, PasswordChangeRequired: u.MustChange, Kind: string(sess.Kind), ExpiresAt: sess.ExpiresAt}
}

// login: POST /session.
//
// TS-0045 5.1.2.2: see auth.Service.Login for throttling and lockout.
func (s *Server) login(w http.ResponseWriter, r *http.Request, c *call) error {
	var req loginRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	a := auth.Attempt{Username: req.Username, Password: req.Password, Source: c.src}
	if dc, err := r.Cookie(web.DeviceCookie); err == nil {
		a.DeviceCookie = dc.Value
	}
	res, err := s.cfg.Auth.Login(r.Context(), a)
	if err != nil {
		return err
	}
	web.SetSessionCookies(w, res, s.cfg.Now())
	writeJSON(w, http.StatusOK, s.sessionInfo(res.User, res.Session))
	return nil
}

func (s *Server) getSession(w http.ResponseWriter, _ *http.Request, c *call) error {
	info := s.sessionInfo(c.p.User, c.p.Session)
	if until, ok := s.cfg.Auth.ReauthUntil(c.p); ok {
		info.ReauthUntil = &until
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Logout(r.Context(), c.p, c.src); err != nil {
		return err
	}
	web.ClearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type reauthRequest struct {
	Password string `json:"password"`
}

// String keeps the password out of logs.
func (reauthRequest) String() string { return "reauthRequest(REDACTED)" }

func (r reauthRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

func (s *Server) reauth(w http.ResponseWriter, r *http.Request, c *call) error {
	var req reauthRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	if err := s.cfg.Auth.Reauthenticate(r.Context(), c.p, req.Password, c.src); err != nil {
		return wrongPassword(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// wrongPassword reports a failed password confirmation inside a session as 403, so a
// client does not mistake it for having been signed out.
func wrongPassword(err error) error {
	if toAPIError(err).code == "invalid_credentials" {
		return &apiError{status: http.StatusForbidden, code: "wrong_password", msg: "the password is not correct"}
	}
	return err
}

type changePasswordRequest struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// String keeps the passwords out of logs.
func (changePasswordRequest) String() string { return "changePasswordRequest(REDACTED)" }

func (r changePasswordRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// changePassword: POST /account/password.
//
// TS-0045 5.1.2.1: every user can change their password; all sessions are revoked.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *call) error {
	var req changePasswordRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	res, err := s.cfg.Auth.ChangePassword(r.Context(), c.p, req.Current, req.New, c.src)
	if err != nil {
		return wrongPassword(err)
	}
	if c.p.Session.Kind == auth.KindCookie {
		web.SetSessionCookies(w, res, s.cfg.Now())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sessionSummary struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastSeen  time.Time `json:"last_seen"`
	Current   bool      `json:"current"`
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, c *call) error {
	list, err := s.cfg.Auth.Sessions(r.Context(), c.p)
	if err != nil {
		return err
	}
	out := make([]sessionSummary, 0, len(list))
	for _, x := range list {
		out = append(out, sessionSummary{ID: x.PublicID(), Kind: string(x.Kind), Name: x.Name, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt, LastSeen: x.LastSeen, Current: x.ID == c.p.Session.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.SignOutEverywhere(r.Context(), c.p, c.src); err != nil {
		return err
	}
	web.ClearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.RevokeSession(r.Context(), c.p, r.PathValue("id"), c.src); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type createTokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	var req createTokenRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	tok, err := s.cfg.Auth.CreateToken(r.Context(), c.p, req.Name, time.Duration(req.ExpiresInDays)*24*time.Hour, c.src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": tok.PublicID(), "name": tok.Name, "token": tok.Secret, "expires_at": tok.ExpiresAt})
	return nil
}
