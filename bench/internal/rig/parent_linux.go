package rig

import (
	"os/exec"
	"syscall"
)

// stopWithParent has the kernel send cmd SIGTERM if the benchmark dies without calling
// Process.Stop, so no server outlives it.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
