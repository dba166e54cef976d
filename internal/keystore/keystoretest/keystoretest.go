// Package keystoretest is the conformance suite every keystore wrapping (host key, TPM)
// passes: the same sealing, tamper, cross-device and crypto-erase checks against each.
package keystoretest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"hearth/internal/keystore"
)

// NewWrapper returns a wrapper for a keystore in dir. Two calls with different dirs
// stand for two devices: their wrappers must not open each other's data keys.
type NewWrapper func(t *testing.T, dir string) keystore.Wrapper

// Run runs the suite.
func Run(t *testing.T, newWrapper NewWrapper) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewWrapper)
	}{
		{"PutGetAcrossReopen", testReopen},
		{"CreateTwiceRefused", testCreateTwice},
		{"FlippedBitsRefused", testFlippedBits},
		{"SwappedRecordRefused", testSwapped},
		{"RecordFromAnotherDeviceRefused", testForeignRecord},
		{"DataKeyFromAnotherDeviceRefused", testForeignDataKey},
		{"EraseMakesEverythingUnreadable", testErase},
		{"DeleteDestroysOneRecord", testDelete},
		{"SignerNeverExposesKey", testSigner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newWrapper) })
	}
}

func create(t *testing.T, nw NewWrapper) (*keystore.Store, string, keystore.Wrapper) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ks")
	w := nw(t, dir)
	s, err := keystore.Create(dir, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, w
}

// TS-0045 5.4.1.1: records survive reopening and are encrypted on disk.
func testReopen(t *testing.T, nw NewWrapper) {
	s, dir, w := create(t, nw)
	secret := []byte("sensor credential 42")
	if err := s.Put("sensor-42", secret); err != nil {
		t.Fatal(err)
	}
	s2, err := keystore.Open(dir, w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get("sensor-42")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("got %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(raw, secret) {
			t.Fatalf("%s holds the secret in clear", e.Name())
		}
		st, _ := e.Info()
		if st.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s has mode %v, want no access for others", e.Name(), st.Mode().Perm())
		}
	}
}

func testCreateTwice(t *testing.T, nw NewWrapper) {
	_, dir, w := create(t, nw)
	if _, err := keystore.Create(dir, w, nil); !errors.Is(err, keystore.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
}

// TS-0045 5.4.1.1: one flipped bit in a record or in the wrapped data key is refused.
func testFlippedBits(t *testing.T, nw NewWrapper) {
	s, dir, w := create(t, nw)
	if err := s.Put("secret", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"secret.sealed", "datakey.sealed"} {
		path := filepath.Join(dir, file)
		orig, _ := os.ReadFile(path)
		for i := range orig {
			for _, bit := range []byte{0x01, 0x80} {
				mod := bytes.Clone(orig)
				mod[i] ^= bit
				os.WriteFile(path, mod, 0o600)
				var err error
				if file == "datakey.sealed" {
					_, err = keystore.Open(dir, w)
				} else {
					_, err = s.Get("secret")
				}
				if err == nil {
					t.Fatalf("%s: flipping bit %#x of byte %d went unnoticed", file, bit, i)
				}
			}
		}
		os.WriteFile(path, orig, 0o600)
	}
	if _, err := s.Get("secret"); err != nil {
		t.Fatalf("restored record: %v", err)
	}
}

func testSwapped(t *testing.T, nw NewWrapper) {
	s, dir, _ := create(t, nw)
	s.Put("a", []byte("alpha"))
	s.Put("b", []byte("bravo"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.sealed"))
	os.WriteFile(filepath.Join(dir, "a.sealed"), b, 0o600)
	if _, err := s.Get("a"); !errors.Is(err, keystore.ErrTampered) {
		t.Fatalf("swapped record: %v, want ErrTampered", err)
	}
}

func testForeignRecord(t *testing.T, nw NewWrapper) {
	s1, dir1, _ := create(t, nw)
	s2, dir2, _ := create(t, nw)
	if err := s2.Put("x", []byte("other device")); err != nil {
		t.Fatal(err)
	}
	foreign, _ := os.ReadFile(filepath.Join(dir2, "x.sealed"))
	os.WriteFile(filepath.Join(dir1, "x.sealed"), foreign, 0o600)
	if _, err := s1.Get("x"); !errors.Is(err, keystore.ErrWrongKey) {
		t.Fatalf("foreign record: %v, want ErrWrongKey", err)
	}
}

// A data key file copied from another device does not open here.
func testForeignDataKey(t *testing.T, nw NewWrapper) {
	_, dir1, w1 := create(t, nw)
	_, dir2, _ := create(t, nw)
	foreign, _ := os.ReadFile(filepath.Join(dir2, "datakey.sealed"))
	os.WriteFile(filepath.Join(dir1, "datakey.sealed"), foreign, 0o600)
	if _, err := keystore.Open(dir1, w1); err == nil {
		t.Fatal("another device's data key opened")
	}
}

func testErase(t *testing.T, nw NewWrapper) {
	s, dir, w := create(t, nw)
	s.Put("a", []byte("alpha"))
	if err := s.Erase(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, keystore.ErrErased) {
		t.Fatalf("get after erase: %v", err)
	}
	if _, err := keystore.Open(dir, w); err == nil {
		t.Fatal("open after erase succeeded")
	}
}

func testSigner(t *testing.T, nw NewWrapper) {
	s, dir, w := create(t, nw)
	sig, err := s.GenerateSigner("device-identity")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sig.(*ecdsa.PrivateKey); ok {
		t.Fatal("signer is the raw private key")
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, sig); out != "REDACTED" {
			t.Fatalf("%s prints %q", f, out)
		}
	}
	again, err := keystore.Open(dir, w)
	if err != nil {
		t.Fatal(err)
	}
	sig2, err := again.Signer("device-identity")
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("hello"))
	sigBytes, err := sig2.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(sig.Public().(*ecdsa.PublicKey), digest[:], sigBytes) {
		t.Fatal("reopened signer does not match the generated key")
	}
}

// Bench runs the keystore benchmarks for one wrapping: opening the keystore (unwrapping
// the data key), and sealing and opening 1 KiB records.
func Bench(b *testing.B, newWrapper func(dir string) keystore.Wrapper) {
	dir := filepath.Join(b.TempDir(), "ks")
	w := newWrapper(dir)
	s, err := keystore.Create(dir, w, nil)
	if err != nil {
		b.Fatal(err)
	}
	record := bytes.Repeat([]byte{0xa5}, 1024)
	if err := s.Put("bench", record); err != nil {
		b.Fatal(err)
	}
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			if _, err := keystore.Open(dir, w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Put1KiB", func(b *testing.B) {
		b.SetBytes(1024)
		for b.Loop() {
			if err := s.Put("bench", record); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get1KiB", func(b *testing.B) {
		b.SetBytes(1024)
		for b.Loop() {
			if _, err := s.Get("bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func testDelete(t *testing.T, nw NewWrapper) {
	s, _, _ := create(t, nw)
	f, err := s.Field("field")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := f.Seal("row", []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("keep", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("field"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("field"); err != nil {
		t.Fatalf("deleting a missing record: %v", err)
	}
	if _, err := s.Get("field"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("deleted record still readable: %v", err)
	}
	f2, err := s.Field("field")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f2.Open("row", sealed); err == nil {
		t.Fatal("a value sealed under the deleted field key opened under the new one")
	}
	if got, err := s.Get("keep"); err != nil || string(got) != "kept" {
		t.Fatalf("other record: %q, %v", got, err)
	}
	if err := s.Delete("../x"); !errors.Is(err, keystore.ErrBadName) {
		t.Fatalf("bad name: %v", err)
	}
}
