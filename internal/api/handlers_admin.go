package api

import (
	"net/http"
	"strconv"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
)

func (s *Server) getDevice(w http.ResponseWriter, _ *http.Request, _ *call) error {
	writeJSON(w, http.StatusOK, s.cfg.Device)
	return nil
}

func (s *Server) getOpenAPI(w http.ResponseWriter, _ *http.Request, _ *call) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(s.spec.json)
	return nil
}

type userView struct {
	Username               string     `json:"username"`
	Role                   auth.Role  `json:"role"`
	PasswordChangeRequired bool       `json:"password_change_required"`
	Locked                 bool       `json:"locked"`
	LockedUntil            *time.Time `json:"locked_until,omitempty"`
	FailedAttempts         int        `json:"failed_attempts"`
	CreatedAt              time.Time  `json:"created_at"`
}

// listUsers: GET /users. The owner sees every account's lock state.
//
// TS-0045 5.1.2.2: locks are visible to the owner, who can lift them.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *call) error {
	users, err := s.cfg.Auth.Users(r.Context(), c.p)
	if err != nil {
		return err
	}
	out := make([]userView, 0, len(users))
	for _, u := range users {
		v := userView{Username: u.Username, Role: u.Role, PasswordChangeRequired: u.MustChange, Locked: u.Locked, FailedAttempts: u.Lock.Failures, CreatedAt: u.CreatedAt}
		if u.Locked {
			v.LockedUntil = &u.Lock.LockedUntil
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

type addUserRequest struct {
	Username string    `json:"username"`
	Role     auth.Role `json:"role"`
}

type temporaryPassword struct {
	Username string    `json:"username"`
	Role     auth.Role `json:"role,omitempty"`
	Password string    `json:"temporary_password"`
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, c *call) error {
	var req addUserRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	temp, err := s.cfg.Auth.AddUser(r.Context(), c.p, req.Username, req.Role, c.src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, temporaryPassword{Username: req.Username, Role: req.Role, Password: temp})
	return nil
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.RemoveUser(r.Context(), c.p, r.PathValue("username"), c.src); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PathValue("username")
	temp, err := s.cfg.Auth.ResetPassword(r.Context(), c.p, name, c.src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, temporaryPassword{Username: name, Password: temp})
	return nil
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Unlock(r.Context(), c.p, r.PathValue("username"), c.src); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listEvents: GET /events.
// exportEvents: GET /events/export.
//
// TS-0045 5.8.1.1: the owner takes the tamper-evident log away and verifies it offline.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request, _ *call) error {
	if s.cfg.ExportEvents == nil {
		return errNotFound
	}
	x, err := s.cfg.ExportEvents(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="hearth-events.json"`)
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, _ *call) error {
	q := events.Query{Limit: 100}
	if l := r.URL.Query().Get("limit"); l != "" {
		q.Limit, _ = strconv.Atoi(l) // validated against the document already
	}
	if k := r.URL.Query().Get("kind"); k != "" {
		q.Kinds = []events.Kind{events.Kind(k)}
	}
	if sv := r.URL.Query().Get("severity"); sv != "" {
		q.Severities = []events.Severity{events.Severity(sv)}
	}
	// Times and the cursor were validated against the document already.
	q.From, _ = time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	q.To, _ = time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	q.Before, _ = strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	list, err := s.cfg.Events.Events(r.Context(), q)
	if err != nil {
		return err
	}
	if list == nil {
		list = []events.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": list})
	return nil
}
