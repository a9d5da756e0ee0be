package engine

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/bwe"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/ratecalc"
	"github.com/gosfu/gosfu/gosfu/rtpstream"
)

// absoluteMaxBitrate and absoluteMinOutgoingBitrate bound the bitrate
// setters as in mediasoup.
const (
	absoluteMaxBitrate         = math.MaxInt64 - 1
	absoluteMinOutgoingBitrate = 30000
)

// link is the network half of a transport: where its packets come from and
// go to (UDP sockets for a PlainTransport, the Node process for a
// DirectTransport).
type link interface {
	// sendRtp and sendRtcp send one packet to the remote peer; b may be
	// reused by the caller after the call. c is the sending consumer.
	sendRtp(c *Consumer, b []byte) bool
	sendRtcp(b []byte) bool
	// connected reports whether packets can flow (remote known, keys set).
	connected() bool
	handleRequest(method string, data []byte) (any, bool, error)
	fillDump(m map[string]any)
	fillStats(m map[string]any)
	close()
}

// Transport is the part every transport kind shares: its producers and
// consumers, demultiplexing, RTCP and counters.
type Transport struct {
	id     string
	typ    string // plain, direct, webrtc, pipe
	router *Router
	w      *Worker
	log    *logger.Named
	link   link

	mu                sync.Mutex
	closed            bool
	producers         map[string]*Producer
	consumers         map[string]*Consumer
	dataProducers     map[string]*DataProducer
	dataConsumers     map[string]*DataConsumer
	cnameForProducers string

	// sctp is the SCTP association (nil unless enableSctp).
	sctp    *SctpAssociation
	nextMid uint32

	listener rtpListener
	// consumersBySsrc routes RTCP feedback (NACK, PLI, FIR, RR) from the
	// remote peer to the consumer that sends that SSRC.
	consumersMu     sync.RWMutex
	consumersBySsrc map[uint32]*Consumer

	maxIncomingBitrate atomic.Int64
	maxOutgoingBitrate atomic.Int64
	minOutgoingBitrate atomic.Int64
	traceTypes         atomic.Uint32

	recvStats trafficStats
	sendStats trafficStats
	// drops counts received packets dropped, per cause (dump()).
	drops dropCounters
	// logRL rate-limits the log lines that can follow packets.
	logRL transportLogLimits

	// twccSendSeq numbers the packets this transport sends (transport-wide
	// congestion control); twccExtID is the id remote senders use for it,
	// and twccRecorder builds the feedback they need.
	twccSendSeq  atomic.Uint32
	twccExtID    atomic.Uint32
	twccMu       sync.Mutex
	twccRecorder *twcc.Recorder

	// remb estimates the incoming bandwidth for senders that negotiated
	// goog-remb without transport-cc (used by the timer goroutine only);
	// the last estimate and the remote's REMB are reported in getStats().
	remb bwe.RembEstimator
	// rembDelay is the delay-based half of that estimate, fed per packet
	// with arrival times against the senders' abs-send-time (the header
	// extension absSendTimeExtID).
	absSendTimeExtID  atomic.Uint32
	rembDelayMu       sync.Mutex
	rembDelay         *bwe.ReceiveSide
	availableIncoming atomic.Uint64
	availableOutgoing atomic.Uint64

	// cc is the send-side congestion control, created with the first
	// consumer that negotiated transport-cc or goog-remb
	// (congestioncontrol.go); the pace timer drives it.
	// initialOutgoing is initialAvailableOutgoingBitrate.
	cc              atomic.Pointer[congestionControl]
	initialOutgoing uint64

	timers transportTimers

	stop chan struct{}
	wg   sync.WaitGroup
}

// ensureCongestionControl creates the transport's congestion control.
func (t *Transport) ensureCongestionControl(bweType string) {
	if t.cc.Load() != nil {
		return
	}
	cc := newCongestionControl(t, bweType, t.initialOutgoing)
	if t.cc.CompareAndSwap(nil, cc) {
		t.log.Debugf(logger.TagBwe, "congestion control started [transportId:%s, type:%s]", t.id, bweType)
		t.wakePacer()
	}
}

