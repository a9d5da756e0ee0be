package engine

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestComputeVolumes(t *testing.T) {
	s := func(id string, level, count int) levelSample {
		return levelSample{producerID: id, sum: level * count, count: count}
	}
	tests := []struct {
		name       string
		samples    []levelSample
		maxEntries int
		threshold  int
		want       []volumeEntry
	}{
		{"none", nil, 1, -80, nil},
		{"one loud", []levelSample{s("a", 20, 50)}, 1, -80, []volumeEntry{{"a", -20}}},
		{"loudest first, maxEntries", []levelSample{s("a", 50, 50), s("b", 10, 50), s("c", 30, 50)}, 2, -80,
			[]volumeEntry{{"b", -10}, {"c", -30}}},
		{"all entries", []levelSample{s("a", 50, 50), s("b", 10, 50), s("c", 30, 50)}, 8, -80,
			[]volumeEntry{{"b", -10}, {"c", -30}, {"a", -50}}},
		{"below threshold left out", []levelSample{s("a", 81, 50), s("b", 79, 50)}, 8, -80, []volumeEntry{{"b", -79}}},
		{"at threshold kept", []levelSample{s("a", 80, 50)}, 8, -80, []volumeEntry{{"a", -80}}},
		{"threshold 0 keeps only level 0", []levelSample{s("a", 0, 20), s("b", 1, 20)}, 8, 0, []volumeEntry{{"a", 0}}},
		{"fewer than 10 samples left out", []levelSample{s("a", 10, 9), s("b", 40, 10)}, 8, -80, []volumeEntry{{"b", -40}}},
		{"no samples", []levelSample{{producerID: "a"}}, 8, -80, nil},
		{"average truncated as an integer division", []levelSample{{producerID: "a", sum: 20*9 + 29, count: 10}}, 1, -80,
			[]volumeEntry{{"a", -20}}},
		{"ties keep the given order", []levelSample{s("a", 30, 10), s("b", 30, 10)}, 8, -80,
			[]volumeEntry{{"a", -30}, {"b", -30}}},
		{"all silent", []levelSample{s("a", 127, 50), s("b", 127, 50)}, 8, -80, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := computeVolumes(tc.samples, tc.maxEntries, tc.threshold)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDominantSpeakerRule(t *testing.T) {
	type step struct {
		volumes map[string]int // producer → interval volume; missing: silent
		want    string         // dominant speaker after the step ("" none)
		changed bool
	}
	ids := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		ids     []string
		sustain int
		steps   []step
	}{
		{"lone producer is dominant at once, even silent", []string{"a"}, 3, []step{
			{nil, "a", true},
			{map[string]int{"a": -20}, "a", false},
		}},
		{"no dominant while everybody is silent", ids, 3, []step{
			{nil, "", false},
			{map[string]int{"a": -80, "b": -90}, "", false},
			{map[string]int{"b": -40}, "b", true},
		}},
		{"loudest speaker is the first dominant", ids, 3, []step{
			{map[string]int{"a": -40, "b": -20, "c": -60}, "b", true},
		}},
		{"a louder challenger takes over after sustain intervals", ids, 3, []step{
			{map[string]int{"a": -20}, "a", true},
			{map[string]int{"a": -40, "b": -20}, "a", false},
			{map[string]int{"a": -40, "b": -20}, "a", false},
			{map[string]int{"a": -40, "b": -20}, "b", true},
			{map[string]int{"a": -40, "b": -20}, "b", false},
		}},
		{"a silent dominant speaker is replaced by any speaker", ids, 2, []step{
			{map[string]int{"a": -20}, "a", true},
			{map[string]int{"c": -65}, "a", false},
			{map[string]int{"a": -75, "c": -65}, "c", true},
		}},
		{"not louder by the margin: no switch", ids, 1, []step{
			{map[string]int{"a": -30}, "a", true},
			{map[string]int{"a": -30, "b": -25}, "a", false},
			{map[string]int{"a": -30, "b": -24}, "b", true},
		}},
		{"an interrupted streak starts over", ids, 3, []step{
			{map[string]int{"a": -20}, "a", true},
			{map[string]int{"a": -40, "b": -20}, "a", false},
			{map[string]int{"a": -40, "b": -20}, "a", false},
			{map[string]int{"a": -20, "b": -20}, "a", false},
			{map[string]int{"a": -40, "b": -20}, "a", false},
			{map[string]int{"a": -40, "b": -20}, "a", false},
			{map[string]int{"a": -40, "b": -20}, "b", true},
		}},
		{"another loudest challenger starts over", ids, 2, []step{
			{map[string]int{"a": -50}, "a", true},
			{map[string]int{"a": -50, "b": -20, "c": -30}, "a", false},
			{map[string]int{"a": -50, "b": -30, "c": -20}, "a", false},
			{map[string]int{"a": -50, "b": -30, "c": -20}, "c", true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d dominantSpeaker
			for i, st := range tc.steps {
				samples := make([]speakerSample, len(tc.ids))
				for j, id := range tc.ids {
					v, ok := st.volumes[id]
					if !ok {
						v = silentVolume
					}
					samples[j] = speakerSample{id: id, volume: v}
				}
				changed := d.update(samples, tc.sustain)
				if d.id != st.want || changed != st.changed {
					t.Fatalf("step %d: dominant %q (changed %v), want %q (changed %v)", i, d.id, changed, st.want, st.changed)
				}
			}
		})
	}
	t.Run("dominant producer removed: next one chosen", func(t *testing.T) {
		d := dominantSpeaker{id: "a"}
		if !d.update([]speakerSample{{"b", silentVolume}}, 3) || d.id != "b" {
			t.Fatalf("dominant %q", d.id)
		}
	})
}

// audioPacket is an Opus-like RTP packet with the one-byte ssrc-audio-level
// extension (id 1) carrying level (-dBov) and the voice bit.
func audioPacket(seq uint16, ssrc uint32, level uint8) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, Timestamp: uint32(seq) * 960, SSRC: ssrc}, Payload: make([]byte, 60)}
	_ = p.Header.SetExtension(1, []byte{0x80 | level})
	b, _ := p.Marshal()
	return b
}

