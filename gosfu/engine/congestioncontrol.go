package engine

// Send-side congestion control of a transport (mediasoup's
// TransportCongestionControlClient): the packets its consumers send are
// numbered (transport-wide sequence number) and recorded; the remote's
// transport-cc feedback feeds the estimator (gosfu/bwe); the estimate is
// shared among the consumers by priority (gosfu/streamallocator), paces the
// sends (gosfu/pacer) and caps retransmissions; when consumers want more
// than the estimate, probation packets test whether the link carries it.
//
// The hot path is congestionControl.send: a pacer decision (one short
// per-transport lock) and, when the budget allows, the send itself on the
// calling goroutine. Everything else runs on the transport's timer
// goroutine (tick, every paceInterval) or on the goroutine that receives
// the feedback.

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"

	"github.com/gosfu/gosfu/gosfu/bwe"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/pacer"
	"github.com/gosfu/gosfu/gosfu/rtpstream"
	"github.com/gosfu/gosfu/gosfu/streamallocator"
)

const (
	// paceInterval is how often queued packets and probes are sent;
	// paceIdleInterval how often the timer looks when nothing waits (the
	// estimator's timeouts, allocation, the start of a probe).
	paceInterval     = 5 * time.Millisecond
	paceIdleInterval = 50 * time.Millisecond
	// allocInterval is how often the estimate is re-shared among the
	// consumers at the latest; a change of the estimate by allocChange
	// re-shares it at the next tick.
	allocInterval = 1000 * time.Millisecond
	allocMinGap   = 200 * time.Millisecond
	allocChange   = 0.05
	// processInterval drives the estimator's own timeouts.
	processInterval = 100 * time.Millisecond
	// rtxShare is the part of the estimate retransmissions may always use;
	// they may use more only while media leaves room for them.
	rtxShare = 0.15
	// upgradeHeadroom: a higher temporal layer must fit in this share of
	// the estimate, a higher spatial layer (a key frame first) in
	// spatialUpgradeHeadroom. upgradeHold: no upgrade this soon after a
	// downgrade; doubled (up to upgradeHoldMax) when the downgrade came
	// within upgradeFailed of an upgrade.
	upgradeHeadroom        = 0.85
	spatialUpgradeHeadroom = 0.75
	upgradeHold            = 2 * time.Second
	upgradeHoldMax         = 30 * time.Second
	upgradeFailed          = 4 * time.Second
	// probeHeadroom: the estimator probes for what the consumers desire
	// plus the headroom an upgrade needs.
	probeHeadroom = 1.0 / spatialUpgradeHeadroom
	// defaultInitialOutgoingBitrate is mediasoup's
	// initialAvailableOutgoingBitrate default.
	defaultInitialOutgoingBitrate = 600000
)

// bweLayered is a consumer type whose layers the allocation chooses
// (simulcast, SVC): it lists the steps it can take, cheapest first.
type bweLayered interface {
	bweSteps(now int64) []streamallocator.Step
}

// paceOwner tells the pacer's drain which consumer a queued packet belongs
// to and what it is (one value per consumer and kind: no allocation per
// packet).
type paceOwner struct {
	c    *Consumer
	kind int
}

type congestionControl struct {
	t       *Transport
	bweType string // "transport-cc" or "remb"
	history *bwe.SendHistory
	pacer   *pacer.Pacer

	// mu guards the estimator and the allocation state below; taken by
	// the feedback goroutine and the timer goroutine, never per packet.
	mu        sync.Mutex
	est       *bwe.SendSide
	results   []bwe.PacketResult
	initial   uint64
	desired   uint64
	effective uint64
	// remb is the remote's last REMB (bweType "remb").
	remb uint64

	// Timer goroutine only.
	lastAllocUs   int64
	lastAllocAvl  uint64
	lastProcessUs int64
	realloc       atomic.Bool
	probe         probeRun
	probator      *probationGenerator // mediasoup's probation stream
	padder        *probationGenerator // RTX padding
	tracks        []streamallocator.Track
	layered       []*Consumer

	// available is the estimate consumers are fitted in (getStats()).
	available atomic.Uint64
	// feedbackSeen: the remote answered with feedback. Until then nothing
	// is paced, probed or limited: a receiver that never sends feedback
	// (a plain RTP endpoint) keeps what it was sent before.
	feedbackSeen atomic.Bool

	// rtx caps retransmissions (bytes of budget, refilled by the timer).
	rtxMu     sync.Mutex
	rtxBudget float64
	rtxRate   float64 // bytes/s
	rtxLastUs int64
	rtxDenied atomic.Uint64
}

