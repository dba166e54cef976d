package tpm_test

import (
	"context"
	"testing"

	"hearth/internal/keystore"
	"hearth/internal/keystore/keystoretest"
	"hearth/internal/keystore/tpm"
	"hearth/internal/keystore/tpm/swtpm"
)

// newWrapper starts a fresh swtpm (a new device) for each keystore.
func newWrapper(t *testing.T, _ string) keystore.Wrapper {
	t.Helper()
	sw, err := swtpm.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	w, err := tpm.Open(sw.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TS-0045 5.4.1.1: the TPM wrapping passes the same conformance suite as the host key,
// against swtpm.
func TestTPMConformance(t *testing.T) {
	keystoretest.Run(t, newWrapper)
}

func TestSealedKeySurvivesTPMRestart(t *testing.T) {
	state := t.TempDir()
	sw, err := swtpm.Start(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := tpm.Open(sw.Socket)
	dir := t.TempDir()
	s, err := keystore.Create(dir, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("x", []byte("kept"))
	w.Close()
	sw.Stop()
	sw2, err := swtpm.Start(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer sw2.Stop()
	w2, _ := tpm.Open(sw2.Socket)
	defer w2.Close()
	s2, err := keystore.Open(dir, w2)
	if err != nil {
		t.Fatalf("after a TPM restart: %v", err)
	}
	if got, err := s2.Get("x"); err != nil || string(got) != "kept" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func FuzzDecodeBlob(f *testing.F) {
	f.Add([]byte{0, 1, 'a', 0, 1, 'b'})
	f.Add([]byte{0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &tpm.Wrapper{}
		// A malformed blob must be refused before any TPM command is sent (the zero
		// Wrapper has no TPM: reaching it would panic).
		defer func() {
			if r := recover(); r != nil && !tpm.WellFormed(b) {
				t.Fatalf("malformed blob %x reached the TPM: %v", b, r)
			}
		}()
		w.Unwrap(b)
	})
}

func BenchmarkKeystoreTPM(b *testing.B) {
	sw, err := swtpm.Start(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer sw.Stop()
	w, err := tpm.Open(sw.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	keystoretest.Bench(b, func(string) keystore.Wrapper { return w })
}
