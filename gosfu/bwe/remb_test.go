package bwe

import "testing"

func TestRembEstimator(t *testing.T) {
	steps := []struct {
		name     string
		incoming uint64
		lost     uint8
		check    func(prev, got uint64) bool
	}{
		{"starts from the initial bitrate and grows without loss", 200000, 0, func(_, got uint64) bool { return got == uint64(InitialBitrate*growth) }},
		{"keeps growing without loss", 250000, 0, func(prev, got uint64) bool { return got > prev }},
		{"holds with moderate loss", 250000, 13, func(prev, got uint64) bool { return got == prev }},
		{"cuts below the incoming bitrate with heavy loss", 250000, 77, func(_, got uint64) bool { return got < 250000 }},
		{"never below the minimum", 1000, 255, func(_, got uint64) bool { return got == MinBitrate }},
		{"does not run away from an application-limited sender", 100000, 0, func(_, got uint64) bool { return got <= 100000*headroom+InitialBitrate }},
	}
	var e RembEstimator
	prev := uint64(0)
	for _, s := range steps {
		got := e.Update(s.incoming, s.lost)
		if !s.check(prev, got) {
			t.Fatalf("%s: prev %d got %d", s.name, prev, got)
		}
		prev = got
	}
	// A long loss-free run converges to the headroom ceiling.
	for i := 0; i < 100; i++ {
		e.Update(1000000, 0)
	}
	if got := e.Estimate(); got != uint64(1000000*headroom)+InitialBitrate {
		t.Fatalf("ceiling: %d", got)
	}
}
