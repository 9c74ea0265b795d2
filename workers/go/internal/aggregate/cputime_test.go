package aggregate

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuTimer measures the CPU time of a benchmark's own goroutine, which is
// meaningful on a machine shared with other work (wall time is not).
type cpuTimer struct{ start time.Duration }

func startCPU(b *testing.B) *cpuTimer {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	return &cpuTimer{start: threadCPU()}
}

// report adds the metric "cpu-ns/row" for rows rows per iteration.
func (c *cpuTimer) report(b *testing.B, rows int) {
	d := threadCPU() - c.start
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N)/float64(rows), "cpu-ns/row")
}
