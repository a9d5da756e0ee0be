package engine

// Send-side bandwidth estimation end to end with a pion subscriber (issue
// 10): a three-stream VP8 simulcast producer on a PlainTransport, consumed
// on WebRtcTransports whose pion peers sit behind shaped links
// (shapedlink_test.go). pion's default interceptors answer the SFU's
// transport-wide sequence numbers with transport-cc feedback; the SFU must
// turn that into an estimate (getStats availableOutgoingBitrate) and fit
// the consumer's layers in it.

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// simulcastFeedFps is the frame rate of every synthetic stream.
const simulcastFeedFps = 30

// feedStream is one synthetic VP8 L1T3 encoding.
type feedStream struct {
	ssrc      uint32
	bps       int
	seq       uint16
	tsBase    uint32
	pic       uint16
	tl0       uint8
	pos       int // frames since the last key frame
	keyWanted atomic.Bool
	plis      atomic.Int64 // key frame requests received
}

// simulcastFeed sends synthetic VP8 simulcast to a comedia PlainTransport:
// ~30 fps per stream, frame sizes that average the stream's bitrate
// (TL0 frames larger than TL2 ones), a key frame every two seconds and
// whenever the SFU asks for one (PLI/FIR), and a Sender Report per stream
// every second so that stream switches keep timestamps in step.
type simulcastFeed struct {
	conn      *net.UDPConn
	dst       *net.UDPAddr
	streams   []*feedStream
	keyFrames atomic.Int64
	plis      atomic.Int64
	stop      chan struct{}
	done      chan struct{}
}

func newSimulcastFeed(t *testing.T, dst *net.UDPAddr, ssrcs []uint32, bitrates []int) *simulcastFeed {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f := &simulcastFeed{conn: conn, dst: dst, stop: make(chan struct{}), done: make(chan struct{})}
	for i, s := range ssrcs {
		f.streams = append(f.streams, &feedStream{ssrc: s, bps: bitrates[i], seq: uint16(1000 * (i + 1)), tsBase: uint32(100000 * (i + 1))})
	}
	go f.readRtcp()
	go f.run()
	t.Cleanup(func() {
		close(f.stop)
		<-f.done
		_ = conn.Close()
	})
	return f
}

// readRtcp turns the SFU's key frame requests into key frames.
func (f *simulcastFeed) readRtcp() {
	buf := make([]byte, 2048)
	for {
		n, _, err := f.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			var ssrcs []uint32
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				ssrcs = append(ssrcs, p.MediaSSRC)
			case *rtcp.FullIntraRequest:
				for _, e := range p.FIR {
					ssrcs = append(ssrcs, e.SSRC)
				}
			}
			for _, ssrc := range ssrcs {
				for _, s := range f.streams {
					if s.ssrc == ssrc {
						f.plis.Add(1)
						s.plis.Add(1)
						s.keyWanted.Store(true)
					}
				}
			}
		}
	}
}

func (f *simulcastFeed) run() {
	defer close(f.done)
	tick := time.NewTicker(time.Second / simulcastFeedFps)
	defer tick.Stop()
	start := time.Now()
	for frame := 0; ; frame++ {
		for _, s := range f.streams {
			for _, b := range f.frame(s, frame) {
				_, _ = f.conn.WriteToUDP(b, f.dst)
			}
			if frame%simulcastFeedFps == 0 {
				ntp := start.Add(time.Duration(frame) * time.Second / simulcastFeedFps)
				sr := &rtcp.SenderReport{SSRC: s.ssrc, NTPTime: ntpTime(ntp), RTPTime: s.tsBase + uint32(frame)*90000/simulcastFeedFps}
				if b, err := sr.Marshal(); err == nil {
					_, _ = f.conn.WriteToUDP(b, f.dst)
				}
			}
		}
		select {
		case <-f.stop:
			return
		case <-tick.C:
		}
	}
}

