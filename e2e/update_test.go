package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hearth/internal/release/releasetest"
)

var killTrials = flag.Int("kill-trials", 50, "update kill trials in TestUpdateSurvivesKills")

// updRig is a vendor with a TUF repository and its services, and a device provisioned
// with firmware 1.0.0 running under hearth-launcher.
type updRig struct {
	t        *testing.T
	cloud    *exec.Cmd
	vendor   string
	data     string
	cloudURL string
	ready    string
	dev      *device
	c        *http.Client
	launcher *exec.Cmd
	done     chan error
	// args are passed on to hearthd after the rig's own.
	args []string
}

const updOwnerPassword = "my own update passphrase"

func newUpdRig(t *testing.T) *updRig {
	t.Helper()
	g := &updRig{t: t, vendor: newVendor(t), ready: filepath.Join(t.TempDir(), "ready.json")}
	g.release("1.0.0", bin.hearthd, "1", false)
	dir := t.TempDir()
	g.data = filepath.Join(dir, "device")
	labelPath := filepath.Join(dir, "label.json")
	run(t, bin.cloud, "provision", "--dir", g.vendor, "--out", g.data, "--label", labelPath, "--firmware", "1.0.0")
	var label map[string]string
	raw, _ := os.ReadFile(labelPath)
	json.Unmarshal(raw, &label)
	g.startCloud()
	g.dev = &device{t: t, root: filepath.Join(g.vendor, "pki", "root-ca.crt")}
	g.start()
	g.c = g.dev.client()
	if r := g.dev.login(g.c, "owner", label["default_password"]); r.status != 200 {
		t.Fatalf("label login: %v", r)
	}
	g.mustCall("POST", "/api/v1/account/password", map[string]string{"current_password": label["default_password"], "new_password": updOwnerPassword}, 204)
	g.mustCall("PUT", "/api/v1/settings", map[string]any{"complete_setup": true}, 200)
	// Manual installs in these tests; TestAutomaticUpdate uses the default (on).
	g.mustCall("PUT", "/api/v1/update/settings", map[string]any{"auto_update": false}, 200)
	return g
}

// release signs artifact as version with the given security version.
func (g *updRig) release(version, artifact, securityVersion string, interrupts bool) {
	g.t.Helper()
	run(g.t, bin.cloud, "release", "--dir", g.vendor, "--version", version, "--artifact", artifact,
		"--notes", "release "+version, "--fixes", "fixes for "+version, fmt.Sprintf("--interrupts=%v", interrupts),
		"--rollout", "100", "--security-version", securityVersion)
}

func (g *updRig) startCloud() {
	g.t.Helper()
	ready := filepath.Join(g.t.TempDir(), "cloud.json")
	cmd := exec.Command(bin.cloud, "serve", "--dir", g.vendor, "--addr", "127.0.0.1:0", "--ready-file", ready)
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.cloud = cmd
	g.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := waitAddr(g.t, ready, "addr", nil)
	g.cloudURL = "https://localhost:" + addr[strings.LastIndex(addr, ":")+1:]
}

// waitAddr polls a ready file for its address field.
func waitAddr(t *testing.T, path, field string, exited chan error) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var r map[string]any
		if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &r) == nil {
			if a, ok := r[field].(string); ok && a != "" {
				return a
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("process exited while starting: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready within 60 s", path)
	return ""
}

// start runs hearth-launcher (in its own process group) and waits for hearthd.
func (g *updRig) start() {
	g.t.Helper()
	os.Remove(g.ready)
	g.launcher = exec.Command(bin.launcher, append([]string{"--data", g.data, "--ready-file", g.ready, "--health-timeout", "30s", "--",
		"--https-addr", "127.0.0.1:0", "--cloud-url", g.cloudURL}, g.args...)...)
	g.launcher.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := g.launcher.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.done = make(chan error, 1)
	cmd := g.launcher
	go func() { g.done <- cmd.Wait() }()
	g.t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	g.dev.addr = waitAddr(g.t, g.ready, "https_addr", g.done)
}

// stop ends the launcher and hearthd gracefully.
func (g *updRig) stop() {
	g.t.Helper()
	g.launcher.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(20 * time.Second):
		g.t.Fatal("launcher did not stop")
	}
}

// kill ends the launcher and hearthd at once, as a power cut does.
func (g *updRig) kill() {
	syscall.Kill(-g.launcher.Process.Pid, syscall.SIGKILL)
	<-g.done
}

func (g *updRig) mustCall(method, path string, body any, want int) reply {
	g.t.Helper()
	r := g.dev.call(g.c, method, path, body)
	if r.status != want {
		g.t.Fatalf("%s %s: %v, want %d", method, path, r, want)
	}
	return r
}

type updStatus struct {
	CurrentVersion string `json:"current_version"`
	Slot           string
	LastError      string `json:"last_error"`
	LastInstall    string `json:"last_install"`
	Available      *struct {
		Version string
		Fixes   string
	}
}

func (g *updRig) status() updStatus {
	g.t.Helper()
	var s updStatus
	json.Unmarshal(g.mustCall("GET", "/api/v1/update", nil, 200).body, &s)
	return s
}

