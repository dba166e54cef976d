package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/sensors"
	"hearth/internal/sensors/sim/simtest"
)

// files writes the CA and credential files a sensor is installed with.
func files(t *testing.T, g *simtest.Gateway, cred sensors.Credential) (ca, credFile string) {
	t.Helper()
	dir := t.TempDir()
	ca, credFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "credential")
	if err := os.WriteFile(ca, g.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, []byte(cred.Reveal()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ca, credFile
}

func noEnv(string) string { return "" }

func TestFlagsAreValidated(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	g := simtest.NewGateway(t)
	os.WriteFile(ca, g.CAPEM, 0o644)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	cred := filepath.Join(dir, "cred")
	os.WriteFile(cred, []byte("s3cret-credential-value\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	id := sensors.NewID()
	base := map[string]string{"broker": "127.0.0.1:8883", "ca": ca, "id": id, "credential-file": cred, "model": "HS-TH1"}
	args := func(change map[string]string) []string {
		var a []string
		for k, v := range base {
			if nv, ok := change[k]; ok {
				v = nv
			}
			if v != "" {
				a = append(a, "--"+k+"="+v)
			}
		}
		for k, v := range change {
			if _, ok := base[k]; !ok {
				a = append(a, "--"+k+"="+v)
			}
		}
		return a
	}
	if _, err := configFrom(t, args(nil), noEnv); err != nil {
		t.Fatalf("valid flags refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change map[string]string
		env    string
		want   string
	}{
		{"no broker", map[string]string{"broker": ""}, "", "--broker"},
		{"broker without port", map[string]string{"broker": "gateway"}, "", "--broker"},
		{"broker port out of range", map[string]string{"broker": "gateway:70000"}, "", "--broker"},
		{"no CA", map[string]string{"ca": ""}, "", "--ca"},
		{"missing CA", map[string]string{"ca": filepath.Join(dir, "none")}, "", "--ca"},
		{"CA not PEM", map[string]string{"ca": notPEM}, "", "--ca"},
		{"no ID", map[string]string{"id": ""}, "", "--id"},
		{"bad ID", map[string]string{"id": "../etc/passwd"}, "", "--id"},
		{"no model", map[string]string{"model": ""}, "", "--model"},
		{"unknown model", map[string]string{"model": "HS-X9"}, "", "--model"},
		{"interval too short", map[string]string{"interval": "1s"}, "", "--interval"},
		{"interval too long", map[string]string{"interval": "48h"}, "", "--interval"},
		{"negative interval", map[string]string{"interval": "-1s"}, "", "--interval"},
		{"no buffer", map[string]string{"buffer": "0"}, "", "--buffer"},
		{"huge buffer", map[string]string{"buffer": "100000000"}, "", "--buffer"},
		{"buffer file in missing directory", map[string]string{"buffer-file": filepath.Join(dir, "no", "buf")}, "", "--buffer-file"},
		{"negative count", map[string]string{"count": "-1"}, "", "--count"},
		{"no credential", map[string]string{"credential-file": ""}, "", "credential"},
		{"missing credential file", map[string]string{"credential-file": filepath.Join(dir, "none")}, "", "--credential-file"},
		{"empty credential", map[string]string{"credential-file": empty}, "", "empty"},
		{"credential twice", nil, "from-env", "once"},
		{"bad log level", map[string]string{"log-level": "loud"}, "", "--log-level"},
		{"unknown flag", map[string]string{"password": "x"}, "", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := configFrom(t, args(tc.change), func(k string) string {
				if k == credentialEnv {
					return tc.env
				}
				return ""
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error shows the credential: %v", err)
			}
		})
	}
	// The credential may come from the environment instead of a file.
	c, err := configFrom(t, args(map[string]string{"credential-file": ""}), func(k string) string {
		if k == credentialEnv {
			return " from-env\n"
		}
		return ""
	})
	if err != nil || c.pub.Credential.Reveal() != "from-env" {
		t.Fatalf("credential from the environment: %v", err)
	}
	// The server name defaults to the broker's host and can be set.
	c, _ = configFrom(t, args(map[string]string{"broker": "gw.home.arpa:8883"}), noEnv)
	if c.pub.TLS.ServerName != "gw.home.arpa" {
		t.Fatalf("server name %q", c.pub.TLS.ServerName)
	}
	c, _ = configFrom(t, args(map[string]string{"server-name": simtest.Name}), noEnv)
	if c.pub.TLS.ServerName != simtest.Name {
		t.Fatalf("server name %q", c.pub.TLS.ServerName)
	}
}

func configFrom(t *testing.T, args []string, getenv func(string) string) (sensorConfig, error) {
	t.Helper()
	f, err := parseFlags(args, new(bytes.Buffer))
	if err != nil {
		return sensorConfig{}, err
	}
	return f.config(getenv)
}

// TestRunPublishes runs the command against a real gateway until it has delivered
// the readings a climate sensor takes when it starts.
func TestRunPublishes(t *testing.T) {
	g := simtest.NewGateway(t)
	id, cred := g.Pair(t, "HS-TH1")
	ca, credFile := files(t, g, cred)
	var stderr simtest.LogBuffer
	err := run(t.Context(), []string{"--broker", g.Addr, "--ca", ca, "--server-name", simtest.Name, "--id", id,
		"--credential-file", credFile, "--model", "HS-TH1", "--count", "3", "--log-level", "debug"}, noEnv, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	got := g.Stored(t, id)
	kinds := map[sensors.Kind]bool{}
	for _, r := range got {
		kinds[r.Kind] = true
	}
	if len(got) != 3 || !kinds[sensors.Temperature] || !kinds[sensors.Humidity] || !kinds[sensors.Battery] {
		t.Fatalf("stored %+v; want a temperature, a humidity and a battery reading", got)
	}
	if out := stderr.String(); strings.Contains(out, cred.Reveal()) || !strings.Contains(out, "connected to the gateway") {
		t.Fatalf("log shows the credential or no connection:\n%s", out)
	}
}

// TestStopSavesBufferAndResumes stops a sensor that could not reach the gateway: its
// readings are in the buffer file, and the next run delivers them first.
func TestStopSavesBufferAndResumes(t *testing.T) {
	g := simtest.NewGateway(t)
	id, cred := g.Pair(t, "HS-D1")
	ca, credFile := files(t, g, cred)
	g.Stop(t)
	bufFile := filepath.Join(t.TempDir(), "buffer.json")
	args := []string{"--broker", g.Addr, "--ca", ca, "--server-name", simtest.Name, "--id", id,
		"--credential-file", credFile, "--model", "HS-D1", "--buffer-file", bufFile}

	ctx, cancel := context.WithCancel(t.Context())
	var stderr simtest.LogBuffer
	res := make(chan error, 1)
	go func() { res <- run(ctx, args, noEnv, &stderr) }()
	// A door sensor reports its battery when it starts.
	simtest.WaitFor(t, "a failed connection", 5*time.Second, func() bool { return strings.Contains(stderr.String(), "not connected") })
	cancel() // as SIGINT or SIGTERM
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sensor did not stop")
	}
	var f struct{ Readings []json.RawMessage }
	data, err := os.ReadFile(bufFile)
	if err != nil || json.Unmarshal(data, &f) != nil || len(f.Readings) == 0 {
		t.Fatalf("buffer file: %s, %v", data, err)
	}
	first, err := sensors.ParseReading(f.Readings[0], time.Now())
	if err != nil || first.Kind != sensors.Battery {
		t.Fatalf("first buffered reading %s: %v", f.Readings[0], err)
	}

	g.Start(t)
	if err := run(t.Context(), append(args, "--count", "1"), noEnv, &stderr); err != nil {
		t.Fatal(err)
	}
	got := g.Stored(t, id)
	if len(got) != 1 || got[0].Kind != sensors.Battery || !got[0].Time.Equal(first.Time) {
		t.Fatalf("stored %+v; want the battery reading buffered by the previous run (%v)", got, first.Time)
	}
}
