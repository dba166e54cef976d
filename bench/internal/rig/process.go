package rig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// readyPoll is how often Start looks for the ready file; it bounds the resolution of
// Process.ReadyAfter.
const readyPoll = time.Millisecond

// Process is a running server started by Start: hearthd, or any program that takes
// --https-addr and --ready-file and writes {"https_addr": ..., "pid": ...} once serving.
type Process struct {
	// Addr is the loopback address and port the server listens on.
	Addr netip.AddrPort
	// PID is the server's process id.
	PID int
	// ReadyAfter is the time from just before the process was started until its ready
	// file was seen (at most readyPoll late).
	ReadyAfter time.Duration
	// Started is when the process was started.
	Started time.Time

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
}

// Start runs bin with args plus --https-addr 127.0.0.1:0 and a ready file in dir, and
// waits up to timeout for the ready file. Output goes to log (nil: discarded).
func Start(ctx context.Context, bin string, args []string, dir string, log io.Writer, timeout time.Duration) (*Process, error) {
	ready, err := os.CreateTemp(dir, "ready-*.json")
	if err != nil {
		return nil, fmt.Errorf("ready file: %w", err)
	}
	ready.Close()
	os.Remove(ready.Name())
	args = append(args, "--https-addr", "127.0.0.1:0", "--ready-file", ready.Name())
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	stopWithParent(cmd)
	p := &Process{cmd: cmd, exited: make(chan struct{}), Started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := p.awaitReady(ctx, ready.Name(), timeout); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w", filepath.Base(bin), err)
	}
	return p, nil
}

// awaitReady polls the ready file until it names a loopback address.
func (p *Process) awaitReady(ctx context.Context, path string, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if ok, err := p.readReady(path); ok || err != nil {
			return err
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before ready: %v", p.waitErr)
		case <-deadline.C:
			return fmt.Errorf("not ready after %s", timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (p *Process) readReady(path string) (bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false, nil // not written yet
	}
	p.ReadyAfter = time.Since(p.Started)
	var r struct {
		HTTPSAddr string `json:"https_addr"`
		PID       int    `json:"pid"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return false, fmt.Errorf("ready file: %w", err)
	}
	ap, err := netip.ParseAddrPort(r.HTTPSAddr)
	if err != nil {
		return false, fmt.Errorf("ready file: %w", err)
	}
	if !ap.Addr().IsLoopback() {
		return false, fmt.Errorf("ready file: %s is not a loopback address", ap)
	}
	p.Addr, p.PID = ap, p.cmd.Process.Pid
	if r.PID != 0 && r.PID != p.PID {
		return false, fmt.Errorf("ready file names pid %d, started %d", r.PID, p.PID)
	}
	return true, nil
}

// Stop asks the process to exit (SIGINT), and kills it after 10 s. It is safe to call
// more than once.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
		return exitErr(p.waitErr)
	default:
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.exited:
		return exitErr(p.waitErr)
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return errors.New("killed after 10 s without exiting")
	}
}

// exitErr ignores the exit caused by Stop's own signal.
func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		return nil
	}
	return err
}

// Usage reads the process's CPU time and memory from /proc.
func (p *Process) Usage() (Usage, error) { return ReadUsage(p.PID) }
