// Command update measures a firmware update end to end on loopback, with the real
// binaries: the time from the owner's install request until the gateway serves as the
// new version (download, verification, slot switch, restart, health check), and
// hearthd's peak memory during the install, for a 64 MiB program and for the plain
// (about 20 MB) one, to show memory does not grow with the program's size.
//
//	go run ./bench/update
//
// All traffic stays on 127.0.0.1; the run ends by itself.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hearth/bench/internal/rig"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "update bench:", err)
		os.Exit(1)
	}
}

type bins struct{ hearthd10, hearthd11, cloud, launcher string }

func run() error {
	ctx := context.Background()
	root, err := rig.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hearth-update-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	b, err := build(ctx, root, tmp)
	if err != nil {
		return err
	}
	fmt.Println("| Program size | Install request to serving the new version | hearthd peak RSS before | hearthd peak RSS at the end of the install |")
	fmt.Println("|---:|---:|---:|---:|")
	for _, pad := range []int64{0, 64 << 20} {
		line, err := measure(ctx, b, tmp, pad)
		if err != nil {
			return err
		}
		fmt.Println(line)
	}
	return nil
}

func build(ctx context.Context, root, dir string) (bins, error) {
	b := bins{filepath.Join(dir, "hearthd-1.0.0"), filepath.Join(dir, "hearthd-1.1.0"), filepath.Join(dir, "hearth-cloud"), filepath.Join(dir, "hearth-launcher")}
	for _, c := range []struct {
		out, pkg, version string
	}{{b.hearthd10, "./cmd/hearthd", "1.0.0"}, {b.hearthd11, "./cmd/hearthd", "1.1.0"}, {b.cloud, "./cmd/hearth-cloud", ""}, {b.launcher, "./cmd/hearth-launcher", ""}} {
		args := []string{"build", "-o", c.out, "-trimpath"}
		if c.version != "" {
			args = append(args, "-tags", "release", "-ldflags", "-s -w -X hearth/internal/buildinfo.version="+c.version)
		}
		cmd := exec.CommandContext(ctx, "go", append(args, c.pkg)...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0", "GOFIPS140=v1.0.0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("build %s: %v\n%s", c.pkg, err, out)
		}
	}
	return b, nil
}

// measure provisions a device on 1.0.0 and times its update to a 1.1.0 program padded
// to pad bytes (0: unpadded).
func measure(ctx context.Context, b bins, tmp string, pad int64) (string, error) {
	dir, err := os.MkdirTemp(tmp, "run-")
	if err != nil {
		return "", err
	}
	v, data, ready := filepath.Join(dir, "vendor"), filepath.Join(dir, "device"), filepath.Join(dir, "ready.json")
	artifact := filepath.Join(dir, "hearthd-1.1.0")
	if err := padCopy(b.hearthd11, artifact, pad); err != nil {
		return "", err
	}
	steps := [][]string{
		{"init", "--dir", v},
		{"release", "--dir", v, "--version", "1.0.0", "--artifact", b.hearthd10, "--notes", "n", "--fixes", "f", "--interrupts=false", "--rollout", "100"},
		{"provision", "--dir", v, "--out", data, "--label", filepath.Join(dir, "label.json"), "--firmware", "1.0.0"},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, b.cloud, s...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("hearth-cloud %s: %v\n%s", s[0], err, out)
		}
	}
	cloudReady := filepath.Join(dir, "cloud.json")
	cloud := exec.Command(b.cloud, "serve", "--dir", v, "--addr", "127.0.0.1:0", "--ready-file", cloudReady)
	if err := cloud.Start(); err != nil {
		return "", err
	}
	defer func() { cloud.Process.Kill(); cloud.Wait() }()
	cloudAddr, err := readyField(cloudReady, "addr", 30*time.Second)
	if err != nil {
		return "", err
	}
	launcher := exec.Command(b.launcher, "--data", data, "--ready-file", ready, "--", "--https-addr", "127.0.0.1:0",
		"--cloud-url", "https://localhost:"+cloudAddr[strings.LastIndex(cloudAddr, ":")+1:])
	launcher.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := launcher.Start(); err != nil {
		return "", err
	}
	defer func() { syscall.Kill(-launcher.Process.Pid, syscall.SIGKILL); launcher.Wait() }()
	c, base, err := owner(ctx, v, dir, ready)
	if err != nil {
		return "", err
	}
	rel := exec.CommandContext(ctx, b.cloud, "release", "--dir", v, "--version", "1.1.0", "--artifact", artifact, "--notes", "n", "--fixes", "f", "--interrupts=false", "--rollout", "100")
	if out, err := rel.CombinedOutput(); err != nil {
		return "", fmt.Errorf("release 1.1.0: %v\n%s", err, out)
	}
	if _, err := rig.Call(ctx, c, "POST", base+"/api/v1/update/check", nil); err != nil {
		return "", err
	}
	pid, err := readyPID(ready)
	if err != nil {
		return "", err
	}
	before, _ := rig.ReadUsage(pid)
	start := time.Now()
	go rig.Call(ctx, c, "POST", base+"/api/v1/update/install", nil)
	peak := watchPeak(pid)
	if err := awaitVersion(ctx, c, ready, "1.1.0", 2*time.Minute); err != nil {
		return "", err
	}
	size, _ := rig.FileSize(artifact)
	return fmt.Sprintf("| %.1f MiB | %s | %s | %s |", float64(size)/(1<<20), time.Since(start).Round(time.Millisecond), rig.MiB(before.HWM), rig.MiB(peak)), nil
}

