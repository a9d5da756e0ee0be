package engine

import (
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func testUDPSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func tuplePort(m map[string]any) int {
	return int(m["tuple"].(map[string]any)["localPort"].(float64))
}

// pipeSource creates router rid with a comedia plain transport and a VP8
// producer "p1" with the given SSRCs (one per encoding), and returns the
// socket to send its media from and where to.
func pipeSource(t *testing.T, w *Worker, rid string, ssrcs ...uint32) (send *net.UDPConn, dst *net.UDPAddr) {
	t.Helper()
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": rid, "mediaCodecs": testCodecs})
	src := mustRequest(t, w, "router.createPlainTransport", rid, map[string]any{
		"transportId": rid + "-src", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	})
	var encodings []any
	for _, s := range ssrcs {
		encodings = append(encodings, map[string]any{"ssrc": s})
	}
	mustRequest(t, w, "transport.produce", rid+"-src", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}}},
			"encodings": encodings,
			"rtcp":      map[string]any{"cname": "source-cname"},
		},
	})
	return testUDPSocket(t), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tuplePort(src)}
}

// TestPipeConsumerStreams: a pipe consumer of a simulcast producer sends
// every encoding, each on the SSRC of its consumer encoding with its own
// continuous sequence numbers and the original timestamps, and a PLI on
// any of them reaches the sender.
func TestPipeConsumerStreams(t *testing.T) {
	w, rec := newTestWorker(t)
	send, dst := pipeSource(t, w, "rA", 1000, 2000, 3000)
	wire := testUDPSocket(t)
	pipe := mustRequest(t, w, "router.createPipeTransport", "rA", map[string]any{
		"transportId": "pa", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "enableRtx": true,
	})
	if pipe["rtx"] != true || pipe["srtpParameters"] != nil {
		t.Fatalf("pipe transport %v", pipe)
	}
	mustRequest(t, w, "transport.connect", "pa", map[string]any{"ip": "127.0.0.1", "port": wire.LocalAddr().(*net.UDPAddr).Port})
	cons := mustRequest(t, w, "transport.consume", "pa", map[string]any{"consumerId": "pc", "producerId": "p1"})
	if cons["type"] != "pipe" {
		t.Fatalf("consumer type %v", cons["type"])
	}
	score := cons["score"].(map[string]any)
	if score["score"].(float64) != 10 || score["producerScore"].(float64) != 10 {
		t.Fatalf("pipe consumer score %v", score)
	}
	encs := cons["rtpParameters"].(map[string]any)["encodings"].([]any)
	if len(encs) != 3 {
		t.Fatalf("%d encodings, want 3", len(encs))
	}
	want := map[uint32]int{} // consumer SSRC -> encoding
	for i, e := range encs {
		em := e.(map[string]any)
		want[uint32(em["ssrc"].(float64))] = i
		if em["rtx"] == nil {
			t.Fatalf("encoding %d without rtx (enableRtx)", i)
		}
	}

	// Each stream: a delta frame (held back), then a key frame and deltas,
	// with its own sequence numbers and timestamps.
	const n = 15
	for i := 0; i < n+1; i++ {
		for k, ssrc := range []uint32{1000, 2000, 3000} {
			seq := uint16(100*(k+1) + i)
			_, _ = send.WriteToUDP(vp8Packet(seq, uint32(1000*(k+1)+i*3000), ssrc, i == 1), dst)
		}
	}
	pkts, _ := readRtp(t, wire, 3*n, 3*time.Second)
	if len(pkts) != 3*n {
		t.Fatalf("got %d packets, want %d", len(pkts), 3*n)
	}
	last := map[uint32]uint16{}
	count := map[uint32]int{}
	for _, p := range pkts {
		k, ok := want[p.SSRC]
		if !ok {
			t.Fatalf("unexpected SSRC %d", p.SSRC)
		}
		if prev, seen := last[p.SSRC]; seen && p.SequenceNumber != prev+1 {
			t.Fatalf("stream %d: sequence %d after %d", k, p.SequenceNumber, prev)
		} else if !seen && p.Payload[1]&1 != 0 {
			t.Fatalf("stream %d starts with a delta frame", k)
		}
		i := count[p.SSRC] + 1 // input packet index (0 was held back)
		if p.Timestamp != uint32(1000*(k+1)+i*3000) {
			t.Fatalf("stream %d: timestamp %d not passed through", k, p.Timestamp)
		}
		last[p.SSRC] = p.SequenceNumber
		count[p.SSRC]++
	}
	for ssrc, k := range want {
		if count[ssrc] != n {
			t.Fatalf("stream %d: %d packets, want %d", k, count[ssrc], n)
		}
	}

	var third uint32
	for ssrc, k := range want {
		if k == 2 {
			third = ssrc
		}
	}
	pipeAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tuplePort(pipe)}

	// A NACK on the third stream is answered on that stream's RTX SSRC.
	rtxOf := uint32(encs[2].(map[string]any)["rtx"].(map[string]any)["ssrc"].(float64))
	lost := last[third] - 3
	nack, _ := (&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: third, Nacks: []rtcp.NackPair{{PacketID: lost}}}).Marshal()
	_, _ = wire.WriteToUDP(nack, pipeAddr)
	again, _ := readRtp(t, wire, 1, 3*time.Second)
	if len(again) != 1 || again[0].SSRC != rtxOf || uint16(again[0].Payload[0])<<8|uint16(again[0].Payload[1]) != lost {
		t.Fatalf("no RTX of %d on SSRC %d: %v", lost, rtxOf, again)
	}

	// A PLI for the third stream is asked from the sender.
	pli, _ := (&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: third}).Marshal()
	_, _ = wire.WriteToUDP(pli, pipeAddr)
	deadline := time.Now().Add(3 * time.Second)
	got := false
	for !got && time.Now().Before(deadline) {
		_, fb := readRtp(t, send, 1, 500*time.Millisecond)
		for _, p := range fb {
			if p, ok := p.(*rtcp.PictureLossIndication); ok && p.MediaSSRC == 3000 {
				got = true
			}
		}
	}
	if !got {
		t.Fatal("no PLI for the third stream at the sender")
	}

	// getStats: one outbound stream per encoding; no score events.
	if stats := mustRequestArr(t, w, "consumer.getStats", "pc"); len(stats) != 3 {
		t.Fatalf("consumer.getStats: %d entries, want 3", len(stats))
	}
	if _, ok := rec.find("pc", "score"); ok {
		t.Fatal("a pipe consumer emitted a score event")
	}
}

