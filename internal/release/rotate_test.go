package release_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/release"
	"hearth/internal/release/releasetest"
)

func readRoot(t *testing.T, vendorDir string, version int) *metadata.Metadata[metadata.RootType] {
	t.Helper()
	r, err := new(metadata.Metadata[metadata.RootType]).FromFile(filepath.Join(vendorDir, release.MetadataDir, fmt.Sprintf("%d.root.json", version)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func roleKeyType(root *metadata.Metadata[metadata.RootType], role string) string {
	ids := root.Signed.Roles[role].KeyIDs
	if len(ids) != 1 {
		return fmt.Sprintf("%d keys", len(ids))
	}
	return root.Signed.Keys[ids[0]].Type
}

// TS-0045 5.4.2.3, 5.4.2.8: keys are rotated, and a role's algorithm changed, in-band.
// A device that trusts only 1.root.json, or that cached metadata from before the
// rotations, follows the chain of roots and verifies releases signed with the new keys.
func TestRotateKeys(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 0, program(t, 1000))
	srv := repo.Serve(t)
	anchor := repo.TrustedRoot(t)
	cached := t.TempDir()
	if _, err := fetch(t, srv, anchor, cached, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(repo.Dir, release.OfflineKeyDir, "root.key")
	oldRootKey, _ := os.ReadFile(keyFile)

	steps := []struct{ role, algorithm, wantType string }{
		{release.RoleRoot, "", metadata.KeyTypeECDSA_SHA2_P256},
		{release.RoleTimestamp, release.AlgorithmEd25519, metadata.KeyTypeEd25519},
		{release.RoleTargets, release.AlgorithmEd25519, metadata.KeyTypeEd25519},
		{release.RoleSnapshot, "", metadata.KeyTypeECDSA_SHA2_P256},
		{release.RoleRoot, release.AlgorithmEd25519, metadata.KeyTypeEd25519},
	}
	for i, s := range steps {
		if err := release.RotateKey(repo.Dir, s.role, s.algorithm, release.Options{}); err != nil {
			t.Fatalf("rotate %s: %v", s.role, err)
		}
		prev, next := readRoot(t, repo.Dir, i+1), readRoot(t, repo.Dir, i+2)
		if got := roleKeyType(next, s.role); got != s.wantType {
			t.Fatalf("after rotating %s: key type %s, want %s", s.role, got, s.wantType)
		}
		if roleKeyIDs(prev, s.role) == roleKeyIDs(next, s.role) {
			t.Fatalf("rotating %s kept its key", s.role)
		}
		// TUF 5.3.4: each root is signed by the previous root's key and its own.
		if err := prev.VerifyDelegate(release.RoleRoot, next); err != nil {
			t.Fatalf("root %d not signed by root %d's key: %v", i+2, i+1, err)
		}
		if err := next.VerifyDelegate(release.RoleRoot, next); err != nil {
			t.Fatalf("root %d not signed by its own key: %v", i+2, err)
		}
		if _, err := os.Stat(keyFile + ".new"); !os.IsNotExist(err) {
			t.Fatalf("rotation left a pending key file: %v", err)
		}
	}
	if newKey, _ := os.ReadFile(keyFile); bytes.Equal(newKey, oldRootKey) {
		t.Fatal("root key file unchanged after rotation")
	}
	latest, _ := os.ReadFile(filepath.Join(repo.Dir, release.MetadataDir, "root.json"))
	if want, _ := os.ReadFile(filepath.Join(repo.Dir, release.MetadataDir, "6.root.json")); !bytes.Equal(latest, want) {
		t.Fatal("root.json is not the latest root")
	}
	body := program(t, 2000)
	repo.Publish(t, "1.1.0", 0, body)
	for name, dir := range map[string]string{"fresh": t.TempDir(), "cached": cached} {
		data, err := fetch(t, srv, anchor, dir, "1.1.0")
		if err != nil || !bytes.Equal(data, body) {
			t.Fatalf("%s client after rotations: %v", name, err)
		}
	}
}

func roleKeyIDs(root *metadata.Metadata[metadata.RootType], role string) string {
	return fmt.Sprint(root.Signed.Roles[role].KeyIDs)
}

// The targets key can be replaced without the old one (lost or stolen), and a rotation
// interrupted after the new root was written is completed by the next change.
func TestRotateRecovery(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	targetsKey := filepath.Join(repo.Dir, release.OfflineKeyDir, "targets.key")
	if err := os.Remove(targetsKey); err != nil {
		t.Fatal(err)
	}
	if err := release.RotateKey(repo.Dir, release.RoleTargets, "", release.Options{}); err != nil {
		t.Fatalf("rotate a lost targets key: %v", err)
	}
	repo.Publish(t, "1.0.0", 0, program(t, 100))

	// Simulate a crash after the metadata was written: the new key is still pending and
	// the old one in place.
	tsKey := filepath.Join(repo.Dir, release.OnlineKeyDir, "timestamp.key")
	old, _ := os.ReadFile(tsKey)
	if err := release.RotateKey(repo.Dir, release.RoleTimestamp, "", release.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tsKey, tsKey+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tsKey, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := release.RefreshTimestamp(repo.Dir, release.Options{}); err != nil {
		t.Fatalf("refresh after an interrupted rotation: %v", err)
	}
	if _, err := os.Stat(tsKey + ".new"); !os.IsNotExist(err) {
		t.Fatal("pending key not moved into place")
	}
	if _, err := fetch(t, repo.Serve(t), repo.TrustedRoot(t), t.TempDir(), "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := release.RotateKey(repo.Dir, "delegate", "", release.Options{}); err == nil {
		t.Fatal("rotating an unknown role succeeded")
	}
	if err := release.RotateKey(repo.Dir, release.RoleRoot, "rsa", release.Options{}); err == nil {
		t.Fatal("rotating to an unknown algorithm succeeded")
	}
}
