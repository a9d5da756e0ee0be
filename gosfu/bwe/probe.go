package bwe

import "math"

// Figures of probing.
const (
	probeDurationUs      = 20000
	probeMinPackets      = 5
	probeGapUs           = 50000 // between the two initial clusters
	probeBaseIntervalUs  = 1000000
	probeMaxIntervalUs   = 2000000
	probeTimeoutUs       = 1000000
	probeFastRecoveryUs  = 3000000 // after a large delay-based drop, re-probe soon
	probeLargeDrop       = 0.66    // ... when the estimate fell below this share
	probeSuccessRatio    = 0.7     // result/probe rate to count as success and probe further
	probeGainRatio       = 1.1     // ... provided it lifted the estimate this much
	probeMinRecvRatio    = 0.8
	probeSaturatedRatio  = 0.9
	probeTargetUtil      = 0.95
	probeMaxIntervalSpan = 1000000
	maxProbePackets      = 64 // a cluster's packets kept for its estimate
)

// ProbeCluster asks the engine to send padding at Bitrate for DurationUs,
// at least MinPackets packets and MinBytes bytes, recorded with
// ProbeCluster = ID.
type ProbeCluster struct {
	ID         int
	Bitrate    uint64
	DurationUs int64
	MinPackets int
	MinBytes   int
}

type probeStats struct {
	cluster  ProbeCluster
	issuedUs int64
	before   float64        // the estimate when the cluster was issued
	packets  []PacketResult // received probe packets
	result   float64
	done     bool
}

// estimate returns the bitrate the cluster proves, or 0. Media sent
// during the cluster shares the link with the padding, so it counts too:
// otherwise the padding alone would seem to get through faster than the
// link can carry.
func (p *probeStats) estimate(media []PacketResult) (bps float64, saturated bool) {
	c := p.cluster
	bytes := 0
	for _, r := range p.packets {
		bytes += r.Size
	}
	if float64(len(p.packets)) < probeMinRecvRatio*float64(c.MinPackets) ||
		float64(bytes) < probeMinRecvRatio*float64(c.MinBytes) {
		return 0, false
	}
	var firstSend, lastSend int64 = math.MaxInt64, math.MinInt64
	for _, r := range p.packets {
		firstSend = min(firstSend, r.SendUs)
		lastSend = max(lastSend, r.SendUs)
	}
	var firstArr, lastArr int64 = math.MaxInt64, math.MinInt64
	lastSendSize, firstArrSize := 0, 0
	total := 0
	add := func(r PacketResult) {
		total += r.Size
		if r.SendUs >= lastSend {
			lastSendSize = r.Size
		}
		if r.ArrivalUs < firstArr {
			firstArr, firstArrSize = r.ArrivalUs, r.Size
		}
		lastArr = max(lastArr, r.ArrivalUs)
	}
	for _, r := range p.packets {
		add(r)
	}
	for _, r := range media {
		if r.Received() && r.SendUs >= firstSend && r.SendUs <= lastSend {
			add(r)
		}
	}
	sendSpan := lastSend - firstSend
	recvSpan := lastArr - firstArr
	if sendSpan <= 0 || recvSpan <= 0 || sendSpan > probeMaxIntervalSpan || recvSpan > probeMaxIntervalSpan {
		return 0, false
	}
	// The last packet sent and the first received only mark the ends
	// of the intervals; their bytes were not carried within them.
	send := float64(total-lastSendSize) * 8e6 / float64(sendSpan)
	recv := float64(total-firstArrSize) * 8e6 / float64(recvSpan)
	if recv < probeSaturatedRatio*send {
		return probeTargetUtil * recv, true
	}
	return math.Min(send, recv), false
}

// prober decides when to probe and turns probe feedback into results.
type prober struct {
	nextID     int
	queue      []ProbeCluster // due clusters, in order
	dueUs      []int64
	active     map[int]*probeStats
	started    bool
	wanted     bool // evidence that the transport carries packets
	inFlight   int  // cluster awaiting its result, -1 if none
	lastUs     int64
	interval   int64
	lastResult float64
	maxBps     float64
	// recoveredCut is the time of the drop a recovery probe was sent for.
	recoveredCut int64
	// media holds recent received media results (a ring of up to
	// probeMediaResults, grown as results come: an idle transport keeps
	// none), to count the media sent during a cluster.
	media     []PacketResult
	mediaNext int
}

// probeMediaResults is how many media results a prober keeps.
const probeMediaResults = 256

func newProber() *prober {
	return &prober{active: make(map[int]*probeStats), inFlight: -1, interval: probeBaseIntervalUs}
}

