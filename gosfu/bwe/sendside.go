package bwe

import "math"

// Defaults of the send-side estimator.
const (
	defaultInitialBps = 300000
	defaultMinBps     = 30000
)

// SendSideConfig sets the send-side estimator's bitrates (bps).
type SendSideConfig struct {
	InitialBitrate uint64 // 0 = 300 kbit/s
	MinBitrate     uint64 // 0 = 30 kbit/s
	MaxBitrate     uint64 // 0 = none
}

// State is a snapshot of the estimator for stats, logs and traces.
type State struct {
	Estimate     uint64 // target bitrate, bps
	DelayBased   uint64
	LossBased    uint64
	AckedBitrate uint64
	LossRate     float64 // fraction, last loss report
	Usage        string  // "normal", "overusing" or "underusing"
	ProbeResult  uint64  // last probe result, bps (0 = none yet)
}

// SendSide is GCC on the sending side, fed with transport-cc feedback:
// the minimum of a delay-based AIMD estimate and a loss-based one,
// bounded by [min, max], plus a probe controller. It is not safe for
// concurrent use.
type SendSide struct {
	min, max float64
	arrival  interArrival
	trend    *trendline
	aimd     *aimd
	loss     *lossBased
	acked    ackedRate // media only: the application-limited bound
	ackedAll ackedRate // media and padding: what the link carried, for cuts
	probe    *prober
	usage    Usage
	desired  float64
	target   float64
	rttMs    float64
	// groupsSinceProbe counts packet groups since the last probe packet:
	// while the trendline window still holds the probe's own queue, an
	// overuse is blamed on the probe, whose result already measured the
	// path, and does not cut the rate.
	groupsSinceProbe int
	probeArrivalUs   int64 // arrival of the last probe packet
}

// probeMaskGroups is how many packet groups after a probe packet an
// overuse is still the probe's: the trendline window (20 groups) plus
// the lag of its smoothing.
// At low rates groups are sparse, so the mask also ends probeMaskUs after
// the probe's last arrival.
const (
	probeMaskGroups = 2 * trendWindow
	probeMaskUs     = 500000
)

// NewSendSide returns an estimator starting at cfg.InitialBitrate.
func NewSendSide(cfg SendSideConfig) *SendSide {
	initial := float64(cfg.InitialBitrate)
	if initial == 0 {
		initial = defaultInitialBps
	}
	s := &SendSide{trend: newTrendline(), probe: newProber(), rttMs: defaultRttMs, groupsSinceProbe: probeMaskGroups}
	s.aimd = newAimd(initial, 0, 0)
	s.loss = newLossBased(initial)
	s.SetBounds(cfg.MinBitrate, cfg.MaxBitrate)
	s.target = s.combine()
	return s
}

// SetBounds sets the minimum and maximum bitrate; 0 means the default
// minimum and no maximum.
func (s *SendSide) SetBounds(min, max uint64) {
	s.min = float64(min)
	if min == 0 {
		s.min = defaultMinBps
	}
	s.max = float64(max)
	if s.max > 0 && s.max < s.min {
		s.max = s.min
	}
	s.aimd.min, s.aimd.max = s.min, s.max
	s.aimd.rate = s.aimd.clamp(s.aimd.rate)
	s.probe.maxBps = s.max
	s.target = s.combine()
}

// SetDesired tells what the allocation would use if the link were
// unlimited; a desire above the estimate makes the prober look for more.
func (s *SendSide) SetDesired(bps uint64, nowUs int64) {
	s.desired = float64(bps)
	if bps > 0 {
		s.probe.wanted = true
	}
}

// OnRtt updates the round-trip time used for reaction intervals.
func (s *SendSide) OnRtt(rttMs float64, nowUs int64) {
	if rttMs <= 0 || math.IsNaN(rttMs) || math.IsInf(rttMs, 0) {
		return
	}
	s.rttMs = math.Min(rttMs, 10000)
	s.aimd.rttMs = s.rttMs
}