// probeRun is the probe cluster being sent.
type probeRun struct {
	active bool
	// via is the consumer whose RTX stream carries the padding (nil: the
	// probation stream).
	via     *Consumer
	cluster bwe.ProbeCluster
	startUs int64
	bytes   int
	packets int
}

func newCongestionControl(t *Transport, bweType string, initial uint64) *congestionControl {
	if initial == 0 {
		initial = defaultInitialOutgoingBitrate
	}
	cc := &congestionControl{
		t:       t,
		bweType: bweType,
		history: bwe.NewSendHistory(),
		pacer:   pacer.New(pacer.Config{}),
		initial: initial,
	}
	cc.est = bwe.NewSendSide(bwe.SendSideConfig{
		InitialBitrate: initial,
		MinBitrate:     uint64(max(t.minOutgoingBitrate.Load(), absoluteMinOutgoingBitrate)),
		MaxBitrate:     uint64(t.maxOutgoingBitrate.Load()),
	})
	cc.available.Store(initial)
	cc.rtxRate = float64(initial) / 8 * rtxShare
	cc.realloc.Store(true)
	return cc
}

// nowUs is the worker clock in microseconds.
func (cc *congestionControl) nowUs() int64 {
	return int64(cc.t.w.clock.Now() / time.Microsecond)
}

// send sends (or queues) one RTP packet of consumer c. b is the caller's
// and may be rewritten (the transport-wide sequence number).
func (cc *congestionControl) send(c *Consumer, b []byte, kind int, now int64) bool {
	nowUs := cc.nowUs()
	// While a congestion step down waits for the lower stream's key frame,
	// retransmissions of the stream being left would only crowd the link.
	if kind == trafficRtx && (c.bweDropCurrent.Load() || !cc.allowRtx(len(b), nowUs)) {
		cc.rtxDenied.Add(1)
		return false
	}
	owner := &c.paceRtp
	if kind == trafficRtx {
		owner = &c.paceRtx
	}
	if !cc.pacer.Send(b, owner, nowUs) {
		// Queued (or dropped by a full queue: counted there): make sure
		// the timer drains at the paced interval.
		cc.t.wakePacer()
		return true
	}
	return cc.transmit(c, b, kind, now, nowUs)
}

// transmit numbers the packet, records it and sends it now.
func (cc *congestionControl) transmit(c *Consumer, b []byte, kind int, now, nowUs int64) bool {
	t := cc.t
	var seq uint16
	numbered := false
	if cc.bweType == "transport-cc" && c.twccExtID != 0 {
		seq = uint16(t.twccSendSeq.Add(1))
		numbered = rtpstream.SetExtension16(b, c.twccExtID, seq)
	}
	if !t.link.sendRtp(c, b) {
		return false
	}
	if numbered {
		cc.history.Record(seq, len(b), nowUs, -1)
	}
	t.sendStats.add(len(b), kind, now)
	return true
}

// drained sends one packet the pacer released.
func (cc *congestionControl) drained(b []byte, owner any) {
	o := owner.(*paceOwner)
	if o.c.closed.Load() {
		return
	}
	cc.transmit(o.c, b, o.kind, cc.t.w.nowMs(), cc.nowUs())
}

// allowRtx takes size bytes from the retransmission budget.
func (cc *congestionControl) allowRtx(size int, nowUs int64) bool {
	if !cc.feedbackSeen.Load() {
		return true
	}
	cc.rtxMu.Lock()
	defer cc.rtxMu.Unlock()
	// At most 250 ms of budget accumulates (all of it at first), and
	// never less than two full packets: at a low estimate a smaller
	// bucket would never hold one, and a lost key frame would wait for
	// the receiver's PLI.
	limit := max(cc.rtxRate/4, 2*1500)
	if cc.rtxLastUs == 0 {
		cc.rtxBudget = limit
	} else {
		cc.rtxBudget += cc.rtxRate * float64(nowUs-cc.rtxLastUs) / 1e6
	}
	cc.rtxLastUs = nowUs
	if cc.rtxBudget > limit {
		cc.rtxBudget = limit
	}
	if cc.rtxBudget < float64(size) {
		return false
	}
	cc.rtxBudget -= float64(size)
	return true
}

