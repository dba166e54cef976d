package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/identity"
	"hearth/internal/provision"
	"hearth/internal/store/sqlite"
)

func provisioned(t *testing.T) string {
	t.Helper()
	v := filepath.Join(t.TempDir(), "vendor")
	if err := provision.InitVendor(v, "Hearth Labs", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(t.TempDir(), "device")
	if _, err := provision.Device(provision.Request{VendorDir: v, OutDir: d, Model: "HG-100", Name: "Hearth Gateway", Hasher: auth.Hasher{Iterations: auth.MinIterations}}); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRunServesAndStops(t *testing.T) {
	d := provisioned(t)
	ready := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	m, err := New(ctx, Config{DataDir: d, HTTPSAddr: "127.0.0.1:0", ReadyFile: ready})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var r struct {
		HTTPSAddr string `json:"https_addr"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.HTTPSAddr == "" {
		if time.Now().After(deadline) {
			t.Fatal("no ready file")
		}
		if raw, err := os.ReadFile(ready); err == nil {
			json.Unmarshal(raw, &r)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: m.clientTLSForTest()}}
	res, err := c.Get("https://" + r.HTTPSAddr + "/api/v1/device")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated device call: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TS-0045 5.4.1.2: a device whose factory data was altered does not start.
func TestTamperedIdentityRefusesToStart(t *testing.T) {
	d := provisioned(t)
	p := filepath.Join(d, identity.FactoryDir, identity.InfoFile)
	raw, _ := os.ReadFile(p)
	var info map[string]any
	json.Unmarshal(raw, &info)
	info["serial"] = "HRT-FAKE-0000"
	raw, _ = json.Marshal(info)
	os.WriteFile(p, raw, 0o644)
	if _, err := New(context.Background(), Config{DataDir: d}); !errors.Is(err, identity.ErrMismatch) {
		t.Fatalf("tampered serial: %v, want ErrMismatch", err)
	}
	assertEvent(t, d, events.IdentityMismatch)
}

// TS-0045 5.4.1.1: a keystore that does not open stops the gateway and is recorded.
func TestUnreadableKeystoreRefusesToStart(t *testing.T) {
	d := provisioned(t)
	p := filepath.Join(d, identity.KeystoreDir, "datakey.sealed")
	raw, _ := os.ReadFile(p)
	raw[len(raw)-1] ^= 1
	os.WriteFile(p, raw, 0o600)
	if _, err := New(context.Background(), Config{DataDir: d}); err == nil {
		t.Fatal("the gateway started with an altered data key")
	}
	assertEvent(t, d, events.KeystoreUnreadable)
}

func assertEvent(t *testing.T, dataDir string, kind events.Kind) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "hearthd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, err := (&sqlite.EventLog{DB: db}).Events(context.Background(), events.Query{Kinds: []events.Kind{kind}})
	if err != nil || len(list) != 1 || list[0].Severity != events.Critical {
		t.Fatalf("events of kind %s: %+v, %v", kind, list, err)
	}
}

// TS-0045 5.4.1.1: after use, the data directory holds no password, password hash or
// private key in clear.
func TestDataDirectoryHoldsNoSecretsInClear(t *testing.T) {
	d := provisioned(t)
	ctx := context.Background()
	m, err := New(ctx, Config{DataDir: d})
	if err != nil {
		t.Fatal(err)
	}
	hash := m.identity().DefaultPasswordHash
	const chosen = "a passphrase of my own"
	if err := m.auth.EnsureOwner(ctx, "owner", hash); err != nil {
		t.Fatal(err)
	}
	users, _ := m.db.Users(ctx)
	h, _ := auth.Hasher{Iterations: auth.MinIterations}.Hash(chosen)
	if err := m.db.SetPassword(ctx, users[0].Username, h, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(path)
		for _, bad := range []string{"pbkdf2", "PRIVATE KEY", chosen} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("%s holds %q in clear", path, bad)
			}
		}
		return nil
	})
}

func TestConfigValidation(t *testing.T) {
	if _, err := New(context.Background(), Config{}); err == nil {
		t.Fatal("no data directory accepted")
	}
	if _, err := New(context.Background(), Config{DataDir: t.TempDir()}); err == nil {
		t.Fatal("an empty data directory was accepted")
	}
	d := provisioned(t)
	_, err := New(context.Background(), Config{DataDir: d, Lockout: auth.LockoutPolicy{MaxFailures: 9, LockPeriod: time.Hour, ResetWindow: time.Hour}})
	if err == nil {
		t.Fatal("a lockout above 5 failures was accepted")
	}
}