// trafficStats counts one direction of a transport's traffic. The mutex is
// per transport and per direction: no two transports share it.
type trafficStats struct {
	mu        sync.Mutex
	bytes     uint64
	rtpBytes  uint64
	rtxBytes  uint64
	probation uint64
	rate      *ratecalc.Calculator
	rtpRate   *ratecalc.Calculator
	rtxRate   *ratecalc.Calculator
	probRate  *ratecalc.Calculator
}

func newTrafficStats() trafficStats {
	return trafficStats{
		rate:     ratecalc.New(),
		rtpRate:  ratecalc.New(),
		rtxRate:  ratecalc.New(),
		probRate: ratecalc.New(),
	}
}

// packet kinds for trafficStats.add.
const (
	trafficOther = iota
	trafficRtp
	trafficRtx
	trafficProbation
)

func (s *trafficStats) add(n int, kind int, nowMs int64) {
	s.mu.Lock()
	s.bytes += uint64(n)
	s.rate.Update(n, nowMs)
	switch kind {
	case trafficRtp:
		s.rtpBytes += uint64(n)
		s.rtpRate.Update(n, nowMs)
	case trafficRtx:
		s.rtxBytes += uint64(n)
		s.rtxRate.Update(n, nowMs)
	case trafficProbation:
		s.probation += uint64(n)
		s.probRate.Update(n, nowMs)
	}
	s.mu.Unlock()
}

func newTransport(r *Router, id, typ string) *Transport {
	return &Transport{
		id:              id,
		typ:             typ,
		router:          r,
		w:               r.w,
		log:             r.w.log.Named("Transport"),
		producers:       map[string]*Producer{},
		consumers:       map[string]*Consumer{},
		dataProducers:   map[string]*DataProducer{},
		dataConsumers:   map[string]*DataConsumer{},
		listener:        newRtpListener(),
		consumersBySsrc: map[uint32]*Consumer{},
		recvStats:       newTrafficStats(),
		sendStats:       newTrafficStats(),
		stop:            make(chan struct{}),
	}
}

// ID returns the transport id.
func (t *Transport) ID() string { return t.id }

// register adds a created transport to its router and starts its timers.
func (t *Transport) register() error {
	if err := t.w.register(t.id, t); err != nil {
		return err
	}
	r := t.router
	r.mu.Lock()
	r.transportIDs[t.id] = struct{}{}
	r.transports[t.id] = t
	r.mu.Unlock()
	t.log.Debug("Transport created [id:%s, type:%s]", t.id, t.typ)
	t.startTimers()
	return nil
}

// Close closes the transport, its producers and consumers.
func (t *Transport) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	producers := make([]*Producer, 0, len(t.producers))
	for _, p := range t.producers {
		producers = append(producers, p)
	}
	consumers := make([]*Consumer, 0, len(t.consumers))
	for _, c := range t.consumers {
		consumers = append(consumers, c)
	}
	dataConsumers := make([]*DataConsumer, 0, len(t.dataConsumers))
	for _, c := range t.dataConsumers {
		dataConsumers = append(dataConsumers, c)
	}
	dataProducers := make([]*DataProducer, 0, len(t.dataProducers))
	for _, p := range t.dataProducers {
		dataProducers = append(dataProducers, p)
	}
	t.mu.Unlock()
	t.stopTimers()
	close(t.stop)
	for _, c := range consumers {
		c.close(false)
	}
	for _, p := range producers {
		p.close()
	}
	for _, c := range dataConsumers {
		c.close()
	}
	for _, p := range dataProducers {
		p.close()
	}
	if t.sctp != nil {
		t.sctp.Close()
	}
	t.link.close()
	if t.sctp != nil {
		t.sctp.Wait()
	}
	t.wg.Wait()
	t.w.unregister(t.id)
	r := t.router
	r.mu.Lock()
	delete(r.transportIDs, t.id)
	delete(r.transports, t.id)
	r.mu.Unlock()
	t.log.Debug("Transport closed [id:%s]", t.id)
}

