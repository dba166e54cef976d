package api

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"hearth/internal/auth"
	"hearth/internal/sensors"
)

var errSensorsUnavailable = &apiError{status: http.StatusConflict, code: "sensors_unavailable", msg: "this gateway runs without its sensor broker (hearthd --mqtts-addr)"}

func init() {
	domainErrors = append(domainErrors, []struct {
		err error
		api *apiError
	}{
		{sensors.ErrNotFound, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such sensor"}},
		{sensors.ErrUnknownModel, badRequest("invalid_request", "unknown sensor model; see GET /api/v1/sensor-models", "/model")},
		{sensors.ErrInvalidName, badRequest("invalid_request", sensors.ErrInvalidName.Error()+": 1 to 64 printable characters", "/name")},
		{sensors.ErrState, &apiError{status: http.StatusConflict, code: "sensor_state", msg: "the sensor's state does not allow this"}},
		{sensors.ErrTooManySensor, &apiError{status: http.StatusConflict, code: "too_many_sensors", msg: "the gateway holds the most sensors it can"}},
	}...)
}

// sensorView is a sensor as GET /sensors shows it.
type sensorView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Model      string     `json:"model"`
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	Replaces   string     `json:"replaces,omitempty"`
	ReplacedBy string     `json:"replaced_by,omitempty"`
	Senses     []string   `json:"senses"`
	Updatable  bool       `json:"updatable"`
	SupportEnd string     `json:"support_end"`
	Supported  bool       `json:"supported"`
	// Replacement is the model that replaces this one when its support ends.
	Replacement string `json:"replacement"`
}

func (s *Server) sensorView(v sensors.View) sensorView {
	kinds := make([]string, len(v.Spec.Kinds))
	for i, k := range v.Spec.Kinds {
		kinds[i] = string(k)
	}
	return sensorView{ID: v.ID, Name: v.Name, Model: v.Model, State: string(v.State), CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy,
		LastSeen: timeOrNil(v.LastSeen), Replaces: v.Replaces, ReplacedBy: v.ReplacedBy, Senses: kinds, Updatable: v.Spec.Updatable,
		SupportEnd: v.Spec.SupportEnd.Format(time.DateOnly), Supported: v.Spec.Supported(s.cfg.Now()), Replacement: v.Spec.Replacement}
}

// pairedView is a newly paired sensor with what it needs to connect, shown once.
type pairedView struct {
	Sensor     sensorView `json:"sensor"`
	Connection struct {
		Port     int    `json:"port,omitempty"`
		Username string `json:"username"`
		ClientID string `json:"client_id"`
		Password string `json:"password"`
		Topic    string `json:"topic"`
	} `json:"connection"`
}

func (s *Server) paired(v sensors.View, cred sensors.Credential) pairedView {
	var p pairedView
	p.Sensor = s.sensorView(v)
	p.Connection.Username, p.Connection.ClientID, p.Connection.Topic = v.ID, v.ID, sensors.ReadingTopic(v.ID)
	p.Connection.Password = cred.Reveal()
	if s.cfg.SensorsAddr != nil {
		if _, port, err := net.SplitHostPort(s.cfg.SensorsAddr()); err == nil {
			p.Connection.Port, _ = strconv.Atoi(port)
		}
	}
	return p
}

// sensorsService returns the registry after checking the caller may use it (for
// operations needing re-authentication) and that the gateway has one.
func (s *Server) sensorsService(c *call, perm auth.Permission) (*sensors.Service, error) {
	if err := s.cfg.Auth.Authorize(c.p, perm); err != nil {
		return nil, err
	}
	if s.cfg.Sensors == nil {
		return nil, errSensorsUnavailable
	}
	return s.cfg.Sensors, nil
}

// sensorTarget is sensorsService for an operation on the sensor named by the path's
// {id}, which must have the form of a sensor ID.
func (s *Server) sensorTarget(r *http.Request, c *call, perm auth.Permission) (*sensors.Service, string, error) {
	svc, err := s.sensorsService(c, perm)
	if err != nil {
		return nil, "", err
	}
	id := r.PathValue("id")
	if !sensors.ValidID(id) {
		return nil, "", errNotFound
	}
	return svc, id, nil
}

type modelView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Senses      []string `json:"senses"`
	Updatable   bool     `json:"updatable"`
	SupportEnd  string   `json:"support_end"`
	Replacement string   `json:"replacement"`
}

