package engine

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"sync"
	"sync/atomic"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// SctpStreamParameters are the reliability of one SCTP stream.
type SctpStreamParameters struct {
	StreamID          uint16  `json:"streamId"`
	Ordered           bool    `json:"ordered"`
	MaxPacketLifeTime *uint16 `json:"maxPacketLifeTime,omitempty"`
	MaxRetransmits    *uint16 `json:"maxRetransmits,omitempty"`
}

// parseSctpStreamParameters checks stream parameters as mediasoup's
// worker does; ordered defaults to true unless a partial reliability
// limit is given.
func parseSctpStreamParameters(raw json.RawMessage) (*SctpStreamParameters, error) {
	var in struct {
		StreamID          *float64 `json:"streamId"`
		Ordered           *bool    `json:"ordered"`
		MaxPacketLifeTime *float64 `json:"maxPacketLifeTime"`
		MaxRetransmits    *float64 `json:"maxRetransmits"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, TypeErrorf("invalid sctpStreamParameters")
	}
	if in.StreamID == nil {
		return nil, TypeErrorf("missing streamId")
	}
	u16 := func(name string, v float64) (uint16, error) {
		if v < 0 || v != math.Trunc(v) || v > 65535 {
			return 0, TypeErrorf("%s must be an integer in [0, 65535]", name)
		}
		return uint16(v), nil
	}
	if *in.StreamID > 65534 {
		return nil, TypeErrorf("streamId must not be greater than 65534")
	}
	id, err := u16("streamId", *in.StreamID)
	if err != nil {
		return nil, err
	}
	p := &SctpStreamParameters{StreamID: id, Ordered: true}
	if in.MaxPacketLifeTime != nil {
		v, err := u16("maxPacketLifeTime", *in.MaxPacketLifeTime)
		if err != nil {
			return nil, err
		}
		p.MaxPacketLifeTime = &v
	}
	if in.MaxRetransmits != nil {
		v, err := u16("maxRetransmits", *in.MaxRetransmits)
		if err != nil {
			return nil, err
		}
		p.MaxRetransmits = &v
	}
	if p.MaxPacketLifeTime != nil && p.MaxRetransmits != nil {
		return nil, TypeErrorf("cannot provide both maxPacketLifeTime and maxRetransmits")
	}
	partial := p.MaxPacketLifeTime != nil || p.MaxRetransmits != nil
	switch {
	case in.Ordered != nil && *in.Ordered && partial:
		return nil, TypeErrorf("cannot be ordered with maxPacketLifeTime or maxRetransmits")
	case in.Ordered != nil:
		p.Ordered = *in.Ordered
	case partial:
		p.Ordered = false
	}
	return p, nil
}

// DataProducer receives messages from one SCTP stream of its transport
// (type sctp) or from Node (type direct, dataProducer.send()) and hands
// them to its DataConsumers.
type DataProducer struct {
	id       string
	typ      string // sctp, direct
	t        *Transport
	w        *Worker
	log      *logger.Named
	params   *SctpStreamParameters
	label    string
	protocol string
	// maxMessageSize is the transport's maxReceiveMessageSize.
	maxMessageSize int

	paused atomic.Bool
	closed atomic.Bool

	// consumers is replaced, never modified: the message path reads it
	// without a lock. consMu serialises the replacements, and pause,
	// resume and close with them so consumers see them in order.
	consMu    sync.Mutex
	consumers atomic.Pointer[[]*DataConsumer]

	messagesReceived atomic.Uint64
	bytesReceived    atomic.Uint64
}

func (t *Transport) produceData(data []byte) (any, error) {
	var req struct {
		DataProducerID       string          `json:"dataProducerId"`
		Type                 string          `json:"type"`
		SctpStreamParameters json.RawMessage `json:"sctpStreamParameters"`
		Label                string          `json:"label"`
		Protocol             string          `json:"protocol"`
		Paused               bool            `json:"paused"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if t.sctp == nil && t.typ != "direct" {
		return nil, Errorf("SCTP not enabled and not a direct Transport")
	}
	if req.DataProducerID == "" {
		return nil, TypeErrorf("missing dataProducerId")
	}
	p := &DataProducer{
		id:       req.DataProducerID,
		typ:      req.Type,
		t:        t,
		w:        t.w,
		log:      t.w.log.Named("DataProducer"),
		label:    req.Label,
		protocol: req.Protocol,
	}
	switch req.Type {
	case "sctp":
		if len(req.SctpStreamParameters) == 0 || string(req.SctpStreamParameters) == "null" {
			return nil, TypeErrorf("missing sctpStreamParameters")
		}
		params, err := parseSctpStreamParameters(req.SctpStreamParameters)
		if err != nil {
			return nil, err
		}
		p.params = params
		if t.sctp == nil {
			return nil, TypeErrorf("cannot create a DataProducer of type 'sctp', SCTP not enabled in this Transport")
		}
		p.maxMessageSize = t.sctp.cfg.maxReceiveMessageSize
	case "direct":
		if t.typ != "direct" {
			return nil, TypeErrorf("cannot create a DataProducer of type 'direct', not a direct Transport")
		}
		p.maxMessageSize = t.directLink().maxReceiveMessageSize
	default:
		return nil, TypeErrorf("invalid type")
	}
	p.paused.Store(req.Paused)
	empty := []*DataConsumer{}
	p.consumers.Store(&empty)

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, InvalidStateErrorf("Transport closed")
	}
	_, dup := t.dataProducers[p.id]
	t.mu.Unlock()
	if dup {
		return nil, Errorf("a DataProducer with same dataProducerId already exists [method:transport.produceData]")
	}
	if p.params != nil {
		if err := t.sctp.addDataProducer(p, p.params.StreamID); err != nil {
			return nil, err
		}
	}
	if err := t.router.addDataProducer(p); err != nil {
		if p.params != nil {
			t.sctp.removeDataProducer(p, p.params.StreamID)
		}
		return nil, err
	}
	if err := t.w.register(p.id, p); err != nil {
		t.router.removeDataProducer(p)
		if p.params != nil {
			t.sctp.removeDataProducer(p, p.params.StreamID)
		}
		return nil, err
	}
	t.mu.Lock()
	t.dataProducers[p.id] = p
	t.mu.Unlock()
	p.log.Debug("DataProducer created [id:%s, type:%s]", p.id, p.typ)
	return p.dump(), nil
}

