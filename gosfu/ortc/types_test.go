package ortc

import (
	"encoding/json"
	"testing"
)

func TestZeroValuesMarshalLikeMediasoup(t *testing.T) {
	assertJSON(t, RtpParameters{}, `{"codecs":[],"headerExtensions":[],"encodings":[],"rtcp":{"reducedSize":false}}`)
	assertJSON(t, RtpCapabilities{}, `{"codecs":[],"headerExtensions":[]}`)
	assertJSON(t, RtpMapping{}, `{"codecs":[],"encodings":[]}`)
	assertJSON(t, RtpCodecParameters{MimeType: "audio/opus"}, `{"mimeType":"audio/opus","payloadType":0,"clockRate":0,"channels":0,"parameters":{},"rtcpFeedback":[]}`)
	assertJSON(t, RtpCodecCapability{Kind: "video", MimeType: "video/VP8", Channels: 2}, `{"kind":"video","mimeType":"video/VP8","clockRate":0,"parameters":{},"rtcpFeedback":[]}`)
	assertJSON(t, RtpHeaderExtensionParameters{Uri: "u", Id: 1}, `{"uri":"u","id":1,"encrypt":false,"parameters":{}}`)
	assertJSON(t, RtpEncodingParameters{}, `{}`)
	ssrc := uint32(5)
	assertJSON(t, RtpMapping{Encodings: []RtpMappingEncoding{{Ssrc: &ssrc, MappedSsrc: 7}, {Rid: "r", MappedSsrc: 8}}},
		`{"codecs":[],"encodings":[{"ssrc":5,"mappedSsrc":7},{"rid":"r","mappedSsrc":8}]}`)
}

func TestTypedJSONRoundTripAndClone(t *testing.T) {
	caps := mustRouterCaps(t, `[{"mimeType":"audio/opus","clockRate":48000,"channels":2},{"mimeType":"video/VP8","clockRate":90000}]`)
	b := mustMarshal(t, caps)
	var back RtpCapabilities
	if err := json.Unmarshal([]byte(b), &back); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, back, b)
	if back.Codecs[0].Channels != 2 {
		t.Fatal("channels lost")
	}
	cl := caps.Clone()
	*cl.Codecs[0].PreferredPayloadType = 1
	cl.Codecs[0].Parameters["x"] = "y"
	cl.HeaderExtensions[0].PreferredId = 99
	assertJSON(t, caps, b)

	params := mustParams(t, `{"mid":"m","codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"channels":2,"parameters":{"a":1}}],
		"headerExtensions":[{"uri":"u","id":1,"parameters":{"k":"v"}}],
		"encodings":[{"ssrc":1,"rtx":{"ssrc":2},"codecPayloadType":100,"maxBitrate":3,"dtx":true}],"rtcp":{"cname":"c"},"msid":"s t"}`)
	pb := mustMarshal(t, params)
	var pback RtpParameters
	if err := json.Unmarshal([]byte(pb), &pback); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, pback, pb)
	pc := params.Clone()
	pc.Codecs[0].Parameters["a"] = 2.0
	pc.HeaderExtensions[0].Parameters["k"] = "w"
	*pc.Encodings[0].Ssrc = 9
	pc.Encodings[0].Rtx.Ssrc = 9
	*pc.Encodings[0].Dtx = false
	*pc.Encodings[0].MaxBitrate = 9
	*pc.Encodings[0].CodecPayloadType = 9
	assertJSON(t, params, pb)
	if (*RtpParameters)(nil).Clone() != nil || (*RtpCapabilities)(nil).Clone() != nil {
		t.Fatal("nil clone")
	}
}

func TestGoTypedRawInput(t *testing.T) {
	// Values built in Go rather than decoded from JSON are accepted too.
	raw := map[string]any{
		"codecs": []map[string]any{{
			"mimeType": "video/VP8", "payloadType": 96, "clockRate": uint32(90000),
			"parameters": map[string]any{"x": int64(3), "y": json.Number("1.5")},
		}},
		"encodings": []any{map[string]any{"ssrc": uint64(4294967295)}},
	}
	p, err := ValidateRtpParameters(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Out-of-range or fractional SSRCs are refused, not wrapped.
	for _, bad := range []any{int(-1), float64(1 << 40), 1.5} {
		raw["encodings"] = []any{map[string]any{"ssrc": bad}}
		if _, err := ValidateRtpParameters(raw); err == nil || err.Error() != "invalid encoding.ssrc" {
			t.Fatalf("ssrc %v: %v", bad, err)
		}
		raw["encodings"] = []any{map[string]any{"ssrc": 1, "rtx": map[string]any{"ssrc": bad}}}
		if _, err := ValidateRtpParameters(raw); err == nil || err.Error() != "invalid encoding.rtx.ssrc" {
			t.Fatalf("rtx ssrc %v: %v", bad, err)
		}
	}
	raw["encodings"] = []any{map[string]any{"ssrc": uint64(4294967295)}}
	assertJSON(t, p, `{"codecs":[{"mimeType":"video/VP8","payloadType":96,"clockRate":90000,"parameters":{"x":3,"y":1.5},"rtcpFeedback":[]}],
		"headerExtensions":[],"encodings":[{"ssrc":4294967295,"dtx":false}],"rtcp":{"reducedSize":true}}`)
	caps, err := GenerateRouterRtpCapabilities([]map[string]any{{"mimeType": "audio/opus", "clockRate": 48000, "channels": int8(2)}})
	if err != nil || len(caps.Codecs) != 1 {
		t.Fatal(err)
	}
}

func TestJSErrorClass(t *testing.T) {
	if JSErrorClass(nil) != "" || JSErrorClass(typeErr("x")) != "TypeError" ||
		JSErrorClass(unsupportedErr("x")) != "UnsupportedError" || JSErrorClass(json.Unmarshal([]byte("{"), new(any))) != "Error" {
		t.Fatal("JSErrorClass")
	}
}
