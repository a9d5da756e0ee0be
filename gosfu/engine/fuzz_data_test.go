package engine

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
	"testing"
	"time"
)

// sctpFuzzPair connects two PipeTransports of one worker with SCTP and
// returns the receiving link and the address its packets must come from.
func sctpFuzzPair(f *testing.F) (*Worker, *plainLink, netip.AddrPort) {
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), &recorder{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { w.Close(); w.Wait() })
	req := func(method, handler string, data any) map[string]any {
		return mustRequestTB(f, w, method, handler, data)
	}
	req("worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	a := req("router.createPipeTransport", "r", map[string]any{"transportId": "a", "listenInfo": listen, "enableSctp": true})
	b := req("router.createPipeTransport", "r", map[string]any{"transportId": "b", "listenInfo": listen, "enableSctp": true})
	req("transport.connect", "a", map[string]any{"ip": "127.0.0.1", "port": tuplePort(b)})
	req("transport.connect", "b", map[string]any{"ip": "127.0.0.1", "port": tuplePort(a)})
	ta := w.handlers["a"].(*Transport)
	deadline := time.Now().Add(5 * time.Second)
	for ta.sctp.State() != sctpStateConnected {
		if time.Now().After(deadline) {
			f.Fatal("SCTP did not connect")
		}
		time.Sleep(time.Millisecond)
	}
	req("transport.produceData", "a", map[string]any{"dataProducerId": "p", "type": "sctp", "sctpStreamParameters": map[string]any{"streamId": 1}})
	return w, ta.link.(*pipeLink).plainLink, *ta.link.(*pipeLink).remote.Load()
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FuzzSctpReceive feeds arbitrary SCTP chunks (in a packet with a valid
// common header and checksum, so they reach chunk parsing) to a live
// association: malformed input is dropped, never a crash or a hang.
func FuzzSctpReceive(f *testing.F) {
	_, l, from := sctpFuzzPair(f)
	// DATA chunk on stream 1, an INIT, a SACK, a FORWARD-TSN, an ABORT-like
	// garbage chunk, a RE-CONFIG.
	f.Add(uint32(0), []byte{0, 3, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 51, 'h', 'i', 0, 0})
	f.Add(uint32(0), []byte{1, 0, 0, 20, 1, 2, 3, 4, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1})
	f.Add(uint32(1), []byte{3, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Add(uint32(7), []byte{192, 0, 0, 8, 0, 0, 0, 9})
	f.Add(uint32(7), []byte{130, 0, 0, 22, 0, 13, 0, 18, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1})
	f.Add(uint32(0), []byte{})
	f.Fuzz(func(t *testing.T, vtag uint32, chunks []byte) {
		pkt := make([]byte, 12, 12+len(chunks)+3)
		binary.BigEndian.PutUint16(pkt[0:], sctpPort)
		binary.BigEndian.PutUint16(pkt[2:], sctpPort)
		binary.BigEndian.PutUint32(pkt[4:], vtag)
		pkt = append(pkt, chunks...)
		for len(pkt)%4 != 0 {
			pkt = append(pkt, 0)
		}
		binary.LittleEndian.PutUint32(pkt[8:], crc32.Checksum(pkt, castagnoli))
		if isSctp(pkt) {
			l.receiveSctp(pkt, from)
		}
	})
}

// FuzzDataRequests feeds arbitrary payloads to the data requests whose
// payload is binary or checked by the engine.
func FuzzDataRequests(f *testing.F) {
	rec := &recorder{}
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), rec)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { w.Close(); w.Wait() })
	mustRequestTB(f, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	mustRequestTB(f, w, "router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	mustRequestTB(f, w, "transport.produceData", "d", map[string]any{"dataProducerId": "p", "type": "direct"})
	mustRequestTB(f, w, "transport.consumeData", "d", map[string]any{"dataConsumerId": "c", "dataProducerId": "p", "type": "direct", "subchannels": []int{1, 2}})
	methods := []struct{ method, handler string }{
		{"dataProducer.send", "p"},
		{"dataConsumer.send", "c"},
		{"dataConsumer.setSubchannels", "c"},
		{"dataConsumer.addSubchannel", "c"},
		{"dataConsumer.setBufferedAmountLowThreshold", "c"},
		{"transport.produceData", "d"},
		{"transport.consumeData", "d"},
	}
	f.Add(uint8(0), sendPayload(51, []byte("hello"), []uint16{1}, nil, nil))
	f.Add(uint8(1), []byte{0, 0, 0, 53, 1, 2, 3})
	f.Add(uint8(2), []byte(`{"subchannels":[1,2,65535]}`))
	f.Add(uint8(3), []byte(`{"subchannel":-1}`))
	f.Add(uint8(4), []byte(`{"threshold":1e20}`))
	f.Add(uint8(5), []byte(`{"dataProducerId":"x","type":"sctp","sctpStreamParameters":{"streamId":1.5}}`))
	f.Add(uint8(6), []byte(`{"dataConsumerId":"y","dataProducerId":"p","type":"direct","subchannels":[1e9]}`))
	tr := w.handlers["d"].(*Transport)
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		m := methods[int(which)%len(methods)]
		_, _ = w.Request(m.method, m.handler, payload)
		// Objects created by the fuzz input are closed again, so the
		// target stays the same from one input to the next.
		tr.mu.Lock()
		var ps []*DataProducer
		var cs []*DataConsumer
		for id, p := range tr.dataProducers {
			if id != "p" {
				ps = append(ps, p)
			}
		}
		for id, c := range tr.dataConsumers {
			if id != "c" {
				cs = append(cs, c)
			}
		}
		tr.mu.Unlock()
		for _, c := range cs {
			c.close()
		}
		for _, p := range ps {
			p.close()
		}
	})
}
