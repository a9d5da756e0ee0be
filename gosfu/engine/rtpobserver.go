package engine

import (
	"encoding/json"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/gosfu/gosfu/gosfu/clock"
)

// uriSsrcAudioLevel is the client-to-mixer audio level extension (RFC 6464):
// one byte, V bit then the level in -dBov (0 loudest, 127 silence).
const uriSsrcAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// RTP observer kinds, as the Node layer names them (rtpObserver.type).
const (
	observerAudioLevel    = "audiolevel"
	observerActiveSpeaker = "activespeaker"
)

// Audio level observer rules (mediasoup's).
const (
	// audioLevelMinSamples: a producer with fewer audio level samples in an
	// interval is left out of that interval's volumes.
	audioLevelMinSamples = 10
	// silentVolume is the volume of a producer that sent no level (dBov).
	silentVolume = -127
)

// Active speaker rules (see dominantSpeaker).
const (
	// speechThreshold: an interval whose average volume is below this (in
	// dBov), or without packets, is silence.
	speechThreshold = -70
	// switchMargin: a challenger must be this much louder (dB) than the
	// dominant speaker.
	switchMargin = 6
	// switchSustain: for this long (rounded up to whole intervals, at least
	// one).
	switchSustain = 900 * time.Millisecond
)

// RtpObserver watches the audio levels (ssrc-audio-level header extension)
// of the audio producers added to it and emits events on a timer goroutine
// it owns: an AudioLevelObserver emits "volumes" / "silence", an
// ActiveSpeakerObserver "dominantspeaker". A paused observer ignores
// packets and emits nothing.
//
// Packet path: a producer with observers holds an atomic pointer to its
// observer links (nil without observers, so other producers pay one atomic
// load); each level sample takes the observer's mutex for a few additions.
type RtpObserver struct {
	id       string
	typ      string
	r        *Router
	w        *Worker
	interval time.Duration

	// Audio level options.
	maxEntries int
	threshold  int

	paused atomic.Bool

	// mu guards what follows; the packet path takes it per sample.
	mu      sync.Mutex
	closed  bool
	members []*observedProducer // in the order they were added
	// silence: the last audio level event was "silence" (or none yet).
	silence bool
	speaker dominantSpeaker
	sustain int

	// ticker ends intervals; resume restarts it.
	ticker clock.Ticker
	stop   chan struct{}
	done   chan struct{}
}

// observedProducer is a producer's accumulator in an observer: the sum and
// number of its levels (-dBov) in the current interval.
type observedProducer struct {
	p     *Producer
	sum   int
	count int
}

// producerObservers is what a producer's packet path reads: the id of its
// ssrc-audio-level extension (its own numbering; 0 when the extension is
// not negotiated or not in the router's capabilities) and its observers.
type producerObservers struct {
	extID uint8
	links []observerLink
}

type observerLink struct {
	o *RtpObserver
	m *observedProducer
}

// audioLevelExtID is the producer's id of the audio level extension, if it
// maps into the router (as mediasoup reads the extension from the mapped
// packet).
func (p *Producer) audioLevelExtID() uint8 {
	for _, e := range p.rtpParameters.HeaderExtensions {
		if e.Uri == uriSsrcAudioLevel && e.Id > 0 && e.Id < 256 && p.extMap[e.Id] != 0 {
			return uint8(e.Id)
		}
	}
	return 0
}

// observeRtp hands a packet's audio level to the producer's observers.
func (po *producerObservers) observeRtp(hdr *rtp.Header) {
	if po.extID == 0 || !hdr.Extension {
		return
	}
	v := hdr.GetExtension(po.extID)
	if len(v) != 1 {
		return
	}
	level := int(v[0] & 0x7f)
	for _, l := range po.links {
		l.o.addLevel(l.m, level)
	}
}

// attachObserver adds an observer link to the producer's packet path.
func (p *Producer) attachObserver(o *RtpObserver, m *observedProducer) {
	p.consMu.Lock()
	defer p.consMu.Unlock()
	next := &producerObservers{extID: p.audioLevelExtID()}
	if old := p.rtpObservers.Load(); old != nil {
		next.links = append(next.links, old.links...)
	}
	next.links = append(next.links, observerLink{o: o, m: m})
	p.rtpObservers.Store(next)
}

