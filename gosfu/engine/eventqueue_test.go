package engine

import (
	"encoding/json"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
)

// fullEmitter is a BoundedEmitter whose queue is full while full is set; it
// records what it queued.
type fullEmitter struct {
	recorder
	full atomic.Bool
}

func (e *fullEmitter) TryEmit(target, ev string, data []byte, binary bool) bool {
	if e.full.Load() {
		return false
	}
	e.recorder.Emit(target, ev, data, binary)
	return true
}

func (e *fullEmitter) EventQueueLimits() (uint64, uint64) { return 64, 1 << 20 }

func (e *fullEmitter) names(target string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		if ev.target == target {
			out = append(out, ev.name)
		}
	}
	return out
}

type eventQueueDumpJSON struct {
	MaxEvents uint64            `json:"maxEvents"`
	MaxBytes  uint64            `json:"maxBytes"`
	Dropped   map[string]uint64 `json:"dropped"`
}

func dumpEventQueue(t *testing.T, w *Worker) eventQueueDumpJSON {
	t.Helper()
	out, err := w.Request("worker.dump", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		PID        int                `json:"pid"`
		RouterIDs  []string           `json:"routerIds"`
		EventQueue eventQueueDumpJSON `json:"eventQueue"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	if d.PID == 0 || d.RouterIDs == nil {
		t.Fatalf("mediasoup's dump fields missing: %s", out)
	}
	return d.EventQueue
}

func newFullWorker(t *testing.T) (*Worker, *fullEmitter) {
	t.Helper()
	em := &fullEmitter{}
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), em)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); w.Wait() })
	return w, em
}

// TestEventQueueFullDropsOnlyDroppable: with the queue full, every droppable
// kind is dropped and counted under its own name while lifecycle events and
// request responses are still delivered, in engine order.
func TestEventQueueFullDropsOnlyDroppable(t *testing.T) {
	w, em := newFullWorker(t)
	em.full.Store(true)
	tests := []struct {
		event   string
		dropped bool
	}{
		{"rtp", true},
		{"producerclose", false},
		{"rtcp", true},
		{"message", true},
		{"icestatechange", false},
		{"trace", true},
		{"log", true},
		{"dtlsstatechange", false},
		{"score", true},
		{"volumes", true},
		{"sctpstatechange", false},
		{"videoorientationchange", true},
		{"sctpsendbufferfull", true},
		{"layerschange", false},
		{"dataproducerclose", false},
		{"tuple", false},
		{"bufferedamountlow", false},
		{"dominantspeaker", false},
		{"silence", false},
		{"died", false},
		{"@ok", false},
		{"@error", false},
	}
	var want []string
	for _, tc := range tests {
		w.Emit("x", tc.event, []byte(`{}`), false)
		if !tc.dropped {
			want = append(want, tc.event)
		}
	}
	if got := em.names("x"); !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	d := dumpEventQueue(t, w)
	if d.MaxEvents != 64 || d.MaxBytes != 1<<20 {
		t.Fatalf("limits %d/%d, want 64/%d", d.MaxEvents, d.MaxBytes, 1<<20)
	}
	for _, tc := range tests {
		n, ok := d.Dropped[tc.event]
		if tc.dropped && n != 1 {
			t.Errorf("dropped[%s] = %d, want 1", tc.event, n)
		}
		if !tc.dropped && ok {
			t.Errorf("%s has a drop counter", tc.event)
		}
	}
	if len(d.Dropped) != len(droppableEvents) {
		t.Errorf("dropped has %d kinds, want %d", len(d.Dropped), len(droppableEvents))
	}
}

// TestEventQueueDirectRtpDrops: a DirectTransport consumer's rtp events are
// dropped and counted while the queue is full and delivered again once it
// has room; the producerclose that follows is delivered regardless.
func TestEventQueueDirectRtpDrops(t *testing.T) {
	w, em := newFullWorker(t)
	router := newDirectRoom(t, w)
	mustRequest(t, w, "transport.produce", "in", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs":    []any{map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000}},
			"encodings": []any{map[string]any{"ssrc": 1111}},
		},
	})
	mustRequest(t, w, "transport.consume", "out", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": router["rtpCapabilities"]})
	seq := uint16(0)
	send := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			seq++
			if _, err := w.Request("producer.send", "p", vp8Packet(seq, uint32(seq)*3000, 1111, true)); err != nil {
				t.Fatal(err)
			}
		}
	}
	rtpCount := func() (n int) {
		for _, name := range em.names("c") {
			if name == "rtp" {
				n++
			}
		}
		return n
	}
	steps := []struct {
		full              bool
		send              int
		wantRtp, wantDrop int
	}{
		{false, 2, 2, 0},
		{true, 5, 2, 5},
		{false, 1, 3, 5},
		{true, 3, 3, 8},
	}
	for i, s := range steps {
		em.full.Store(s.full)
		send(s.send)
		if got := rtpCount(); got != s.wantRtp {
			t.Fatalf("step %d: %d rtp delivered, want %d", i, got, s.wantRtp)
		}
		if got := dumpEventQueue(t, w).Dropped["rtp"]; got != uint64(s.wantDrop) {
			t.Fatalf("step %d: dropped rtp %d, want %d", i, got, s.wantDrop)
		}
	}
	mustRequest(t, w, "transport.closeProducer", "in", map[string]any{"producerId": "p"})
	if _, ok := em.find("c", "producerclose"); !ok {
		t.Fatalf("producerclose not delivered with a full queue: %v", em.names("c"))
	}
}

// TestEventQueueUnboundedEmitterDump: an Emitter without a bound reports
// limits 0 and still lists every droppable kind.
func TestEventQueueUnboundedEmitterDump(t *testing.T) {
	w, _ := newTestWorker(t)
	d := dumpEventQueue(t, w)
	kinds := make([]string, 0, len(d.Dropped))
	for k, n := range d.Dropped {
		kinds = append(kinds, k)
		if n != 0 {
			t.Errorf("dropped[%s] = %d", k, n)
		}
	}
	sort.Strings(kinds)
	want := append([]string(nil), droppableEvents[:]...)
	sort.Strings(want)
	if d.MaxEvents != 0 || d.MaxBytes != 0 || !reflect.DeepEqual(kinds, want) {
		t.Fatalf("dump %+v, want limits 0 and kinds %v", d, want)
	}
}
