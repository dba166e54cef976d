package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hearth/internal/auth"
	"hearth/internal/sensors"
)

// sensorRoutes are the Sensors pages and their owner actions; they exist only when the
// gateway runs its sensor broker (elsewhere /sensors answers 404).
func (s *Server) sensorRoutes() []route {
	return []route{
		{"GET /sensors", auth.PermViewSensors, stageReady, s.sensorsPage, ""},
		{"POST /sensors/pair", auth.PermManageSensors, stageReady, s.sensorPair, "/sensors"},
		{"GET /sensors/{id}", auth.PermViewSensors, stageReady, s.sensorPage, ""},
		{"POST /sensors/{id}/quarantine", auth.PermManageSensors, stageReady, s.sensorQuarantine, ""},
		{"POST /sensors/{id}/release", auth.PermManageSensors, stageReady, s.sensorRelease, ""},
		{"POST /sensors/{id}/replace", auth.PermManageSensors, stageReady, s.sensorReplace, ""},
		{"POST /sensors/{id}/remove", auth.PermManageSensors, stageReady, s.sensorRemove, ""},
	}
}

type sensorRow struct {
	ID, Name, ModelName, StateKey, LastSeen, SensesKey string
	State                                              sensors.State
}

type modelChoice struct {
	ID, Name, SensesKey string
	Checked             bool
}

// pairedSensor is what a sensor needs to connect, shown once after pairing or
// replacement: the secret is not stored in readable form and never shown again.
type pairedSensor struct {
	ID, Name, Topic, Secret string
	Replaced                bool
}

type sensorsData struct {
	Sensors   []sensorRow
	CanManage bool
	Models    []modelChoice
	Name      string
	Paired    *pairedSensor
}

// sensorsPage lists the paired sensors with what each senses and, for owners, the
// pairing form.
//
// TS-0045 5.7.1.3: what each sensor senses is told in plain words, in the list and in
// the pairing form.
func (s *Server) sensorsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.showSensors(w, c, http.StatusOK, "", "", nil)
}

func (s *Server) showSensors(w http.ResponseWriter, c *call, status int, name, model string, paired *pairedSensor) error {
	now := s.cfg.Now()
	d := sensorsData{CanManage: c.p.Can(auth.PermManageSensors), Name: name, Paired: paired}
	for _, v := range s.cfg.Sensors.List() {
		d.Sensors = append(d.Sensors, sensorRow{ID: v.ID, Name: v.Name, ModelName: v.Spec.Name, State: v.State,
			StateKey: "sensor.state." + string(v.State), LastSeen: lastSeen(c.v, now, v.LastSeen), SensesKey: v.Spec.SensesKey})
	}
	if d.CanManage {
		if _, ok := sensors.LookupModel(model); !ok {
			model = sensors.Models()[0].ID
		}
		for _, m := range sensors.Models() {
			d.Models = append(d.Models, modelChoice{ID: m.ID, Name: m.Name, SensesKey: m.SensesKey, Checked: m.ID == model})
		}
	}
	c.v.Page = d
	s.render(w, status, "sensors", c.v)
	return nil
}

// sensorPair pairs a sensor and shows its credential once.
//
// TS-0045 5.1.1.1: every sensor gets its own random credential, never a default one.
func (s *Server) sensorPair(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermManageSensors); err != nil {
		return err
	}
	name, model := r.PostFormValue("name"), r.PostFormValue("model")
	if len(name) > 256 {
		name = name[:256]
	}
	if err := sensors.ValidateName(name); err != nil {
		c.v.Error = c.v.T("sensor.error.name")
		return s.showSensors(w, c, http.StatusBadRequest, name, model, nil)
	}
	if _, ok := sensors.LookupModel(model); !ok {
		c.v.Error = c.v.T("sensor.error.model")
		return s.showSensors(w, c, http.StatusBadRequest, name, "", nil)
	}
	v, cred, err := s.cfg.Sensors.Pair(r.Context(), c.p.User.Username, name, model)
	if err != nil {
		if key := sensorErrorKey(err); key != "" {
			c.v.Error = c.v.T(key)
			return s.showSensors(w, c, http.StatusBadRequest, name, model, nil)
		}
		return err
	}
	return s.showCredential(w, c, v, cred, false)
}

