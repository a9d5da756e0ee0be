package bwe

import "math"

// Usage is the delay-based verdict on the path.
type Usage int

// Usage values.
const (
	UsageNormal Usage = iota
	UsageOverusing
	UsageUnderusing
)

func (u Usage) String() string {
	switch u {
	case UsageOverusing:
		return "overusing"
	case UsageUnderusing:
		return "underusing"
	}
	return "normal"
}

// Figures of the GCC delay-based detector (draft-ietf-rmcat-gcc-02 and
// libwebrtc's defaults).
const (
	groupSpanUs        = 5000   // packets sent within 5 ms form one group
	burstArrivalUs     = 5000   // arrivals this close with negative propagation delta join the group
	maxBurstUs         = 100000 // a burst group never spans more than this
	arrivalResetUs     = 3000000
	trendWindow        = 20
	trendSmoothing     = 0.9
	trendGain          = 4.0
	trendCap           = 60
	thresholdInit      = 12.5
	thresholdUp        = 0.0087
	thresholdDown      = 0.039
	thresholdMin       = 6.0
	thresholdMax       = 600.0
	overuseTimeMs      = 10.0
	maxThresholdStepMs = 100.0
)

type packetGroup struct {
	firstSendUs, lastSendUs       int64
	firstArrivalUs, lastArrivalUs int64
	size                          int
	valid                         bool
}

// interArrival groups packets into 5 ms send bursts and yields the delay
// variation between consecutive groups.
type interArrival struct {
	cur, prev packetGroup
}

// add takes one received packet in send order. When it closes a group it
// returns the send and arrival deltas (µs) between the two last groups.
func (ia *interArrival) add(sendUs, arrivalUs int64, size int) (sendDelta, arrivalDelta int64, ok bool) {
	if !ia.cur.valid {
		ia.cur = packetGroup{sendUs, sendUs, arrivalUs, arrivalUs, size, true}
		return 0, 0, false
	}
	if sendUs < ia.cur.firstSendUs {
		return 0, 0, false // reordered across groups: ignore
	}
	if ia.belongs(sendUs, arrivalUs) {
		if sendUs > ia.cur.lastSendUs {
			ia.cur.lastSendUs = sendUs
		}
		if arrivalUs > ia.cur.lastArrivalUs {
			ia.cur.lastArrivalUs = arrivalUs
		}
		ia.cur.size += size
		return 0, 0, false
	}
	// New group starts: compare the finished one with its predecessor.
	if ia.prev.valid {
		sendDelta = ia.cur.lastSendUs - ia.prev.lastSendUs
		arrivalDelta = ia.cur.lastArrivalUs - ia.prev.lastArrivalUs
		switch {
		case arrivalDelta-sendDelta > arrivalResetUs || arrivalDelta < 0 && -arrivalDelta > arrivalResetUs:
			// Remote clock jump or long gap: start over.
			ia.prev.valid = false
			ia.cur = packetGroup{sendUs, sendUs, arrivalUs, arrivalUs, size, true}
			return 0, 0, false
		case arrivalDelta >= 0:
			ok = true
		}
	}
	ia.prev = ia.cur
	ia.cur = packetGroup{sendUs, sendUs, arrivalUs, arrivalUs, size, true}
	return sendDelta, arrivalDelta, ok
}

func (ia *interArrival) belongs(sendUs, arrivalUs int64) bool {
	if sendUs-ia.cur.firstSendUs <= groupSpanUs {
		return true
	}
	// A burst: packets queued behind each other arrive back to back.
	arrDelta := arrivalUs - ia.cur.lastArrivalUs
	sendDelta := sendUs - ia.cur.lastSendUs
	return arrDelta <= burstArrivalUs && arrDelta-sendDelta < 0 &&
		arrivalUs-ia.cur.firstArrivalUs < maxBurstUs
}

