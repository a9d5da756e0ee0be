package engine

import (
	"runtime"
	"testing"
)

// TestForwardAllocations keeps the packet path allocation-free: an RTP
// packet received (SRTP decrypted) and forwarded to consumers over
// WebRtcTransports, a WebRtcServer and PlainTransports allocates nothing.
// The fractions timers and RTCP allocate stay far below the one
// allocation per packet that a regression would add.
func TestForwardAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	const packets, consumers = 3000, 4
	perFwd := func(forward func(), fwd func() uint64) float64 {
		f0 := fwd()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		forward()
		runtime.ReadMemStats(&ms)
		return float64(ms.Mallocs-m0) / float64(fwd()-f0)
	}
	for _, server := range []bool{false, true} {
		name := "WebRtcTransport"
		if server {
			name = "WebRtcServer"
		}
		t.Run(name, func(t *testing.T) {
			env := newWebRtcEnv(t, server, consumers)
			defer env.close()
			pkts := newBenchBatch()
			got := perFwd(func() {
				for done := 0; done < packets; done += len(pkts) {
					env.encrypt(t, pkts, false)
					env.receive(pkts)
				}
			}, env.forwarded)
			if got > 0.05 {
				t.Fatalf("%.3f allocations per forwarded packet, want 0", got)
			}
		})
	}
	for _, mode := range benchModes {
		t.Run("PlainTransport/"+mode, func(t *testing.T) {
			e := newFwdEnvWarm(t, mode, consumers, 1000)
			defer e.close()
			got := perFwd(func() { e.inject(packets, 0) }, e.forwarded)
			if got > 0.05 {
				t.Fatalf("%.3f allocations per forwarded packet, want 0", got)
			}
		})
	}
}