// showCredential renders the list with the new sensor's connection settings on top.
// The response must never be stored by the browser or a proxy.
func (s *Server) showCredential(w http.ResponseWriter, c *call, v sensors.View, cred sensors.Credential, replaced bool) error {
	w.Header().Set("Cache-Control", "no-store")
	p := &pairedSensor{ID: v.ID, Name: v.Name, Topic: sensors.ReadingTopic(v.ID), Secret: cred.Reveal(), Replaced: replaced}
	return s.showSensors(w, c, http.StatusOK, "", "", p)
}

func sensorErrorKey(err error) string {
	switch {
	case errors.Is(err, sensors.ErrInvalidName):
		return "sensor.error.name"
	case errors.Is(err, sensors.ErrUnknownModel):
		return "sensor.error.model"
	case errors.Is(err, sensors.ErrTooManySensor):
		return "sensor.error.too_many"
	case errors.Is(err, sensors.ErrState):
		return "sensor.error.state"
	}
	return ""
}

// lastSeen says when a sensor last reported, in plain words.
func lastSeen(v *view, now, t time.Time) string {
	if t.IsZero() {
		return v.T("sensor.never_seen")
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return v.T("time.just_now")
	case d < time.Hour:
		return v.T("time.minutes_ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return v.T("time.hours_ago", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return v.T("time.days_ago", int(d/(24*time.Hour)))
	}
	return v.p.DateTime(t)
}

// sensorTarget resolves the sensor an owner's action names in its path, and checks the
// owner confirmed their password recently; if not, the owner confirms it and returns to
// the sensor's page. It answers the request itself when it returns false.
//
// TS-0045 5.4.2.5: changing a sensor's access is authenticated with a fresh password.
func (s *Server) sensorTarget(w http.ResponseWriter, r *http.Request, c *call) (sensors.View, bool) {
	id := r.PathValue("id")
	if !sensors.ValidID(id) {
		s.sensorNotFound(w, c)
		return sensors.View{}, false
	}
	switch err := s.cfg.Auth.Authorize(c.p, auth.PermManageSensors); {
	case errors.Is(err, auth.ErrReauthRequired):
		redirect(w, r, "/reauth?next="+url.QueryEscape("/sensors/"+id), "")
		return sensors.View{}, false
	case err != nil:
		s.errorPage(w, c, http.StatusForbidden, "error.forbidden.title", "error.forbidden.text")
		return sensors.View{}, false
	}
	v, err := s.cfg.Sensors.Get(id)
	if err != nil {
		s.sensorNotFound(w, c)
		return sensors.View{}, false
	}
	return v, true
}

func (s *Server) sensorNotFound(w http.ResponseWriter, c *call) {
	s.errorPage(w, c, http.StatusNotFound, "sensors.not_found.title", "sensors.not_found.text")
}

// actionFailed shows the sensor's page again with what went wrong, or returns err when
// it is not the user's to fix.
func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, c *call, id string, err error) error {
	if errors.Is(err, sensors.ErrNotFound) {
		s.sensorNotFound(w, c)
		return nil
	}
	key := sensorErrorKey(err)
	if key == "" {
		return err
	}
	c.v.Error = c.v.T(key)
	return s.showSensor(w, r, c, id, http.StatusConflict)
}

