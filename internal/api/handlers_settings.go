package api

import (
	"net/http"

	"hearth/internal/auth"
	"hearth/internal/settings"
)

type settingView struct {
	Key         settings.Key `json:"key"`
	Value       bool         `json:"value"`
	Default     bool         `json:"default"`
	Recommended bool         `json:"recommended"`
	Clauses     []string     `json:"clauses"`
}

type settingsState struct {
	SetupCompleted bool          `json:"setup_completed"`
	Settings       []settingView `json:"settings"`
}

func viewSettings(st settings.State) settingsState {
	out := settingsState{SetupCompleted: st.SetupCompleted, Settings: []settingView{}}
	for _, d := range settings.Defs {
		out.Settings = append(out.Settings, settingView{Key: d.Key, Value: st.Values[d.Key], Default: d.Default, Recommended: d.Recommended, Clauses: d.Clauses})
	}
	return out
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request, _ *call) error {
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(st))
	return nil
}

type changeSettingsRequest struct {
	AutoUpdate          *bool `json:"auto_update"`
	UpdateNotifications *bool `json:"update_notifications"`
	CompleteSetup       bool  `json:"complete_setup"`
}

// changeSettings: PUT /settings.
//
// TS-0045 5.4.2.5: security settings change only for an owner who just entered their password.
func (s *Server) changeSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	var req changeSettingsRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	values := map[settings.Key]bool{}
	for k, v := range map[settings.Key]*bool{settings.AutoUpdate: req.AutoUpdate, settings.UpdateNotifications: req.UpdateNotifications} {
		if v != nil {
			values[k] = *v
		}
	}
	st, err := s.cfg.Settings.Change(r.Context(), c.p, values, req.CompleteSetup, c.src)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewSettings(st))
	return nil
}

// PasswordVerdict rates a candidate password for the strength meter.
type PasswordVerdict struct {
	Acceptable bool   `json:"acceptable"`
	Score      int    `json:"score"`
	Problem    string `json:"problem,omitempty"`
}

// RatePassword applies the password policy and the strength estimate (0-4).
func RatePassword(pw, username string, deviceWords []string) PasswordVerdict {
	v := auth.Rate(pw, auth.PolicyContext{Username: username, DeviceWords: deviceWords})
	out := PasswordVerdict{Acceptable: v.Acceptable, Score: v.Score}
	if v.Problem != nil {
		out.Problem = toAPIError(v.Problem).code
	}
	return out
}

type checkPasswordRequest struct {
	Password string `json:"password"`
}

func (checkPasswordRequest) String() string { return "checkPasswordRequest(REDACTED)" }

func (s *Server) checkPassword(w http.ResponseWriter, _ *http.Request, c *call) error {
	var req checkPasswordRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RatePassword(req.Password, c.p.User.Username, s.deviceWords()))
	return nil
}

func (s *Server) deviceWords() []string {
	d := s.cfg.Device
	return []string{d.Model, d.Name, d.Serial, d.Vendor}
}
