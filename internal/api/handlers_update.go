package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"hearth/internal/auth"
	"hearth/internal/buildinfo"
	"hearth/internal/settings"
	"hearth/internal/update"
)

var (
	errUpdatesUnavailable = &apiError{status: http.StatusConflict, code: "updates_unavailable", msg: "this gateway does not run from A/B slots with vendor services; updates are unavailable"}
	errNothingToInstall   = &apiError{status: http.StatusConflict, code: "nothing_to_install", msg: "no update is available; check first"}
)

type availableView struct {
	Version         string     `json:"version"`
	SecurityVersion int        `json:"security_version"`
	Notes           string     `json:"notes"`
	Fixes           string     `json:"fixes"`
	Interrupts      bool       `json:"interrupts"`
	Released        *time.Time `json:"released,omitempty"`
}

type updateView struct {
	CurrentVersion             string         `json:"current_version"`
	Slot                       string         `json:"slot,omitempty"`
	SlotsAvailable             bool           `json:"slots_available"`
	LastCheck                  *time.Time     `json:"last_check,omitempty"`
	LastError                  string         `json:"last_error,omitempty"`
	LastInstall                string         `json:"last_install,omitempty"`
	Available                  *availableView `json:"available,omitempty"`
	AnnouncedAt                *time.Time     `json:"announced_at,omitempty"`
	AutoUpdate                 bool           `json:"auto_update"`
	Notifications              bool           `json:"notifications"`
	UpdatesDeferredUntil       *time.Time     `json:"updates_deferred_until,omitempty"`
	NotificationsDeferredUntil *time.Time     `json:"notifications_deferred_until,omitempty"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// updateStatus combines the scheduler's status with the update settings.
func (s *Server) updateStatus(ctx context.Context, st update.Status) (updateView, error) {
	set, err := s.cfg.Settings.Get(ctx)
	if err != nil {
		return updateView{}, err
	}
	v := updateView{CurrentVersion: buildinfo.Version(), Slot: st.Slot, SlotsAvailable: st.SlotsAvailable && s.cfg.Updates != nil,
		LastCheck: timeOrNil(st.LastCheck), LastError: st.LastError, LastInstall: st.LastInstall, AnnouncedAt: timeOrNil(st.AnnouncedAt),
		AutoUpdate: set.Values[settings.AutoUpdate], Notifications: set.Values[settings.UpdateNotifications]}
	now := s.cfg.Now()
	if set.UpdatesDeferred(now) {
		v.UpdatesDeferredUntil = &set.UpdatesDeferredUntil
	}
	if set.NotificationsDeferred(now) {
		v.NotificationsDeferredUntil = &set.NotificationsDeferredUntil
	}
	if a := st.Available; a != nil {
		v.Available = &availableView{Version: a.Version, SecurityVersion: a.SecurityVersion, Notes: a.Notes, Fixes: a.Fixes, Interrupts: a.Interrupts, Released: timeOrNil(a.Released)}
	}
	return v, nil
}

func (s *Server) currentStatus() update.Status {
	if s.cfg.Updates == nil {
		return update.Status{Current: buildinfo.Version()}
	}
	return s.cfg.Updates.Status()
}

// getUpdate: GET /update.
//
// TS-0045 5.3.1.11: an available update is shown with the risks it fixes.
func (s *Server) getUpdate(w http.ResponseWriter, r *http.Request, _ *call) error {
	v, err := s.updateStatus(r.Context(), s.currentStatus())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) checkUpdate(w http.ResponseWriter, r *http.Request, _ *call) error {
	if s.cfg.Updates == nil {
		return errUpdatesUnavailable
	}
	v, err := s.updateStatus(r.Context(), s.cfg.Updates.CheckNow(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// installUpdate: POST /update/install.
//
// TS-0045 5.3.1.3: the owner can start an update; TS-0045 5.3.1.12: for an update that
// interrupts basic functions, this is when the owner chose it to happen.
func (s *Server) installUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermInstallUpdates); err != nil {
		return err
	}
	if s.cfg.Updates == nil {
		return errUpdatesUnavailable
	}
	if err := s.cfg.Updates.InstallNow(r.Context()); err != nil {
		if errors.Is(err, update.ErrNothingNew) {
			return errNothingToInstall
		}
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type updateSettingsRequest struct {
	AutoUpdate             *bool `json:"auto_update"`
	Notifications          *bool `json:"notifications"`
	DeferUpdatesDays       *int  `json:"defer_updates_days"`
	DeferNotificationsDays *int  `json:"defer_notifications_days"`
}

// changeUpdateSettings: PUT /update/settings.
//
// TS-0045 5.3.1.6: updates and notifications can be turned on, off, or postponed.
func (s *Server) changeUpdateSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	var req updateSettingsRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	values := map[settings.Key]bool{}
	if req.AutoUpdate != nil {
		values[settings.AutoUpdate] = *req.AutoUpdate
	}
	if req.Notifications != nil {
		values[settings.UpdateNotifications] = *req.Notifications
	}
	if len(values) > 0 {
		if _, err := s.cfg.Settings.Change(r.Context(), c.p, values, false, c.src); err != nil {
			return err
		}
	}
	days := func(n *int) *time.Duration {
		if n == nil {
			return nil
		}
		d := time.Duration(*n) * 24 * time.Hour
		return &d
	}
	if req.DeferUpdatesDays != nil || req.DeferNotificationsDays != nil {
		if _, err := s.cfg.Settings.Defer(r.Context(), c.p, days(req.DeferUpdatesDays), days(req.DeferNotificationsDays), c.src); err != nil {
			return err
		}
	}
	v, err := s.updateStatus(r.Context(), s.currentStatus())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// uploadUpdate: POST /update/upload, an offline update bundle.
//
// TS-0045 5.3.1.9: a file carried to the device is verified like an online update.
func (s *Server) uploadUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermInstallUpdates); err != nil {
		return err
	}
	if s.cfg.Updates == nil {
		return errUpdatesUnavailable
	}
	if err := s.cfg.Updates.InstallBundle(r.Context(), r.Body); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return &apiError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", msg: "update bundles are limited to 600 MiB"}
		case errors.Is(err, update.ErrNothingNew), errors.Is(err, update.ErrRolledBack):
			return &apiError{status: http.StatusConflict, code: "nothing_to_install", msg: "the bundle holds no release newer than the running one"}
		}
		return &apiError{status: http.StatusBadRequest, code: "bad_update", msg: "the bundle did not verify: " + err.Error()}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
