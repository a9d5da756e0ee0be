package bwe

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// simPacket is a packet on the simulated path.
type simPacket struct {
	seq       uint16
	arrivalUs int64
}

// linkSim is a bottleneck link with a FIFO tail-drop queue, fixed
// one-way delay and optional random loss, a simulcast sender on one side
// and a transport-cc receiver (pion's twcc.Recorder) on the other.
type linkSim struct {
	t   *testing.T
	rng *rand.Rand

	capacity  func(nowUs int64) float64 // bps
	loss      func(nowUs int64) float64
	owdUs     int64
	queueUs   int64 // queue bound, in time at the current capacity
	layers    []float64
	desired   uint64
	nowUs     int64
	departUs  int64 // when the link finishes sending what it holds
	seq       uint16
	inFlight  []simPacket
	feedbacks []struct {
		atUs int64
		raw  []byte
	}
	rec     *twcc.Recorder
	hist    *SendHistory
	bwe     *SendSide
	results []PacketResult

	mediaCredit float64
	probeLeft   int
	probeNextUs int64
	probeGapUs  int64
	probeID     int

	greedy       bool // send at the estimate (capped by desired) instead of a layer
	chaos        bool // duplicate every feedback, hold back every third by 70 ms
	fbCount      int
	probes       int
	layer        int
	layerChanges []int64 // times of layer changes
	// downDelayUs holds a step down for that long (an SFU waits for the
	// lower stream's key frame), downAtUs is when it was first wanted.
	downDelayUs int64
	downAtUs    int64
	timeline    []string
	maxEstimate uint64
}

func newLinkSim(t *testing.T, cfg SendSideConfig, seed int64) *linkSim {
	s := &linkSim{
		t:         t,
		rng:       rand.New(rand.NewSource(seed)),
		owdUs:     40000,
		queueUs:   500000,
		layers:    []float64{150000, 500000, 1200000},
		desired:   1500000,
		seq:       65000, // wraps within the first seconds
		rec:       twcc.NewRecorder(1),
		hist:      NewSendHistory(),
		bwe:       NewSendSide(cfg),
		loss:      func(int64) float64 { return 0 },
		layer:     -1,
		probeLeft: 0,
	}
	s.bwe.OnRtt(float64(2*s.owdUs)/1000, 0)
	return s
}

// send puts one packet on the link at nowUs.
func (s *linkSim) send(size, probe int) {
	seq := s.seq
	s.seq++
	s.hist.Record(seq, size, s.nowUs, probe)
	c := s.capacity(s.nowUs)
	if s.departUs < s.nowUs {
		s.departUs = s.nowUs
	}
	if s.departUs-s.nowUs > s.queueUs {
		return // tail drop
	}
	s.departUs += int64(float64(size) * 8e6 / c)
	if s.rng.Float64() < s.loss(s.nowUs) {
		return
	}
	s.inFlight = append(s.inFlight, simPacket{seq, s.departUs + s.owdUs})
}

func (s *linkSim) pickLayer() int {
	est := float64(s.bwe.Estimate())
	l := 0
	for i, r := range s.layers {
		if r <= est {
			l = i
		}
	}
	return l
}

