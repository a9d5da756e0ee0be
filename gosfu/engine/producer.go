package engine

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/codecs"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/ortc"
	"github.com/gosfu/gosfu/gosfu/ratecalc"
	"github.com/gosfu/gosfu/gosfu/rtpstream"
)

// Header extension URIs the engine reads or writes.
const (
	uriMid              = "urn:ietf:params:rtp-hdrext:sdes:mid"
	uriRid              = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
	uriRepairedRid      = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
	uriAbsSendTime      = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
	uriTransportCC      = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	uriVideoOrientation = "urn:3gpp:video-orientation"
)

// rtpPacket is a received packet on its way from a producer to its
// consumers, already mapped to the router's payload types, SSRCs and
// header extension ids. Consumers must not modify it.
type rtpPacket struct {
	hdr      rtp.Header
	payload  []byte // includes padding when hdr.Padding
	keyFrame bool
	// empty tells a packet without payload (padding only), which
	// consumers do not forward.
	empty bool
	// encodingIdx is the producer stream (simulcast layer) it belongs to.
	encodingIdx int
	// shared makes the one copy of payload that consumers' retransmission
	// buffers point at, on the first store; the producer re-arms it for
	// every packet, which drops its reference to the previous one.
	shared rtpstream.SharedRef
}

// producerStream is one encoding of a producer.
type producerStream struct {
	idx        int
	rid        string
	ssrc       uint32
	hasSsrc    bool
	rtxSsrc    uint32
	hasRtx     bool
	mappedSsrc uint32
	recv       *rtpstream.RecvStream
	mimeType   string
	clockRate  int
	payloadTyp uint8
	// layerRates measures the bitrate of each spatial/temporal layer the
	// payload descriptors announce (VP8 temporal, VP9 SVC), so the stream
	// allocator knows what each layer step costs. Guarded by recvMu.
	layerRates [maxLayers][maxLayers]*ratecalc.Calculator
}

// maxLayers bounds the spatial and temporal layers measured per stream.
const maxLayers = 4

// noteLayer adds a received media packet to its layer's bitrate.
func (s *producerStream) noteLayer(spatial, temporal uint8, size int, now int64) {
	if spatial >= maxLayers || temporal >= maxLayers {
		return
	}
	r := s.layerRates[spatial][temporal]
	if r == nil {
		r = ratecalc.New()
		s.layerRates[spatial][temporal] = r
	}
	r.Update(size, now)
}

// Producer receives one media source (its encodings) from a transport and
// hands every packet to its consumers.
type Producer struct {
	id   string
	kind string
	t    *Transport
	w    *Worker
	log  *logger.Named

	rtpParameters *ortc.RtpParameters
	consumable    *ortc.RtpParameters
	mapping       *ortc.RtpMapping
	typ           string

	paused atomic.Bool
	closed atomic.Bool

	// consumers is replaced, never modified, so the packet path reads it
	// without a lock.
	consumers atomic.Pointer[[]*Consumer]
	consMu    sync.Mutex

	midExtID, ridExtID, rridExtID, videoOrientationExtID uint8
	// extMap maps the producer's header extension ids to the router's;
	// 0 drops the extension. extIDs lists the ids that map.
	extMap [256]uint8
	extIDs []uint8
	// ptMap maps media payload types to the router's (-1: unknown);
	// rtxApt maps RTX payload types to their media payload type (-1: not RTX).
	ptMap  [128]int16
	rtxApt [128]int16
	codec  [128]codecs.Codec
	mime   [128]string
	clock  [128]int

	// recvMu guards the streams (packet path, timers, stats). fanMu guards
	// the mapped packet scratch during fan-out; it is taken after recvMu is
	// released so consumers may call back into the producer (key frame
	// requests) without deadlock.
	recvMu     sync.Mutex
	streams    []*producerStream
	fanMu      sync.Mutex
	fan        fanout // guarded by fanMu
	extScratch []rtp.Extension
	pkt        rtpPacket
	keyFrames  *rtpstream.KeyFrameRequestManager
	lastScores []int
	lastOrient int
	// lastKeyFrame and lastSpatial/lastTemporal are what packetInfo read
	// in the last packet's payload descriptor.
	lastKeyFrame bool
	lastSpatial  uint8
	lastTemporal uint8
	nack         rtcp.TransportLayerNack
	// rtcpBuf is reused to build NACK and key frame request packets.
	rtcpBuf []byte

	traceTypes atomic.Uint32
	// useRemb: the sender negotiated goog-remb feedback.
	useRemb bool

	// rtpObservers is nil unless RtpObservers watch the producer
	// (rtpobserver.go); replaced, never modified, under consMu.
	rtpObservers atomic.Pointer[producerObservers]
}

var producerTraceTypes = []string{"rtp", "keyframe", "nack", "pli", "fir", "sr"}

