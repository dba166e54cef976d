package web

import (
	"errors"
	"net/http"

	"hearth/internal/auth"
)

type sessionRow struct {
	ID, KindKey, Name, Created, LastSeen string
	Current                              bool
}

type accountData struct {
	CurrentLabel string
	Sessions     []sessionRow
}

func (s *Server) accountData(r *http.Request, c *call) (accountData, error) {
	list, err := s.cfg.Auth.Sessions(r.Context(), c.p)
	if err != nil {
		return accountData{}, err
	}
	d := accountData{CurrentLabel: "field.current_password"}
	for _, x := range list {
		d.Sessions = append(d.Sessions, sessionRow{ID: x.PublicID(), KindKey: "session.kind." + string(x.Kind), Name: x.Name,
			Created: c.v.p.DateTime(x.CreatedAt), LastSeen: c.v.p.DateTime(x.LastSeen), Current: x.ID == c.p.Session.ID})
	}
	return d, nil
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.accountData(r, c)
	if err != nil {
		return err
	}
	c.v.Page = d
	s.render(w, http.StatusOK, "account", c.v)
	return nil
}

// accountPassword changes the signed-in user's password; every other session ends.
//
// TS-0045 5.1.2.1: users change their authentication factor themselves.
func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request, c *call) error {
	_, msg, err := s.changePassword(w, r, c)
	if err != nil {
		return err
	}
	if msg != "" {
		d, err := s.accountData(r, c)
		if err != nil {
			return err
		}
		c.v.Error, c.v.Page = msg, d
		s.render(w, http.StatusBadRequest, "account", c.v)
		return nil
	}
	redirect(w, r, "/account", "password_changed")
	return nil
}

func (s *Server) signOutAll(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.SignOutEverywhere(r.Context(), c.p, c.src); err != nil {
		return err
	}
	ClearSessionCookie(w)
	redirect(w, r, "/login", "signed_out_all")
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, c *call) error {
	err := s.cfg.Auth.RevokeSession(r.Context(), c.p, r.PostFormValue("id"), c.src)
	if err != nil && !errors.Is(err, auth.ErrNoSession) {
		return err
	}
	redirect(w, r, "/account", "session_revoked")
	return nil
}