func (g *updRig) check() updStatus {
	g.t.Helper()
	var s updStatus
	json.Unmarshal(g.mustCall("POST", "/api/v1/update/check", nil, 200).body, &s)
	return s
}

// awaitInstalled waits until the launcher has committed version (after its health check).
func (g *updRig) awaitInstalled(version string) {
	g.t.Helper()
	g.awaitVersion(version)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s := g.tryStatus(); s != nil && strings.Contains(s.LastInstall, "installed "+version) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("%s never committed: %+v", version, g.tryStatus())
}

// awaitVersion waits until the gateway, restarted by the launcher, reports version.
func (g *updRig) awaitVersion(version string) {
	g.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		var r map[string]any
		if raw, err := os.ReadFile(g.ready); err == nil && json.Unmarshal(raw, &r) == nil {
			if a, _ := r["https_addr"].(string); a != "" {
				g.dev.addr = a
				if res := g.tryStatus(); res != nil && res.CurrentVersion == version {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.t.Fatalf("the gateway did not come back as %s", version)
}

func (g *updRig) tryStatus() *updStatus {
	req, _ := http.NewRequest("GET", g.dev.url()+"/api/v1/update", nil)
	res, err := g.c.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var s updStatus
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&s) != nil {
		return nil
	}
	return &s
}

// TS-0045 5.3.1.3, 5.3.1.9, 5.3.1.10, 5.5.1.1: an update from 1.0.0 to 1.1.0 installs
// from the web API, the device reports 1.1.0 after restart, and a slot altered on disk
// is refused at launch while the other slot runs.
func TestUpdateEndToEnd(t *testing.T) {
	g := newUpdRig(t)
	if s := g.status(); s.CurrentVersion != "1.0.0" || s.Slot != "a" {
		t.Fatalf("before: %+v", s)
	}
	g.release("1.1.0", bin.hearthd110, "1", false)
	s := g.check()
	if s.Available == nil || s.Available.Version != "1.1.0" || s.Available.Fixes != "fixes for 1.1.0" {
		t.Fatalf("check: %+v", s)
	}
	g.mustCall("POST", "/api/v1/update/install", nil, 202)
	g.awaitInstalled("1.1.0")
	if s := g.status(); s.Slot != "b" || !strings.Contains(s.LastInstall, "installed 1.1.0") {
		t.Fatalf("after the update: %+v", s)
	}
	g.stop()
	g.start()
	if s := g.status(); s.CurrentVersion != "1.1.0" {
		t.Fatalf("after a restart: %+v", s)
	}
	// Alter the running slot on disk: the launcher refuses it and runs the other one.
	g.stop()
	p := filepath.Join(g.data, "slots", "b", "hearthd")
	raw, _ := os.ReadFile(p)
	raw[len(raw)/2] ^= 1
	os.WriteFile(p, raw, 0o700)
	g.start()
	if s := g.status(); s.CurrentVersion != "1.0.0" || s.Slot != "a" {
		t.Fatalf("after altering slot b: %+v", s)
	}
	var evs struct{ Events []struct{ Kind string } }
	json.Unmarshal(g.mustCall("GET", "/api/v1/events?kind=firmware.rejected", nil, 200).body, &evs)
	if len(evs.Events) == 0 {
		t.Fatal("no security event for the altered slot")
	}
}

// TS-0045 5.3.1.4, 5.3.1.6: with the default settings (automatic updates on), a check
// that finds a release installs it without anyone's help.
func TestAutomaticUpdate(t *testing.T) {
	g := newUpdRig(t)
	g.mustCall("PUT", "/api/v1/update/settings", map[string]any{"auto_update": true}, 200)
	g.release("1.1.0", bin.hearthd110, "2", false)
	g.dev.call(g.c, "POST", "/api/v1/update/check", nil) // may not answer: the gateway restarts
	g.awaitInstalled("1.1.0")
	// The launcher records the event right after it commits the slot.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var evs struct{ Events []struct{ Kind string } }
		json.Unmarshal(g.mustCall("GET", "/api/v1/events?kind=update.installed", nil, 200).body, &evs)
		if len(evs.Events) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update.installed events: %+v", evs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every attack on an update leaves the device on 1.0.0 with the reason in its status.
func TestUpdateRefusals(t *testing.T) {
	cases := []struct {
		name    string
		attack  func(g *updRig) error
		install bool // refused at install (program) rather than at check (metadata)
		reason  string
	}{
		{"flipped byte", func(g *updRig) error { return releasetest.TamperTarget(g.vendor, "1.1.0", releasetest.FlipByte) }, true, "does not match"},
		{"endless data", func(g *updRig) error { return releasetest.TamperTarget(g.vendor, "1.1.0", releasetest.Append) }, true, "does not match"},
		{"expired timestamp", func(g *updRig) error { return releasetest.ExpireTimestamp(g.vendor) }, false, "expired"},
		{"mixed snapshot", func(g *updRig) error { return releasetest.MixAndMatch(g.vendor, "snapshot") }, false, "mismatch"},
		{"older signed version", func(g *updRig) error { return releasetest.OfferOlder(g.vendor, "1.0.0") }, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newUpdRig(t)
			g.release("1.1.0", bin.hearthd110, "2", false)
			if tc.install {
				if s := g.check(); s.Available == nil {
					t.Fatalf("no offer before the attack: %+v", s)
				}
			}
			if err := tc.attack(g); err != nil {
				t.Fatal(err)
			}
			s := g.check()
			if tc.install {
				if r := g.dev.call(g.c, "POST", "/api/v1/update/install", nil); r.status == 202 {
					t.Fatal("an attacked update installed")
				}
				s = g.status()
			}
			if s.CurrentVersion != "1.0.0" || (tc.reason != "" && !strings.Contains(s.LastError, tc.reason)) {
				t.Fatalf("after the attack: %+v", s)
			}
			if tc.reason == "" && s.Available != nil {
				t.Fatalf("an older version is offered: %+v", s)
			}
			// TS-0045 5.8.1.1: each check is logged, each refusal as a warning (a
			// refused download, as a failed install).
			refusal := "update.check_refused"
			if tc.install {
				refusal = "update.failed"
			}
			if tc.reason != "" && g.dev.eventCount(g.c, refusal) == 0 {
				t.Errorf("the refusal raised no %s event", refusal)
			}
			if g.dev.eventCount(g.c, "update.checked")+g.dev.eventCount(g.c, "update.check_refused") == 0 {
				t.Error("no event for the update check")
			}
		})
	}
}

// TS-0045 5.3.1.10: the device refuses update servers whose certificate is not its vendor's.
func TestUpdateServerMustBeVendors(t *testing.T) {
	g := newUpdRig(t)
	other := newUpdRig(t)
	g.stop()
	g.cloudURL = other.cloudURL
	g.start()
	if s := g.check(); s.LastError == "" || !strings.Contains(s.LastError, "certificate") {
		t.Fatalf("another vendor's server: %+v", s)
	}
}

// A new version that fails its health check returns the device to the previous one by
// itself and is not offered again.
func TestFailedHealthCheckReturnsToPreviousVersion(t *testing.T) {
	g := newUpdRig(t)
	broken := filepath.Join(t.TempDir(), "hearthd")
	os.WriteFile(broken, []byte("#!/bin/sh\necho broken firmware >&2\nexit 1\n"), 0o755)
	g.release("1.1.0", broken, "2", false)
	g.check()
	g.mustCall("POST", "/api/v1/update/install", nil, 202)
	deadline := time.Now().Add(90 * time.Second)
	for {
		g.awaitVersion("1.0.0")
		if s := g.tryStatus(); s != nil && strings.Contains(s.LastInstall, "rolled back from 1.1.0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollback: %+v", g.tryStatus())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s := g.check(); s.Available != nil {
		t.Fatalf("the rejected version is offered again: %+v", s)
	}
}

// Killing the gateway at random points of a download and install never leaves a device
// that fails to start a verified slot. (Run with -kill-trials 500 for the long version.)
//
// TS-0045 5.6.1.1: an update interrupted by a power cut leaves the device working.
func TestUpdateSurvivesKills(t *testing.T) {
	g := newUpdRig(t)
	// The 1.0.0 program published as 1.1.0: the device keeps reporting 1.0.0, so every
	// trial finds the update offered again and starts another install.
	g.release("1.1.0", bin.hearthd, "1", false)
	versions := map[string]int{}
	for i := 0; i < *killTrials; i++ {
		g.mustCall("POST", "/api/v1/session/reauth", map[string]string{"password": updOwnerPassword}, 204)
		g.check()
		go func(url string) { // the answer is lost when the kill comes first
			if res, err := g.c.Post(url, "application/json", nil); err == nil {
				res.Body.Close()
			}
		}(g.dev.url() + "/api/v1/update/install")
		time.Sleep(time.Duration(rand.IntN(800)) * time.Millisecond)
		g.kill()
		g.start()
		s := g.status()
		versions[s.Slot]++
	}
	t.Logf("%d kill trials; the device came back every time (slots: %v)", *killTrials, versions)
}

// Offline mode: with the vendor unreachable, an update file from hearth-cloud bundle,
// uploaded through the API, is verified like an online update and installed.
func TestOfflineBundleUpload(t *testing.T) {
	g := newUpdRig(t)
	g.release("1.1.0", bin.hearthd110, "2", false)
	bundle := filepath.Join(t.TempDir(), "update.tar")
	run(t, bin.cloud, "bundle", "--dir", g.vendor, "--version", "1.1.0", "--out", bundle)
	g.cloud.Process.Kill() // no network from here on
	g.cloud.Wait()
	raw, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), raw...)
	bad[len(bad)/2] ^= 1
	if r := g.upload(bad); r.status == 202 {
		t.Fatal("a damaged bundle installed")
	}
	if r := g.upload(raw); r.status != 202 {
		t.Fatalf("bundle upload: %v", r)
	}
	g.awaitInstalled("1.1.0")
}

func (g *updRig) upload(body []byte) reply {
	g.t.Helper()
	req, _ := http.NewRequest("POST", g.dev.url()+"/api/v1/update/upload", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-tar")
	res, err := g.c.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}
