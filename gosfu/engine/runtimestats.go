package engine

import "runtime/metrics"

// goRuntimeSamples are read by addGoRuntimeUsage. runtime/metrics reads
// them without stopping the world (runtime.ReadMemStats would), so
// getResourceUsage stays cheap enough to poll from a monitor.
var goRuntimeSamples = []string{
	"/sched/goroutines:goroutines",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/total:bytes",
}

// addGoRuntimeUsage adds the Go runtime's figures to a getResourceUsage
// answer (gosfu extensions to mediasoup's ru_* fields; the engine shares
// the Node process, so ru_* cover both): goroutines, goHeapInuse (bytes in
// in-use heap spans, as runtime.MemStats.HeapInuse) and goSys (bytes the Go
// runtime has mapped, as MemStats.Sys).
func addGoRuntimeUsage(usage map[string]any) {
	samples := make([]metrics.Sample, len(goRuntimeSamples))
	for i, name := range goRuntimeSamples {
		samples[i].Name = name
	}
	metrics.Read(samples)
	value := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0 // not supported by this Go version
		}
		return samples[i].Value.Uint64()
	}
	usage["goroutines"] = value(0)
	usage["goHeapInuse"] = value(1) + value(2)
	usage["goSys"] = value(3)
}
