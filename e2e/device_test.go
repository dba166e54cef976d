package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// device is a provisioned gateway and, once started, its running hearthd.
type device struct {
	t      *testing.T
	vendor string
	data   string
	label  map[string]string
	root   string // vendor root CA PEM path
	cmd    *exec.Cmd
	addr   string // host:port while running
	ready  string // the ready file of the running hearthd
	logs   *bytes.Buffer
	done   chan error
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newVendor runs hearth-cloud init.
func newVendor(t *testing.T) string {
	t.Helper()
	v := filepath.Join(t.TempDir(), "vendor")
	run(t, bin.cloud, "init", "--dir", v)
	return v
}

// provision runs hearth-cloud provision against vendor v.
func provision(t *testing.T, v string) *device {
	t.Helper()
	dir := t.TempDir()
	d := &device{t: t, vendor: v, data: filepath.Join(dir, "device"), root: filepath.Join(v, "pki", "root-ca.crt")}
	labelPath := filepath.Join(dir, "label.json")
	run(t, bin.cloud, "provision", "--dir", v, "--out", d.data, "--label", labelPath)
	raw, err := os.ReadFile(labelPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &d.label); err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs hearthd (binary) on a free loopback port and waits until it serves.
func (d *device) start(binary string, extra ...string) {
	d.t.Helper()
	ready := filepath.Join(d.t.TempDir(), "ready.json")
	d.ready = ready
	args := append([]string{"--data", d.data, "--https-addr", "127.0.0.1:0", "--mqtts-addr", "127.0.0.1:0", "--ready-file", ready}, extra...)
	d.cmd = exec.Command(binary, args...)
	d.logs = &bytes.Buffer{}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.done = make(chan error, 1)
	go func() { d.done <- d.cmd.Wait() }()
	d.t.Cleanup(d.stop)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var r struct {
			HTTPSAddr string `json:"https_addr"`
		}
		if raw, err := os.ReadFile(ready); err == nil && json.Unmarshal(raw, &r) == nil && r.HTTPSAddr != "" {
			d.addr = r.HTTPSAddr
			return
		}
		select {
		case err := <-d.done:
			d.t.Fatalf("hearthd exited during start: %v\n%s", err, d.logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	d.t.Fatalf("hearthd not ready after 20 s\n%s", d.logs)
}

// stop sends SIGTERM and waits for a clean exit.
func (d *device) stop() {
	if d.cmd == nil || d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

func (d *device) port() string { return d.addr[strings.LastIndex(d.addr, ":")+1:] }

// url is the device's base URL by the name in its certificate.
func (d *device) url() string { return "https://localhost:" + d.port() }

// client returns an HTTP client trusting only the vendor root, with a cookie jar.
func (d *device) client() *http.Client {
	d.t.Helper()
	pem, err := os.ReadFile(d.root)
	if err != nil {
		d.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) code() string {
	var b struct{ Error string }
	json.Unmarshal(r.body, &b)
	return b.Error
}

func (d *device) call(c *http.Client, method, path string, body any) reply {
	d.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, d.url()+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}

func (d *device) login(c *http.Client, user, pw string) reply {
	d.t.Helper()
	return d.call(c, "POST", "/api/v1/session", map[string]string{"username": user, "password": pw})
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }
