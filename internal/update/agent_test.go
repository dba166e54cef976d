package update_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/cloud"
	"hearth/internal/keystore"
	"hearth/internal/release"
	"hearth/internal/release/releaseinfo"
	"hearth/internal/release/releasetest"
	"hearth/internal/update"
)

// vault is an in-memory keystore.
type vault struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (v *vault) Get(name string) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, ok := v.m[name]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	return bytes.Clone(b), nil
}

func (v *vault) Put(name string, b []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[name] = bytes.Clone(b)
	return nil
}

// device is a provisioned device running 1.0.0 from slot a, and the vendor repository.
type device struct {
	repo  *releasetest.Repo
	srv   *httptest.Server
	data  string
	vault *vault
	agent *update.Agent
}

func program(version string) []byte { return []byte("#!/bin/sh\n# hearthd " + version + "\nexit 3\n") }

func newDevice(t *testing.T) *device { return newDeviceWith(t, program("1.0.0")) }

func newDeviceWith(t testing.TB, firmware []byte) *device {
	t.Helper()
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 1, firmware)
	d := &device{repo: repo, data: t.TempDir(), vault: &vault{m: map[string][]byte{}}}
	root := repo.TrustedRoot(t)
	d.vault.Put(update.RootRecord, root)
	fw, err := release.FirmwareFor(repo.Dir, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := update.InstallFactory(d.data, d.vault, root, fw.Target, fw.TargetsJSON, bytes.NewReader(firmware)); err != nil {
		t.Fatal(err)
	}
	d.srv = httptest.NewTLSServer(cloud.TUFHandler(repo.Dir))
	t.Cleanup(d.srv.Close)
	d.agent = d.newAgent(t, "1.0.0", d.srv.Client())
	return d
}

func (d *device) newAgent(t testing.TB, current string, client *http.Client) *update.Agent {
	t.Helper()
	a, err := update.NewAgent(update.AgentConfig{DataDir: d.data, RepositoryURL: d.srv.URL + "/tuf", Client: client,
		Vault: d.vault, Serial: "HRT-TEST-0001", Current: current})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (d *device) state(t *testing.T) update.State {
	t.Helper()
	st, err := update.LoadState(d.data)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TS-0045 5.3.1.2, 5.3.1.9, 5.3.1.10: a newer release is found, downloaded into the
// inactive slot, verified, and put on trial; the running slot is untouched.
func TestCheckAndInstall(t *testing.T) {
	d := newDevice(t)
	ctx := context.Background()
	if _, err := d.agent.Check(ctx); !errors.Is(err, update.ErrNothingNew) {
		t.Fatalf("check with nothing new: %v", err)
	}
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
	offer, err := d.agent.Check(ctx)
	if err != nil || offer.Info.Version != "1.1.0" {
		t.Fatalf("check: %+v, %v", offer.Info, err)
	}
	if err := d.agent.Install(ctx, offer); err != nil {
		t.Fatal(err)
	}
	st := d.state(t)
	if st.Active != update.SlotA || st.Trial == nil || st.Trial.Slot != update.SlotB || st.Trial.Version != "1.1.0" {
		t.Fatalf("state after install: %+v", st)
	}
	root, _ := d.vault.Get(update.RootRecord)
	inst, err := update.VerifySlot(d.data, update.SlotB, root)
	if err != nil || inst.Info.Version != "1.1.0" {
		t.Fatalf("installed slot: %+v, %v", inst, err)
	}
	if _, err := update.VerifySlot(d.data, update.SlotA, root); err != nil {
		t.Fatalf("running slot after install: %v", err)
	}
}

// Every attack on the update path leaves the device on its version with a clear error.
func TestRefusedUpdates(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		attack func(t *testing.T, d *device)
		check  bool // refused at check (metadata) rather than at install (program)
		want   error
	}{
		{"expired timestamp", func(t *testing.T, d *device) { releasetest.ExpireTimestamp(d.repo.Dir) }, true, &metadata.ErrExpiredMetadata{}},
		// A mixed-in file of another length is refused by its announced size before its
		// hash is even computed; either refusal is correct.
		{"mixed snapshot", func(t *testing.T, d *device) { releasetest.MixAndMatch(d.repo.Dir, "snapshot") }, true, mixed},
		{"mixed targets", func(t *testing.T, d *device) { releasetest.MixAndMatch(d.repo.Dir, "targets") }, true, mixed},
		{"flipped byte", func(t *testing.T, d *device) { releasetest.TamperTarget(d.repo.Dir, "1.1.0", releasetest.FlipByte) }, false, update.ErrDownloadBad},
		{"endless program", func(t *testing.T, d *device) { releasetest.TamperTarget(d.repo.Dir, "1.1.0", releasetest.Append) }, false, update.ErrDownloadBad},
		{"truncated program", func(t *testing.T, d *device) { releasetest.TamperTarget(d.repo.Dir, "1.1.0", releasetest.Truncate) }, false, update.ErrDownloadBad},
		{"lower security version", func(t *testing.T, d *device) {
			releasetest.RewriteRelease(d.repo.Dir, "1.1.0", func(c *releaseinfo.Custom) { c.SecurityVersion = 1 })
			d.vault.Put(update.SecurityVersionRecord, []byte{0, 0, 0, 0, 0, 0, 0, 2})
		}, true, update.ErrRolledBack},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t)
			d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
			before := d.state(t)
			var offer update.Offer
			var err error
			if !tc.check {
				offer, err = d.agent.Check(ctx)
				if err != nil {
					t.Fatal(err)
				}
			}
			tc.attack(t, d)
			if tc.check {
				_, err = d.agent.Check(ctx)
			} else {
				err = d.agent.Install(ctx, offer)
			}
			if err == nil || !sameKind(err, tc.want) {
				t.Fatalf("got %v, want %T %v", err, tc.want, tc.want)
			}
			if st := d.state(t); st.Active != before.Active || st.Trial != nil {
				t.Fatalf("state changed by a refused update: %+v", st)
			}
		})
	}
}

