package engine

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

// directVP8 is a VP8 producer "p" (SSRC 1111, RTX 2222) on DirectTransport
// "in", consumed by "c" on DirectTransport "out".
type directVP8 struct {
	t   *testing.T
	w   *Worker
	rec *recorder
}

func newDirectVP8(t *testing.T) *directVP8 {
	t.Helper()
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
			"codecs": []any{
				map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000},
				map[string]any{"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000, "parameters": map[string]any{"apt": 101}},
			},
			"encodings": []any{map[string]any{"ssrc": 1111, "rtx": map[string]any{"ssrc": 2222}}},
		},
	})
	mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	return &directVP8{t: t, w: w, rec: rec}
}

// forwarded returns the packets consumer c emitted.
func (d *directVP8) forwarded() [][]byte {
	d.rec.mu.Lock()
	defer d.rec.mu.Unlock()
	var out [][]byte
	for _, e := range d.rec.events {
		if e.target == "c" && e.name == "rtp" {
			out = append(out, e.data)
		}
	}
	return out
}

func (d *directVP8) send(b []byte) {
	d.t.Helper()
	if _, err := d.w.Request("producer.send", "p", b); err != nil {
		d.t.Fatal(err)
	}
}

// dropped returns the packetsDropped counters of a transport's dump.
func dropped(t *testing.T, w *Worker, transportID string) map[string]float64 {
	t.Helper()
	out, err := w.Request("transport.dump", transportID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		PacketsDropped map[string]float64 `json:"packetsDropped"`
	}
	if err := json.Unmarshal(out, &dump); err != nil {
		t.Fatal(err)
	}
	return dump.PacketsDropped
}

// withPadding returns pkt with the padding bit set and pad bytes of
// padding appended, the last one being last.
func withPadding(pkt []byte, pad int, last byte) []byte {
	out := append([]byte{pkt[0] | 0x20}, pkt[1:]...)
	out = append(out, make([]byte, pad)...)
	if pad > 0 {
		out[len(out)-1] = last
	}
	return out
}

// TestMalformedRtpDropped: RTP that mediasoup's parser rejects, for an
// unknown SSRC or too big is dropped, counted under its cause and never
// forwarded; the next valid packet is forwarded with the next sequence
// number.
func TestMalformedRtpDropped(t *testing.T) {
	d := newDirectVP8(t)
	d.send(vp8Packet(1, 1000, 1111, true))
	if n := len(d.forwarded()); n != 1 {
		t.Fatalf("key frame not forwarded (%d)", n)
	}
	seq := uint16(2)
	good := func() []byte { return vp8Packet(seq, 1000, 1111, false) }
	for _, tc := range []struct {
		name    string
		build   func(good []byte) []byte
		counter string
	}{
		// X set and a one-byte block: ID 0 with length 5, then an
		// element of 16 bytes in a 4-byte block (pion/rtp stops at ID 0).
		{"one-byte extension overrun after ID 0", func(g []byte) []byte {
			b := append([]byte{g[0] | 0x10}, g[1:12]...)
			b = append(b, 0xbe, 0xde, 0, 1, 0x05, 0x1f, 0x01, 0x02)
			return append(b, g[12:]...)
		}, "rtpInvalid"},
		{"extension block longer than the packet", func(g []byte) []byte {
			b := append([]byte{g[0] | 0x10}, g[1:12]...)
			return append(b, 0xbe, 0xde, 0x10, 0x00)
		}, "rtpInvalid"},
		{"CSRC list longer than the packet", func(g []byte) []byte {
			return append([]byte{g[0] | 0x0f}, g[1:20]...)
		}, "rtpInvalid"},
		{"truncated fixed header", func(g []byte) []byte { return g[:11] }, "rtpInvalid"},
		{"version 1", func(g []byte) []byte { return append([]byte{g[0]&0x3f | 0x40}, g[1:]...) }, "rtpInvalid"},
		{"padding length 0", func(g []byte) []byte { return withPadding(g, 4, 0) }, "rtpInvalid"},
		{"padding longer than the payload", func(g []byte) []byte {
			b := withPadding(g, 1, 0)
			b[len(b)-1] = byte(len(b) - 12 + 1)
			return b
		}, "rtpInvalid"},
		{"padding bit without payload", func(g []byte) []byte { return append([]byte{g[0] | 0x20}, g[1:12]...) }, "rtpInvalid"},
		{"unknown SSRC", func(g []byte) []byte {
			b := append([]byte(nil), g...)
			binary.BigEndian.PutUint32(b[8:], 999)
			return b
		}, "unknownSsrc"},
		{"unknown SSRC and payload type", func(g []byte) []byte {
			b := append([]byte(nil), g...)
			b[1] = 0x7f
			binary.BigEndian.PutUint32(b[8:], 999)
			return b
		}, "unknownSsrc"},
		{"over 64 KiB", func(g []byte) []byte { return append(append([]byte(nil), g...), make([]byte, 65536)...) }, "oversized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.t = t
			before := dropped(t, d.w, "in")
			n := len(d.forwarded())
			d.send(tc.build(good()))
			if got := len(d.forwarded()); got != n {
				t.Fatal("bad packet forwarded")
			}
			after := dropped(t, d.w, "in")
			if after[tc.counter] != before[tc.counter]+1 {
				t.Fatalf("%s: %v, want +1 (before %v)", tc.counter, after, before)
			}
			d.send(good())
			fw := d.forwarded()
			if len(fw) != n+1 {
				t.Fatal("the next valid packet was not forwarded")
			}
			prev := binary.BigEndian.Uint16(fw[n-1][2:])
			if cur := binary.BigEndian.Uint16(fw[n][2:]); cur != prev+1 {
				t.Fatalf("sequence %d after %d", cur, prev)
			}
			seq++
		})
	}
}