// listSensorModels: GET /sensor-models.
//
// TS-0045 5.3.1.14: each model says whether it can be updated, until when it is
// supported and what replaces it.
func (s *Server) listSensorModels(w http.ResponseWriter, _ *http.Request, _ *call) error {
	out := []modelView{}
	for _, m := range sensors.Models() {
		kinds := make([]string, len(m.Kinds))
		for i, k := range m.Kinds {
			kinds[i] = string(k)
		}
		out = append(out, modelView{ID: m.ID, Name: m.Name, Senses: kinds, Updatable: m.Updatable, SupportEnd: m.SupportEnd.Format(time.DateOnly), Replacement: m.Replacement})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
	return nil
}

// listSensors: GET /sensors.
//
// TS-0045 5.7.1.3: each sensor says what it senses.
func (s *Server) listSensors(w http.ResponseWriter, _ *http.Request, c *call) error {
	svc, err := s.sensorsService(c, auth.PermViewSensors)
	if err != nil {
		return err
	}
	out := []sensorView{}
	for _, v := range svc.List() {
		out = append(out, s.sensorView(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sensors": out})
	return nil
}

type pairRequest struct {
	Name  string `json:"name"`
	Model string `json:"model"`
}

// pairSensor: POST /sensors. The credential is in this response only.
//
// TS-0045 5.1.1.1: each sensor gets its own random credential, never a default one.
func (s *Server) pairSensor(w http.ResponseWriter, r *http.Request, c *call) error {
	svc, err := s.sensorsService(c, auth.PermManageSensors)
	if err != nil {
		return err
	}
	var req pairRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	v, cred, err := svc.Pair(r.Context(), c.p.User.Username, req.Name, req.Model)
	if err != nil {
		return err
	}
	w.Header().Set("Location", apiPrefix+"/sensors/"+v.ID)
	writeJSON(w, http.StatusCreated, s.paired(v, cred))
	return nil
}

func (s *Server) getSensor(w http.ResponseWriter, r *http.Request, c *call) error {
	svc, id, err := s.sensorTarget(r, c, auth.PermViewSensors)
	if err != nil {
		return err
	}
	v, err := svc.Get(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sensorView(v))
	return nil
}

// removeSensor: DELETE /sensors/{id}; its readings are deleted with it.
func (s *Server) removeSensor(w http.ResponseWriter, r *http.Request, c *call) error {
	svc, id, err := s.sensorTarget(r, c, auth.PermManageSensors)
	if err != nil {
		return err
	}
	if err := svc.Remove(r.Context(), c.p.User.Username, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// quarantineSensor: POST /sensors/{id}/quarantine.
//
// TS-0045 5.3.1.15: a sensor that cannot be updated can be isolated: it is disconnected
// and refused until released.
func (s *Server) quarantineSensor(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.changeSensor(w, r, c, (*sensors.Service).Quarantine)
}

// releaseSensor: POST /sensors/{id}/release.
func (s *Server) releaseSensor(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.changeSensor(w, r, c, (*sensors.Service).Release)
}

func (s *Server) changeSensor(w http.ResponseWriter, r *http.Request, c *call, op func(*sensors.Service, context.Context, string, string) (sensors.View, error)) error {
	svc, id, err := s.sensorTarget(r, c, auth.PermManageSensors)
	if err != nil {
		return err
	}
	v, err := op(svc, r.Context(), c.p.User.Username, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sensorView(v))
	return nil
}

type replaceRequest struct {
	Model string `json:"model"`
}

// replaceSensor: POST /sensors/{id}/replace. The old sensor is retired (its readings
// stay); the new one, of the given model or the declared replacement, takes its name.
//
// TS-0045 5.3.1.15: the hardware of a sensor that cannot be updated can be replaced.
func (s *Server) replaceSensor(w http.ResponseWriter, r *http.Request, c *call) error {
	svc, id, err := s.sensorTarget(r, c, auth.PermManageSensors)
	if err != nil {
		return err
	}
	var req replaceRequest
	if len(c.body) > 0 {
		if err := decode(c.body, &req); err != nil {
			return err
		}
	}
	v, cred, err := svc.Replace(r.Context(), c.p.User.Username, id, req.Model)
	if err != nil {
		return err
	}
	w.Header().Set("Location", apiPrefix+"/sensors/"+v.ID)
	writeJSON(w, http.StatusCreated, s.paired(v, cred))
	return nil
}

type readingView struct {
	Type  string    `json:"type"`
	Value float64   `json:"value"`
	Unit  string    `json:"unit"`
	Time  time.Time `json:"ts"`
}

// maxReadingsPage is the most readings one request returns.
const maxReadingsPage = 10000

// listReadings: GET /sensors/{id}/readings?from=&to=&limit=, oldest first.
func (s *Server) listReadings(w http.ResponseWriter, r *http.Request, c *call) error {
	svc, id, err := s.sensorTarget(r, c, auth.PermViewSensors)
	if err != nil {
		return err
	}
	if _, err := svc.Get(id); err != nil {
		return err
	}
	q := r.URL.Query()
	to := s.cfg.Now()
	from := to.Add(-24 * time.Hour)
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return badRequest("invalid_request", p.name+" must be an RFC 3339 time", p.name)
			}
			*p.t = t
		}
	}
	if !from.Before(to) {
		return badRequest("invalid_request", "from must be before to", "from")
	}
	limit := 1000
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l) // validated against the document already
	}
	list, err := svc.Readings(r.Context(), id, from, to, min(limit, maxReadingsPage))
	if err != nil {
		return err
	}
	out := make([]readingView, len(list))
	for i, rd := range list {
		out[i] = readingView{Type: string(rd.Kind), Value: rd.Value, Unit: rd.Kind.Unit(), Time: rd.Time}
	}
	writeJSON(w, http.StatusOK, map[string]any{"readings": out, "from": from.UTC(), "to": to.UTC()})
	return nil
}
