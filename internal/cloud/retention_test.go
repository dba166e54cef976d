package cloud

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"hearth/internal/privacy"
)

// TS-0045 5.7.1.8: records are kept no longer than the register of processing
// activities says for their purpose; a batch resent after its records expired is still
// known and not stored again.
func TestPruneByRetention(t *testing.T) {
	g := newRig(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var now atomic.Int64
	now.Store(t0.UnixNano())
	svc, err := New(Config{VendorDir: g.vendor, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	g.svc = svc
	g.srv.Config.Handler = svc.Handler()
	g.grant(t, privacy.PurposeTelemetry, privacy.PurposeCrashReports, privacy.PurposeCloudBackup)
	body := batch(testStream, dataItem(1, "telemetry"), dataItem(2, "crash_report"), dataItem(3, "backup"))
	g.send(t, g.id, body, 3, 0, 0)
	for _, step := range []struct {
		days   int
		pruned int
		left   string
	}{
		{29, 0, "telemetry:1@1 crash_report:2@1 backup:3@1"},
		{31, 1, "telemetry:1@1 crash_report:2@1"},
		{91, 1, "telemetry:1@1"},
		{397, 1, ""},
	} {
		now.Store(t0.AddDate(0, 0, step.days).UnixNano())
		n, err := svc.Prune()
		if err != nil || n != step.pruned {
			t.Fatalf("day %d: pruned %d %v, want %d", step.days, n, err, step.pruned)
		}
		if got := seqs(stored(t, g.vendor, g.id.Info.Serial)); got != step.left {
			t.Fatalf("day %d: kept %q, want %q", step.days, got, step.left)
		}
	}
	if _, err := os.Stat(filepath.Join(g.vendor, "telemetry", testStream+".jsonl")); !os.IsNotExist(err) {
		t.Fatalf("empty stream file kept: %v", err)
	}
	g.restart(t)
	g.send(t, g.id, body, 0, 3, 0)
}
