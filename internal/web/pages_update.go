package web

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"hearth/internal/auth"
	"hearth/internal/settings"
	"hearth/internal/update"
)

type updateData struct {
	Current, Slot, LastCheck, LastError, LastInstall string
	SlotsAvailable, CanManage, Editable              bool
	Available                                        *update.Info
	Settings                                         []settingRow
	UpdatesDeferredUntil, NotificationsDeferredUntil string
}

// updatesPage shows the firmware, the available update with the risks it fixes, and the
// update settings.
//
// TS-0045 5.3.1.11: the update is announced clearly, with the risks it mitigates.
// TS-0045 5.3.1.12: an update that interrupts basic functions says so before it starts.
func (s *Server) updatesPage(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := s.cfg.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	us := s.updateStatus()
	d := updateData{Current: us.Current, Slot: us.Slot, LastError: us.LastError, LastInstall: us.LastInstall,
		SlotsAvailable: us.SlotsAvailable && s.cfg.Updates != nil, Available: us.Available,
		CanManage: c.p.Can(auth.PermInstallUpdates), Editable: c.p.Can(auth.PermChangeSettings)}
	if !us.LastCheck.IsZero() {
		d.LastCheck = c.v.p.DateTime(us.LastCheck)
	}
	for _, row := range settingRows(st, false) {
		if row.Key == settings.AutoUpdate || row.Key == settings.UpdateNotifications {
			d.Settings = append(d.Settings, row)
		}
	}
	now := s.cfg.Now()
	if st.UpdatesDeferred(now) {
		d.UpdatesDeferredUntil = c.v.p.DateTime(st.UpdatesDeferredUntil)
	}
	if st.NotificationsDeferred(now) {
		d.NotificationsDeferredUntil = c.v.p.DateTime(st.NotificationsDeferredUntil)
	}
	c.v.Page = d
	s.render(w, http.StatusOK, "update", c.v)
	return nil
}

func (s *Server) updateStatus() update.Status {
	if s.cfg.Updates == nil {
		return update.Status{Current: s.cfg.Device.FirmwareVersion}
	}
	return s.cfg.Updates.Status()
}

func (s *Server) updateCheck(w http.ResponseWriter, r *http.Request, _ *call) error {
	if s.cfg.Updates != nil {
		s.cfg.Updates.CheckNow(r.Context())
	}
	redirect(w, r, "/update", "")
	return nil
}

// updateInstall installs the available update at the owner's request.
//
// TS-0045 5.3.1.3: updates can be started from the web interface.
func (s *Server) updateInstall(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermInstallUpdates); err != nil {
		return err
	}
	if s.cfg.Updates == nil {
		redirect(w, r, "/update", "")
		return nil
	}
	if err := s.cfg.Updates.InstallNow(r.Context()); err != nil {
		c.v.Error = c.v.T("update.install_failed")
		return s.updatesPage(w, r, c)
	}
	redirect(w, r, "/update", "update_installing")
	return nil
}

// updateSettings turns automatic updates and notifications on or off, or postpones them.
//
// TS-0045 5.3.1.6: on, off and postpone for both updates and notifications.
func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request, c *call) error {
	values := map[settings.Key]bool{}
	for _, k := range []settings.Key{settings.AutoUpdate, settings.UpdateNotifications} {
		switch r.PostFormValue(string(k)) {
		case "on":
			values[k] = true
		case "off":
			values[k] = false
		}
	}
	if len(values) > 0 {
		if _, err := s.cfg.Settings.Change(r.Context(), c.p, values, false, c.src); err != nil {
			return err
		}
	}
	updates, okU := formDays(r.PostFormValue("defer_updates_days"))
	notes, okN := formDays(r.PostFormValue("defer_notifications_days"))
	if !okU || !okN {
		c.v.Error = c.v.T("error.bad_request.text")
		return s.updatesPage(w, r, c)
	}
	if updates != nil || notes != nil {
		if _, err := s.cfg.Settings.Defer(r.Context(), c.p, updates, notes, c.src); err != nil {
			return err
		}
	}
	redirect(w, r, "/update", "saved")
	return nil
}

// formDays reads an optional number of days (empty: unchanged).
func formDays(v string) (*time.Duration, bool) {
	if v == "" {
		return nil, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 30 {
		return nil, false
	}
	d := time.Duration(n) * 24 * time.Hour
	return &d, true
}

// isMultipart reports a file upload; its form token is checked by the handler as the
// first part of the stream (the body is never buffered whole).
func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// maxBundleUpload bounds an uploaded update bundle.
const maxBundleUpload = 600 << 20

// updateUpload installs an uploaded offline update bundle. The form token must be the
// first part; the bundle streams from the request into verification.
//
// TS-0045 5.3.1.9: an update file from any source is verified before it can run.
func (s *Server) updateUpload(w http.ResponseWriter, r *http.Request, c *call) error {
	if !isMultipart(r) {
		s.errorPage(w, c, http.StatusBadRequest, "error.bad_request.title", "error.bad_request.text")
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBundleUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		s.errorPage(w, c, http.StatusBadRequest, "error.bad_request.title", "error.bad_request.text")
		return nil
	}
	token, err := mr.NextPart()
	if err != nil || token.FormName() != "csrf" {
		s.errorPage(w, c, http.StatusForbidden, "error.csrf.title", "error.csrf.text")
		return nil
	}
	value, _ := io.ReadAll(io.LimitReader(token, 256))
	if !validCSRF(c.p.Session, string(value)) {
		s.errorPage(w, c, http.StatusForbidden, "error.csrf.title", "error.csrf.text")
		return nil
	}
	if err := s.cfg.Auth.Authorize(c.p, auth.PermInstallUpdates); err != nil {
		return err
	}
	file, err := mr.NextPart()
	if err != nil || file.FormName() != "bundle" || s.cfg.Updates == nil {
		c.v.Error = c.v.T("update.bundle_refused")
		return s.updatesPage(w, r, c)
	}
	if err := s.cfg.Updates.InstallBundle(r.Context(), file); err != nil {
		s.cfg.Log.Warn("update bundle refused", "err", err)
		c.v.Error = c.v.T("update.bundle_refused")
		return s.updatesPage(w, r, c)
	}
	redirect(w, r, "/update", "update_installing")
	return nil
}
