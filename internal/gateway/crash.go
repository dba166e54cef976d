package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"hearth/internal/buildinfo"
	"hearth/internal/events"
	"hearth/internal/outbox"
	"hearth/internal/privacy"
)

// CrashDir holds the runtime's crash output of the running process, in the data
// directory.
const CrashDir = "crash"

// maxCrashOutput bounds what is read of a previous run's crash output.
const maxCrashOutput = 1 << 20

// CaptureCrashes makes the Go runtime write this process's crash output (a panic or a
// fatal error, with its stacks) to a file in dataDir/crash, to be reduced to a crash
// report at the next start. hearthd calls it once, before gateway.New.
func CaptureCrashes(dataDir string) error {
	dir := filepath.Join(dataDir, CrashDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.log", time.Now().UnixNano()))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close() // the runtime keeps its own copy of the descriptor
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		return err
	}
	crashFile.Store(&path)
	return nil
}

// crashFile is where this process's crash output goes (set by CaptureCrashes; the
// runtime's crash output is per process too).
var crashFile atomic.Pointer[string]

// collectCrashes reads the crash output files of earlier runs: each non-empty one is a
// crash, recorded as an event and, with the owner's consent to crash reports, reduced
// and queued for the vendor. The files are deleted either way; the current run's file
// (empty) is left alone.
//
// TS-0045 5.7.1.9: nothing of a crash leaves the device without consent.
func (m *Main) collectCrashes(ctx context.Context) {
	dir := filepath.Join(m.cfg.DataDir, CrashDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if own := crashFile.Load(); own != nil && *own == path {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if info.Size() == 0 {
			os.Remove(path) // an earlier run that ended without crashing
			continue
		}
		raw, err := readAtMost(path, maxCrashOutput)
		if err != nil {
			continue
		}
		rep := privacy.ReduceCrash(raw, buildinfo.Version(), info.ModTime())
		m.events.Publish(ctx, events.Event{Time: info.ModTime().UTC(), Kind: events.GatewayCrashed, Severity: events.Warning,
			Detail: rep.Reason, Args: []string{rep.Reason}})
		if m.outbox != nil {
			doc, _ := json.Marshal(rep)
			if err := m.outbox.Enqueue(ctx, outbox.KindCrashReport, doc); err != nil && !errors.Is(err, outbox.ErrNotAllowed) {
				m.log.Warn("crash report not queued", "err", err)
			}
		}
		os.Remove(path)
	}
}

func readAtMost(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}
