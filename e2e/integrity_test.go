package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/update"
)

// TS-0045 5.8.1.1: a program changed on disk while the gateway runs (replaced by a
// copy with one byte flipped, as an attacker with the file system would) is noticed
// within one check interval: a critical integrity event for the owner, and the
// launcher refuses the slot at the next start.
func TestIntegrityViolationNoticedWhileRunning(t *testing.T) {
	g := newUpdRig(t)
	g.stop()
	g.args = []string{"--integrity-interval", "1s"}
	g.start()
	count := func() int { return g.dev.eventCount(g.c, "integrity.violation") }
	time.Sleep(1500 * time.Millisecond)
	if n := count(); n != 0 {
		t.Fatalf("%d integrity violations before any change", n)
	}
	path := update.SlotBinary(g.data, update.SlotA)
	prog, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prog[len(prog)/2] ^= 0x01
	tmp := filepath.Join(filepath.Dir(path), ".tampered")
	if err := os.WriteFile(tmp, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no integrity violation raised within 10 s of the change (check interval 1 s)")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if n := count(); n != 1 {
		t.Fatalf("%d integrity events for one change, want it reported once", n)
	}
}
