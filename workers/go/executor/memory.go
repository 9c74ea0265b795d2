package executor

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// defaultTaskMemory is the memory limit of each task when none is given:
// 70% of the memory this process may use (the cgroup limit, else the
// machine's), shared by the slots. Operators that can spill do so past
// it and the others fail with an error naming the limit, instead of the
// executor being killed for running out of memory. It is 0 (no limit)
// when the memory size is unknown.
func defaultTaskMemory(slots int) int64 {
	total := cgroupMemory()
	if total <= 0 {
		total = machineMemory()
	}
	if total <= 0 || slots < 1 {
		return 0
	}
	return total * 7 / 10 / int64(slots)
}

// cgroupMemory is the cgroup v2 (or v1) memory limit, or 0 without one.
func cgroupMemory() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		if v == "max" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		// cgroup v1 reports "no limit" as a huge number.
		if err == nil && n > 0 && n < 1<<50 {
			return n
		}
	}
	return 0
}

// machineMemory is MemTotal of /proc/meminfo, or 0.
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
