package engine

import "testing"

// TestTransportTimers checks which timers a transport keeps: the rtcp
// timer always, the nack timer only while it has producers, none once
// closed.
func TestTransportTimers(t *testing.T) {
	w, _, tc := newTimingWorker(t, 0)
	fc := tc.fc
	// "in" (producer p): rtcp + nack; "out" (consumer c): rtcp.
	if got := fc.Waiters(); got != 3 {
		t.Fatalf("%d timers, want 3", got)
	}
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "idle"})
	if got := fc.Waiters(); got != 4 {
		t.Fatalf("%d timers with an idle transport, want 4", got)
	}
	mustRequest(t, w, "transport.closeProducer", "in", map[string]any{"producerId": "p"})
	fc.Advance(nackInterval) // the nack timer sees no producer and stops
	if got := fc.Waiters(); got != 3 {
		t.Fatalf("%d timers after the producer closed, want 3", got)
	}
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p2", "kind": "audio",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2}},
			"encodings": []any{map[string]any{"ssrc": 2222}},
		},
	})
	if got := fc.Waiters(); got != 4 {
		t.Fatalf("%d timers with a new producer, want 4", got)
	}
	for _, id := range []string{"in", "out", "idle"} {
		mustRequest(t, w, "router.closeTransport", "r", map[string]any{"transportId": id})
	}
	if got := fc.Waiters(); got != 0 {
		t.Fatalf("%d timers after the transports closed, want 0", got)
	}
}
