package bwe

import "math"

// Figures of the AIMD rate control.
const (
	aimdBeta          = 0.85
	aimdMultPerSecond = 1.08
	minIncreaseBps    = 1000.0
	minNearIncrease   = 4000.0 // bps per second near the link capacity
	appLimitedFactor  = 1.5
	appLimitedSlack   = 10000.0
	defaultRttMs      = 200.0
	capacityAlpha     = 0.05
)

type aimdState int

const (
	aimdHold aimdState = iota
	aimdIncrease
	aimdDecrease
)

// linkCapacity tracks the acked bitrate seen at overuse: near it the rate
// grows additively, far from it multiplicatively.
type linkCapacity struct {
	est, variance float64 // bps, normalised variance
}

func (l *linkCapacity) upper() float64 {
	return l.est + 3*math.Sqrt(l.variance*l.est)
}

func (l *linkCapacity) lower() float64 {
	return l.est - 3*math.Sqrt(l.variance*l.est)
}

func (l *linkCapacity) onOveruse(acked float64) {
	if l.est == 0 {
		l.est, l.variance = acked, 0.4
		return
	}
	l.est = (1-capacityAlpha)*l.est + capacityAlpha*acked
	norm := math.Max(l.est, 1)
	dev := acked - l.est
	l.variance = (1-capacityAlpha)*l.variance + capacityAlpha*dev*dev/norm
	l.variance = math.Max(0.4, math.Min(2.5, l.variance))
}

func (l *linkCapacity) reset() { l.est, l.variance = 0, 0 }

// aimd is GCC's rate controller: additive/multiplicative increase while
// the path is normal, a cut to beta × acked bitrate on overuse.
type aimd struct {
	rate       float64 // bps
	min, max   float64 // max 0 = none
	state      aimdState
	capacity   linkCapacity
	lastUs     int64 // last update
	lastCutUs  int64
	haveUpdate bool
	rttMs      float64
	// cutAt remembers the rate before the last decrease, for the probe
	// controller's fast recovery.
	cutFrom float64
	cutUs   int64
}

func newAimd(initial, min, max float64) *aimd {
	return &aimd{rate: initial, min: min, max: max, rttMs: defaultRttMs, lastCutUs: math.MinInt64 / 2}
}

func (a *aimd) clamp(v float64) float64 {
	if a.max > 0 && v > a.max {
		v = a.max
	}
	if v < a.min {
		v = a.min
	}
	return v
}

// update advances the controller with the latest usage and returns the
// new rate. acked is the bitrate of what the application sent and got
// through, which bounds increases; carried is all the link delivered
// (with probe padding), which sets the level of a cut. 0 = unknown.
func (a *aimd) update(u Usage, acked, carried float64, nowUs int64) float64 {
	switch u {
	case UsageOverusing:
		a.state = aimdDecrease
	case UsageUnderusing:
		a.state = aimdHold
	default:
		if a.state == aimdHold || a.state == aimdDecrease {
			a.state = aimdIncrease
		}
	}
	dtUs := int64(0)
	if a.haveUpdate {
		dtUs = nowUs - a.lastUs
	}
	if dtUs < 0 {
		dtUs = 0
	}
	if dtUs > 1000000 {
		dtUs = 1000000
	}
	a.lastUs, a.haveUpdate = nowUs, true

	switch a.state {
	case aimdIncrease:
		if acked > 0 && a.capacity.est > 0 && acked > a.capacity.upper() {
			a.capacity.reset() // the link got faster
		}
		var inc float64
		if a.capacity.est > 0 {
			inc = a.nearIncreaseRate() * float64(dtUs) / 1e6
		} else {
			alpha := math.Pow(aimdMultPerSecond, float64(dtUs)/1e6)
			inc = math.Max(a.rate*(alpha-1), minIncreaseBps*float64(dtUs)/1e6)
		}
		next := a.rate + inc
		// Application-limited: without evidence of more throughput, never
		// climb past what was actually carried (plus headroom).
		if acked > 0 {
			limit := appLimitedFactor*acked + appLimitedSlack
			if next > limit {
				next = math.Max(a.rate, limit)
			}
		} else if next > a.rate {
			next = a.rate
		}
		a.rate = a.clamp(next)
	case aimdDecrease:
		carried = max(carried, acked)
		if carried <= 0 || !a.mayCut(carried, nowUs) {
			break
		}
		if a.capacity.est > 0 && carried < a.capacity.lower() {
			a.capacity.reset()
		}
		next := aimdBeta * carried
		if next > a.rate && a.capacity.est > 0 {
			next = aimdBeta * a.capacity.est
		}
		if next < a.rate {
			a.cutFrom, a.cutUs = a.rate, nowUs
			a.rate = a.clamp(next)
		}
		a.capacity.onOveruse(carried)
		a.lastCutUs = nowUs
		a.state = aimdHold
	}
	return a.rate
}

// mayCut limits cuts to one per round trip unless the rate is far above
// what gets through.
func (a *aimd) mayCut(acked float64, nowUs int64) bool {
	interval := math.Max(10, math.Min(200, a.rttMs)) * 1000
	return float64(nowUs-a.lastCutUs) >= interval || a.rate > 2*acked
}

// nearIncreaseRate is about one packet per response time (bps per second).
func (a *aimd) nearIncreaseRate() float64 {
	const fps = 30.0
	frameBits := a.rate / fps
	packets := math.Ceil(frameBits / (1200 * 8))
	avgPacketBits := frameBits / math.Max(packets, 1)
	responseS := (a.rttMs + 100) / 1000
	return math.Max(minNearIncrease, avgPacketBits/responseS)
}

// raise sets the rate from a probe result; it never lowers it.
func (a *aimd) raise(bps float64) {
	if bps > a.rate {
		a.rate = a.clamp(bps)
		a.capacity.reset()
	}
}
