package update_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"hearth/internal/events"
	"hearth/internal/update"
)

type recorder struct {
	mu sync.Mutex
	ev []events.Event
}

func (r *recorder) Publish(_ context.Context, e events.Event) {
	r.mu.Lock()
	r.ev = append(r.ev, e)
	r.mu.Unlock()
}

func (r *recorder) has(k events.Kind) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.ev, func(e events.Event) bool { return e.Kind == k })
}

func launcher(t *testing.T, d *device, ev *recorder) *update.Launcher {
	t.Helper()
	l, err := update.NewLauncher(update.LauncherConfig{DataDir: d.data, Vault: d.vault, Events: ev,
		ReadyFile: filepath.Join(t.TempDir(), "ready.json"), HealthTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// runUntil runs the launcher until cond holds (or 20 s pass).
func runUntil(t *testing.T, l *update.Launcher, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("condition not reached within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// A new slot that does not become healthy is rejected: the device returns to the
// previous slot by itself and the version is not offered again.
func TestFailedHealthCheckRollsBack(t *testing.T) {
	d := newDevice(t)
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0")) // exits at once: never healthy
	offer, err := d.agent.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.agent.Install(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	ev := &recorder{}
	runUntil(t, launcher(t, d, ev), func() bool { return ev.has(events.UpdateRolledBack) })
	st := d.state(t)
	if st.Active != update.SlotA || st.Trial != nil || !slices.Contains(st.Refused, "1.1.0") {
		t.Fatalf("after a failed health check: %+v", st)
	}
	if sv, _ := update.SecurityVersion(d.vault); sv != 1 {
		t.Fatalf("security version raised by a rejected release: %d", sv)
	}
	if _, err := d.agent.Check(context.Background()); err == nil {
		t.Fatal("the rejected version is offered again")
	}
}

// TS-0045 5.5.1.1, 5.8.1.1: an altered active slot is refused at launch, the other slot
// runs, and a security event is raised.
func TestAlteredSlotRefusedAtLaunch(t *testing.T) {
	d := newDevice(t)
	d.repo.Publish(t, "1.1.0", 2, program("1.1.0"))
	offer, _ := d.agent.Check(context.Background())
	if err := d.agent.Install(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	st := d.state(t)
	st.Trial = nil // as if 1.1.0 had been tried and kept: make b active, a the fallback
	st.Active = update.SlotB
	update.SaveState(d.data, st)
	p := update.SlotBinary(d.data, update.SlotB)
	raw, _ := os.ReadFile(p)
	raw[0] ^= 1
	os.WriteFile(p, raw, 0o700)
	ev := &recorder{}
	runUntil(t, launcher(t, d, ev), func() bool { return ev.has(events.FirmwareRejected) && d.state(t).Active == update.SlotA })
}

// A slot below the security version never runs again, even though validly signed.
func TestSlotBelowSecurityVersionRefused(t *testing.T) {
	d := newDevice(t)
	update.RaiseSecurityVersion(d.vault, 5)
	ev := &recorder{}
	l := launcher(t, d, ev)
	if err := l.Run(context.Background()); err != update.ErrNoVerifiedSlot {
		t.Fatalf("only slot below the security version: %v", err)
	}
	if !ev.has(events.FirmwareRejected) {
		t.Fatal("no security event")
	}
}
