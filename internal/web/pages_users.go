package web

import (
	"errors"
	"net/http"

	"hearth/internal/auth"
)

type userRow struct {
	Username, RoleKey, LockedUntil string
	Locked, MustChange, Self       bool
	Failures                       int
}

type temporary struct{ Username, Password string }

type usersData struct {
	Users     []userRow
	Temporary *temporary
}

func (s *Server) usersData(r *http.Request, c *call) (usersData, error) {
	list, err := s.cfg.Auth.Users(r.Context(), c.p)
	if err != nil {
		return usersData{}, err
	}
	var d usersData
	for _, u := range list {
		row := userRow{Username: u.Username, RoleKey: "role." + string(u.Role), Locked: u.Locked, MustChange: u.MustChange,
			Self: u.Username == c.p.User.Username, Failures: u.Lock.Failures}
		if u.Locked {
			row.LockedUntil = c.v.p.DateTime(u.Lock.LockedUntil)
		}
		d.Users = append(d.Users, row)
	}
	return d, nil
}

// usersPage lists accounts with their lock state (owner).
//
// TS-0045 5.1.2.2: the owner sees locked accounts and can lift a lock.
func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.showUsers(w, r, c, http.StatusOK, nil, "")
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, c *call, status int, temp *temporary, msg string) error {
	d, err := s.usersData(r, c)
	if err != nil {
		return err
	}
	d.Temporary = temp
	c.v.Page, c.v.Error = d, msg
	s.render(w, status, "users", c.v)
	return nil
}

// addUser creates an account and shows its temporary password once.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PostFormValue("username")
	temp, err := s.cfg.Auth.AddUser(r.Context(), c.p, name, auth.Role(r.PostFormValue("role")), c.src)
	if err != nil {
		if msg := userErrorKey(err); msg != "" {
			return s.showUsers(w, r, c, http.StatusBadRequest, nil, c.v.T(msg))
		}
		return err
	}
	return s.showUsers(w, r, c, http.StatusOK, &temporary{Username: name, Password: temp}, "")
}

func (s *Server) resetUser(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PostFormValue("username")
	temp, err := s.cfg.Auth.ResetPassword(r.Context(), c.p, name, c.src)
	if err != nil {
		if msg := userErrorKey(err); msg != "" {
			return s.showUsers(w, r, c, http.StatusBadRequest, nil, c.v.T(msg))
		}
		return err
	}
	return s.showUsers(w, r, c, http.StatusOK, &temporary{Username: name, Password: temp}, "")
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Unlock(r.Context(), c.p, r.PostFormValue("username"), c.src); err != nil {
		if msg := userErrorKey(err); msg != "" {
			return s.showUsers(w, r, c, http.StatusBadRequest, nil, c.v.T(msg))
		}
		return err
	}
	redirect(w, r, "/users", "unlocked")
	return nil
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.RemoveUser(r.Context(), c.p, r.PostFormValue("username"), c.src); err != nil {
		if msg := userErrorKey(err); msg != "" {
			return s.showUsers(w, r, c, http.StatusBadRequest, nil, c.v.T(msg))
		}
		return err
	}
	redirect(w, r, "/users", "removed")
	return nil
}

func userErrorKey(err error) string {
	switch {
	case errors.Is(err, auth.ErrUserExists):
		return "error.user_exists"
	case errors.Is(err, auth.ErrBadUsername):
		return "error.bad_username"
	case errors.Is(err, auth.ErrNoUser):
		return "error.no_user"
	case errors.Is(err, auth.ErrSelf), errors.Is(err, auth.ErrLastOwner):
		return "error.self"
	case errors.Is(err, auth.ErrBadRole):
		return "error.bad_role"
	}
	return ""
}