func (t *Transport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *Transport) handleRequest(method string, data []byte) (any, error) {
	if out, ok, err := t.link.handleRequest(method, data); ok {
		return out, err
	}
	switch method {
	case "transport.dump":
		return t.dump(), nil
	case "transport.getStats":
		return []any{t.stats()}, nil
	case "transport.setMaxIncomingBitrate":
		b, err := bitrateArg(data, false)
		if err != nil {
			return nil, err
		}
		t.maxIncomingBitrate.Store(b)
		t.log.Debugf(logger.TagBwe, "maximum incoming bitrate set [transportId:%s, bitrate:%d]", t.id, b)
		return nil, nil
	case "transport.setMaxOutgoingBitrate":
		b, err := bitrateArg(data, true)
		if err != nil {
			return nil, err
		}
		if minb := t.minOutgoingBitrate.Load(); b > 0 && b < minb {
			return nil, TypeErrorf("bitrate must be >= current min outgoing bitrate (%d) or 0 (unlimited)", minb)
		}
		t.maxOutgoingBitrate.Store(b)
		t.boundsChanged()
		t.log.Debugf(logger.TagBwe, "maximum outgoing bitrate set [transportId:%s, bitrate:%d]", t.id, b)
		return nil, nil
	case "transport.setMinOutgoingBitrate":
		b, err := bitrateArg(data, true)
		if err != nil {
			return nil, err
		}
		if maxb := t.maxOutgoingBitrate.Load(); b > 0 && maxb > 0 && b > maxb {
			return nil, TypeErrorf("bitrate must be <= current max outgoing bitrate (%d) or 0 (unlimited)", maxb)
		}
		t.minOutgoingBitrate.Store(b)
		t.boundsChanged()
		t.log.Debugf(logger.TagBwe, "minimum outgoing bitrate set [transportId:%s, bitrate:%d]", t.id, b)
		return nil, nil
	case "transport.enableTraceEvent":
		var req struct {
			Types []string `json:"types"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, TypeErrorf("invalid types")
		}
		t.traceTypes.Store(parseTraceTypes(req.Types, transportTraceTypes))
		return nil, nil
	case "transport.produce":
		return t.produce(data)
	case "transport.consume":
		return t.consume(data)
	case "transport.closeProducer":
		var req struct {
			ProducerID string `json:"producerId"`
		}
		_ = json.Unmarshal(data, &req)
		t.mu.Lock()
		p := t.producers[req.ProducerID]
		t.mu.Unlock()
		if p == nil {
			return nil, &Error{Name: "NotFoundError", Message: "Producer not found [method:" + method + "]"}
		}
		p.close()
		return nil, nil
	case "transport.produceData":
		return t.produceData(data)
	case "transport.consumeData":
		return t.consumeData(data)
	case "transport.closeDataProducer":
		var req struct {
			DataProducerID string `json:"dataProducerId"`
		}
		_ = json.Unmarshal(data, &req)
		t.mu.Lock()
		p := t.dataProducers[req.DataProducerID]
		t.mu.Unlock()
		if p == nil {
			if t.sctp == nil && t.typ != "direct" {
				return nil, Errorf("cannot close DataProducer, SCTP not enabled and not a direct Transport")
			}
			return nil, &Error{Name: "NotFoundError", Message: "DataProducer not found [method:" + method + "]"}
		}
		p.close()
		return nil, nil
	case "transport.closeDataConsumer":
		var req struct {
			DataConsumerID string `json:"dataConsumerId"`
		}
		_ = json.Unmarshal(data, &req)
		t.mu.Lock()
		c := t.dataConsumers[req.DataConsumerID]
		t.mu.Unlock()
		if c == nil {
			if t.sctp == nil && t.typ != "direct" {
				return nil, Errorf("cannot close DataConsumer, SCTP not enabled and not a direct Transport")
			}
			return nil, &Error{Name: "NotFoundError", Message: "DataConsumer not found [method:" + method + "]"}
		}
		c.close()
		return nil, nil
	case "transport.closeConsumer":
		var req struct {
			ConsumerID string `json:"consumerId"`
		}
		_ = json.Unmarshal(data, &req)
		t.mu.Lock()
		c := t.consumers[req.ConsumerID]
		t.mu.Unlock()
		if c == nil {
			return nil, &Error{Name: "NotFoundError", Message: "Consumer not found [method:" + method + "]"}
		}
		c.close(false)
		return nil, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

// boundsChanged passes setMin/MaxOutgoingBitrate() to the estimator.
func (t *Transport) boundsChanged() {
	cc := t.cc.Load()
	if cc == nil {
		return
	}
	cc.mu.Lock()
	cc.est.SetBounds(uint64(max(t.minOutgoingBitrate.Load(), absoluteMinOutgoingBitrate)), uint64(t.maxOutgoingBitrate.Load()))
	cc.mu.Unlock()
	cc.realloc.Store(true)
}

// bitrateArg reads {bitrate} with mediasoup's bounds (0 means unlimited);
// outgoing bitrates also have a floor.
func bitrateArg(data []byte, outgoing bool) (int64, error) {
	var req struct {
		Bitrate float64 `json:"bitrate"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return 0, TypeErrorf("missing bitrate")
	}
	if req.Bitrate < 0 {
		return 0, TypeErrorf("bitrate must be a positive number or 0 (unlimited)")
	}
	if req.Bitrate > absoluteMaxBitrate {
		return 0, TypeErrorf("bitrate must be <= %d or 0 (unlimited)", int64(absoluteMaxBitrate))
	}
	b := int64(req.Bitrate)
	if outgoing && b > 0 && b < absoluteMinOutgoingBitrate {
		return 0, TypeErrorf("bitrate must be >= %d or 0 (unlimited)", absoluteMinOutgoingBitrate)
	}
	return b, nil
}

// Trace event types, as bit positions.
var transportTraceTypes = []string{"probation", "bwe"}

func parseTraceTypes(types []string, known []string) uint32 {
	var mask uint32
	for _, t := range types {
		for i, k := range known {
			if t == k {
				mask |= 1 << i
			}
		}
	}
	return mask
}

func traceTypeNames(mask uint32, known []string) []string {
	out := []string{}
	for i, k := range known {
		if mask&(1<<i) != 0 {
			out = append(out, k)
		}
	}
	return out
}

func (t *Transport) dump() map[string]any {
	t.mu.Lock()
	producerIDs := sortedKeys(t.producers)
	consumerIDs := sortedKeys(t.consumers)
	dataProducerIDs := sortedKeys(t.dataProducers)
	dataConsumerIDs := sortedKeys(t.dataConsumers)
	mapSsrcConsumer := []map[string]any{}
	mapRtxSsrcConsumer := []map[string]any{}
	for _, id := range consumerIDs {
		c := t.consumers[id]
		for _, e := range c.rtpParameters.Encodings {
			if e.Ssrc != nil {
				mapSsrcConsumer = append(mapSsrcConsumer, map[string]any{"key": *e.Ssrc, "value": id})
			}
			if e.Rtx != nil && e.Rtx.Ssrc != 0 {
				mapRtxSsrcConsumer = append(mapRtxSsrcConsumer, map[string]any{"key": e.Rtx.Ssrc, "value": id})
			}
		}
	}
	t.mu.Unlock()
	m := map[string]any{
		"id":                      t.id,
		"direct":                  t.typ == "direct",
		"producerIds":             producerIDs,
		"consumerIds":             consumerIDs,
		"mapSsrcConsumerId":       mapSsrcConsumer,
		"mapRtxSsrcConsumerId":    mapRtxSsrcConsumer,
		"dataProducerIds":         dataProducerIDs,
		"dataConsumerIds":         dataConsumerIDs,
		"recvRtpHeaderExtensions": map[string]any{},
		"rtpListener":             t.listener.dump(),
		"maxSendMessageSize":      defaultSctpMaxMessageSize,
		"maxReceiveMessageSize":   defaultSctpMaxMessageSize,
		"traceEventTypes":         traceTypeNames(t.traceTypes.Load(), transportTraceTypes),
	}
	t.link.fillDump(m)
	t.drops.fillDump(m)
	if cc := t.cc.Load(); cc != nil {
		cc.fillDump(m)
	}
	if t.sctp != nil {
		t.sctp.fillDump(m)
		m["maxSendMessageSize"] = t.sctp.cfg.maxSendMessageSize
		m["maxReceiveMessageSize"] = t.sctp.cfg.maxReceiveMessageSize
	}
	return m
}

func (t *Transport) stats() map[string]any {
	now := t.w.nowMs()
	m := map[string]any{
		"transportId": t.id,
		"timestamp":   now,
	}
	t.recvStats.mu.Lock()
	m["bytesReceived"] = t.recvStats.bytes
	m["recvBitrate"] = t.recvStats.rate.Rate(now)
	m["rtpBytesReceived"] = t.recvStats.rtpBytes
	m["rtpRecvBitrate"] = t.recvStats.rtpRate.Rate(now)
	m["rtxBytesReceived"] = t.recvStats.rtxBytes
	m["rtxRecvBitrate"] = t.recvStats.rtxRate.Rate(now)
	t.recvStats.mu.Unlock()
	t.sendStats.mu.Lock()
	m["bytesSent"] = t.sendStats.bytes
	m["sendBitrate"] = t.sendStats.rate.Rate(now)
	m["rtpBytesSent"] = t.sendStats.rtpBytes
	m["rtpSendBitrate"] = t.sendStats.rtpRate.Rate(now)
	m["rtxBytesSent"] = t.sendStats.rtxBytes
	m["rtxSendBitrate"] = t.sendStats.rtxRate.Rate(now)
	m["probationBytesSent"] = t.sendStats.probation
	m["probationSendBitrate"] = t.sendStats.probRate.Rate(now)
	t.sendStats.mu.Unlock()
	if v := t.maxIncomingBitrate.Load(); v > 0 {
		m["maxIncomingBitrate"] = v
	}
	if v := t.availableIncoming.Load(); v > 0 {
		m["availableIncomingBitrate"] = v
	}
	if cc := t.cc.Load(); cc != nil {
		cc.fillStats(m)
	} else if v := t.availableOutgoing.Load(); v > 0 {
		m["availableOutgoingBitrate"] = v
	}
	if v := t.maxOutgoingBitrate.Load(); v > 0 {
		m["maxOutgoingBitrate"] = v
	}
	if v := t.minOutgoingBitrate.Load(); v > 0 {
		m["minOutgoingBitrate"] = v
	}
	t.link.fillStats(m)
	if t.sctp != nil {
		m["sctpState"] = t.sctp.State()
	}
	return m
}

// randomCname returns 8 hex characters, as mediasoup takes the first 8
// characters of a UUID.
func randomCname() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (t *Transport) allocMid() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	mid := strconv.FormatUint(uint64(t.nextMid), 10)
	t.nextMid++
	if t.nextMid == 100000000 {
		t.log.Error("consume() | reaching max MID value %d", t.nextMid)
		t.nextMid = 0
	}
	return mid
}