// producerType classifies a producer as mediasoup does: several encodings
// are simulcast; one layered encoding is SVC for codecs that can be
// (VP8, VP9, H264, AV1); anything else with layers is invalid.
func producerType(params *ortc.RtpParameters) (string, error) {
	if len(params.Encodings) > 1 {
		return "simulcast", nil
	}
	sm := ortc.ParseScalabilityMode(params.Encodings[0].ScalabilityMode)
	if sm.SpatialLayers <= 1 && sm.TemporalLayers <= 1 {
		return "simple", nil
	}
	mime := ""
	for _, c := range params.Codecs {
		if !ortc.IsRtxMimeType(c.MimeType) {
			mime = strings.ToLower(c.MimeType)
			break
		}
	}
	switch mime {
	case "video/vp8", "video/vp9", "video/h264", "video/av1":
		return "svc", nil
	}
	return "", TypeErrorf("invalid RTP parameters")
}

// produceRequest is an alias of an unnamed struct type, as the request
// used to be: encoding/json names the type in its error messages.
type produceRequest = struct {
	ProducerID           string  `json:"producerId"`
	Kind                 string  `json:"kind"`
	RtpParameters        any     `json:"rtpParameters"`
	Paused               bool    `json:"paused"`
	KeyFrameRequestDelay float64 `json:"keyFrameRequestDelay"`
}

// decodeProduce decodes a produce request: ortc's fast path, else
// encoding/json (same results and errors).
func decodeProduce(data []byte) (*produceRequest, error) {
	req := &produceRequest{}
	if ortc.DecodeJSONObject(data, []ortc.JSONField{
		{Name: "producerId", Dest: &req.ProducerID},
		{Name: "kind", Dest: &req.Kind},
		{Name: "rtpParameters", Dest: &req.RtpParameters},
		{Name: "paused", Dest: &req.Paused},
		{Name: "keyFrameRequestDelay", Dest: &req.KeyFrameRequestDelay},
	}) {
		return req, nil
	}
	req = &produceRequest{}
	if err := json.Unmarshal(data, req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	return req, nil
}

func (t *Transport) produce(data []byte) (any, error) {
	req, err := decodeProduce(data)
	if err != nil {
		return nil, err
	}
	if req.Kind != "audio" && req.Kind != "video" {
		return nil, TypeErrorf("invalid kind \"%s\"", req.Kind)
	}
	params, err := ortc.ValidateRtpParameters(req.RtpParameters)
	if err != nil {
		return nil, err
	}
	if len(params.Encodings) == 0 {
		params.Encodings = []ortc.RtpEncodingParameters{{}}
	}
	// Every packet must be attributable to an encoding.
	for _, e := range params.Encodings {
		if e.Ssrc != nil || e.Rid != "" {
			continue
		}
		if len(params.Encodings) > 1 {
			return nil, TypeErrorf("wrong entry in rtpMapping.encodings (missing ssrc or rid)")
		}
		if params.Mid == "" {
			return nil, TypeErrorf("wrong entry in rtpMapping.encodings (missing ssrc or rid, or rtpParameters.mid)")
		}
	}
	if t.typ != "pipe" {
		t.mu.Lock()
		if t.cnameForProducers == "" {
			if params.Rtcp.Cname != "" {
				t.cnameForProducers = params.Rtcp.Cname
			} else {
				t.cnameForProducers = randomCname()
			}
		}
		params.Rtcp.Cname = t.cnameForProducers
		t.mu.Unlock()
	} else if params.Rtcp.Cname == "" {
		params.Rtcp.Cname = randomCname()
	}
	caps := t.router.RtpCapabilities()
	mapping, err := ortc.GetProducerRtpParametersMapping(params, caps)
	if err != nil {
		return nil, err
	}
	consumable := ortc.GetConsumableRtpParameters(req.Kind, params, caps, mapping)
	typ, err := producerType(params)
	if err != nil {
		return nil, err
	}

	p := &Producer{
		id:            req.ProducerID,
		kind:          req.Kind,
		t:             t,
		w:             t.w,
		log:           t.w.log.Named("Producer"),
		rtpParameters: params,
		consumable:    consumable,
		mapping:       mapping,
		typ:           typ,
		keyFrames:     rtpstream.NewKeyFrameRequestManager(int64(req.KeyFrameRequestDelay)),
		lastOrient:    -1,
		rtcpBuf:       make([]byte, 0, 1500),
		fan:           fanout{w: t.w},
	}
	p.paused.Store(req.Paused)
	empty := []*Consumer{}
	p.consumers.Store(&empty)
	if err := p.setup(); err != nil {
		return nil, err
	}

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, InvalidStateErrorf("Transport closed")
	}
	if _, ok := t.producers[p.id]; ok {
		t.mu.Unlock()
		return nil, Errorf("a Producer with same producerId already exists [method:transport.produce]")
	}
	t.mu.Unlock()
	if err := t.router.addProducer(p); err != nil {
		return nil, err
	}
	if err := t.listener.add(p); err != nil {
		t.router.removeProducer(p)
		return nil, err
	}
	if err := t.w.register(p.id, p); err != nil {
		t.listener.remove(p)
		t.router.removeProducer(p)
		return nil, err
	}
	t.mu.Lock()
	t.producers[p.id] = p
	t.mu.Unlock()
	t.startNackTimer()
	if p.log.On(logger.LevelDebug, 0) {
		p.log.Debug("Producer created [id:%s, type:%s]", p.id, p.typ)
	}
	return jsonResponse(map[string]any{
		"type":                    p.typ,
		"rtpParameters":           params,
		"consumableRtpParameters": consumable,
		"rtpMapping":              mapping,
	}, 3072), nil
}

