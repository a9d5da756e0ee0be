package engine

import (
	"runtime"
	"testing"
)

func TestResourceUsageGoRuntime(t *testing.T) {
	// A parked goroutine must be counted.
	stop := make(chan struct{})
	defer close(stop)
	before := runtime.NumGoroutine()
	go func() { <-stop }()

	got, err := resourceUsage()
	if err != nil {
		t.Fatal(err)
	}
	usage := got.(map[string]any)
	for _, tc := range []struct {
		field string
		min   uint64
	}{
		{"goroutines", uint64(before + 1)},
		{"goHeapInuse", 1},
		{"goSys", 1},
	} {
		v, ok := usage[tc.field].(uint64)
		if !ok {
			t.Errorf("%s: %T %v, want uint64", tc.field, usage[tc.field], usage[tc.field])
			continue
		}
		if v < tc.min {
			t.Errorf("%s = %d, want >= %d", tc.field, v, tc.min)
		}
	}
	if usage["goHeapInuse"].(uint64) > usage["goSys"].(uint64) {
		t.Errorf("goHeapInuse %v > goSys %v", usage["goHeapInuse"], usage["goSys"])
	}
}