// rtpHeaderLen checks the fixed header, CSRC list and header extension
// block of an RTP packet as mediasoup's parser does and returns the header
// length. It reads bytes only: the checks on which pion would fail, with
// an error it allocates, come before any parse, so a flood of malformed
// packets allocates nothing.
func rtpHeaderLen(buf []byte) (int, bool) {
	if len(buf) < 12 || buf[0]>>6 != 2 {
		return 0, false
	}
	n := 12 + 4*int(buf[0]&0x0f)
	if buf[0]&0x10 != 0 {
		if len(buf) < n+4 {
			return 0, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(buf[n+2:]))
	}
	if n > len(buf) || !rtpstream.ValidHeaderExtensions(buf) {
		return 0, false
	}
	return n, true
}

// rtpPaddingValid checks the padding of a packet whose header is n bytes:
// with the padding bit, the last byte (the padding length) must be
// non-zero and fit in what follows the header.
func rtpPaddingValid(buf []byte, hdr *rtp.Header, n int) bool {
	return !hdr.Padding || (n < len(buf) && buf[len(buf)-1] != 0 && int(buf[len(buf)-1]) <= len(buf)-n)
}

// unmarshalRtp parses the header of an RTP packet into hdr (reused; no
// allocation) after rtpHeaderLen's checks, and checks its padding.
func unmarshalRtp(buf []byte, hdr *rtp.Header) (int, bool) {
	n, ok := rtpHeaderLen(buf)
	if !ok {
		return 0, false
	}
	if m, err := hdr.Unmarshal(buf); err != nil || m != n {
		return 0, false
	}
	return n, rtpPaddingValid(buf, hdr, n)
}

