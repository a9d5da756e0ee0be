package engine

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/streamallocator"
)

// A simulcast ladder as simulcastConsumer.bweSteps builds it: the lowest
// stream from its base temporal layer, the higher ones from their second.
var testLadder = []streamallocator.Step{
	{Spatial: 0, Temporal: 0, Bitrate: 60_000},
	{Spatial: 0, Temporal: 1, Bitrate: 100_000},
	{Spatial: 0, Temporal: 2, Bitrate: 150_000},
	{Spatial: 1, Temporal: 1, Bitrate: 330_000},
	{Spatial: 1, Temporal: 2, Bitrate: 500_000},
	{Spatial: 2, Temporal: 1, Bitrate: 900_000},
	{Spatial: 2, Temporal: 2, Bitrate: 1_400_000},
}

func TestUpgradeLimit(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		cur, upTemporal, upSpatial int
		want                       int
	}{
		{"temporal steps within the layer", 0, 2, 0, 2},
		{"a spatial step needs the spatial headroom", 2, 4, 2, 2},
		{"a spatial step that has it", 2, 4, 3, 3},
		{"every step into a higher layer needs it", 2, 4, 4, 4},
		{"stops before the first step it lacks", 2, 6, 4, 4},
		{"paused: what fits with the temporal headroom", -1, 3, 0, 3},
		{"nothing above", 6, 6, 6, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := upgradeLimit(testLadder, tc.cur, tc.upTemporal, tc.upSpatial); got != tc.want {
				t.Fatalf("upgradeLimit(cur %d, temporal %d, spatial %d) = %d, want %d", tc.cur, tc.upTemporal, tc.upSpatial, got, tc.want)
			}
		})
	}
}

func TestAllocatedStep(t *testing.T) {
	c := &Consumer{}
	for _, tc := range []struct {
		name              string
		spatial, temporal int32
		want              int
	}{
		{"unconstrained: the top", -2, -2, 6},
		{"paused", -1, -1, -1},
		{"exact", 1, 2, 4},
		{"a layer not on the ladder: the highest below it", 2, 0, 4},
		{"below every step", 0, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.allocSpatial.Store(tc.spatial)
			c.allocTemporal.Store(tc.temporal)
			if got := c.allocatedStep(testLadder); got != tc.want {
				t.Fatalf("allocatedStep = %d, want %d", got, tc.want)
			}
		})
	}
}

// Probation packets parse as RTP with the consumer's extension ids: the
// probator with mid "probator" and zeros, RTX padding without mid, its
// padding length in the last byte; the transport-wide sequence number is
// written in place.
func TestProbationPackets(t *testing.T) {
	const midID, absID, twccID = 1, 4, 5
	g := newProbationGenerator(midID, absID, twccID)
	var h rtp.Header

	b := g.probator(1000, 0x123456)
	g.setTwcc(b, 0xBEEF)
	n, err := h.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1000 || h.SSRC != probationSsrc || h.PayloadType != probationPayloadType || h.Padding {
		t.Fatalf("probator: %d bytes, %+v", len(b), h)
	}
	if string(h.GetExtension(midID)) != probationMid {
		t.Fatalf("probator mid %q", h.GetExtension(midID))
	}
	if v := h.GetExtension(twccID); len(v) != 2 || v[0] != 0xBE || v[1] != 0xEF {
		t.Fatalf("transport-wide seq % x", v)
	}
	if v := h.GetExtension(absID); len(v) != 3 || v[0] != 0x12 || v[2] != 0x56 {
		t.Fatalf("abs-send-time % x", v)
	}
	for _, x := range b[n:] {
		if x != 0 {
			t.Fatal("probator payload not zeros")
		}
	}
	seq := h.SequenceNumber
	b = g.probator(1000, 0)
	if _, _ = h.Unmarshal(b); h.SequenceNumber != seq+1 {
		t.Fatalf("probator sequence %d after %d", h.SequenceNumber, seq)
	}

	pad := newProbationGenerator(0, absID, twccID)
	b = pad.rtxPadding(1200, 777, 97, 42, 9000, 0)
	pad.setTwcc(b, 7)
	n, err = h.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.SSRC != 777 || h.PayloadType != 97 || h.SequenceNumber != 42 || h.Timestamp != 9000 || !h.Padding {
		t.Fatalf("RTX padding header %+v", h)
	}
	if h.GetExtension(midID) != nil {
		t.Fatal("RTX padding carries a mid")
	}
	if p := int(b[len(b)-1]); p != maxPadding || n+p != len(b) {
		t.Fatalf("padding length %d, header %d, packet %d", p, n, len(b))
	}
	// As the engine's own parser sees it: nothing but padding.
	var back rtp.Header
	if hl, ok := unmarshalRtp(b, &back); !ok || hl+int(b[len(b)-1]) != len(b) {
		t.Fatal("unmarshalRtp rejects the RTX padding packet")
	}
}