// setup derives the lookup tables of the packet path from the parameters.
func (p *Producer) setup() error {
	for i := range p.ptMap {
		p.ptMap[i] = -1
		p.rtxApt[i] = -1
	}
	for _, m := range p.mapping.Codecs {
		if m.PayloadType >= 0 && m.PayloadType < 128 {
			p.ptMap[m.PayloadType] = int16(m.MappedPayloadType)
		}
	}
	for _, c := range p.rtpParameters.Codecs {
		for _, fb := range c.RtcpFeedback {
			if fb.Type == "goog-remb" {
				p.useRemb = true
			}
		}
		if c.PayloadType < 0 || c.PayloadType > 127 {
			continue
		}
		if ortc.IsRtxMimeType(c.MimeType) {
			if apt, ok := toInt(c.Parameters["apt"]); ok && apt >= 0 && apt < 128 {
				p.rtxApt[c.PayloadType] = int16(apt)
			}
			continue
		}
		p.codec[c.PayloadType] = codecs.CodecFromMimeType(c.MimeType)
		p.mime[c.PayloadType] = c.MimeType
		p.clock[c.PayloadType] = c.ClockRate
	}
	consumableExt := map[string]int{}
	for _, e := range p.consumable.HeaderExtensions {
		consumableExt[e.Uri] = e.Id
	}
	for _, e := range p.rtpParameters.HeaderExtensions {
		if e.Id <= 0 || e.Id > 255 {
			continue
		}
		id := uint8(e.Id)
		switch e.Uri {
		case uriMid:
			p.midExtID = id
			continue
		case uriRid:
			p.ridExtID = id
			continue
		case uriRepairedRid:
			p.rridExtID = id
			continue
		case uriVideoOrientation:
			p.videoOrientationExtID = id
		case uriTransportCC:
			// The remote sender numbers all its packets on this transport
			// with this id; feedback goes back per transport.
			p.t.twccExtID.Store(uint32(id))
		case uriAbsSendTime:
			// Read by the delay-based REMB estimate (goog-remb senders).
			p.t.absSendTimeExtID.Store(uint32(id))
		}
		if mapped, ok := consumableExt[e.Uri]; ok && mapped > 0 && mapped < 256 {
			p.extMap[id] = uint8(mapped)
			p.extIDs = append(p.extIDs, id)
		}
	}
	for i, e := range p.rtpParameters.Encodings {
		s := &producerStream{idx: i, rid: e.Rid}
		if e.Ssrc != nil {
			s.ssrc, s.hasSsrc = *e.Ssrc, true
		}
		if e.Rtx != nil {
			s.rtxSsrc, s.hasRtx = e.Rtx.Ssrc, true
		}
		if i < len(p.mapping.Encodings) {
			s.mappedSsrc = p.mapping.Encodings[i].MappedSsrc
		}
		p.streams = append(p.streams, s)
	}
	return nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int:
		return n, true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func (p *Producer) knownSsrcs() []uint32 {
	var out []uint32
	for _, s := range p.streams {
		if s.hasSsrc {
			out = append(out, s.ssrc)
		}
		if s.hasRtx {
			out = append(out, s.rtxSsrc)
		}
	}
	return out
}

// streamFor finds (or learns) the stream of a packet. isRtx tells whether
// the packet is the stream's RTX. Called with recvMu held.
func (p *Producer) streamFor(hdr *rtp.Header) (s *producerStream, isRtx bool) {
	for _, st := range p.streams {
		if st.hasSsrc && st.ssrc == hdr.SSRC {
			return st, false
		}
		if st.hasRtx && st.rtxSsrc == hdr.SSRC {
			return st, true
		}
	}
	pt := hdr.PayloadType & 0x7f
	rtxPacket := p.rtxApt[pt] >= 0
	if !rtxPacket && p.ptMap[pt] < 0 {
		return nil, false
	}
	// Learn the SSRC from the RID (or repaired RID) extension.
	var rid []byte
	if rtxPacket && p.rridExtID != 0 {
		rid = hdr.GetExtension(p.rridExtID)
	}
	if len(rid) == 0 && p.ridExtID != 0 {
		rid = hdr.GetExtension(p.ridExtID)
	}
	var target *producerStream
	if len(rid) > 0 {
		for _, st := range p.streams {
			if st.rid == string(rid) {
				target = st
				break
			}
		}
	} else if len(p.streams) == 1 && p.streams[0].rid == "" {
		target = p.streams[0]
	}
	if target == nil {
		return nil, false
	}
	if rtxPacket {
		if target.hasRtx {
			return nil, false
		}
		target.rtxSsrc, target.hasRtx = hdr.SSRC, true
		p.t.listener.learn(hdr.SSRC, p)
		return target, true
	}
	if target.hasSsrc {
		return nil, false
	}
	target.ssrc, target.hasSsrc = hdr.SSRC, true
	p.t.listener.learn(hdr.SSRC, p)
	return target, false
}

func (p *Producer) ensureRecvStream(s *producerStream, pt uint8) (created bool) {
	if s.recv != nil {
		return false
	}
	s.payloadTyp = pt
	s.mimeType = p.mime[pt]
	s.clockRate = p.clock[pt]
	useNack, usePli, useFir := false, false, false
	for _, c := range p.rtpParameters.Codecs {
		if c.PayloadType != int(pt) {
			continue
		}
		for _, fb := range c.RtcpFeedback {
			switch {
			case fb.Type == "nack" && fb.Parameter == "":
				useNack = true
			case fb.Type == "nack" && fb.Parameter == "pli":
				usePli = true
			case fb.Type == "ccm" && fb.Parameter == "fir":
				useFir = true
			}
		}
	}
	rtxPT := uint8(0)
	for i, apt := range p.rtxApt {
		if apt == int16(pt) {
			rtxPT = uint8(i)
		}
	}
	s.recv = rtpstream.NewRecvStream(rtpstream.RecvConfig{
		Cname:          p.rtpParameters.Rtcp.Cname,
		SSRC:           s.ssrc,
		PayloadType:    pt,
		ClockRate:      uint32(s.clockRate),
		MimeType:       s.mimeType,
		Rid:            s.rid,
		RtxSSRC:        s.rtxSsrc,
		RtxPayloadType: rtxPT,
		UseNack:        useNack,
		UsePli:         usePli,
		UseFir:         useFir,
	}, p.t.w.nowMs())
	return true
}

// receiveRtp is the producer's packet path: stats, mapping, fan-out.
// payload aliases the network buffer and is valid only during the call.
func (p *Producer) receiveRtp(hdr *rtp.Header, payload []byte, size int, now int64) {
	if p.closed.Load() {
		return
	}
	p.recvMu.Lock()
	newStream := false
	s, isRtx := p.streamFor(hdr)
	if s == nil {
		p.recvMu.Unlock()
		p.t.drops.unknownSsrc.Add(1)
		p.t.logUnknownSsrc(hdr.SSRC, hdr.PayloadType, now)
		return
	}
	if isRtx {
		apt := p.rtxApt[hdr.PayloadType&0x7f]
		if apt < 0 || s.recv == nil || !s.hasSsrc {
			p.recvMu.Unlock()
			p.t.drops.unknownSsrc.Add(1)
			p.t.logDrop(logger.LevelDebug, logger.TagRtx|logger.TagRtp, &p.t.logRL.rtx, now, "ignoring RTX packet for a stream not yet receiving media")
			return
		}
		// The OSN comes before the padding (valid: unmarshalRtp checked
		// it); a padding-only RTX packet (a bandwidth probe) has none.
		media := len(payload)
		if hdr.Padding {
			media -= int(payload[len(payload)-1])
		}
		if media < 2 {
			p.recvMu.Unlock()
			p.t.drops.emptyPayload.Add(1)
			return
		}
		osn := uint16(payload[0])<<8 | uint16(payload[1])
		payload = payload[2:]
		info := p.packetInfo(uint8(apt), payload, size-2, hdr)
		if !s.recv.ReceiveRtxPacket(hdr, osn, info, now) {
			p.recvMu.Unlock()
			p.afterRecv(s, now)
			p.t.logDrop(logger.LevelDebug, logger.TagRtx, &p.t.logRL.rtx, now, "RTX packet discarded (duplicate, too old or not asked for)")
			return
		}
		p.logRtx(hdr.SSRC, osn, now)
		hdr.PayloadType = uint8(apt)
		hdr.SSRC = s.ssrc
		hdr.SequenceNumber = osn
	} else {
		newStream = p.ensureRecvStream(s, hdr.PayloadType&0x7f)
		info := p.packetInfo(hdr.PayloadType&0x7f, payload, size, hdr)
		if !s.recv.ReceivePacket(hdr, info, now) {
			p.recvMu.Unlock()
			return
		}
		if info.PayloadSize == 0 {
			// Counts for the stream, but consumers only skip its
			// sequence number (they forward no padding-only packets).
			p.t.drops.emptyPayload.Add(1)
		} else if p.kind == "video" {
			s.noteLayer(p.lastSpatial, p.lastTemporal, size, now)
		}
	}
	pt := hdr.PayloadType & 0x7f
	keyFrame := p.lastKeyFrame
	if keyFrame {
		p.keyFrames.KeyFrameReceived(s.ssrc)
	}
	if p.videoOrientationExtID != 0 {
		p.checkVideoOrientation(hdr)
	}
	idx := s.idx
	mappedSsrc := s.mappedSsrc
	p.recvMu.Unlock()
	p.afterRecv(s, now)
	if newStream {
		p.logNewStream(hdr, idx)
		// A simulcast encoding started: consumers may now target it.
		for _, c := range *p.consumers.Load() {
			c.updateTarget(now)
		}
	}
	if p.paused.Load() || p.ptMap[pt] < 0 {
		return
	}
	if obs := p.rtpObservers.Load(); obs != nil {
		obs.observeRtp(hdr)
	}
	// Map into the router's space.
	p.fanMu.Lock()
	pkt := &p.pkt
	pkt.hdr = *hdr
	pkt.hdr.PayloadType = uint8(p.ptMap[pt])
	pkt.hdr.SSRC = mappedSsrc
	pkt.hdr.Extensions = p.extScratch[:0]
	pkt.hdr.Extension = false
	pkt.hdr.ExtensionProfile = 0
	if hdr.Extension {
		for _, id := range p.extIDs {
			if v := hdr.GetExtension(id); v != nil {
				_ = pkt.hdr.SetExtension(p.extMap[id], v)
			}
		}
	}
	p.extScratch = pkt.hdr.Extensions
	pkt.payload = payload
	pkt.shared.Reset(payload)
	pkt.empty = len(payload) == 0 || (hdr.Padding && int(payload[len(payload)-1]) >= len(payload))
	pkt.keyFrame = keyFrame
	pkt.encodingIdx = idx
	if tt := p.traceTypes.Load(); tt != 0 {
		if tt&1 != 0 {
			p.emitTrace("rtp", map[string]any{"ssrc": hdr.SSRC, "payloadType": hdr.PayloadType, "sequenceNumber": hdr.SequenceNumber, "isKeyFrame": keyFrame})
		}
		if keyFrame && tt&2 != 0 {
			p.emitTrace("keyframe", map[string]any{"ssrc": hdr.SSRC, "sequenceNumber": hdr.SequenceNumber})
		}
	}
	p.fan.send(pkt, *p.consumers.Load(), now)
	// The consumers that stored the packet hold their own references.
	pkt.shared.Release()
	p.fanMu.Unlock()
}

func (p *Producer) checkVideoOrientation(hdr *rtp.Header) {
	v := hdr.GetExtension(p.videoOrientationExtID)
	if len(v) < 1 {
		return
	}
	b := int(v[0])
	if b == p.lastOrient {
		return
	}
	p.lastOrient = b
	rotation := map[int]int{0: 0, 1: 90, 2: 180, 3: 270}[b&0x03]
	p.w.EmitJSON(p.id, "videoorientationchange", map[string]any{
		"camera": b&0x08 != 0, "flip": b&0x04 != 0, "rotation": rotation,
	})
}

func (p *Producer) receiveSenderReport(sr *rtcp.SenderReport, now int64) {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	for _, s := range p.streams {
		if s.recv != nil && s.hasSsrc && s.ssrc == sr.SSRC {
			if _, had := s.recv.LastSenderReport(); !had {
				p.log.Debugf(logger.TagRtcp, "first Sender Report received [producerId:%s, ssrc:%d]", p.id, sr.SSRC)
			}
			s.recv.ReceiveSenderReport(sr, now)
			if p.traceTypes.Load()&(1<<5) != 0 {
				p.emitTrace("sr", map[string]any{"ssrc": sr.SSRC, "ntpTimestamp": sr.NTPTime, "rtpTimestamp": sr.RTPTime})
			}
		}
	}
}

// senderReportOf returns the NTP/RTP mapping of an encoding's last SR, for
// consumers writing their own SRs (lip sync).
func (p *Producer) senderReportOf(idx int) (rtpstream.SenderReportInfo, bool) {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	if idx >= len(p.streams) || p.streams[idx].recv == nil {
		return rtpstream.SenderReportInfo{}, false
	}
	return p.streams[idx].recv.LastSenderReport()
}

func (p *Producer) sendNacks(now int64) {
	if p.closed.Load() {
		return
	}
	var pkts []rtcp.Packet
	p.recvMu.Lock()
	for _, s := range p.streams {
		if s.recv == nil {
			continue
		}
		var nack rtcp.TransportLayerNack
		if s.recv.CollectNack(now, &nack) {
			pkts = append(pkts, &nack)
			p.logNackSent(&nack, now)
			if p.traceTypes.Load()&(1<<2) != 0 {
				p.emitTrace("nack", map[string]any{"ssrc": s.ssrc})
			}
		}
	}
	p.recvMu.Unlock()
	p.t.sendRtcpPackets(pkts, now)
}

func (p *Producer) sendReceiverReports(now int64) {
	if p.closed.Load() {
		return
	}
	p.recvMu.Lock()
	var reports []rtcp.ReceptionReport
	changed := false
	scores := p.lastScores
	if len(scores) != len(p.streams) {
		scores = make([]int, len(p.streams))
		changed = true
	}
	for i, s := range p.streams {
		if s.recv == nil {
			continue
		}
		reports = append(reports, s.recv.ReceiverReport(now, 0))
		if sc := int(s.recv.Score()); sc != scores[i] {
			scores[i] = sc
			changed = true
		}
	}
	p.lastScores = scores
	p.recvMu.Unlock()
	if len(reports) > 0 {
		// A receiver has no SSRC of its own here; mediasoup uses 1 too.
		p.t.sendRtcpPackets([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1, Reports: reports}}, now)
	}
	if changed {
		p.emitScore()
	}
}

