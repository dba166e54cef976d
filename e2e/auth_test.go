package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// curl runs curl against the device trusting only the vendor root, with a cookie jar,
// and returns the HTTP status and body.
func (d *device) curl(jar string, method, path, body string) (int, string) {
	d.t.Helper()
	args := []string{"-sS", "--cacert", d.root, "--proto", "=https", "--tlsv1.2", "-c", jar, "-b", jar,
		"-X", method, "-o", "-", "-w", "\n%{http_code}", d.url() + path}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "--data-binary", body)
	}
	out, err := exec.Command(need(d.t, "curl"), args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("curl %s %s: %v\n%s", method, path, err, out)
	}
	s := strings.TrimRight(string(out), "\n")
	i := strings.LastIndex(s, "\n")
	code, _ := strconv.Atoi(s[i+1:])
	return code, s[:i]
}

// TS-0045 5.1.1.1, 5.1.2.1: curl drives the whole first-use flow against the real
// binaries: label password, forced change, new password works, old one fails.
func TestCurlLoginAndPasswordChange(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	jar := filepath.Join(t.TempDir(), "cookies")
	label := d.label["default_password"]

	code, body := d.curl(jar, "POST", "/api/v1/session", `{"username":"owner","password":"`+label+`"}`)
	if code != 200 || !strings.Contains(body, `"password_change_required":true`) {
		t.Fatalf("label login: %d %s", code, body)
	}
	if code, body := d.curl(jar, "GET", "/api/v1/device", ""); code != 403 || !strings.Contains(body, "password_change_required") {
		t.Fatalf("device before the change: %d %s", code, body)
	}
	if code, body := d.curl(jar, "POST", "/api/v1/account/password", `{"current_password":"`+label+`","new_password":"`+label+`"}`); code != 400 || !strings.Contains(body, "password_reused") {
		t.Fatalf("label password as the new one: %d %s", code, body)
	}
	if code, body := d.curl(jar, "POST", "/api/v1/account/password", `{"current_password":"`+label+`","new_password":"my first real passphrase"}`); code != 204 {
		t.Fatalf("change: %d %s", code, body)
	}
	code, body = d.curl(jar, "GET", "/api/v1/device", "")
	var dev map[string]any
	json.Unmarshal([]byte(body), &dev)
	if code != 200 || dev["model"] != "HG-100" || dev["serial"] != d.label["serial"] || dev["support_end"] != d.label["support_end"] || dev["firmware_version"] != "1.0.0" {
		t.Fatalf("device after the change: %d %s", code, body)
	}
	// TS-0045 5.4.2.1: the release build runs the certified module in FIPS mode.
	if dev["fips_mode"] != true || dev["crypto_module"] != "v1.0.0" {
		t.Fatalf("crypto module: fips_mode=%v module=%v, want FIPS mode with v1.0.0", dev["fips_mode"], dev["crypto_module"])
	}
	other := filepath.Join(t.TempDir(), "cookies")
	if code, _ := d.curl(other, "POST", "/api/v1/session", `{"username":"owner","password":"`+label+`"}`); code != 401 {
		t.Fatalf("old label password after the change: %d", code)
	}
	if code, body := d.curl(other, "POST", "/api/v1/session", `{"username":"owner","password":"my first real passphrase"}`); code != 200 || strings.Contains(body, `"password_change_required":true`) {
		t.Fatalf("new password: %d %s", code, body)
	}
}

// TS-0045 5.1.2.2: 5 wrong passwords, then the right one: 429 with Retry-After; still
// locked after a restart of hearthd; unlocked after the (short, test-only) lock period.
func TestLockoutSurvivesRestartEndToEnd(t *testing.T) {
	d := provision(t, newVendor(t))
	const period = 4 * time.Second
	flags := []string{"--insecure-allow-short-lockout", "--lock-period", period.String(), "--lock-reset-window", period.String()}
	d.start(bin.hearthdDev, flags...)
	c := d.client()
	label := d.label["default_password"]
	for i := 0; i < 5; i++ {
		if r := d.login(c, "owner", "wrong password "+strconv.Itoa(i)); r.status != 401 {
			t.Fatalf("guess %d: %v", i, r)
		}
	}
	lockedAt := time.Now()
	r := d.login(c, "owner", label)
	if r.status != 429 || r.code() != "account_locked" || r.header.Get("Retry-After") == "" {
		t.Fatalf("right password while locked: %v (Retry-After %q)", r, r.header.Get("Retry-After"))
	}
	d.stop()
	d.start(bin.hearthdDev, flags...)
	if time.Since(lockedAt) < period {
		if r := d.login(d.client(), "owner", label); r.status != 429 {
			t.Fatalf("after restart within the lock period: %v", r)
		}
	}
	deadline := lockedAt.Add(period + 10*time.Second)
	for {
		time.Sleep(time.Until(lockedAt.Add(period)) + 100*time.Millisecond)
		r := d.login(d.client(), "owner", label)
		if r.status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused after the lock period: %v", r)
		}
	}
}

// Release builds refuse every weakening switch.
func TestReleaseBuildRefusesInsecureFlags(t *testing.T) {
	d := provision(t, newVendor(t))
	out, err := exec.Command(bin.hearthd, "--data", d.data, "--https-addr", "127.0.0.1:0", "--insecure-allow-short-lockout", "--lock-period", "1s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not available in release builds") {
		t.Fatalf("release hearthd with an insecure flag: %v\n%s", err, out)
	}
	out, err = exec.Command(bin.hearthd, "--data", d.data, "--https-addr", "127.0.0.1:0", "--lock-period", "1s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "at least one minute") {
		t.Fatalf("release hearthd with a 1 s lock: %v\n%s", err, out)
	}
}
