package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pion/sctp"

	"github.com/gosfu/gosfu/gosfu/logger"
)

// SCTP defaults of mediasoup 3.27.1 (used when the Node layer leaves an
// option out).
const (
	defaultSctpMaxMessageSize          = 262144
	defaultSctpSendBufferSize          = 2000000
	defaultSctpPerStreamSendQueueLimit = 2000000
	defaultSctpMaxReceiverWindow       = 5242880
	defaultSctpBufferedAmountLow       = 1024
	// sctpPort is the SCTP port of both ends, as in every WebRTC stack.
	sctpPort = 5000
	// sctpMaxStreams is what every association negotiates (pion always
	// offers 65535 streams in both directions, as browsers do).
	sctpMaxStreams = 65535
	// sctpMaxIdleStreams bounds the streams the remote opens that no
	// DataProducer reads: beyond it they are reset, so a peer cannot make
	// the engine keep goroutines for streams nobody uses.
	sctpMaxIdleStreams = 1024
)

// sctpOptions are the SCTP options of a transport creation request.
type sctpOptions struct {
	EnableSctp                                  bool    `json:"enableSctp"`
	MaxSendMessageSize                          float64 `json:"maxSendMessageSize"`
	MaxReceiveMessageSize                       float64 `json:"maxReceiveMessageSize"`
	SctpSendBufferSize                          float64 `json:"sctpSendBufferSize"`
	SctpPerStreamSendQueueLimit                 float64 `json:"sctpPerStreamSendQueueLimit"`
	SctpMaxReceiverWindowBufferSize             float64 `json:"sctpMaxReceiverWindowBufferSize"`
	SctpDefaultStreamBufferedAmountLowThreshold float64 `json:"sctpDefaultStreamBufferedAmountLowThreshold"`
}

// sctpConfig is sctpOptions checked and with defaults applied.
type sctpConfig struct {
	maxSendMessageSize      int
	maxReceiveMessageSize   int
	sendBufferSize          int
	perStreamSendQueueLimit int
	maxReceiverWindow       int
	bufferedAmountLow       int
	isDataChannel           bool
}

// sizeOption checks one size option: a whole number in [1, 2^32-1], or 0
// for the default.
func sizeOption(name string, v float64, def int) (int, error) {
	if v == 0 {
		return def, nil
	}
	if v < 0 || v != math.Trunc(v) || v > math.MaxUint32 {
		return 0, TypeErrorf("%s must be a positive integer", name)
	}
	return int(v), nil
}

func (o sctpOptions) config(isDataChannel bool) (sctpConfig, error) {
	var c sctpConfig
	var err error
	c.isDataChannel = isDataChannel
	if c.maxSendMessageSize, err = sizeOption("maxSendMessageSize", o.MaxSendMessageSize, defaultSctpMaxMessageSize); err != nil {
		return c, err
	}
	if c.maxReceiveMessageSize, err = sizeOption("maxReceiveMessageSize", o.MaxReceiveMessageSize, defaultSctpMaxMessageSize); err != nil {
		return c, err
	}
	if c.sendBufferSize, err = sizeOption("sctpSendBufferSize", o.SctpSendBufferSize, defaultSctpSendBufferSize); err != nil {
		return c, err
	}
	if c.perStreamSendQueueLimit, err = sizeOption("sctpPerStreamSendQueueLimit", o.SctpPerStreamSendQueueLimit, defaultSctpPerStreamSendQueueLimit); err != nil {
		return c, err
	}
	if c.maxReceiverWindow, err = sizeOption("sctpMaxReceiverWindowBufferSize", o.SctpMaxReceiverWindowBufferSize, defaultSctpMaxReceiverWindow); err != nil {
		return c, err
	}
	if o.SctpDefaultStreamBufferedAmountLowThreshold < 0 || o.SctpDefaultStreamBufferedAmountLowThreshold > math.MaxUint32 {
		return c, TypeErrorf("sctpDefaultStreamBufferedAmountLowThreshold must be a positive integer")
	}
	c.bufferedAmountLow = defaultSctpBufferedAmountLow
	if o.SctpDefaultStreamBufferedAmountLowThreshold != 0 {
		c.bufferedAmountLow = int(o.SctpDefaultStreamBufferedAmountLowThreshold)
	}
	return c, nil
}

