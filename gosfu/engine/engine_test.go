package engine

import (
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

type event struct {
	target, name string
	data         []byte
}

type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) Emit(target, ev string, data []byte, binary bool) {
	r.mu.Lock()
	r.events = append(r.events, event{target, ev, append([]byte(nil), data...)})
	r.mu.Unlock()
}

func (r *recorder) find(target, name string) (event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.target == target && e.name == name {
			return e, true
		}
	}
	return event{}, false
}

func mustRequest(t testing.TB, w *Worker, method, handler string, data any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(data)
	out, err := w.Request(method, handler, b)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	var m map[string]any
	if len(out) > 0 {
		_ = json.Unmarshal(out, &m)
	}
	return m
}

var testCodecs = []any{
	map[string]any{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
	map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
}

func newTestWorker(t *testing.T) (*Worker, *recorder) {
	t.Helper()
	rec := &recorder{}
	w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":29999}`), rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); w.Wait() })
	return w, rec
}

// vp8Packet builds a VP8 RTP packet; key frames have the P bit clear.
// newDirectRoom creates router "r" with DirectTransports "in" (for a
// producer) and "out" (for its consumers); it returns the router's
// createRouter answer (rtpCapabilities).
func newDirectRoom(t testing.TB, w *Worker) map[string]any {
	t.Helper()
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "in"})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "out"})
	return router
}

func vp8Packet(seq uint16, ts uint32, ssrc uint32, key bool) []byte {
	payload := make([]byte, 200)
	payload[0] = 0x10 // S=1, PID=0
	if key {
		payload[1] = 0x00
	} else {
		payload[1] = 0x01
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}
	b, _ := p.Marshal()
	return b
}

// setupForwarding creates a producer on a comedia plain transport and a
// consumer on a second plain transport connected to the returned socket.
func setupForwarding(t *testing.T, w *Worker) (send *net.UDPConn, dst *net.UDPAddr, recv *net.UDPConn, consumerSsrc uint32) {
	t.Helper()
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	caps := router["rtpCapabilities"]
	t1 := mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	})
	mustRequest(t, w, "transport.produce", "t1", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	var err error
	recv, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { recv.Close() })
	mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t2", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
	})
	mustRequest(t, w, "transport.connect", "t2", map[string]any{"ip": "127.0.0.1", "port": recv.LocalAddr().(*net.UDPAddr).Port})
	cons := mustRequest(t, w, "transport.consume", "t2", map[string]any{
		"consumerId": "c1", "producerId": "p1", "rtpCapabilities": caps,
	})
	enc := cons["rtpParameters"].(map[string]any)["encodings"].([]any)[0].(map[string]any)
	consumerSsrc = uint32(enc["ssrc"].(float64))
	tuple := t1["tuple"].(map[string]any)
	dst = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(tuple["localPort"].(float64))}
	send, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { send.Close() })
	return send, dst, recv, consumerSsrc
}

// readRtp reads RTP packets (skipping RTCP) until n arrived or timeout.
func readRtp(t *testing.T, c *net.UDPConn, n int, timeout time.Duration) ([]rtp.Packet, []rtcp.Packet) {
	t.Helper()
	var pkts []rtp.Packet
	var fb []rtcp.Packet
	buf := make([]byte, 2000)
	deadline := time.Now().Add(timeout)
	for len(pkts) < n && time.Now().Before(deadline) {
		_ = c.SetReadDeadline(deadline)
		m, _, err := c.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if isRtcp(buf[:m]) {
			if ps, err := rtcp.Unmarshal(buf[:m]); err == nil {
				fb = append(fb, ps...)
			}
			continue
		}
		var p rtp.Packet
		if p.Unmarshal(append([]byte(nil), buf[:m]...)) == nil {
			pkts = append(pkts, p)
		}
	}
	return pkts, fb
}

