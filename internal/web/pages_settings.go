package web

import (
	"net/http"

	"hearth/internal/auth"
)

// settingsPage shows the security settings; owners can change them.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	c.v.Page = settingsData{Settings: settingRows(st, false), Editable: c.p.Can(auth.PermChangeSettings)}
	s.render(w, http.StatusOK, "settings", c.v)
	return nil
}

// settingsSubmit changes the settings (owner, recent password).
//
// TS-0045 5.4.2.5: changing security settings needs authentication.
func (s *Server) settingsSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	values, ok := formSettings(r)
	if !ok {
		st, err := s.cfg.Settings.Get(r.Context())
		if err != nil {
			return err
		}
		c.v.Error = c.v.T("error.choose_each_setting")
		c.v.Page = settingsData{Settings: settingRows(st, false), Editable: true}
		s.render(w, http.StatusBadRequest, "settings", c.v)
		return nil
	}
	if _, err := s.cfg.Settings.Change(r.Context(), c.p, values, false, c.src); err != nil {
		return err
	}
	redirect(w, r, "/settings", "saved")
	return nil
}