// TestEmptyPayloadNotForwarded: packets without payload (padding only, as
// bandwidth probes are) are received but not forwarded, as mediasoup's
// consumers do, and the consumer's sequence numbers have no hole where
// they were; a padding-only RTX packet (no OSN) is dropped. Both counted.
func TestEmptyPayloadNotForwarded(t *testing.T) {
	d := newDirectVP8(t)
	d.send(vp8Packet(1, 1000, 1111, true))
	padOnly := func(seq uint16, ssrc uint32, pt byte) []byte {
		b := vp8Packet(seq, 1000, ssrc, false)[:12]
		b[1] = b[1]&0x80 | pt
		return withPadding(b, 4, 4)
	}
	d.send(padOnly(2, 1111, 101))
	d.send(padOnly(3, 1111, 101))
	d.send(padOnly(7, 2222, 102))
	d.send(vp8Packet(4, 1000, 1111, false))
	fw := d.forwarded()
	if len(fw) != 2 {
		t.Fatalf("%d packets forwarded, want 2 (padding-only packets are not)", len(fw))
	}
	if a, b := binary.BigEndian.Uint16(fw[0][2:]), binary.BigEndian.Uint16(fw[1][2:]); b != a+1 {
		t.Fatalf("sequence %d after %d: a hole where the padding-only packets were", b, a)
	}
	if got := dropped(t, d.w, "in")["emptyPayload"]; got != 3 {
		t.Fatalf("emptyPayload %v, want 3", got)
	}
	var stats []map[string]any
	out, err := d.w.Request("producer.getStats", "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out, &stats)
	if len(stats) != 1 || stats[0]["packetCount"].(float64) != 4 {
		t.Fatalf("producer stats %v: padding-only media packets count as received", stats)
	}
}

// TestDirectRtcpDropped: RTCP given to DirectTransport.sendRtcp() that is
// over mediasoup's size limit or does not parse is dropped and counted.
func TestDirectRtcpDropped(t *testing.T) {
	d := newDirectVP8(t)
	for _, tc := range []struct {
		name    string
		b       []byte
		counter string
	}{
		{"over MTU + 100", append([]byte{0x80, 201, 0x01, 0x91}, make([]byte, 1600)...), "oversized"},
		{"length beyond the packet", []byte{0x80, 201, 0xff, 0xff, 0, 0, 0, 1}, "rtcpInvalid"},
		{"truncated header", []byte{0x80, 200}, "rtcpInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dropped(t, d.w, "out")[tc.counter]
			if _, err := d.w.Request("transport.sendRtcp", "out", tc.b); err != nil {
				t.Fatal(err)
			}
			if got := dropped(t, d.w, "out")[tc.counter]; got != before+1 {
				t.Fatalf("%s %v, want %v", tc.counter, got, before+1)
			}
		})
	}
}

// TestDumpPacketsDropped: every transport type's dump() has the drop
// counters (a gosfu extension), starting at zero.
func TestDumpPacketsDropped(t *testing.T) {
	w, _ := newTestWorker(t)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	keys := []string{"unknownTuple", "srtp", "dtlsQueue", "dtlsInvalid", "stunInvalid", "rtpInvalid", "rtcpInvalid",
		"unknownSsrc", "emptyPayload", "oversized", "unknownType"}
	for _, tc := range []struct {
		method string
		data   map[string]any
	}{
		{"router.createWebRtcTransport", map[string]any{"listenInfos": []any{listen}}},
		{"router.createPlainTransport", map[string]any{"listenInfo": listen}},
		{"router.createPipeTransport", map[string]any{"listenInfo": listen}},
		{"router.createDirectTransport", map[string]any{}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			tc.data["transportId"] = tc.method
			mustRequest(t, w, tc.method, "r", tc.data)
			pd := dropped(t, w, tc.method)
			for _, k := range keys {
				if v, ok := pd[k]; !ok || v != 0 {
					t.Errorf("packetsDropped.%s = %v (present %v)", k, v, ok)
				}
			}
		})
	}
}
