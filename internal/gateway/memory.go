package gateway

import (
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the Go runtime's soft memory limit for the gateway (heap,
// goroutine stacks and the runtime's own data; the program's code is on top). Without
// it, the runtime lets the heap grow to twice what is live and keeps the stacks grown
// while a thousand sensors connected until a collection that may be minutes away; with
// it, a gateway holding 1000 connected sensors stays under 70 MB resident
// (docs/PERFORMANCE.md, "MQTT broker"). When more is live than the limit (a gateway
// with the maximum of 2000 sensors), the runtime caps the time spent collecting at half
// the CPU and lets memory grow past it, so the limit never stops the gateway.
//
// TS-0045 5.6.1.1: the gateway's memory stays bounded and predictable on small hardware.
const DefaultMemoryLimit = 48 << 20

// ApplyMemoryLimit sets DefaultMemoryLimit unless the operator set GOMEMLIMIT, which the
// runtime honours by itself.
func ApplyMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}
