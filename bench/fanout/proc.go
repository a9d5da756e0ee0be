//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/*/stat (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// statCPU returns utime+stime of a /proc/.../stat file (a process, or a
// thread under /proc/self/task) as a duration. A process's figure includes
// its threads that have exited.
func statCPU(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields are counted from
	// the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: no ')'", path)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %d fields", path, len(f))
	}
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: bad utime/stime", path)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// pidsCPU sums statCPU over processes.
func pidsCPU(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, p := range pids {
		d, err := statCPU(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// threadsCPU sums statCPU over threads of this process.
func threadsCPU(tids []int) time.Duration {
	var sum time.Duration
	for _, t := range tids {
		if d, err := statCPU(fmt.Sprintf("/proc/self/task/%d/stat", t)); err == nil {
			sum += d
		}
	}
	return sum
}

// selfCPU is this process's user+system time (getrusage: µs resolution).
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// udpDrops reads the kernel's per-socket drop counters (last column of
// /proc/net/udp: datagrams dropped at the receiving socket, mostly for a
// full receive buffer) of the IPv4 sockets bound to the given local ports,
// in this network namespace.
func udpDrops(ports map[int]bool) (map[int]uint64, error) {
	f, err := os.Open("/proc/self/net/udp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := make(map[int]uint64)
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 13 {
			continue
		}
		local := fl[1] // "0100007F:9C40"
		j := strings.IndexByte(local, ':')
		if j < 0 {
			continue
		}
		port, err := strconv.ParseUint(local[j+1:], 16, 16)
		if err != nil || !ports[int(port)] {
			continue
		}
		drops, err := strconv.ParseUint(fl[len(fl)-1], 10, 64)
		if err != nil {
			continue
		}
		out[int(port)] += drops
	}
	return out, sc.Err()
}

// setProcessAffinity pins every thread of this process to cpus (nil: all
// CPUs). Threads started later inherit the mask of the thread that starts
// them, so the whole process stays pinned.
func setProcessAffinity(cpus []int) error {
	var set unix.CPUSet
	if cpus == nil {
		for i := 0; i < maxCPUs(); i++ {
			set.Set(i)
		}
	} else {
		for _, c := range cpus {
			set.Set(c)
		}
	}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("sched_setaffinity(%d): %w", tid, err)
		}
	}
	return nil
}

// maxCPUs is the number of CPUs configured on the machine (not this
// process's affinity, which setProcessAffinity changes).
func maxCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 1
	}
	// "0-1" or "0"
	s := strings.TrimSpace(string(b))
	if k := strings.LastIndexAny(s, "-,"); k >= 0 {
		s = s[k+1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 1
	}
	return n + 1
}

// cpuList formats cpus for taskset -c.
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// procStatus returns a field of /proc/<pid>/status ("" if unreadable).
func procStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