// watchPeak samples pid's peak RSS until it exits and returns the last value seen.
func watchPeak(pid int) int64 {
	var peak int64
	for {
		u, err := rig.ReadUsage(pid)
		if err != nil {
			return peak
		}
		peak = max(peak, u.HWM)
		time.Sleep(5 * time.Millisecond)
	}
}

func padCopy(src, dst string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	defer out.Close()
	n, err := io.Copy(out, in)
	if err != nil || size <= n {
		return err
	}
	// Trailing bytes after an ELF program are ignored when it runs.
	_, err = io.CopyN(out, rand{}, size-n)
	return err
}

type rand struct{}

func (rand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 13)
	}
	return len(p), nil
}

func readyField(path, field string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var r map[string]any
		if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &r) == nil {
			if s, ok := r[field].(string); ok && s != "" {
				return s, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("%s: no %s within %s", path, field, timeout)
}

func readyPID(path string) (int, error) {
	var r struct {
		PID int `json:"pid"`
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return r.PID, json.Unmarshal(raw, &r)
}

// owner signs in, replaces the label password, completes setup and turns automatic
// updates off (the install is started by the measurement).
func owner(ctx context.Context, vendor, dir, ready string) (*http.Client, string, error) {
	addr, err := readyField(ready, "https_addr", 60*time.Second)
	if err != nil {
		return nil, "", err
	}
	roots, err := rig.LoadRoots(filepath.Join(vendor, "pki", "root-ca.crt"))
	if err != nil {
		return nil, "", err
	}
	var label struct {
		DefaultPassword string `json:"default_password"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "label.json"))
	json.Unmarshal(raw, &label)
	c := &http.Client{Jar: rig.NewJar(), Transport: transport(roots)}
	base := "https://localhost:" + addr[strings.LastIndex(addr, ":")+1:]
	for _, s := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/session", map[string]string{"username": "owner", "password": label.DefaultPassword}},
		{"POST", "/api/v1/account/password", map[string]string{"current_password": label.DefaultPassword, "new_password": "measured quiet passphrase"}},
		{"PUT", "/api/v1/settings", map[string]any{"complete_setup": true}},
		{"PUT", "/api/v1/update/settings", map[string]any{"auto_update": false}},
	} {
		r, err := rig.Call(ctx, c, s.method, base+s.path, s.body)
		if err != nil || r.Status >= 300 {
			return nil, "", fmt.Errorf("%s %s: %v %v", s.method, s.path, r.Status, err)
		}
	}
	return c, base, nil
}

// awaitVersion polls the status until the restarted gateway reports version.
func awaitVersion(ctx context.Context, c *http.Client, ready, version string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if addr, err := readyField(ready, "https_addr", time.Second); err == nil {
			base := "https://localhost:" + addr[strings.LastIndex(addr, ":")+1:]
			if body, err := get(ctx, c, base+"/api/v1/update"); err == nil && strings.Contains(body, `"current_version":"`+version+`"`) {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("not serving %s within %s", version, timeout)
}

func get(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return string(b), err
}

func transport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
}
