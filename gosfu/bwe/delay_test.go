package bwe

import "testing"

// feedGroups sends groups every 20 ms whose arrival spacing grows by
// extraUs per group (queue building when > 0, draining when < 0) and
// returns the usage seen last.
func feedGroups(t *testing.T, n int, extraUs int64) Usage {
	t.Helper()
	var ia interArrival
	tr := newTrendline()
	u := UsageNormal
	sendUs, arrUs := int64(0), int64(50000)
	for i := 0; i < n; i++ {
		for j := 0; j < 2; j++ { // two packets per 5 ms group
			if sd, ad, ok := ia.add(sendUs+int64(j)*1000, arrUs+int64(j)*1000, 1200); ok {
				u = tr.update(sd, ad, arrUs)
			}
		}
		sendUs += 20000
		arrUs += 20000 + extraUs
	}
	return u
}

func TestTrendlineUsage(t *testing.T) {
	tests := []struct {
		name    string
		extraUs int64
		want    Usage
	}{
		{"constant delay", 0, UsageNormal},
		{"queue building 2 ms per group", 2000, UsageOverusing},
		{"queue draining 2 ms per group", -2000, UsageUnderusing},
		{"jitter-free slow build 50 us per group", 50, UsageNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := feedGroups(t, 60, tt.extraUs); got != tt.want {
				t.Fatalf("usage %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInterArrivalGroups(t *testing.T) {
	var ia interArrival
	// Packets 1 ms apart fall into 5 ms groups: a delta comes out when
	// a group starts, comparing the two before it.
	deltas := 0
	for i := int64(0); i < 19; i++ {
		if sd, ad, ok := ia.add(i*1000, 100000+i*1000, 1000); ok {
			deltas++
			if sd != ad {
				t.Fatalf("send delta %d arrival delta %d, want equal on an idle path", sd, ad)
			}
		}
	}
	if deltas != 2 {
		t.Fatalf("%d deltas, want 2", deltas)
	}
	// A reordered packet from an old group is ignored.
	if _, _, ok := ia.add(0, 200000, 1000); ok {
		t.Fatal("old packet produced a delta")
	}
}

func TestAimd(t *testing.T) {
	tests := []struct {
		name   string
		usage  Usage
		acked  float64
		steps  int
		check  func(rate float64) bool
		expect string
	}{
		{"overuse cuts to 0.85 x acked", UsageOverusing, 1e6, 1, func(r float64) bool { return r == 0.85e6 }, "850000"},
		{"app-limited caps increase", UsageNormal, 100e3, 100, func(r float64) bool { return r <= 2e6 }, "<= initial"},
		{"increase about 8 % per second far from capacity", UsageNormal, 2e6, 10, func(r float64) bool { return r > 2.1e6 && r < 2.2e6 }, "~2.16M after 1 s"},
		{"underuse holds", UsageUnderusing, 2e6, 10, func(r float64) bool { return r == 2e6 }, "2M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAimd(2e6, 30e3, 0)
			var now int64
			for i := 0; i < tt.steps; i++ {
				now += 100000
				a.update(tt.usage, tt.acked, tt.acked, now)
			}
			if !tt.check(a.rate) {
				t.Fatalf("rate %.0f, want %s", a.rate, tt.expect)
			}
		})
	}
}

func TestProbeEstimate(t *testing.T) {
	mk := func(n int, sendGapUs, arrGapUs int64) *probeStats {
		st := &probeStats{cluster: ProbeCluster{MinPackets: 5, MinBytes: 5000}}
		for i := 0; i < n; i++ {
			st.packets = append(st.packets, PacketResult{Seq: int64(i), Size: 1200, SendUs: int64(i) * sendGapUs, ArrivalUs: 1e6 + int64(i)*arrGapUs, ProbeCluster: 0})
		}
		return st
	}
	tests := []struct {
		name    string
		st      *probeStats
		want    float64
		wantSat bool
	}{
		{"unsaturated: send rate", mk(6, 4000, 4000), 1200 * 8 * 5 / 0.020, false},
		{"saturated: 0.95 x receive rate", mk(6, 4000, 8000), 0.95 * 1200 * 8 * 5 / 0.040, true},
		{"too few packets", mk(3, 4000, 4000), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sat := tt.st.estimate(nil)
			if got < tt.want*0.999 || got > tt.want*1.001 || sat != tt.wantSat {
				t.Fatalf("estimate %.0f saturated %v, want %.0f %v", got, sat, tt.want, tt.wantSat)
			}
		})
	}
}