func (p *DataProducer) dump() map[string]any {
	m := map[string]any{
		"id":       p.id,
		"type":     p.typ,
		"label":    p.label,
		"protocol": p.protocol,
		"paused":   p.paused.Load(),
	}
	if p.params != nil {
		m["sctpStreamParameters"] = p.params
	}
	return m
}

func (p *DataProducer) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "dataProducer.dump":
		return p.dump(), nil
	case "dataProducer.getStats":
		return []any{map[string]any{
			"type":             "data-producer",
			"timestamp":        p.w.nowMs(),
			"label":            p.label,
			"protocol":         p.protocol,
			"messagesReceived": p.messagesReceived.Load(),
			"bytesReceived":    p.bytesReceived.Load(),
		}}, nil
	case "dataProducer.pause":
		p.setPaused(true)
		return nil, nil
	case "dataProducer.resume":
		p.setPaused(false)
		return nil, nil
	case "dataProducer.send":
		return nil, p.send(data)
	}
	return nil, Errorf("unknown method '%s'", method)
}

func (p *DataProducer) setPaused(paused bool) {
	p.consMu.Lock()
	defer p.consMu.Unlock()
	if p.paused.Swap(paused) == paused {
		return
	}
	for _, c := range *p.consumers.Load() {
		c.dataProducerPausedChanged(paused)
	}
}

