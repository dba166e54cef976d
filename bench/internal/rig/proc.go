package rig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on every Linux
// architecture Hearth targets).
const userHZ = 100

// Usage is a process's resource use as the kernel accounts it.
type Usage struct {
	// CPU is user plus system time since the process started.
	CPU time.Duration
	// RSS is the resident set now (VmRSS); HWM its peak so far (VmHWM). Bytes.
	RSS, HWM int64
	// Anon and File split RSS (RssAnon, RssFile): private memory (heap, stacks) and
	// mapped file pages, mostly the binary's own code and read-only data, which are clean
	// and can be dropped and read again under memory pressure.
	Anon, File int64
}

// ReadUsage reads /proc/PID/stat and /proc/PID/status.
func ReadUsage(pid int) (Usage, error) {
	cpu, err := readCPU(pid)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{CPU: cpu}
	err = readMemory(pid, map[string]*int64{"VmRSS": &u.RSS, "VmHWM": &u.HWM, "RssAnon": &u.Anon, "RssFile": &u.File})
	return u, err
}

// readCPU returns utime+stime (fields 14 and 15 of /proc/PID/stat).
func readCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	// The command name (field 2) may hold spaces; fields after it start at the last ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, fmt.Errorf("read cpu time: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu time: short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15; f[0] is field 3
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read cpu time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// readMemory sets each field of /proc/PID/status named in want to its value in bytes.
// Every field must be present.
func readMemory(pid int, want map[string]*int64) error {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return fmt.Errorf("read memory: %w", err)
	}
	defer f.Close()
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		dst, ok := want[key]
		if !ok {
			continue
		}
		if *dst, err = parseKB(val); err != nil {
			return fmt.Errorf("read memory: %s: %w", key, err)
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read memory: %w", err)
	}
	if found != len(want) {
		return fmt.Errorf("read memory: /proc/%d/status lacks some of the fields read", pid)
	}
	return nil
}

// parseKB parses "  1234 kB".
func parseKB(s string) (int64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), " kB")
	if !ok {
		return 0, fmt.Errorf("unexpected unit in %q", s)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, err
	}
	return n << 10, nil
}

// MiB formats a byte count in mebibytes.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// LoadAverage returns the 1, 5 and 15 minute load averages from /proc/loadavg, to show
// how busy the machine was around a measurement.
func LoadAverage() (string, error) {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "", fmt.Errorf("load average: %w", err)
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "", errors.New("load average: malformed /proc/loadavg")
	}
	return strings.Join(f[:3], " "), nil
}
