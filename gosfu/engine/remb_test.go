package engine

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestRemb: a sender that negotiated goog-remb (and no transport-cc) gets
// REMB with an estimate capped by setMaxIncomingBitrate.
func TestRemb(t *testing.T) {
	w, _ := newTestWorker(t)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	t1 := mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	})
	mustRequest(t, w, "transport.produce", "t1", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "goog-remb"}}}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	mustRequest(t, w, "transport.setMaxIncomingBitrate", "t1", map[string]any{"bitrate": 200000})
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(t1["tuple"].(map[string]any)["localPort"].(float64))}
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			_, _ = send.WriteToUDP(vp8Packet(uint16(i), uint32(i)*3000, 1111, i%30 == 0), dst)
		}
	}()
	defer close(stop)
	buf := make([]byte, 1500)
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		_ = send.SetReadDeadline(deadline)
		n, _, err := send.ReadFromUDP(buf)
		if err != nil {
			break
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			if remb, ok := p.(*rtcp.ReceiverEstimatedMaximumBitrate); ok {
				if remb.Bitrate <= 0 || remb.Bitrate > 200000 {
					t.Fatalf("REMB bitrate %v not within (0, 200000]", remb.Bitrate)
				}
				if len(remb.SSRCs) != 1 || remb.SSRCs[0] != 1111 {
					t.Fatalf("REMB SSRCs %v", remb.SSRCs)
				}
				stats := mustRequestArr(t, w, "transport.getStats", "t1")
				if stats[0]["availableIncomingBitrate"] == nil {
					t.Fatal("no availableIncomingBitrate in stats")
				}
				return
			}
		}
	}
	t.Fatal("no REMB received")
}
