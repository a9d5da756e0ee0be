package engine

import (
	"net"
	"testing"
	"time"
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