// TestPipeTransportConnectErrors: mediasoup's connect() checks.
func TestPipeTransportConnectErrors(t *testing.T) {
	w, _ := newTestWorker(t)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	p := mustRequest(t, w, "router.createPipeTransport", "r1", map[string]any{
		"transportId": "p1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "enableSrtp": true,
	})
	srtp := p["srtpParameters"].(map[string]any)
	if srtp["cryptoSuite"] != "AEAD_AES_256_GCM" || len(srtp["keyBase64"].(string)) != 60 {
		t.Fatalf("srtpParameters %v", srtp)
	}
	key := "YTdjcDBvY2JoMGY5YXNlNDc0eDJsdGgwaWRvNnJsamRrdG16aWVpZHphdHo="
	for _, c := range []struct {
		req  map[string]any
		name string
	}{
		{map[string]any{"ip": "127.0.0.2", "port": 9999}, "TypeError"},
		{map[string]any{"ip": "127.0.0.2", "port": 9999, "srtpParameters": map[string]any{"cryptoSuite": "AES_CM_128_HMAC_SHA1_80", "keyBase64": key}}, "TypeError"},
		{map[string]any{"ip": "127.0.0.2", "port": 9999, "srtpParameters": map[string]any{"cryptoSuite": "AEAD_AES_256_GCM", "keyBase64": "AAAA"}}, "TypeError"},
		{map[string]any{"port": 9999, "srtpParameters": map[string]any{"cryptoSuite": "AEAD_AES_256_GCM", "keyBase64": key}}, "TypeError"},
	} {
		b, _ := json.Marshal(c.req)
		_, err := w.Request("transport.connect", "p1", b)
		if e, ok := err.(*Error); !ok || e.Name != c.name {
			t.Fatalf("connect(%v): %v, want %s", c.req, err, c.name)
		}
	}
	out := mustRequest(t, w, "transport.connect", "p1", map[string]any{"ip": "127.0.0.2", "port": 9999,
		"srtpParameters": map[string]any{"cryptoSuite": "AEAD_AES_256_GCM", "keyBase64": key}})
	if tuple := out["tuple"].(map[string]any); tuple["remotePort"].(float64) != 9999 {
		t.Fatalf("tuple %v", tuple)
	}
	b, _ := json.Marshal(map[string]any{"ip": "127.0.0.2", "port": 9999})
	if _, err := w.Request("transport.connect", "p1", b); err == nil || err.Error() != "connect() already called" {
		t.Fatalf("second connect: %v", err)
	}
	stats := mustRequestArr(t, w, "transport.getStats", "p1")
	if stats[0]["type"] != "pipe-transport" {
		t.Fatalf("stats type %v", stats[0]["type"])
	}
}

