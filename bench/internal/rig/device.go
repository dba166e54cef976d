package rig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Device is a provisioned gateway's factory data and label.
type Device struct {
	// Data is the device data directory to pass to hearthd --data.
	Data string
	// RootCA is the vendor root CA certificate (PEM) that the gateway certificate chains to.
	RootCA string
	// Username and DefaultPassword are the label's owner credentials.
	Username, DefaultPassword string
}

// Provision creates a vendor under dir with `hearth-cloud init` and one device with
// `hearth-cloud provision`, using the hearth-cloud binary cloud.
func Provision(ctx context.Context, cloud, dir string) (Device, error) {
	vendor := filepath.Join(dir, "vendor")
	label := filepath.Join(dir, "label.json")
	d := Device{Data: filepath.Join(dir, "device"), RootCA: filepath.Join(vendor, "pki", "root-ca.crt")}
	if err := runTool(ctx, cloud, "init", "--dir", vendor); err != nil {
		return Device{}, err
	}
	if err := runTool(ctx, cloud, "provision", "--dir", vendor, "--out", d.Data, "--label", label); err != nil {
		return Device{}, err
	}
	raw, err := os.ReadFile(label)
	if err != nil {
		return Device{}, fmt.Errorf("read label: %w", err)
	}
	var l struct {
		Username        string `json:"username"`
		DefaultPassword string `json:"default_password"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return Device{}, fmt.Errorf("parse label: %w", err)
	}
	if l.Username == "" || l.DefaultPassword == "" {
		return Device{}, errors.New("label has no username or default password")
	}
	d.Username, d.DefaultPassword = l.Username, l.DefaultPassword
	return d, nil
}

func runTool(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), args[0], err, out)
	}
	return nil
}
