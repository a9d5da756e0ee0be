package engine

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// requestMethods are the methods Node sends (lib/*.js), which the C ABI
// hands to Worker.Request unchanged.
var requestMethods = []string{
	"worker.dump", "worker.getResourceUsage", "worker.updateSettings", "worker.createRouter", "worker.closeRouter",
	"worker.createWebRtcServer", "worker.closeWebRtcServer", "webRtcServer.dump",
	"router.dump", "router.createPlainTransport", "router.createPipeTransport", "router.createDirectTransport",
	"router.createWebRtcTransport", "router.createAudioLevelObserver", "router.createActiveSpeakerObserver",
	"router.closeRtpObserver", "router.closeTransport",
	"transport.dump", "transport.getStats", "transport.connect", "transport.restartIce", "transport.sendRtcp",
	"transport.setMaxIncomingBitrate", "transport.setMaxOutgoingBitrate", "transport.setMinOutgoingBitrate",
	"transport.enableTraceEvent", "transport.produce", "transport.consume", "transport.produceData",
	"transport.consumeData", "transport.closeProducer", "transport.closeConsumer", "transport.closeDataProducer",
	"transport.closeDataConsumer",
	"producer.dump", "producer.getStats", "producer.pause", "producer.resume", "producer.enableTraceEvent", "producer.send",
	"consumer.dump", "consumer.getStats", "consumer.pause", "consumer.resume", "consumer.setPreferredLayers",
	"consumer.setPriority", "consumer.requestKeyFrame", "consumer.enableTraceEvent",
	"dataProducer.dump", "dataProducer.getStats", "dataProducer.pause", "dataProducer.resume", "dataProducer.send",
	"dataConsumer.dump", "dataConsumer.getStats", "dataConsumer.pause", "dataConsumer.resume",
	"dataConsumer.setBufferedAmountLowThreshold", "dataConsumer.getBufferedAmount", "dataConsumer.send",
	"dataConsumer.setSubchannels", "dataConsumer.addSubchannel", "dataConsumer.removeSubchannel",
	"rtpObserver.pause", "rtpObserver.resume", "rtpObserver.addProducer", "rtpObserver.removeProducer",
}

// requestHandlers are the handler ids requestWorker creates ("" is the
// worker), and one that does not exist.
var requestHandlers = []string{"", "r", "srv", "d", "pt", "pp", "wt", "p", "c", "pc", "dp", "dc", "ao", "as", "nobody"}

// requestEmitter only notes a worker death: a request fuzz run emits
// events for objects of millions of different ids.
type requestEmitter struct{ died atomic.Bool }

func (e *requestEmitter) Emit(_, ev string, _ []byte, _ bool) {
	if ev == "died" {
		e.died.Store(true)
	}
}

// requestWorker creates a worker with one object of every kind, under the
// ids of requestHandlers.
func requestWorker(tb testing.TB) (*Worker, *requestEmitter) {
	tb.Helper()
	em := &requestEmitter{}
	w, err := NewWorker([]byte(`{"logLevel":"none"}`), em)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close(); w.Wait() })
	req := func(method, handler string, data any) map[string]any {
		return mustRequest(tb, w, method, handler, data)
	}
	udp := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	caps := req("worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})["rtpCapabilities"]
	req("worker.createWebRtcServer", "", map[string]any{"webRtcServerId": "srv", "listenInfos": []any{udp}})
	req("router.createDirectTransport", "r", map[string]any{"transportId": "d"})
	req("router.createPlainTransport", "r", map[string]any{"transportId": "pt", "listenInfo": udp, "comedia": true})
	req("router.createPipeTransport", "r", map[string]any{"transportId": "pp", "listenInfo": udp, "enableSctp": true})
	req("router.createWebRtcTransport", "r", map[string]any{"transportId": "wt", "webRtcServerId": "srv", "enableSctp": true})
	req("transport.produce", "pt", map[string]any{"producerId": "p", "kind": "audio", "rtpParameters": map[string]any{
		"codecs":    []any{map[string]any{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2}},
		"encodings": []any{map[string]any{"ssrc": 1111}},
	}})
	req("transport.consume", "d", map[string]any{"consumerId": "c", "producerId": "p", "rtpCapabilities": caps})
	req("transport.consume", "pp", map[string]any{"consumerId": "pc", "producerId": "p"})
	req("transport.produceData", "d", map[string]any{"dataProducerId": "dp", "type": "direct"})
	req("transport.consumeData", "d", map[string]any{"dataConsumerId": "dc", "dataProducerId": "dp", "type": "direct"})
	req("router.createAudioLevelObserver", "r", map[string]any{"rtpObserverId": "ao", "maxEntries": 1, "threshold": -80, "interval": 1000})
	req("router.createActiveSpeakerObserver", "r", map[string]any{"rtpObserverId": "as", "interval": 300})
	return w, em
}