// TestAllocationByPriority: two simulcast consumers on one transport share
// its estimate by priority (the higher one climbs first once both have
// their lowest layer), and when not even the lowest layer fits they pause
// (layerschange without layers). The producer's streams are measured at
// about 100 / 300 / 800 kbit/s; time is the worker's fake clock.
func TestAllocationByPriority(t *testing.T) {
	w, rec, _ := newFakeWorker(t, `{"logLevel":"warn","rtcMinPort":30000,"rtcMaxPort":39999}`)
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "in"})
	ssrcs := []uint32{1000, 2000, 3000}
	var encodings []any
	for _, s := range ssrcs {
		encodings = append(encodings, map[string]any{"ssrc": s})
	}
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": encodings,
		},
	})
	plainTransportTo(t, w, "r", "out")
	for _, id := range []string{"low", "high"} {
		mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": id, "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	}
	mustRequest(t, w, "consumer.setPriority", "high", map[string]any{"priority": 3})

	// One second of media (the rates look back a second; the fake clock
	// stands still): 200-byte payloads, 60 / 180 / 480 packets.
	for i, n := range []int{60, 180, 480} {
		for k := 0; k < n; k++ {
			if _, err := w.Request("producer.send", "p", vp8Packet(uint16(k), uint32(k)*3000, ssrcs[i], k == 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.mu.Lock()
	tr := w.handlers["out"].(*Transport)
	low, high := w.handlers["low"].(*Consumer), w.handlers["high"].(*Consumer)
	w.mu.Unlock()
	cc := tr.cc.Load()
	if cc == nil {
		t.Fatal("no congestion control: the consumers negotiated transport-cc")
	}
	// As after the receiver's first feedback, with an estimate of 1.3 Mbit/s
	// (setMinOutgoingBitrate lifts the initial 600 kbit/s).
	cc.feedbackSeen.Store(true)
	mustRequest(t, w, "transport.setMinOutgoingBitrate", "out", map[string]any{"bitrate": 1300000})
	cc.allocate(cc.nowUs())
	// Both get the low stream (about 2 × 130 kbit/s with headers), then
	// the high-priority consumer climbs to the top stream before the other
	// gets the middle one.
	if s := int(high.allocSpatial.Load()); s != 2 {
		t.Errorf("priority 3 consumer: spatial layer %d, want 2", s)
	}
	if s := int(low.allocSpatial.Load()); s != 1 {
		t.Errorf("priority 1 consumer: spatial layer %d, want 1", s)
	}

	// Not even the lowest layer fits: both pause and say so.
	mustRequest(t, w, "transport.setMinOutgoingBitrate", "out", map[string]any{"bitrate": 0})
	mustRequest(t, w, "transport.setMaxOutgoingBitrate", "out", map[string]any{"bitrate": 30000})
	cc.allocate(cc.nowUs())
	for _, c := range []*Consumer{low, high} {
		if !c.bwePaused.Load() || c.allocSpatial.Load() != -1 {
			t.Errorf("consumer %s not paused (spatial %d)", c.id, c.allocSpatial.Load())
		}
		evs := rec.all(c.id, "layerschange")
		if len(evs) == 0 || evs[len(evs)-1].data != nil {
			t.Errorf("consumer %s: no layerschange without layers (%d events)", c.id, len(evs))
		}
	}
}

// plainTransportTo creates PlainTransport id on router routerID, connected
// to a loopback socket the test reads (closed with the test).
func plainTransportTo(t *testing.T, w *Worker, routerID, id string) *net.UDPConn {
	t.Helper()
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	mustRequest(t, w, "router.createPlainTransport", routerID, map[string]any{
		"transportId": id, "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"},
	})
	mustRequest(t, w, "transport.connect", id, map[string]any{"ip": "127.0.0.1", "port": sink.LocalAddr().(*net.UDPAddr).Port})
	return sink
}

// TestRefusedRetransmissionsAskForKeyFrame: when the congested link's
// retransmission budget has refused a receiver's NACKs for 300 ms, the
// consumer asks its producer for a key frame (the receiver cannot decode
// past the missing packets), at most once a second. A NACK served in
// between does not end the wait (a small budget serves some packets while
// the receiver waits on others); a second without refusals does.
func TestRefusedRetransmissionsAskForKeyFrame(t *testing.T) {
	w, rec, fc := newFakeWorker(t, `{"logLevel":"warn","rtcMinPort":30000,"rtcMaxPort":39999}`)
	router := mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "in"})
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	sink := plainTransportTo(t, w, "r", "out")
	mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	w.mu.Lock()
	tr := w.handlers["out"].(*Transport)
	c := w.handlers["c"].(*Consumer)
	w.mu.Unlock()
	cc := tr.cc.Load()
	if cc == nil {
		t.Fatal("no congestion control: the consumer negotiated transport-cc")
	}
	fc.Advance(time.Second) // the worker clock's zero is not a time
	for seq := uint16(1); seq <= 3; seq++ {
		if _, err := w.Request("producer.send", "p", vp8Packet(seq, uint32(seq)*3000, 1111, seq == 1)); err != nil {
			t.Fatal(err)
		}
	}
	var sent rtp.Header
	buf := make([]byte, 1500)
	sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < 3; i++ {
		n, err := sink.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sent.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	// Feedback seen; the budget is spent (or full) as each NACK comes.
	cc.feedbackSeen.Store(true)
	_, base := rtcpCounts(rec, "in")
	answered, seq := 0, uint16(3)
	send := func(key bool) {
		t.Helper()
		seq++
		if _, err := w.Request("producer.send", "p", vp8Packet(seq, uint32(seq)*3000, 1111, key)); err != nil {
			t.Fatal(err)
		}
	}
	step := func(after time.Duration, budget float64, wantPlis int) {
		t.Helper()
		fc.Advance(after)
		// A fresh packet, lost: the one the receiver NACKs (the consumer
		// keeps the producer's sequence numbers, offset by a constant).
		send(false)
		nack := &rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: sent.SSRC,
			Nacks: []rtcp.NackPair{{PacketID: sent.SequenceNumber + seq - 3}}}
		cc.rtxMu.Lock()
		cc.rtxBudget, cc.rtxLastUs = budget, cc.nowUs()
		cc.rtxMu.Unlock()
		c.receiveNack(nack, w.nowMs())
		if _, plis := rtcpCounts(rec, "in"); plis != base+wantPlis {
			t.Fatalf("%d PLIs, want %d", plis-base, wantPlis)
		}
		// The producer answers each PLI with a key frame (else it would
		// ask again a second later).
		for ; answered < wantPlis; answered++ {
			send(true)
		}
	}
	const spent, full = 0, 3000
	denied := cc.rtxDenied.Load()
	step(0, spent, 0)                    // t=0: refused, the wait starts
	step(150*time.Millisecond, spent, 0) // refused for 150 ms
	if got := cc.rtxDenied.Load() - denied; got != 2 {
		t.Fatalf("%d retransmissions refused, want 2", got)
	}
	step(50*time.Millisecond, full, 0)    // 200 ms: served, the wait goes on
	step(100*time.Millisecond, spent, 1)  // 300 ms: a key frame
	step(1700*time.Millisecond, spent, 1) // 2 s: a new wait starts
	step(200*time.Millisecond, spent, 1)  // 200 ms into it
	step(150*time.Millisecond, spent, 2)  // 350 ms, over a second since the last: a key frame
	step(100*time.Millisecond, spent, 2)  // refused: a wait starts
	step(1100*time.Millisecond, spent, 2) // 1.1 s without refusals: a new wait
	step(200*time.Millisecond, spent, 2)  // 200 ms into it: nothing yet
	step(100*time.Millisecond, spent, 3)  // 300 ms
}
