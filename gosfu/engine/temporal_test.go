package engine

import (
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/codecs"
)

// l1t3Frame describes frame i of a VP8 L1T3 stream as libwebrtc encodes
// it: TIDs 0,2,1,2 repeating, and an 8-frame pattern in which the TL2 and
// TL1 frames right after every other TL0 frame (pattern positions 1 and 2)
// reference TL0 only and carry the layer sync (Y) bit.
func l1t3Frame(i int) (tid uint8, sync bool) {
	pos := i % 8
	return [8]uint8{0, 2, 1, 2, 0, 2, 1, 2}[pos], pos == 1 || pos == 2
}

// l1t3Packets builds the two RTP packets of frame i (frame 0 is a key
// frame): 15 bit picture id 32760+i (it wraps), TL0PICIDX 250+i/4 (it
// wraps), TID and Y from l1t3Frame. The payload carries the frame number and
// the packet index after the VP8 payload header.
func l1t3Packets(i int, ssrc uint32) [][]byte {
	tid, sync := l1t3Frame(i)
	pic := uint16(32760+i) & 0x7FFF
	tl0 := uint8(250 + i/4)
	tk := tid << 6
	if sync {
		tk |= 0x20
	}
	var out [][]byte
	for k := 0; k < 2; k++ {
		payload := make([]byte, 100)
		payload[0] = 0x80 // X
		if k == 0 {
			payload[0] |= 0x10 // S, PID 0
		}
		payload[1] = 0xE0 // I, L, T
		payload[2] = 0x80 | byte(pic>>8)
		payload[3] = byte(pic)
		payload[4] = tl0
		payload[5] = tk
		payload[6] = 0x01 // inter frame
		if i == 0 && k == 0 {
			payload[6] = 0x00
		}
		payload[7], payload[8], payload[9] = byte(i>>8), byte(i), byte(k)
		p := rtp.Packet{Header: rtp.Header{
			Version: 2, PayloadType: 101, SequenceNumber: uint16(60000 + 2*i + k),
			Timestamp: 1000 + uint32(i)*4500, SSRC: ssrc, Marker: k == 1,
		}, Payload: payload}
		b, _ := p.Marshal()
		out = append(out, b)
	}
	return out
}

type tlReceived struct {
	seq    uint16
	frame  int
	k      int
	pic    uint16
	tl0    uint8
	tid    uint8
	marker bool
}

// readFrames reads the consumer's RTP packets until the last packet of
// frame last arrived.
func readFrames(t *testing.T, c *net.UDPConn, last int) []tlReceived {
	t.Helper()
	var out []tlReceived
	buf := make([]byte, 2000)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("waiting for frame %d: %v (got %d packets)", last, err, len(out))
		}
		if isRtcp(buf[:n]) {
			continue
		}
		var p rtp.Packet
		if p.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
			continue
		}
		var d codecs.VP8Descriptor
		if d.Unmarshal(p.Payload) != nil || !d.HasPictureID || !d.HasTL0PicIdx || !d.HasTID {
			t.Fatalf("bad VP8 payload % x", p.Payload)
		}
		b := p.Payload[d.HeaderSize:]
		r := tlReceived{
			seq: p.SequenceNumber, frame: int(b[1])<<8 | int(b[2]), k: int(b[3]),
			pic: d.PictureID, tl0: d.TL0PicIdx, tid: d.TID, marker: p.Marker,
		}
		out = append(out, r)
		if r.frame == last && r.k == 1 {
			return out
		}
	}
}

func layersEvents(rec *recorder, id string) []map[string]int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []map[string]int
	for _, e := range rec.events {
		if e.target == id && e.name == "layerschange" {
			var m map[string]int
			_ = json.Unmarshal(e.data, &m)
			out = append(out, m)
		}
	}
	return out
}