// scores returns mediasoup's producer score array.
func (p *Producer) scores() []map[string]any {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	out := []map[string]any{}
	for _, s := range p.streams {
		if s.recv == nil {
			continue
		}
		e := map[string]any{"encodingIdx": s.idx, "ssrc": s.ssrc, "score": s.recv.Score()}
		if s.rid != "" {
			e["rid"] = s.rid
		}
		out = append(out, e)
	}
	return out
}

func (p *Producer) emitScore() {
	if p.log.On(logger.LevelDebug, logger.TagScore) {
		p.log.Debugf(logger.TagScore, "Producer score changed [producerId:%s, scores:%v]", p.id, p.scoreList())
	}
	sc := p.scores()
	p.w.EmitJSON(p.id, "score", sc)
	for _, c := range *p.consumers.Load() {
		c.producerScoreChanged(sc)
	}
}

// requestKeyFrame asks the remote sender for a key frame on the stream a
// consumer needs, through the key frame request manager's throttle.
func (p *Producer) requestKeyFrame(idx int, now int64) {
	if p.closed.Load() || p.kind != "video" {
		return
	}
	p.recvMu.Lock()
	if idx < 0 || idx >= len(p.streams) {
		idx = 0
	}
	var s *producerStream
	if idx < len(p.streams) {
		s = p.streams[idx]
	}
	if s == nil || !s.hasSsrc || s.recv == nil {
		p.recvMu.Unlock()
		return
	}
	if !p.keyFrames.KeyFrameNeeded(s.ssrc, now) {
		p.recvMu.Unlock()
		return
	}
	pkt := s.recv.RequestKeyFrame()
	p.recvMu.Unlock()
	if pkt == nil {
		return
	}
	p.logKeyFrameRequest(pkt)
	if p.traceTypes.Load()&(1<<3) != 0 {
		p.emitTrace("pli", map[string]any{"ssrc": s.ssrc})
	}
	p.t.sendRtcpPackets([]rtcp.Packet{pkt}, now)
}