// parameters is transport.sctpParameters as mediasoup 3.27.1 reports it
// (OS, MIS and maxMessageSize kept for older clients).
func (c sctpConfig) parameters() map[string]any {
	return map[string]any{
		"port":                        sctpPort,
		"maxSendMessageSize":          c.maxSendMessageSize,
		"maxReceiveMessageSize":       c.maxReceiveMessageSize,
		"sendBufferSize":              c.sendBufferSize,
		"perStreamSendQueueLimit":     c.perStreamSendQueueLimit,
		"maxReceiverWindowBufferSize": c.maxReceiverWindow,
		"isDataChannel":               c.isDataChannel,
		"OS":                          sctpMaxStreams,
		"MIS":                         sctpMaxStreams,
		"maxMessageSize":              c.maxReceiveMessageSize,
	}
}

// SCTP association states, as mediasoup names them.
const (
	sctpStateNew        = "new"
	sctpStateConnecting = "connecting"
	sctpStateConnected  = "connected"
	sctpStateFailed     = "failed"
	sctpStateClosed     = "closed"
)

// SctpAssociation is the SCTP association of a transport: over DTLS on a
// WebRtcTransport (the browser's DataChannels), directly over the UDP
// tuple on Plain and Pipe transports. It is pion/sctp's association; the
// streams carry mediasoup's pre-negotiated stream ids (no DCEP).
//
// Receiving: every stream the remote sends on has a reader goroutine that
// hands whole messages to the DataProducer registered for its stream id
// (the SCTP listener). Sending: DataConsumers write to their stream;
// pion/sctp queues without blocking, and the send-buffer limits are
// checked before, so a slow remote never blocks the sender.
type SctpAssociation struct {
	t   *Transport
	cfg sctpConfig
	log *logger.Named

	state atomic.Value // string

	mu     sync.Mutex
	closed bool
	assoc  *sctp.Association
	// streams by id: those the remote opened and those DataConsumers
	// write to (one pion stream carries both directions of an id).
	streams map[uint16]*sctp.Stream
	reading map[uint16]bool
	idle    int
	// listener maps stream ids to the DataProducers reading them.
	listener map[uint16]*DataProducer
	// pending holds what DataConsumers send before the association is
	// up (bounded by sendBufferSize, as mediasoup queues them); flushing
	// keeps later messages behind them while they go out.
	pending      []pendingMessage
	pendingBytes int
	flushing     bool

	// Counters for dump(): messages dropped because no DataProducer
	// reads their stream, because they exceed maxReceiveMessageSize, or
	// because the send buffer was full.
	droppedNoProducer atomic.Uint64
	droppedTooBig     atomic.Uint64
	droppedSendFull   atomic.Uint64

	wg sync.WaitGroup
}

type pendingMessage struct {
	c    *DataConsumer
	msg  []byte
	ppid uint32
}

func newSctpAssociation(t *Transport, cfg sctpConfig) *SctpAssociation {
	a := &SctpAssociation{
		t:        t,
		cfg:      cfg,
		log:      t.w.log.Named("SctpAssociation"),
		streams:  map[uint16]*sctp.Stream{},
		reading:  map[uint16]bool{},
		listener: map[uint16]*DataProducer{},
	}
	a.state.Store(sctpStateNew)
	return a
}

// State is the association state (new, connecting, connected, failed,
// closed).
func (a *SctpAssociation) State() string { return a.state.Load().(string) }

func (a *SctpAssociation) setState(s string) {
	if a.state.Swap(s) == s {
		return
	}
	a.log.DebugTag(logger.TagSctp, "SCTP state %s [transportId:%s]", s, a.t.id)
	a.t.w.EmitJSON(a.t.id, "sctpstatechange", map[string]any{"sctpState": s})
}

