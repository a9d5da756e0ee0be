package engine

import (
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gosfu/gosfu/gosfu/ortc"
)

// Router is a media room: the producers and consumers of its transports
// can reach each other. Its state is guarded by its own mutex, taken only
// on the control plane; forwarding never takes it.
type Router struct {
	id string
	w  *Worker

	// caps are the router's capabilities from its mediaCodecs (replaced
	// by updateMediaCodecs; produce reads them).
	caps atomic.Pointer[ortc.RtpCapabilities]

	mu     sync.Mutex
	closed bool
	// transportIDs and rtpObserverIDs are what the router owns; the maps
	// are filled by the transport and observer code.
	transportIDs   map[string]struct{}
	rtpObserverIDs map[string]struct{}
	// producer → consumers and the reverse, for dump() and close cascades.
	producerConsumers         map[string]map[string]struct{}
	consumerProducer          map[string]string
	producerObservers         map[string]map[string]struct{}
	dataProducerDataConsumers map[string]map[string]struct{}
	dataConsumerDataProducer  map[string]string

	onClose []func()

	transports    map[string]*Transport
	producers     map[string]*Producer
	dataProducers map[string]*DataProducer
	rtpObservers  map[string]*RtpObserver
}

// RtpCapabilities are the router's capabilities (from its mediaCodecs).
func (r *Router) RtpCapabilities() *ortc.RtpCapabilities { return r.caps.Load() }

// updateMediaCodecs replaces the router's capabilities (mediasoup 3.27's
// router.updateMediaCodecs()): producers created from now on are mapped to
// them; existing producers and consumers keep theirs.
func (r *Router) updateMediaCodecs(data []byte) (any, error) {
	var req struct {
		MediaCodecs any `json:"mediaCodecs"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	caps, err := ortc.GenerateRouterRtpCapabilities(req.MediaCodecs)
	if err != nil {
		return nil, err
	}
	r.caps.Store(caps)
	return map[string]any{"rtpCapabilities": caps}, nil
}

// ID returns the router id (chosen by the Node layer).
func (r *Router) ID() string { return r.id }

// Worker returns the router's worker.
func (r *Router) Worker() *Worker { return r.w }

func (w *Worker) createRouter(data []byte) (any, error) {
	var req struct {
		RouterID    string `json:"routerId"`
		MediaCodecs any    `json:"mediaCodecs"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if req.RouterID == "" {
		return nil, TypeErrorf("missing routerId")
	}
	caps, err := ortc.GenerateRouterRtpCapabilities(req.MediaCodecs)
	if err != nil {
		return nil, err
	}
	r := &Router{
		id:                        req.RouterID,
		w:                         w,
		transportIDs:              map[string]struct{}{},
		rtpObserverIDs:            map[string]struct{}{},
		producerConsumers:         map[string]map[string]struct{}{},
		consumerProducer:          map[string]string{},
		producerObservers:         map[string]map[string]struct{}{},
		dataProducerDataConsumers: map[string]map[string]struct{}{},
		dataConsumerDataProducer:  map[string]string{},
		transports:                map[string]*Transport{},
		producers:                 map[string]*Producer{},
		dataProducers:             map[string]*DataProducer{},
		rtpObservers:              map[string]*RtpObserver{},
	}
	r.caps.Store(caps)
	if err := w.register(r.id, r); err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.routers[r.id] = r
	w.mu.Unlock()
	w.wlog.Debug("router created [id:%s]", r.id)
	return map[string]any{"rtpCapabilities": caps}, nil
}

// OnClose registers f to run when the router closes (children use it to
// cascade their own close).
func (r *Router) OnClose(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		go f()
		return
	}
	r.onClose = append(r.onClose, f)
}

func (r *Router) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	fns := r.onClose
	r.onClose = nil
	transports := make([]*Transport, 0, len(r.transports))
	for _, t := range r.transports {
		transports = append(transports, t)
	}
	observers := make([]*RtpObserver, 0, len(r.rtpObservers))
	for _, o := range r.rtpObservers {
		observers = append(observers, o)
	}
	r.mu.Unlock()
	for _, t := range transports {
		t.Close()
	}
	for _, o := range observers {
		o.close()
	}
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	r.w.unregister(r.id)
	r.w.mu.Lock()
	delete(r.w.routers, r.id)
	r.w.mu.Unlock()
}