func TestPlainForwarding(t *testing.T) {
	w, rec := newTestWorker(t)
	send, dst, recv, cssrc := setupForwarding(t, w)
	// Delta frames before the first key frame are held back.
	_, _ = send.WriteToUDP(vp8Packet(1, 1000, 1111, false), dst)
	for i := 0; i < 10; i++ {
		_, _ = send.WriteToUDP(vp8Packet(uint16(2+i), 3000+uint32(i)*3000, 1111, i == 0), dst)
	}
	pkts, _ := readRtp(t, recv, 10, 3*time.Second)
	if len(pkts) != 10 {
		t.Fatalf("got %d packets, want 10", len(pkts))
	}
	for i, p := range pkts {
		if p.SSRC != cssrc {
			t.Fatalf("ssrc %d want %d", p.SSRC, cssrc)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence gap: %d after %d", p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if p.PayloadType != 101 {
			t.Fatalf("payload type %d", p.PayloadType)
		}
	}
	if pkts[0].Payload[1]&1 != 0 {
		t.Fatal("first forwarded packet is not the key frame")
	}
	if _, ok := rec.find("t1", "tuple"); !ok {
		t.Fatal("no tuple event under comedia")
	}
	stats := mustRequestArr(t, w, "producer.getStats", "p1")
	if stats[0]["packetCount"].(float64) != 11 {
		t.Fatalf("producer packetCount %v", stats[0]["packetCount"])
	}
}

func mustRequestArr(t *testing.T, w *Worker, method, handler string) []map[string]any {
	t.Helper()
	out, err := w.Request(method, handler, nil)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	var m []map[string]any
	_ = json.Unmarshal(out, &m)
	return m
}

func TestNackRetransmission(t *testing.T) {
	w, _ := newTestWorker(t)
	send, dst, recv, cssrc := setupForwarding(t, w)
	for i := 0; i < 20; i++ {
		_, _ = send.WriteToUDP(vp8Packet(uint16(100+i), uint32(i)*3000, 1111, i == 0), dst)
	}
	pkts, _ := readRtp(t, recv, 20, 3*time.Second)
	if len(pkts) != 20 {
		t.Fatalf("got %d packets", len(pkts))
	}
	// The receiver lost the 5th packet: NACK it.
	lost := pkts[5].SequenceNumber
	nack := &rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: cssrc, Nacks: []rtcp.NackPair{{PacketID: lost}}}
	b, _ := nack.Marshal()
	_, _ = recv.WriteToUDP(b, recv.LocalAddr().(*net.UDPAddr))
	_ = b
	// The consumer transport only accepts RTCP from its connected remote: send from recv's socket.
	t2port := w.handlers["t2"].(*Transport).link.(*plainLink).localTuple.LocalPort
	_, _ = recv.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: t2port})
	again, _ := readRtp(t, recv, 1, 3*time.Second)
	if len(again) == 0 {
		t.Fatal("no retransmission")
	}
	r := again[0]
	// RTX was negotiated: the packet comes on the RTX SSRC with the OSN first.
	if r.SSRC == cssrc {
		if r.SequenceNumber != lost {
			t.Fatalf("retransmitted seq %d want %d", r.SequenceNumber, lost)
		}
	} else {
		osn := uint16(r.Payload[0])<<8 | uint16(r.Payload[1])
		if osn != lost {
			t.Fatalf("RTX OSN %d want %d", osn, lost)
		}
	}
}

func TestCloseReleasesPort(t *testing.T) {
	w, _ := newTestWorker(t)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	t1 := mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
	})
	port := int(t1["tuple"].(map[string]any)["localPort"].(float64))
	mustRequest(t, w, "worker.closeRouter", "", map[string]any{"routerId": "r1"})
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatalf("port still bound after close: %v", err)
	}
	c.Close()
	if _, err := w.Request("transport.dump", "t1", nil); err == nil {
		t.Fatal("closed transport still answers")
	}
}

func TestBadInputDropped(t *testing.T) {
	w, _ := newTestWorker(t)
	send, dst, recv, _ := setupForwarding(t, w)
	junk := [][]byte{{}, {0x80}, {0x80, 0xc8, 0, 1}, make([]byte, 11), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for _, j := range junk {
		_, _ = send.WriteToUDP(j, dst)
	}
	// Still forwarding: a packet sent after the junk (read in order from
	// the same socket) comes through.
	_, _ = send.WriteToUDP(vp8Packet(1, 3000, 1111, true), dst)
	if pkts, _ := readRtp(t, recv, 1, 5*time.Second); len(pkts) != 1 {
		t.Fatal("nothing forwarded after the junk")
	}
	// Still serving.
	if _, err := w.Request("transport.getStats", "t1", nil); err != nil {
		t.Fatal(err)
	}
}