// TestVP8TemporalLayers: a VP8 consumer of an L1T3 stream forwards only the
// frames of the preferred temporal layer and below, with continuous RTP
// sequence numbers, picture ids and TL0PICIDX; going down happens at the
// next frame, going up waits for a layer sync frame; layerschange reports
// the temporal layer forwarded. Both for a simulcast producer (two L1T3
// encodings, the consumer preferring spatial layer 0) and a single L1T3
// encoding.
func TestVP8TemporalLayers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		encodings []any
		typ       string
	}{
		{"simulcast", []any{
			map[string]any{"ssrc": 1000, "scalabilityMode": "L1T3"},
			map[string]any{"ssrc": 2000, "scalabilityMode": "L1T3"},
		}, "simulcast"},
		{"single L1T3 encoding", []any{map[string]any{"ssrc": 1000, "scalabilityMode": "L1T3"}}, "svc"},
	} {
		t.Run(tc.name, func(t *testing.T) { testVP8TemporalLayers(t, tc.encodings, tc.typ) })
	}
}

func testVP8TemporalLayers(t *testing.T, encodings []any, typ string) {
	w, rec := newTestWorker(t)
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": testCodecs})
	t1 := mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	})
	prod := mustRequest(t, w, "transport.produce", "t1", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": encodings,
		},
	})
	if prod["type"] != typ {
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
	cons := mustRequest(t, w, "transport.consume", "t2", map[string]any{
		"consumerId": "c1", "producerId": "p1", "rtpCapabilities": router["rtpCapabilities"],
		"preferredLayers": map[string]any{"spatialLayer": 0},
	})
	if cons["type"] != typ {
		t.Fatalf("consumer type %v", cons["type"])
	}
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(t1["tuple"].(map[string]any)["localPort"].(float64))}
	sendFrames := func(from, to int) {
		for i := from; i <= to; i++ {
			for _, b := range l1t3Packets(i, 1000) {
				if _, err := send.WriteToUDP(b, dst); err != nil {
					t.Fatal(err)
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
	}
	setLayers := func(temporal int) {
		got := mustRequest(t, w, "consumer.setPreferredLayers", "c1", map[string]any{"spatialLayer": 0, "temporalLayer": temporal})
		if got["temporalLayer"] != float64(temporal) {
			t.Fatalf("preferredLayers %v", got)
		}
	}
	// frames returns the frame numbers received (one per frame, both of
	// its packets in order).
	var all []tlReceived
	frames := func(got []tlReceived) []int {
		t.Helper()
		var out []int
		for j := 0; j < len(got); j += 2 {
			if j+1 >= len(got) || got[j].frame != got[j+1].frame || got[j].k != 0 || got[j+1].k != 1 || !got[j+1].marker {
				t.Fatalf("frame %d not received whole: %+v", got[j].frame, got[j:])
			}
			out = append(out, got[j].frame)
		}
		all = append(all, got...)
		return out
	}
	wantFrames := func(from, to int, keep func(i int) bool) []int {
		var out []int
		for i := from; i <= to; i++ {
			if keep(i) {
				out = append(out, i)
			}
		}
		return out
	}
	equal := func(what string, got, want []int) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: frames %v, want %v", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: frames %v, want %v", what, got, want)
			}
		}
	}

	// Every layer (the default), from the key frame on. Each phase ends with
	// a TL0 frame, always forwarded: once it arrived, the consumer has
	// processed everything sent before.
	sendFrames(0, 16)
	equal("all layers", frames(readFrames(t, recv, 16)), wantFrames(0, 16, func(int) bool { return true }))

	// Temporal layer 0: frame 17 (TL2 with Y) and every non-TL0 frame go.
	setLayers(0)
	sendFrames(17, 52)
	equal("temporal layer 0", frames(readFrames(t, recv, 52)), wantFrames(17, 52, func(i int) bool { return i%4 == 0 }))
	up0 := len(layersEvents(rec, "c1"))

	// Temporal layer 1: frames 53..55 (no sync) go; TL1 comes back at frame
	// 58 (its Y bit), TL2 frames stay out.
	setLayers(1)
	sendFrames(53, 64)
	equal("temporal layer 1", frames(readFrames(t, recv, 64)),
		wantFrames(53, 64, func(i int) bool { tid, _ := l1t3Frame(i); return tid == 0 || (tid == 1 && i >= 58) }))

	// Temporal layer 2 while the stream is past its sync frames (pattern
	// position 4): the TL2 frames 69 and 71 (no Y bit) go, TL1 frame 70
	// passes as before; every layer comes back at frame 73, the next TL2
	// sync frame.
	sendFrames(65, 68)
	equal("temporal layer 1 (more)", frames(readFrames(t, recv, 68)), []int{66, 68})
	setLayers(2)
	sendFrames(69, 88)
	equal("temporal layer 2", frames(readFrames(t, recv, 88)),
		wantFrames(69, 88, func(i int) bool { tid, _ := l1t3Frame(i); return tid == 0 || i >= 73 || (tid == 1 && i == 70) }))

	// Down to 0 again in the middle of the pattern: the very next frame.
	setLayers(0)
	sendFrames(89, 96)
	equal("temporal layer 0 again", frames(readFrames(t, recv, 96)), []int{92, 96})

	// What the receiver saw: continuous sequence numbers and picture ids
	// (15 bits, dropped pictures renumbered away), TL0PICIDX one more at
	// each TL0 frame, never a higher TID than the layer wanted.
	for j := 1; j < len(all); j++ {
		a, b := all[j-1], all[j]
		if b.seq != a.seq+1 {
			t.Fatalf("sequence number %d after %d (frame %d)", b.seq, a.seq, b.frame)
		}
		if b.frame == a.frame {
			if b.pic != a.pic || b.tl0 != a.tl0 {
				t.Fatalf("frame %d: packets with different picture ids", b.frame)
			}
			continue
		}
		if b.pic != (a.pic+1)&0x7FFF {
			t.Fatalf("picture id %d after %d (frame %d after %d)", b.pic, a.pic, b.frame, a.frame)
		}
		wantTl0 := a.tl0
		if b.tid == 0 {
			wantTl0++
		}
		if b.tl0 != wantTl0 {
			t.Fatalf("TL0PICIDX %d after %d (frame %d, tid %d)", b.tl0, a.tl0, b.frame, b.tid)
		}
	}
	if all[0].pic != 32760 {
		t.Fatalf("first picture id %d", all[0].pic)
	}
	// Nothing else arrived.
	if extra, _ := readRtp(t, recv, 1, 300*time.Millisecond); len(extra) > 0 {
		t.Fatalf("unexpected packet seq %d", extra[0].SequenceNumber)
	}

	// layerschange: {0,2} when forwarding starts, {0,0}, then {0,1}, {0,2}
	// at the sync frames, {0,0}.
	events := layersEvents(rec, "c1")
	want := []int{2, 0, 1, 2, 0}
	if len(events) != len(want) {
		t.Fatalf("layerschange events %v", events)
	}
	for i, e := range events {
		if e["spatialLayer"] != 0 || e["temporalLayer"] != want[i] {
			t.Fatalf("layerschange events %v, want temporal layers %v", events, want)
		}
	}
	if up0 != 2 {
		t.Fatalf("%d layerschange events before going up", up0)
	}
	// Key frames need no sync frame: a consumer resumed at temporal layer 2
	// forwards every layer from the key frame on.
	setLayers(2)
	mustRequest(t, w, "consumer.pause", "c1", nil)
	mustRequest(t, w, "consumer.resume", "c1", nil)
	var key [][]byte
	for i := 0; i < 8; i++ {
		// frame 97.. as a key frame at pattern position 5 (a TL0 key frame
		// in the middle of the pattern, as on a PLI), then 98..104.
		pk := l1t3Packets(97+i, 1000)
		if i == 0 {
			var p rtp.Packet
			_ = p.Unmarshal(pk[0])
			p.Payload[5] = 0 // TID 0
			p.Payload[6] = 0 // key frame
			pk[0], _ = p.Marshal()
			_ = p.Unmarshal(pk[1])
			p.Payload[5] = 0
			pk[1], _ = p.Marshal()
		}
		key = append(key, pk...)
	}
	for _, b := range key {
		_, _ = send.WriteToUDP(b, dst)
		time.Sleep(200 * time.Microsecond)
	}
	equal("after a key frame", frames(readFrames(t, recv, 104)), wantFrames(97, 104, func(int) bool { return true }))
}