// Start runs the association over conn until conn or the association
// closes: over DTLS it answers the browser's INIT, on Plain and Pipe
// transports it connects. It returns at once; after, if not nil, runs
// on the association's goroutine once the association has ended by
// itself (not by Close).
func (a *SctpAssociation) Start(conn net.Conn, after func()) {
	a.mu.Lock()
	if a.closed || a.State() != sctpStateNew {
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.setState(sctpStateConnecting)
	a.wg.Add(1)
	a.t.w.Go(func() {
		defer a.wg.Done()
		if a.run(conn) && after != nil {
			after()
		}
	})
}

// run reports whether the association ended by itself.
func (a *SctpAssociation) run(conn net.Conn) bool {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Closing the transport ends a handshake in progress.
		select {
		case <-a.t.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	opts := []sctp.AssociationOption{
		sctp.WithNetConn(conn),
		sctp.WithLoggerFactory(a.t.w.log.PionFactory(logger.TagSctp)),
		sctp.WithMaxReceiveBufferSize(uint32(a.cfg.maxReceiverWindow)),
		sctp.WithMaxMessageSize(uint32(a.cfg.maxSendMessageSize)),
		// Over DTLS the checksum protects nothing (RFC 9653); Chromium
		// offers it and pion only uses it when the remote does.
		sctp.WithEnableZeroChecksum(a.cfg.isDataChannel),
	}
	var (
		assoc *sctp.Association
		err   error
	)
	if a.cfg.isDataChannel {
		// A browser starts SCTP when its first DataChannel is created,
		// which may be long after DTLS connected: answer its INIT whenever
		// it comes. An active INIT would give up after pion's 8
		// retransmissions (about 3 minutes) and leave the transport
		// without DataChannels. Closing the transport closes DTLS, which
		// ends the wait.
		assoc, err = sctp.ServerWithOptions(toServerOptions(opts)...)
	} else {
		// Plain and Pipe peers may wait for us: connect.
		assoc, err = sctp.ClientContext(ctx, toClientOptions(opts)...)
	}
	cancel()
	if err != nil {
		a.mu.Lock()
		closed := a.closed
		a.mu.Unlock()
		if !closed {
			a.log.Warn("SCTP association failed [transportId:%s]: %v", a.t.id, err)
			a.setState(sctpStateFailed)
		}
		return !closed
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		_ = assoc.Close()
		return false
	}
	a.assoc = assoc
	a.flushing = true
	a.mu.Unlock()
	a.t.w.EmitJSON(a.t.id, "sctpnegotiatedcapabilities", map[string]any{
		"negotiatedMaxOutboundStreams": sctpMaxStreams,
		"negotiatedMaxInboundStreams":  sctpMaxStreams,
	})
	a.setState(sctpStateConnected)
	a.flushPending()
	for {
		s, err := assoc.AcceptStream()
		if err != nil {
			break
		}
		a.readStream(s)
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if !closed {
		a.setState(sctpStateClosed)
	}
	return !closed
}

// readStream starts reading a stream the remote sends on (once per id).
func (a *SctpAssociation) readStream(s *sctp.Stream) {
	id := s.StreamIdentifier()
	a.mu.Lock()
	if a.closed || a.reading[id] {
		a.mu.Unlock()
		return
	}
	if a.listener[id] == nil {
		if a.idle >= sctpMaxIdleStreams {
			a.mu.Unlock()
			a.droppedNoProducer.Add(1)
			_ = s.Close()
			return
		}
		a.idle++
	}
	a.reading[id] = true
	a.streams[id] = s
	a.mu.Unlock()
	a.wg.Add(1)
	a.t.w.Go(func() {
		defer a.wg.Done()
		a.readLoop(s)
		// Reset by the remote: a later stream with this id is a new one.
		a.mu.Lock()
		if a.streams[id] == s {
			delete(a.streams, id)
			if a.reading[id] {
				delete(a.reading, id)
				if a.listener[id] == nil {
					a.idle--
				}
			}
		}
		a.mu.Unlock()
	})
}

// readLoop hands every message of one stream to its DataProducer, in
// order, from this goroutine.
func (a *SctpAssociation) readLoop(s *sctp.Stream) {
	id := s.StreamIdentifier()
	buf := make([]byte, a.cfg.maxReceiveMessageSize+1)
	for {
		n, ppid, err := s.ReadSCTP(buf)
		if errors.Is(err, io.ErrShortBuffer) {
			// Too big: pion keeps the message until a buffer of its size
			// (bounded by the receive window) takes it; then drop it.
			big := make([]byte, n)
			_, _, err = s.ReadSCTP(big)
			if err == nil {
				a.droppedTooBig.Add(1)
				a.t.logMessageDrop(logger.LevelWarn, logger.TagSctp, "SCTP message over maxReceiveMessageSize dropped", int(id), n, nil)
				continue
			}
		}
		if err != nil {
			return
		}
		if n > a.cfg.maxReceiveMessageSize {
			a.droppedTooBig.Add(1)
			a.t.logMessageDrop(logger.LevelWarn, logger.TagSctp, "SCTP message over maxReceiveMessageSize dropped", int(id), n, nil)
			continue
		}
		a.mu.Lock()
		p := a.listener[id]
		a.mu.Unlock()
		if p == nil {
			a.droppedNoProducer.Add(1)
			a.t.logMessageDrop(logger.LevelWarn, logger.TagSctp, "no DataProducer for SCTP message, dropped", int(id), n, nil)
			continue
		}
		if a.t.typ == "pipe" {
			msg, subchannels, required, ignored := decodeSubchannels(buf[:n])
			p.receiveMessage(msg, uint32(ppid), subchannels, required, ignored)
			continue
		}
		p.receiveMessage(buf[:n], uint32(ppid), nil, nil, nil)
	}
}

// addDataProducer registers p for its stream id (mediasoup's SCTP
// listener).
func (a *SctpAssociation) addDataProducer(p *DataProducer, streamID uint16) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.listener[streamID]; ok {
		return Errorf("streamId already exists in SCTP listener [streamId:%d]", streamID)
	}
	a.listener[streamID] = p
	if a.reading[streamID] && a.idle > 0 {
		a.idle--
	}
	return nil
}

func (a *SctpAssociation) removeDataProducer(p *DataProducer, streamID uint16) {
	a.mu.Lock()
	if a.listener[streamID] == p {
		delete(a.listener, streamID)
		if a.reading[streamID] {
			a.idle++
		}
	}
	a.mu.Unlock()
}

// streamIDTable is the SCTP listener for dump().
func (a *SctpAssociation) streamIDTable() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []map[string]any{}
	for id, p := range a.listener {
		out = append(out, map[string]any{"key": id, "value": p.id})
	}
	return out
}

// sendStream returns the stream a DataConsumer writes to, opening it with
// the consumer's reliability on first use; nil until connected.
func (a *SctpAssociation) sendStream(c *DataConsumer) *sctp.Stream {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.assoc == nil || a.closed {
		return nil
	}
	id := c.streamID
	s := a.streams[id]
	if s == nil {
		var err error
		s, err = a.assoc.OpenStream(id, sctp.PayloadTypeWebRTCBinary)
		if err != nil {
			return nil
		}
		a.streams[id] = s
	}
	if c.stream != s {
		c.attachStream(s)
	}
	return s
}

// send queues one message of c; it never blocks. Before the association
// is up the message waits in the association (in order). It reports
// whether the message was queued and, if not, whether the send buffer was
// full.
func (a *SctpAssociation) send(c *DataConsumer, msg []byte, ppid uint32) (queued, full bool) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return false, false
	}
	if a.assoc == nil || a.flushing {
		if a.pendingBytes+len(msg) > a.cfg.sendBufferSize {
			a.mu.Unlock()
			a.droppedSendFull.Add(1)
			return false, true
		}
		a.pending = append(a.pending, pendingMessage{c, append([]byte(nil), msg...), ppid})
		a.pendingBytes += len(msg)
		a.mu.Unlock()
		return true, false
	}
	a.mu.Unlock()
	return a.write(c, msg, ppid)
}