// An older, validly signed release offered as the newest is not installed.
func TestOlderReleaseNotOffered(t *testing.T) {
	d := newDevice(t)
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
	agent := d.newAgent(t, "1.1.0", d.srv.Client())
	releasetest.OfferOlder(d.repo.Dir, "1.0.0")
	if _, err := agent.Check(context.Background()); !errors.Is(err, update.ErrNothingNew) {
		t.Fatalf("older release: %v, want nothing new", err)
	}
}

// TS-0045 5.3.1.10: a server whose certificate the device does not trust is refused.
func TestUntrustedServerRefused(t *testing.T) {
	d := newDevice(t)
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
	agent := d.newAgent(t, "1.0.0", &http.Client{})
	if _, err := agent.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("server with an untrusted certificate: %v", err)
	}
}

// Endless metadata is cut off at go-tuf's limits, not read to exhaustion.
func TestEndlessMetadataRefused(t *testing.T) {
	d := newDevice(t)
	endless := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := bytes.Repeat([]byte("{"), 1<<16)
		for i := 0; i < 1<<12; i++ { // up to 256 MiB, far beyond every limit
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	a, _ := update.NewAgent(update.AgentConfig{DataDir: d.data, RepositoryURL: endless.URL + "/tuf", Client: endless.Client(),
		Vault: d.vault, Serial: "HRT-TEST-0001", Current: "1.0.0"})
	_, err := a.Check(context.Background())
	var tooLong *metadata.ErrDownloadLengthMismatch
	if err == nil || !errors.As(err, &tooLong) {
		t.Fatalf("endless metadata: %v", err)
	}
}

// TS-0045 5.4.2.3: keys and algorithms rotate; the device follows the signed root chain
// and keeps the new root as its anchor.
func TestRootRotationFollowed(t *testing.T) {
	d := newDevice(t)
	if err := release.RotateKey(d.repo.Dir, "root", release.AlgorithmEd25519, release.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := release.RotateKey(d.repo.Dir, "targets", release.AlgorithmEd25519, release.Options{}); err != nil {
		t.Fatal(err)
	}
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
	offer, err := d.agent.Check(context.Background())
	if err != nil || offer.Info.Version != "1.1.0" {
		t.Fatalf("after rotation: %v", err)
	}
	raw, _ := d.vault.Get(update.RootRecord)
	root, err := metadata.Root().FromBytes(raw)
	if err != nil || root.Signed.Version < 2 {
		t.Fatalf("anchor not advanced: version %d, %v", root.Signed.Version, err)
	}
}

// TS-0045 5.5.1.1: a slot altered on disk fails verification.
func TestAlteredSlotFailsVerification(t *testing.T) {
	d := newDevice(t)
	root, _ := d.vault.Get(update.RootRecord)
	p := update.SlotBinary(d.data, update.SlotA)
	raw, _ := os.ReadFile(p)
	raw[len(raw)-2] ^= 1
	os.WriteFile(p, raw, 0o700)
	if _, err := update.VerifySlot(d.data, update.SlotA, root); !errors.Is(err, update.ErrSlotAltered) {
		t.Fatalf("altered program: %v", err)
	}
	os.WriteFile(p, program("1.0.0"), 0o700)
	tj := filepath.Join(d.data, update.SlotsDir, update.SlotA, "targets.json")
	meta, _ := os.ReadFile(tj)
	os.WriteFile(tj, bytes.Replace(meta, []byte(`"length":`), []byte(`"length": `), 1), 0o600)
	if _, err := update.VerifySlot(d.data, update.SlotA, root); err != nil {
		t.Fatalf("whitespace in metadata changed the verdict: %v", err)
	}
	os.WriteFile(tj, bytes.Replace(meta, []byte(`release 1.0.0`), []byte(`release 9.9.9`), 1), 0o600)
	if _, err := update.VerifySlot(d.data, update.SlotA, root); !errors.Is(err, update.ErrSlotSignature) {
		t.Fatalf("altered metadata: %v", err)
	}
}

// mixed stands for either refusal of mixed metadata: a hash or a length mismatch.
var mixed = errors.New("mixed metadata")

// sameKind reports whether err is want, or wraps an error of want's type.
func sameKind(err, want error) bool {
	if want == mixed {
		return sameKind(err, &metadata.ErrLengthOrHashMismatch{}) || sameKind(err, &metadata.ErrDownloadLengthMismatch{})
	}
	if errors.Is(err, want) {
		return true
	}
	for e := err; e != nil; {
		if fmt.Sprintf("%T", e) == fmt.Sprintf("%T", want) {
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if sameKind(x, want) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// Offline update: a bundle from hearth-cloud bundle installs like an online update; a
// bundle of an older release, or one with an altered program, does not.
func TestOfflineBundle(t *testing.T) {
	d := newDevice(t)
	ctx := context.Background()
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
	var b bytes.Buffer
	if err := release.Bundle(d.repo.Dir, "1.1.0", &b); err != nil {
		t.Fatal(err)
	}
	offline := d.newAgent(t, "1.0.0", &http.Client{}) // no network needed
	o, err := offline.OfferBundle(ctx, bytes.NewReader(b.Bytes()))
	if err != nil || o.Info.Version != "1.1.0" {
		t.Fatalf("bundle: %+v, %v", o.Info, err)
	}
	if err := offline.Install(ctx, o); err != nil {
		t.Fatal(err)
	}
	if st := d.state(t); st.Trial == nil || st.Trial.Version != "1.1.0" {
		t.Fatalf("after a bundle install: %+v", st)
	}
	var old bytes.Buffer
	release.Bundle(d.repo.Dir, "1.0.0", &old)
	newer := d.newAgent(t, "1.1.0", &http.Client{})
	if _, err := newer.OfferBundle(ctx, bytes.NewReader(old.Bytes())); !errors.Is(err, update.ErrNothingNew) {
		t.Fatalf("bundle of an older release: %v", err)
	}
	bad := bytes.Clone(b.Bytes())
	i := bytes.Index(bad, []byte("# hearthd 1.1.0"))
	bad[i] ^= 1
	o, err = d.newAgent(t, "1.0.0", &http.Client{}).OfferBundle(ctx, bytes.NewReader(bad))
	if err == nil {
		err = offline.Install(ctx, o)
	}
	if !errors.Is(err, update.ErrDownloadBad) {
		t.Fatalf("bundle with an altered program: %v", err)
	}
	if _, err := offline.OfferBundle(ctx, strings.NewReader("not a tar")); !errors.Is(err, update.ErrBadBundle) {
		t.Fatalf("junk bundle: %v", err)
	}
}

func FuzzOfferBundle(f *testing.F) {
	f.Add([]byte("not a tar"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := newDeviceWith(t, program("1.0.0"))
		d.agent.OfferBundle(context.Background(), bytes.NewReader(b)) // must not panic
	})
}
