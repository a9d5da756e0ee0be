package engine

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestSimulcastOutgoingLimit: a simulcast consumer forwards the highest
// active stream, and moves to a lower one (at its next key frame, with
// continuous sequence numbers) when setMaxOutgoingBitrate() leaves no room
// for the higher one.
func TestSimulcastOutgoingLimit(t *testing.T) {
	w, rec := newTestWorker(t)
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	t1 := mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	})
	prod := mustRequest(t, w, "transport.produce", "t1", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": []any{map[string]any{"ssrc": 1000}, map[string]any{"ssrc": 2000}},
		},
	})
	if prod["type"] != "simulcast" {
		t.Fatalf("producer type %v", prod["type"])
	}
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t2", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
	})
	mustRequest(t, w, "transport.connect", "t2", map[string]any{"ip": "127.0.0.1", "port": recv.LocalAddr().(*net.UDPAddr).Port})
	mustRequest(t, w, "transport.consume", "t2", map[string]any{"consumerId": "c1", "producerId": "p1", "rtpCapabilities": router["rtpCapabilities"]})

	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(t1["tuple"].(map[string]any)["localPort"].(float64))}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// Stream 0: ~80 kbps, stream 1: ~880 kbps; key frames every 10 packets.
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			hi := vp8Packet(uint16(i), uint32(i)*900, 2000, i%10 == 0)
			hi = append(hi, make([]byte, 900)...)
			_, _ = send.WriteToUDP(hi, dst)
			if i%2 == 0 {
				_, _ = send.WriteToUDP(vp8Packet(uint16(i/2), uint32(i)*900, 1000, (i/2)%10 == 0), dst)
			}
		}
	}()

	// Starts on the high stream (big packets).
	pkts, _ := readRtp(t, recv, 30, 3*time.Second)
	if len(pkts) < 30 || len(pkts[len(pkts)-1].Payload) < 900 {
		t.Fatalf("expected the high stream first, got %d packets", len(pkts))
	}
	mustRequest(t, w, "transport.setMaxOutgoingBitrate", "t2", map[string]any{"bitrate": 300000})
	deadline := time.Now().Add(5 * time.Second)
	last := pkts[len(pkts)-1].SequenceNumber
	for time.Now().Before(deadline) {
		more, _ := readRtp(t, recv, 1, time.Second)
		if len(more) == 0 {
			continue
		}
		p := more[0]
		if p.SequenceNumber != last+1 {
			t.Fatalf("sequence gap on switch: %d after %d", p.SequenceNumber, last)
		}
		last = p.SequenceNumber
		if len(p.Payload) < 900 {
			if p.Payload[1]&1 != 0 {
				t.Fatal("switched to the low stream on a delta frame")
			}
			if _, ok := rec.find("c1", "layerschange"); !ok {
				t.Fatal("no layerschange event")
			}
			return
		}
	}
	t.Fatal("consumer never moved to the low stream")
}

// TestSimulcastSwitchTimestamps: output RTP timestamps stay continuous over
// switches between streams whose timestamps start at unrelated values, here
// a switch down to a stream whose timestamps are below the first's and back
// up: the second switch must continue from the packets forwarded last, not
// from where the first switch left (a receiver would hold, or drop, frames
// stamped seconds in the past).
func TestSimulcastSwitchTimestamps(t *testing.T) {
	w, rec, fc := newFakeWorker(t, `{"logLevel":"warn"}`)
	router := newDirectRoom(t, w)
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": []any{map[string]any{"ssrc": 1000}, map[string]any{"ssrc": 2000}},
		},
	})
	mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	// Stream 0's timestamps start 1,000,000 ticks (11 s) below stream 1's.
	base := []uint32{1_000_000, 2_000_000}
	i := 0
	frames := func(n int) {
		t.Helper()
		for ; n > 0; n-- {
			fc.Advance(33 * time.Millisecond)
			for s, ssrc := range []uint32{1000, 2000} {
				pkt := vp8Packet(uint16(i), base[s]+uint32(i)*3000, ssrc, i%10 == 0)
				if _, err := w.Request("producer.send", "p", pkt); err != nil {
					t.Fatal(err)
				}
			}
			i++
		}
	}
	layers := func(spatial int) {
		t.Helper()
		mustRequest(t, w, "consumer.setPreferredLayers", "c", map[string]any{"spatialLayer": spatial, "temporalLayer": 0})
	}
	frames(20) // stream 1
	layers(0)
	frames(40) // down to stream 0 at its key frame
	layers(1)
	frames(20) // back up to stream 1

	var prev rtp.Header
	ssrcs := map[uint32]bool{}
	out := rec.all("c", "rtp")
	if len(out) < 60 {
		t.Fatalf("%d packets forwarded", len(out))
	}
	for k, e := range out {
		var h rtp.Header
		if _, err := h.Unmarshal(e.data); err != nil {
			t.Fatal(err)
		}
		ssrcs[h.SSRC] = true
		if k > 0 {
			// One frame (3000 ticks) apart, or up to a key frame's wait
			// (10 frames) at a switch; never backwards.
			if d := int32(h.Timestamp - prev.Timestamp); d <= 0 || d > 11*3000 {
				t.Fatalf("packet %d (seq %d): timestamp %d after %d (%+d)", k, h.SequenceNumber, h.Timestamp, prev.Timestamp, d)
			}
		}
		prev = h
	}
	if len(ssrcs) != 1 {
		t.Fatalf("output SSRCs %v, want one", ssrcs)
	}
}