func (p *Producer) addConsumer(c *Consumer) {
	p.consMu.Lock()
	old := *p.consumers.Load()
	next := make([]*Consumer, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, c)
	p.consumers.Store(&next)
	p.consMu.Unlock()
}

func (p *Producer) removeConsumer(c *Consumer) {
	p.consMu.Lock()
	old := *p.consumers.Load()
	next := make([]*Consumer, 0, len(old))
	for _, x := range old {
		if x != c {
			next = append(next, x)
		}
	}
	p.consumers.Store(&next)
	p.consMu.Unlock()
}

func (p *Producer) close() {
	if p.closed.Swap(true) {
		return
	}
	t := p.t
	t.listener.remove(p)
	t.mu.Lock()
	delete(t.producers, p.id)
	t.mu.Unlock()
	t.router.removeProducer(p)
	p.w.unregister(p.id)
	// Wait for an in-flight packet before telling consumers.
	p.fanMu.Lock()
	p.consMu.Lock()
	consumers := *p.consumers.Load()
	empty := []*Consumer{}
	p.consumers.Store(&empty)
	p.consMu.Unlock()
	p.fan.close()
	p.fanMu.Unlock()
	for _, c := range consumers {
		c.producerClosed()
	}
	p.log.Debug("Producer closed [id:%s]", p.id)
}