// requests lists the key frame requests received per stream.
func (f *simulcastFeed) requests() string {
	var out []string
	for i, s := range f.streams {
		out = append(out, fmt.Sprintf("%d:%d", i, s.plis.Load()))
	}
	return strings.Join(out, " ")
}

// ntpTime is t as a 64 bit NTP timestamp.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// frame builds the RTP packets of stream s's next frame (number frame).
func (f *simulcastFeed) frame(s *feedStream, frame int) [][]byte {
	key := frame == 0 || s.pos >= 2*simulcastFeedFps || s.keyWanted.Swap(false)
	if key {
		s.pos = 0
		f.keyFrames.Add(1)
	}
	tid, sync := l1t3Frame(s.pos)
	s.pos++
	if tid == 0 {
		s.tl0++
	}
	s.pic = (s.pic + 1) & 0x7FFF
	avg := s.bps / 8 / simulcastFeedFps
	size := [3]int{avg * 3 / 2, avg, avg * 3 / 4}[tid]
	if key {
		size = 4 * avg
	}
	data := vp8Frame(key, frame, max(size, 16))
	const maxPayload = 1100
	var out [][]byte
	for off := 0; off < len(data); off += maxPayload {
		chunk := data[off:min(off+maxPayload, len(data))]
		desc := []byte{0x80, 0xE0, 0x80 | byte(s.pic>>8), byte(s.pic), s.tl0, tid << 6}
		if off == 0 {
			desc[0] |= 0x10 // start of partition 0
		}
		if sync {
			desc[5] |= 0x20
		}
		p := rtp.Packet{Header: rtp.Header{
			Version: 2, PayloadType: 101, SequenceNumber: s.seq, SSRC: s.ssrc,
			Timestamp: s.tsBase + uint32(frame)*90000/simulcastFeedFps,
			Marker:    off+maxPayload >= len(data),
		}, Payload: append(desc, chunk...)}
		s.seq++
		if b, err := p.Marshal(); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// shapedSub is a pion subscriber behind a shaped link.
type shapedSub struct {
	name        string
	transportID string
	consumerID  string
	link        *shapedLink
	pc          *webrtc.PeerConnection
	rxPkts      atomic.Int64
	rxBytes     atomic.Int64
	// for the timeline's rate column
	lastRxBytes int64
	lastRxAt    time.Time
}

// newShapedSub creates a WebRtcTransport, a shaped link in front of it at
// capacity bps (0: none), a simulcast consumer of producerID with
// transport-cc, and the pion peer receiving it through the link.
func newShapedSub(t *testing.T, w *Worker, routerID string, caps json.RawMessage, producerID, name string, capacity int64) *shapedSub {
	t.Helper()
	transportID, info := createPionTransport(t, w, routerID, pionCase{}, "")
	sfu := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: info.IceCandidates[0].Port}
	link := newShapedLink(t, sfu, 500*time.Millisecond)
	link.setCapacity(capacity)
	s := &shapedSub{name: name, transportID: transportID, consumerID: "c-" + name, link: link, lastRxAt: time.Now()}

	var cons struct {
		Type          string         `json:"type"`
		RtpParameters consumerParams `json:"rtpParameters"`
	}
	pionRequestInto(t, w, "transport.consume", transportID, map[string]any{
		"consumerId": s.consumerID, "producerId": producerID, "rtpCapabilities": caps, "paused": false,
	}, &cons)
	cp := cons.RtpParameters
	if cons.Type != "simulcast" || len(cp.Encodings) != 1 || len(cp.Codecs) == 0 {
		t.Fatalf("unexpected consumer %+v", cons)
	}
	twccExt, twccFb := false, false
	for _, e := range cp.HeaderExtensions {
		twccExt = twccExt || e.URI == "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	}
	for _, fb := range cp.Codecs[0].RtcpFeedback {
		twccFb = twccFb || fb.Type == "transport-cc"
	}
	if !twccExt || !twccFb {
		t.Fatalf("consumer without transport-cc (extension %v, feedback %v): %+v", twccExt, twccFb, cp)
	}

	// pion answers as DTLS client (a=setup:active), as browsers do.
	api := newPionAPI(t, pionCase{}, false)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	s.pc = pc
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		go func() {
			for {
				if _, _, err := recv.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		buf := make([]byte, 1500)
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			s.rxPkts.Add(1)
			s.rxBytes.Add(int64(n))
		}
	})

	// The peer is told the SFU is at the relay.
	relayed := *info
	relayed.IceCandidates = append([]IceCandidate(nil), info.IceCandidates...)
	for i := range relayed.IceCandidates {
		relayed.IceCandidates[i].Port = link.port()
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: consumerOfferSdp(t, &relayed, cp, s.consumerID, false)}); err != nil {
		t.Fatalf("SetRemoteDescription(offer): %v", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	local := pc.LocalDescription().SDP
	if !strings.Contains(local, "transport-wide-cc") || !strings.Contains(local, "transport-cc") {
		t.Fatalf("pion's answer does not take transport-cc:\n%s", local)
	}
	fp, setup := localDtls(t, pc.LocalDescription())
	pionRequest(t, w, "transport.connect", transportID, map[string]any{
		"dtlsParameters": map[string]any{"role": dtlsRoleFromSetup(setup), "fingerprints": []any{map[string]any{"algorithm": "sha-256", "value": fp}}},
	})
	waitDtlsConnected(t, w, transportID, pc)
	return s
}

// lastLayers is the consumer's last layerschange (-1, -1 before any, or
// after one reporting no layers).
func lastLayers(rec *pionEvents, consumerID string) (spatial, temporal int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	spatial, temporal = -1, -1
	for _, e := range rec.events {
		if e.target != consumerID || e.name != "layerschange" {
			continue
		}
		var m *struct {
			Spatial  int `json:"spatialLayer"`
			Temporal int `json:"temporalLayer"`
		}
		if json.Unmarshal(e.data, &m) != nil || m == nil {
			spatial, temporal = -1, -1
			continue
		}
		spatial, temporal = m.Spatial, m.Temporal
	}
	return spatial, temporal
}

// bweTimeline polls conditions and, every 500 ms while it does, logs one
// row per subscriber: link capacity, the transport's estimate, the layers
// forwarded, the relay's counters and the subscriber's receive rate.
type bweTimeline struct {
	t       *testing.T
	w       *Worker
	rec     *pionEvents
	start   time.Time
	nextLog time.Time
	subs    []*shapedSub
}

func newBweTimeline(t *testing.T, w *Worker, rec *pionEvents, subs ...*shapedSub) *bweTimeline {
	now := time.Now()
	return &bweTimeline{t: t, w: w, rec: rec, start: now, nextLog: now, subs: subs}
}

func kbps(v float64) string {
	if v <= 0 {
		return "-"
	}
	return strconv.Itoa(int(v/1000+0.5)) + "k"
}

func (tl *bweTimeline) logRow(note string) {
	tl.t.Helper()
	now := time.Now()
	for _, s := range tl.subs {
		st := transportStats(tl.t, tl.w, s.transportID)
		avail, _ := st["availableOutgoingBitrate"].(float64)
		sendRate, _ := st["sendBitrate"].(float64)
		sp, tp := lastLayers(tl.rec, s.consumerID)
		ls := s.link.stats()
		rx := s.rxBytes.Load()
		rate := float64(rx-s.lastRxBytes) * 8 / now.Sub(s.lastRxAt).Seconds()
		if note == "" {
			// Periodic rows restart the rate's window; a row for an
			// event in between reports the window so far.
			s.lastRxBytes, s.lastRxAt = rx, now
		}
		tl.t.Logf("%6.2fs %-4s cap=%-5s avail=%-6s send=%-6s layers=%d/%d relay in=%d drop=%d out=%d rx=%-6s %s",
			now.Sub(tl.start).Seconds(), s.name, kbps(float64(s.link.capacity())), kbps(avail), kbps(sendRate),
			sp, tp, ls.InPackets, ls.DroppedPackets, ls.OutPackets, kbps(rate), note)
	}
}

// until polls cond every 20 ms for at most timeout, logging the timeline,
// and reports whether cond held.
func (tl *bweTimeline) until(what string, timeout time.Duration, cond func() bool) bool {
	tl.t.Helper()
	deadline := time.Now().Add(timeout)
	begin := time.Now()
	for {
		if time.Now().After(tl.nextLog) {
			tl.logRow("")
			tl.nextLog = tl.nextLog.Add(500 * time.Millisecond)
			if tl.nextLog.Before(time.Now()) {
				tl.nextLog = time.Now().Add(500 * time.Millisecond)
			}
		}
		if cond() {
			tl.logRow(fmt.Sprintf("<- %s after %.2fs", what, time.Since(begin).Seconds()))
			return true
		}
		if time.Now().After(deadline) {
			tl.logRow(fmt.Sprintf("<- no %s within %v", what, timeout))
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setupSimulcastFeed creates the router, a comedia PlainTransport and a
// three-stream VP8 L1T3 simulcast producer fed with ~150/500/1200 kbit/s.
func setupSimulcastFeed(t *testing.T, w *Worker) (routerID string, caps json.RawMessage, producerID string, feed *simulcastFeed) {
	t.Helper()
	routerID, caps = setupPionRouter(t, w)
	var plain struct {
		Tuple struct {
			LocalPort int `json:"localPort"`
		} `json:"tuple"`
	}
	pionRequestInto(t, w, "router.createPlainTransport", routerID, map[string]any{
		"transportId": "feed", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true,
	}, &plain)
	ssrcs := []uint32{11110, 22220, 33330}
	var encodings []any
	for _, s := range ssrcs {
		encodings = append(encodings, map[string]any{"ssrc": s, "scalabilityMode": "L1T3"})
	}
	producerID = "p-simulcast"
	pionRequest(t, w, "transport.produce", "feed", map[string]any{
		"producerId": producerID, "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"},
					map[string]any{"type": "ccm", "parameter": "fir"}}}},
			"encodings": encodings,
			"rtcp":      map[string]any{"cname": "feedcname"},
		},
	})
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: plain.Tuple.LocalPort}
	feed = newSimulcastFeed(t, dst, ssrcs, []int{150_000, 500_000, 1_200_000})
	return routerID, caps, producerID, feed
}

