package update_test

import (
	"bytes"
	"crypto/rand"
	"os/exec"
	"testing"

	"hearth/internal/update"
)

// BenchmarkVerifySlot64MiB measures verified launch of a 64 MiB program (signature of
// the metadata, streamed hash and length of the program), to compare with
// `sha256sum` of the same file:
//
//	go test ./internal/update -run '^$' -bench VerifySlot -benchmem
func BenchmarkVerifySlot64MiB(b *testing.B) {
	d := newDeviceTB(b, 64<<20)
	root, _ := d.vault.Get(update.RootRecord)
	path := update.SlotBinary(d.data, update.SlotA)
	b.SetBytes(64 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := update.VerifySlot(d.data, update.SlotA, root); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if out, err := exec.Command("sh", "-c", "time -p sha256sum "+path+" >/dev/null").CombinedOutput(); err == nil {
		b.Logf("sha256sum of the same file: %s", bytes.TrimSpace(out))
	}
}

// newDeviceTB is newDevice with a program of the given size.
func newDeviceTB(b *testing.B, size int) *device {
	prog := make([]byte, size)
	rand.Read(prog)
	return newDeviceWith(b, prog)
}
