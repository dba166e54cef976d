package main

import (
	"os/exec"
	"syscall"
)

// bindToParent makes the kernel stop the gateway if the demo dies without cleaning up.
func bindToParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
