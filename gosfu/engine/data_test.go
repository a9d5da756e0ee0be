package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/sctp"
)

// dataRecorder records every event (the 'message' events of direct
// DataConsumers by target) and wakes waiters on each one.
type dataRecorder struct {
	recorder
	mu      sync.Mutex
	msgs    map[string][][]byte // target → ppid|payload
	changed chan struct{}       // closed and replaced on every event
}

func newDataRecorder() *dataRecorder {
	return &dataRecorder{msgs: map[string][][]byte{}, changed: make(chan struct{})}
}

func (r *dataRecorder) Emit(target, ev string, data []byte, binary bool) {
	if ev != "message" {
		r.recorder.Emit(target, ev, data, binary)
	}
	r.mu.Lock()
	if ev == "message" {
		r.msgs[target] = append(r.msgs[target], append([]byte(nil), data...))
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// waitCond waits, woken by events, until cond holds (checked under the
// recorder's lock), or fails the test after timeout.
func (r *dataRecorder) waitCond(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		changed := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timeout waiting for %s", what)
		}
	}
}

// waitMessages waits until target has n messages.
func (r *dataRecorder) waitMessages(t *testing.T, target string, n int, timeout time.Duration) [][]byte {
	t.Helper()
	r.waitCond(t, fmt.Sprintf("%d messages on %s", n, target), timeout, func() bool { return len(r.msgs[target]) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs[target]
}

// count is how many events name target got so far.
func (r *dataRecorder) count(target, name string) int {
	r.recorder.mu.Lock()
	defer r.recorder.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.target == target && e.name == name {
			n++
		}
	}
	return n
}

// waitEvent waits for the first event name on target.
func (r *dataRecorder) waitEvent(t *testing.T, target, name string, timeout time.Duration) event {
	t.Helper()
	r.waitCond(t, name+" on "+target, timeout, func() bool { return r.count(target, name) > 0 })
	e, _ := r.recorder.find(target, name)
	return e
}

// waitSctpState waits for a sctpstatechange event to state on target.
func (r *dataRecorder) waitSctpState(t *testing.T, target, state string, timeout time.Duration) {
	t.Helper()
	r.waitCond(t, "sctpState "+state+" on "+target, timeout, func() bool {
		r.recorder.mu.Lock()
		defer r.recorder.mu.Unlock()
		for _, e := range r.events {
			if e.target == target && e.name == "sctpstatechange" && strings.Contains(string(e.data), `"`+state+`"`) {
				return true
			}
		}
		return false
	})
}

func newDataWorker(t *testing.T) (*Worker, *dataRecorder) {
	t.Helper()
	rec := newDataRecorder()
	w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":29999}`), rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); w.Wait() })
	return w, rec
}

func requestErr(w *Worker, method, handler string, data any) error {
	b, _ := json.Marshal(data)
	_, err := w.Request(method, handler, b)
	return err
}

// sendPayload encodes a dataProducer.send request.
func sendPayload(ppid uint32, msg []byte, subchannels []uint16, required, ignored *uint16) []byte {
	b := binary.BigEndian.AppendUint32(nil, ppid)
	b = binary.BigEndian.AppendUint16(b, uint16(len(subchannels)))
	for _, s := range subchannels {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	var flags byte
	var req, ign uint16
	if required != nil {
		flags |= 1
		req = *required
	}
	if ignored != nil {
		flags |= 2
		ign = *ignored
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, req)
	b = binary.BigEndian.AppendUint16(b, ign)
	return append(b, msg...)
}

func createRouter(t *testing.T, w *Worker, id string) {
	t.Helper()
	mustRequest(t, w, "worker.createRouter", "", map[string]any{"routerId": id, "mediaCodecs": testCodecs})
}

func TestDirectDataProducerToConsumers(t *testing.T) {
	w, rec := newDataWorker(t)
	createRouter(t, w, "r")
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "t1"})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "t2", "maxSendMessageSize": 100})
	mustRequest(t, w, "transport.produceData", "t1", map[string]any{"dataProducerId": "dp", "type": "direct", "label": "chat"})
	c1 := mustRequest(t, w, "transport.consumeData", "t2", map[string]any{"dataConsumerId": "dc1", "dataProducerId": "dp", "type": "direct", "label": "chat", "subchannels": []int{5, 1, 5}})
	if got := fmt.Sprint(c1["subchannels"]); got != "[1 5]" {
		t.Fatalf("subchannels %s", got)
	}
	mustRequest(t, w, "transport.consumeData", "t2", map[string]any{"dataConsumerId": "dc2", "dataProducerId": "dp", "type": "direct"})

	send := func(msg string, subs []uint16, req, ign *uint16) {
		t.Helper()
		if _, err := w.Request("dataProducer.send", "dp", sendPayload(51, []byte(msg), subs, req, ign)); err != nil {
			t.Fatal(err)
		}
	}
	u16 := func(v uint16) *uint16 { return &v }
	send("all", nil, nil, nil)
	send("sub5", []uint16{5}, nil, nil)
	send("sub9", []uint16{9}, nil, nil)
	send("req1", nil, u16(1), nil)
	send("ign1", nil, nil, u16(1))
	send(string(bytes.Repeat([]byte("x"), 101)), nil, nil, nil) // over t2's maxSendMessageSize
	want := map[string][]string{"dc1": {"all", "sub5", "req1"}, "dc2": {"all", "ign1"}}
	for id, exp := range want {
		got := rec.waitMessages(t, id, len(exp), 2*time.Second)
		if len(got) != len(exp) {
			t.Fatalf("%s: %d messages, want %d", id, len(got), len(exp))
		}
		for i, m := range got {
			if binary.BigEndian.Uint32(m) != 51 || string(m[4:]) != exp[i] {
				t.Fatalf("%s message %d: ppid %d %q, want %q", id, i, binary.BigEndian.Uint32(m), m[4:], exp[i])
			}
		}
	}

	// Oversize on the producer side is a TypeError with mediasoup's text.
	_, err := w.Request("dataProducer.send", "dp", sendPayload(53, make([]byte, 262145), nil, nil, nil))
	if e := AsError(err); e == nil || e.Name != ErrNameType || e.Message != "given message exceeds maxMessageSize value [maxMessageSize:262144, len:262145]" {
		t.Fatalf("oversize: %v", err)
	}

	// Pause → dataproducerpause on consumers; messages stop.
	mustRequest(t, w, "dataProducer.pause", "dp", nil)
	rec.waitEvent(t, "dc1", "dataproducerpause", time.Second)
	send("paused", nil, nil, nil)
	mustRequest(t, w, "dataProducer.resume", "dp", nil)
	rec.waitEvent(t, "dc2", "dataproducerresume", time.Second)
	send("resumed", nil, nil, nil)
	got := rec.waitMessages(t, "dc2", 3, 2*time.Second)
	if string(got[2][4:]) != "resumed" {
		t.Fatalf("after resume: %q", got[2][4:])
	}

	stats := mustRequestArray(t, w, "dataProducer.getStats", "dp")
	if stats[0]["messagesReceived"].(float64) != 8 {
		t.Fatalf("producer stats %v", stats)
	}

	// Close cascades: dataproducerclose, and the router forgets both.
	mustRequest(t, w, "transport.closeDataProducer", "t1", map[string]any{"dataProducerId": "dp"})
	rec.waitEvent(t, "dc1", "dataproducerclose", time.Second)
	dump := mustRequest(t, w, "router.dump", "r", nil)
	if fmt.Sprint(dump["mapDataProducerIdDataConsumerIds"]) != "[]" || fmt.Sprint(dump["mapDataConsumerIdDataProducerId"]) != "[]" {
		t.Fatalf("router dump after close: %v", dump)
	}
	if err := requestErr(w, "dataConsumer.dump", "dc1", nil); err == nil {
		t.Fatal("closed data consumer still answers")
	}
}

