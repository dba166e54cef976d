//go:build hearthdebug

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
)

// Debug builds only (go build -tags hearthdebug): a pprof listener on loopback port 6060.
// This file is excluded from every other build, so release and ordinary binaries carry
// no debug endpoint at all (TS-0045 5.2.2.4); deps_test.go checks that.
func init() {
	go func() {
		slog.Warn("debug build: pprof on 127.0.0.1:6060")
		_ = http.ListenAndServe("127.0.0.1:6060", nil)
	}()
}
