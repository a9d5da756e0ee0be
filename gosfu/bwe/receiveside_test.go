package bwe

import "testing"

// runReceiveSide sends 1200-byte packets at rateBps through a link of
// capacity capBps (FIFO, 40 ms one-way delay) for durUs and returns the
// receive-side estimate. abs-send-time starts near its 64 s wrap.
func runReceiveSide(r *ReceiveSide, startUs, durUs int64, rateBps, capBps float64, departUs *int64) int64 {
	gap := int64(1200 * 8e6 / rateBps)
	now := startUs
	for ; now < startUs+durUs; now += gap {
		if *departUs < now {
			*departUs = now
		}
		*departUs += int64(1200 * 8e6 / capBps)
		abs := uint32((now + 63*sec) * absSendTimeHz / 1e6)
		r.OnPacket(*departUs+40000, abs, 1200)
	}
	return now
}

func TestReceiveSide(t *testing.T) {
	tests := []struct {
		name       string
		rate, capa float64
		check      func(e uint64) bool
		want       string
	}{
		{"under capacity: grows but stays app-limited", 500e3, 2e6, func(e uint64) bool { return e >= 500e3 && e <= 1.5*510e3+10e3 }, "[500k, 775k]"},
		{"over capacity: falls below capacity", 1.5e6, 800e3, func(e uint64) bool { return e < 800e3 && e > 300e3 }, "(300k, 800k)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReceiveSide(500e3)
			var depart int64
			end := runReceiveSide(r, 0, 10*sec, tt.rate, tt.capa, &depart)
			if e := r.Estimate(end); !tt.check(e) {
				t.Fatalf("estimate %d, want %s", e, tt.want)
			}
		})
	}
}
