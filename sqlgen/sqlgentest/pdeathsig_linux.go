package sqlgentest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server die with the test binary, even when a
// test panics and TestMain's cleanup does not run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
