package engine

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/codecs"
)

// vp9L3T3Picture builds the RTP packets of picture i of a synthetic VP9
// L3T3 stream: TIDs 0,2,1,2 repeating, three spatial layers per picture,
// each layer frame in two packets (B on the first, E on the second), the
// marker bit on the last packet of the picture. Picture key is a key
// picture (P=0). Non-flexible mode (with TL0PICIDX): the switching up point
// (U) bit on the TL2 and TL1 frames right after a TL0 frame, as libwebrtc's
// non-flexible structures have it. Flexible mode, as Chromium sends VP9
// SVC: U on every frame, one reference (P_DIFF) per frame: TL0 the previous
// TL0, the first TL2 and the TL1 the TL0 before them, the second TL2 the TL1
// before it. The payload carries the picture number, the spatial id and the
// packet index after the descriptor. seq is the first sequence number; it
// returns the packets.
func vp9L3T3Picture(i int, key, flexible bool, seq uint16, ssrc uint32) [][]byte {
	tid := [4]uint8{0, 2, 1, 2}[i%4]
	up := i%4 == 1 || i%4 == 2 || flexible
	pdiff := [4]byte{4, 1, 2, 1}[i%4]
	pic := uint16(32700+i) & 0x7FFF
	tl0 := uint8(200 + i/4)
	var out [][]byte
	for sid := uint8(0); sid < 3; sid++ {
		for k := 0; k < 2; k++ {
			payload := make([]byte, 60)
			b0 := byte(0xA0) // I, L
			if !key {
				b0 |= 0x40 // P
			}
			if flexible {
				b0 |= 0x10 // F
			}
			if k == 0 {
				b0 |= 0x08 // B
			} else {
				b0 |= 0x04 // E
			}
			payload[0] = b0
			payload[1] = 0x80 | byte(pic>>8)
			payload[2] = byte(pic)
			lb := tid<<5 | sid<<1
			if up {
				lb |= 0x10
			}
			if sid > 0 {
				lb |= 0x01 // D
			}
			payload[3] = lb
			off := 4
			if !flexible {
				payload[off] = tl0
				off++
			} else if !key {
				payload[off] = pdiff << 1
				off++
			}
			payload[off], payload[off+1], payload[off+2], payload[off+3] = byte(i>>8), byte(i), sid, byte(k)
			p := rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 101, SequenceNumber: seq + uint16(len(out)),
				Timestamp: 5000 + uint32(i)*3000, SSRC: ssrc, Marker: sid == 2 && k == 1,
			}, Payload: payload}
			b, _ := p.Marshal()
			out = append(out, b)
		}
	}
	return out
}

type svcPkt struct {
	pic, sid, k int
	marker      bool
}

func (p svcPkt) String() string { return fmt.Sprintf("%d/%d/%d/%v", p.pic, p.sid, p.k, p.marker) }

// TestVP9SvcLayers: an svc consumer of a VP9 L3T3 producer forwards only the
// packets of the preferred spatial and temporal layers and below, with the
// marker bit at the end of the highest forwarded spatial layer and
// continuous sequence numbers; a higher temporal layer comes back at a
// switching up point (in flexible mode: one whose references were
// forwarded), a higher spatial layer at the next key frame (which the
// consumer asks for); layerschange reports the forwarded layers.
func TestVP9SvcLayers(t *testing.T) {
	t.Run("non-flexible", func(t *testing.T) { testVP9SvcLayers(t, false) })
	t.Run("flexible", func(t *testing.T) { testVP9SvcLayers(t, true) })
}