// onFeedback applies the remote's transport-cc feedback.
func (cc *congestionControl) onFeedback(fb *rtcp.TransportLayerCC) {
	nowUs := cc.nowUs()
	cc.mu.Lock()
	cc.results = cc.history.Results(fb, cc.results[:0])
	cc.est.OnFeedback(cc.results, nowUs)
	est := cc.est.Estimate()
	cc.mu.Unlock()
	if !cc.feedbackSeen.Swap(true) {
		cc.realloc.Store(true)
	}
	cc.noteEstimate(est)
}

// onRemb applies the remote's REMB (bweType "remb").
func (cc *congestionControl) onRemb(bitrate uint64) {
	cc.mu.Lock()
	cc.remb = bitrate
	cc.mu.Unlock()
	if !cc.feedbackSeen.Swap(true) {
		cc.realloc.Store(true)
	}
	cc.noteEstimate(bitrate)
}

// noteEstimate asks for a new allocation when the estimate moved enough;
// a lower estimate lowers the retransmission budget at once (allocation
// sets it otherwise).
func (cc *congestionControl) noteEstimate(est uint64) {
	if cc.feedbackSeen.Load() {
		cc.rtxMu.Lock()
		cc.rtxRate = min(cc.rtxRate, float64(est)*rtxShare/8)
		cc.rtxMu.Unlock()
	}
	prev := cc.available.Load()
	if prev == 0 || float64(est) < float64(prev)*(1-allocChange) || float64(est) > float64(prev)*(1+allocChange) {
		cc.realloc.Store(true)
	}
}

// tick is the timer goroutine's periodic work; it reports whether it
// must come back after paceInterval (packets wait or a probe is under way)
// rather than paceIdleInterval.
func (cc *congestionControl) tick() bool {
	nowUs := cc.nowUs()
	cc.pacer.Drain(nowUs, cc.drained)
	if nowUs-cc.lastProcessUs >= int64(processInterval/time.Microsecond) {
		cc.lastProcessUs = nowUs
		cc.mu.Lock()
		cc.est.Process(nowUs)
		est := cc.est.Estimate()
		cc.mu.Unlock()
		if cc.bweType == "transport-cc" {
			cc.noteEstimate(est)
		}
	}
	gap := nowUs - cc.lastAllocUs
	if gap >= int64(allocInterval/time.Microsecond) || (cc.realloc.Load() && gap >= int64(allocMinGap/time.Microsecond)) {
		cc.realloc.Store(false)
		cc.lastAllocUs = nowUs
		cc.allocate(nowUs)
	}
	if cc.bweType == "transport-cc" && cc.feedbackSeen.Load() {
		cc.sendProbes(nowUs)
	}
	return cc.probe.active || cc.pacer.Stats().QueuedPackets > 0
}

// estimate is the bitrate the consumers must fit in: the estimator's (or
// the remote's REMB), within setMinOutgoingBitrate()/setMaxOutgoingBitrate().
func (cc *congestionControl) estimate() uint64 {
	cc.mu.Lock()
	est := cc.est.Estimate()
	if cc.bweType == "remb" {
		est = cc.remb
		if est == 0 {
			est = cc.initial
		}
	}
	cc.mu.Unlock()
	if maxb := uint64(cc.t.maxOutgoingBitrate.Load()); maxb > 0 && est > maxb {
		est = maxb
	}
	if minb := uint64(cc.t.minOutgoingBitrate.Load()); minb > 0 && est < minb {
		est = minb
	}
	return est
}