func handlerIDs(w *Worker) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.handlers))
}

// readOnlyMethod tells requests that change nothing worth rebuilding the
// worker for (sends change counters only).
func readOnlyMethod(m string) bool {
	return strings.HasSuffix(m, ".dump") || strings.HasSuffix(m, ".getStats") || strings.HasSuffix(m, ".send") ||
		m == "worker.getResourceUsage" || m == "dataConsumer.getBufferedAmount" || m == "transport.sendRtcp"
}

// FuzzWorkerRequest sends arbitrary requests (method, handler id, payload)
// as the C ABI's gosfu_request hands them to the engine: no panic (a
// recovered one is an "internal error"), an error for unknown methods, a
// JSON response otherwise, no object left behind by a failed request, and
// the worker keeps answering.
func FuzzWorkerRequest(f *testing.F) {
	type state struct {
		w  *Worker
		em *requestEmitter
	}
	hs := newFuzzHarness(f, func(tb testing.TB) state {
		w, em := requestWorker(tb)
		return state{w, em}
	})
	baseline := handlerIDs(hs.h.w)
	index := func(list []string, s string) uint8 {
		i := slices.Index(list, s)
		if i < 0 {
			f.Fatalf("seed names unknown %q", s)
		}
		return uint8(i)
	}
	add := func(method, handler, data string) {
		f.Add(index(requestMethods, method), "", index(requestHandlers, handler), "", []byte(data))
	}
	add("worker.updateSettings", "", `{"logLevel":"debug","logTags":["ice","dtls"]}`)
	add("worker.createRouter", "", `{"routerId":"r2","mediaCodecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2}]}`)
	add("worker.createWebRtcServer", "", `{"webRtcServerId":"s2","listenInfos":[{"protocol":"tcp","ip":"127.0.0.1","portRange":{"min":1,"max":0}}]}`)
	add("worker.closeRouter", "", `{"routerId":"r"}`)
	add("router.createWebRtcTransport", "r", `{"transportId":"t2","listenInfos":[{"protocol":"udp","ip":"127.0.0.1","port":70000}],"enableSctp":true,"numSctpStreams":{"OS":0,"MIS":65536}}`)
	add("router.createPlainTransport", "r", `{"transportId":"t3","listenInfo":{"protocol":"udp","ip":"::1"},"rtcpMux":false,"enableSrtp":true,"srtpCryptoSuite":"AES_CM_128_HMAC_SHA1_32"}`)
	add("router.createPipeTransport", "r", `{"transportId":"t4","listenInfo":{"protocol":"udp","ip":"127.0.0.1"},"enableRtx":true,"enableSrtp":true}`)
	add("router.createDirectTransport", "r", `{"transportId":"t5","maxMessageSize":-1}`)
	add("router.createAudioLevelObserver", "r", `{"rtpObserverId":"o2","maxEntries":0,"threshold":10,"interval":1}`)
	add("router.closeTransport", "r", `{"transportId":"pt"}`)
	add("transport.connect", "wt", `{"dtlsParameters":{"role":"server","fingerprints":[{"algorithm":"sha-512","value":"AB:CD"}]}}`)
	add("transport.connect", "pt", `{"ip":"127.0.0.1","port":1.5,"rtcpPort":0}`)
	add("transport.connect", "pp", `{"ip":"127.0.0.1","port":9,"srtpParameters":{"cryptoSuite":"AEAD_AES_256_GCM","keyBase64":"AAAA"}}`)
	add("transport.restartIce", "wt", ``)
	add("transport.sendRtcp", "d", "\x81\xc9\x00\x01\x00\x00\x00\x01")
	add("transport.setMaxIncomingBitrate", "wt", `{"bitrate":-5}`)
	add("transport.enableTraceEvent", "pt", `{"types":["probation","bwe","nope"]}`)
	add("transport.produce", "d", `{"producerId":"p2","kind":"video","rtpParameters":{"codecs":[{"mimeType":"video/VP8","payloadType":101,"clockRate":90000}],"encodings":[{"rid":"r0"},{"rid":"r1","scalabilityMode":"L1T3"}]},"paused":true}`)
	add("transport.consume", "d", `{"consumerId":"c2","producerId":"p","rtpCapabilities":{"codecs":[]},"paused":false,"preferredLayers":{"spatialLayer":9}}`)
	add("transport.produceData", "wt", `{"dataProducerId":"dp2","type":"sctp","sctpStreamParameters":{"streamId":65535,"maxRetransmits":1,"maxPacketLifeTime":1}}`)
	add("transport.consumeData", "pp", `{"dataConsumerId":"dc2","dataProducerId":"dp","type":"sctp","subchannels":[1,2]}`)
	add("transport.closeProducer", "pt", `{"producerId":"p"}`)
	add("transport.closeDataConsumer", "d", `{"dataConsumerId":"dc"}`)
	add("producer.send", "p", "\x80\x64\x00\x01\x00\x00\x00\x01\x00\x00\x04\x57\x01")
	add("producer.enableTraceEvent", "p", `{"types":["rtp","keyframe","nack","pli","fir","sr"]}`)
	add("consumer.setPreferredLayers", "c", `{"spatialLayer":0,"temporalLayer":-1}`)
	add("consumer.setPriority", "c", `{"priority":0}`)
	add("consumer.requestKeyFrame", "c", ``)
	add("dataProducer.send", "dp", "\x00\x00\x00\x33hello")
	add("dataConsumer.send", "dc", "\x00\x00\x00\x35\x00\x01")
	add("dataConsumer.setSubchannels", "dc", `{"subchannels":[1,1,65535]}`)
	add("dataConsumer.setBufferedAmountLowThreshold", "dc", `{"threshold":-1}`)
	add("rtpObserver.addProducer", "ao", `{"producerId":"p"}`)
	add("rtpObserver.removeProducer", "as", `{"producerId":"nope"}`)
	add("webRtcServer.dump", "srv", ``)
	f.Add(uint8(0), "worker.injectFault", uint8(0), "", []byte(`{"where":"request"}`))
	f.Add(uint8(0), "no.such", uint8(0), "r", []byte(`{}`))
	f.Add(uint8(3), "", uint8(0), "\x00", []byte(`[`))
	f.Fuzz(func(t *testing.T, mi uint8, method string, hi uint8, handler string, data []byte) {
		st := hs.get(t)
		w, em := st.w, st.em
		if method == "" {
			method = requestMethods[int(mi)%len(requestMethods)]
		}
		if handler == "" {
			handler = requestHandlers[int(hi)%len(requestHandlers)]
		}
		type result struct {
			resp []byte
			err  error
		}
		done := make(chan result, 1)
		go func() {
			resp, err := w.Request(method, handler, data)
			done <- result{resp, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(fuzzWait):
			t.Fatalf("%s(%q) did not answer", method, handler)
		}
		if r.err != nil {
			e, ok := r.err.(*Error)
			if !ok || e.Name == "" || e.Message == "" {
				t.Fatalf("%s(%q): error %T %v is not an engine error", method, handler, r.err, r.err)
			}
			if strings.Contains(e.Message, "internal error") {
				t.Fatalf("%s(%q) panicked: %v", method, handler, r.err)
			}
		} else {
			if !slices.Contains(requestMethods, method) {
				t.Fatalf("unknown method %q on %q succeeded", method, handler)
			}
			if len(r.resp) > 0 && !json.Valid(r.resp) {
				t.Fatalf("%s(%q): response is not JSON: %q", method, handler, r.resp)
			}
		}
		if em.died.Load() {
			t.Fatalf("worker died after %s(%q, %q)", method, handler, data)
		}
		if _, err := w.Request("worker.dump", "", nil); err != nil {
			t.Fatalf("worker.dump after %s: %v", method, err)
		}
		ids := handlerIDs(w)
		if r.err != nil {
			for _, id := range ids {
				if !slices.Contains(baseline, id) {
					t.Fatalf("failed %s(%q) left %q behind: %v", method, handler, id, r.err)
				}
			}
		}
		// Each input starts from the same objects: a worker an input
		// changed is built anew for the next one.
		if (r.err != nil || readOnlyMethod(method)) && slices.Equal(ids, baseline) {
			hs.done()
		}
	})
}

// FuzzGlobalRequest sends arbitrary requests to the worker-less entry point
// (gosfu_request with no engine): no panic, errors for unknown methods.
func FuzzGlobalRequest(f *testing.F) {
	f.Add("getSupportedRtpCapabilities", []byte(nil))
	f.Add("canConsume", []byte(`{"consumableRtpParameters":{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"channels":2}],"encodings":[{"ssrc":1}]},"rtpCapabilities":{"codecs":[{"kind":"audio","mimeType":"audio/opus","preferredPayloadType":100,"clockRate":48000,"channels":2}]}}`))
	f.Add("canConsume", []byte(`{"consumableRtpParameters":null,"rtpCapabilities":7}`))
	f.Add("nothing", []byte(`{}`))
	vp8 := `{"codecs":[{"mimeType":"video/VP8","payloadType":96,"clockRate":90000}],"encodings":[{"rid":"r0"},{"rid":"r1"}]}`
	caps := `{"codecs":[{"kind":"video","mimeType":"video/VP8","preferredPayloadType":100,"clockRate":90000}]}`
	f.Add("validateRtpCapabilities", []byte(`{"value":`+caps+`}`))
	f.Add("validateRtpParameters", []byte(`{"value":`+vp8+`}`))
	f.Add("validateSctpStreamParameters", []byte(`{"value":{"streamId":3,"maxRetransmits":2}}`))
	f.Add("generateRouterRtpCapabilities", []byte(`{"value":[{"kind":"video","mimeType":"video/VP8","clockRate":90000}]}`))
	f.Add("getProducerRtpParametersMapping", []byte(`{"rtpParameters":`+vp8+`,"rtpCapabilities":`+caps+`}`))
	f.Add("getConsumableRtpParameters", []byte(`{"kind":"video","rtpParameters":`+vp8+`,"rtpCapabilities":`+caps+`,"rtpMapping":{"codecs":[{"payloadType":96,"mappedPayloadType":100}],"encodings":[{"rid":"r0","mappedSsrc":5},{"rid":"r1","mappedSsrc":6}]}}`))
	f.Add("getConsumerRtpParameters", []byte(`{"consumableRtpParameters":`+vp8+`,"rtpCapabilities":`+caps+`,"enableRtx":true}`))
	f.Add("getPipeConsumerRtpParameters", []byte(`{"consumableRtpParameters":`+vp8+`}`))
	known := map[string]bool{
		"getSupportedRtpCapabilities": true, "canConsume": true,
		"validateRtpCapabilities": true, "validateRtpParameters": true, "validateSctpStreamParameters": true,
		"generateRouterRtpCapabilities": true, "getProducerRtpParametersMapping": true,
		"getConsumableRtpParameters": true, "getConsumerRtpParameters": true, "getPipeConsumerRtpParameters": true,
	}
	f.Fuzz(func(t *testing.T, method string, data []byte) {
		resp, err := GlobalRequest(method, data)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%s panicked: %v", method, err)
			}
			return
		}
		if !known[method] {
			t.Fatalf("unknown method %q succeeded", method)
		}
		if !json.Valid(resp) {
			t.Fatalf("%s: response is not JSON: %q", method, resp)
		}
	})
}
