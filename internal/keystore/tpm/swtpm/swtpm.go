// Package swtpm runs Debian's swtpm, a software TPM 2.0, for tests and the demo: each
// instance has its own state (its own endorsement and owner seeds), so two instances
// stand for two devices.
package swtpm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// TPM is a running swtpm.
type TPM struct {
	// Socket is the Unix socket that carries TPM commands.
	Socket string
	dir    string
	cmd    *exec.Cmd
	done   chan error
}

// Start runs swtpm with its state in stateDir (created if needed; reuse it to keep the
// TPM's seeds across restarts). The socket lives in a short temporary directory, since
// Unix socket paths are limited to about 100 bytes.
func Start(ctx context.Context, stateDir string) (*TPM, error) {
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		return nil, fmt.Errorf("swtpm is required (apt-get install swtpm): %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	sockDir, err := os.MkdirTemp("", "swtpm-")
	if err != nil {
		return nil, err
	}
	t := &TPM{Socket: filepath.Join(sockDir, "tpm.sock"), dir: sockDir, done: make(chan error, 1)}
	t.cmd = exec.Command(bin, "socket", "--tpm2",
		"--tpmstate", "dir="+stateDir,
		"--server", "type=unixio,path="+t.Socket,
		"--ctrl", "type=unixio,path="+filepath.Join(sockDir, "ctrl.sock"),
		"--flags", "not-need-init,startup-clear")
	out := &limitedBuffer{}
	t.cmd.Stdout, t.cmd.Stderr = out, out
	if err := t.cmd.Start(); err != nil {
		os.RemoveAll(sockDir)
		return nil, fmt.Errorf("start swtpm: %w", err)
	}
	go func() { t.done <- t.cmd.Wait() }()
	return t, t.waitReady(ctx, out)
}

func (t *TPM) waitReady(ctx context.Context, out *limitedBuffer) error {
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if st, err := os.Stat(t.Socket); err == nil && st.Mode()&os.ModeSocket != 0 {
			return nil
		}
		select {
		case err := <-t.done:
			os.RemoveAll(t.dir)
			return fmt.Errorf("swtpm exited (%v): %s", err, out.String())
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-deadline.C:
			t.Stop()
			return errors.New("swtpm did not create its socket within 10 s")
		case <-tick.C:
		}
	}
}

// Stop ends swtpm; its state directory stays.
func (t *TPM) Stop() {
	if t.cmd.ProcessState == nil {
		t.cmd.Process.Kill()
		<-t.done
	}
	os.RemoveAll(t.dir)
}

// limitedBuffer keeps the first 4 KiB of swtpm's output for error messages.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