func (r *Router) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "router.dump":
		return r.dump(), nil
	case "router.updateMediaCodecs":
		return r.updateMediaCodecs(data)
	case "router.createPlainTransport":
		return r.createPlainTransport(data)
	case "router.createPipeTransport":
		return r.createPipeTransport(data)
	case "router.createDirectTransport":
		return r.createDirectTransport(data)
	case "router.createWebRtcTransport":
		return r.createWebRtcTransport(data)
	case "router.createAudioLevelObserver":
		return r.createRtpObserver(observerAudioLevel, data)
	case "router.createActiveSpeakerObserver":
		return r.createRtpObserver(observerActiveSpeaker, data)
	case "router.closeRtpObserver":
		return r.closeRtpObserver(data)
	case "router.closeTransport":
		var req struct {
			TransportID string `json:"transportId"`
		}
		_ = json.Unmarshal(data, &req)
		r.mu.Lock()
		t := r.transports[req.TransportID]
		r.mu.Unlock()
		if t == nil {
			return nil, &Error{Name: "NotFoundError", Message: "Transport not found [method:router.closeTransport]"}
		}
		t.Close()
		return nil, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

type keyValues struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func multiMap(m map[string]map[string]struct{}) []keyValues {
	out := make([]keyValues, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, keyValues{Key: k, Values: sortedKeys(m[k])})
	}
	return out
}

func singleMap(m map[string]string) []keyValue {
	out := make([]keyValue, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, keyValue{Key: k, Value: m[k]})
	}
	return out
}

func (r *Router) dump() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return map[string]any{
		"id":                               r.id,
		"transportIds":                     sortedKeys(r.transportIDs),
		"rtpObserverIds":                   sortedKeys(r.rtpObserverIDs),
		"mapProducerIdConsumerIds":         multiMap(r.producerConsumers),
		"mapConsumerIdProducerId":          singleMap(r.consumerProducer),
		"mapProducerIdObserverIds":         multiMap(r.producerObservers),
		"mapDataProducerIdDataConsumerIds": multiMap(r.dataProducerDataConsumers),
		"mapDataConsumerIdDataProducerId":  singleMap(r.dataConsumerDataProducer),
	}
}

func (r *Router) addProducer(p *Producer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return InvalidStateErrorf("Router closed")
	}
	if _, ok := r.producers[p.id]; ok {
		return Errorf("a Producer with same producerId already exists [method:transport.produce]")
	}
	r.producers[p.id] = p
	r.producerConsumers[p.id] = map[string]struct{}{}
	r.producerObservers[p.id] = map[string]struct{}{}
	return nil
}

func (r *Router) removeProducer(p *Producer) {
	r.mu.Lock()
	if r.producers[p.id] == p {
		delete(r.producers, p.id)
		delete(r.producerConsumers, p.id)
		delete(r.producerObservers, p.id)
	}
	r.mu.Unlock()
	p.detachRtpObservers()
}

func (r *Router) producer(id string) *Producer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.producers[id]
}

func (r *Router) addConsumer(p *Producer, c *Consumer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.producerConsumers[p.id]; m != nil {
		m[c.id] = struct{}{}
	}
	r.consumerProducer[c.id] = p.id
}

func (r *Router) removeConsumer(p *Producer, c *Consumer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.producerConsumers[p.id]; m != nil {
		delete(m, c.id)
	}
	delete(r.consumerProducer, c.id)
}

func (r *Router) addDataProducer(p *DataProducer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return InvalidStateErrorf("Router closed")
	}
	if _, ok := r.dataProducers[p.id]; ok {
		return Errorf("a DataProducer with same dataProducerId already exists [method:transport.produceData]")
	}
	r.dataProducers[p.id] = p
	r.dataProducerDataConsumers[p.id] = map[string]struct{}{}
	return nil
}

func (r *Router) removeDataProducer(p *DataProducer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dataProducers[p.id] == p {
		delete(r.dataProducers, p.id)
		delete(r.dataProducerDataConsumers, p.id)
	}
}

func (r *Router) dataProducer(id string) *DataProducer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dataProducers[id]
}

func (r *Router) addDataConsumer(p *DataProducer, c *DataConsumer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.dataProducerDataConsumers[p.id]; m != nil {
		m[c.id] = struct{}{}
	}
	r.dataConsumerDataProducer[c.id] = p.id
}

func (r *Router) removeDataConsumer(p *DataProducer, c *DataConsumer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.dataProducerDataConsumers[p.id]; m != nil {
		delete(m, c.id)
	}
	delete(r.dataConsumerDataProducer, c.id)
}
