package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/identity/vendorca"
	"hearth/internal/provision"
	"hearth/internal/release"
)

// demo is one run of the demo in dir.
type demo struct {
	dir            string
	stdout, stderr io.Writer
}

// State describes the running system; it is written to DIR/demo.json.
type State struct {
	GatewayURL      string `json:"gateway_url"`
	CloudURL        string `json:"cloud_url"`
	MQTTAddr        string `json:"mqtt_addr"`
	CACert          string `json:"ca_cert"`
	Username        string `json:"username"`
	DefaultPassword string `json:"default_password"`
	GatewayPID      int    `json:"gateway_pid"`
	GatewayData     string `json:"gateway_data"`
	VendorDir       string `json:"vendor_dir"`
}

func (d *demo) path(name string) string { return filepath.Join(d.dir, name) }

func (d *demo) run(ctx context.Context) error {
	lbl, err := d.ensureState()
	if err != nil {
		return err
	}
	cloud, cloudAddr, err := d.start(ctx, "cloud", cloudCommand, "--dir", d.path("vendor"))
	if err != nil {
		return err
	}
	defer cloud.stop()
	cloudURL := "https://localhost:" + port(cloudAddr)
	// The broker's socket opens only once a sensor is paired, so its port is chosen
	// here and told in demo.json beforehand.
	mqttPort, err := freePort()
	if err != nil {
		return err
	}
	gw, addr, err := d.start(ctx, "gateway", gatewayCommand, "--data", d.path("gateway"), "--cloud-url", cloudURL, "--mqtts-addr", "127.0.0.1:"+mqttPort)
	if err != nil {
		return err
	}
	defer gw.stop()
	st := State{
		GatewayURL: "https://localhost:" + port(addr), CloudURL: cloudURL, MQTTAddr: "localhost:" + mqttPort, CACert: filepath.Join(d.dir, "vendor", vendorca.RootCertFile),
		Username: lbl.Username, DefaultPassword: lbl.DefaultPassword, GatewayPID: gw.cmd.Process.Pid,
		GatewayData: d.path("gateway"), VendorDir: d.path("vendor"),
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.Write(d.path("demo.json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "hearth-demo ready: %s  user %s  label password %s  (trust %s; sensors connect to %s once paired; vendor services %s; state in %s; logs gateway.log, cloud.log)\n",
		st.GatewayURL, st.Username, st.DefaultPassword, st.CACert, st.MQTTAddr, cloudURL, d.dir)
	select {
	case err := <-gw.exited:
		return fmt.Errorf("gateway exited (%v); see %s", err, d.path("gateway.log"))
	case err := <-cloud.exited:
		return fmt.Errorf("vendor services exited (%v); see %s", err, d.path("cloud.log"))
	case <-ctx.Done():
	}
	fmt.Fprintln(d.stdout, "hearth-demo stopping; state kept in", d.dir)
	return nil
}

// freePort finds a loopback port no one listens on.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return port(ln.Addr().String()), nil
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// ensureState creates vendor and gateway on first start, and reads the label after.
func (d *demo) ensureState() (provision.Label, error) {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return provision.Label{}, err
	}
	if raw, err := os.ReadFile(d.path("label.json")); err == nil {
		var l provision.Label
		if err := json.Unmarshal(raw, &l); err != nil {
			return provision.Label{}, fmt.Errorf("%s is damaged: %w (remove %s to start afresh)", d.path("label.json"), err, d.dir)
		}
		return l, nil
	}
	for _, p := range []string{"vendor", "gateway"} {
		if err := os.RemoveAll(d.path(p)); err != nil {
			return provision.Label{}, err
		}
	}
	if err := provision.InitVendor(d.path("vendor"), "Hearth Labs", nil, time.Now()); err != nil {
		return provision.Label{}, err
	}
	if err := release.Init(d.path("vendor"), release.InitOptions{}); err != nil {
		return provision.Label{}, err
	}
	lbl, err := provision.Device(provision.Request{VendorDir: d.path("vendor"), OutDir: d.path("gateway"), Model: "HG-100", Name: "Hearth Gateway"})
	if err != nil {
		return provision.Label{}, err
	}
	fmt.Fprintf(d.stdout, "provisioned a new gateway, serial %s\n", lbl.Serial)
	return lbl, provision.WriteLabel(d.path("label.json"), lbl)
}

// child is a process of the demo.
type child struct {
	cmd    *exec.Cmd
	exited chan error
}

// stop sends SIGTERM and waits, killing after 10 s.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// start runs this program as the named role on a free loopback port and waits until it
// reports its address in its ready file.
func (d *demo) start(ctx context.Context, name, role string, args ...string) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	ready := d.path(name + ".ready")
	os.Remove(ready)
	logf, err := os.OpenFile(d.path(name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", err
	}
	defer logf.Close()
	cmd := exec.Command(self, append([]string{role, "--addr", "127.0.0.1:0", "--ready-file", ready}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	bindToParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	c := &child{cmd: cmd, exited: make(chan error, 1)}
	go func() { c.exited <- cmd.Wait() }()
	addr, err := d.waitReady(ctx, c, ready, name)
	if err != nil {
		return nil, "", err
	}
	return c, addr, nil
}

func (d *demo) waitReady(ctx context.Context, c *child, ready, name string) (string, error) {
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-c.exited:
			return "", fmt.Errorf("%s exited during start (%v); see %s", name, err, d.path(name+".log"))
		case <-ctx.Done():
			c.stop()
			return "", ctx.Err()
		case <-deadline.C:
			c.stop()
			return "", errors.New(name + " did not become ready within 30 s")
		case <-tick.C:
			var r struct {
				Addr      string `json:"addr"`
				HTTPSAddr string `json:"https_addr"`
			}
			if raw, err := os.ReadFile(ready); err == nil && json.Unmarshal(raw, &r) == nil && r.Addr+r.HTTPSAddr != "" {
				return r.Addr + r.HTTPSAddr, nil
			}
		}
	}
}
