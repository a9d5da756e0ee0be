package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gosfu/gosfu/gosfu/ortc"
)

// The control plane's fast request decoding (ortc.DecodeJSONObject, the
// capabilities cache) and direct response encoding must give exactly what
// encoding/json gave before: same requests, same errors, same bytes.

var controlCaps = func() json.RawMessage {
	caps, err := ortc.GenerateRouterRtpCapabilities([]any{
		map[string]any{"kind": "audio", "mimeType": "audio/opus", "clockRate": float64(48000), "channels": float64(2)},
		map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": float64(90000)},
		map[string]any{"kind": "video", "mimeType": "video/H264", "clockRate": float64(90000),
			"parameters": map[string]any{"packetization-mode": float64(1), "profile-level-id": "42e01f"}},
	})
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(caps)
	return b
}()

func controlProduceParams(ssrc uint32, rids bool) map[string]any {
	fb := []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"},
		map[string]any{"type": "transport-cc"}}
	enc := []any{map[string]any{"ssrc": ssrc, "rtx": map[string]any{"ssrc": ssrc + 1}}}
	if rids {
		enc = []any{map[string]any{"rid": "r0", "scalabilityMode": "L1T3"}, map[string]any{"rid": "r1", "maxBitrate": 500000},
			map[string]any{"rid": "r2", "dtx": true}}
	}
	return map[string]any{
		"mid": "0",
		"codecs": []any{
			map[string]any{"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000, "parameters": map[string]any{"x-google": "<&>"}, "rtcpFeedback": fb},
			map[string]any{"mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000, "parameters": map[string]any{"apt": 96}},
		},
		"headerExtensions": []any{
			map[string]any{"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 4},
			map[string]any{"uri": "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", "id": 10},
			map[string]any{"uri": "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", "id": 3},
		},
		"encodings": enc,
		"rtcp":      map[string]any{"cname": "c\u2028name"},
		"msid":      "a b",
	}
}

// errSame compares errors as the JS side sees them: class and message.
func errSame(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if a == nil {
		return true
	}
	ea, eb := AsError(a), AsError(b)
	return ea.Name == eb.Name && ea.Message == eb.Message
}

// Reference decoders: the code the fast paths replaced.

func refDecodeConsume(typ string, data []byte) (*consumeRequest, *ortc.RtpCapabilities, error) {
	var req consumeRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, nil, TypeErrorf("invalid request: %v", err)
	}
	if typ == "pipe" {
		return &req, nil, nil
	}
	caps, err := ortc.ValidateRtpCapabilities(req.RtpCapabilities)
	return &req, caps, err
}

func refDecodeProduce(data []byte) (*produceRequest, error) {
	var req produceRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	return &req, nil
}

func refDecodeWebRtc(data []byte) (*webrtcTransportRequest, error) {
	var req webrtcTransportRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	return &req, nil
}

// mutateBody returns variants of a request body: fields removed, nulled,
// retyped, re-cased, duplicated, or made invalid.
func mutateBody(r *rand.Rand, body map[string]any) []byte {
	m := make(map[string]any, len(body))
	for k, v := range body {
		m[k] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for n := r.IntN(3); n >= 0; n-- {
		k := keys[r.IntN(len(keys))]
		switch r.IntN(9) {
		case 0:
			delete(m, k)
		case 1:
			m[k] = nil
		case 2:
			m[k] = []any{nil, 1e300, "x", true, map[string]any{}}[r.IntN(5)]
		case 3:
			if v, ok := m[k]; ok {
				delete(m, k)
				m[strings.ToUpper(k[:1])+k[1:]] = v
			}
		case 4:
			m["unknown"+k] = 1
		}
	}
	b, _ := json.Marshal(m)
	s := string(b)
	switch r.IntN(10) {
	case 0:
		// A duplicated member (the last one counts).
		k := keys[r.IntN(len(keys))]
		s = `{"` + k + `":null,` + s[1:]
	case 1:
		s = strings.Replace(s, "90000", "9e400", 1)
	case 2:
		s = strings.Replace(s, `"`, `'`, 1)
	case 3:
		s = " \n" + s + "\t"
	case 4:
		s = strings.Replace(s, `"mimeType"`, `"mime\u0054ype"`, 1)
	case 5:
		s = s[:len(s)-1]
	}
	return []byte(s)
}

func TestControlRequestFastDecodeMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var capsAny any
	_ = json.Unmarshal(controlCaps, &capsAny)
	consume := map[string]any{"consumerId": "c1", "producerId": "p1", "rtpCapabilities": capsAny,
		"paused": true, "mid": "3", "preferredLayers": map[string]any{"spatialLayer": 1}, "ignoreDtx": false,
		"enableRtx": false, "pipe": false}
	produce := map[string]any{"producerId": "p1", "kind": "video", "rtpParameters": controlProduceParams(1234, false),
		"paused": false, "keyFrameRequestDelay": 1000.5}
	webrtc := map[string]any{"transportId": "t1", "webRtcServerId": "", "enableUdp": true, "enableTcp": false,
		"preferUdp": true, "preferTcp": false, "iceConsentTimeout": 20, "initialAvailableOutgoingBitrate": 600000,
		"enableSctp": false, "listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1", "portRange": map[string]any{"min": 1, "max": 2}}}}
	fastHits := 0
	for i := 0; i < 4000; i++ {
		var bc, bp, bw []byte
		if i == 0 {
			bc, _ = json.Marshal(consume)
			bp, _ = json.Marshal(produce)
			bw, _ = json.Marshal(webrtc)
		} else {
			bc, bp, bw = mutateBody(r, consume), mutateBody(r, produce), mutateBody(r, webrtc)
		}
		for _, typ := range []string{"webrtc", "pipe"} {
			tr := &Transport{typ: typ}
			got, gcaps, gerr := tr.decodeConsume(bc)
			want, wcaps, werr := refDecodeConsume(typ, bc)
			if !errSame(gerr, werr) || (werr == nil && (!reflect.DeepEqual(gcaps, wcaps) || !sameConsumeRequest(got, want))) {
				t.Fatalf("consume (%s) %s:\n fast %+v %v\n ref  %+v %v", typ, bc, got, gerr, want, werr)
			}
		}
		got, gerr := decodeProduce(bp)
		want, werr := refDecodeProduce(bp)
		if !errSame(gerr, werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("produce %s:\n fast %+v %v\n ref  %+v %v", bp, got, gerr, want, werr)
		}
		gw, gerr := decodeWebRtcTransportRequest(bw)
		ww, werr := refDecodeWebRtc(bw)
		if !errSame(gerr, werr) || !reflect.DeepEqual(gw, ww) {
			t.Fatalf("createWebRtcTransport %s:\n fast %+v %v\n ref  %+v %v", bw, gw, gerr, ww, werr)
		}
		if i == 0 || ortc.DecodeJSONObject(bc, nil) {
			fastHits++
		}
	}
	if fastHits < 1000 {
		t.Fatalf("fast path taken %d times", fastHits)
	}
}

