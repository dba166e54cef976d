package update

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"hearth/internal/events"
)

// ExitRestart is the exit status with which hearthd asks the launcher to start it again
// (an update was installed into the other slot).
const ExitRestart = 75

// LauncherConfig configures the launcher.
type LauncherConfig struct {
	DataDir string
	Vault   Vault
	Events  events.Publisher
	// Args are hearthd's arguments; the launcher adds --ready-file.
	Args []string
	// ReadyFile is where hearthd reports its address; the launcher watches it.
	ReadyFile string
	// HealthTimeout bounds how long a new slot may take to become healthy; 0 means 60 s.
	HealthTimeout time.Duration
	Log           *slog.Logger // nil: discard
	Stdout        *os.File
	Stderr        *os.File
}

// Launcher runs hearthd from a verified slot, tries newly installed slots and keeps or
// rejects them by their health.
type Launcher struct{ cfg LauncherConfig }

// NewLauncher returns a launcher.
func NewLauncher(cfg LauncherConfig) (*Launcher, error) {
	if cfg.DataDir == "" || cfg.Vault == nil || cfg.ReadyFile == "" {
		return nil, errors.New("update: launcher needs a data directory, the keystore and a ready file")
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.HealthTimeout == 0 {
		cfg.HealthTimeout = time.Minute
	}
	return &Launcher{cfg: cfg}, nil
}

// ErrNoVerifiedSlot means neither slot holds a program the launcher can verify.
var ErrNoVerifiedSlot = errors.New("update: no slot holds a verified program")

// Run starts hearthd and keeps it running until ctx ends.
func (l *Launcher) Run(ctx context.Context) error {
	crashes := 0
	for {
		st, err := LoadState(l.cfg.DataDir)
		if err != nil {
			return fmt.Errorf("update: launcher: %w", err)
		}
		slot, inst, trial, err := l.pick(ctx, st)
		if err != nil {
			return err
		}
		code, err := l.runSlot(ctx, slot, inst, trial)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case code == ExitRestart:
			crashes = 0
		default:
			crashes++
			wait := min(time.Duration(crashes)*time.Second, 30*time.Second)
			l.cfg.Log.Warn("hearthd stopped", "slot", slot, "exit", code, "restart_in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
	}
}

// pick chooses the slot to run: a slot on trial first, then the active one, then the
// other; each must verify and must not be below the security version.
//
// TS-0045 5.5.1.1: a slot altered on disk is refused, the other slot runs, and a
// security event is raised. TS-0045 5.3.1.2: a slot older than the security version
// never runs again.
func (l *Launcher) pick(ctx context.Context, st State) (string, Installed, bool, error) {
	root, err := TrustedRoot(l.cfg.Vault)
	if err != nil {
		return "", Installed{}, false, err
	}
	minSV, err := SecurityVersion(l.cfg.Vault)
	if err != nil {
		return "", Installed{}, false, err
	}
	order := []string{st.Active, Other(st.Active)}
	if st.Trial != nil {
		order = []string{st.Trial.Slot, st.Active}
	}
	for _, s := range order {
		inst, err := VerifySlot(l.cfg.DataDir, s, root)
		switch {
		case errors.Is(err, ErrNoSlot):
			continue
		case err != nil:
			l.alarm(ctx, events.FirmwareRejected, fmt.Sprintf("slot %s refused: %v", s, err), s)
			if st.Trial != nil && st.Trial.Slot == s {
				st.Trial, st.Last = nil, "refused: "+err.Error()
				if err := SaveState(l.cfg.DataDir, st); err != nil {
					return "", Installed{}, false, err
				}
			}
			continue
		case inst.Info.SecurityVersion < minSV:
			l.alarm(ctx, events.FirmwareRejected, fmt.Sprintf("slot %s holds %s, below security version %d", s, inst.Info.Version, minSV), s)
			continue
		}
		trial := st.Trial != nil && st.Trial.Slot == s
		if !trial && s != st.Active {
			st.Active, st.Trial = s, nil
			if err := SaveState(l.cfg.DataDir, st); err != nil {
				return "", Installed{}, false, err
			}
		}
		return s, inst, trial, nil
	}
	return "", Installed{}, false, ErrNoVerifiedSlot
}

func (l *Launcher) alarm(ctx context.Context, kind events.Kind, detail string, args ...string) {
	l.cfg.Log.Error("firmware", "detail", detail)
	l.cfg.Events.Publish(ctx, events.Event{Time: time.Now().UTC(), Kind: kind, Severity: events.Critical, Detail: detail, Args: args})
}

// runSlot runs hearthd from slot until it exits; a trial must become healthy in time or
// it is stopped and its slot rejected.
func (l *Launcher) runSlot(ctx context.Context, slot string, inst Installed, trial bool) (int, error) {
	os.Remove(l.cfg.ReadyFile)
	cmd := exec.Command(SlotBinary(l.cfg.DataDir, slot), append(slices.Clone(l.cfg.Args), "--ready-file", l.cfg.ReadyFile)...)
	cmd.Stdout, cmd.Stderr = l.cfg.Stdout, l.cfg.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		if trial {
			return 0, l.reject(ctx, inst, "could not start: "+err.Error())
		}
		return 0, fmt.Errorf("update: start slot %s: %w", slot, err)
	}
	exited := make(chan int, 1)
	go func() { cmd.Wait(); exited <- cmd.ProcessState.ExitCode() }()
	if trial {
		if err := l.awaitHealth(ctx, exited); err != nil {
			cmd.Process.Kill()
			<-exited
			return 0, l.reject(ctx, inst, err.Error())
		}
		if err := l.commit(ctx, slot, inst); err != nil {
			return 0, err
		}
	}
	select {
	case code := <-exited:
		return code, nil
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		return 0, nil
	}
}

// awaitHealth waits until hearthd reports ready and completes a TLS handshake.
func (l *Launcher) awaitHealth(ctx context.Context, exited chan int) error {
	deadline := time.NewTimer(l.cfg.HealthTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case code := <-exited:
			exited <- code
			return fmt.Errorf("exited with status %d during its health check", code)
		case <-deadline.C:
			return fmt.Errorf("not healthy within %s", l.cfg.HealthTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if l.healthy() {
				return nil
			}
		}
	}
}

func (l *Launcher) healthy() bool {
	raw, err := os.ReadFile(l.cfg.ReadyFile)
	if err != nil {
		return false
	}
	var r struct {
		HTTPSAddr string `json:"https_addr"`
	}
	if json.Unmarshal(raw, &r) != nil || r.HTTPSAddr == "" {
		return false
	}
	// The handshake proves the program serves; its identity is checked by clients.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", r.HTTPSAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// commit makes a healthy trial slot the active one and raises the security version.
func (l *Launcher) commit(ctx context.Context, slot string, inst Installed) error {
	st, err := LoadState(l.cfg.DataDir)
	if err != nil {
		return err
	}
	st.Active, st.Trial, st.Last = slot, nil, "installed "+inst.Info.Version
	if err := SaveState(l.cfg.DataDir, st); err != nil {
		return err
	}
	if err := RaiseSecurityVersion(l.cfg.Vault, inst.Info.SecurityVersion); err != nil {
		return err
	}
	l.cfg.Events.Publish(ctx, events.Event{Time: time.Now().UTC(), Kind: events.UpdateInstalled, Severity: events.Info,
		Detail: "now running " + inst.Info.Version, Args: []string{inst.Info.Version}})
	return nil
}

// reject returns to the previous slot and never offers the failed version again.
func (l *Launcher) reject(ctx context.Context, inst Installed, why string) error {
	st, err := LoadState(l.cfg.DataDir)
	if err != nil {
		return err
	}
	st.Trial = nil
	if !slices.Contains(st.Refused, inst.Info.Version) {
		st.Refused = append(st.Refused, inst.Info.Version)
	}
	st.Last = "rolled back from " + inst.Info.Version + ": " + why
	if err := SaveState(l.cfg.DataDir, st); err != nil {
		return err
	}
	l.cfg.Events.Publish(ctx, events.Event{Time: time.Now().UTC(), Kind: events.UpdateRolledBack, Severity: events.Warning,
		Detail: st.Last, Args: []string{inst.Info.Version}})
	return nil
}
