package engine

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/sctp"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// DataConsumer sends the messages of one DataProducer to its transport's
// remote: on its own SCTP stream (type sctp) or as 'message' events to
// Node (type direct).
type DataConsumer struct {
	id             string
	dataProducerID string
	typ            string // sctp, direct
	t              *Transport
	w              *Worker
	log            *logger.Named
	producer       *DataProducer
	params         *SctpStreamParameters
	streamID       uint16
	label          string
	protocol       string
	// pipe consumers (on a PipeTransport) skip the subchannel filter
	// unless they subscribed to a subchannel, as in mediasoup.
	pipe bool
	// maxMessageSize is the transport's maxSendMessageSize.
	maxMessageSize int

	paused             atomic.Bool
	dataProducerPaused atomic.Bool
	closed             atomic.Bool
	// subchannels is sorted and replaced, never modified (read lock-free
	// on the message path).
	subMu       sync.Mutex
	subchannels atomic.Pointer[[]uint16]

	// stream is the SCTP stream once opened (set by the association).
	streamMu          sync.Mutex
	stream            *sctp.Stream
	bufferedAmountLow atomic.Uint32

	messagesSent atomic.Uint64
	bytesSent    atomic.Uint64

	// directBuf is the event payload of a direct consumer (ppid | message),
	// reused under directMu.
	directMu  sync.Mutex
	directBuf []byte
	sendMu    sync.Mutex
	// pipeBuf holds a pipe message with its subchannels, pipeSubs the
	// subchannels it carries (both reused under sendMu).
	pipeBuf  []byte
	pipeSubs []uint16
}