func (r *recorder) all(target, name string) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event
	for _, e := range r.events {
		if e.target == target && e.name == name {
			out = append(out, e)
		}
	}
	return out
}

func TestRtpObserversWithPackets(t *testing.T) {
	w, rec, fc := newFakeWorker(t, `{"logLevel":"warn"}`)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	for i, id := range []string{"p1", "p2", "p3"} {
		mustRequest(t, w, "transport.produce", "d", map[string]any{
			"producerId": id, "kind": "audio",
			"rtpParameters": map[string]any{
				"codecs":           []any{map[string]any{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2}},
				"headerExtensions": []any{map[string]any{"uri": uriSsrcAudioLevel, "id": 1}},
				"encodings":        []any{map[string]any{"ssrc": 1000 + i}},
			},
		})
	}
	mustRequest(t, w, "router.createAudioLevelObserver", "r", map[string]any{"rtpObserverId": "alo", "maxEntries": 2, "threshold": -70, "interval": 500})
	mustRequest(t, w, "router.createActiveSpeakerObserver", "r", map[string]any{"rtpObserverId": "aso", "interval": 100})
	for _, o := range []string{"alo", "aso"} {
		for _, p := range []string{"p1", "p2", "p3"} {
			mustRequest(t, w, "rtpObserver.addProducer", o, map[string]any{"producerId": p})
		}
	}
	waitTimers(t, fc, 4) // the transport's rtcp and nack timers and the observers'
	dump := mustRequest(t, w, "router.dump", "r", nil)
	if got := dump["rtpObserverIds"]; !reflect.DeepEqual(got, []any{"alo", "aso"}) {
		t.Fatalf("rtpObserverIds %v", got)
	}
	if got := dump["mapProducerIdObserverIds"].([]any); len(got) != 3 || !reflect.DeepEqual(got[0], map[string]any{"key": "p1", "values": []any{"alo", "aso"}}) {
		t.Fatalf("mapProducerIdObserverIds %v", got)
	}

	// p1 at level 20, p2 at 30, p3 at 90 (below the threshold).
	seq := uint16(0)
	// send sends a packet per producer every 20 ms of the clock for d, or
	// until done; it returns the time it took.
	send := func(levels map[string]uint8, d time.Duration, done func() bool) time.Duration {
		var took time.Duration
		for ; took < d && (done == nil || !done()); took += 20 * time.Millisecond {
			seq++
			for i, id := range []string{"p1", "p2", "p3"} {
				if l, ok := levels[id]; ok {
					if _, err := w.Request("producer.send", id, audioPacket(seq, uint32(1000+i), l)); err != nil {
						t.Fatal(err)
					}
				}
			}
			fc.Advance(20 * time.Millisecond)
		}
		return took
	}
	// The first volumes come with the first 500 ms interval.
	took := send(map[string]uint8{"p1": 20, "p2": 30, "p3": 90}, 3*time.Second, func() bool { return len(rec.all("alo", "volumes")) > 0 })
	vols := rec.all("alo", "volumes")
	if len(vols) != 1 || took != 500*time.Millisecond {
		t.Fatalf("%d volumes events after %v, want 1 after 500ms", len(vols), took)
	}
	var got []volumeEntry
	_ = json.Unmarshal(vols[len(vols)-1].data, &got)
	if !reflect.DeepEqual(got, []volumeEntry{{"p1", -20}, {"p2", -30}}) {
		t.Fatalf("volumes %s", vols[len(vols)-1].data)
	}
	ds := rec.all("aso", "dominantspeaker")
	if len(ds) != 1 || string(ds[0].data) != `{"producerId":"p1"}` {
		t.Fatalf("dominantspeaker events %v", ds)
	}
	// p2 gets louder than p1: it becomes the dominant speaker once it has
	// been louder for switchSustain.
	took = send(map[string]uint8{"p1": 40, "p2": 10, "p3": 90}, 5*time.Second, func() bool { return len(rec.all("aso", "dominantspeaker")) > 1 })
	if took < switchSustain || took > switchSustain+100*time.Millisecond {
		t.Fatalf("switched after %v, want %v (+ up to one 100ms interval)", took, switchSustain)
	}
	ds = rec.all("aso", "dominantspeaker")
	if len(ds) != 2 || string(ds[1].data) != `{"producerId":"p2"}` {
		t.Fatalf("dominantspeaker events %v", ds)
	}
	// Everybody stops: one silence event.
	silences := len(rec.all("alo", "silence"))
	fc.Advance(1500 * time.Millisecond)
	if n := len(rec.all("alo", "silence")) - silences; n != 1 {
		t.Fatalf("%d silence events", n)
	}

	// Closing a producer removes it from the observers.
	mustRequest(t, w, "transport.closeProducer", "d", map[string]any{"producerId": "p3"})
	dump = mustRequest(t, w, "router.dump", "r", nil)
	if got := dump["mapProducerIdObserverIds"].([]any); len(got) != 2 {
		t.Fatalf("mapProducerIdObserverIds %v", got)
	}
	w.mu.Lock()
	p1 := w.handlers["p1"].(*Producer)
	w.mu.Unlock()
	if po := p1.rtpObservers.Load(); po == nil || len(po.links) != 2 || po.extID != 1 {
		t.Fatalf("p1 observers %+v", po)
	}
	mustRequest(t, w, "rtpObserver.removeProducer", "alo", map[string]any{"producerId": "p1"})
	if po := p1.rtpObservers.Load(); po == nil || len(po.links) != 1 {
		t.Fatalf("p1 observers %+v", po)
	}
	mustRequest(t, w, "router.closeRtpObserver", "r", map[string]any{"rtpObserverId": "aso"})
	if po := p1.rtpObservers.Load(); po != nil {
		t.Fatalf("p1 observers %+v", po)
	}
	dump = mustRequest(t, w, "router.dump", "r", nil)
	if got := dump["rtpObserverIds"]; !reflect.DeepEqual(got, []any{"alo"}) {
		t.Fatalf("rtpObserverIds %v", got)
	}
	if _, err := w.Request("rtpObserver.pause", "aso", nil); err == nil || AsError(err).Name != "NotFoundError" {
		t.Fatalf("pause of a closed observer: %v", err)
	}
}

