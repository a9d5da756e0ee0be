package engine

import (
	"os"
	"runtime/pprof"
	"sync"
)

// GOSFU_CPUPROFILE=FILE writes a Go CPU profile of the engine to FILE,
// from the first worker's creation to the last one's close: the engine
// runs inside Node, where `go test -cpuprofile` cannot reach it (bench/load
// and the other Node benchmarks use it; `go tool pprof` reads it with the
// library, build/Release/libgosfu.so).
var cpuProfile struct {
	mu      sync.Mutex
	workers int
	file    *os.File
}

func cpuProfileWorkerStarted() {
	path := os.Getenv("GOSFU_CPUPROFILE")
	if path == "" {
		return
	}
	cpuProfile.mu.Lock()
	defer cpuProfile.mu.Unlock()
	cpuProfile.workers++
	if cpuProfile.workers > 1 {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return
	}
	cpuProfile.file = f
}

func cpuProfileWorkerClosed() {
	if os.Getenv("GOSFU_CPUPROFILE") == "" {
		return
	}
	cpuProfile.mu.Lock()
	defer cpuProfile.mu.Unlock()
	cpuProfile.workers--
	if cpuProfile.workers > 0 || cpuProfile.file == nil {
		return
	}
	pprof.StopCPUProfile()
	cpuProfile.file.Close()
	cpuProfile.file = nil
}
