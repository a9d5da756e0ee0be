package engine

import (
	"testing"
)

// TestMalformedExtensionDropped: an RTP packet whose one-byte extension
// block hides an overrunning element behind an ID-0 byte of non-zero
// length is dropped and counted, not forwarded (mediasoup's parser rejects
// it; pion/rtp stops parsing at the ID-0 byte).
func TestMalformedExtensionDropped(t *testing.T) {
	rec := &recorder{}
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); w.Wait() })
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "in"})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "out"})
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	forwarded := func() int {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, e := range rec.events {
			if e.target == "c" && e.name == "rtp" {
				n++
			}
		}
		return n
	}
	send := func(b []byte) {
		t.Helper()
		if _, err := w.Request("producer.send", "p", b); err != nil {
			t.Fatal(err)
		}
	}
	in := w.handlers["in"].(*Transport)
	send(vp8Packet(1, 1000, 1111, true))
	if forwarded() != 1 {
		t.Fatalf("key frame not forwarded (%d)", forwarded())
	}
	good := vp8Packet(2, 1000, 1111, false)
	// Same packet with X set and a one-byte block: ID 0 with length 5, then
	// an element of 16 bytes in a 4-byte block.
	bad := append([]byte{good[0] | 0x10}, good[1:12]...)
	bad = append(bad, 0xbe, 0xde, 0, 1, 0x05, 0x1f, 0x01, 0x02)
	bad = append(bad, good[12:]...)
	before := in.listener.dropped.Load()
	send(bad)
	if forwarded() != 1 {
		t.Fatal("malformed packet forwarded")
	}
	if in.listener.dropped.Load() != before+1 {
		t.Fatal("malformed packet not counted")
	}
	send(good)
	if forwarded() != 2 {
		t.Fatal("the next valid packet was not forwarded")
	}
}