// allocate shares the estimate among the consumers (mediasoup's
// DistributeAvailableOutgoingBitrate) and tells the estimator how much
// they would want, so that it probes for it.
func (cc *congestionControl) allocate(nowUs int64) {
	t := cc.t
	now := nowUs / 1000
	avail := cc.estimate()
	cc.available.Store(avail)
	if !cc.feedbackSeen.Load() {
		cc.pacer.SetRate(0)
		for _, c := range t.consumerList() {
			c.setAllocation(-2, -2, now)
		}
		return
	}
	cc.pacer.SetRate(avail)

	cc.tracks = cc.tracks[:0]
	cc.layered = cc.layered[:0]
	for _, c := range t.consumerList() {
		if !c.active() {
			continue
		}
		if l, ok := c.impl.(bweLayered); ok && c.kind == "video" {
			cc.tracks = append(cc.tracks, streamallocator.Track{
				Priority: max(int(c.priority.Load()), 1),
				Steps:    l.bweSteps(now),
			})
			cc.layered = append(cc.layered, c)
			continue
		}
		b := c.producer.totalBitrate(now)
		cc.tracks = append(cc.tracks, streamallocator.Track{Priority: 1, Fixed: b})
		cc.layered = append(cc.layered, nil)
	}
	res := streamallocator.Allocate(avail, cc.tracks)
	// Upgrades need headroom, and wait a while after a downgrade, so that
	// a layer does not flap on the estimate's and the layers' own
	// variations: what allocation would raise is re-checked against a
	// smaller estimate.
	up := streamallocator.Allocate(uint64(float64(avail)*upgradeHeadroom), cc.tracks)
	upSpatial := streamallocator.Allocate(uint64(float64(avail)*spatialUpgradeHeadroom), cc.tracks)
	for i, c := range cc.layered {
		if c == nil {
			continue
		}
		steps := cc.tracks[i].Steps
		if len(steps) == 0 {
			c.setAllocation(-2, -2, now) // nothing measured yet: no constraint
			continue
		}
		cur := c.allocatedStep(steps)
		choice := res.Choice[i]
		if choice > cur {
			choice = max(cur, min(choice, upgradeLimit(steps, cur, up.Choice[i], upSpatial.Choice[i])))
			if nowUs-c.bweDowngradeUs < c.bweHoldUs {
				choice = cur
			}
			if choice > cur {
				c.bweUpgradeUs = nowUs
			}
		}
		if choice < cur {
			// A step down soon after a step up: that layer did not fit,
			// wait longer before trying again.
			if nowUs-c.bweUpgradeUs < int64(upgradeFailed/time.Microsecond) {
				c.bweHoldUs = min(max(2*c.bweHoldUs, int64(upgradeHold/time.Microsecond)), int64(upgradeHoldMax/time.Microsecond))
			} else {
				c.bweHoldUs = int64(upgradeHold / time.Microsecond)
			}
			c.bweDowngradeUs = nowUs
		}
		if choice < 0 || choice >= len(steps) {
			c.bweDropCurrent.Store(true)
			c.setAllocation(-1, -1, now)
			continue
		}
		// A switch down to another stream waits for its key frame; if the
		// stream being sent meanwhile far exceeds the estimate, sending it
		// would only fill the link's queue: drop it until the switch.
		c.bweDropCurrent.Store(choice < cur && cur < len(steps) && steps[choice].Spatial < steps[cur].Spatial && steps[cur].Bitrate > avail)
		c.setAllocation(steps[choice].Spatial, steps[choice].Temporal, now)
	}

	// Retransmissions: a share of the estimate, or what media leaves.
	rtx := float64(avail) * rtxShare
	if spare := float64(avail) - float64(res.Used); spare > rtx {
		rtx = spare
	}
	cc.rtxMu.Lock()
	cc.rtxRate = rtx / 8
	cc.rtxMu.Unlock()

	cc.mu.Lock()
	cc.desired = res.Desired
	cc.effective = min(res.Desired, avail)
	if cc.bweType == "transport-cc" {
		cc.est.SetDesired(uint64(float64(res.Desired)*probeHeadroom), nowUs)
	}
	cc.mu.Unlock()

	if avail != cc.lastAllocAvl {
		t.logRemb("available outgoing bitrate changed", &t.logRL.rembRecv, avail, now)
		cc.lastAllocAvl = avail
	}
	if t.traceTypes.Load()&(1<<1) != 0 {
		t.emitTrace("bwe", cc.traceInfo(avail))
	}
}

// upgradeLimit is the highest step above cur an upgrade may reach: within
// the spatial layer of cur, what fits with upgradeHeadroom (upTemporal);
// any step in a higher spatial layer (reached through a key frame) must
// also fit with spatialUpgradeHeadroom (upSpatial).
func upgradeLimit(steps []streamallocator.Step, cur, upTemporal, upSpatial int) int {
	limit := upTemporal
	if cur < 0 {
		return limit
	}
	for k := cur + 1; k <= limit && k < len(steps); k++ {
		if steps[k].Spatial != steps[cur].Spatial && k > upSpatial {
			return k - 1
		}
	}
	return limit
}

// traceInfo is the info of a "bwe" trace event, as mediasoup's.
func (cc *congestionControl) traceInfo(avail uint64) map[string]any {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	t := cc.t
	maxb := uint64(t.maxOutgoingBitrate.Load())
	return map[string]any{
		"desiredBitrate":          cc.desired,
		"effectiveDesiredBitrate": cc.effective,
		"minBitrate":              uint64(max(t.minOutgoingBitrate.Load(), absoluteMinOutgoingBitrate)),
		"maxBitrate":              maxb,
		"startBitrate":            cc.initial,
		"maxPaddingBitrate":       cc.desired,
		"availableBitrate":        avail,
		"bweType":                 cc.bweType,
	}
}