func (p *Producer) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "producer.dump":
		return p.dump(), nil
	case "producer.getStats":
		return p.stats(), nil
	case "producer.pause":
		if !p.paused.Swap(true) {
			for _, c := range *p.consumers.Load() {
				c.producerPaused()
			}
		}
		return nil, nil
	case "producer.resume":
		if p.paused.Swap(false) {
			for _, c := range *p.consumers.Load() {
				c.producerResumed()
			}
			// Consumers need a key frame to start again.
			if p.kind == "video" {
				p.requestKeyFrame(0, p.t.w.nowMs())
			}
		}
		return nil, nil
	case "producer.enableTraceEvent":
		var req struct {
			Types []string `json:"types"`
		}
		_ = json.Unmarshal(data, &req)
		p.traceTypes.Store(parseTraceTypes(req.Types, producerTraceTypes))
		return nil, nil
	case "producer.send":
		if p.t.typ != "direct" {
			return nil, Errorf("producer.send() only valid on a DirectTransport")
		}
		var hdr rtp.Header
		p.t.ReceiveRtpFor(p, data, &hdr, p.t.w.nowMs())
		return nil, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

// ReceiveRtpFor injects a packet for a known producer (DirectTransport).
func (t *Transport) ReceiveRtpFor(p *Producer, buf []byte, hdr *rtp.Header, now int64) {
	if len(buf) > maxProducerSendSize {
		t.drops.oversized.Add(1)
		return
	}
	n, ok := unmarshalRtp(buf, hdr)
	if !ok {
		t.drops.rtp.Add(1)
		return
	}
	t.recvStats.add(len(buf), trafficRtp, now)
	p.receiveRtp(hdr, buf[n:], len(buf), now)
}

