package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/layerselect"
	"github.com/gosfu/gosfu/gosfu/logger"
	"github.com/gosfu/gosfu/gosfu/ortc"
	"github.com/gosfu/gosfu/gosfu/rtpstream"
	"github.com/gosfu/gosfu/gosfu/seqmanager"
	"github.com/gosfu/gosfu/gosfu/streamallocator"
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
	twccSeq          [2]byte // zeros: a placeholder
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
	// allocSpatial and allocTemporal are the layers the transport's
	// bandwidth allocation grants (congestioncontrol.go): -2 when no
	// allocation constrains the consumer, -1 when its lowest layer does
	// not fit (bwePaused: nothing is forwarded until bandwidth returns).
	allocSpatial  atomic.Int32
	allocTemporal atomic.Int32
	bwePaused     atomic.Bool
	// bweDropCurrent: the stream being forwarded is dropped while a switch
	// down to a cheaper one waits for its key frame (congestion).
	bweDropCurrent atomic.Bool
	// bweDowngradeUs and bweUpgradeUs are when allocation last lowered
	// and raised the layers, bweHoldUs how long after a downgrade an
	// upgrade waits (timer goroutine only).
	bweDowngradeUs int64
	bweUpgradeUs   int64
	bweHoldUs      int64
	// lateKeyFrameMs is when NACKs for packets too old to resend last
	// made the consumer ask for a key frame (receiveNack).
	lateKeyFrameMs atomic.Int64
	// rtxRefusedMs is when congestion control began refusing this
	// consumer's retransmissions (0: not refusing), rtxLastRefusedMs when
	// it last did (receiveNack).
	rtxRefusedMs     atomic.Int64
	rtxLastRefusedMs atomic.Int64
	// paceRtp and paceRtx identify the consumer's packets in the pacer.
	paceRtp paceOwner
	paceRtx paceOwner

	// mu serialises the send path (packets from the producer) with RTCP
	// feedback (from the transport) and timers.
	mu           sync.Mutex
	send         *rtpstream.SendStream
	seq          *seqmanager.SeqManager[uint16]
	syncRequired bool
	// resendFloorPending: the next packet sent starts a new stream
	// (switchTo), the floor of what NACKs may get resent.
	resendFloorPending bool
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
	// layers last reported by layerschange (-1 before the first).
	reportedSpatial  int
	reportedTemporal int

	// impl is what the consumer's type adds (simpleconsumer.go,
	// simulcastconsumer.go, svcconsumer.go, pipeconsumer.go).
	impl consumerImpl

	extScratch  []rtp.Extension
	buf         []byte
	lastScore   int
	lastPScores []map[string]any
}

// consumerImpl is the part of a consumer that depends on its type: its
// packet path and the streams it sends. The shared base (Consumer) holds
// the header rewriting, sequence and timestamp continuity, RTCP and stats
// plumbing, and calls it without branching on the type.
type consumerImpl interface {
	// sendRtp forwards one producer packet. Called by the producer's
	// fan-out; must not block.
	sendRtp(p *rtpPacket, now int64)
	// sendStream is the stream sending ssrc (media, or RTX too unless
	// mediaOnly), nil if none.
	sendStream(ssrc uint32, mediaOnly bool) *rtpstream.SendStream
	// ssrcs lists the SSRCs sent (media and RTX), for routing the remote's
	// RTCP to the consumer.
	ssrcs() []uint32
	sendSenderReport(now int64)
	stats(now int64) []any
	// requestKeyFrame asks the producer for a key frame of what the
	// consumer forwards (idx: the stream of a single stream consumer).
	requestKeyFrame(idx int, now int64)
	// requireSync makes the next forwarded packet restart the sequence
	// (a key frame for video). Called with c.mu held.
	requireSync()
	// updateTarget re-picks the stream to forward (simulcast).
	updateTarget(now int64)
	// preferredLayersSet follows a setPreferredLayers() request.
	preferredLayersSet(now int64)
}

var consumerTraceTypes = []string{"rtp", "keyframe", "nack", "pli", "fir"}

// lateKeyFrameIntervalMs spaces the key frames asked for because of NACKs
// that came too late.
const lateKeyFrameIntervalMs = 1000