// trendline estimates the slope of the smoothed accumulated queuing delay
// over the last groups and turns it into a usage with an adaptive
// threshold.
type trendline struct {
	firstArrivalMs float64
	started        bool
	accumulated    float64
	smoothed       float64
	numDeltas      int
	xs, ys         [trendWindow]float64
	n, head        int
	prevTrend      float64
	modified       float64

	threshold     float64
	lastUpdateMs  float64
	thresholdSeen bool
	overuseMs     float64
	overuseCount  int
	usage         Usage
}

func newTrendline() *trendline {
	return &trendline{threshold: thresholdInit, overuseMs: -1}
}

// update takes the deltas of one group pair (µs) and the group's arrival
// time (µs) and returns the usage.
func (t *trendline) update(sendDeltaUs, arrivalDeltaUs, arrivalUs int64) Usage {
	deltaMs := float64(arrivalDeltaUs-sendDeltaUs) / 1000
	nowMs := float64(arrivalUs) / 1000
	if !t.started {
		t.firstArrivalMs, t.started = nowMs, true
	}
	t.numDeltas++
	if t.numDeltas > trendCap*100 {
		t.numDeltas = trendCap * 100
	}
	t.accumulated += deltaMs
	t.smoothed = trendSmoothing*t.smoothed + (1-trendSmoothing)*t.accumulated
	t.xs[t.head], t.ys[t.head] = nowMs-t.firstArrivalMs, t.smoothed
	t.head = (t.head + 1) % trendWindow
	if t.n < trendWindow {
		t.n++
	}
	trend := t.prevTrend
	if t.n == trendWindow {
		if s, ok := slope(t.xs[:], t.ys[:]); ok {
			trend = s
		}
	}
	t.detect(trend, float64(sendDeltaUs)/1000, nowMs)
	return t.usage
}

// slope is the least-squares slope of y over x.
func slope(xs, ys []float64) (float64, bool) {
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/float64(len(xs)), sy/float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 || math.IsNaN(num) {
		return 0, false
	}
	return num / den, true
}

func (t *trendline) detect(trend, sendDeltaMs, nowMs float64) {
	if t.numDeltas < 2 {
		t.usage = UsageNormal
		return
	}
	n := t.numDeltas
	if n > trendCap {
		n = trendCap
	}
	modified := float64(n) * trend * trendGain
	t.modified = modified
	switch {
	case modified > t.threshold:
		if t.overuseMs < 0 {
			t.overuseMs = sendDeltaMs / 2 // assume half the interval was overusing
		} else {
			t.overuseMs += sendDeltaMs
		}
		t.overuseCount++
		if t.overuseMs > overuseTimeMs && t.overuseCount > 1 && trend >= t.prevTrend {
			t.overuseMs, t.overuseCount = 0, 0
			t.usage = UsageOverusing
		}
	case modified < -t.threshold:
		t.overuseMs, t.overuseCount = -1, 0
		t.usage = UsageUnderusing
	default:
		t.overuseMs, t.overuseCount = -1, 0
		t.usage = UsageNormal
	}
	t.prevTrend = trend
	t.adapt(modified, nowMs)
}

// adapt moves the threshold towards |modified|: slowly up, faster down,
// so that it tracks the noise and does not starve against TCP-like flows.
func (t *trendline) adapt(modified, nowMs float64) {
	if !t.thresholdSeen {
		t.lastUpdateMs, t.thresholdSeen = nowMs, true
	}
	abs := math.Abs(modified)
	if abs > t.threshold+15 {
		// A spike (e.g. a route change) must not drag the threshold.
		t.lastUpdateMs = nowMs
		return
	}
	k := thresholdDown
	if abs > t.threshold {
		k = thresholdUp
	}
	dt := nowMs - t.lastUpdateMs
	if dt > maxThresholdStepMs {
		dt = maxThresholdStepMs
	}
	if dt < 0 {
		dt = 0
	}
	t.threshold += k * (abs - t.threshold) * dt
	t.threshold = math.Max(thresholdMin, math.Min(thresholdMax, t.threshold))
	t.lastUpdateMs = nowMs
}
