package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/internal/sensors"
)

type pairedResp struct {
	Sensor struct {
		ID, Name, Model, State, Replacement, ReplacedBy string
		Replaces                                        string
		Senses                                          []string
		Updatable, Supported                            bool
		SupportEnd                                      string `json:"support_end"`
	}
	Connection struct {
		Port                      int
		Username, Password, Topic string
		ClientID                  string `json:"client_id"`
	}
}

// TS-0045 5.1.1.1, 5.3.1.14, 5.3.1.15, 5.7.1.3: the owner pairs a sensor and gets its own
// credential once; the sensor says what it senses, that it cannot be updated, until when
// it is supported and what replaces it; it can be quarantined, released, replaced and
// removed.
func TestSensorLifecycle(t *testing.T) {
	e := newEnv(t)
	owner := e.owner()
	r := owner.do("POST", "/api/v1/sensors", map[string]string{"name": "Living room", "model": "HS-TH1"})
	if r.status != 201 {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	var p pairedResp
	r.decode(t, &p)
	id := p.Sensor.ID
	if !sensors.ValidID(id) || p.Connection.Username != id || p.Connection.ClientID != id || p.Connection.Topic != "sensors/"+id+"/reading" || p.Connection.Port != 8883 {
		t.Fatalf("connection details: %+v", p)
	}
	if len(p.Connection.Password) < 20 {
		t.Fatalf("credential too short: %d characters", len(p.Connection.Password))
	}
	if p.Sensor.Updatable || p.Sensor.SupportEnd != "2031-12-31" || !p.Sensor.Supported || p.Sensor.Replacement != "HS-TH2" || strings.Join(p.Sensor.Senses, ",") != "temperature,humidity,battery" {
		t.Fatalf("sensor description: %+v", p.Sensor)
	}
	if got := r.header.Get("Location"); got != "/api/v1/sensors/"+id {
		t.Fatalf("Location %q", got)
	}
	// The credential is never shown again, nor stored in the clear.
	for _, path := range []string{"/api/v1/sensors", "/api/v1/sensors/" + id} {
		r := owner.do("GET", path, nil)
		if r.status != 200 || strings.Contains(string(r.body), p.Connection.Password) || !strings.Contains(string(r.body), id) {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	// A second sensor has a different credential.
	r = owner.do("POST", "/api/v1/sensors", map[string]string{"name": "Hall", "model": "HS-M1"})
	var p2 pairedResp
	r.decode(t, &p2)
	if r.status != 201 || p2.Connection.Password == p.Connection.Password || p2.Sensor.ID == id {
		t.Fatalf("second sensor: %d %s", r.status, r.body)
	}

	// Readings stored through the service are listed by time range.
	now := e.clk.Now().UTC().Truncate(time.Second)
	for i := range 5 {
		done := make(chan error, 1)
		rd := sensors.Reading{Kind: sensors.Temperature, Value: 20 + float64(i), Time: now.Add(time.Duration(i-5) * time.Minute)}
		if err := e.sensors.Accept(t.Context(), id, rd.Marshal(), "192.0.2.1:1", func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	q := url.Values{"from": {now.Add(-3 * time.Minute).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}}
	r = owner.do("GET", "/api/v1/sensors/"+id+"/readings?"+q.Encode(), nil)
	var list struct {
		Readings []struct {
			Type, Unit string
			Value      float64
			Ts         time.Time
		}
	}
	r.decode(t, &list)
	if r.status != 200 || len(list.Readings) != 3 || list.Readings[0].Value != 22 || list.Readings[0].Unit != "C" || list.Readings[2].Value != 24 {
		t.Fatalf("readings: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"from=yesterday", "from=" + url.QueryEscape(now.Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)), "limit=0", "limit=10001", "other=1"} {
		if r := owner.do("GET", "/api/v1/sensors/"+id+"/readings?"+bad, nil); r.status != 400 {
			t.Errorf("readings?%s: %d %s", bad, r.status, r.body)
		}
	}

	// Quarantine and release.
	if r := owner.do("POST", "/api/v1/sensors/"+id+"/quarantine", nil); r.status != 200 || !strings.Contains(string(r.body), `"state":"quarantined"`) {
		t.Fatalf("quarantine: %d %s", r.status, r.body)
	}
	if err := e.sensors.Authenticate(id, id, []byte(p.Connection.Password), "192.0.2.1:1"); err == nil {
		t.Fatal("quarantined sensor authenticated")
	}
	if r := owner.do("POST", "/api/v1/sensors/"+id+"/quarantine", nil); r.status != 409 || r.code() != "sensor_state" {
		t.Fatalf("quarantine twice: %d %s", r.status, r.body)
	}
	if r := owner.do("POST", "/api/v1/sensors/"+id+"/release", nil); r.status != 200 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	if err := e.sensors.Authenticate(id, id, []byte(p.Connection.Password), "192.0.2.1:1"); err != nil {
		t.Fatalf("released sensor refused: %v", err)
	}

	// Replace: the old one is retired and refused, the new one takes its name.
	r = owner.do("POST", "/api/v1/sensors/"+id+"/replace", map[string]string{})
	var rep pairedResp
	r.decode(t, &rep)
	if r.status != 201 || rep.Sensor.Model != "HS-TH2" || rep.Sensor.Name != "Living room" || rep.Sensor.Replaces != id || rep.Connection.Password == "" {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	if r := owner.do("GET", "/api/v1/sensors/"+id, nil); r.status != 200 || !strings.Contains(string(r.body), `"state":"retired"`) {
		t.Fatalf("replaced sensor: %d %s", r.status, r.body)
	}
	if err := e.sensors.Authenticate(id, id, []byte(p.Connection.Password), "192.0.2.1:1"); err == nil {
		t.Fatal("retired sensor authenticated")
	}
	if r := owner.do("POST", "/api/v1/sensors/"+rep.Sensor.ID+"/replace", map[string]string{"model": "HS-X9"}); r.status != 400 {
		t.Fatalf("replace with unknown model: %d %s", r.status, r.body)
	}

	// Remove deletes it and its readings.
	if r := owner.do("DELETE", "/api/v1/sensors/"+id, nil); r.status != 204 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/api/v1/sensors/" + id, "/api/v1/sensors/" + id + "/readings"} {
		if r := owner.do("GET", path, nil); r.status != 404 {
			t.Fatalf("removed sensor %s: %d %s", path, r.status, r.body)
		}
	}
	if got, _ := e.sensors.Readings(t.Context(), id, now.Add(-time.Hour), now.Add(time.Hour), 100); len(got) != 0 {
		t.Fatalf("readings of a removed sensor kept: %d", len(got))
	}
	if r := owner.do("GET", "/api/v1/sensor-models", nil); r.status != 200 || !strings.Contains(string(r.body), `"HS-D1"`) {
		t.Fatalf("models: %d %s", r.status, r.body)
	}
}

// TS-0045 5.5.2.1: pairing input is validated; TS-0045 5.2.2.7: members only look.
func TestSensorValidationAndRoles(t *testing.T) {
	e := newEnv(t)
	owner := e.owner()
	for _, c := range []struct {
		body any
		code string
	}{
		{map[string]string{"name": "", "model": "HS-TH1"}, "invalid_request"},
		{map[string]string{"name": " padded", "model": "HS-TH1"}, "invalid_request"},
		{map[string]string{"name": "tab\there", "model": "HS-TH1"}, "invalid_request"},
		{map[string]string{"name": strings.Repeat("長", 65), "model": "HS-TH1"}, "invalid_request"},
		{map[string]string{"name": "Hall", "model": "HS-X9"}, "invalid_request"},
		{map[string]any{"name": "Hall", "model": "HS-TH1", "credential": "mine"}, "invalid_request"},
		{`{"name":"Hall","model":"HS-TH1"} {}`, "invalid_request"},
	} {
		if r := owner.do("POST", "/api/v1/sensors", c.body); r.status != 400 || r.code() != c.code {
			t.Errorf("pair %v: %d %s", c.body, r.status, r.body)
		}
	}
	for _, path := range []string{"/api/v1/sensors/ABCDEFGHIJKLMNOP", "/api/v1/sensors/abc", "/api/v1/sensors/aaaaaaaaaaaaaaaa"} {
		if r := owner.do("GET", path, nil); r.status != 404 && r.status != 400 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	if r := owner.do("GET", "/api/v1/sensors", nil); r.status != 200 || strings.TrimSpace(string(r.body)) != `{"sensors":[]}` {
		t.Fatalf("nothing paired: %d %s", r.status, r.body)
	}

	r := owner.do("POST", "/api/v1/users", map[string]string{"username": "alice", "role": "member"})
	var tmp struct {
		Password string `json:"temporary_password"`
	}
	r.decode(t, &tmp)
	member := e.client()
	member.login("alice", tmp.Password)
	member.do("POST", "/api/v1/account/password", map[string]string{"current_password": tmp.Password, "new_password": "another garden secret"})
	r = owner.do("POST", "/api/v1/sensors", map[string]string{"name": "Door", "model": "HS-D1"})
	var p pairedResp
	r.decode(t, &p)
	if r := member.do("GET", "/api/v1/sensors/"+p.Sensor.ID, nil); r.status != 200 {
		t.Fatalf("member reads a sensor: %d %s", r.status, r.body)
	}
	for _, op := range [][2]string{{"POST", "/api/v1/sensors"}, {"POST", "/api/v1/sensors/" + p.Sensor.ID + "/quarantine"}, {"POST", "/api/v1/sensors/" + p.Sensor.ID + "/replace"}, {"DELETE", "/api/v1/sensors/" + p.Sensor.ID}} {
		var body any
		if op[1] == "/api/v1/sensors" {
			body = map[string]string{"name": "Mine", "model": "HS-D1"}
		}
		if r := member.do(op[0], op[1], body); r.status != 403 || r.code() != "forbidden" {
			t.Errorf("member %s %s: %d %s", op[0], op[1], r.status, r.body)
		}
	}
	// An owner whose confirmation is stale must confirm again.
	e.clk.Advance(11 * time.Minute)
	if r := owner.do("DELETE", "/api/v1/sensors/"+p.Sensor.ID, nil); r.status != 403 || r.code() != "reauth_required" {
		t.Fatalf("stale owner removes a sensor: %d %s", r.status, r.body)
	}
}