func (t *Transport) consumeData(data []byte) (any, error) {
	var req struct {
		DataConsumerID       string          `json:"dataConsumerId"`
		DataProducerID       string          `json:"dataProducerId"`
		Type                 string          `json:"type"`
		SctpStreamParameters json.RawMessage `json:"sctpStreamParameters"`
		Label                string          `json:"label"`
		Protocol             string          `json:"protocol"`
		Paused               bool            `json:"paused"`
		Subchannels          []float64       `json:"subchannels"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if t.sctp == nil && t.typ != "direct" {
		return nil, Errorf("SCTP not enabled and not a direct Transport")
	}
	if req.DataConsumerID == "" {
		return nil, TypeErrorf("missing dataConsumerId")
	}
	subs, err := subchannelList(req.Subchannels)
	if err != nil {
		return nil, err
	}
	c := &DataConsumer{
		id:             req.DataConsumerID,
		dataProducerID: req.DataProducerID,
		typ:            req.Type,
		t:              t,
		w:              t.w,
		log:            t.w.log.Named("DataConsumer"),
		label:          req.Label,
		protocol:       req.Protocol,
		pipe:           t.typ == "pipe",
	}
	c.subchannels.Store(&subs)
	switch req.Type {
	case "sctp":
		if len(req.SctpStreamParameters) == 0 || string(req.SctpStreamParameters) == "null" {
			return nil, TypeErrorf("missing sctpStreamParameters")
		}
		params, err := parseSctpStreamParameters(req.SctpStreamParameters)
		if err != nil {
			return nil, err
		}
		if t.sctp == nil {
			return nil, TypeErrorf("cannot create a DataConsumer of type 'sctp', SCTP not enabled in this Transport")
		}
		c.params = params
		c.streamID = params.StreamID
		c.maxMessageSize = t.sctp.cfg.maxSendMessageSize
		c.bufferedAmountLow.Store(uint32(t.sctp.cfg.bufferedAmountLow))
	case "direct":
		if t.typ != "direct" {
			return nil, TypeErrorf("cannot create a DataConsumer of type 'direct', not a direct Transport")
		}
		c.maxMessageSize = t.directLink().maxSendMessageSize
	default:
		return nil, TypeErrorf("invalid type")
	}
	c.paused.Store(req.Paused)

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, InvalidStateErrorf("Transport closed")
	}
	if _, ok := t.dataConsumers[c.id]; ok {
		t.mu.Unlock()
		return nil, Errorf("a DataConsumer with same dataConsumerId already exists [method:transport.consumeData]")
	}
	if c.params != nil {
		for _, o := range t.dataConsumers {
			if o.params != nil && o.streamID == c.streamID {
				t.mu.Unlock()
				return nil, Errorf("sctpStreamId already exists [method:transport.consumeData, sctpStreamId:%d]", c.streamID)
			}
		}
	}
	t.mu.Unlock()
	p := t.router.dataProducer(req.DataProducerID)
	if p == nil {
		return nil, &Error{Name: "NotFoundError", Message: "DataProducer not found [dataProducerId:" + req.DataProducerID + "]"}
	}
	c.producer = p
	if err := t.w.register(c.id, c); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.dataConsumers[c.id] = c
	t.mu.Unlock()
	t.router.addDataConsumer(p, c)
	p.addConsumer(c)
	c.log.Debug("DataConsumer created [id:%s, type:%s]", c.id, c.typ)
	return c.dump(), nil
}

// subchannelList checks subchannel numbers and returns them sorted and
// without repeats.
func subchannelList(in []float64) ([]uint16, error) {
	out := make([]uint16, 0, len(in))
	for _, v := range in {
		if v < 0 || v > 65535 || v != math.Trunc(v) {
			return nil, TypeErrorf("subchannels must be integers in [0, 65535]")
		}
		out = append(out, uint16(v))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (c *DataConsumer) dump() map[string]any {
	m := map[string]any{
		"id":                         c.id,
		"dataProducerId":             c.dataProducerID,
		"type":                       c.typ,
		"label":                      c.label,
		"protocol":                   c.protocol,
		"bufferedAmount":             c.bufferedAmount(),
		"bufferedAmountLowThreshold": c.bufferedAmountLow.Load(),
		"paused":                     c.paused.Load(),
		"dataProducerPaused":         c.dataProducerPaused.Load(),
		"subchannels":                *c.subchannels.Load(),
	}
	if c.params != nil {
		m["sctpStreamParameters"] = c.params
	}
	return m
}

func (c *DataConsumer) bufferedAmount() int {
	if c.params == nil || c.t.sctp == nil {
		return 0
	}
	return c.t.sctp.bufferedAmount(c.streamID)
}

func (c *DataConsumer) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "dataConsumer.getBufferedAmount", "dataConsumer.setBufferedAmountLowThreshold", "dataConsumer.send":
		// SCTP only, as in mediasoup.
		if c.params == nil {
			return nil, TypeErrorf("invalid DataConsumer type")
		}
	}
	switch method {
	case "dataConsumer.dump":
		return c.dump(), nil
	case "dataConsumer.getStats":
		return []any{map[string]any{
			"type":           "data-consumer",
			"timestamp":      c.w.nowMs(),
			"label":          c.label,
			"protocol":       c.protocol,
			"messagesSent":   c.messagesSent.Load(),
			"bytesSent":      c.bytesSent.Load(),
			"bufferedAmount": c.bufferedAmount(),
		}}, nil
	case "dataConsumer.pause":
		c.paused.Store(true)
		return nil, nil
	case "dataConsumer.resume":
		c.paused.Store(false)
		return nil, nil
	case "dataConsumer.getBufferedAmount":
		return map[string]any{"bufferedAmount": c.bufferedAmount()}, nil
	case "dataConsumer.setBufferedAmountLowThreshold":
		var req struct {
			Threshold float64 `json:"threshold"`
		}
		if err := json.Unmarshal(data, &req); err != nil || req.Threshold < 0 || req.Threshold > math.MaxUint32 || req.Threshold != math.Trunc(req.Threshold) {
			return nil, TypeErrorf("wrong threshold")
		}
		c.bufferedAmountLow.Store(uint32(req.Threshold))
		c.streamMu.Lock()
		if c.stream != nil {
			c.stream.SetBufferedAmountLowThreshold(uint64(req.Threshold))
		}
		c.streamMu.Unlock()
		return nil, nil
	case "dataConsumer.setSubchannels":
		var req struct {
			Subchannels []float64 `json:"subchannels"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, TypeErrorf("wrong subchannels")
		}
		subs, err := subchannelList(req.Subchannels)
		if err != nil {
			return nil, err
		}
		c.subMu.Lock()
		c.subchannels.Store(&subs)
		c.subMu.Unlock()
		return map[string]any{"subchannels": subs}, nil
	case "dataConsumer.addSubchannel", "dataConsumer.removeSubchannel":
		var req struct {
			Subchannel *float64 `json:"subchannel"`
		}
		if err := json.Unmarshal(data, &req); err != nil || req.Subchannel == nil {
			return nil, TypeErrorf("wrong subchannel")
		}
		one, err := subchannelList([]float64{*req.Subchannel})
		if err != nil {
			return nil, err
		}
		c.subMu.Lock()
		next := slices.Clone(*c.subchannels.Load())
		if method == "dataConsumer.addSubchannel" {
			next = append(next, one[0])
			slices.Sort(next)
			next = slices.Compact(next)
		} else {
			next = slices.DeleteFunc(next, func(v uint16) bool { return v == one[0] })
		}
		c.subchannels.Store(&next)
		c.subMu.Unlock()
		return map[string]any{"subchannels": next}, nil
	case "dataConsumer.send":
		if len(data) < 4 {
			return nil, TypeErrorf("invalid dataConsumer.send payload")
		}
		ppid := binary.BigEndian.Uint32(data)
		msg := data[4:]
		if len(msg) > c.maxMessageSize {
			return nil, TypeErrorf("given message exceeds maxMessageSize value [maxMessageSize:%d, len:%d]", c.maxMessageSize, len(msg))
		}
		queued, full := c.deliver(msg, ppid)
		if !queued {
			if full {
				return nil, Errorf("sctpsendbufferfull")
			}
			return nil, Errorf("message send failed")
		}
		return map[string]any{"bufferedAmount": c.bufferedAmount()}, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

// active reports whether messages may flow now.
func (c *DataConsumer) active() bool {
	if c.closed.Load() || c.paused.Load() || c.dataProducerPaused.Load() {
		return false
	}
	if c.params != nil {
		// Before the association is up messages wait in it.
		st := c.t.sctp.State()
		return st != sctpStateFailed && st != sctpStateClosed
	}
	return true
}

// verifySubchannels is mediasoup's subchannel filter.
func (c *DataConsumer) verifySubchannels(subchannels []uint16, required, ignored *uint16) bool {
	mine := *c.subchannels.Load()
	if c.pipe && len(mine) == 0 {
		return true
	}
	has := func(v uint16) bool {
		_, ok := slices.BinarySearch(mine, v)
		return ok
	}
	if required != nil && !has(*required) {
		return false
	}
	if !c.pipe && ignored != nil && has(*ignored) {
		return false
	}
	if len(subchannels) > 0 {
		for _, s := range subchannels {
			if has(s) {
				return true
			}
		}
		return false
	}
	return true
}

// sendMessage is the DataProducer's fan-out: filter, then deliver. A pipe
// consumer carries the subchannels to the other router (only those it is
// subscribed to, if any).
func (c *DataConsumer) sendMessage(msg []byte, ppid uint32, subchannels []uint16, required, ignored *uint16) {
	if !c.verifySubchannels(subchannels, required, ignored) {
		return
	}
	if c.pipe {
		c.sendMu.Lock()
		defer c.sendMu.Unlock()
		if mine := *c.subchannels.Load(); len(mine) > 0 && len(subchannels) > 0 {
			reduced := c.pipeSubs[:0]
			for _, s := range subchannels {
				if _, ok := slices.BinarySearch(mine, s); ok {
					reduced = append(reduced, s)
				}
			}
			c.pipeSubs = reduced
			subchannels = reduced
		}
		if enc, ok := encodeSubchannels(c.pipeBuf, msg, subchannels, required, ignored); ok {
			// pion copies the payload before WriteSCTP returns.
			c.pipeBuf = enc
			msg = enc
		}
	}
	if len(msg) > c.maxMessageSize {
		c.t.logMessageDrop(logger.LevelWarn, logger.TagMessage, "message over the DataConsumer's maxMessageSize dropped", int(c.streamID), len(msg), nil)
		return
	}
	c.deliver(msg, ppid)
}

// deliver sends one message if the consumer is active; see
// SctpAssociation.send for the results.
func (c *DataConsumer) deliver(msg []byte, ppid uint32) (queued, full bool) {
	if !c.active() {
		return false, false
	}
	if c.params == nil {
		c.directMu.Lock()
		need := 4 + len(msg)
		if cap(c.directBuf) < need {
			c.directBuf = make([]byte, need)
		}
		b := c.directBuf[:need]
		binary.BigEndian.PutUint32(b, ppid)
		copy(b[4:], msg)
		// The shim copies the payload before Emit returns.
		c.w.Emit(c.id, "message", b, true)
		c.directMu.Unlock()
		queued = true
	} else {
		queued, full = c.t.sctp.send(c, msg, ppid)
		if full {
			c.w.Emit(c.id, "sctpsendbufferfull", nil, false)
		}
	}
	if queued {
		c.messagesSent.Add(1)
		c.bytesSent.Add(uint64(len(msg)))
	}
	return queued, full
}

// attachStream is called by the association when it opens c's stream.
func (c *DataConsumer) attachStream(s *sctp.Stream) {
	c.streamMu.Lock()
	defer c.streamMu.Unlock()
	c.stream = s
	unordered := !c.params.Ordered
	switch {
	case c.params.MaxRetransmits != nil:
		s.SetReliabilityParams(unordered, sctp.ReliabilityTypeRexmit, uint32(*c.params.MaxRetransmits))
	case c.params.MaxPacketLifeTime != nil:
		s.SetReliabilityParams(unordered, sctp.ReliabilityTypeTimed, uint32(*c.params.MaxPacketLifeTime))
	default:
		s.SetReliabilityParams(unordered, sctp.ReliabilityTypeReliable, 0)
	}
	s.SetBufferedAmountLowThreshold(uint64(c.bufferedAmountLow.Load()))
	s.OnBufferedAmountLow(func() {
		if c.closed.Load() {
			return
		}
		c.w.EmitJSON(c.id, "bufferedamountlow", map[string]any{"bufferedAmount": s.BufferedAmount()})
	})
}

func (c *DataConsumer) dataProducerPausedChanged(paused bool) {
	if c.dataProducerPaused.Swap(paused) == paused {
		return
	}
	if paused {
		c.w.Emit(c.id, "dataproducerpause", nil, false)
	} else {
		c.w.Emit(c.id, "dataproducerresume", nil, false)
	}
}

// dataProducerClosed tells Node, then closes c.
func (c *DataConsumer) dataProducerClosed() {
	if c.closed.Load() {
		return
	}
	c.w.Emit(c.id, "dataproducerclose", nil, false)
	c.close()
}

func (c *DataConsumer) close() {
	if c.closed.Swap(true) {
		return
	}
	t := c.t
	c.producer.removeConsumer(c)
	t.router.removeDataConsumer(c.producer, c)
	t.mu.Lock()
	delete(t.dataConsumers, c.id)
	t.mu.Unlock()
	c.w.unregister(c.id)
	if c.params != nil && t.sctp != nil {
		t.sctp.closeStream(c.streamID)
	}
	c.log.Debug("DataConsumer closed [id:%s]", c.id)
}