// TestBweShapedPionSubscriber: a simulcast consumer whose pion subscriber
// sits behind a bottleneck steps down to a layer the link carries (from
// the transport-cc feedback alone), keeps the subscriber fed with little
// loss, and returns to the top layer when the bottleneck is lifted; two
// subscribers behind different bottlenecks get different layers.
func TestBweShapedPionSubscriber(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time congestion test (about 20 s)")
	}
	t.Run("cap-and-lift", func(t *testing.T) {
		w, rec := newPionWorker(t)
		routerID, caps, producerID, feed := setupSimulcastFeed(t, w)
		sub := newShapedSub(t, w, routerID, caps, producerID, "sub", 0)
		tl := newBweTimeline(t, w, rec, sub)
		spatial := func() int { s, _ := lastLayers(rec, sub.consumerID); return s }
		// The top layer is the top stream with all its temporal layers
		// (~1.2 Mbit/s), on an estimate that has climbed past it: only
		// then does an 800 kbit/s cap bind.
		top := func() bool {
			s, tp := lastLayers(rec, sub.consumerID)
			avail, _ := transportStats(t, w, sub.transportID)["availableOutgoingBitrate"].(float64)
			return s == 2 && tp == 2 && avail >= 1_300_000
		}

		// Unshaped: the top layer.
		if !tl.until("top layer 2/2 (unshaped)", 10*time.Second, top) {
			if spatial() < 0 {
				t.Fatalf("nothing forwarded unshaped (%d key frames, key frame requests per stream %s)", feed.keyFrames.Load(), feed.requests())
			}
			t.Errorf("the top layer (2/2) was not reached within 10 s unshaped; the cap below may not bind")
		}
		t.Logf("feed: %d key frames sent, key frame requests per stream %s", feed.keyFrames.Load(), feed.requests())
		// Let the estimate settle on the top layer before the cap.
		atTop := sub.rxPkts.Load()
		tl.until("a second of top layer", 5*time.Second, func() bool { return sub.rxPkts.Load() >= atTop+150 })

		// 800 kbit/s: the top stream (~1.2 Mbit/s) does not fit; the middle
		// one (~500 kbit/s) does.
		sub.link.setCapacity(800_000)
		capped := sub.rxPkts.Load()
		stepped := tl.until("step down (cap 800k)", 5*time.Second, func() bool { return spatial() < 2 })
		if !stepped {
			t.Errorf("consumer did not step down below spatial layer 2 within 5 s of an 800 kbit/s cap")
		}
		if !tl.until("media during the cap", 5*time.Second, func() bool { return sub.rxPkts.Load() >= capped+60 }) {
			t.Errorf("subscriber received %d packets during the cap", sub.rxPkts.Load()-capped)
		}
		// Loss at the relay over the next ~2 s of media.
		before := sub.link.stats()
		tl.until("120 packets through the cap", 10*time.Second, func() bool { return sub.link.stats().InPackets >= before.InPackets+120 })
		after := sub.link.stats()
		in, dropped := after.InPackets-before.InPackets, after.DroppedPackets-before.DroppedPackets
		loss := float64(dropped) / float64(max(in, 1))
		t.Logf("relay loss under the cap (after the step-down, or after waiting for it): %d of %d packets (%.1f%%)", dropped, in, 100*loss)
		if stepped && loss > 0.05 {
			t.Errorf("relay loss %.1f%% after the step-down, want at most 5%%", 100*loss)
		}

		// Lifted: back to the top layer.
		sub.link.setCapacity(0)
		if !tl.until("top layer 2/2 again (cap lifted)", 10*time.Second, top) {
			t.Errorf("top layer (2/2) did not return within 10 s of lifting the cap")
		}
		st := sub.link.stats()
		t.Logf("feed: %d key frames sent, key frame requests per stream %s; relay %+v", feed.keyFrames.Load(), feed.requests(), st)
	})

	t.Run("two-caps", func(t *testing.T) {
		w, rec := newPionWorker(t)
		routerID, caps, producerID, _ := setupSimulcastFeed(t, w)
		low := newShapedSub(t, w, routerID, caps, producerID, "300k", 300_000)
		high := newShapedSub(t, w, routerID, caps, producerID, "free", 0)
		tl := newBweTimeline(t, w, rec, low, high)
		// 300 kbit/s carries the low stream or the middle one's base
		// temporal layer, never the top stream.
		if !tl.until("layers settle (300k below 2, free 2)", 15*time.Second, func() bool {
			l, _ := lastLayers(rec, low.consumerID)
			h, _ := lastLayers(rec, high.consumerID)
			return l >= 0 && l < 2 && h == 2
		}) {
			l, _ := lastLayers(rec, low.consumerID)
			h, _ := lastLayers(rec, high.consumerID)
			t.Errorf("spatial layers: 300 kbit/s subscriber %d (want 0 or 1), unlimited subscriber %d (want 2)", l, h)
		}
		if low.rxPkts.Load() == 0 {
			t.Errorf("the 300 kbit/s subscriber received nothing")
		}
	})
}