// sensorQuarantine disconnects a sensor and refuses it until it is released.
//
// TS-0045 5.3.1.15: a sensor that cannot be updated can be isolated.
func (s *Server) sensorQuarantine(w http.ResponseWriter, r *http.Request, c *call) error {
	v, ok := s.sensorTarget(w, r, c)
	if !ok {
		return nil
	}
	if _, err := s.cfg.Sensors.Quarantine(r.Context(), c.p.User.Username, v.ID); err != nil {
		return s.actionFailed(w, r, c, v.ID, err)
	}
	redirect(w, r, "/sensors/"+v.ID, "sensor_quarantined")
	return nil
}

// sensorRelease lets a quarantined sensor connect again.
//
// TS-0045 5.3.1.15.
func (s *Server) sensorRelease(w http.ResponseWriter, r *http.Request, c *call) error {
	v, ok := s.sensorTarget(w, r, c)
	if !ok {
		return nil
	}
	if _, err := s.cfg.Sensors.Release(r.Context(), c.p.User.Username, v.ID); err != nil {
		return s.actionFailed(w, r, c, v.ID, err)
	}
	redirect(w, r, "/sensors/"+v.ID, "sensor_released")
	return nil
}

// sensorReplace retires a sensor and pairs one of its replacement model under the same
// name, showing the new credential once.
//
// TS-0045 5.3.1.14, 5.3.1.15: a sensor that cannot be updated is replaced.
func (s *Server) sensorReplace(w http.ResponseWriter, r *http.Request, c *call) error {
	v, ok := s.sensorTarget(w, r, c)
	if !ok {
		return nil
	}
	next, cred, err := s.cfg.Sensors.Replace(r.Context(), c.p.User.Username, v.ID, "")
	if err != nil {
		return s.actionFailed(w, r, c, v.ID, err)
	}
	return s.showCredential(w, c, next, cred, true)
}

// sensorRemove unpairs a sensor and deletes its readings, once the owner ticked the
// confirmation.
func (s *Server) sensorRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	v, ok := s.sensorTarget(w, r, c)
	if !ok {
		return nil
	}
	if r.PostFormValue("confirm") != "yes" {
		c.v.Error = c.v.T("sensor.error.confirm")
		return s.showSensor(w, r, c, v.ID, http.StatusBadRequest)
	}
	if err := s.cfg.Sensors.Remove(r.Context(), c.p.User.Username, v.ID); err != nil {
		return s.actionFailed(w, r, c, v.ID, err)
	}
	redirect(w, r, "/sensors", "sensor_removed")
	return nil
}

type readingRow struct{ Time, What, Value string }

type chartGroup struct {
	KindKey string
	Charts  []chart
}

type sensorData struct {
	sensors.View
	ModelName, StateKey, LastSeen, Paired  string
	Kinds                                  string
	Updatable, SupportEnded, CanManage     bool
	Support, ReplacementName               string
	Active, Quarantined, Retired           bool
	Charts                                 []chartGroup
	Recent                                 []readingRow
	SensesKey, NotUpdatableKey, ReplaceKey string
}

// sensorPage shows one sensor: what it senses, charts of its readings, its latest
// readings, its support period and how it is replaced, and the owner's actions.
func (s *Server) sensorPage(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("id")
	if !sensors.ValidID(id) {
		s.sensorNotFound(w, c)
		return nil
	}
	return s.showSensor(w, r, c, id, http.StatusOK)
}

