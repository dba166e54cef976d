package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hearth/internal/sensors"
)

const sensorOwnerPassword = "kitchen kettle morning"

// ownerClient signs in as the owner and replaces the default password; the session is
// then recent enough for sensor management.
func (d *device) ownerClient() *http.Client {
	d.t.Helper()
	c := d.client()
	if r := d.login(c, "owner", d.label["default_password"]); r.status != 200 {
		d.t.Fatalf("login: %v", r)
	}
	if r := d.call(c, "POST", "/api/v1/account/password", map[string]string{"current_password": d.label["default_password"], "new_password": sensorOwnerPassword}); r.status != 204 {
		d.t.Fatalf("change password: %v", r)
	}
	return c
}

type pairedSensor struct {
	Sensor struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"sensor"`
	Connection struct {
		Port     int    `json:"port"`
		Username string `json:"username"`
		ClientID string `json:"client_id"`
		Password string `json:"password"`
		Topic    string `json:"topic"`
	} `json:"connection"`
}

func (d *device) pair(c *http.Client, name, model string) pairedSensor {
	d.t.Helper()
	r := d.call(c, "POST", "/api/v1/sensors", map[string]string{"name": name, "model": model})
	var p pairedSensor
	if r.status != 201 || json.Unmarshal(r.body, &p) != nil || p.Connection.Port == 0 {
		d.t.Fatalf("pair: %v", r)
	}
	return p
}

// freeAddr returns a loopback address whose port was free a moment ago, for a server
// that must come back on the same address after a restart.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// mqttAddr reads the broker's address from the ready file ("" while its socket is shut).
func (d *device) mqttAddr() string {
	d.t.Helper()
	var r struct {
		MQTTAddr string `json:"mqtt_addr"`
	}
	raw, err := os.ReadFile(d.ready)
	if err != nil || json.Unmarshal(raw, &r) != nil {
		d.t.Fatalf("ready file: %v %s", err, raw)
	}
	return r.MQTTAddr
}

// readings lists a sensor's readings of the last day through the API.
func (d *device) readings(c *http.Client, id string) []map[string]any {
	d.t.Helper()
	q := url.Values{"from": {time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)}, "to": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "limit": {"10000"}}
	r := d.call(c, "GET", "/api/v1/sensors/"+id+"/readings?"+q.Encode(), nil)
	var out struct {
		Readings []map[string]any `json:"readings"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		d.t.Fatalf("readings: %v", r)
	}
	return out.Readings
}

// eventCount is the number of security events of a kind.
func (d *device) eventCount(c *http.Client, kind string) int {
	d.t.Helper()
	r := d.call(c, "GET", "/api/v1/events?limit=1000&kind="+kind, nil)
	var out struct {
		Events []json.RawMessage `json:"events"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		d.t.Fatalf("events: %v", r)
	}
	return len(out.Events)
}

// mosquitto runs a Mosquitto command-line client with a deadline and returns whether it
// succeeded and what it printed.
func mosquitto(t *testing.T, tool string, args ...string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, need(t, tool), args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end: %s", tool, strings.Join(args, " "), out)
	}
	return err == nil, string(out)
}

func listeningPorts(t *testing.T, pid int) []int {
	var ports []int
	for _, s := range processSockets(t, pid) {
		if strings.HasPrefix(s.proto, "tcp") && s.state == "0A" {
			ports = append(ports, s.port)
		}
	}
	return ports
}

func reading(v float64) string {
	return string(sensors.Reading{Kind: sensors.Temperature, Value: v, Time: time.Now()}.Marshal())
}

// TS-0045 5.4.2.1, 5.4.2.4, 5.1.1.1, 5.5.2.1, 5.2.2.1: real MQTT clients (Mosquitto's)
// against the release hearthd. A paired sensor publishes over TLS with its own
// credential and its readings are listed by the API; anonymous, plaintext,
// wrong-credential, impersonating and cross-topic attempts are refused and raised as
// events; malformed readings are not stored; a quarantined sensor is refused until
// released; the MQTTS port exists only while a sensor is paired.
func TestSensorsWithMosquittoClients(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	c := d.ownerClient()
	if ports := listeningPorts(t, d.cmd.Process.Pid); len(ports) != 1 || d.mqttAddr() != "" {
		t.Fatalf("listening before any sensor is paired: %v, mqtt_addr %q", ports, d.mqttAddr())
	}
	s := d.pair(c, "Living room", "HS-TH1")
	other := d.pair(c, "Hall", "HS-M1")
	id, port := s.Sensor.ID, strconv.Itoa(s.Connection.Port)
	if decl := loadDeclaration(t); len(decl.Listeners) != 2 || decl.Listeners[1].Name != "mqtts" || decl.Listeners[1].OpenWhile == "" {
		t.Fatalf("declaration does not list the MQTTS listener: %+v", decl.Listeners)
	}
	if ports := listeningPorts(t, d.cmd.Process.Pid); len(ports) != 2 || d.mqttAddr() != "127.0.0.1:"+port {
		t.Fatalf("listening with sensors paired: %v, mqtt_addr %q, port %s", ports, d.mqttAddr(), port)
	}
	tlsArgs := []string{"-h", "localhost", "-p", port, "--cafile", d.root}
	pub := func(args ...string) (bool, string) {
		return mosquitto(t, "mosquitto_pub", append(append([]string{}, tlsArgs...), args...)...)
	}
	own := []string{"-u", id, "-P", s.Connection.Password, "-i", id, "-t", s.Connection.Topic, "-q", "1"}

	// Accepted, over MQTT 3.1.1 and 5.
	if ok, out := pub(append(own, "-m", reading(21.5))...); !ok {
		t.Fatalf("publish: %s", out)
	}
	if ok, out := pub(append(own, "-V", "mqttv5", "-m", reading(22.5))...); !ok {
		t.Fatalf("publish over MQTT 5: %s", out)
	}
	got := d.readings(c, id)
	if len(got) != 2 || got[0]["value"] != 21.5 || got[1]["value"] != 22.5 || got[0]["unit"] != "C" {
		t.Fatalf("stored readings: %v", got)
	}

	// Refused connections.
	refused := map[string][]string{
		"anonymous":        {"-t", s.Connection.Topic, "-q", "1", "-m", reading(1)},
		"wrong credential": {"-u", id, "-P", other.Connection.Password, "-i", id, "-t", s.Connection.Topic, "-q", "1", "-m", reading(1)},
		"other client id":  {"-u", id, "-P", s.Connection.Password, "-i", other.Sensor.ID, "-t", s.Connection.Topic, "-q", "1", "-m", reading(1)},
		"unknown sensor":   {"-u", "aaaaaaaaaaaaaaaa", "-P", s.Connection.Password, "-i", "aaaaaaaaaaaaaaaa", "-t", "sensors/aaaaaaaaaaaaaaaa/reading", "-q", "1", "-m", reading(1)},
	}
	for name, args := range refused {
		if ok, out := pub(args...); ok || !strings.Contains(strings.ToLower(out), "not authori") {
			t.Errorf("%s: accepted or unclear (%v): %s", name, ok, out)
		}
		if got := d.readings(c, id); len(got) != 2 {
			t.Fatalf("%s: stored %v", name, got)
		}
	}
	if n := d.eventCount(c, "sensor.connect_refused"); n < 1 {
		t.Errorf("refused connections raised %d events", n)
	}
	// Plaintext MQTT: the same port without TLS.
	if ok, out := mosquitto(t, "mosquitto_pub", append([]string{"-h", "127.0.0.1", "-p", port}, append(own, "-m", reading(1))...)...); ok {
		t.Errorf("plaintext publish accepted: %s", out)
	}
	// Only TLS 1.2 and 1.3, as on the HTTPS port.
	for _, v := range []string{"-tls1", "-tls1_1"} {
		if ok, out := sclient(t, "127.0.0.1:"+port, v, "-cipher", "ALL:@SECLEVEL=0"); ok {
			t.Errorf("%s negotiated on the MQTTS port:\n%s", v, out)
		}
	}
	if ok, out := sclient(t, "127.0.0.1:"+port, "-tls1_2", "-cipher", "AES128-SHA256"); ok {
		t.Errorf("TLS 1.2 without forward secrecy negotiated on the MQTTS port:\n%s", out)
	}
	// Another sensor's topic: MQTT 5 answers "not authorised"; MQTT 3.1.1 has no way to
	// say so for QoS 1 and is disconnected.
	cross := []string{"-u", id, "-P", s.Connection.Password, "-i", id, "-t", other.Connection.Topic, "-q", "1", "-m", reading(1)}
	if _, out := pub(append(cross, "-V", "mqttv5")...); !strings.Contains(strings.ToLower(out), "not authori") {
		t.Errorf("cross-topic publish over MQTT 5 not refused: %s", out)
	}
	if got := d.readings(c, id); len(got) != 2 {
		t.Fatalf("v5 cross: stored %v", got)
	}
	if ok, out := pub(cross...); ok {
		t.Errorf("cross-topic publish over MQTT 3.1.1 acknowledged: %s", out)
	}
	if got := d.readings(c, other.Sensor.ID); len(got) != 0 {
		t.Fatalf("cross-topic readings stored: %v", got)
	}
	// Subscriptions are refused: sensors publish only.
	if _, out := mosquitto(t, "mosquitto_sub", append(append([]string{}, tlsArgs...), "-u", id, "-P", s.Connection.Password, "-i", id, "-t", "#", "-C", "1", "-W", "3")...); !strings.Contains(out, "denied") || strings.Contains(out, "reading") {
		t.Errorf("subscription allowed: %s", out)
	}
	// Malformed readings are acknowledged (MQTT 3.1.1 cannot refuse them) but not stored.
	for _, bad := range []string{`{"type":"temperature","value":999,"unit":"C","ts":"` + time.Now().UTC().Format(time.RFC3339) + `"}`, `not json`, `{"type":"temperature","value":1,"unit":"C","ts":"2001-01-01T00:00:00Z"}`, `{"type":"temperature","value":1,"unit":"C","ts":"` + time.Now().UTC().Format(time.RFC3339) + `","x":1}`} {
		pub(append(own, "-m", bad)...)
	}
	if _, out := pub(append(own, "-V", "mqttv5", "-m", "{}")...); !strings.Contains(strings.ToLower(out), "payload format invalid") {
		t.Errorf("malformed reading over MQTT 5 not refused: %s", out)
	}
	if got := d.readings(c, id); len(got) != 2 {
		t.Fatalf("malformed readings stored: %v", got)
	}
	for _, kind := range []string{"sensor.topic_refused", "sensor.reading_rejected", "sensor.plaintext_refused"} {
		if n := d.eventCount(c, kind); n < 1 {
			t.Errorf("no %s event", kind)
		}
	}

	// Quarantine: refused until released.
	if r := d.call(c, "POST", "/api/v1/sensors/"+id+"/quarantine", nil); r.status != 200 {
		t.Fatalf("quarantine: %v", r)
	}
	if ok, out := pub(append(own, "-m", reading(23))...); ok {
		t.Fatalf("quarantined sensor published: %s", out)
	}
	if r := d.call(c, "POST", "/api/v1/sensors/"+id+"/release", nil); r.status != 200 {
		t.Fatalf("release: %v", r)
	}
	if ok, out := pub(append(own, "-m", reading(23))...); !ok {
		t.Fatalf("released sensor refused: %s", out)
	}

	// With every sensor removed, the MQTTS port closes.
	for _, sid := range []string{id, other.Sensor.ID} {
		if r := d.call(c, "DELETE", "/api/v1/sensors/"+sid, nil); r.status != 204 {
			t.Fatalf("remove: %v", r)
		}
	}
	if ports := listeningPorts(t, d.cmd.Process.Pid); len(ports) != 1 || d.mqttAddr() != "" {
		t.Fatalf("listening after the last sensor was removed: %v", ports)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		t.Fatal("MQTTS port still accepts connections")
	}
	fmt.Fprintln(os.Stderr) // keep mosquitto's output apart from the test's
}

// TS-0045 5.6.1.3, 5.6.1.1: hearth-sensor, the simulated sensor, publishes to the release
// hearthd with its own credential; while the gateway is stopped it buffers its readings
// and delivers them after the gateway is back (reconnecting with backoff).
func TestHearthSensorAgainstGateway(t *testing.T) {
	mqttAddr := freeAddr(t)
	d := provision(t, newVendor(t))
	d.start(bin.hearthd, "--mqtts-addr", mqttAddr)
	c := d.ownerClient()
	s := d.pair(c, "Study", "HS-TH1")
	cred := filepath.Join(t.TempDir(), "credential")
	if err := os.WriteFile(cred, []byte(s.Connection.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin.sensor, "--broker", mqttAddr, "--server-name", "localhost", "--ca", d.root, "--id", s.Sensor.ID,
		"--credential-file", cred, "--model", "HS-TH1", "--interval", "2s", "--count", "6")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	// Let a first reading through, then take the gateway away for a while.
	deadline := time.Now().Add(20 * time.Second)
	for len(d.readings(c, s.Sensor.ID)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	time.Sleep(5 * time.Second)
	d.start(bin.hearthd, "--mqtts-addr", mqttAddr)
	c = d.client()
	if r := d.login(c, "owner", sensorOwnerPassword); r.status != 200 {
		t.Fatalf("login after restart: %v", r)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("hearth-sensor: %v\n%s", err, logs.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("hearth-sensor did not deliver 6 readings\n%s", logs.String())
	}
	got := d.readings(c, s.Sensor.ID)
	if len(got) < 6 {
		t.Fatalf("stored %d readings, want at least 6: %v\n%s", len(got), got, logs.String())
	}
	if strings.Contains(logs.String(), s.Connection.Password) {
		t.Fatal("hearth-sensor printed its credential")
	}
}

// TS-0045 5.6.1.2: when another program holds the MQTTS port, the gateway keeps serving
// everything else, and opens the port by itself once it is free.
func TestSensorPortTakenDoesNotStopGateway(t *testing.T) {
	addr := freeAddr(t)
	squatter, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	d := provision(t, newVendor(t))
	d.start(bin.hearthd, "--mqtts-addr", addr)
	c := d.ownerClient()
	r := d.call(c, "POST", "/api/v1/sensors", map[string]string{"name": "Attic", "model": "HS-TH1"})
	var s pairedSensor
	if r.status != 201 || json.Unmarshal(r.body, &s) != nil {
		t.Fatalf("pairing while the port is taken: %v", r)
	}
	if got := d.mqttAddr(); got != "" {
		t.Fatalf("ready file names %q while the port is taken", got)
	}
	if r := d.call(c, "GET", "/api/v1/sensors", nil); r.status != 200 {
		t.Fatalf("gateway stopped serving: %v", r)
	}
	squatter.Close()
	deadline := time.Now().Add(20 * time.Second)
	for d.mqttAddr() == "" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if d.mqttAddr() != addr {
		t.Fatalf("port not opened after it was freed: ready file says %q\n%s", d.mqttAddr(), d.logs)
	}
	_, port, _ := net.SplitHostPort(addr)
	if ok, out := mosquitto(t, "mosquitto_pub", "-h", "localhost", "-p", port, "--cafile", d.root, "-u", s.Sensor.ID, "-P", s.Connection.Password,
		"-i", s.Sensor.ID, "-t", s.Connection.Topic, "-q", "1", "-m", reading(19)); !ok {
		t.Fatalf("publish after the port was freed: %s", out)
	}
}