// OnFeedback takes the results of one feedback packet (from
// SendHistory.Results), in sequence order.
func (s *SendSide) OnFeedback(results []PacketResult, nowUs int64) {
	if len(results) == 0 {
		return
	}
	s.probe.wanted = true
	lost, got := 0, 0
	lastArrival := int64(math.MinInt64)
	for _, r := range results {
		if !r.Received() {
			lost++
			continue
		}
		got++
		if r.ProbeCluster >= 0 {
			s.groupsSinceProbe = 0
			s.probeArrivalUs = max(s.probeArrivalUs, r.ArrivalUs)
		}
		lastArrival = max(lastArrival, r.ArrivalUs)
		if r.ProbeCluster < 0 {
			// Padding is no evidence of what the application uses: only
			// a probe result may lift the estimate past the acked rate.
			s.acked.add(r.ArrivalUs, r.Size)
		}
		s.ackedAll.add(r.ArrivalUs, r.Size)
		if sd, ad, ok := s.arrival.add(r.SendUs, r.ArrivalUs, r.Size); ok {
			s.usage = s.trend.update(sd, ad, r.ArrivalUs)
			s.groupsSinceProbe = min(s.groupsSinceProbe+1, probeMaskGroups)
		}
	}
	if probe, saturated := s.probe.onResults(results); probe > 0 {
		s.aimd.raise(probe)
		if saturated {
			// The probe filled the link: its receive rate bounds the
			// path. This stands in for the overuse the probe causes,
			// which is not acted on (see groupsSinceProbe).
			if probe < s.aimd.rate {
				s.aimd.rate = s.aimd.clamp(probe)
			}
		}
		if probe > s.loss.rate && s.loss.lastLoss < lossHigh {
			s.loss.set(math.Min(probe, s.aimd.rate))
		}
	}
	if got > 0 {
		u := s.usage
		if u == UsageOverusing && s.groupsSinceProbe < probeMaskGroups && lastArrival-s.probeArrivalUs < probeMaskUs {
			u = UsageUnderusing // hold: the queue is the probe's
		}
		s.aimd.update(u, s.acked.rate(), s.ackedAll.rate(), nowUs)
	}
	if s.loss.add(lost, got, s.rttMs, nowUs) {
		// Losses reported now are mostly of packets sent before the last
		// cut (a full queue drains for a round trip and more): cutting
		// by them again and again would take the estimate far below what
		// the path delivers, and a consumer down to nothing gives no
		// evidence to climb back. Half the delivered rate is the floor.
		if floor := lossFloorShare * s.ackedAll.rate(); s.loss.rate < floor {
			s.loss.rate = floor
		}
	}
	s.target = s.combine()
	s.loss.noteTarget(s.target, nowUs)
}

func (s *SendSide) combine() float64 {
	t := math.Min(s.aimd.rate, s.loss.rate)
	if s.max > 0 && t > s.max {
		t = s.max
	}
	if t < s.min {
		t = s.min
	}
	return t
}

// Process handles timeouts; call it about every 100 ms.
func (s *SendSide) Process(nowUs int64) {
	s.probe.timeouts(nowUs)
}

// Estimate returns the current target bitrate (bps).
func (s *SendSide) Estimate() uint64 { return uint64(s.target) }

// NextProbe returns a probe cluster when one is due.
func (s *SendSide) NextProbe(nowUs int64) (ProbeCluster, bool) {
	return s.probe.next(nowUs, s.target, s.desired, s.aimd.cutFrom, s.aimd.cutUs)
}

// State returns a snapshot for stats.
func (s *SendSide) State() State {
	return State{
		Estimate:     uint64(s.target),
		DelayBased:   uint64(s.aimd.rate),
		LossBased:    uint64(s.loss.rate),
		AckedBitrate: uint64(s.acked.rate()),
		LossRate:     s.loss.lastLoss,
		Usage:        s.usage.String(),
		ProbeResult:  uint64(s.probe.lastResult),
	}
}