// TestPipeToRouter wires two routers (of two workers) as pipeToRouter()
// does, with SRTP and RTX: a consumer in router B receives the media of a
// producer in router A, with continuous sequence numbers, and the pipe
// producer keeps the original CNAME. With a simulcast producer every
// stream crosses the pipe.
func TestPipeToRouter(t *testing.T) {
	t.Run("simple", func(t *testing.T) { testPipeToRouter(t, 1111) })
	t.Run("simulcast", func(t *testing.T) { testPipeToRouter(t, 1000, 2000, 3000) })
}

func testPipeToRouter(t *testing.T, ssrcs ...uint32) {
	wA, _ := newTestWorker(t)
	wB, _ := newTestWorker(t)
	send, dst := pipeSource(t, wA, "rA", ssrcs...)
	routerB := mustRequest(t, wB, "worker.createRouter", "", map[string]any{"routerId": "rB", "mediaCodecs": testCodecs})

	opts := func(id string) map[string]any {
		return map[string]any{"transportId": id, "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
			"enableRtx": true, "enableSrtp": true}
	}
	pa := mustRequest(t, wA, "router.createPipeTransport", "rA", opts("pa"))
	pb := mustRequest(t, wB, "router.createPipeTransport", "rB", opts("pb"))
	mustRequest(t, wA, "transport.connect", "pa", map[string]any{"ip": "127.0.0.1", "port": tuplePort(pb), "srtpParameters": pb["srtpParameters"]})
	mustRequest(t, wB, "transport.connect", "pb", map[string]any{"ip": "127.0.0.1", "port": tuplePort(pa), "srtpParameters": pa["srtpParameters"]})
	pc := mustRequest(t, wA, "transport.consume", "pa", map[string]any{"consumerId": "pc", "producerId": "p1"})
	pp := mustRequest(t, wB, "transport.produce", "pb", map[string]any{
		"producerId": "p1", "kind": pc["kind"], "rtpParameters": pc["rtpParameters"], "paused": pc["producerPaused"],
	})
	if cname := pp["rtpParameters"].(map[string]any)["rtcp"].(map[string]any)["cname"]; cname != "source-cname" {
		t.Fatalf("pipe producer CNAME %v", cname)
	}
	wantType := "simple"
	if len(ssrcs) > 1 {
		wantType = "simulcast"
	}
	if pp["type"] != wantType {
		t.Fatalf("pipe producer type %v, want %s", pp["type"], wantType)
	}

	recv := testUDPSocket(t)
	mustRequest(t, wB, "router.createPlainTransport", "rB", map[string]any{
		"transportId": "tB", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
	})
	mustRequest(t, wB, "transport.connect", "tB", map[string]any{"ip": "127.0.0.1", "port": recv.LocalAddr().(*net.UDPAddr).Port})
	cons := mustRequest(t, wB, "transport.consume", "tB", map[string]any{"consumerId": "c1", "producerId": "p1", "rtpCapabilities": routerB["rtpCapabilities"]})
	cssrc := uint32(cons["rtpParameters"].(map[string]any)["encodings"].([]any)[0].(map[string]any)["ssrc"].(float64))

	// Send every stream until the consumer in B has 20 packets (the first
	// key frames may be needed after the consumer exists, so repeat them).
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			for k, ssrc := range ssrcs {
				_, _ = send.WriteToUDP(vp8Packet(uint16(1000*k+i), uint32(i*3000), ssrc, i%10 == 0), dst)
			}
		}
	}()
	pkts, _ := readRtp(t, recv, 20, 5*time.Second)
	close(stop)
	<-done
	if len(pkts) != 20 {
		t.Fatalf("consumer in router B got %d packets, want 20", len(pkts))
	}
	for i, p := range pkts {
		if p.SSRC != cssrc {
			t.Fatalf("SSRC %d, want %d", p.SSRC, cssrc)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
	}
	// Every stream crossed the pipe.
	waitFor(t, "every stream at the pipe producer", 3*time.Second, func() bool {
		stats := mustRequestArr(t, wB, "producer.getStats", "p1")
		if len(stats) != len(ssrcs) {
			return false
		}
		for _, s := range stats {
			if s["packetCount"].(float64) == 0 {
				return false
			}
		}
		return true
	})
}