// sendProbes sends the due packets of the current probe cluster, or
// starts the next one the estimator asks for.
func (cc *congestionControl) sendProbes(nowUs int64) {
	if !cc.probe.active {
		cc.mu.Lock()
		cl, ok := cc.est.NextProbe(nowUs)
		cc.mu.Unlock()
		if !ok {
			return
		}
		if cc.probator == nil && !cc.initProbation() {
			return
		}
		cc.probe = probeRun{active: true, cluster: cl, startUs: nowUs, via: cc.probeConsumer()}
		if cc.t.log.On(logger.LevelDebug, logger.TagBwe) {
			cc.t.log.Debugf(logger.TagBwe, "probe cluster started [transportId:%s, id:%d, bitrate:%d]", cc.t.id, cl.ID, cl.Bitrate)
		}
	}
	p := &cc.probe
	elapsed := nowUs - p.startUs + int64(paceInterval/time.Microsecond)
	due := int(float64(p.cluster.Bitrate) / 8 * float64(elapsed) / 1e6)
	due = max(due, min(p.cluster.MinBytes, (p.packets+1)*probationMaxSize))
	now := nowUs / 1000
	rtxProbe := p.via
	for p.bytes < due {
		size := min(due-p.bytes, probationMaxSize)
		if size < 200 && p.packets >= p.cluster.MinPackets {
			break
		}
		ast := absSendTime(cc.t.w.clock.Now())
		var b []byte
		var g *probationGenerator
		if rtxProbe != nil {
			rtxProbe.mu.Lock()
			ssrc, pt, seq, ts, ok := rtxProbe.send.NextRtxPadding()
			rtxProbe.mu.Unlock()
			if ok {
				g = cc.padder
				b = g.rtxPadding(size, ssrc, pt, seq, ts, ast)
			}
		}
		if b == nil {
			g = cc.probator
			b = g.probator(size, ast)
		}
		seq := uint16(cc.t.twccSendSeq.Add(1))
		g.setTwcc(b, seq)
		if !cc.t.link.sendRtp(nil, b) {
			break
		}
		cc.history.Record(seq, len(b), nowUs, p.cluster.ID)
		cc.t.sendStats.add(len(b), trafficProbation, now)
		p.bytes += len(b)
		p.packets++
		if cc.t.traceTypes.Load()&1 != 0 {
			cc.t.emitTrace("probation", map[string]any{})
		}
	}
	if nowUs-p.startUs >= p.cluster.DurationUs && p.packets >= p.cluster.MinPackets && p.bytes >= p.cluster.MinBytes {
		p.active = false
	}
}

// initProbation sets up the probation packets with the header extension
// ids of a video consumer (false when there is none yet).
func (cc *congestionControl) initProbation() bool {
	for _, c := range cc.t.consumerList() {
		if c.kind == "video" && c.twccExtID != 0 {
			cc.probator = newProbationGenerator(c.midExtID, c.absSendTimeExtID, c.twccExtID)
			cc.padder = newProbationGenerator(0, c.absSendTimeExtID, c.twccExtID)
			return true
		}
	}
	return false
}

// probeConsumer is an active video consumer with RTX whose RTX stream can
// carry padding probes (nil: use the probation stream).
func (cc *congestionControl) probeConsumer() *Consumer {
	for _, c := range cc.t.consumerList() {
		if c.kind == "video" && c.rtxSsrc != 0 && c.twccExtID != 0 && c.active() && !c.bwePaused.Load() {
			return c
		}
	}
	return nil
}

// fillStats adds the estimate to the transport's getStats().
func (cc *congestionControl) fillStats(m map[string]any) {
	m["availableOutgoingBitrate"] = cc.available.Load()
}

// fillDump adds the pacer's and estimator's state to the transport's dump().
func (cc *congestionControl) fillDump(m map[string]any) {
	ps := cc.pacer.Stats()
	cc.mu.Lock()
	st := cc.est.State()
	cc.mu.Unlock()
	m["bwe"] = map[string]any{
		"type":             cc.bweType,
		"availableBitrate": cc.available.Load(),
		"delayBased":       st.DelayBased,
		"lossBased":        st.LossBased,
		"ackedBitrate":     st.AckedBitrate,
		"lossRate":         st.LossRate,
		"usage":            st.Usage,
		"pacerQueued":      ps.QueuedPackets,
		"pacerDropped":     ps.Dropped,
		"rtxDenied":        cc.rtxDenied.Load(),
	}
}