func mustRequestArray(t *testing.T, w *Worker, method, handler string) []map[string]any {
	t.Helper()
	out, err := w.Request(method, handler, nil)
	if err != nil {
		t.Fatal(err)
	}
	var v []map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestProduceDataErrors(t *testing.T) {
	w, _ := newDataWorker(t)
	createRouter(t, w, "r")
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "p", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}})
	mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "s", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "enableSctp": true})
	cases := []struct {
		handler string
		req     map[string]any
		name    string
		msg     string
	}{
		{"p", map[string]any{"dataProducerId": "a", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1}}, "Error", "SCTP not enabled and not a direct Transport"},
		{"d", map[string]any{"dataProducerId": "a", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1}}, "TypeError", "cannot create a DataProducer of type 'sctp', SCTP not enabled in this Transport"},
		{"s", map[string]any{"dataProducerId": "a", "type": "direct"}, "TypeError", "cannot create a DataProducer of type 'direct', not a direct Transport"},
		{"s", map[string]any{"dataProducerId": "a", "type": "sctp"}, "TypeError", "missing sctpStreamParameters"},
		{"s", map[string]any{"dataProducerId": "a", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 65535}}, "TypeError", "streamId must not be greater than 65534"},
		{"s", map[string]any{"dataProducerId": "a", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1, "maxRetransmits": 1, "maxPacketLifeTime": 1}}, "TypeError", "cannot provide both maxPacketLifeTime and maxRetransmits"},
		{"s", map[string]any{"dataProducerId": "a", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1, "ordered": true, "maxRetransmits": 1}}, "TypeError", "cannot be ordered with maxPacketLifeTime or maxRetransmits"},
	}
	for i, c := range cases {
		e := AsError(requestErr(w, "transport.produceData", c.handler, c.req))
		if e == nil || e.Name != c.name || e.Message != c.msg {
			t.Errorf("case %d: got %v, want %s %q", i, e, c.name, c.msg)
		}
	}
	mustRequest(t, w, "transport.produceData", "s", map[string]any{"dataProducerId": "a", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 7, "maxRetransmits": 0}})
	e := AsError(requestErr(w, "transport.produceData", "s", map[string]any{"dataProducerId": "b", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 7}}))
	if e == nil || e.Message != "streamId already exists in SCTP listener [streamId:7]" {
		t.Fatalf("duplicate stream: %v", e)
	}
	dump := mustRequest(t, w, "dataProducer.dump", "a", nil)
	sp := dump["sctpStreamParameters"].(map[string]any)
	if sp["ordered"] != false || sp["maxRetransmits"].(float64) != 0 {
		t.Fatalf("stream parameters %v", sp)
	}
	e = AsError(requestErr(w, "transport.consumeData", "d", map[string]any{"dataConsumerId": "x", "dataProducerId": "nope", "type": "direct"}))
	if e == nil || e.Name != "NotFoundError" {
		t.Fatalf("unknown producer: %v", e)
	}
}

