package engine

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/rtpstream"
)

// TestSharedPacketsReleased: consumers (simple and pipe) keep the
// producer's packets for retransmission as references to one shared copy
// per packet; once they are closed (one by one, with their transport, and
// with the producer) every copy is back in its pool.
func TestSharedPacketsReleased(t *testing.T) {
	base := rtpstream.LiveSharedPackets()
	w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":59999}`), benchNopEmitter{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Close(); w.Wait() }()
	router := benchRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": []any{
		map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
	}})
	caps := router["rtpCapabilities"]
	newTransport := func(id string) {
		benchRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": id, "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}})
		sink := benchListenSink(t)
		t.Cleanup(func() { sink.Close() })
		benchRequest(t, w, "transport.connect", id, map[string]any{"ip": "127.0.0.1", "port": sink.LocalAddr().(*net.UDPAddr).Port})
	}
	newTransport("tp")
	benchRequest(t, w, "transport.produce", "tp", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{
				map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
					"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}},
				map[string]any{"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000, "parameters": map[string]any{"apt": 101}},
			},
			"encodings": []any{map[string]any{"ssrc": 1111, "rtx": map[string]any{"ssrc": 1112}}},
		},
	})
	const n = 6
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("tc%d", i)
		newTransport(id)
		benchRequest(t, w, "transport.consume", id, map[string]any{
			"consumerId": fmt.Sprintf("c%d", i), "producerId": "p", "rtpCapabilities": caps, "pipe": i%3 == 2,
		})
	}
	w.mu.Lock()
	prodT := w.handlers["tp"].(*Transport)
	consumers := make([]*Consumer, n)
	for i := range consumers {
		consumers[i] = w.handlers[fmt.Sprintf("c%d", i)].(*Consumer)
	}
	w.mu.Unlock()

	h := rtp.Header{Version: 2, PayloadType: 101, SSRC: 1111}
	pkt := make([]byte, 1000)
	hl, _ := h.MarshalTo(pkt)
	pkt[hl] = 0x10 // VP8: S=1, PID=0
	var hdr rtp.Header
	for i := 0; i < 300; i++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i/5)*3000)
		pkt[hl+1] = 1
		if i == 0 {
			pkt[hl+1] = 0 // key frame
		}
		prodT.ReceiveRtp(pkt, &hdr, w.nowMs())
	}
	for i, c := range consumers {
		if sh, pr := c.send.BufferStores(); sh < 250 || pr != 0 {
			t.Fatalf("consumer %d: %d packets stored shared, %d private", i, sh, pr)
		}
	}
	// One copy per producer packet, whatever the number of consumers.
	if live := rtpstream.LiveSharedPackets() - base; live > 300 {
		t.Fatalf("%d copies of 300 packets", live)
	}
	// A resend reads the shared copy.
	c0 := consumers[0]
	c0.receiveNack(&rtcp.TransportLayerNack{MediaSSRC: c0.ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{c0.seq.MaxOutput() - 1})}, w.nowMs())
	if got := c0.send.Stats(0).PacketsRetransmitted; got != 1 {
		t.Fatalf("%d packets resent", got)
	}

	benchRequest(t, w, "transport.closeConsumer", "tc0", map[string]any{"consumerId": "c0"})
	benchRequest(t, w, "transport.closeConsumer", "tc2", map[string]any{"consumerId": "c2"})
	benchRequest(t, w, "router.closeTransport", "r", map[string]any{"transportId": "tc1"})
	benchRequest(t, w, "transport.closeProducer", "tp", map[string]any{"producerId": "p"})
	if live := rtpstream.LiveSharedPackets() - base; live != 0 {
		t.Fatalf("%d shared packets not released", live)
	}
}
