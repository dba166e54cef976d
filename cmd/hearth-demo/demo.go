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
)

// demo is one run of the demo in dir.
type demo struct {
	dir            string
	stdout, stderr io.Writer
	// exited receives the gateway process's exit.
	exited chan error
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
	cmd, addr, err := d.startGateway(ctx)
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(addr)
	st := State{
		GatewayURL: "https://localhost:" + port, CACert: filepath.Join(d.dir, "vendor", vendorca.RootCertFile),
		Username: lbl.Username, DefaultPassword: lbl.DefaultPassword, GatewayPID: cmd.Process.Pid,
		GatewayData: d.path("gateway"), VendorDir: d.path("vendor"),
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.Write(d.path("demo.json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "hearth-demo ready: %s  user %s  label password %s  (trust %s; state in %s; gateway log %s)\n",
		st.GatewayURL, st.Username, st.DefaultPassword, st.CACert, d.dir, d.path("gateway.log"))
	return d.wait(ctx, cmd)
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
	if err := provision.InitVendor(d.path("vendor"), "Hearth Labs", time.Now()); err != nil {
		return provision.Label{}, err
	}
	lbl, err := provision.Device(provision.Request{VendorDir: d.path("vendor"), OutDir: d.path("gateway"), Model: "HG-100", Name: "Hearth Gateway"})
	if err != nil {
		return provision.Label{}, err
	}
	fmt.Fprintf(d.stdout, "provisioned a new gateway, serial %s\n", lbl.Serial)
	return lbl, provision.WriteLabel(d.path("label.json"), lbl)
}

// startGateway starts the gateway process and waits until it serves.
func (d *demo) startGateway(ctx context.Context) (*exec.Cmd, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	ready := d.path("gateway.ready")
	os.Remove(ready)
	logf, err := os.OpenFile(d.path("gateway.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", err
	}
	defer logf.Close()
	cmd := exec.Command(self, gatewayCommand, "--data", d.path("gateway"), "--https-addr", "127.0.0.1:0", "--ready-file", ready)
	cmd.Stdout, cmd.Stderr = logf, logf
	bindToParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return nil, "", fmt.Errorf("gateway exited during start (%v); see %s", err, d.path("gateway.log"))
		case <-ctx.Done():
			cmd.Process.Signal(syscall.SIGTERM)
			<-exited
			return nil, "", ctx.Err()
		case <-deadline.C:
			cmd.Process.Kill()
			<-exited
			return nil, "", errors.New("gateway did not become ready within 30 s")
		case <-tick.C:
			var r struct {
				HTTPSAddr string `json:"https_addr"`
			}
			if raw, err := os.ReadFile(ready); err == nil && json.Unmarshal(raw, &r) == nil && r.HTTPSAddr != "" {
				d.exited = exited
				return cmd, r.HTTPSAddr, nil
			}
		}
	}
}

// wait runs until ctx is done (then stops the gateway) or the gateway exits.
func (d *demo) wait(ctx context.Context, cmd *exec.Cmd) error {
	select {
	case err := <-d.exited:
		return fmt.Errorf("gateway exited (%v); see %s", err, d.path("gateway.log"))
	case <-ctx.Done():
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-d.exited
	}
	fmt.Fprintln(d.stdout, "hearth-demo stopped; state kept in", d.dir)
	return nil
}
