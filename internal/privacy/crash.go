package privacy

import (
	"bufio"
	"bytes"
	"strings"
	"time"
)

// CrashReport is what is sent to the vendor about a crash, with the owner's consent:
// the firmware version, the day, whether it was a panic, a fatal runtime error or a signal, and
// the names of the functions on the crashing goroutine's stack. Argument values,
// addresses, file paths and the panic message are left out: they may hold user data.
type CrashReport struct {
	Firmware  string   `json:"firmware"`
	Day       string   `json:"day"`    // 2006-01-02
	Reason    string   `json:"reason"` // "panic", "fatal error", "signal" or "unknown"
	Functions []string `json:"functions"`
}

// maxCrashFunctions bounds a report: the top of the stack is what tells the fault.
const maxCrashFunctions = 32

// ReduceCrash turns the Go runtime's crash output (as written by
// runtime/debug.SetCrashOutput) into a CrashReport. It never fails: output it does not
// understand gives a report with reason "unknown" and no functions.
//
// TS-0045 5.7.1.11: only what finding the fault needs is kept.
func ReduceCrash(output []byte, firmware string, when time.Time) CrashReport {
	r := CrashReport{Firmware: firmware, Day: when.UTC().Format(time.DateOnly), Reason: "unknown", Functions: []string{}}
	sc := bufio.NewScanner(bytes.NewReader(output))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	inStack := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case r.Reason == "unknown" && strings.HasPrefix(line, "panic: "):
			r.Reason = "panic"
		case r.Reason == "unknown" && strings.HasPrefix(line, "fatal error: "):
			r.Reason = "fatal error"
		case r.Reason == "unknown" && strings.HasPrefix(line, "SIG") && strings.Contains(line, ": "):
			r.Reason = "signal" // e.g. SIGQUIT from a watchdog, SIGSEGV
		case strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, ":"):
			// Only the first goroutine: the one that crashed.
			if inStack {
				return r
			}
			inStack = true
		case inStack && line != "" && line[0] != '\t' && len(r.Functions) < maxCrashFunctions:
			if fn, ok := functionName(line); ok {
				r.Functions = append(r.Functions, fn)
			}
		}
	}
	return r
}

// functionName extracts "pkg/path.(*T).Func" from a stack line
// "pkg/path.(*T).Func(0x1, ...)" or "created by pkg/path.Func in goroutine 1",
// accepting only the characters of Go symbol names.
func functionName(line string) (string, bool) {
	if rest, ok := strings.CutPrefix(line, "created by "); ok {
		line, _, _ = strings.Cut(rest, " ")
	}
	if strings.HasSuffix(line, ")") {
		i := strings.LastIndex(line, "(")
		if i < 0 {
			return "", false
		}
		line = line[:i]
	}
	if line == "" || len(line) > 200 || !strings.Contains(line, ".") || strings.HasSuffix(line, ")") ||
		!(line[0] >= 'a' && line[0] <= 'z' || line[0] >= 'A' && line[0] <= 'Z') {
		return "", false
	}
	for _, c := range line {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._/-*[]()", c)
		if !ok {
			return "", false
		}
	}
	return line, true
}
