package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TS-0045 5.6.1.2, 5.6.1.3, 5.7.1.9: what the gateway sends its vendor leaves only with
// the owner's consent, waits on disk while the vendor's cloud is away, and arrives after
// it returns; withdrawing consent stops it at once. Watched from the cloud's side: the
// vendor's store of what each unit sent.
func TestTelemetryConsentAndOutage(t *testing.T) {
	cloudAddr := freeAddr(t)
	vendor := newVendor(t)
	var cloud *exec.Cmd
	startCloud := func() {
		ready := filepath.Join(t.TempDir(), "cloud.json")
		cloud = exec.Command(bin.cloud, "serve", "--dir", vendor, "--addr", cloudAddr, "--ready-file", ready)
		if err := cloud.Start(); err != nil {
			t.Fatal(err)
		}
		cmd := cloud
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitAddr(t, ready, "addr", nil)
	}
	stopCloud := func() { cloud.Process.Kill(); cloud.Wait() }
	startCloud()

	d := provision(t, vendor)
	d.start(bin.hearthd, "--cloud-url", "https://localhost:"+cloudAddr[strings.LastIndex(cloudAddr, ":")+1:])
	c := d.ownerClient()
	s := d.pair(c, "Porch", "HS-D1")
	// quarantine raises a warning (a security event the gateway shares with consent).
	quarantine := func() {
		t.Helper()
		if r := d.call(c, "POST", "/api/v1/sensors/"+s.Sensor.ID+"/quarantine", nil); r.status != 200 {
			t.Fatalf("quarantine: %v", r)
		}
		if r := d.call(c, "POST", "/api/v1/sensors/"+s.Sensor.ID+"/release", nil); r.status != 200 {
			t.Fatalf("release: %v", r)
		}
	}
	received := func() int { return vendorCount(t, vendor, "sensor.quarantined") }
	waitFor := func(n int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for received() < n && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if got := received(); got != n {
			t.Fatalf("the cloud received %d events, want %d", got, n)
		}
	}
	setTelemetry := func(on bool) {
		t.Helper()
		d.setConsents(c, map[string]bool{"telemetry": on})
	}

	// Off by default: nothing leaves.
	quarantine()
	time.Sleep(3 * time.Second)
	if n := received(); n != 0 {
		t.Fatalf("sent without consent: %d events", n)
	}
	// With consent: sent, and only what happened after it was given.
	setTelemetry(true)
	quarantine()
	waitFor(1, 20*time.Second)
	for _, private := range []string{s.Sensor.ID, "Porch", "owner", "127.0.0.1", d.label["serial"]} {
		if n := vendorCount(t, vendor, private); n != 0 {
			t.Errorf("the cloud received %q %d times", private, n)
		}
	}
	// The cloud goes away; the gateway keeps working and keeps the events.
	stopCloud()
	quarantine()
	quarantine()
	time.Sleep(3 * time.Second)
	if r := d.call(c, "GET", "/api/v1/sensors", nil); r.status != 200 {
		t.Fatalf("local operation during the outage: %v", r)
	}
	startCloud()
	waitFor(3, 60*time.Second)
	// Withdrawn: nothing more leaves.
	setTelemetry(false)
	quarantine()
	time.Sleep(3 * time.Second)
	if n := received(); n != 3 {
		t.Fatalf("sent after consent was withdrawn: %d events", n)
	}
}
