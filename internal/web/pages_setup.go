package web

import (
	"errors"
	"net/http"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/settings"
)

type step struct {
	Label         string
	Current, Done bool
}

// steps returns the first-run wizard's progress for owners; members only change their
// password, so they see no steps.
func steps(p auth.Principal, current int) []step {
	if !p.Can(auth.PermChangeSettings) {
		return nil
	}
	labels := []string{"setup.step.password", "setup.step.settings", "setup.step.done"}
	out := make([]step, len(labels))
	for i, l := range labels {
		out[i] = step{Label: l, Current: i == current, Done: i < current}
	}
	return out
}

type passwordData struct {
	Steps        []step
	CurrentLabel string
	IntroKey     string
}

// passwordStep describes the forced change: from the label password (first start) or
// from a temporary password an owner handed out.
func (s *Server) passwordStep(p auth.Principal) passwordData {
	if s.cfg.Auth.UsesLabelPassword(p.User) {
		return passwordData{Steps: steps(p, 0), CurrentLabel: "field.label_password", IntroKey: "setup.password.intro"}
	}
	return passwordData{Steps: steps(p, 0), CurrentLabel: "field.temporary_password", IntroKey: "setup.password.intro_temporary"}
}

func (s *Server) setupPasswordPage(w http.ResponseWriter, r *http.Request, c *call) error {
	if !c.p.User.MustChange {
		redirect(w, r, "/", "")
		return nil
	}
	c.v.Page = s.passwordStep(c.p)
	s.render(w, http.StatusOK, "setup_password", c.v)
	return nil
}

// setupPasswordSubmit replaces the default (or temporary) password.
//
// TS-0045 5.1.1.1: the first sign-in forces a password of the user's own.
func (s *Server) setupPasswordSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	res, msg, err := s.changePassword(w, r, c)
	if err != nil {
		return err
	}
	if msg != "" {
		c.v.Error = msg
		c.v.Page = s.passwordStep(c.p)
		s.render(w, http.StatusBadRequest, "setup_password", c.v)
		return nil
	}
	p := auth.Principal{User: res.User, Session: res.Session}
	if dest := s.flowRedirect(r.Context(), p, stageReady); dest != "" {
		redirect(w, r, dest, "password_changed")
		return nil
	}
	redirect(w, r, "/", "password_changed")
	return nil
}

// changePassword runs a password change from a form; msg is a user-facing problem.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *call) (auth.LoginResult, string, error) {
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		return auth.LoginResult{}, c.v.T("error.password_mismatch"), nil
	}
	res, err := s.cfg.Auth.ChangePassword(r.Context(), c.p, r.PostFormValue("current_password"), next, c.src)
	if err != nil {
		if key := passwordErrorKey(err); key != "" {
			return auth.LoginResult{}, c.v.T(key), nil
		}
		if status, msg := s.loginError(c, err); status != http.StatusInternalServerError {
			if status == http.StatusUnauthorized {
				msg = c.v.T("error.wrong_password")
			}
			return auth.LoginResult{}, msg, nil
		}
		return auth.LoginResult{}, "", err
	}
	SetSessionCookies(w, res, s.cfg.Now())
	return res, "", nil
}

func passwordErrorKey(err error) string {
	for _, e := range []struct {
		err error
		key string
	}{
		{auth.ErrPasswordTooShort, "error.password_too_short"},
		{auth.ErrPasswordTooLong, "error.password_too_long"},
		{auth.ErrPasswordCommon, "error.password_common"},
		{auth.ErrPasswordReused, "error.password_reused"},
		{auth.ErrPasswordContext, "error.password_context"},
	} {
		if errors.Is(err, e.err) {
			return e.key
		}
	}
	return ""
}

// settingRow is one setting as the forms show it.
type settingRow struct {
	Key              settings.Key
	NameKey, HelpKey string
	Checked          bool // the radio preselected: "on" when true
	OnRecommended    bool
	Clauses          string
}

type settingsData struct {
	Steps    []step
	Settings []settingRow
	// Consents are the first-run wizard's consent choices (nil on /settings).
	Consents []consentRow
	Editable bool
}

// settingRows renders the settings; recommended preselects each recommended value
// instead of the current one (the first-run review).
//
// TS-0045 5.2.1.4: each step shows the best choice, marked as recommended.
func settingRows(st settings.State, recommended bool) []settingRow {
	var rows []settingRow
	for _, d := range settings.Defs {
		checked := st.Values[d.Key]
		if recommended {
			checked = d.Recommended
		}
		rows = append(rows, settingRow{Key: d.Key, NameKey: "setting." + string(d.Key), HelpKey: "setting." + string(d.Key) + ".help",
			Checked: checked, OnRecommended: d.Recommended, Clauses: strings.Join(d.Clauses, ", ")})
	}
	return rows
}

// formSettings reads on/off radios for every setting.
func formSettings(r *http.Request) (map[settings.Key]bool, bool) {
	out := map[settings.Key]bool{}
	for _, d := range settings.Defs {
		switch r.PostFormValue(string(d.Key)) {
		case "on":
			out[d.Key] = true
		case "off":
			out[d.Key] = false
		default:
			return nil, false
		}
	}
	return out, true
}

func (s *Server) setupSettingsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	c.v.Page = settingsData{Steps: steps(c.p, 1), Settings: settingRows(st, !st.SetupCompleted), Consents: s.consentRows(c.v, false), Editable: true}
	s.render(w, http.StatusOK, "setup_settings", c.v)
	return nil
}

// setupSettingsSubmit saves the reviewed settings and the consent choices.
//
// TS-0045 5.7.1.9: each consent is a box the owner ticks; none is ticked beforehand
// and none is marked as recommended.
func (s *Server) setupSettingsSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	values, ok := formSettings(r)
	if !ok {
		return s.setupSettingsAgain(w, r, c, "error.choose_each_setting")
	}
	choices, ok := formConsents(r)
	if !ok {
		return s.setupSettingsAgain(w, r, c, "error.bad_request.text")
	}
	if _, err := s.cfg.Consents.Set(r.Context(), c.p, choices, c.src); err != nil {
		return err
	}
	if _, err := s.cfg.Settings.Change(r.Context(), c.p, values, true, c.src); err != nil {
		return err
	}
	redirect(w, r, "/setup/done", "saved")
	return nil
}

func (s *Server) setupSettingsAgain(w http.ResponseWriter, r *http.Request, c *call, msg string) error {
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	c.v.Error = c.v.T(msg)
	c.v.Page = settingsData{Steps: steps(c.p, 1), Settings: settingRows(st, true), Consents: s.consentRows(c.v, false), Editable: true}
	s.render(w, http.StatusBadRequest, "setup_settings", c.v)
	return nil
}

type doneData struct{ Steps []step }

func (s *Server) setupDonePage(w http.ResponseWriter, _ *http.Request, c *call) error {
	c.v.Page = doneData{Steps: steps(c.p, 2)}
	s.render(w, http.StatusOK, "setup_done", c.v)
	return nil
}
