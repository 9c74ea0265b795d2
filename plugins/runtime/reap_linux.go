package runtime

import (
	"os/exec"
	goruntime "runtime"
	"syscall"
)

// reapWithHost asks the kernel to kill the plugin when the thread that
// started it dies. Plugins are started on one OS thread that never exits
// (onStarterThread), so that is when the host process dies, also by
// SIGKILL.
func reapWithHost(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

var starter = make(chan func())

func init() {
	go func() {
		// Locked and never unlocked: the thread lives as long as the process.
		goruntime.LockOSThread()
		for f := range starter {
			f()
		}
	}()
}

// onStarterThread runs f on the dedicated starter thread.
func onStarterThread(f func() error) error {
	done := make(chan error, 1)
	starter <- func() { done <- f() }
	return <-done
}