// ReceiveRtp handles one RTP packet from the network (already decrypted).
// hdr is the caller's reusable header; the packet is not retained.
func (t *Transport) ReceiveRtp(buf []byte, hdr *rtp.Header, now int64) {
	n, ok := unmarshalRtp(buf, hdr)
	if !ok {
		t.dropBadRtp(now)
		return
	}
	t.receiveParsedRtp(buf, hdr, n, now)
}

// receiveDecryptedRtp is ReceiveRtp for a packet that SRTP decryption
// parsed into hdr, after rtpHeaderLen's checks gave its header length n:
// the header is parsed once per packet.
func (t *Transport) receiveDecryptedRtp(buf []byte, hdr *rtp.Header, n int, now int64) {
	if !rtpPaddingValid(buf, hdr, n) {
		t.dropBadRtp(now)
		return
	}
	t.receiveParsedRtp(buf, hdr, n, now)
}

func (t *Transport) dropBadRtp(now int64) {
	t.drops.rtp.Add(1)
	t.logDrop(logger.LevelWarn, logger.TagRtp, &t.logRL.badRtp, now, "received data is not a valid RTP packet, dropped")
}

// receiveParsedRtp routes a valid packet whose n-byte header is in hdr.
func (t *Transport) receiveParsedRtp(buf []byte, hdr *rtp.Header, n int, now int64) {
	if id := t.twccExtID.Load(); id != 0 {
		t.recordTwcc(hdr, uint8(id))
	} else if id := t.absSendTimeExtID.Load(); id != 0 {
		t.recordAbsSendTime(hdr, uint8(id), len(buf))
	}
	p := t.listener.find(hdr)
	// RTX (a payload type of the producer's RTX codecs) counts as such in
	// the transport stats (rtxBytesReceived), as in mediasoup.
	kind := trafficRtp
	if p != nil && p.rtxApt[hdr.PayloadType&0x7f] >= 0 {
		kind = trafficRtx
	}
	t.recvStats.add(len(buf), kind, now)
	if p == nil {
		t.drops.unknownSsrc.Add(1)
		t.logUnknownSsrc(hdr.SSRC, hdr.PayloadType, now)
		return
	}
	p.receiveRtp(hdr, buf[n:], len(buf), now)
}

