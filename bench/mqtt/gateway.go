package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // read-only count of stored readings

	"hearth/bench/internal/rig"
	"hearth/internal/tlspolicy"
)

// ownerPassword is the password the benchmark gives the owner account.
const ownerPassword = "mqtt bench passphrase kept"

// cred is a paired sensor's connection credential, used for both brokers.
type cred struct {
	ID, Password, Topic string
}

// env is what both brokers share: the binaries, the provisioned device and its sensors.
type env struct {
	c         config
	dir       string
	dev       rig.Device
	creds     []cred
	goVersion string
	build     string // how hearthd was built, for the report
}

// prepare builds the binaries, provisions a device, pairs c.sensors sensors in a first
// run of hearthd (stopped again, so the measured run starts fresh), and pins this
// process to c.clientCPUs.
func prepare(ctx context.Context, c config, dir string, logf func(string, ...any)) (*env, error) {
	e := &env{c: c, dir: dir}
	var err error
	if e.goVersion, err = rig.GoVersion(ctx); err != nil {
		return nil, err
	}
	if err := e.buildBinaries(ctx, logf); err != nil {
		return nil, err
	}
	logf("provisioning a device")
	if e.dev, err = rig.Provision(ctx, e.c.cloud, dir); err != nil {
		return nil, err
	}
	logf("pairing %d sensors", c.sensors)
	if err := e.pairAll(ctx); err != nil {
		return nil, err
	}
	if c.clientCPUs != "" {
		if err := pinSelf(c.clientCPUs); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// hearthdFlags builds hearthd as a release is built (docs/BUILD.md: CGO off, the FIPS
// 140-3 module, trimmed and stripped) but without -tags release, which would refuse
// --insecure-unlimited-sensor-rate.
var hearthdFlags = []string{"build", "-trimpath", "-ldflags", "-s -w -X hearth/internal/buildinfo.version=" + rig.ReleaseVersion}

func (e *env) buildBinaries(ctx context.Context, logf func(string, ...any)) error {
	root, err := rig.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	e.build = "given with --hearthd"
	if e.c.hearthd == "" {
		e.c.hearthd = filepath.Join(e.dir, "hearthd")
		args := append(append([]string(nil), hearthdFlags...), "-o", e.c.hearthd, "./cmd/hearthd")
		e.build = `CGO_ENABLED=0 GOFIPS140=v1.0.0 go build -trimpath -ldflags "-s -w -X ..." ./cmd/hearthd`
		logf("%s", e.build)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFIPS140=v1.0.0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build hearthd: %w\n%s", err, out)
		}
	}
	if e.c.cloud == "" {
		b := rig.Build{Pkg: "./cmd/hearth-cloud", Out: filepath.Join(e.dir, "hearth-cloud")}
		logf("%s", b.Command())
		if err := b.Run(ctx, root); err != nil {
			return err
		}
		e.c.cloud = b.Out
	}
	return nil
}

// hearthdArgs are hearthd's arguments besides --https-addr and --ready-file.
func (e *env) hearthdArgs(mqttAddr string) []string {
	args := []string{"--data", e.dev.Data, "--mqtts-addr", mqttAddr, "--log-level", "warn"}
	if e.c.unlimited {
		args = append(args, "--insecure-unlimited-sensor-rate")
	}
	return args
}

// pairAll starts hearthd unpinned, sets the owner password and pairs the sensors.
func (e *env) pairAll(ctx context.Context) error {
	logFile, err := os.Create(filepath.Join(e.dir, "hearthd-pair.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	p, err := rig.Start(ctx, e.c.hearthd, e.hearthdArgs("127.0.0.1:0"), e.dir, logFile, 30*time.Second)
	if err != nil {
		return err
	}
	defer p.Stop()
	roots, err := rig.LoadRoots(e.dev.RootCA)
	if err != nil {
		return err
	}
	t := rig.Target{Addr: p.Addr, ServerName: "localhost", Roots: roots}
	const workers = 4
	tr, err := t.Transport(rig.Loopback(0, 0, 1), rig.Conns{Max: workers, KeepAlive: true})
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	client := rig.Client(tr, nil)
	if err := rig.SetOwnerPassword(ctx, client, t, e.dev, ownerPassword); err != nil {
		return err
	}
	e.creds = make([]cred, e.c.sensors)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(e.creds) && errs[w] == nil; i += workers {
				e.creds[i], errs[w] = pair(ctx, client, t, fmt.Sprintf("bench %04d", i))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return p.Stop()
}

// pair posts one sensor and returns its credential.
func pair(ctx context.Context, c *http.Client, t rig.Target, name string) (cred, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "model": "HS-M1"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL("/api/v1/sensors"), bytes.NewReader(body))
	if err != nil {
		return cred{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return cred{}, fmt.Errorf("pair: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return cred{}, fmt.Errorf("pair: %w", err)
	}
	if res.StatusCode != http.StatusCreated {
		return cred{}, fmt.Errorf("pair: %s: %s", res.Status, raw)
	}
	var r struct {
		Connection struct {
			Username, Password, Topic string
			ClientID                  string `json:"client_id"`
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return cred{}, fmt.Errorf("pair: %w", err)
	}
	cn := r.Connection
	if cn.Username == "" || cn.Password == "" || cn.ClientID != cn.Username || cn.Topic != "sensors/"+cn.Username+"/reading" {
		return cred{}, fmt.Errorf("pair: unexpected connection details for %q", cn.Username)
	}
	return cred{ID: cn.Username, Password: cn.Password, Topic: cn.Topic}, nil
}

// startHearthd runs hearthd pinned to the broker CPUs with its MQTTS socket on a free
// loopback port.
func (e *env) startHearthd(ctx context.Context) (*broker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(e.dir, "hearthd.log"))
	if err != nil {
		return nil, err
	}
	bin, args := pinned(e.c.brokerCPUs, e.c.hearthd, e.hearthdArgs(port)...)
	p, err := rig.Start(ctx, bin, args, e.dir, logFile, 30*time.Second)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	stop := func() error {
		defer logFile.Close()
		return p.Stop()
	}
	roots, err := rig.LoadRoots(e.dev.RootCA)
	if err == nil {
		err = awaitListening(ctx, port, 10*time.Second)
	}
	if err != nil {
		stop()
		return nil, err
	}
	tlsCfg, err := tlspolicy.Client(roots, "localhost")
	if err != nil {
		stop()
		return nil, err
	}
	db, err := openReadings(filepath.Join(e.dev.Data, "readings.db"))
	if err != nil {
		stop()
		return nil, err
	}
	return &broker{name: "hearthd", addr: port, tls: tlsCfg, pid: p.PID,
		stop:   func() error { db.Close(); return stop() },
		stored: func(ctx context.Context, ids []string) (int64, error) { return countReadings(ctx, db, ids) },
	}, nil
}

// openReadings opens hearthd's readings database read-only; WAL lets it read while
// hearthd writes.
func openReadings(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open readings: %w", err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// countReadings counts the stored readings of the sensors ids.
func countReadings(ctx context.Context, db *sql.DB, ids []string) (int64, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// Sensors are stored by number; sources maps their IDs (internal/store/sqlite).
	q := "SELECT COUNT(*) FROM readings WHERE sensor IN (SELECT num FROM sources WHERE id IN (?" + strings.Repeat(",?", len(ids)-1) + "))"
	var n int64
	if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count readings: %w", err)
	}
	return n, nil
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// awaitListening polls addr until it accepts a TCP connection.
func awaitListening(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not listening after %s: %w", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
