package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startDemo runs hearth-demo --dir dir and waits for its ready line.
func startDemo(t *testing.T, dir string) (*exec.Cmd, map[string]any, chan error) {
	t.Helper()
	cmd := exec.Command(bin.demo, "--dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "hearth-demo ready:") {
				ready <- sc.Text()
			}
		}
		close(ready)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case line, ok := <-ready:
		if !ok {
			t.Fatal("hearth-demo ended without a ready line")
		}
		if !strings.Contains(line, "https://localhost:") {
			t.Fatalf("ready line lacks the URL: %s", line)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("hearth-demo not ready within 60 s")
	}
	var st map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return cmd, st, done
}

func stopDemo(t *testing.T, cmd *exec.Cmd, done chan error) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("hearth-demo exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("hearth-demo did not stop")
	}
}

// hearth-demo starts everything on first run, describes it in demo.json, and reuses its
// state on the next run.
func TestDemoStartsAndReusesState(t *testing.T) {
	dir := t.TempDir()
	cmd, st, done := startDemo(t, dir)
	for _, k := range []string{"gateway_url", "cloud_url", "mqtt_addr", "ca_cert", "username", "default_password", "gateway_pid", "gateway_data", "vendor_dir"} {
		if _, ok := st[k]; !ok {
			t.Errorf("demo.json lacks %s", k)
		}
	}
	d := &device{t: t, root: st["ca_cert"].(string)}
	// The vendor services answer over TLS under the same vendor root.
	cloudURL, _ := st["cloud_url"].(string)
	if !strings.HasPrefix(cloudURL, "https://localhost:") {
		t.Fatalf("cloud_url %q", cloudURL)
	}
	if res, err := d.client().Get(cloudURL + "/"); err != nil || res.StatusCode != 404 {
		t.Fatalf("vendor services at %s: %v", cloudURL, err)
	}
	d.addr = strings.TrimPrefix(st["gateway_url"].(string), "https://")
	c := d.client()
	if r := d.login(c, st["username"].(string), st["default_password"].(string)); r.status != 200 {
		t.Fatalf("label login at the demo gateway: %v", r)
	}
	if r := d.call(c, "POST", "/api/v1/account/password", map[string]string{"current_password": st["default_password"].(string), "new_password": "demo passphrase kept"}); r.status != 204 {
		t.Fatalf("password change: %v", r)
	}
	// A sensor paired at the demo gateway publishes to the address in demo.json.
	sensor := d.pair(c, "Demo room", "HS-TH1")
	host, mqttPort, _ := strings.Cut(st["mqtt_addr"].(string), ":")
	if ok, out := mosquitto(t, "mosquitto_pub", "-h", host, "-p", mqttPort, "--cafile", d.root, "-u", sensor.Sensor.ID, "-P", sensor.Connection.Password,
		"-i", sensor.Sensor.ID, "-t", sensor.Connection.Topic, "-q", "1", "-m", reading(20.5)); !ok {
		t.Fatalf("publish to the demo gateway: %s", out)
	}
	if got := d.readings(c, sensor.Sensor.ID); len(got) != 1 {
		t.Fatalf("demo gateway stored %v", got)
	}
	pid := int(st["gateway_pid"].(float64))
	stopDemo(t, cmd, done)
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("gateway process %d still runs after the demo stopped", pid)
	}

	cmd, st2, done := startDemo(t, dir)
	defer stopDemo(t, cmd, done)
	if st2["default_password"] != st["default_password"] || st2["ca_cert"] != st["ca_cert"] {
		t.Fatal("second start provisioned afresh instead of reusing the state")
	}
	d.addr = strings.TrimPrefix(st2["gateway_url"].(string), "https://")
	if r := d.login(d.client(), st["username"].(string), "demo passphrase kept"); r.status != 200 {
		t.Fatalf("changed password after restart: %v", r)
	}
}