// sameConsumeRequest compares requests; the fast path leaves the raw
// capabilities to the cache instead of decoding them into the request.
func sameConsumeRequest(a, b *consumeRequest) bool {
	x, y := *a, *b
	x.RtpCapabilities, y.RtpCapabilities = nil, nil
	return reflect.DeepEqual(x, y)
}

// TestControlResponsesMatchEncodingJSON checks the bytes of real
// createWebRtcTransport, produce and consume responses against
// json.Marshal of the maps they used to return.
func TestControlResponsesMatchEncodingJSON(t *testing.T) {
	w, _ := newTestWorker(t)
	req := func(method, handler string, body any) []byte {
		t.Helper()
		b, _ := json.Marshal(body)
		out, err := w.Request(method, handler, b)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return out
	}
	same := func(what string, got []byte, want any) {
		t.Helper()
		wb, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wb) {
			t.Fatalf("%s:\n got: %s\nwant: %s", what, got, wb)
		}
	}
	req("worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": testCodecs})
	udp := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	for i, body := range []map[string]any{
		{"transportId": "t0", "listenInfos": []any{udp}},
		{"transportId": "t1", "listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1", "announcedAddress": "<sfu>&", "exposeInternalIp": true},
			map[string]any{"protocol": "tcp", "ip": "127.0.0.1"}}, "enableSctp": true},
	} {
		out := req("router.createWebRtcTransport", "r", body)
		tr := w.handlers[fmt.Sprint("t", i)].(*Transport)
		same("createWebRtcTransport", out, tr.link.(*webrtcLink).info())
	}
	for i, rids := range []bool{false, true} {
		pid := fmt.Sprint("p", i)
		params := controlProduceParams(uint32(1000+10*i), rids)
		params["mid"] = fmt.Sprint(i)
		out := req("transport.produce", "t0", map[string]any{"producerId": pid, "kind": "video",
			"rtpParameters": params, "paused": false, "keyFrameRequestDelay": 0})
		p := w.handlers[pid].(*Producer)
		same("produce", out, map[string]any{"type": p.typ, "rtpParameters": p.rtpParameters,
			"consumableRtpParameters": p.consumable, "rtpMapping": p.mapping})
		for j := 0; j < 2; j++ {
			cid := fmt.Sprint("c", i, j)
			out := req("transport.consume", "t1", map[string]any{"consumerId": cid, "producerId": pid,
				"rtpCapabilities": controlCaps, "paused": j == 1})
			c := w.handlers[cid].(*Consumer)
			want := map[string]any{"kind": c.kind, "rtpParameters": c.rtpParameters, "type": c.typ,
				"paused": c.paused.Load(), "producerPaused": c.producerPause.Load(), "score": c.scoreObject()}
			if c.typ == "simulcast" || c.typ == "svc" {
				want["preferredLayers"] = c.preferredLayers()
			}
			if rids != (c.typ == "simulcast") {
				t.Fatalf("consumer type %s", c.typ)
			}
			same("consume", out, want)
		}
	}
}

