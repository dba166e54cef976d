package keystore_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"hearth/internal/keystore"
	"hearth/internal/keystore/keystoretest"
)

// TS-0045 5.4.1.1: the host-key wrapping passes the keystore conformance suite.
func TestHostKeyConformance(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T, dir string) keystore.Wrapper { return keystore.NewHostKey(dir) })
}

func newStore(t *testing.T) (*keystore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ks")
	s, err := keystore.Create(dir, keystore.NewHostKey(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestExposedHostKeyRefused(t *testing.T) {
	_, dir := newStore(t)
	os.Chmod(filepath.Join(dir, keystore.HostKeyFile), 0o644)
	if _, err := keystore.Open(dir, keystore.NewHostKey(dir)); !errors.Is(err, keystore.ErrExposed) {
		t.Fatalf("world-readable host key: %v, want ErrExposed", err)
	}
}

type otherWrapper struct{ keystore.Wrapper }

func (otherWrapper) Kind() string { return "tpm" }

func TestWrongWrapperRefused(t *testing.T) {
	_, dir := newStore(t)
	if _, err := keystore.Open(dir, otherWrapper{keystore.NewHostKey(dir)}); err == nil {
		t.Fatal("a host-key keystore opened with another wrapping")
	}
}

func TestBadNames(t *testing.T) {
	s, _ := newStore(t)
	for _, n := range []string{"", "../x", "A", "a/b", ".hidden", string(make([]byte, 65))} {
		if err := s.Put(n, []byte("x")); !errors.Is(err, keystore.ErrBadName) {
			t.Errorf("Put(%q): %v, want ErrBadName", n, err)
		}
	}
	if _, err := s.Get("missing"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := keystore.Open(filepath.Join(t.TempDir(), "none"), keystore.NewHostKey("x")); !errors.Is(err, keystore.ErrNotCreated) {
		t.Fatalf("open of nothing: %v", err)
	}
}

func TestRecordFormatFixedHeader(t *testing.T) {
	s, dir := newStore(t)
	s.Put("x", []byte("payload"))
	raw, _ := os.ReadFile(filepath.Join(dir, "x.sealed"))
	if raw[0] != 1 || bytes.Contains(raw, []byte("payload")) {
		t.Fatalf("record header %x", raw[:9])
	}
}

func TestFieldSealer(t *testing.T) {
	s, dir := newStore(t)
	f, err := s.Field("db-fields")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := f.Seal("user:alice", []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := keystore.Open(dir, keystore.NewHostKey(dir))
	f2, err := s2.Field("db-fields")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f2.Open("user:alice", ct); err != nil || string(got) != "hash" {
		t.Fatalf("reopened field key: %q %v", got, err)
	}
	if _, err := f2.Open("user:bob", ct); err == nil {
		t.Fatal("a value moved to another row opened")
	}
}

// go test ./internal/keystore/... -run '^$' -bench Keystore
func BenchmarkKeystoreHostKey(b *testing.B) {
	keystoretest.Bench(b, func(dir string) keystore.Wrapper { return keystore.NewHostKey(dir) })
}
