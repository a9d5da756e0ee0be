package engine

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/codecs"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/ortc"
	"github.com/gosfu/gosfu/gosfu/rtpstream"
	"github.com/gosfu/gosfu/gosfu/seqmanager"
)

// Consumer sends one producer's media to the remote peer of its transport,
// rewritten to its own SSRC, sequence numbers and header extension ids.
type Consumer struct {
	id       string
	kind     string
	typ      string
	t        *Transport
	w        *Worker
	producer *Producer
	log      *logger.Named

	rtpParameters *ortc.RtpParameters
	ssrc          uint32
	rtxSsrc       uint32
	cname         string
	mid           string
	midBytes      []byte
	midExtID      uint8
	// absSendTimeExtID and twccExtID are written by the consumer itself:
	// they describe this hop, not the producer's.
	absSendTimeExtID uint8
	twccExtID        uint8
	absSendTime      [3]byte
	twccSeq          [2]byte
	// extIDs lists the header extension ids negotiated with the remote
	// (mid excluded: the consumer writes its own).
	extIDs []uint8
	// ptAllowed lists the payload types the remote accepts.
	ptAllowed [128]bool

	paused        atomic.Bool
	producerPause atomic.Bool
	closed        atomic.Bool
	priority      atomic.Int32
	traceTypes    atomic.Uint32
	// preferred spatial and temporal layers (simulcast/svc), clamped to
	// what the producer sends.
	preferredSpatial  atomic.Int32
	preferredTemporal atomic.Int32
	maxSpatial        int
	maxTemporal       int

	// mu serialises the send path (packets from the producer) with RTCP
	// feedback (from the transport) and timers.
	mu           sync.Mutex
	send         *rtpstream.SendStream
	seq          *seqmanager.SeqManager[uint16]
	syncRequired bool
	// encodingIdx is the producer encoding currently forwarded (-1 before
	// the first key frame); targetIdx the one wanted (simulcast: preferred
	// layer, lowered to what is active). A switch happens on a key frame of
	// the target.
	encodingIdx int
	targetIdx   int
	// Timestamps are continuous across switches: out = in + tsOffset.
	tsOffset  uint32
	lastInTs  uint32
	lastOutTs uint32
	haveSent  bool
	clockRate uint32
	// vp8 keeps VP8 picture ids and TL0PICIDX continuous across simulcast
	// stream switches and dropped temporal layer frames (nil unless a VP8
	// simulcast consumer, or a VP8 svc one with temporal layers): without it
	// a receiver takes the new stream's key frame for an old frame.
	vp8     *codecs.VP8PictureIDRewriter
	vp8Desc codecs.VP8Descriptor
	// temporal is set for VP8 consumers whose stream has temporal layers
	// (simulcast or a single L1Tn encoding): packets above the wanted
	// temporal layer are dropped, as mediasoup does. tlTarget is the
	// preferred temporal layer, taken at each new frame; tlCurrent the
	// highest layer forwarded (-1 before the first packet). Going up waits
	// for a layer sync (Y) frame or a key frame; going down happens at the
	// next frame. tlFrameTs is the RTP timestamp of the newest frame seen.
	temporal  bool
	tlTarget  int
	tlCurrent int
	tlFrameTs uint32
	tlHaveTs  bool
	// vp9svc is set for svc consumers of a VP9 stream with spatial or
	// temporal layers: packets above the current spatial (slCurrent, -1
	// before the first key frame) or temporal layer (tlCurrent) are dropped
	// and the marker bit is set at the end of the current spatial layer's
	// frame (see svcForward). Lower spatial layers are always forwarded,
	// in K-SVC too, so that going down needs no key frame.
	vp9svc    bool
	slTarget  int
	slCurrent int
	// slSent is the number of spatial layers the stream has, from the
	// latest scalability structure (0 before one): the encoder may send
	// fewer than its scalabilityMode says (libwebrtc: none under 240x135).
	// Reports clamp the current spatial layer to it.
	slSent  int
	vp9Desc codecs.VP9Descriptor
	// svcFwd records the picture ids forwarded, by pictureId % 256 (-1:
	// none), for the flexible mode's reference check (see svcForward).
	svcFwd *[256]int32
	// layers last reported by layerschange (-1 before the first).
	reportedSpatial  int
	reportedTemporal int

	// pipe holds the streams of a pipe consumer, one per producer encoding
	// (nil for other types); see pipeconsumer.go.
	pipe []*pipeStream

	extScratch  []rtp.Extension
	buf         []byte
	rtxBuf      []byte
	lastScore   int
	lastPScores []map[string]any
}

var consumerTraceTypes = []string{"rtp", "keyframe", "nack", "pli", "fir"}