// detachObserver removes an observer from the producer's packet path (all
// of them when o is nil) and returns the observers it removed.
func (p *Producer) detachObserver(o *RtpObserver) []*RtpObserver {
	p.consMu.Lock()
	defer p.consMu.Unlock()
	old := p.rtpObservers.Load()
	if old == nil {
		return nil
	}
	var removed []*RtpObserver
	next := &producerObservers{extID: old.extID}
	for _, l := range old.links {
		if o == nil || l.o == o {
			removed = append(removed, l.o)
			continue
		}
		next.links = append(next.links, l)
	}
	if len(next.links) == 0 {
		p.rtpObservers.Store(nil)
	} else {
		p.rtpObservers.Store(next)
	}
	return removed
}

// detachRtpObservers is called when the producer closes: every observer
// forgets it.
func (p *Producer) detachRtpObservers() {
	for _, o := range p.detachObserver(nil) {
		o.forget(p)
	}
}

func (r *Router) createRtpObserver(typ string, data []byte) (any, error) {
	method := "router.createAudioLevelObserver"
	if typ == observerActiveSpeaker {
		method = "router.createActiveSpeakerObserver"
	}
	var req struct {
		RtpObserverID string   `json:"rtpObserverId"`
		MaxEntries    *float64 `json:"maxEntries"`
		Threshold     *float64 `json:"threshold"`
		Interval      *float64 `json:"interval"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	if req.RtpObserverID == "" {
		return nil, TypeErrorf("missing rtpObserverId")
	}
	o := &RtpObserver{
		id:         req.RtpObserverID,
		typ:        typ,
		r:          r,
		w:          r.w,
		maxEntries: 1,
		threshold:  -80,
		silence:    true,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	var intervalMs int
	if typ == observerAudioLevel {
		intervalMs = 1000
		if req.MaxEntries != nil {
			o.maxEntries = int(*req.MaxEntries)
		}
		if req.Threshold != nil {
			o.threshold = int(*req.Threshold)
		}
		if o.maxEntries < 1 || o.maxEntries > 65535 {
			return nil, TypeErrorf("invalid maxEntries value %d", o.maxEntries)
		}
		if o.threshold > 0 || o.threshold < -127 {
			return nil, TypeErrorf("invalid threshold value %d", o.threshold)
		}
		if req.Interval != nil {
			intervalMs = int(*req.Interval)
		}
		intervalMs = min(max(intervalMs, 250), 5000)
	} else {
		intervalMs = 300
		if req.Interval != nil {
			intervalMs = int(*req.Interval)
		}
		intervalMs = min(max(intervalMs, 100), 5000)
	}
	o.interval = time.Duration(intervalMs) * time.Millisecond
	o.sustain = max(1, int((switchSustain+o.interval-1)/o.interval))

	// Started before the observer is reachable, so that resume finds it.
	o.ticker = r.w.clock.NewTicker(o.interval)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		o.ticker.Stop()
		return nil, InvalidStateErrorf("Router closed")
	}
	if _, ok := r.rtpObservers[o.id]; ok {
		r.mu.Unlock()
		o.ticker.Stop()
		return nil, Errorf("an RtpObserver with same id already exists [method:%s]", method)
	}
	if err := r.w.register(o.id, o); err != nil {
		r.mu.Unlock()
		o.ticker.Stop()
		return nil, err
	}
	r.rtpObservers[o.id] = o
	r.rtpObserverIDs[o.id] = struct{}{}
	r.mu.Unlock()
	r.w.Go(o.run)
	r.w.wlog.Debug("RtpObserver created [id:%s, type:%s]", o.id, o.typ)
	return nil, nil
}

func (r *Router) closeRtpObserver(data []byte) (any, error) {
	var req struct {
		RtpObserverID string `json:"rtpObserverId"`
	}
	_ = json.Unmarshal(data, &req)
	r.mu.Lock()
	o := r.rtpObservers[req.RtpObserverID]
	r.mu.Unlock()
	if o == nil {
		return nil, &Error{Name: "NotFoundError", Message: "RtpObserver not found [method:router.closeRtpObserver]"}
	}
	o.close()
	return nil, nil
}

// close stops the observer: its timer, its packet links, its handler.
func (o *RtpObserver) close() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	members := o.members
	o.members = nil
	o.mu.Unlock()
	close(o.stop)
	for _, m := range members {
		m.p.detachObserver(o)
	}
	<-o.done
	o.w.unregister(o.id)
	r := o.r
	r.mu.Lock()
	delete(r.rtpObservers, o.id)
	delete(r.rtpObserverIDs, o.id)
	for _, set := range r.producerObservers {
		delete(set, o.id)
	}
	r.mu.Unlock()
	o.w.wlog.Debug("RtpObserver closed [id:%s]", o.id)
}

func (o *RtpObserver) handleRequest(method string, data []byte) (any, error) {
	switch method {
	case "rtpObserver.pause":
		o.pause()
		return nil, nil
	case "rtpObserver.resume":
		o.resume()
		return nil, nil
	case "rtpObserver.addProducer", "rtpObserver.removeProducer":
		var req struct {
			ProducerID string `json:"producerId"`
		}
		_ = json.Unmarshal(data, &req)
		p := o.r.producer(req.ProducerID)
		if p == nil {
			return nil, &Error{Name: "NotFoundError", Message: "Producer not found"}
		}
		if method == "rtpObserver.addProducer" {
			return nil, o.addProducer(p)
		}
		o.removeProducer(p)
		return nil, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

func (o *RtpObserver) pause() {
	if o.paused.Swap(true) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.resetLevels()
	if o.typ == observerAudioLevel && !o.silence && !o.closed {
		o.silence = true
		o.w.EmitJSON(o.id, "silence", nil)
	}
}

func (o *RtpObserver) resume() {
	if !o.paused.Swap(false) {
		return
	}
	o.mu.Lock()
	o.resetLevels()
	o.mu.Unlock()
	// A full interval from now, as mediasoup restarts its timer.
	o.ticker.Reset(o.interval)
}

func (o *RtpObserver) addProducer(p *Producer) error {
	if p.kind != "audio" {
		return TypeErrorf("not an audio Producer")
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return InvalidStateErrorf("RtpObserver closed")
	}
	for _, m := range o.members {
		if m.p == p {
			o.mu.Unlock()
			if o.typ == observerActiveSpeaker {
				return Errorf("Producer already in map")
			}
			return nil
		}
	}
	m := &observedProducer{p: p}
	o.members = append(o.members, m)
	p.attachObserver(o, m)
	o.mu.Unlock()
	r := o.r
	r.mu.Lock()
	if set := r.producerObservers[p.id]; set != nil && r.producers[p.id] == p {
		set[o.id] = struct{}{}
	}
	r.mu.Unlock()
	// The producer may have closed meanwhile (its close detaches observers
	// after marking it closed).
	if p.closed.Load() {
		o.removeProducer(p)
	}
	return nil
}

func (o *RtpObserver) removeProducer(p *Producer) {
	p.detachObserver(o)
	o.forget(p)
	r := o.r
	r.mu.Lock()
	if set := r.producerObservers[p.id]; set != nil && r.producers[p.id] == p {
		delete(set, o.id)
	}
	r.mu.Unlock()
}

// forget drops a producer from the observer's members (the producer's side
// is already detached).
func (o *RtpObserver) forget(p *Producer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, m := range o.members {
		if m.p == p {
			o.members = append(o.members[:i:i], o.members[i+1:]...)
			break
		}
	}
	if o.speaker.id == p.id {
		// A new dominant speaker is chosen at the next interval.
		o.speaker.id = ""
		o.speaker.candidate, o.speaker.streak = "", 0
	}
}

// addLevel is the packet path: one level sample (-dBov) of a member.
func (o *RtpObserver) addLevel(m *observedProducer, level int) {
	if o.paused.Load() {
		return
	}
	o.mu.Lock()
	m.sum += level
	m.count++
	o.mu.Unlock()
}

// resetLevels starts a new interval; called with mu held.
func (o *RtpObserver) resetLevels() {
	for _, m := range o.members {
		m.sum, m.count = 0, 0
	}
}

func (o *RtpObserver) run() {
	defer close(o.done)
	t := o.ticker
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C():
			o.tick()
		}
	}
}

// tick ends an interval: it computes the interval's result and emits it.
func (o *RtpObserver) tick() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.paused.Load() {
		return
	}
	samples := make([]levelSample, 0, len(o.members))
	for _, m := range o.members {
		s := levelSample{producerID: m.p.id, sum: m.sum, count: m.count}
		if m.p.paused.Load() {
			// As mediasoup, a paused producer's interval does not count.
			s.sum, s.count = 0, 0
		}
		samples = append(samples, s)
	}
	o.resetLevels()
	switch o.typ {
	case observerAudioLevel:
		vols := computeVolumes(samples, o.maxEntries, o.threshold)
		if len(vols) > 0 {
			o.silence = false
			o.w.EmitJSON(o.id, "volumes", vols)
		} else if !o.silence {
			o.silence = true
			o.w.EmitJSON(o.id, "silence", nil)
		}
	case observerActiveSpeaker:
		speakers := make([]speakerSample, len(samples))
		for i, s := range samples {
			speakers[i] = speakerSample{id: s.producerID, volume: s.volume()}
		}
		if o.speaker.update(speakers, o.sustain) {
			o.w.EmitJSON(o.id, "dominantspeaker", map[string]string{"producerId": o.speaker.id})
		}
	}
}

// levelSample is one producer's levels in an interval.
type levelSample struct {
	producerID string
	sum, count int
}

// volume is the average volume of the interval in dBov (-127 to 0):
// minus the average level, truncated as mediasoup's integer division;
// silentVolume without samples.
func (s levelSample) volume() int {
	if s.count == 0 {
		return silentVolume
	}
	return -(s.sum / s.count)
}

// volumeEntry is one entry of the "volumes" event.
type volumeEntry struct {
	ProducerID string `json:"producerId"`
	Volume     int    `json:"volume"`
}

// computeVolumes is mediasoup's AudioLevelObserver rule: producers with at
// least audioLevelMinSamples levels in the interval whose average volume
// (minus the average level, in dBov) is at least threshold, loudest first
// (ties in the order given), at most maxEntries. Empty means silence.
func computeVolumes(samples []levelSample, maxEntries, threshold int) []volumeEntry {
	var out []volumeEntry
	for _, s := range samples {
		if s.count < audioLevelMinSamples {
			continue
		}
		if v := s.volume(); v >= threshold {
			out = append(out, volumeEntry{ProducerID: s.producerID, Volume: v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Volume > out[j].Volume })
	if len(out) > maxEntries {
		out = out[:maxEntries]
	}
	return out
}

// speakerSample is a producer's average volume (dBov) in an interval,
// silentVolume when it sent no level.
type speakerSample struct {
	id     string
	volume int
}

// dominantSpeaker is gosfu's dominant speaker rule, simpler than mediasoup's
// (Volfin and Cohen's speech activity scores), evaluated once per interval:
//
//   - An interval is speech for a producer when its average volume is at
//     least speechThreshold (-70 dBov); otherwise (or without packets,
//     e.g. DTX or a paused producer) it is silence.
//   - Without a dominant speaker, a lone producer becomes dominant at once
//     (as in mediasoup, even silent); among several, the loudest one that
//     speaks becomes dominant at once.
//   - Afterwards the loudest speaking other producer takes over when it is
//     at least switchMargin (6 dB) louder than the dominant speaker (a
//     silent dominant speaker counts as -127 dBov) in every interval of
//     switchSustain (900 ms, rounded up to whole intervals). Any interval
//     that breaks the streak, or another loudest challenger, starts it over.
//   - When the dominant speaker's producer leaves the observer, the next
//     interval chooses again as without a dominant speaker.
//
// update returns true when the dominant speaker changed (the only time an
// event is emitted).
type dominantSpeaker struct {
	id        string
	candidate string
	streak    int
}

func (d *dominantSpeaker) update(samples []speakerSample, sustain int) bool {
	dom := -1
	for i, s := range samples {
		if s.id == d.id {
			dom = i
		}
	}
	if dom < 0 {
		d.id = ""
	}
	// The loudest speaking producer other than the dominant one.
	best := -1
	for i, s := range samples {
		if i == dom || s.volume < speechThreshold {
			continue
		}
		if best < 0 || s.volume > samples[best].volume {
			best = i
		}
	}
	if d.id == "" {
		d.candidate, d.streak = "", 0
		switch {
		case len(samples) == 1:
			d.id = samples[0].id
		case best >= 0:
			d.id = samples[best].id
		default:
			return false
		}
		return true
	}
	domVolume := samples[dom].volume
	if domVolume < speechThreshold {
		domVolume = silentVolume
	}
	if best < 0 || samples[best].volume < domVolume+switchMargin {
		d.candidate, d.streak = "", 0
		return false
	}
	if samples[best].id == d.candidate {
		d.streak++
	} else {
		d.candidate, d.streak = samples[best].id, 1
	}
	if d.streak < sustain {
		return false
	}
	d.id = d.candidate
	d.candidate, d.streak = "", 0
	return true
}