func (p *Producer) stats() []any {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	out := []any{}
	for _, s := range p.streams {
		if s.recv != nil {
			out = append(out, s.recv.Stats(p.t.w.nowMs()))
		}
	}
	return out
}

func (p *Producer) dump() any {
	p.recvMu.Lock()
	streams := []any{}
	for _, s := range p.streams {
		if s.recv == nil {
			continue
		}
		streams = append(streams, map[string]any{
			"params": map[string]any{
				"encodingIdx": s.idx, "ssrc": s.ssrc, "rid": s.rid, "payloadType": s.payloadTyp,
				"mimeType": s.mimeType, "clockRate": s.clockRate, "rtxSsrc": s.rtxSsrc,
			},
			"score": s.recv.Score(),
		})
	}
	p.recvMu.Unlock()
	return map[string]any{
		"id":              p.id,
		"kind":            p.kind,
		"type":            p.typ,
		"rtpParameters":   dumpRtpParameters(p.rtpParameters),
		"rtpMapping":      p.mapping,
		"rtpStreams":      streams,
		"traceEventTypes": traceTypeNames(p.traceTypes.Load(), producerTraceTypes),
		"paused":          p.paused.Load(),
	}
}

func (p *Producer) emitTrace(typ string, info map[string]any) {
	p.w.EmitJSON(p.id, "trace", map[string]any{
		"type": typ, "timestamp": p.t.w.nowMs(), "direction": "in", "info": info,
	})
}

func isVideoMime(m string) bool { return strings.HasPrefix(strings.ToLower(m), "video/") }

// packetInfo describes a packet for its RecvStream; called with recvMu held.
func (p *Producer) packetInfo(pt uint8, payload []byte, size int, hdr *rtp.Header) rtpstream.PacketInfo {
	payloadSize := len(payload)
	if hdr.Padding && payloadSize > 0 {
		pad := int(payload[payloadSize-1])
		if pad <= payloadSize {
			payloadSize -= pad
		}
	}
	keyFrame := false
	p.lastSpatial, p.lastTemporal = 0, 0
	if p.kind == "video" && payloadSize > 0 {
		keyFrame, p.lastSpatial, p.lastTemporal = p.codec[pt&0x7f].Inspect(payload[:payloadSize])
	}
	p.lastKeyFrame = keyFrame
	info := rtpstream.PacketInfo{Size: size, PayloadSize: payloadSize, KeyFrame: keyFrame}
	return info
}

// afterRecv acts on what the stream raised: NACKs right away, key frame
// requests when the NACK list overflowed, score events.
func (p *Producer) afterRecv(s *producerStream, now int64) {
	if s.recv == nil {
		return
	}
	ev := s.recv.TakeEvents()
	if ev == 0 {
		return
	}
	if ev&rtpstream.EventNackPending != 0 {
		p.recvMu.Lock()
		ok := s.recv.CollectNack(now, &p.nack)
		var pkt *rtcp.TransportLayerNack
		if ok {
			cp := p.nack
			cp.Nacks = append([]rtcp.NackPair(nil), p.nack.Nacks...)
			pkt = &cp
		}
		p.recvMu.Unlock()
		if pkt != nil {
			p.logNackSent(pkt, now)
			p.t.sendRtcpPackets([]rtcp.Packet{pkt}, now)
		}
	}
	if ev&rtpstream.EventKeyFrameNeeded != 0 {
		p.requestKeyFrame(s.idx, now)
	}
	if ev&rtpstream.EventScoreChanged != 0 {
		p.emitScore()
	}
}

// pollKeyFrames sends the key frame requests that a keyFrameRequestDelay
// held back.
func (p *Producer) pollKeyFrames(now int64) {
	if p.closed.Load() || p.kind != "video" {
		return
	}
	var buf [4]uint32
	var pkts []rtcp.Packet
	p.recvMu.Lock()
	for _, ssrc := range p.keyFrames.Poll(now, buf[:0]) {
		for _, s := range p.streams {
			if s.recv != nil && s.hasSsrc && s.ssrc == ssrc {
				if pkt := s.recv.RequestKeyFrame(); pkt != nil {
					pkts = append(pkts, pkt)
				}
			}
		}
	}
	p.recvMu.Unlock()
	for _, pkt := range pkts {
		p.logKeyFrameRequest(pkt)
	}
	p.t.sendRtcpPackets(pkts, now)
}

// checkInactivity drops the score of streams that stopped sending.
func (p *Producer) checkInactivity(now int64) {
	p.recvMu.Lock()
	changed := false
	for _, s := range p.streams {
		if s.recv != nil {
			s.recv.CheckInactivity(now)
			if s.recv.TakeEvents()&rtpstream.EventScoreChanged != 0 {
				changed = true
			}
		}
	}
	p.recvMu.Unlock()
	if changed {
		p.emitScore()
	}
}