// send is dataProducer.send() of a direct DataProducer. The payload is
// u32 ppid | u16 n | n × u16 subchannels | u8 flags | u16 required |
// u16 ignored | message (big-endian; flags bit 0: required given, bit 1:
// ignored given).
func (p *DataProducer) send(b []byte) error {
	if p.typ != "direct" {
		return Errorf("cannot send on a DataProducer of type 'sctp'")
	}
	msg, ppid, subchannels, required, ignored, err := decodeDataProducerSend(b)
	if err != nil {
		return err
	}
	if len(msg) > p.maxMessageSize {
		return TypeErrorf("given message exceeds maxMessageSize value [maxMessageSize:%d, len:%d]", p.maxMessageSize, len(msg))
	}
	p.receiveMessage(msg, ppid, subchannels, required, ignored)
	return nil
}

var errBadDataProducerSend = TypeErrorf("invalid dataProducer.send payload")

// decodeDataProducerSend parses the dataProducer.send payload.
func decodeDataProducerSend(b []byte) (msg []byte, ppid uint32, subchannels []uint16, required, ignored *uint16, err error) {
	if len(b) < 6 {
		return nil, 0, nil, nil, nil, errBadDataProducerSend
	}
	ppid = binary.BigEndian.Uint32(b)
	n := int(binary.BigEndian.Uint16(b[4:]))
	off := 6
	if len(b) < off+2*n+5 {
		return nil, 0, nil, nil, nil, errBadDataProducerSend
	}
	if n > 0 {
		subchannels = make([]uint16, n)
		for i := range subchannels {
			subchannels[i] = binary.BigEndian.Uint16(b[off+2*i:])
		}
	}
	off += 2 * n
	flags := b[off]
	if flags&1 != 0 {
		v := binary.BigEndian.Uint16(b[off+1:])
		required = &v
	}
	if flags&2 != 0 {
		v := binary.BigEndian.Uint16(b[off+3:])
		ignored = &v
	}
	return b[off+5:], ppid, subchannels, required, ignored, nil
}

// receiveMessage counts a message and hands it to the consumers. msg is
// only valid during the call. It runs on the stream's reader goroutine
// (or the JS thread for a direct DataProducer).
func (p *DataProducer) receiveMessage(msg []byte, ppid uint32, subchannels []uint16, required, ignored *uint16) {
	p.messagesReceived.Add(1)
	p.bytesReceived.Add(uint64(len(msg)))
	if p.paused.Load() {
		return
	}
	for _, c := range *p.consumers.Load() {
		c.sendMessage(msg, ppid, subchannels, required, ignored)
	}
}

func (p *DataProducer) addConsumer(c *DataConsumer) {
	p.consMu.Lock()
	defer p.consMu.Unlock()
	old := *p.consumers.Load()
	next := make([]*DataConsumer, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, c)
	p.consumers.Store(&next)
	// Pause state as of the moment c joined the fan-out.
	c.dataProducerPaused.Store(p.paused.Load())
}

func (p *DataProducer) removeConsumer(c *DataConsumer) {
	p.consMu.Lock()
	defer p.consMu.Unlock()
	old := *p.consumers.Load()
	next := make([]*DataConsumer, 0, len(old))
	for _, x := range old {
		if x != c {
			next = append(next, x)
		}
	}
	p.consumers.Store(&next)
}

func (p *DataProducer) close() {
	if p.closed.Swap(true) {
		return
	}
	t := p.t
	if p.params != nil && t.sctp != nil {
		t.sctp.removeDataProducer(p, p.params.StreamID)
	}
	t.mu.Lock()
	delete(t.dataProducers, p.id)
	t.mu.Unlock()
	t.router.removeDataProducer(p)
	p.w.unregister(p.id)
	p.consMu.Lock()
	consumers := *p.consumers.Load()
	empty := []*DataConsumer{}
	p.consumers.Store(&empty)
	p.consMu.Unlock()
	for _, c := range consumers {
		c.dataProducerClosed()
	}
	p.log.Debug("DataProducer closed [id:%s]", p.id)
}