func (s *Server) showSensor(w http.ResponseWriter, r *http.Request, c *call, id string, status int) error {
	v, err := s.cfg.Sensors.Get(id)
	if errors.Is(err, sensors.ErrNotFound) {
		s.sensorNotFound(w, c)
		return nil
	} else if err != nil {
		return err
	}
	now := s.cfg.Now()
	m := v.Spec
	d := sensorData{View: v, ModelName: m.Name, StateKey: "sensor.state." + string(v.State), LastSeen: lastSeen(c.v, now, v.LastSeen),
		Paired:    c.v.T("sensor.paired_by", c.v.p.DateTime(v.CreatedAt), v.CreatedBy),
		CanManage: c.p.Can(auth.PermManageSensors), Active: v.State == sensors.Active,
		Quarantined: v.State == sensors.Quarantined, Retired: v.State == sensors.Retired,
		SensesKey: m.SensesKey, NotUpdatableKey: m.NotUpdatableKey, ReplaceKey: m.ReplaceKey, Updatable: m.Updatable}
	kinds := make([]string, len(m.Kinds))
	for i, k := range m.Kinds {
		kinds[i] = c.v.T("sensor.kind." + string(k))
	}
	d.Kinds = strings.Join(kinds, c.v.T("list.sep"))
	// TS-0045 5.3.1.14: until when the model is supported, in plain words, and whether
	// that date has passed.
	d.SupportEnded = !m.Supported(now)
	if d.SupportEnded {
		d.Support = c.v.T("sensor.support.ended", c.v.p.Date(m.SupportEnd))
	} else {
		d.Support = c.v.T("sensor.support.until", c.v.p.Date(m.SupportEnd), c.v.p.Until(now, m.SupportEnd.Add(24*time.Hour)))
	}
	if rm, ok := sensors.LookupModel(m.Replacement); ok {
		d.ReplacementName = c.v.T("sensors.pair.model_label", rm.Name, rm.ID)
	}
	if d.Charts, err = s.sensorCharts(r.Context(), c, v, now); err != nil {
		return err
	}
	if d.Recent, err = s.recentReadings(r.Context(), c, v.ID, now); err != nil {
		return err
	}
	c.v.Page = d
	s.render(w, status, "sensor", c.v)
	return nil
}

// sensorCharts draws, per kind the sensor reports, its last day and last week.
func (s *Server) sensorCharts(ctx context.Context, c *call, v sensors.View, now time.Time) ([]chartGroup, error) {
	var out []chartGroup
	for _, k := range v.Spec.Kinds {
		g := chartGroup{KindKey: "sensor.kind." + string(k)}
		for _, win := range chartWindows {
			to := now.Truncate(win.Step).Add(win.Step)
			from := to.Add(-win.Span)
			pts, err := s.cfg.Sensors.Series(ctx, v.ID, k, from, to, win.Step)
			if err != nil {
				return nil, err
			}
			g.Charts = append(g.Charts, buildChart(c.v.p, "chart-"+string(k)+"-"+win.Suffix, k, win, from, pts))
		}
		out = append(out, g)
	}
	return out, nil
}

// recentCount is how many of the latest readings the sensor's page lists.
const recentCount = 20

// recentReadings returns the latest readings, newest first. The store lists readings
// oldest first, so it is asked for ever wider windows until one holds enough.
func (s *Server) recentReadings(ctx context.Context, c *call, id string, now time.Time) ([]readingRow, error) {
	to := now.Add(sensors.MaxSkew)
	var rs []sensors.Reading
	for _, span := range []time.Duration{15 * time.Minute, 3 * time.Hour, 24 * time.Hour, sensors.MaxAge} {
		var err error
		rs, err = s.cfg.Sensors.Readings(ctx, id, now.Add(-span), to, 1000)
		if err != nil {
			return nil, err
		}
		if len(rs) >= recentCount {
			break
		}
	}
	out := make([]readingRow, 0, recentCount)
	for i := len(rs) - 1; i >= 0 && len(out) < recentCount; i-- {
		rd := rs[i]
		out = append(out, readingRow{Time: c.v.p.DateTime(rd.Time), What: c.v.T("sensor.kind." + string(rd.Kind)), Value: readingValue(c.v, rd)})
	}
	return out, nil
}

// readingValue writes a reading in plain words: "21.5 °C", "open", "movement".
func readingValue(v *view, rd sensors.Reading) string {
	if binaryKind(rd.Kind) {
		state := "0"
		if rd.Value != 0 {
			state = "1"
		}
		return v.T("sensor.value." + string(rd.Kind) + "." + state)
	}
	return formatValue(rd.Kind, rd.Value)
}