// run advances the simulation to endUs in 1 ms steps.
func (s *linkSim) run(endUs int64) {
	const stepUs = 1000
	for ; s.nowUs < endUs; s.nowUs += stepUs {
		now := s.nowUs
		// Receiver: deliver arrivals, send feedback every 50 ms.
		n := 0
		for _, p := range s.inFlight {
			if p.arrivalUs <= now {
				s.rec.Record(1, p.seq, p.arrivalUs)
				continue
			}
			s.inFlight[n] = p
			n++
		}
		s.inFlight = s.inFlight[:n]
		if now%50000 == 0 {
			for _, pkt := range s.rec.BuildFeedbackPacket() {
				raw, err := pkt.Marshal()
				if err != nil {
					s.t.Fatalf("marshal feedback: %v", err)
				}
				at := now + s.owdUs
				s.fbCount++
				if s.chaos && s.fbCount%3 == 0 {
					at += 70000 // arrives after the next one
				}
				s.feedbacks = append(s.feedbacks, struct {
					atUs int64
					raw  []byte
				}{at, raw})
				if s.chaos {
					s.feedbacks = append(s.feedbacks, s.feedbacks[len(s.feedbacks)-1])
				}
			}
		}
		// Sender: take feedback that arrived.
		kept := s.feedbacks[:0]
		var due [][]byte
		for _, fb := range s.feedbacks {
			if fb.atUs <= now {
				due = append(due, fb.raw)
			} else {
				kept = append(kept, fb)
			}
		}
		s.feedbacks = kept
		for _, raw := range due {
			pkts, err := rtcp.Unmarshal(raw)
			if err != nil {
				s.t.Fatalf("unmarshal feedback: %v", err)
			}
			for _, p := range pkts {
				if fb, ok := p.(*rtcp.TransportLayerCC); ok {
					s.results = s.hist.Results(fb, s.results[:0])
					s.bwe.OnFeedback(s.results, now)
				}
			}
		}
		if now%100000 == 0 {
			s.bwe.Process(now)
		}
		s.bwe.SetDesired(s.desired, now)
		if now%5000 == 0 && s.probeLeft == 0 {
			if c, ok := s.bwe.NextProbe(now); ok {
				n := int(c.Bitrate) * int(c.DurationUs) / 8e6 / 1200
				if n < c.MinPackets {
					n = c.MinPackets
				}
				if b := (c.MinBytes + 1199) / 1200; n < b {
					n = b
				}
				s.probeLeft, s.probeID = n, c.ID
				s.probes++
				s.probeGapUs = int64(1200 * 8e6 / float64(c.Bitrate))
				s.probeNextUs = now
			}
		}
		// Probe padding at the cluster rate (sub-step spacing folded
		// into the step: several packets may go in one ms at high rates).
		for s.probeLeft > 0 && s.probeNextUs <= now {
			s.send(1200, s.probeID)
			s.probeLeft--
			s.probeNextUs += s.probeGapUs
		}
		// Media at the chosen layer, paced per ms.
		want := s.pickLayer()
		l := want
		if want < s.layer && s.downDelayUs > 0 {
			if s.downAtUs == 0 {
				s.downAtUs = now
			}
			if now-s.downAtUs < s.downDelayUs {
				l = s.layer
			}
		}
		if want >= s.layer || l != s.layer {
			s.downAtUs = 0
		}
		if l != s.layer {
			if s.layer >= 0 {
				s.layerChanges = append(s.layerChanges, now)
			}
			s.layer = l
		}
		rate := s.layers[s.layer]
		if s.greedy {
			rate = float64(s.bwe.Estimate())
		}
		if d := float64(s.desired); d < rate {
			rate = d
		}
		s.mediaCredit += rate * stepUs / 8e6
		for s.mediaCredit >= 1200 {
			s.send(1200, -1)
			s.mediaCredit -= 1200
		}
		if e := s.bwe.Estimate(); e > s.maxEstimate {
			s.maxEstimate = e
		}
		if now%500000 == 0 {
			st := s.bwe.State()
			s.timeline = append(s.timeline, fmt.Sprintf("%5.1fs C=%5.0fk est=%5.0fk delay=%5.0fk loss=%5.0fk acked=%5.0fk L%d %s",
				float64(now)/1e6, s.capacity(now)/1000, float64(st.Estimate)/1000, float64(st.DelayBased)/1000,
				float64(st.LossBased)/1000, float64(st.AckedBitrate)/1000, s.layer, st.Usage[:1]))
		}
	}
}

func (s *linkSim) logTimeline() {
	s.t.Logf("timeline:\n%s", strings.Join(s.timeline, "\n"))
}

func (s *linkSim) changesAfter(us int64) int {
	n := 0
	for _, c := range s.layerChanges {
		if c >= us {
			n++
		}
	}
	return n
}

func step(at int64, before, after float64) func(int64) float64 {
	return func(now int64) float64 {
		if now < at {
			return before
		}
		return after
	}
}

const sec = int64(1000000)