func (p *prober) add(bps float64, dueUs int64) {
	if p.maxBps > 0 && bps > p.maxBps {
		bps = p.maxBps
	}
	c := ProbeCluster{
		ID:         p.nextID,
		Bitrate:    uint64(bps),
		DurationUs: probeDurationUs,
		MinPackets: probeMinPackets,
		MinBytes:   int(bps * probeDurationUs / 8e6),
	}
	p.nextID++
	p.queue = append(p.queue, c)
	p.dueUs = append(p.dueUs, dueUs)
}

// next pops a due cluster. estimate and desired drive the decision to
// start a new probe.
func (p *prober) next(nowUs int64, estimate, desired float64, cutFrom float64, cutUs int64) (ProbeCluster, bool) {
	// Initial probes unless the allocation already said it needs no more.
	if !p.started && p.wanted && (desired == 0 || desired > estimate) {
		p.started = true
		p.add(3*estimate, nowUs)
		p.add(6*estimate, nowUs+probeGapUs)
		p.lastUs = nowUs
	}
	if len(p.queue) == 0 && p.started && p.inFlight < 0 && desired > estimate*1.05 {
		if p.maxBps <= 0 || estimate < p.maxBps {
			interval := p.interval
			// A large recent drop may have been transient (a burst of
			// cross traffic): look again soon, once, rather than wait
			// out the back-off. Ordinary AIMD cuts do not qualify.
			recovery := estimate < probeLargeDrop*cutFrom && nowUs-cutUs < probeFastRecoveryUs && p.recoveredCut != cutUs
			if recovery {
				interval = probeBaseIntervalUs
			}
			if nowUs-p.lastUs >= interval {
				p.add(math.Min(desired, 2*estimate), nowUs)
				if recovery {
					p.recoveredCut = cutUs
				}
			}
		}
	}
	if len(p.queue) == 0 || p.dueUs[0] > nowUs {
		return ProbeCluster{}, false
	}
	c := p.queue[0]
	p.queue, p.dueUs = p.queue[1:], p.dueUs[1:]
	p.active[c.ID] = &probeStats{cluster: c, issuedUs: nowUs, before: estimate}
	p.inFlight = c.ID
	p.lastUs = nowUs
	return c, true
}

// onResults feeds probe packets; it returns the best new result (bps)
// and whether the link was saturated by that probe.
func (p *prober) onResults(results []PacketResult) (best float64, saturated bool) {
	touched := false
	for _, r := range results {
		if !r.Received() {
			continue
		}
		if r.ProbeCluster < 0 {
			if len(p.media) < probeMediaResults {
				p.media = append(p.media, r)
			} else {
				p.media[p.mediaNext] = r
			}
			p.mediaNext = (p.mediaNext + 1) % probeMediaResults
			continue
		}
		st := p.active[r.ProbeCluster]
		if st == nil || len(st.packets) >= 4*maxProbePackets {
			continue
		}
		st.packets = append(st.packets, r)
		touched = true
	}
	if !touched {
		return 0, false
	}
	for id, st := range p.active {
		if st.done {
			continue
		}
		if est, sat := st.estimate(p.media); est > 0 {
			st.result = est
			if est > best {
				best, saturated = est, sat
			}
			if len(st.packets) >= st.cluster.MinPackets {
				p.finish(id, st)
			}
		}
	}
	if best > 0 {
		p.lastResult = best
	}
	return best, saturated
}

// finish closes a cluster and adapts the back-off: a probe that got
// most of its rate through and lifted the estimate lets the next one go
// at once; any other doubles the wait, so a link just below the desired
// rate is not probed back to back.
func (p *prober) finish(id int, st *probeStats) {
	st.done = true
	delete(p.active, id)
	if p.inFlight == id {
		p.inFlight = -1
	}
	if st.result >= probeSuccessRatio*float64(st.cluster.Bitrate) && st.result > probeGainRatio*st.before {
		p.interval = 0
	} else {
		p.backoff()
	}
}

func (p *prober) backoff() {
	if p.interval < probeBaseIntervalUs {
		p.interval = probeBaseIntervalUs
	} else {
		p.interval *= 2
	}
	if p.interval > probeMaxIntervalUs {
		p.interval = probeMaxIntervalUs
	}
}

// timeouts closes clusters whose feedback never came.
func (p *prober) timeouts(nowUs int64) {
	for id, st := range p.active {
		if nowUs-st.issuedUs > probeTimeoutUs {
			if st.result > 0 {
				p.finish(id, st)
				continue
			}
			delete(p.active, id)
			if p.inFlight == id {
				p.inFlight = -1
			}
			p.backoff()
		}
	}
}