func TestRtpObserverErrors(t *testing.T) {
	w, rec, fc := newFakeWorker(t, `{"logLevel":"warn"}`)
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	mustRequest(t, w, "transport.produce", "d", map[string]any{
		"producerId": "v", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": []any{map[string]any{"ssrc": 1}},
		},
	})
	mustRequest(t, w, "transport.produce", "d", map[string]any{
		"producerId": "a", "kind": "audio",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2}},
			"encodings": []any{map[string]any{"ssrc": 2}},
		},
	})
	req := func(method, handler string, data any) *Error {
		b, _ := json.Marshal(data)
		_, err := w.Request(method, handler, b)
		if err == nil {
			return nil
		}
		return AsError(err)
	}
	if e := req("router.createAudioLevelObserver", "r", map[string]any{"rtpObserverId": "x", "threshold": 10}); e == nil || e.Name != "TypeError" {
		t.Fatalf("threshold 10: %v", e)
	}
	mustRequest(t, w, "router.createAudioLevelObserver", "r", map[string]any{"rtpObserverId": "alo"})
	mustRequest(t, w, "router.createActiveSpeakerObserver", "r", map[string]any{"rtpObserverId": "aso"})
	if e := req("router.createActiveSpeakerObserver", "r", map[string]any{"rtpObserverId": "alo"}); e == nil || e.Name != "Error" {
		t.Fatalf("same id: %v", e)
	}
	for _, o := range []string{"alo", "aso"} {
		if e := req("rtpObserver.addProducer", o, map[string]any{"producerId": "v"}); e == nil || e.Name != "TypeError" || e.Message != "not an audio Producer" {
			t.Fatalf("video producer: %v", e)
		}
		if e := req("rtpObserver.addProducer", o, map[string]any{"producerId": "nope"}); e == nil || e.Name != "NotFoundError" {
			t.Fatalf("unknown producer: %v", e)
		}
		mustRequest(t, w, "rtpObserver.addProducer", o, map[string]any{"producerId": "a"})
	}
	if e := req("rtpObserver.addProducer", "alo", map[string]any{"producerId": "a"}); e != nil {
		t.Fatalf("audio level observer: adding twice: %v", e)
	}
	if e := req("rtpObserver.addProducer", "aso", map[string]any{"producerId": "a"}); e == nil || e.Message != "Producer already in map" {
		t.Fatalf("active speaker observer: adding twice: %v", e)
	}
	// Without the audio level extension nothing is measured: no volumes.
	for i := 0; i < 40; i++ {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: uint16(i), SSRC: 2}, Payload: make([]byte, 10)}
		b, _ := p.Marshal()
		_, _ = w.Request("producer.send", "a", b)
	}
	// A paused observer emits nothing; the lone producer is dominant once
	// the active speaker observer runs.
	mustRequest(t, w, "rtpObserver.pause", "alo", nil)
	mustRequest(t, w, "rtpObserver.pause", "aso", nil)
	waitTimers(t, fc, 4) // the transport's rtcp and nack timers and the observers'
	fc.Advance(1200 * time.Millisecond)
	if ev := rec.all("aso", "dominantspeaker"); len(ev) != 0 {
		t.Fatalf("paused observer emitted %v", ev)
	}
	// Resuming restarts the interval: nothing until a full 300 ms interval
	// after the resume.
	fc.Advance(100 * time.Millisecond)
	mustRequest(t, w, "rtpObserver.resume", "aso", nil)
	fc.Advance(299 * time.Millisecond)
	if ev := rec.all("aso", "dominantspeaker"); len(ev) != 0 {
		t.Fatalf("dominantspeaker before a full interval after resume: %v", ev)
	}
	fc.Advance(time.Millisecond)
	if ev := rec.all("aso", "dominantspeaker"); len(ev) != 1 || string(ev[0].data) != `{"producerId":"a"}` {
		t.Fatalf("dominantspeaker %v", ev)
	}
	if ev := append(rec.all("alo", "volumes"), rec.all("alo", "silence")...); len(ev) != 0 {
		t.Fatalf("audio level events %v", ev)
	}
	// Closing the router closes its observers.
	mustRequest(t, w, "worker.closeRouter", "", map[string]any{"routerId": "r"})
	if e := req("rtpObserver.resume", "alo", nil); e == nil || e.Name != "NotFoundError" {
		t.Fatalf("resume after router close: %v", e)
	}
}