// dumpRtpParameters renders params the way mediasoup's worker dumps them:
// canonical MIME type case, RTCP feedback without empty parameters, and
// every encoding naming its codec payload type (the first media codec
// unless given).
func dumpRtpParameters(params *ortc.RtpParameters) any {
	b, err := json.Marshal(params)
	if err != nil {
		return params
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return params
	}
	firstPT := -1
	for _, c := range params.Codecs {
		if !ortc.IsRtxMimeType(c.MimeType) {
			firstPT = c.PayloadType
			break
		}
	}
	if codecs, ok := m["codecs"].([]any); ok {
		for _, ci := range codecs {
			c, ok := ci.(map[string]any)
			if !ok {
				continue
			}
			if mt, ok := c["mimeType"].(string); ok {
				c["mimeType"] = canonicalMimeType(mt)
			}
			if fbs, ok := c["rtcpFeedback"].([]any); ok {
				for _, fi := range fbs {
					if fb, ok := fi.(map[string]any); ok && fb["parameter"] == "" {
						delete(fb, "parameter")
					}
				}
			}
		}
	}
	if encs, ok := m["encodings"].([]any); ok && firstPT >= 0 {
		for _, ei := range encs {
			if e, ok := ei.(map[string]any); ok {
				if _, has := e["codecPayloadType"]; !has {
					e["codecPayloadType"] = firstPT
				}
			}
		}
	}
	return m
}

var canonicalMimeTypes = func() map[string]string {
	out := map[string]string{}
	for _, c := range ortc.SupportedRtpCapabilities().Codecs {
		out[strings.ToLower(c.MimeType)] = c.MimeType
	}
	out["audio/rtx"] = "audio/rtx"
	out["video/rtx"] = "video/rtx"
	return out
}()

func canonicalMimeType(mt string) string {
	if c, ok := canonicalMimeTypes[strings.ToLower(mt)]; ok {
		return c
	}
	return mt
}

// scoreList returns one score per encoding (0 until it receives), as
// consumers report producerScores.
func (p *Producer) scoreList() []int {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	out := make([]int, len(p.streams))
	for i, s := range p.streams {
		if s.recv != nil {
			out[i] = int(s.recv.Score())
		}
	}
	return out
}

// rtpToNtp maps an RTP timestamp of an encoding to the sender's NTP time
// (from its last Sender Report).
func (p *Producer) rtpToNtp(idx int, ts uint32) (uint64, bool) {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	if idx < 0 || idx >= len(p.streams) || p.streams[idx].recv == nil {
		return 0, false
	}
	return p.streams[idx].recv.RTPToNTP(ts)
}

// streamStates tells which encodings are receiving media, and at what
// bitrate.
func (p *Producer) streamStates(now int64) (active []bool, bitrates []uint32) {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	active = make([]bool, len(p.streams))
	bitrates = make([]uint32, len(p.streams))
	for i, s := range p.streams {
		if s.recv != nil {
			active[i] = s.recv.Active()
			bitrates[i] = s.recv.Bitrate(now)
		}
	}
	return active, bitrates
}

// layerBitrates returns, per stream, the bitrate of each spatial and
// temporal layer measured over the last second (bps; not cumulative), and
// whether each stream is active.
func (p *Producer) layerBitrates(now int64) (active []bool, rates [][maxLayers][maxLayers]uint64) {
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	active = make([]bool, len(p.streams))
	rates = make([][maxLayers][maxLayers]uint64, len(p.streams))
	for i, s := range p.streams {
		if s.recv == nil {
			continue
		}
		active[i] = s.recv.Active()
		for sl := range s.layerRates {
			for tl, r := range s.layerRates[sl] {
				if r != nil {
					rates[i][sl][tl] = uint64(r.Rate(now))
				}
			}
		}
	}
	return active, rates
}

// totalBitrate is the bitrate the producer receives over all its streams.
func (p *Producer) totalBitrate(now int64) uint64 {
	_, bitrates := p.streamStates(now)
	var sum uint64
	for _, b := range bitrates {
		sum += uint64(b)
	}
	return sum
}

type rembInput struct {
	ssrcs        []uint32
	bitrate      uint64
	fractionLost uint8
}

// rembInputs returns the SSRCs, incoming bitrate and worst loss of the
// producer's streams, for REMB.
func (p *Producer) rembInputs(now int64) rembInput {
	var in rembInput
	if p.closed.Load() {
		return in
	}
	p.recvMu.Lock()
	defer p.recvMu.Unlock()
	for _, s := range p.streams {
		if s.recv == nil {
			continue
		}
		in.ssrcs = append(in.ssrcs, s.ssrc)
		st := s.recv.Stats(now)
		in.bitrate += uint64(st.Bitrate)
		in.fractionLost = max(in.fractionLost, st.FractionLost)
	}
	return in
}