// ReceiveRtcp handles one (compound) RTCP packet from the network.
func (t *Transport) ReceiveRtcp(buf []byte, now int64) {
	t.recvStats.add(len(buf), trafficOther, now)
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		t.drops.rtcp.Add(1)
		t.logDrop(logger.LevelWarn, logger.TagRtcp, &t.logRL.badRtcp, now, "received data is not a valid RTCP packet, dropped")
		return
	}
	for _, pkt := range pkts {
		switch p := pkt.(type) {
		case *rtcp.SenderReport:
			if prod := t.listener.findBySsrc(p.SSRC); prod != nil {
				prod.receiveSenderReport(p, now)
			}
			for _, rr := range p.Reports {
				if c := t.consumerBySsrc(rr.SSRC); c != nil {
					c.receiveReceiverReport(&rr, now)
				}
			}
		case *rtcp.ReceiverReport:
			for _, rr := range p.Reports {
				if c := t.consumerBySsrc(rr.SSRC); c != nil {
					c.receiveReceiverReport(&rr, now)
				}
			}
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			t.availableOutgoing.Store(uint64(p.Bitrate))
			t.logRemb("REMB received", &t.logRL.rembRecv, uint64(p.Bitrate), now)
			if cc := t.cc.Load(); cc != nil && cc.bweType == "remb" {
				cc.onRemb(uint64(p.Bitrate))
			}
		case *rtcp.TransportLayerCC:
			if cc := t.cc.Load(); cc != nil && cc.bweType == "transport-cc" {
				cc.onFeedback(p)
			}
		case *rtcp.TransportLayerNack:
			c := t.consumerBySsrc(p.MediaSSRC)
			t.logRtcpFeedback(p, p.MediaSSRC, c, now)
			if c != nil {
				c.receiveNack(p, now)
			}
		case *rtcp.PictureLossIndication:
			c := t.consumerBySsrc(p.MediaSSRC)
			t.logRtcpFeedback(p, p.MediaSSRC, c, now)
			if c != nil {
				c.receiveKeyFrameRequest(p.MediaSSRC, false, now)
			}
		case *rtcp.FullIntraRequest:
			for _, e := range p.FIR {
				c := t.consumerBySsrc(e.SSRC)
				t.logRtcpFeedback(p, e.SSRC, c, now)
				if c != nil {
					c.receiveKeyFrameRequest(e.SSRC, true, now)
				}
			}
			if len(p.FIR) == 0 {
				c := t.consumerBySsrc(p.MediaSSRC)
				t.logRtcpFeedback(p, p.MediaSSRC, c, now)
				if c != nil {
					c.receiveKeyFrameRequest(p.MediaSSRC, true, now)
				}
			}
		}
	}
}