func TestLinkSim(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *linkSim)
		check func(t *testing.T, s *linkSim)
	}{
		{
			name: "capacity drop 3M to 800k",
			setup: func(s *linkSim) {
				s.capacity = step(20*sec, 3e6, 800e3)
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(20 * sec)
				if e := s.bwe.Estimate(); e < 1300000 {
					t.Errorf("before the drop: estimate %d, want top layer", e)
				}
				for s.nowUs < 22*sec && s.bwe.Estimate() >= 800000 {
					s.run(s.nowUs + 10000)
				}
				if e := s.bwe.Estimate(); e >= 800000 {
					t.Errorf("2 s after the drop: estimate %d, want < 800k", e)
				}
				t.Logf("below 800k %d ms after the drop", (s.nowUs-20*sec)/1000)
				s.run(40 * sec)
				if e := s.bwe.Estimate(); e < 400000 || e > 880000 {
					t.Errorf("settled: estimate %d, want [400k, 880k]", e)
				}
			},
		},
		{
			// The sender on the top layer when the link drops far below
			// it: the queue overflows and losses keep arriving for a
			// while; the estimate must not collapse below what the link
			// delivers (a consumer paused at the bottom gives no evidence
			// to climb back).
			name: "capacity drop 3M to 250k",
			setup: func(s *linkSim) {
				s.capacity = step(20*sec, 3e6, 250e3)
				s.downDelayUs = sec
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(20 * sec)
				lo := uint64(1 << 63)
				for s.nowUs < 40*sec {
					s.run(s.nowUs + 50000)
					lo = min(lo, s.bwe.Estimate())
				}
				if lo < 100000 {
					t.Errorf("estimate fell to %d after the drop, want >= 100k", lo)
				}
				if e := s.bwe.Estimate(); e < 150000 || e > 300000 {
					t.Errorf("settled: estimate %d, want [150k, 300k]", e)
				}
			},
		},
		{
			name: "steady 800k for 60 s",
			setup: func(s *linkSim) {
				s.capacity = step(0, 800e3, 800e3)
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(5 * sec)
				lo, hi := uint64(1<<63), uint64(0)
				for s.nowUs < 65*sec {
					s.run(s.nowUs + 100000)
					e := s.bwe.Estimate()
					lo, hi = min(lo, e), max(hi, e)
				}
				if lo < 400000 || hi > 880000 {
					t.Errorf("estimate in [%d, %d] after settling, want within [400k, 880k]", lo, hi)
				}
				if n := s.changesAfter(5 * sec); n > 2 {
					t.Errorf("%d layer changes after settling, want <= 2", n)
				}
			},
		},
		{
			name: "recovery 250k to 3M",
			setup: func(s *linkSim) {
				s.capacity = step(20500000, 250e3, 3e6) // a late phase against the probe back-off
			},
			check: func(t *testing.T, s *linkSim) {
				const rise = 20500000
				s.run(rise)
				for s.nowUs < rise+5*sec && s.bwe.Estimate() < 1300000 {
					s.run(s.nowUs + 10000)
				}
				if e := s.bwe.Estimate(); e < 1300000 {
					t.Errorf("5 s after the rise: estimate %d, want >= 1.3M", e)
				}
				t.Logf("at 1.3M %d ms after the rise", (s.nowUs-rise)/1000)
			},
		},
		{
			name: "5% loss on 3M",
			setup: func(s *linkSim) {
				s.capacity = step(0, 3e6, 3e6)
				s.loss = step(0, 0.05, 0.05)
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(5 * sec)
				for s.nowUs < 30*sec {
					s.run(s.nowUs + 100000)
					if e := s.bwe.Estimate(); e < 1300000 {
						t.Fatalf("at %.1fs estimate %d, want >= 1.3M at 5%% loss", float64(s.nowUs)/1e6, e)
					}
				}
			},
		},
		{
			name: "20% loss on 3M",
			setup: func(s *linkSim) {
				s.capacity = step(0, 3e6, 3e6)
				s.loss = step(10*sec, 0, 0.2)
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(10 * sec)
				before := s.bwe.Estimate()
				s.run(15 * sec)
				if e := s.bwe.Estimate(); e > before/2 {
					t.Errorf("5 s into 20%% loss: estimate %d, want it to fall from %d", e, before)
				}
			},
		},
		{
			name: "app-limited 300k on 10M",
			setup: func(s *linkSim) {
				s.capacity = step(0, 10e6, 10e6)
				s.layers = []float64{300000}
				s.desired = 300000
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(3 * sec)
				after := s.maxEstimate
				s.run(30 * sec)
				// The 1.5 x acked + 10k rule of the application-limited region.
				limit := uint64(1.5*300000 + 10000)
				if s.maxEstimate > limit {
					t.Errorf("estimate reached %d (%d after 3 s), want <= %d", s.maxEstimate, after, limit)
				}
			},
		},
		{
			name: "greedy sender on 1M",
			setup: func(s *linkSim) {
				s.capacity = step(0, 1e6, 1e6)
				s.greedy = true
				s.desired = 3000000
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(10 * sec)
				var sum float64
				var n int
				lo := uint64(1 << 63)
				maxQueueUs := int64(0)
				for s.nowUs < 40*sec {
					s.run(s.nowUs + 100000)
					e := s.bwe.Estimate()
					sum += float64(e)
					n++
					lo = min(lo, e)
					maxQueueUs = max(maxQueueUs, s.departUs-s.nowUs)
				}
				avg := sum / float64(n)
				t.Logf("average %.0f, min %d, max queue %d ms", avg, lo, maxQueueUs/1000)
				if avg < 0.6e6 || avg > 1.1e6 || lo < 300000 {
					t.Errorf("average estimate %.0f (min %d), want [600k, 1.1M] and min >= 300k", avg, lo)
				}
				// Probes (at most one every 2 s) add their own bit of queue.
				if maxQueueUs > 300000 {
					t.Errorf("queue reached %d ms, want <= 300 ms", maxQueueUs/1000)
				}
			},
		},
		{
			// The sequence starts at 65000 in every scenario, so it wraps
			// within the first second; here feedback also comes twice and
			// out of order.
			name: "duplicate and reordered feedback on 3M",
			setup: func(s *linkSim) {
				s.capacity = step(0, 3e6, 3e6)
				s.chaos = true
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(5 * sec)
				for s.nowUs < 20*sec {
					s.run(s.nowUs + 100000)
					if e := s.bwe.Estimate(); e < 1300000 || e > 3000000 {
						t.Fatalf("at %.1fs estimate %d, want [1.3M, 3M]", float64(s.nowUs)/1e6, e)
					}
				}
			},
		},
		{
			// Desire far above a link that carries the top layer: probes
			// keep failing and must back off, not run back to back.
			name: "desire above a 1.4M link",
			setup: func(s *linkSim) {
				s.capacity = step(0, 1.4e6, 1.4e6)
				s.desired = 3000000
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(10 * sec)
				before := s.probes
				hi := uint64(0)
				for s.nowUs < 40*sec {
					s.run(s.nowUs + 100000)
					hi = max(hi, s.bwe.Estimate())
				}
				n := s.probes - before
				t.Logf("%d probes in 30 s, max estimate %d", n, hi)
				// Failing probes back off to one every 2 s at most.
				if n > 16 {
					t.Errorf("%d probes in 30 s, want <= 16", n)
				}
				// App-limited at the 1.2M layer: 1.5 x 1.2M + 10k at most.
				if hi > 1.5*1.2e6+10e3+5e3 {
					t.Errorf("max estimate %d, want <= 1.815M", hi)
				}
				if c := s.changesAfter(10 * sec); c > 0 {
					t.Errorf("%d layer changes, want 0", c)
				}
			},
		},
		{
			name: "250k link",
			setup: func(s *linkSim) {
				s.capacity = step(0, 250e3, 250e3)
			},
			check: func(t *testing.T, s *linkSim) {
				s.run(5 * sec)
				lo, hi := uint64(1<<63), uint64(0)
				for s.nowUs < 35*sec {
					s.run(s.nowUs + 100000)
					e := s.bwe.Estimate()
					lo, hi = min(lo, e), max(hi, e)
				}
				if lo < 100000 {
					t.Errorf("estimate collapsed to %d", lo)
				}
				if e := s.bwe.Estimate(); e < 150000 || e > 300000 {
					t.Errorf("settled estimate %d, want [150k, 300k] (range seen [%d, %d])", e, lo, hi)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLinkSim(t, SendSideConfig{InitialBitrate: 300000}, 1)
			tt.setup(s)
			tt.check(t, s)
			s.logTimeline()
		})
	}
}
