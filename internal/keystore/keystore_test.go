package keystore

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
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ks")
	s, err := Create(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// TS-0045 5.4.1.1: records survive reopening and are encrypted on disk.
func TestPutGetAcrossReopen(t *testing.T) {
	s, dir := newStore(t)
	secret := []byte("sensor credential 42")
	if err := s.Put("sensor-42", secret); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get("sensor-42")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("got %q, %v", got, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "sensor-42.sealed"))
	if bytes.Contains(raw, secret) {
		t.Fatal("plaintext visible in the sealed record")
	}
	for _, f := range []string{"host.key", "datakey.sealed", "sensor-42.sealed"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v; want 0600", f, st.Mode().Perm(), err)
		}
	}
}

func TestCreateTwiceRefused(t *testing.T) {
	_, dir := newStore(t)
	if _, err := Create(dir, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
}

// TS-0045 5.4.1.1: one flipped bit anywhere in a record, or in the wrapped data key, is refused.
func TestFlippedBitsRefused(t *testing.T) {
	s, dir := newStore(t)
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
					_, err = Open(dir)
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

func TestSwappedRecordRefused(t *testing.T) {
	s, dir := newStore(t)
	s.Put("a", []byte("alpha"))
	s.Put("b", []byte("bravo"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.sealed"))
	os.WriteFile(filepath.Join(dir, "a.sealed"), b, 0o600)
	if _, err := s.Get("a"); !errors.Is(err, ErrTampered) {
		t.Fatalf("swapped record: %v, want ErrTampered", err)
	}
}

func TestRecordFromAnotherDeviceRefused(t *testing.T) {
	s1, dir1 := newStore(t)
	s2, dir2 := newStore(t)
	if err := s2.Put("x", []byte("other device")); err != nil {
		t.Fatal(err)
	}
	foreign, err := os.ReadFile(filepath.Join(dir2, "x.sealed"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir1, "x.sealed"), foreign, 0o600)
	if _, err := s1.Get("x"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("foreign record: %v, want ErrWrongKey", err)
	}
}

func TestEraseMakesEverythingUnreadable(t *testing.T) {
	s, dir := newStore(t)
	s.Put("a", []byte("alpha"))
	if err := s.Erase(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrErased) {
		t.Fatalf("get after erase: %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("open after erase succeeded")
	}
}

func TestBadNames(t *testing.T) {
	s, _ := newStore(t)
	for _, n := range []string{"", "../x", "A", "a/b", ".hidden", string(make([]byte, 65))} {
		if err := s.Put(n, []byte("x")); !errors.Is(err, ErrBadName) {
			t.Errorf("Put(%q): %v, want ErrBadName", n, err)
		}
	}
	if _, err := s.Get("missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestSignerNeverExposesKey(t *testing.T) {
	s, dir := newStore(t)
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
	again, err := Open(dir)
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

func FuzzOpenRecord(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := newSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.seal("name", []byte("payload"))
	f.Add(good)
	f.Add(good[:len(good)-1])
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		plain, err := s.open("name", rec)
		if err == nil && !bytes.Equal(plain, []byte("payload")) {
			t.Fatalf("forged record opened to %q", plain)
		}
	})
}

func TestExposedHostKeyRefused(t *testing.T) {
	_, dir := newStore(t)
	os.Chmod(filepath.Join(dir, "host.key"), 0o644)
	if _, err := Open(dir); !errors.Is(err, ErrExposed) {
		t.Fatalf("world-readable host key: %v, want ErrExposed", err)
	}
}