// write hands one message to pion/sctp after the send-buffer checks.
func (a *SctpAssociation) write(c *DataConsumer, msg []byte, ppid uint32) (queued, full bool) {
	s := a.sendStream(c)
	if s == nil {
		return false, false
	}
	if int(s.BufferedAmount())+len(msg) > a.cfg.perStreamSendQueueLimit ||
		a.assoc.BufferedAmount()+len(msg) > a.cfg.sendBufferSize {
		a.droppedSendFull.Add(1)
		a.t.logMessageDrop(logger.LevelDebug, logger.TagSctp|logger.TagMessage, "SCTP send buffer full, message dropped", int(c.streamID), len(msg), nil)
		return false, true
	}
	if _, err := s.WriteSCTP(msg, sctp.PayloadProtocolIdentifier(ppid)); err != nil {
		a.t.logMessageDrop(logger.LevelDebug, logger.TagSctp, "SCTP send failed", int(c.streamID), len(msg), err)
		return false, false
	}
	return true, false
}

// flushPending sends what waited for the association, oldest first, then
// lets sends go straight to pion.
func (a *SctpAssociation) flushPending() {
	for {
		a.mu.Lock()
		batch := a.pending
		a.pending = nil
		a.pendingBytes = 0
		if len(batch) == 0 {
			a.flushing = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		for _, m := range batch {
			if m.c.closed.Load() {
				continue
			}
			if _, full := a.write(m.c, m.msg, m.ppid); full {
				m.c.w.Emit(m.c.id, "sctpsendbufferfull", nil, false)
			}
		}
	}
}

// closeStream resets the outgoing stream of a closed DataConsumer (the
// remote then closes its DataChannel), unless a DataProducer still reads
// that id.
func (a *SctpAssociation) closeStream(id uint16) {
	a.mu.Lock()
	s := a.streams[id]
	if s == nil || a.listener[id] != nil {
		a.mu.Unlock()
		return
	}
	delete(a.streams, id)
	if a.reading[id] {
		delete(a.reading, id)
		a.idle--
	}
	a.mu.Unlock()
	_ = s.Close()
}

// bufferedAmount is what the stream of id has queued.
func (a *SctpAssociation) bufferedAmount(id uint16) int {
	a.mu.Lock()
	s := a.streams[id]
	a.mu.Unlock()
	if s == nil {
		return 0
	}
	return int(s.BufferedAmount())
}

// Close aborts the association and waits for its goroutines.
func (a *SctpAssociation) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	assoc := a.assoc
	a.mu.Unlock()
	if assoc != nil {
		_ = assoc.Close()
	}
	if st := a.State(); st != sctpStateNew && st != sctpStateClosed && st != sctpStateFailed {
		a.state.Store(sctpStateClosed)
	}
}

