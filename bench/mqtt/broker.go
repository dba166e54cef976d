package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// broker is a running broker under test.
type broker struct {
	name string
	// addr is the MQTTS listener, host:port on 127.0.0.1.
	addr string
	tls  *tls.Config
	pid  int
	stop func() error
	// stored counts the readings the broker stored for the sensors ids; nil when the
	// broker stores nothing (Mosquitto without subscribers).
	stored func(ctx context.Context, ids []string) (int64, error)
}

// start runs the named broker.
func (e *env) start(ctx context.Context, name string) (*broker, error) {
	switch name {
	case "hearthd":
		return e.startHearthd(ctx)
	case "mosquitto":
		return e.startMosquitto(ctx)
	}
	return nil, fmt.Errorf("unknown broker %q", name)
}

// pinned wraps bin in taskset when cpus is set. taskset execs bin, so the process id
// stays the broker's.
func pinned(cpus, bin string, args ...string) (string, []string) {
	if cpus == "" {
		return bin, args
	}
	return "taskset", append([]string{"-c", cpus, bin}, args...)
}

// pinSelf moves every thread of this process to cpus (threads started later inherit
// it) and sets GOMAXPROCS to match.
func pinSelf(cpus string) error {
	n, err := countCPUs(cpus)
	if err != nil {
		return err
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset: %w: %s", err, out)
	}
	runtime.GOMAXPROCS(n)
	return nil
}

// countCPUs counts the CPUs of a taskset list such as "0", "1,3" or "0-3".
func countCPUs(list string) (int, error) {
	n := 0
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || b < a {
			return 0, fmt.Errorf("bad CPU list %q", list)
		}
		n += b - a + 1
	}
	return n, nil
}
