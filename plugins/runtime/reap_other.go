//go:build !linux

package runtime

import "os/exec"

// reapWithHost: outside Linux the plugin SDKs exit when their parent
// changes (the host died).
func reapWithHost(*exec.Cmd) {}

func onStarterThread(f func() error) error { return f() }