func (t *Transport) consumerBySsrc(ssrc uint32) *Consumer {
	t.consumersMu.RLock()
	c := t.consumersBySsrc[ssrc]
	t.consumersMu.RUnlock()
	return c
}

// sendRtp sends an RTP packet of one of this transport's consumers.
func (t *Transport) sendRtp(c *Consumer, b []byte, kind int, now int64) bool {
	if cc := t.cc.Load(); cc != nil && c.twccExtID|c.absSendTimeExtID != 0 {
		return cc.send(c, b, kind, now)
	}
	// Every packet, retransmissions included, gets its transport-wide
	// sequence number as it leaves (congestioncontrol.go does the same
	// after pacing).
	if c.twccExtID != 0 {
		rtpstream.SetExtension16(b, c.twccExtID, uint16(t.twccSendSeq.Add(1)))
	}
	if !t.link.sendRtp(c, b) {
		return false
	}
	t.sendStats.add(len(b), kind, now)
	return true
}

// sendRtcp sends an RTCP packet to the remote peer.
func (t *Transport) sendRtcp(b []byte, now int64) {
	if t.link.sendRtcp(b) {
		t.sendStats.add(len(b), trafficOther, now)
	}
}

func (t *Transport) sendRtcpPackets(pkts []rtcp.Packet, now int64) {
	if len(pkts) == 0 {
		return
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.log.Warn("cannot marshal RTCP: %v", err)
		return
	}
	t.sendRtcp(b, now)
}

func (t *Transport) producerList() []*Producer {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Producer, 0, len(t.producers))
	for _, p := range t.producers {
		out = append(out, p)
	}
	return out
}

func (t *Transport) consumerList() []*Consumer {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Consumer, 0, len(t.consumers))
	for _, c := range t.consumers {
		out = append(out, c)
	}
	return out
}

func (t *Transport) emitTrace(typ string, info map[string]any) {
	t.w.EmitJSON(t.id, "trace", map[string]any{
		"type": typ, "timestamp": t.w.nowMs(), "direction": "out", "info": info,
	})
}

// remoteConnected is called when the remote peer becomes known: consumers
// that were waiting ask their producers for a key frame.
func (t *Transport) remoteConnected() {
	now := t.w.nowMs()
	for _, c := range t.consumerList() {
		if c.active() {
			c.requireSync()
			c.requestProducerKeyFrame(c.currentOrTarget(), now)
		}
	}
}
