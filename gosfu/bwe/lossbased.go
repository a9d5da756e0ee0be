package bwe

import "math"

// Figures of the loss-based controller (GCC section 6).
const (
	lossLow           = 0.02
	lossHigh          = 0.10
	lossMinPackets    = 20
	lossIncrease      = 1.08
	lossHistoryUs     = 1000000
	lossCutIntervalUs = 300000
	// lossFloorShare of the delivered bitrate bounds loss-based cuts.
	lossFloorShare = 0.5
)

type rateAt struct {
	us  int64
	bps float64
}

// lossBased grows the rate by 8 % a second while loss stays under 2 %,
// holds it up to 10 % and cuts by (1 - loss/2) above.
type lossBased struct {
	rate      float64
	lost, got int
	lastLoss  float64
	lastCutUs int64
	target    float64 // the combined target last noted
	// history of the combined target over the last second, increasing
	// deque so that front is the minimum.
	hist []rateAt
}

func newLossBased(initial float64) *lossBased {
	return &lossBased{rate: initial, lastCutUs: math.MinInt64 / 2}
}

// noteTarget records the combined target so increases start from its
// minimum over the last second.
func (l *lossBased) noteTarget(bps float64, nowUs int64) {
	l.target = bps
	for len(l.hist) > 0 && l.hist[0].us < nowUs-lossHistoryUs {
		l.hist = l.hist[1:]
	}
	for len(l.hist) > 0 && l.hist[len(l.hist)-1].bps >= bps {
		l.hist = l.hist[:len(l.hist)-1]
	}
	l.hist = append(l.hist, rateAt{nowUs, bps})
}

// add counts packets of one feedback; once enough are counted it updates
// the rate and returns true.
func (l *lossBased) add(lost, got int, rttMs float64, nowUs int64) bool {
	l.lost += lost
	l.got += got
	total := l.lost + l.got
	if total < lossMinPackets {
		return false
	}
	loss := float64(l.lost) / float64(total)
	l.lost, l.got = 0, 0
	l.lastLoss = loss
	switch {
	case loss <= lossLow:
		base := l.rate
		if len(l.hist) > 0 {
			base = l.hist[0].bps
		}
		l.rate = base*lossIncrease + 1000
	case loss > lossHigh:
		if nowUs-l.lastCutUs >= lossCutIntervalUs+int64(rttMs*1000) {
			// Cut from what is being sent, not from a stale higher value.
			l.rate = l.current() * (1 - 0.5*loss)
			l.lastCutUs = nowUs
		}
	default:
		// Hold: the estimate may not grow while loss is moderate.
		l.rate = l.current()
	}
	return true
}

// current is the loss-based rate as far as it is in force: never above
// the combined target.
func (l *lossBased) current() float64 {
	if l.target > 0 && l.target < l.rate {
		return l.target
	}
	return l.rate
}

// set overrides the rate (probe result) and forgets the history.
func (l *lossBased) set(bps float64) {
	l.rate = bps
	l.hist = l.hist[:0]
}