func BenchmarkControlRequestDecode(b *testing.B) {
	var capsAny any
	_ = json.Unmarshal(controlCaps, &capsAny)
	consume, _ := json.Marshal(map[string]any{"consumerId": "c1", "producerId": "p1", "rtpCapabilities": capsAny,
		"paused": false, "ignoreDtx": false, "pipe": false})
	produce, _ := json.Marshal(map[string]any{"producerId": "p1", "kind": "video", "rtpParameters": controlProduceParams(1234, false),
		"paused": false, "keyFrameRequestDelay": 0})
	webrtc, _ := json.Marshal(map[string]any{"transportId": "t1", "enableUdp": true, "enableTcp": false,
		"preferUdp": false, "preferTcp": false, "iceConsentTimeout": 30, "initialAvailableOutgoingBitrate": 600000,
		"enableSctp": false, "maxSendMessageSize": 262144, "maxReceiveMessageSize": 262144,
		"listenInfos": []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}})
	tr := &Transport{typ: "webrtc"}
	b.Run("consume/fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = tr.decodeConsume(consume)
		}
	})
	b.Run("consume/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = refDecodeConsume("webrtc", consume)
		}
	})
	b.Run("produce/fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = decodeProduce(produce)
		}
	})
	b.Run("produce/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refDecodeProduce(produce)
		}
	})
	b.Run("createWebRtcTransport/fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = decodeWebRtcTransportRequest(webrtc)
		}
	})
	b.Run("createWebRtcTransport/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refDecodeWebRtc(webrtc)
		}
	})
}

// TestControlRequestErrorMessages pins encoding/json's messages for
// requests the fast path leaves to it (the request types are unnamed, as
// they were).
func TestControlRequestErrorMessages(t *testing.T) {
	tr := &Transport{typ: "webrtc"}
	_, _, err := tr.decodeConsume([]byte(`{"consumerId":"c","rtpCapabilities":{"codecs":[1e400]}}`))
	if err == nil || err.Error() != "invalid request: json: cannot unmarshal number 1e400 into Go struct field .rtpCapabilities of type float64" {
		t.Fatalf("consume: %v", err)
	}
	_, err = decodeProduce([]byte(`{"producerId":1}`))
	if err == nil || err.Error() != "invalid request: json: cannot unmarshal number into Go struct field .producerId of type string" {
		t.Fatalf("produce: %v", err)
	}
}