func (t *Transport) consume(data []byte) (any, error) {
	var req struct {
		ConsumerID      string          `json:"consumerId"`
		ProducerID      string          `json:"producerId"`
		RtpCapabilities any             `json:"rtpCapabilities"`
		Paused          bool            `json:"paused"`
		Mid             string          `json:"mid"`
		PreferredLayers json.RawMessage `json:"preferredLayers"`
		IgnoreDtx       bool            `json:"ignoreDtx"`
		EnableRtx       *bool           `json:"enableRtx"`
		Pipe            bool            `json:"pipe"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	// On a PipeTransport every consumer is a pipe consumer, with the
	// transport's RTX setting and no remote capabilities.
	var caps *ortc.RtpCapabilities
	if t.typ != "pipe" {
		var err error
		if caps, err = ortc.ValidateRtpCapabilities(req.RtpCapabilities); err != nil {
			return nil, err
		}
	}
	producer := t.router.producer(req.ProducerID)
	if producer == nil {
		return nil, &Error{Name: "NotFoundError", Message: "Producer with id \"" + req.ProducerID + "\" not found"}
	}
	var params *ortc.RtpParameters
	if t.typ == "pipe" {
		req.Pipe = true
		params = ortc.GetPipeConsumerRtpParameters(producer.consumable, t.pipeRtx())
	} else {
		enableRtx := producer.kind == "video"
		if req.EnableRtx != nil {
			enableRtx = *req.EnableRtx
		}
		var err error
		if params, err = ortc.GetConsumerRtpParameters(producer.consumable, caps, req.Pipe, enableRtx); err != nil {
			return nil, err
		}
	}
	if !req.Pipe {
		if req.Mid != "" {
			params.Mid = req.Mid
		} else {
			params.Mid = t.allocMid()
		}
	}
	typ := producer.typ
	if req.Pipe {
		typ = "pipe"
	}
	c := &Consumer{
		id:            req.ConsumerID,
		kind:          producer.kind,
		typ:           typ,
		t:             t,
		w:             t.w,
		producer:      producer,
		log:           t.w.log.Named("Consumer"),
		rtpParameters: params,
		cname:         params.Rtcp.Cname,
		mid:           params.Mid,
		midBytes:      []byte(params.Mid),
		seq:           seqmanager.New[uint16](uint16(rand.IntN(0x7fff))),
		syncRequired:  true,
		buf:           make([]byte, 1500),
		rtxBuf:        make([]byte, 1500),
		lastScore:     -1,
	}
	c.priority.Store(1)
	if len(params.Encodings) > 0 {
		sm := ortc.ParseScalabilityMode(params.Encodings[0].ScalabilityMode)
		c.maxSpatial, c.maxTemporal = sm.SpatialLayers-1, sm.TemporalLayers-1
	}
	c.preferredSpatial.Store(int32(c.maxSpatial))
	c.preferredTemporal.Store(int32(c.maxTemporal))
	c.paused.Store(req.Paused)
	c.producerPause.Store(producer.paused.Load())
	if len(params.Encodings) > 0 {
		e := params.Encodings[0]
		if e.Ssrc != nil {
			c.ssrc = *e.Ssrc
		}
		if e.Rtx != nil {
			c.rtxSsrc = e.Rtx.Ssrc
		}
	}
	for _, e := range params.HeaderExtensions {
		if e.Id > 0 && e.Id < 256 {
			switch e.Uri {
			case uriMid:
				c.midExtID = uint8(e.Id)
			case uriAbsSendTime:
				c.absSendTimeExtID = uint8(e.Id)
			case uriTransportCC:
				c.twccExtID = uint8(e.Id)
			default:
				c.extIDs = append(c.extIDs, uint8(e.Id))
			}
		}
	}
	var media *ortc.RtpCodecParameters
	rtxPT := -1
	for i := range params.Codecs {
		codec := &params.Codecs[i]
		if codec.PayloadType < 0 || codec.PayloadType > 127 {
			continue
		}
		if ortc.IsRtxMimeType(codec.MimeType) {
			if rtxPT < 0 {
				rtxPT = codec.PayloadType
			}
			continue
		}
		c.ptAllowed[codec.PayloadType] = true
		if media == nil {
			media = codec
		}
	}
	if media == nil {
		return nil, Errorf("no media codec in consumer parameters")
	}
	cfg := rtpstream.SendConfig{
		SSRC:        c.ssrc,
		PayloadType: uint8(media.PayloadType),
		ClockRate:   uint32(media.ClockRate),
		MimeType:    media.MimeType,
		Cname:       c.cname,
	}
	for _, fb := range media.RtcpFeedback {
		switch {
		case fb.Type == "nack" && fb.Parameter == "":
			cfg.UseNack = true
		case fb.Type == "nack" && fb.Parameter == "pli":
			cfg.UsePli = true
		case fb.Type == "ccm" && fb.Parameter == "fir":
			cfg.UseFir = true
		}
	}
	if rtxPT >= 0 && c.rtxSsrc != 0 {
		cfg.RtxSSRC = c.rtxSsrc
		cfg.RtxPayloadType = uint8(rtxPT)
	}
	cfg.InitialRtxSeq = uint16(rand.IntN(0xffff))
	c.send = rtpstream.NewSendStream(cfg)
	if c.typ == "pipe" {
		c.setupPipe(cfg, params, rtxPT)
	}
	if len(req.PreferredLayers) > 0 && string(req.PreferredLayers) != "null" {
		if err := c.setPreferredLayers(req.PreferredLayers); err != nil {
			return nil, err
		}
	}
	c.encodingIdx = -1
	c.targetIdx = c.activeTarget()
	c.clockRate = uint32(media.ClockRate)
	c.tlCurrent, c.reportedSpatial, c.reportedTemporal = -1, -1, -1
	if strings.EqualFold(media.MimeType, "video/VP8") {
		if c.typ == "simulcast" || (c.typ == "svc" && c.maxTemporal > 0) {
			c.vp8 = &codecs.VP8PictureIDRewriter{}
		}
		c.temporal = c.vp8 != nil && c.maxTemporal > 0
	}
	c.slCurrent = -1
	c.vp9svc = strings.EqualFold(media.MimeType, "video/VP9") && c.typ == "svc" && (c.maxSpatial > 0 || c.maxTemporal > 0)
	if c.vp9svc {
		c.svcFwd = new([256]int32)
		for i := range c.svcFwd {
			c.svcFwd[i] = -1
		}
	}

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, InvalidStateErrorf("Transport closed")
	}
	if _, ok := t.consumers[c.id]; ok {
		t.mu.Unlock()
		return nil, Errorf("a Consumer with same consumerId already exists [method:transport.consume]")
	}
	t.consumers[c.id] = c
	t.mu.Unlock()
	if err := t.w.register(c.id, c); err != nil {
		t.mu.Lock()
		delete(t.consumers, c.id)
		t.mu.Unlock()
		return nil, err
	}
	t.consumersMu.Lock()
	for _, ssrc := range c.ssrcs() {
		t.consumersBySsrc[ssrc] = c
	}
	t.consumersMu.Unlock()
	t.router.addConsumer(producer, c)
	producer.addConsumer(c)
	if producer.closed.Load() {
		c.producerClosed()
		return nil, &Error{Name: "NotFoundError", Message: "Producer with id \"" + req.ProducerID + "\" not found"}
	}
	if c.active() {
		c.requestProducerKeyFrame(c.targetIdx, t.w.nowMs())
	}
	out := map[string]any{
		"kind":           c.kind,
		"rtpParameters":  params,
		"type":           c.typ,
		"paused":         c.paused.Load(),
		"producerPaused": c.producerPause.Load(),
		"score":          c.scoreObject(),
	}
	if c.typ == "simulcast" || c.typ == "svc" {
		out["preferredLayers"] = c.preferredLayers()
	}
	c.log.Debug("Consumer created [id:%s, producerId:%s, type:%s]", c.id, producer.id, c.typ)
	return out, nil
}

// targetEncoding picks the producer encoding to forward: for simulcast
// the stream of the preferred spatial layer; SVC and simple producers
// have one stream.
func (c *Consumer) targetEncoding() int {
	n := len(c.producer.streams)
	if n <= 1 || c.typ != "simulcast" {
		return 0
	}
	pl := int(c.preferredSpatial.Load())
	if pl >= n {
		pl = n - 1
	}
	if pl < 0 {
		pl = 0
	}
	return pl
}

func (c *Consumer) preferredLayers() map[string]any {
	return map[string]any{"spatialLayer": c.preferredSpatial.Load(), "temporalLayer": c.preferredTemporal.Load()}
}

// setPreferredLayers applies {spatialLayer, temporalLayer?} with
// mediasoup's clamping: an omitted temporal layer means the highest.
func (c *Consumer) setPreferredLayers(data []byte) error {
	var req struct {
		SpatialLayer  *float64 `json:"spatialLayer"`
		TemporalLayer *float64 `json:"temporalLayer"`
	}
	if err := json.Unmarshal(data, &req); err != nil || req.SpatialLayer == nil {
		return TypeErrorf("missing spatialLayer")
	}
	sl := int(*req.SpatialLayer)
	if sl > c.maxSpatial {
		sl = c.maxSpatial
	}
	if sl < 0 {
		sl = 0
	}
	tl := c.maxTemporal
	if req.TemporalLayer != nil {
		tl = int(*req.TemporalLayer)
		if tl > c.maxTemporal {
			tl = c.maxTemporal
		}
		if tl < 0 {
			tl = 0
		}
	}
	c.preferredSpatial.Store(int32(sl))
	c.preferredTemporal.Store(int32(tl))
	return nil
}

func (c *Consumer) active() bool {
	return !c.closed.Load() && !c.paused.Load() && !c.producerPause.Load() && c.t.link.connected()
}

// sendRtp forwards one mapped producer packet. Called by the producer's
// fan-out; must not block.
func (c *Consumer) sendRtp(p *rtpPacket, now int64) {
	if c.pipe != nil {
		c.sendPipeRtp(p, now)
		return
	}
	if !c.active() {
		return
	}
	if p.hdr.PayloadType > 127 || !c.ptAllowed[p.hdr.PayloadType] || p.empty {
		// A codec the remote does not take, or padding only (not
		// forwarded, as in mediasoup): leave no hole in the sequence.
		c.mu.Lock()
		if p.encodingIdx == c.encodingIdx && !c.syncRequired {
			c.seq.Drop(p.hdr.SequenceNumber)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	if p.encodingIdx != c.encodingIdx {
		// Another stream: only the target's key frame starts it (audio has
		// no key frames and a single stream).
		if p.encodingIdx != c.targetIdx || (c.kind == "video" && !p.keyFrame) {
			c.mu.Unlock()
			return
		}
		c.switchTo(p)
	} else if c.syncRequired {
		if c.kind == "video" && !p.keyFrame {
			// Delta frames are useless to a decoder before a key frame.
			c.mu.Unlock()
			return
		}
		c.seq.Sync(p.hdr.SequenceNumber - 1)
		c.syncRequired = false
		c.tlHaveTs = false
		if c.vp8 != nil {
			c.vp8.Sync()
		}
	}
	// VP8: temporal layer filtering, then the picture id and TL0PICIDX the
	// receiver gets (written into the outgoing copy below).
	var vp8Pic uint16
	var vp8Tl0 uint8
	vp8Ok := false
	if c.vp8 != nil {
		payload := p.payload
		if p.hdr.Padding && len(payload) > 0 && int(payload[len(payload)-1]) <= len(payload) {
			payload = payload[:len(payload)-int(payload[len(payload)-1])]
		}
		if len(payload) > 0 && c.vp8Desc.Unmarshal(payload) == nil {
			if c.temporal && !c.temporalForward(p, &c.vp8Desc) {
				c.vp8.Drop(&c.vp8Desc)
				c.seq.Drop(p.hdr.SequenceNumber)
				c.mu.Unlock()
				return
			}
			if vp8Pic, vp8Tl0, vp8Ok = c.vp8.Map(&c.vp8Desc); !vp8Ok {
				// A late packet of a dropped picture.
				c.seq.Drop(p.hdr.SequenceNumber)
				c.mu.Unlock()
				return
			}
		}
	}
	// VP9 SVC: spatial and temporal layer filtering.
	svcMarker := false
	if c.vp9svc {
		payload := p.payload
		if p.hdr.Padding && len(payload) > 0 && int(payload[len(payload)-1]) <= len(payload) {
			payload = payload[:len(payload)-int(payload[len(payload)-1])]
		}
		if len(payload) > 0 && c.vp9Desc.Unmarshal(payload) == nil && c.vp9Desc.HasLayerIndices {
			fwd, marker := c.svcForward(p, &c.vp9Desc)
			if !fwd {
				c.seq.Drop(p.hdr.SequenceNumber)
				c.mu.Unlock()
				return
			}
			svcMarker = marker
		}
	}
	seq, ok := c.seq.Input(p.hdr.SequenceNumber)
	if !ok {
		c.mu.Unlock()
		return
	}
	hdr := p.hdr
	if svcMarker {
		hdr.Marker = true
	}
	hdr.SSRC = c.ssrc
	hdr.SequenceNumber = seq
	hdr.Timestamp = p.hdr.Timestamp + c.tsOffset
	if !c.haveSent || int32(p.hdr.Timestamp-c.lastInTs) > 0 {
		c.lastInTs, c.lastOutTs = p.hdr.Timestamp, hdr.Timestamp
	}
	c.haveSent = true
	hdr.Extensions = c.extScratch[:0]
	hdr.Extension = false
	hdr.ExtensionProfile = 0
	if p.hdr.Extension {
		for _, id := range c.extIDs {
			if v := p.hdr.GetExtension(id); v != nil {
				_ = hdr.SetExtension(id, v)
			}
		}
	}
	if c.midExtID != 0 && c.mid != "" {
		_ = hdr.SetExtension(c.midExtID, c.midBytes)
	}
	if c.absSendTimeExtID != 0 {
		v := absSendTime(c.t.w.clock.Now())
		c.absSendTime = [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
		_ = hdr.SetExtension(c.absSendTimeExtID, c.absSendTime[:])
	}
	if c.twccExtID != 0 {
		seq := c.t.twccSendSeq.Add(1)
		c.twccSeq = [2]byte{byte(seq >> 8), byte(seq)}
		_ = hdr.SetExtension(c.twccExtID, c.twccSeq[:])
	}
	c.extScratch = hdr.Extensions
	size := hdr.MarshalSize() + len(p.payload)
	if size > len(c.buf) {
		c.buf = make([]byte, size)
	}
	n, err := hdr.MarshalTo(c.buf)
	if err != nil {
		c.mu.Unlock()
		return
	}
	copy(c.buf[n:], p.payload)
	b := c.buf[:size]
	if vp8Ok {
		codecs.VP8Rewrite(b[n:], &c.vp8Desc, vp8Pic, vp8Tl0)
	}
	if c.send.SendPacket(b, now) == rtpstream.SendDiscarded {
		c.mu.Unlock()
		return
	}
	c.t.sendRtp(c, b, trafficRtp, now)
	// layerschange when the forwarded spatial or temporal layer changes.
	layersChanged := false
	spatial, temporal := c.encodingIdx, c.maxTemporal
	if c.temporal && c.tlCurrent >= 0 {
		temporal = c.tlCurrent
	}
	if c.vp9svc && c.slCurrent >= 0 {
		spatial, temporal = c.slCurrent, c.tlCurrent
		if c.slSent > 0 && spatial >= c.slSent {
			spatial = c.slSent - 1
		}
	}
	if (c.typ == "simulcast" || c.typ == "svc") && (spatial != c.reportedSpatial || temporal != c.reportedTemporal) {
		c.reportedSpatial, c.reportedTemporal = spatial, temporal
		layersChanged = true
	}
	c.mu.Unlock()
	if layersChanged {
		c.logLayers(spatial, temporal)
		c.w.EmitJSON(c.id, "layerschange", map[string]any{"spatialLayer": spatial, "temporalLayer": temporal})
	}
	if tt := c.traceTypes.Load(); tt != 0 {
		if tt&1 != 0 {
			c.emitTrace("rtp", map[string]any{"ssrc": hdr.SSRC, "sequenceNumber": seq, "isKeyFrame": p.keyFrame})
		}
		if p.keyFrame && tt&2 != 0 {
			c.emitTrace("keyframe", map[string]any{"ssrc": hdr.SSRC, "sequenceNumber": seq})
		}
	}
}

func (c *Consumer) receiveNack(nack *rtcp.TransportLayerNack, now int64) {
	if c.closed.Load() {
		return
	}
	send := c.send
	if c.pipe != nil {
		s := c.pipeStreamOf(nack.MediaSSRC)
		if s == nil {
			return
		}
		send = s.send
	}
	resent := 0
	c.mu.Lock()
	send.ReceiveNack(nack, now, func(pkt []byte, isRtx bool) {
		kind := trafficRtp
		if isRtx {
			kind = trafficRtx
		}
		c.t.sendRtp(c, pkt, kind, now)
		resent++
	})
	c.mu.Unlock()
	c.logRetransmitted(nack, resent, now)
	if c.traceTypes.Load()&(1<<2) != 0 {
		c.emitTrace("nack", map[string]any{"ssrc": nack.MediaSSRC})
	}
}

// receiveKeyFrameRequest handles a PLI (or FIR) from the remote for ssrc.
func (c *Consumer) receiveKeyFrameRequest(ssrc uint32, fir bool, now int64) {
	if c.closed.Load() {
		return
	}
	send := c.send
	if c.pipe != nil {
		s := c.pipeStreamOf(ssrc)
		if s == nil {
			return
		}
		send = s.send
	}
	c.mu.Lock()
	send.ReceiveKeyFrameRequest(fir)
	idx := c.targetIdx
	c.mu.Unlock()
	if tt := c.traceTypes.Load(); (fir && tt&(1<<4) != 0) || (!fir && tt&(1<<3) != 0) {
		typ := "pli"
		if fir {
			typ = "fir"
		}
		c.emitTrace(typ, map[string]any{"ssrc": send.SSRC()})
	}
	if c.active() {
		// A pipe consumer asks for every stream, as mediasoup does.
		c.requestProducerKeyFrame(idx, now)
	}
}

func (c *Consumer) receiveReceiverReport(rr *rtcp.ReceptionReport, now int64) {
	send := c.send
	if c.pipe != nil {
		if s := c.pipeStreamOf(rr.SSRC); s != nil && s.ssrc == rr.SSRC {
			send = s.send
		} else {
			return
		}
	} else if rr.SSRC != c.ssrc {
		return
	}
	if c.closed.Load() {
		return
	}
	c.mu.Lock()
	send.ReceiveReceiverReport(rr, now)
	c.mu.Unlock()
	c.maybeEmitScore()
}

func (c *Consumer) sendSenderReport(now int64) {
	if c.closed.Load() {
		return
	}
	if c.pipe != nil {
		c.sendPipeSenderReports(now)
		return
	}
	var sr rtcp.SenderReport
	c.mu.Lock()
	ok := c.send.SenderReport(now, c.t.w.clock.Wall(), &sr)
	c.mu.Unlock()
	if !ok {
		return
	}
	pkts := []rtcp.Packet{&sr}
	if c.cname != "" {
		pkts = append(pkts, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
			Source: c.ssrc,
			Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: c.cname}},
		}}})
	}
	c.t.sendRtcpPackets(pkts, now)
}

func (c *Consumer) scoreObject() map[string]any {
	producerScores := c.producer.scoreList()
	producerScore := 0
	score := int(c.send.Score())
	if c.typ == "pipe" {
		// A pipe consumer forwards every stream: it does not judge them,
		// and its score is constant (mediasoup's).
		score, producerScore = 10, 10
	} else if idx := c.currentOrTarget(); idx < len(producerScores) {
		producerScore = producerScores[idx]
	}
	return map[string]any{
		"score":          score,
		"producerScore":  producerScore,
		"producerScores": producerScores,
	}
}

func (c *Consumer) maybeEmitScore() {
	if c.pipe != nil {
		// Pipe consumers never emit score events.
		return
	}
	sc := int(c.send.Score())
	c.mu.Lock()
	changed := sc != c.lastScore
	c.lastScore = sc
	c.mu.Unlock()
	if changed {
		c.log.Debugf(logger.TagScore, "Consumer score changed [consumerId:%s, score:%d]", c.id, sc)
		c.w.EmitJSON(c.id, "score", c.scoreObject())
	}
}

func (c *Consumer) producerScoreChanged([]map[string]any) {
	if c.closed.Load() || c.pipe != nil {
		return
	}
	c.updateTarget(c.t.w.nowMs())
	c.w.EmitJSON(c.id, "score", c.scoreObject())
}

func (c *Consumer) requireSync() {
	c.mu.Lock()
	c.syncRequired = true
	for _, s := range c.pipe {
		s.syncRequired = true
	}
	c.mu.Unlock()
}

func (c *Consumer) producerPaused() {
	if c.closed.Load() || c.producerPause.Swap(true) {
		return
	}
	c.w.Emit(c.id, "producerpause", nil, false)
}

func (c *Consumer) producerResumed() {
	if c.closed.Load() || !c.producerPause.Swap(false) {
		return
	}
	c.requireSync()
	c.w.Emit(c.id, "producerresume", nil, false)
	if c.pipe != nil && c.active() {
		// Every stream waits for a key frame (the producer asks for its
		// first stream only).
		c.requestProducerKeyFrame(0, c.t.w.nowMs())
	}
}

func (c *Consumer) producerClosed() {
	if c.closed.Load() {
		return
	}
	c.close(true)
}

// close removes the consumer; fromProducer emits producerclose.
func (c *Consumer) close(fromProducer bool) {
	if c.closed.Swap(true) {
		return
	}
	t := c.t
	t.mu.Lock()
	delete(t.consumers, c.id)
	t.mu.Unlock()
	t.consumersMu.Lock()
	for _, ssrc := range c.ssrcs() {
		if t.consumersBySsrc[ssrc] == c {
			delete(t.consumersBySsrc, ssrc)
		}
	}
	t.consumersMu.Unlock()
	if !fromProducer {
		c.producer.removeConsumer(c)
	}
	t.router.removeConsumer(c.producer, c)
	c.w.unregister(c.id)
	if fromProducer {
		c.w.Emit(c.id, "producerclose", nil, false)
	}
}

func (c *Consumer) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "consumer.dump":
		return c.dump(), nil
	case "consumer.getStats":
		if c.pipe != nil {
			return c.pipeStats(c.t.w.nowMs()), nil
		}
		out := []any{c.send.Stats(c.t.w.nowMs())}
		c.producer.recvMu.Lock()
		idx := c.encodingIdx
		if idx < 0 {
			idx = c.targetIdx
		}
		if idx < len(c.producer.streams) {
			if s := c.producer.streams[idx]; s.recv != nil {
				out = append(out, s.recv.Stats(c.t.w.nowMs()))
			}
		}
		c.producer.recvMu.Unlock()
		return out, nil
	case "consumer.pause":
		c.paused.Store(true)
		return nil, nil
	case "consumer.resume":
		if c.paused.Swap(false) {
			c.requireSync()
			if c.active() {
				c.requestProducerKeyFrame(c.targetIdx, c.t.w.nowMs())
			}
		}
		return nil, nil
	case "consumer.setPreferredLayers":
		if c.typ != "simulcast" && c.typ != "svc" {
			return nil, nil
		}
		if err := c.setPreferredLayers(data); err != nil {
			return nil, err
		}
		c.updateTarget(c.t.w.nowMs())
		if c.vp9svc {
			// Going up a spatial layer waits for a key frame: ask for one.
			c.mu.Lock()
			up := c.slCurrent >= 0 && int(c.preferredSpatial.Load()) > c.slCurrent
			c.mu.Unlock()
			if up && c.active() {
				c.requestProducerKeyFrame(0, c.t.w.nowMs())
			}
		}
		return c.preferredLayers(), nil
	case "consumer.setPriority":
		var req struct {
			Priority float64 `json:"priority"`
		}
		if err := json.Unmarshal(data, &req); err != nil || req.Priority < 1 {
			return nil, TypeErrorf("invalid priority")
		}
		c.priority.Store(int32(req.Priority))
		return map[string]any{"priority": c.priority.Load()}, nil
	case "consumer.requestKeyFrame":
		if c.active() {
			c.requestProducerKeyFrame(c.targetIdx, c.t.w.nowMs())
		}
		return nil, nil
	case "consumer.enableTraceEvent":
		var req struct {
			Types []string `json:"types"`
		}
		_ = json.Unmarshal(data, &req)
		c.traceTypes.Store(parseTraceTypes(req.Types, consumerTraceTypes))
		return nil, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

func (c *Consumer) dump() any {
	return map[string]any{
		"id":                         c.id,
		"producerId":                 c.producer.id,
		"kind":                       c.kind,
		"type":                       c.typ,
		"rtpParameters":              dumpRtpParameters(c.rtpParameters),
		"consumableRtpEncodings":     c.producer.consumable.Encodings,
		"supportedCodecPayloadTypes": c.supportedPTs(),
		"traceEventTypes":            traceTypeNames(c.traceTypes.Load(), consumerTraceTypes),
		"paused":                     c.paused.Load(),
		"producerPaused":             c.producerPause.Load(),
		"priority":                   c.priority.Load(),
	}
}

func (c *Consumer) supportedPTs() []int {
	out := []int{}
	for pt, ok := range c.ptAllowed {
		if ok {
			out = append(out, pt)
		}
	}
	return out
}

func (c *Consumer) emitTrace(typ string, info map[string]any) {
	c.w.EmitJSON(c.id, "trace", map[string]any{
		"type": typ, "timestamp": c.t.w.nowMs(), "direction": "out", "info": info,
	})
}

// absSendTime is the abs-send-time value: seconds in 6.18 fixed point,
// 24 bits.
func absSendTime(t time.Duration) uint32 {
	ns := uint64(t)
	return uint32((ns<<18)/1e9) & 0xFFFFFF
}

func (c *Consumer) currentOrTarget() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.encodingIdx >= 0 {
		return c.encodingIdx
	}
	return c.targetIdx
}

// switchTo makes p's stream the forwarded one, keeping sequence numbers
// and timestamps continuous. Called with c.mu held, p a key frame.
func (c *Consumer) switchTo(p *rtpPacket) {
	if c.haveSent && c.encodingIdx >= 0 {
		// Place the new stream's frame after the last one sent: by capture
		// time when both streams have Sender Reports, else one frame later.
		delta := uint32(0)
		oldNtp, ok1 := c.producer.rtpToNtp(c.encodingIdx, c.lastInTs)
		newNtp, ok2 := c.producer.rtpToNtp(p.encodingIdx, p.hdr.Timestamp)
		if ok1 && ok2 && newNtp > oldNtp {
			delta = uint32((newNtp - oldNtp) * uint64(c.clockRate) >> 32)
		}
		if delta == 0 {
			delta = c.clockRate / 30
		}
		c.tsOffset = c.lastOutTs + delta - p.hdr.Timestamp
	}
	c.encodingIdx = p.encodingIdx
	if c.vp8 != nil {
		c.vp8.Sync()
	}
	c.tlHaveTs = false
	c.seq.Sync(p.hdr.SequenceNumber - 1)
	c.syncRequired = false
}

// temporalForward tells whether a VP8 packet (descriptor d) of the
// forwarded stream passes the temporal layer filter, and moves the current
// temporal layer. Called with c.mu held.
//
// As mediasoup's VP8 handler: packets without TID or 15 bit picture id
// pass, and so do TL0 packets and late ones (an older picture than the
// newest seen: the picture id rewriter refuses those of dropped pictures).
// Otherwise a packet passes when its TID is at most the current layer; a
// higher TID, up to the target, passes when its frame is a layer sync (Y)
// frame, which depends on TL0 frames only, and raises the current layer to
// it. A key frame resets every VP8 reference buffer, so the current layer
// goes straight to the target there. The target (the preferred temporal
// layer) is read at each new frame, so that a frame is forwarded whole or
// not at all; lowering it lowers the current layer at once.
func (c *Consumer) temporalForward(p *rtpPacket, d *codecs.VP8Descriptor) bool {
	if !c.tlHaveTs || seqmanager.TsIsHigher(p.hdr.Timestamp, c.tlFrameTs) {
		c.tlHaveTs, c.tlFrameTs = true, p.hdr.Timestamp
		c.tlTarget = int(c.preferredTemporal.Load())
	}
	if c.tlCurrent > c.tlTarget {
		c.tlCurrent = c.tlTarget
	}
	if p.keyFrame {
		c.tlCurrent = c.tlTarget
		return true
	}
	if !d.HasTID || d.TID == 0 || !d.HasPictureID || !d.PictureIDTwoBytes || c.vp8.IsOld(d) {
		return true
	}
	tid := int(d.TID)
	if tid <= c.tlCurrent {
		return true
	}
	if tid <= c.tlTarget && d.LayerSync && c.tlCurrent >= 0 {
		c.tlCurrent = tid
		return true
	}
	return false
}

// svcForward tells whether a VP9 packet (descriptor d, with layer indices)
// of an svc consumer passes the spatial and temporal layer filter, and
// whether its marker bit must be set. Called with c.mu held.
//
// The targets (preferred layers) are read at each new picture (a newer RTP
// timestamp), so that a picture is cut the same way in all its packets;
// lowering a target lowers the current layer at once (every layer below
// the current one is forwarded, so the lower layers' references are there
// in SVC as in K-SVC). Going up a spatial layer waits for a key frame
// (whose picture starts every layer afresh, in SVC as in K-SVC); there the
// current layers jump to the targets. Going up a temporal layer happens at
// the start of a frame of a higher layer (up to the target) carrying the
// switching up point (U) bit, as mediasoup's VP9 handler does; in flexible
// mode (what libwebrtc sends, with U on every frame) the frame's references
// (P_DIFFs) must also all have been forwarded. Packets of
// an older picture are filtered with the current layers. The marker bit
// is set on the last packet (E bit) of the current spatial layer's frame:
// the end of the picture for the receiver when higher layers are dropped.
func (c *Consumer) svcForward(p *rtpPacket, d *codecs.VP9Descriptor) (bool, bool) {
	ts := p.hdr.Timestamp
	if d.HasSS {
		c.slSent = int(d.NumSpatialLayers)
	}
	newPic := !c.tlHaveTs || seqmanager.TsIsHigher(ts, c.tlFrameTs)
	if newPic {
		c.tlHaveTs, c.tlFrameTs = true, ts
		c.slTarget = int(c.preferredSpatial.Load())
		c.tlTarget = int(c.preferredTemporal.Load())
		if c.slCurrent > c.slTarget {
			c.slCurrent = c.slTarget
		}
		if c.tlCurrent > c.tlTarget {
			c.tlCurrent = c.tlTarget
		}
	}
	if ts == c.tlFrameTs {
		if d.KeyFrame {
			c.slCurrent, c.tlCurrent = c.slTarget, c.tlTarget
		} else if c.slCurrent >= 0 && d.B && d.SwitchingUp && int(d.TID) > c.tlCurrent && int(d.TID) <= c.tlTarget &&
			c.svcRefsForwarded(d) {
			c.tlCurrent = int(d.TID)
		}
	}
	if c.slCurrent < 0 || int(d.SID) > c.slCurrent || int(d.TID) > c.tlCurrent {
		return false, false
	}
	if d.HasPictureID {
		c.svcFwd[d.PictureID&0xFF] = int32(d.PictureID)
	}
	return true, d.E && int(d.SID) == c.slCurrent
}

// svcRefsForwarded tells whether the pictures a flexible mode VP9 frame
// references were forwarded (true outside flexible mode, or without a
// picture id).
func (c *Consumer) svcRefsForwarded(d *codecs.VP9Descriptor) bool {
	if !d.F || !d.HasPictureID {
		return true
	}
	mask := uint16(0x7F)
	if d.PictureIDTwoBytes {
		mask = 0x7FFF
	}
	for i := 0; i < int(d.NumPDiffs); i++ {
		ref := (d.PictureID - uint16(d.PDiffs[i])) & mask
		if c.svcFwd[ref&0xFF] != int32(ref) {
			return false
		}
	}
	return true
}

// updateTarget picks the stream to forward: the preferred spatial layer,
// or the highest lower one that is active when it is not.
func (c *Consumer) updateTarget(now int64) {
	if c.typ != "simulcast" || c.closed.Load() {
		return
	}
	target := c.activeTarget()
	c.mu.Lock()
	changed := target != c.targetIdx
	prevTarget, current := c.targetIdx, c.encodingIdx
	c.targetIdx = target
	needKeyFrame := changed && target != c.encodingIdx
	c.mu.Unlock()
	if changed {
		c.log.Debugf(logger.TagSimulcast, "target encoding changed [consumerId:%s, from:%d, to:%d, current:%d]", c.id, prevTarget, target, current)
	}
	if needKeyFrame && c.active() {
		c.producer.requestKeyFrame(target, now)
	}
}

// activeTarget is the preferred encoding, or the highest lower one that is
// active when it is not (the preferred one when none is). When the
// transport has an outgoing limit (setMaxOutgoingBitrate(), or the remote's
// REMB) streams whose bitrate exceeds it are skipped, down to the lowest
// active one.
func (c *Consumer) activeTarget() int {
	want := c.targetEncoding()
	if c.typ != "simulcast" {
		return want
	}
	active, bitrates := c.producer.streamStates(c.t.w.nowMs())
	limit := c.t.outgoingLimit()
	fallback := -1
	for i := want; i >= 0; i-- {
		if i >= len(active) || !active[i] {
			continue
		}
		if limit == 0 || uint64(bitrates[i]) <= limit {
			return i
		}
		fallback = i
	}
	if fallback >= 0 {
		return fallback
	}
	return want
}