// Wait blocks until every goroutine of the association has ended; the
// net.Conn it runs over must be closed first.
func (a *SctpAssociation) Wait() { a.wg.Wait() }

func (a *SctpAssociation) fillDump(m map[string]any) {
	m["sctpParameters"] = a.cfg.parameters()
	m["sctpState"] = a.State()
	streams := 0
	if a.State() == sctpStateConnected {
		streams = sctpMaxStreams
	}
	m["sctpNegotiatedCapabilities"] = map[string]any{
		"negotiatedMaxOutboundStreams": streams,
		"negotiatedMaxInboundStreams":  streams,
	}
	m["sctpListener"] = map[string]any{"streamIdTable": a.streamIDTable()}
	dropped := map[string]any{
		"noDataProducer": a.droppedNoProducer.Load(),
		"tooBig":         a.droppedTooBig.Load(),
		"sendBufferFull": a.droppedSendFull.Load(),
	}
	if q, ok := a.t.link.(interface{ sctpQueueDrops() uint64 }); ok {
		dropped["queueFull"] = q.sctpQueueDrops()
	}
	m["sctpDropped"] = dropped
}

// decodeSctpOptions reads the SCTP options of a transport creation request.
func decodeSctpOptions(data []byte, isDataChannel bool) (*sctpConfig, error) {
	var o sctpOptions
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if !o.EnableSctp {
		return nil, nil
	}
	c, err := o.config(isDataChannel)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func toServerOptions(opts []sctp.AssociationOption) []sctp.ServerOption {
	out := make([]sctp.ServerOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

func toClientOptions(opts []sctp.AssociationOption) []sctp.ClientOption {
	out := make([]sctp.ClientOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}