// TestPipeData pipes a direct DataProducer of one router to a direct
// DataConsumer of another over a pair of PipeTransports with SCTP.
func TestPipeData(t *testing.T) {
	w, rec := newDataWorker(t)
	createRouter(t, w, "ra")
	createRouter(t, w, "rb")
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	pa := mustRequest(t, w, "router.createPipeTransport", "ra", map[string]any{"transportId": "pa", "listenInfo": listen, "enableSctp": true})
	pb := mustRequest(t, w, "router.createPipeTransport", "rb", map[string]any{"transportId": "pb", "listenInfo": listen, "enableSctp": true})
	if sp := pa["sctpParameters"].(map[string]any); sp["port"].(float64) != 5000 || sp["sendBufferSize"].(float64) != 2000000 || pa["sctpState"] != "new" {
		t.Fatalf("sctp parameters %v", pa)
	}
	connectPipes := func() {
		mustRequest(t, w, "transport.connect", "pa", map[string]any{"ip": "127.0.0.1", "port": tuplePort(pb)})
		mustRequest(t, w, "transport.connect", "pb", map[string]any{"ip": "127.0.0.1", "port": tuplePort(pa)})
	}
	waitConnected := func() {
		rec.waitSctpState(t, "pa", "connected", 5*time.Second)
		rec.waitSctpState(t, "pb", "connected", 5*time.Second)
	}

	mustRequest(t, w, "router.createDirectTransport", "ra", map[string]any{"transportId": "da"})
	mustRequest(t, w, "router.createDirectTransport", "rb", map[string]any{"transportId": "db"})
	mustRequest(t, w, "transport.produceData", "da", map[string]any{"dataProducerId": "src", "type": "direct", "label": "l", "protocol": "p"})
	pc := mustRequest(t, w, "transport.consumeData", "pa", map[string]any{"dataConsumerId": "pc", "dataProducerId": "src", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 0, "ordered": true}, "label": "l", "protocol": "p"})
	mustRequest(t, w, "dataConsumer.setBufferedAmountLowThreshold", "pc", map[string]any{"threshold": 1000000})
	// One worker: the piped producer needs another id (keepId: false).
	mustRequest(t, w, "transport.produceData", "pb", map[string]any{"dataProducerId": "piped", "type": "sctp", "sctpStreamParameters": pc["sctpStreamParameters"], "label": "l", "protocol": "p"})
	mustRequest(t, w, "transport.consumeData", "db", map[string]any{"dataConsumerId": "sink", "dataProducerId": "piped", "type": "direct"})

	// Messages sent before the association is up wait for it, in order.
	for i := 0; i < 5; i++ {
		if _, err := w.Request("dataProducer.send", "src", sendPayload(51, []byte(fmt.Sprintf("early %d", i)), nil, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	connectPipes()
	waitConnected()
	early := rec.waitMessages(t, "sink", 5, 10*time.Second)
	for i, m := range early {
		if string(m[4:]) != fmt.Sprintf("early %d", i) {
			t.Fatalf("early message %d: %q", i, m[4:])
		}
	}
	rec.mu.Lock()
	delete(rec.msgs, "sink")
	rec.mu.Unlock()

	const n = 2000
	for i := 0; i < n; i++ {
		ppid := uint32(51)
		msg := []byte(fmt.Sprintf("message %d", i))
		if i%10 == 0 {
			ppid = 53
			msg = bytes.Repeat([]byte{byte(i)}, 60000)
			// As an application would: past 1 MB buffered, wait for
			// 'bufferedamountlow' before a burst overflows sendBufferSize
			// (counted first, so a crossing in between is not missed).
			lows := rec.count("pc", "bufferedamountlow")
			if mustRequest(t, w, "dataConsumer.getBufferedAmount", "pc", nil)["bufferedAmount"].(float64) > 1000000 {
				rec.waitCond(t, "bufferedamountlow on pc", 10*time.Second, func() bool { return rec.count("pc", "bufferedamountlow") > lows })
			}
		}
		if _, err := w.Request("dataProducer.send", "src", sendPayload(ppid, msg, nil, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.waitMessages(t, "sink", n, 20*time.Second)
	for i, m := range got[:n] {
		ppid := binary.BigEndian.Uint32(m)
		if i%10 == 0 {
			if ppid != 53 || !bytes.Equal(m[4:], bytes.Repeat([]byte{byte(i)}, 60000)) {
				t.Fatalf("binary message %d corrupted (ppid %d, len %d)", i, ppid, len(m)-4)
			}
		} else if ppid != 51 || string(m[4:]) != fmt.Sprintf("message %d", i) {
			t.Fatalf("message %d out of order: %q", i, m[4:])
		}
	}

	if _, full := rec.find("pc", "sctpsendbufferfull"); full {
		t.Fatal("sctpsendbufferfull while pacing")
	}

	// A burst over sctpSendBufferSize (2 MB) is cut: sctpsendbufferfull,
	// and the buffered amount stays bounded.
	for i := 0; i < 100; i++ {
		_, _ = w.Request("dataProducer.send", "src", sendPayload(53, make([]byte, 60000), nil, nil, nil))
	}
	rec.waitEvent(t, "pc", "sctpsendbufferfull", time.Second)
	if b := mustRequest(t, w, "dataConsumer.getBufferedAmount", "pc", nil)["bufferedAmount"].(float64); b > 2000000 {
		t.Fatalf("bufferedAmount %v over sctpSendBufferSize", b)
	}

	// Closing the original producer closes the pipe consumer; closing the
	// piped producer tells the sink.
	mustRequest(t, w, "transport.closeDataProducer", "da", map[string]any{"dataProducerId": "src"})
	rec.waitEvent(t, "pc", "dataproducerclose", time.Second)
	mustRequest(t, w, "transport.closeDataProducer", "pb", map[string]any{"dataProducerId": "piped"})
	rec.waitEvent(t, "sink", "dataproducerclose", time.Second)
}

// TestPlainSctpPeer exchanges messages between a pion/sctp association on
// a UDP socket (an external SCTP peer) and a direct transport, through a
// PlainTransport with comedia.
func TestPlainSctpPeer(t *testing.T) {
	w, rec := newDataWorker(t)
	createRouter(t, w, "r")
	pt := mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "p", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true, "enableSctp": true})
	mustRequest(t, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	mustRequest(t, w, "transport.produceData", "p", map[string]any{"dataProducerId": "fromPeer", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 3}})
	mustRequest(t, w, "transport.consumeData", "d", map[string]any{"dataConsumerId": "sink", "dataProducerId": "fromPeer", "type": "direct"})
	mustRequest(t, w, "transport.produceData", "d", map[string]any{"dataProducerId": "bot", "type": "direct"})
	mustRequest(t, w, "transport.consumeData", "p", map[string]any{"dataConsumerId": "toPeer", "dataProducerId": "bot", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 4, "ordered": true}})

	udp, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tuplePort(pt)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	assoc, err := sctp.Client(sctp.Config{NetConn: udp, LoggerFactory: nil})
	if err != nil {
		t.Fatal(err)
	}
	defer assoc.Close()
	rec.waitEvent(t, "p", "sctpnegotiatedcapabilities", 5*time.Second)
	rec.waitSctpState(t, "p", "connected", 5*time.Second)

	out, err := assoc.OpenStream(3, sctp.PayloadTypeWebRTCString)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := out.WriteSCTP([]byte(fmt.Sprintf("peer %d", i)), sctp.PayloadTypeWebRTCString); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.waitMessages(t, "sink", 100, 5*time.Second)
	for i, m := range got {
		if string(m[4:]) != fmt.Sprintf("peer %d", i) || binary.BigEndian.Uint32(m) != 51 {
			t.Fatalf("message %d: %q", i, m[4:])
		}
	}

	if _, err := w.Request("dataProducer.send", "bot", sendPayload(53, []byte{1, 2, 3}, nil, nil, nil)); err != nil {
		t.Fatal(err)
	}
	in, err := assoc.AcceptStream()
	if err != nil {
		t.Fatal(err)
	}
	if in.StreamIdentifier() != 4 {
		t.Fatalf("stream %d", in.StreamIdentifier())
	}
	buf := make([]byte, 100)
	_ = in.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, ppid, err := in.ReadSCTP(buf)
	if err != nil || ppid != sctp.PayloadTypeWebRTCBinary || !bytes.Equal(buf[:n], []byte{1, 2, 3}) {
		t.Fatalf("peer got %v %d %v", buf[:n], ppid, err)
	}
	stats := mustRequestArray(t, w, "dataConsumer.getStats", "toPeer")
	if stats[0]["messagesSent"].(float64) != 1 || stats[0]["bytesSent"].(float64) != 3 {
		t.Fatalf("consumer stats %v", stats)
	}

	// A message on a stream no DataProducer reads is dropped and counted.
	other, _ := assoc.OpenStream(9, sctp.PayloadTypeWebRTCString)
	_, _ = other.WriteSCTP([]byte("nobody"), sctp.PayloadTypeWebRTCString)
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := mustRequest(t, w, "transport.dump", "p", nil)["sctpDropped"].(map[string]any)
		if d["noDataProducer"].(float64) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unread stream not counted: %v", d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestSctpIdleStreamsBounded: a peer that opens more streams than
// sctpMaxIdleStreams with no DataProducer to read them gets the extra ones
// reset; the engine keeps at most that many stream readers.
func TestSctpIdleStreamsBounded(t *testing.T) {
	w, rec := newDataWorker(t)
	createRouter(t, w, "r")
	pt := mustRequest(t, w, "router.createPlainTransport", "r", map[string]any{"transportId": "p", "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}, "comedia": true, "enableSctp": true})
	udp, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tuplePort(pt)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	assoc, err := sctp.Client(sctp.Config{NetConn: udp})
	if err != nil {
		t.Fatal(err)
	}
	defer assoc.Close()
	rec.waitSctpState(t, "p", "connected", 5*time.Second)

	const extra = 16
	for id := 0; id < sctpMaxIdleStreams+extra; id++ {
		s, err := assoc.OpenStream(uint16(id), sctp.PayloadTypeWebRTCString)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriteSCTP([]byte("x"), sctp.PayloadTypeWebRTCString); err != nil {
			t.Fatal(err)
		}
	}
	// Every message is dropped (no DataProducer), and every refused stream
	// counts once more.
	deadline := time.Now().Add(20 * time.Second)
	for {
		d := mustRequest(t, w, "transport.dump", "p", nil)["sctpDropped"].(map[string]any)
		if d["noDataProducer"].(float64) >= sctpMaxIdleStreams+extra {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("drops: %v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a := w.handlers["p"].(*Transport).sctp
	a.mu.Lock()
	reading, idle := len(a.reading), a.idle
	a.mu.Unlock()
	if reading > sctpMaxIdleStreams || idle > sctpMaxIdleStreams {
		t.Fatalf("%d stream readers (%d idle), want at most %d", reading, idle, sctpMaxIdleStreams)
	}
	if mustRequest(t, w, "transport.dump", "p", nil)["sctpState"] != "connected" {
		t.Fatal("association lost")
	}
}
