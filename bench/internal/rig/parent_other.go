//go:build !linux

package rig

import "os/exec"

// stopWithParent does nothing outside Linux; the benchmarks need Linux's /proc anyway.
func stopWithParent(*exec.Cmd) {}