// rtxRefusedKeyFrameMs is how long retransmissions may go on being refused
// (the congested link's budget is spent) before the consumer asks for a
// key frame: the receiver cannot decode past the missing packets, and
// Chromium's own request comes only after 3 s without a decodable frame.
const rtxRefusedKeyFrameMs = 300

// rtxRefusalGapMs ends a run of refusals: a receiver whose retransmissions
// were refused and then none for this long got what it needed. A NACK
// served between refusals does not end it: a budget of a packet or two at
// a time serves some while the receiver waits on others.
const rtxRefusalGapMs = 1000

// consumeRequest is an alias of an unnamed struct type, as the request
// used to be: encoding/json names the type in its error messages.
type consumeRequest = struct {
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

// decodeConsume decodes a consume request and validates its capabilities
// (none on a PipeTransport: every consumer there is a pipe consumer, with
// the transport's RTX setting and no remote capabilities). The fast path
// takes the capabilities' raw bytes to ortc's cache of validated
// capabilities; whatever it does not handle goes through encoding/json,
// with the same results and errors.
func (t *Transport) decodeConsume(data []byte) (*consumeRequest, *ortc.RtpCapabilities, error) {
	req := &consumeRequest{}
	var capsRaw []byte
	if ortc.DecodeJSONObject(data, []ortc.JSONField{
		{Name: "consumerId", Dest: &req.ConsumerID},
		{Name: "producerId", Dest: &req.ProducerID},
		{Name: "rtpCapabilities", Dest: &capsRaw},
		{Name: "paused", Dest: &req.Paused},
		{Name: "mid", Dest: &req.Mid},
		{Name: "preferredLayers", Dest: &req.PreferredLayers},
		{Name: "ignoreDtx", Dest: &req.IgnoreDtx},
		{Name: "enableRtx", Dest: &req.EnableRtx},
		{Name: "pipe", Dest: &req.Pipe},
	}) {
		if t.typ == "pipe" {
			// Decoded only for encoding/json's errors.
			if _, ok := ortc.ParseJSON(capsRaw); ok || len(capsRaw) == 0 {
				return req, nil, nil
			}
		} else if caps, ok, err := ortc.ValidateRtpCapabilitiesJSON(capsRaw); ok {
			return req, caps, err
		}
	}
	req = &consumeRequest{}
	if err := json.Unmarshal(data, req); err != nil {
		return nil, nil, TypeErrorf("invalid request: %v", err)
	}
	if t.typ == "pipe" {
		return req, nil, nil
	}
	caps, err := ortc.ValidateRtpCapabilities(req.RtpCapabilities)
	return req, caps, err
}

// jsonResponse encodes a response map directly: the same bytes as
// json.Marshal, without encoding/json's validation and compaction of the
// ORTC types' output (marshalResponse passes bytes through). On an encoding
// error it returns the map, for marshalResponse to report as before.
func jsonResponse(m map[string]any, sizeHint int) any {
	b, err := ortc.AppendJSONValue(make([]byte, 0, sizeHint), m)
	if err != nil {
		return m
	}
	return b
}

func (t *Transport) consume(data []byte) (any, error) {
	req, caps, err := t.decodeConsume(data)
	if err != nil {
		return nil, err
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
		lastScore:     -1,
	}
	c.priority.Store(1)
	c.allocSpatial.Store(-2)
	c.allocTemporal.Store(-2)
	c.paceRtp = paceOwner{c: c, kind: trafficRtp}
	c.paceRtx = paceOwner{c: c, kind: trafficRtx}
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
	bweType := ""
	for _, fb := range media.RtcpFeedback {
		switch {
		case fb.Type == "transport-cc" && c.twccExtID != 0:
			bweType = "transport-cc"
		case fb.Type == "goog-remb" && c.absSendTimeExtID != 0 && bweType == "":
			bweType = "remb"
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
	if len(req.PreferredLayers) > 0 && string(req.PreferredLayers) != "null" {
		if err := c.setPreferredLayers(req.PreferredLayers); err != nil {
			return nil, err
		}
	}
	c.encodingIdx = -1
	c.clockRate = uint32(media.ClockRate)
	c.reportedSpatial, c.reportedTemporal = -1, -1
	switch c.typ {
	case "pipe":
		c.impl = newPipeConsumer(c, cfg, params, rtxPT)
	case "simulcast":
		c.impl = newSimulcastConsumer(c, media.MimeType)
	case "svc":
		c.impl = newSvcConsumer(c, media.MimeType)
	default:
		c.impl = &simpleConsumer{singleStream{c}}
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
	// As in mediasoup, a DirectTransport has no bandwidth estimation.
	if bweType != "" && c.typ != "pipe" && t.typ != "direct" {
		t.ensureCongestionControl(bweType)
	}
	if cc := t.cc.Load(); cc != nil {
		cc.realloc.Store(true)
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
	if c.log.On(logger.LevelDebug, 0) {
		c.log.Debug("Consumer created [id:%s, producerId:%s, type:%s]", c.id, producer.id, c.typ)
	}
	return jsonResponse(out, 1536), nil
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
func (c *Consumer) sendRtp(p *rtpPacket, now int64) { c.impl.sendRtp(p, now) }

// layerSelector is the step of the single stream packet path that differs
// by type (simulcast, svc; nil for a simple consumer): which packets of
// the forwarded stream pass, and the layers they make. Its methods run
// with c.mu held.
type layerSelector interface {
	// filter tells whether p, a packet of the forwarded stream, passes and
	// whether its marker bit must be set.
	filter(p *rtpPacket) (forward, marker bool)
	// rewrite fixes the payload of the outgoing copy of the packet filter
	// passed last.
	rewrite(payload []byte)
	// sync follows a stream switch or resync: the next packet starts a
	// new frame.
	sync()
	// layers are the forwarded layers, for layerschange.
	layers() (spatial, temporal int)
}

// unpadded is p's payload without its RTP padding.
func unpadded(p *rtpPacket) []byte {
	payload := p.payload
	if p.hdr.Padding && len(payload) > 0 && int(payload[len(payload)-1]) <= len(payload) {
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	return payload
}

// forwardRtp is the packet path of the single stream consumers (simple,
// simulcast, svc): stream switching on key frames, layer filtering by sel
// (nil: none), then the rewrite to the consumer's SSRC, sequence numbers,
// timestamps and header extensions, and the send.
func (c *Consumer) forwardRtp(p *rtpPacket, now int64, sel layerSelector) {
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
		c.switchTo(p, sel)
	} else if c.syncRequired {
		if c.kind == "video" && !p.keyFrame {
			// Delta frames are useless to a decoder before a key frame.
			c.mu.Unlock()
			return
		}
		c.seq.Sync(p.hdr.SequenceNumber - 1)
		c.syncRequired = false
		if sel != nil {
			sel.sync()
		}
	}
	marker := false
	if sel != nil {
		var fwd bool
		if fwd, marker = sel.filter(p); !fwd {
			c.seq.Drop(p.hdr.SequenceNumber)
			c.mu.Unlock()
			return
		}
	}
	seq, ok := c.seq.Input(p.hdr.SequenceNumber)
	if !ok {
		c.mu.Unlock()
		return
	}
	if c.resendFloorPending {
		c.resendFloorPending = false
		c.send.SetResendFloor(seq, now)
	}
	hdr := p.hdr
	if marker {
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
		// Room for the transport-wide sequence number, which the transport
		// writes when the packet leaves (Transport.sendRtp).
		_ = hdr.SetExtension(c.twccExtID, c.twccSeq[:])
	}
	c.extScratch = hdr.Extensions
	size := hdr.MarshalSize() + len(p.payload)
	if size > len(c.buf) {
		c.buf = make([]byte, max(size, 1500)) // made by the first packet: an idle consumer holds none
	}
	n, err := hdr.MarshalTo(c.buf)
	if err != nil {
		c.mu.Unlock()
		return
	}
	copy(c.buf[n:], p.payload)
	b := c.buf[:size]
	if sel != nil {
		sel.rewrite(b[n:])
	}
	// Past its first rtpstream.PayloadPrefix bytes (sel.rewrite changes at
	// most the VP8 descriptor) b's payload is p's: the retransmission
	// buffer points at the producer's shared copy.
	if c.send.SendPacketShared(b, &p.shared, now) == rtpstream.SendDiscarded {
		c.mu.Unlock()
		return
	}
	c.t.sendRtp(c, b, trafficRtp, now)
	// layerschange when the forwarded spatial or temporal layer changes.
	layersChanged := false
	var spatial, temporal int
	if sel != nil {
		spatial, temporal = sel.layers()
		if spatial != c.reportedSpatial || temporal != c.reportedTemporal {
			c.reportedSpatial, c.reportedTemporal = spatial, temporal
			layersChanged = true
		}
	}
	c.mu.Unlock()
	if layersChanged {
		c.logLayers(spatial, temporal)
		c.w.EmitJSON(c.id, "layerschange", map[string]any{"spatialLayer": spatial, "temporalLayer": temporal})
	}
	c.traceRtp(hdr.SSRC, seq, hdr.Timestamp, p.keyFrame)
}

// traceRtp emits the rtp and keyframe trace events of a sent packet.
func (c *Consumer) traceRtp(ssrc uint32, seq uint16, ts uint32, keyFrame bool) {
	if tt := c.traceTypes.Load(); tt != 0 {
		if tt&1 != 0 {
			c.emitTrace("rtp", map[string]any{"ssrc": ssrc, "sequenceNumber": seq, "timestamp": ts, "isKeyFrame": keyFrame})
		}
		if keyFrame && tt&2 != 0 {
			c.emitTrace("keyframe", map[string]any{"ssrc": ssrc, "sequenceNumber": seq, "timestamp": ts})
		}
	}
}

func (c *Consumer) receiveNack(nack *rtcp.TransportLayerNack, now int64) {
	if c.closed.Load() {
		return
	}
	send := c.impl.sendStream(nack.MediaSSRC, false)
	if send == nil {
		return
	}
	resent, refused := 0, 0
	c.mu.Lock()
	tooLate := send.NackTooLate()
	send.ReceiveNack(nack, now, func(pkt []byte, isRtx bool) {
		kind := trafficRtp
		if isRtx {
			kind = trafficRtx
		}
		if c.t.sendRtp(c, pkt, kind, now) {
			resent++
		} else if kind == trafficRtx && !c.bweDropCurrent.Load() {
			refused++
		}
	})
	tooLate = send.NackTooLate() - tooLate
	c.mu.Unlock()
	c.logRetransmitted(nack, resent, now)
	// A receiver still asking for packets too old to resend, or whose
	// retransmissions the congested link's budget has refused for a while,
	// is stuck on them (typically a key frame the link lost): a fresh key
	// frame frees it sooner than its own PLI would.
	stuck := tooLate > 0
	if refused > 0 {
		if start := c.rtxRefusedMs.Load(); start == 0 || now-c.rtxLastRefusedMs.Load() > rtxRefusalGapMs {
			c.rtxRefusedMs.Store(max(now, 1))
		} else if now-start >= rtxRefusedKeyFrameMs {
			stuck = true
		}
		c.rtxLastRefusedMs.Store(now)
	}
	if stuck && c.kind == "video" && c.typ != "pipe" && c.active() {
		if last := c.lateKeyFrameMs.Load(); now-last >= lateKeyFrameIntervalMs && c.lateKeyFrameMs.CompareAndSwap(last, now) {
			c.rtxRefusedMs.Store(0)
			c.requestProducerKeyFrame(c.currentOrTarget(), now)
		}
	}
	if c.traceTypes.Load()&(1<<2) != 0 {
		c.emitTrace("nack", map[string]any{"ssrc": nack.MediaSSRC})
	}
}

// receiveKeyFrameRequest handles a PLI (or FIR) from the remote for ssrc.
func (c *Consumer) receiveKeyFrameRequest(ssrc uint32, fir bool, now int64) {
	if c.closed.Load() {
		return
	}
	send := c.impl.sendStream(ssrc, false)
	if send == nil {
		return
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
	send := c.impl.sendStream(rr.SSRC, true)
	if send == nil || c.closed.Load() {
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
	c.impl.sendSenderReport(now)
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
	if c.typ == "pipe" {
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
	if c.closed.Load() || c.typ == "pipe" {
		return
	}
	c.updateTarget(c.t.w.nowMs())
	c.w.EmitJSON(c.id, "score", c.scoreObject())
}

func (c *Consumer) requireSync() {
	c.mu.Lock()
	c.syncRequired = true
	c.impl.requireSync()
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
	if c.typ == "pipe" && c.active() {
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
	// The retransmission buffers give their packets back to the pool
	// (a packet still being fanned out to c is not stored any more).
	for _, ssrc := range c.ssrcs() {
		if s := c.impl.sendStream(ssrc, true); s != nil {
			s.Close()
		}
	}
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
		return c.impl.stats(c.t.w.nowMs()), nil
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
		if !c.closed.Load() {
			c.impl.preferredLayersSet(c.t.w.nowMs())
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
	m := map[string]any{
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if pc, ok := c.impl.(*pipeConsumer); ok {
		streams := []any{}
		for i, s := range pc.streams {
			streams = append(streams, c.streamDump(s.send, i))
		}
		m["rtpStreams"] = streams
		return m
	}
	if c.send != nil {
		m["rtpStream"] = c.streamDump(c.send, 0)
	}
	if c.typ == "simulcast" || c.typ == "svc" {
		target := c.targetSpatial()
		if c.typ == "simulcast" {
			target = c.targetIdx
		}
		m["preferredSpatialLayer"] = c.preferredSpatial.Load()
		m["targetSpatialLayer"] = target
		m["currentSpatialLayer"] = c.reportedSpatial
		m["preferredTemporalLayer"] = c.preferredTemporal.Load()
		m["targetTemporalLayer"] = c.targetTemporal()
		m["currentTemporalLayer"] = c.reportedTemporal
	}
	return m
}

// streamDump is mediasoup's RtpStreamDump of an outgoing stream: the
// idx-th of a pipe consumer, the only one of the others. c.mu is held.
func (c *Consumer) streamDump(s *rtpstream.SendStream, idx int) map[string]any {
	cfg := s.Config()
	inBandFec, dtx := false, false
	spatial, temporal := 1, 1
	if len(c.rtpParameters.Codecs) > 0 {
		inBandFec = fmt.Sprint(c.rtpParameters.Codecs[0].Parameters["useinbandfec"]) == "1"
	}
	encodings := c.rtpParameters.Encodings
	if c.typ == "pipe" {
		encodings = c.producer.consumable.Encodings
	}
	if idx < len(encodings) {
		e := encodings[idx]
		dtx = e.Dtx != nil && *e.Dtx
		if e.ScalabilityMode != "" {
			sm := ortc.ParseScalabilityMode(e.ScalabilityMode)
			spatial, temporal = sm.SpatialLayers, sm.TemporalLayers
		}
	}
	params := map[string]any{
		"encodingIdx": idx, "ssrc": cfg.SSRC, "payloadType": cfg.PayloadType, "mimeType": cfg.MimeType,
		"clockRate": cfg.ClockRate, "cname": cfg.Cname, "useNack": cfg.UseNack, "usePli": cfg.UsePli,
		"useFir": cfg.UseFir, "useInBandFec": inBandFec, "useDtx": dtx,
		"spatialLayers": spatial, "temporalLayers": temporal,
	}
	if cfg.Rid != "" {
		params["rid"] = cfg.Rid
	}
	out := map[string]any{"params": params, "score": s.Score()}
	if cfg.RtxSSRC != 0 {
		params["rtxSsrc"], params["rtxPayloadType"] = cfg.RtxSSRC, cfg.RtxPayloadType
		out["rtxStream"] = map[string]any{"params": map[string]any{
			"ssrc": cfg.RtxSSRC, "payloadType": cfg.RtxPayloadType, "mimeType": c.kind + "/rtx",
			"clockRate": cfg.ClockRate, "cname": cfg.Cname,
		}}
	}
	return out
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
func (c *Consumer) switchTo(p *rtpPacket, sel layerSelector) {
	if c.haveSent && c.encodingIdx >= 0 {
		oldNtp, ok1 := c.producer.rtpToNtp(c.encodingIdx, c.lastInTs)
		newNtp, ok2 := c.producer.rtpToNtp(p.encodingIdx, p.hdr.Timestamp)
		c.tsOffset = layerselect.SwitchTimestampOffset(c.lastOutTs, p.hdr.Timestamp, oldNtp, newNtp, ok1 && ok2, c.clockRate)
		// The last timestamps in the new stream's space: compared with
		// the old stream's, its packets could look older forever, and the
		// next switch would continue from this one's.
		c.lastInTs, c.lastOutTs = p.hdr.Timestamp, p.hdr.Timestamp+c.tsOffset
	}
	// Retransmissions of the stream left are of no use past this key frame.
	c.resendFloorPending = c.haveSent
	c.encodingIdx = p.encodingIdx
	// The stream waited for is here: nothing more to drop (congestion).
	c.bweDropCurrent.Store(false)
	if sel != nil {
		sel.sync()
	}
	c.seq.Sync(p.hdr.SequenceNumber - 1)
	c.syncRequired = false
}

// targetSpatial and targetTemporal are the layers to forward: the
// preferred ones, lowered to what the bandwidth allocation grants.
func (c *Consumer) targetSpatial() int {
	l := int(c.preferredSpatial.Load())
	if a := int(c.allocSpatial.Load()); a >= 0 && a < l {
		l = a
	}
	return l
}

func (c *Consumer) targetTemporal() int {
	l := int(c.preferredTemporal.Load())
	if a := int(c.allocTemporal.Load()); a >= 0 && a < l {
		l = a
	}
	return l
}

// allocatedStep is the index in steps of the layers allocation granted
// last: the highest step not above them; -1 when paused, the top step when
// unconstrained.
func (c *Consumer) allocatedStep(steps []streamallocator.Step) int {
	s, t := int(c.allocSpatial.Load()), int(c.allocTemporal.Load())
	switch s {
	case -1:
		return -1
	case -2:
		return len(steps) - 1
	}
	cur := -1
	for i, st := range steps {
		if st.Spatial < s || (st.Spatial == s && st.Temporal <= t) {
			cur = i
		}
	}
	return cur
}

// setAllocation applies the layers the transport's allocation grants
// (spatial -1: none fits, pause; -2: no constraint). Called by the
// transport's timer goroutine.
func (c *Consumer) setAllocation(spatial, temporal int, now int64) {
	prevS := int(c.allocSpatial.Swap(int32(spatial)))
	prevT := int(c.allocTemporal.Swap(int32(temporal)))
	paused := spatial == -1
	wasPaused := c.bwePaused.Swap(paused)
	switch {
	case paused && !wasPaused:
		// Nothing is forwarded until bandwidth returns: layerschange
		// without layers, as when the producer stops.
		c.mu.Lock()
		c.reportedSpatial, c.reportedTemporal = -1, -1
		c.mu.Unlock()
		c.log.Debugf(logger.TagBwe, "no layer fits the available bitrate, video paused [consumerId:%s]", c.id)
		c.w.EmitJSON(c.id, "layerschange", nil)
	case !paused && wasPaused:
		c.requireSync()
		c.updateTarget(now)
		if c.active() {
			c.mu.Lock()
			idx := c.targetIdx
			c.mu.Unlock()
			c.requestProducerKeyFrame(idx, now)
		}
	case prevS != spatial || prevT != temporal:
		c.updateTarget(now)
	}
}

// updateTarget re-picks the stream to forward (simulcast).
func (c *Consumer) updateTarget(now int64) {
	if c.closed.Load() {
		return
	}
	c.impl.updateTarget(now)
}

// requestProducerKeyFrame asks the producer for a key frame of what the
// consumer forwards: stream idx, or every stream for a pipe consumer.
func (c *Consumer) requestProducerKeyFrame(idx int, now int64) {
	c.impl.requestKeyFrame(idx, now)
}

// ssrcs lists the SSRCs the consumer sends (media and RTX), for routing
// the remote's RTCP to it.
func (c *Consumer) ssrcs() []uint32 { return c.impl.ssrcs() }
