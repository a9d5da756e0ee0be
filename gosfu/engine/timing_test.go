package engine

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/clock"
)

// rtcpCounts counts, per packet type, the RTCP a transport sent (DirectTransport
// "rtcp" events).
func rtcpCounts(rec *recorder, transportID string) (nacks, plis int) {
	for _, e := range rec.all(transportID, "rtcp") {
		pkts, err := rtcp.Unmarshal(e.data)
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.TransportLayerNack:
				nacks++
			case *rtcp.PictureLossIndication:
				plis++
			}
		}
	}
	return nacks, plis
}

// newTimingWorker is a Fake-clock worker with a VP8 producer "p" (NACK and
// PLI negotiated, keyFrameRequestDelay delayMs) on DirectTransport "in",
// consumed by "c" on "out", with the transports' timers running.
func newTimingWorker(t *testing.T, delayMs int) (*Worker, *recorder, *timingClock) {
	t.Helper()
	w, rec, fc := newFakeWorker(t, `{"logLevel":"warn"}`)
	router := newDirectRoom(t, w)
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video", "keyFrameRequestDelay": delayMs,
		"rtpParameters": map[string]any{
			"codecs": []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
				"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	waitTimers(t, fc, 3) // each transport's rtcp timer, the nack timer of the producer's
	return w, rec, &timingClock{fc: fc}
}

// timingClock advances a Fake clock and tells the time since the start.
type timingClock struct {
	fc      *clock.Fake
	elapsed time.Duration
}

func (c *timingClock) advanceTo(at time.Duration) {
	c.fc.Advance(at - c.elapsed)
	c.elapsed = at
}

// TestNackTiming: a gap is NACKed at once, then again every RTT (100 ms by
// default, checked on the 40 ms NACK timer) until NackMaxRetries.
func TestNackTiming(t *testing.T) {
	w, rec, clk := newTimingWorker(t, 0)
	for _, seq := range []uint16{1, 2, 4} { // 3 is lost
		if _, err := w.Request("producer.send", "p", vp8Packet(seq, uint32(seq)*3000, 1111, seq == 1)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		at    time.Duration
		nacks int
	}{
		{0, 1},                        // at the gap
		{119 * time.Millisecond, 1},   // ticks at 40 and 80 ms: too early
		{120 * time.Millisecond, 2},   // first tick 100 ms after
		{239 * time.Millisecond, 2},   // 160 and 200 ms: too early
		{240 * time.Millisecond, 3},   // and so on, every third tick
		{1080 * time.Millisecond, 10}, // the 10th and last
		{5 * time.Second, 10},
	}
	for _, st := range steps {
		clk.advanceTo(st.at)
		if nacks, _ := rtcpCounts(rec, "in"); nacks != st.nacks {
			t.Fatalf("at %v: %d NACKs, want %d", st.at, nacks, st.nacks)
		}
	}
}

// TestKeyFrameRequestDelay: with keyFrameRequestDelay, a request during
// the delay is held back and sent when the delay ends (on the 40 ms timer);
// without a delay every request is forwarded while none is pending.
func TestKeyFrameRequestDelay(t *testing.T) {
	ms := time.Millisecond
	type step struct {
		at      time.Duration
		key     bool // the producer receives a key frame at this time
		request bool // consumer.requestKeyFrame at this time
		plis    int  // PLIs sent by then
	}
	tests := []struct {
		name    string
		delayMs int
		steps   []step
	}{
		{"a request during the delay is sent when it ends", 500, []step{
			{0, false, true, 1},
			{5 * ms, true, false, 1},  // answered
			{10 * ms, false, true, 1}, // held back until the delay ends
			{499 * ms, false, false, 1},
			{519 * ms, false, false, 1}, // the delay ended at 500, the timer ticks at 520
			{520 * ms, false, false, 2},
			{1519 * ms, false, false, 2},
			{1520 * ms, false, false, 3}, // unanswered: retried once
			{5000 * ms, false, false, 3},
		}},
		{"a held request is covered by a pending one", 500, []step{
			{0, false, true, 1},
			{10 * ms, false, true, 1},
			{999 * ms, false, false, 1},
			{1000 * ms, false, false, 2}, // the pending one, retried once
			{5000 * ms, false, false, 2},
		}},
		{"no delay: a pending request is retried once after 1 s", 0, []step{
			{0, false, true, 1},
			{10 * ms, false, true, 1}, // pending: not sent again
			{999 * ms, false, false, 1},
			{1000 * ms, false, false, 2},
			{5000 * ms, false, false, 2},
		}},
		{"no delay: answered requests are all sent", 0, []step{
			{0, false, true, 1},
			{5 * ms, true, false, 1},
			{10 * ms, false, true, 2},
			{1039 * ms, false, false, 2}, // due at 1010, the timer ticks at 1040
			{1040 * ms, false, false, 3}, // unanswered: retried once
			{5000 * ms, false, false, 3},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, rec, clk := newTimingWorker(t, tc.delayMs)
			// A delta frame: the stream exists and no key frame arrived.
			if _, err := w.Request("producer.send", "p", vp8Packet(1, 3000, 1111, false)); err != nil {
				t.Fatal(err)
			}
			_, plis0 := rtcpCounts(rec, "in")
			for i, st := range tc.steps {
				clk.advanceTo(st.at)
				if st.key {
					if _, err := w.Request("producer.send", "p", vp8Packet(uint16(2+i), uint32(2+i)*3000, 1111, true)); err != nil {
						t.Fatal(err)
					}
				}
				if st.request {
					mustRequest(t, w, "consumer.requestKeyFrame", "c", nil)
				}
				if _, plis := rtcpCounts(rec, "in"); plis-plis0 != st.plis {
					t.Fatalf("at %v: %d PLIs, want %d", st.at, plis-plis0, st.plis)
				}
			}
		})
	}
}

// TestProducerInactivityScore: a stream that stops sending scores 0 once
// it has been silent for InactivityTimeoutMs (1.5 s), seen by the 1 s RTCP
// timer.
func TestProducerInactivityScore(t *testing.T) {
	w, rec, clk := newTimingWorker(t, 0)
	lastScore := func() string {
		ev := rec.all("p", "score")
		if len(ev) == 0 {
			return ""
		}
		return string(ev[len(ev)-1].data)
	}
	for i := 0; i < 50; i++ {
		clk.advanceTo(time.Duration(i) * 20 * time.Millisecond)
		if _, err := w.Request("producer.send", "p", vp8Packet(uint16(i), uint32(i)*3000, 1111, i == 0)); err != nil {
			t.Fatal(err)
		}
	}
	// The last packet came at 980 ms: silent for 1.5 s at 2480 ms, which
	// the 3 s RTCP tick sees.
	steps := []struct {
		at    time.Duration
		score string
	}{
		{2 * time.Second, `[{"encodingIdx":0,"score":10,"ssrc":1111}]`},
		{2999 * time.Millisecond, `[{"encodingIdx":0,"score":10,"ssrc":1111}]`},
		{3 * time.Second, `[{"encodingIdx":0,"score":0,"ssrc":1111}]`},
	}
	for _, st := range steps {
		clk.advanceTo(st.at)
		if got := lastScore(); got != st.score {
			t.Fatalf("at %v: score %s, want %s", st.at, got, st.score)
		}
	}
}

// TestNackTooLateAsksForKeyFrame: a receiver that NACKs a packet too old
// to resend (it is stuck on it, typically a key frame a congested link
// lost) gets a fresh key frame: the consumer asks its producer (PLI), at
// most once a second; a NACK that is answered with a retransmission asks
// for nothing.
func TestNackTooLateAsksForKeyFrame(t *testing.T) {
	w, rec, clk := newTimingWorker(t, 0)
	send := func(seq uint16, at time.Duration, key bool) {
		t.Helper()
		clk.advanceTo(at)
		if _, err := w.Request("producer.send", "p", vp8Packet(seq, uint32(at/time.Millisecond)*90, 1111, key)); err != nil {
			t.Fatal(err)
		}
	}
	nackFor := func(i int) {
		t.Helper()
		out := rec.all("c", "rtp")
		var h rtp.Header
		if _, err := h.Unmarshal(out[i].data); err != nil {
			t.Fatal(err)
		}
		b, _ := (&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: h.SSRC, Nacks: []rtcp.NackPair{{PacketID: h.SequenceNumber}}}).Marshal()
		if _, err := w.Request("transport.sendRtcp", "out", b); err != nil {
			t.Fatal(err)
		}
	}
	send(1, 0, true)
	send(2, 1200*time.Millisecond, false)
	send(3, 1210*time.Millisecond, false)
	_, base := rtcpCounts(rec, "in")

	nackFor(2) // 10 ms old: resent, nothing asked
	if _, plis := rtcpCounts(rec, "in"); plis != base {
		t.Fatalf("%d PLIs after a NACK answered with RTX, want %d", plis, base)
	}
	nackFor(0) // 1.21 s old: too late
	if _, plis := rtcpCounts(rec, "in"); plis != base+1 {
		t.Fatalf("%d PLIs after a NACK too late, want %d", plis, base+1)
	}
	send(4, 1700*time.Millisecond, true) // the key frame asked for
	nackFor(0)                           // again, within a second: nothing more
	if _, plis := rtcpCounts(rec, "in"); plis != base+1 {
		t.Fatalf("%d PLIs after a second late NACK within 1 s, want %d", plis, base+1)
	}
}