func testVP9SvcLayers(t *testing.T, flexible bool) {
	w, rec := newTestWorker(t)
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r1", "mediaCodecs": []any{
		map[string]any{"kind": "video", "mimeType": "video/VP9", "clockRate": 90000},
	}})
	t1 := mustRequest(t, w, "router.createPlainTransport", "r1", map[string]any{
		"transportId": "t1", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	})
	prod := mustRequest(t, w, "transport.produce", "t1", map[string]any{
		"producerId": "p1", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP9", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack", "parameter": "pli"}}}},
			"encodings": []any{map[string]any{"ssrc": 3000, "scalabilityMode": "L3T3"}},
		},
	})
	if prod["type"] != "svc" {
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
		"preferredLayers": map[string]any{"spatialLayer": 0, "temporalLayer": 0},
	})
	if cons["type"] != "svc" {
		t.Fatalf("consumer type %v", cons["type"])
	}
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(t1["tuple"].(map[string]any)["localPort"].(float64))}

	nextSeq := uint16(65500) // wraps
	sent := 0
	sendPictures := func(from, to int, key map[int]bool) {
		for i := from; i <= to; i++ {
			pkts := vp9L3T3Picture(i, key[i], flexible, nextSeq, 3000)
			nextSeq += uint16(len(pkts))
			for _, b := range pkts {
				if _, err := send.WriteToUDP(b, dst); err != nil {
					t.Fatal(err)
				}
				sent++
				// Pacing, so that the socket buffers never overflow.
				time.Sleep(150 * time.Microsecond)
			}
		}
	}
	// want lists the packets expected for pictures from..to with the
	// given layers, the marker on the end of spatial layer sl.
	want := func(from, to, sl, tl int) []svcPkt {
		var out []svcPkt
		for i := from; i <= to; i++ {
			if int([4]uint8{0, 2, 1, 2}[i%4]) > tl {
				continue
			}
			for s := 0; s <= sl; s++ {
				out = append(out, svcPkt{i, s, 0, false}, svcPkt{i, s, 1, s == sl})
			}
		}
		return out
	}
	haveSeq := false
	var lastSeq uint16
	buf := make([]byte, 2000)
	receive := func(what string, exp []svcPkt) {
		t.Helper()
		var got []svcPkt
		deadline := time.Now().Add(5 * time.Second)
		for len(got) < len(exp) {
			_ = recv.SetReadDeadline(deadline)
			n, _, err := recv.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("%s: %v; got %v, want %v", what, err, got, exp)
			}
			if isRtcp(buf[:n]) {
				continue
			}
			var p rtp.Packet
			if p.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
				continue
			}
			var d codecs.VP9Descriptor
			if d.Unmarshal(p.Payload) != nil || !d.HasLayerIndices {
				t.Fatalf("bad VP9 payload % x", p.Payload)
			}
			if haveSeq && p.SequenceNumber != lastSeq+1 {
				t.Fatalf("%s: sequence number %d after %d", what, p.SequenceNumber, lastSeq)
			}
			haveSeq, lastSeq = true, p.SequenceNumber
			b := p.Payload[d.HeaderSize:]
			got = append(got, svcPkt{int(b[0])<<8 | int(b[1]), int(b[2]), int(b[3]), p.Marker})
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Fatalf("%s:\n got  %v\n want %v", what, got, exp)
		}
		// The packets the consumer drops after the last forwarded one must
		// reach the engine before the next setLayers: wait until the
		// producer counted every packet sent.
		waitFor(t, what+": every packet at the producer", 10*time.Second, func() bool {
			return int(mustRequestArr(t, w, "producer.getStats", "p1")[0]["packetCount"].(float64)) >= sent
		})
	}
	setLayers := func(sl, tl int) {
		got := mustRequest(t, w, "consumer.setPreferredLayers", "c1", map[string]any{"spatialLayer": sl, "temporalLayer": tl})
		if got["spatialLayer"] != float64(sl) || got["temporalLayer"] != float64(tl) {
			t.Fatalf("preferredLayers %v", got)
		}
	}

	// Spatial layer 0, temporal layer 0: SID0 of the TL0 pictures, marker
	// at the end of SID0.
	sendPictures(0, 14, map[int]bool{0: true})
	receive("S0T0", want(0, 14, 0, 0))
	// Temporal layer 2: not at picture 15 (a TL2 frame that references
	// the dropped TL1 picture 14: no U in non-flexible mode, a reference
	// not forwarded in flexible mode), back at picture 17 (TL2 with U,
	// referencing TL0), everything after.
	setLayers(0, 2)
	sendPictures(15, 23, nil)
	receive("S0T2", append(want(15, 16, 0, 0), want(17, 23, 0, 2)...))
	// Spatial layer 2: only from the next key picture (32) on, which the
	// consumer asks the producer for (a PLI to the sender).
	rbuf := make([]byte, 1500)
	for {
		_ = send.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := send.ReadFromUDP(rbuf); err != nil {
			break
		}
	}
	setLayers(2, 2)
	gotPli := false
	for deadline := time.Now().Add(2 * time.Second); !gotPli; {
		_ = send.SetReadDeadline(deadline)
		n, _, err := send.ReadFromUDP(rbuf)
		if err != nil {
			t.Fatal("no PLI after preferring a higher spatial layer")
		}
		pkts, err := rtcp.Unmarshal(rbuf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			if pli, ok := pkt.(*rtcp.PictureLossIndication); ok && pli.MediaSSRC == 3000 {
				gotPli = true
			}
		}
	}
	sendPictures(24, 31, nil)
	sendPictures(32, 35, map[int]bool{32: true})
	receive("S2T2", append(want(24, 31, 0, 2), want(32, 35, 2, 2)...))
	// Down to spatial layer 1, temporal layer 0: at the next picture.
	setLayers(1, 0)
	sendPictures(36, 43, nil)
	receive("S1T0", want(36, 43, 1, 0))
	// Temporal layer 1 only: up at picture 46 (TL1 with U); TL2 stays out.
	setLayers(1, 1)
	sendPictures(44, 51, nil)
	receive("S1T1", append(want(44, 45, 1, 0), want(46, 51, 1, 1)...))

	var layers []string
	for _, e := range layersEvents(rec, "c1") {
		layers = append(layers, fmt.Sprintf("%d:%d", e["spatialLayer"], e["temporalLayer"]))
	}
	if fmt.Sprint(layers) != "[0:0 0:2 2:2 1:0 1:1]" {
		t.Fatalf("layerschange %v", layers)
	}
}
