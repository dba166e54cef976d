package web

import (
	"errors"
	"math"
	"net/http"

	"hearth/internal/auth"
	"hearth/internal/i18n"
)

type loginData struct{ Username string }

// loginPage shows the sign-in form. It names nothing about the device.
//
// TS-0045 5.2.2.2: before sign-in, nothing beyond the form is disclosed.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.principal(r); err == nil {
		redirect(w, r, "/", "")
		return nil
	}
	c.v.Page = loginData{}
	s.render(w, http.StatusOK, "login", c.v)
	return nil
}

// loginSubmit signs in through the same guarded check as the API.
//
// TS-0045 5.1.2.2: lockout and throttling apply to the web form as to the API.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	user := r.PostFormValue("username")
	if len(user) > 64 {
		user = user[:64]
	}
	a := auth.Attempt{Username: user, Password: r.PostFormValue("password"), Source: c.src}
	if dc, err := r.Cookie(DeviceCookie); err == nil {
		a.DeviceCookie = dc.Value
	}
	if len(a.Password) > 512 {
		a.Password = ""
	}
	res, err := s.cfg.Auth.Login(r.Context(), a)
	if err != nil {
		status, msg := s.loginError(c, err)
		c.v.Error = msg
		c.v.Page = loginData{Username: user}
		s.render(w, status, "login", c.v)
		return nil
	}
	SetSessionCookies(w, res, s.cfg.Now())
	p := auth.Principal{User: res.User, Session: res.Session}
	if dest := s.flowRedirect(r.Context(), p, stageReady); dest != "" {
		redirect(w, r, dest, "")
		return nil
	}
	redirect(w, r, "/", "")
	return nil
}

// loginError turns a failed sign-in into a status and a message in the user's language.
func (s *Server) loginError(c *call, err error) (int, string) {
	var locked *auth.LockedError
	var limited *auth.RateLimitedError
	switch {
	case errors.As(err, &locked):
		return http.StatusTooManyRequests, c.v.T("error.account_locked", minutes(locked.RetryAfter.Minutes()))
	case errors.As(err, &limited):
		return http.StatusTooManyRequests, c.v.T("error.rate_limited", int(math.Ceil(limited.RetryAfter.Seconds())))
	case errors.Is(err, auth.ErrBusy):
		return http.StatusServiceUnavailable, c.v.T("error.busy")
	case errors.Is(err, auth.ErrInvalidCredentials):
		return http.StatusUnauthorized, c.v.T("error.invalid_credentials")
	}
	s.cfg.Log.Error("sign-in failed", "err", err)
	return http.StatusInternalServerError, c.v.T("error.internal.text")
}

func minutes(m float64) int { return int(math.Max(1, math.Ceil(m))) }

// setLanguage stores the user's language choice and returns to the page.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request, _ *call) error {
	lang := r.PostFormValue("lang")
	for _, l := range i18n.Supported {
		if l.String() == lang {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
	}
	redirect(w, r, localPath(r.PostFormValue("next")), "")
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Logout(r.Context(), c.p, c.src); err != nil {
		return err
	}
	ClearSessionCookie(w)
	redirect(w, r, "/login", "signed_out")
	return nil
}

type reauthData struct{ Next string }

func (s *Server) reauthPage(w http.ResponseWriter, r *http.Request, c *call) error {
	c.v.Page = reauthData{Next: localPath(r.URL.Query().Get("next"))}
	s.render(w, http.StatusOK, "reauth", c.v)
	return nil
}

// reauthSubmit confirms the password before security settings change. A wrong password
// counts toward the lockout.
func (s *Server) reauthSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	next := localPath(r.PostFormValue("next"))
	if err := s.cfg.Auth.Reauthenticate(r.Context(), c.p, r.PostFormValue("password"), c.src); err != nil {
		status, msg := s.loginError(c, err)
		if status == http.StatusUnauthorized {
			status, msg = http.StatusForbidden, c.v.T("error.wrong_password")
		}
		c.v.Error = msg
		c.v.Page = reauthData{Next: next}
		s.render(w, status, "reauth", c.v)
		return nil
	}
	redirect(w, r, next, "reauthed")
	return nil
}
