package ortc

import (
	"testing"
)

func mustRouterCaps(t testing.TB, mediaCodecs string) *RtpCapabilities {
	t.Helper()
	caps, err := GenerateRouterRtpCapabilities(decode(t, mediaCodecs))
	if err != nil {
		t.Fatal(err)
	}
	return caps
}

func mustParams(t testing.TB, s string) *RtpParameters {
	t.Helper()
	p, err := ValidateRtpParameters(decode(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustCaps(t testing.TB, s string) *RtpCapabilities {
	t.Helper()
	c, err := ValidateRtpCapabilities(decode(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func inRandomRange(v uint32) bool { return v >= 100_000_000 && v < 999_999_999 }

// Port of mediasoup's end-to-end ORTC test (mapping, consumable, consumer,
// pipe consumer).
func TestMappingConsumableConsumerPipe(t *testing.T) {
	routerCaps := mustRouterCaps(t, `[
		{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2},
		{"kind":"video","mimeType":"video/H264","clockRate":90000,
		 "parameters":{"level-asymmetry-allowed":1,"packetization-mode":1,"profile-level-id":"4d0032","bar":"lalala"}}
	]`)
	params := mustParams(t, `{
		"codecs":[
			{"mimeType":"video/H264","payloadType":111,"clockRate":90000,
			 "parameters":{"foo":1234,"packetization-mode":1,"profile-level-id":"4d0032"},
			 "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"goog-remb","parameter":""}]},
			{"mimeType":"video/rtx","payloadType":112,"clockRate":90000,"parameters":{"apt":111},"rtcpFeedback":[]}
		],
		"headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1},{"uri":"urn:3gpp:video-orientation","id":2}],
		"encodings":[
			{"ssrc":11111111,"rtx":{"ssrc":11111112},"maxBitrate":111111,"scalabilityMode":"L1T3"},
			{"ssrc":21111111,"rtx":{"ssrc":21111112},"maxBitrate":222222,"scalabilityMode":"L1T3"},
			{"rid":"high","maxBitrate":333333,"scalabilityMode":"L1T3"}
		],
		"rtcp":{"cname":"qwerty1234"}
	}`)

	mapping, err := GetProducerRtpParametersMapping(params, routerCaps)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, mapping.Codecs, `[{"payloadType":111,"mappedPayloadType":101},{"payloadType":112,"mappedPayloadType":102}]`)
	if len(mapping.Encodings) != 3 {
		t.Fatalf("encodings: %d", len(mapping.Encodings))
	}
	e := mapping.Encodings
	if e[0].Ssrc == nil || *e[0].Ssrc != 11111111 || e[0].Rid != "" ||
		e[1].Ssrc == nil || *e[1].Ssrc != 21111111 || e[1].Rid != "" ||
		e[2].Ssrc != nil || e[2].Rid != "high" {
		t.Fatalf("bad mapping encodings: %s", mustMarshal(t, e))
	}
	if !inRandomRange(e[0].MappedSsrc) || e[1].MappedSsrc != e[0].MappedSsrc+1 || e[2].MappedSsrc != e[0].MappedSsrc+2 {
		t.Fatalf("mapped ssrcs: %s", mustMarshal(t, e))
	}

	consumable := GetConsumableRtpParameters("video", params, routerCaps, mapping)
	assertJSON(t, consumable.Codecs, `[
		{"mimeType":"video/H264","payloadType":101,"clockRate":90000,
		 "parameters":{"foo":1234,"packetization-mode":1,"profile-level-id":"4d0032"},"rtcpFeedback":`+videoFb+`},
		{"mimeType":"video/rtx","payloadType":102,"clockRate":90000,"parameters":{"apt":101},"rtcpFeedback":[]}
	]`)
	assertJSON(t, consumable.Encodings, `[
		{"ssrc":`+mustMarshal(t, e[0].MappedSsrc)+`,"maxBitrate":111111,"scalabilityMode":"L1T3","dtx":false},
		{"ssrc":`+mustMarshal(t, e[1].MappedSsrc)+`,"maxBitrate":222222,"scalabilityMode":"L1T3","dtx":false},
		{"ssrc":`+mustMarshal(t, e[2].MappedSsrc)+`,"maxBitrate":333333,"scalabilityMode":"L1T3","dtx":false}
	]`)
	assertJSON(t, consumable.Rtcp, `{"cname":"qwerty1234","reducedSize":true}`)
	// Video extensions the router can send (sendrecv/sendonly); no
	// abs-capture-time since the producer does not use it.
	assertJSON(t, consumable.HeaderExtensions, `[
		{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1,"encrypt":false,"parameters":{}},
		{"uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","id":4,"encrypt":false,"parameters":{}},
		{"uri":"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01","id":5,"encrypt":false,"parameters":{}},
		{"uri":"urn:3gpp:video-orientation","id":8,"encrypt":false,"parameters":{}},
		{"uri":"urn:ietf:params:rtp-hdrext:toffset","id":9,"encrypt":false,"parameters":{}},
		{"uri":"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay","id":11,"encrypt":false,"parameters":{}},
		{"uri":"urn:mediasoup:params:rtp-hdrext:packet-id","id":12,"encrypt":false,"parameters":{}}
	]`)

	remoteCaps := mustCaps(t, `{
		"codecs":[
			{"kind":"audio","mimeType":"audio/opus","preferredPayloadType":100,"clockRate":48000,"channels":2,"parameters":{},"rtcpFeedback":[]},
			{"kind":"video","mimeType":"video/H264","preferredPayloadType":101,"clockRate":90000,
			 "parameters":{"packetization-mode":1,"profile-level-id":"4d0032","baz":"LOLOLO"},
			 "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"foo","parameter":"FOO"}]},
			{"kind":"video","mimeType":"video/rtx","preferredPayloadType":102,"clockRate":90000,"parameters":{"apt":101},"rtcpFeedback":[]}
		],
		"headerExtensions":[
			{"kind":"audio","uri":"urn:ietf:params:rtp-hdrext:sdes:mid","preferredId":1,"preferredEncrypt":false,"direction":"sendrecv"},
			{"kind":"video","uri":"urn:ietf:params:rtp-hdrext:sdes:mid","preferredId":1,"preferredEncrypt":false,"direction":"sendrecv"},
			{"kind":"video","uri":"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id","preferredId":2,"preferredEncrypt":false,"direction":"sendrecv"},
			{"kind":"audio","uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","preferredId":6,"preferredEncrypt":false,"direction":"sendrecv"},
			{"kind":"video","uri":"urn:3gpp:video-orientation","preferredId":8,"preferredEncrypt":false,"direction":"sendrecv"},
			{"kind":"video","uri":"urn:ietf:params:rtp-hdrext:toffset","preferredId":9,"preferredEncrypt":false,"direction":"sendrecv"}
		]
	}`)

	if ok, err := CanConsume(consumable, remoteCaps); !ok || err != nil {
		t.Fatalf("CanConsume = %v, %v", ok, err)
	}

	consumer, err := GetConsumerRtpParameters(consumable, remoteCaps, false, true)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, consumer.Codecs, `[
		{"mimeType":"video/H264","payloadType":101,"clockRate":90000,
		 "parameters":{"foo":1234,"packetization-mode":1,"profile-level-id":"4d0032"},
		 "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"foo","parameter":"FOO"}]},
		{"mimeType":"video/rtx","payloadType":102,"clockRate":90000,"parameters":{"apt":101},"rtcpFeedback":[]}
	]`)
	if len(consumer.Encodings) != 1 {
		t.Fatalf("consumer encodings: %d", len(consumer.Encodings))
	}
	ce := consumer.Encodings[0]
	if ce.Ssrc == nil || !inRandomRange(*ce.Ssrc) || ce.Rtx == nil || ce.Rtx.Ssrc != *ce.Ssrc+1 {
		t.Fatalf("consumer encoding: %s", mustMarshal(t, ce))
	}
	assertJSON(t, ce, `{"ssrc":`+mustMarshal(t, *ce.Ssrc)+`,"rtx":{"ssrc":`+mustMarshal(t, ce.Rtx.Ssrc)+`},"scalabilityMode":"L3T3","maxBitrate":333333}`)
	assertJSON(t, consumer.HeaderExtensions, `[
		{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1,"encrypt":false,"parameters":{}},
		{"uri":"urn:3gpp:video-orientation","id":8,"encrypt":false,"parameters":{}},
		{"uri":"urn:ietf:params:rtp-hdrext:toffset","id":9,"encrypt":false,"parameters":{}}
	]`)
	assertJSON(t, consumer.Rtcp, `{"cname":"qwerty1234","reducedSize":true}`)
	if consumer.Mid != "" || consumer.Msid != "" {
		t.Fatal("mid/msid must be empty")
	}

	pipe := GetPipeConsumerRtpParameters(consumable, false)
	assertJSON(t, pipe.Codecs, `[
		{"mimeType":"video/H264","payloadType":101,"clockRate":90000,
		 "parameters":{"foo":1234,"packetization-mode":1,"profile-level-id":"4d0032"},
		 "rtcpFeedback":[{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"}]}
	]`)
	if len(pipe.Encodings) != 3 {
		t.Fatalf("pipe encodings: %d", len(pipe.Encodings))
	}
	for i, pe := range pipe.Encodings {
		if pe.Ssrc == nil || *pe.Ssrc != *pipe.Encodings[0].Ssrc+uint32(i) || pe.Rtx != nil ||
			pe.MaxBitrate == nil || pe.ScalabilityMode != "L1T3" {
			t.Fatalf("pipe encoding %d: %s", i, mustMarshal(t, pe))
		}
	}
	assertJSON(t, pipe.Rtcp, `{"cname":"qwerty1234","reducedSize":true}`)
	// MID, abs-send-time and transport-cc removed; Dependency Descriptor
	// added; sorted by id.
	assertJSON(t, pipe.HeaderExtensions, `[
		{"uri":"https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension","id":7,"encrypt":false,"parameters":{}},
		{"uri":"urn:3gpp:video-orientation","id":8,"encrypt":false,"parameters":{}},
		{"uri":"urn:ietf:params:rtp-hdrext:toffset","id":9,"encrypt":false,"parameters":{}},
		{"uri":"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay","id":11,"encrypt":false,"parameters":{}},
		{"uri":"urn:mediasoup:params:rtp-hdrext:packet-id","id":12,"encrypt":false,"parameters":{}}
	]`)

	pipeRtx := GetPipeConsumerRtpParameters(consumable, true)
	assertJSON(t, pipeRtx.Codecs, `[
		{"mimeType":"video/H264","payloadType":101,"clockRate":90000,
		 "parameters":{"foo":1234,"packetization-mode":1,"profile-level-id":"4d0032"},
		 "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"}]},
		{"mimeType":"video/rtx","payloadType":102,"clockRate":90000,"parameters":{"apt":101},"rtcpFeedback":[]}
	]`)
	for i, pe := range pipeRtx.Encodings {
		if pe.Rtx == nil || pe.Rtx.Ssrc != pipeRtx.Encodings[0].Rtx.Ssrc+uint32(i) {
			t.Fatalf("pipe rtx encoding %d: %s", i, mustMarshal(t, pe))
		}
	}

	// Inputs are not aliased by the outputs.
	consumer.Codecs[0].Parameters["foo"] = "changed"
	pipe.Codecs[0].Parameters["foo"] = "changed"
	if consumable.Codecs[0].Parameters["foo"] != 1234.0 {
		t.Fatal("consumable parameters were aliased")
	}
}

func TestGetProducerRtpParametersMappingErrors(t *testing.T) {
	routerCaps := mustRouterCaps(t, `[
		{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2},
		{"kind":"video","mimeType":"video/H264","clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"640032"}}
	]`)
	audioOnly := mustRouterCaps(t, `[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2}]`)
	h264 := func(pm, plid string) string {
		return `{"mimeType":"video/H264","payloadType":112,"clockRate":90000,"parameters":{"packetization-mode":` + pm + `,"profile-level-id":` + plid + `}}`
	}
	cases := []struct {
		name   string
		caps   *RtpCapabilities
		params string
		class  string
		msg    string
	}{
		{"unsupported VP8", routerCaps, `{"codecs":[{"mimeType":"video/VP8","payloadType":120,"clockRate":90000,
			"rtcpFeedback":[{"type":"nack","parameter":""},{"type":"nack","parameter":"fir"}]}],
			"headerExtensions":[],"encodings":[{"ssrc":11111111}],"rtcp":{"cname":"qwerty1234"}}`,
			"UnsupportedError", "unsupported codec [mimeType:video/VP8, payloadType:120]"},
		{"opus mono", routerCaps, `{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000}]}`,
			"UnsupportedError", "unsupported codec [mimeType:audio/opus, payloadType:100]"},
		{"h264 profile mismatch", routerCaps, `{"codecs":[` + h264("1", `"42e01f"`) + `]}`,
			"UnsupportedError", "unsupported codec [mimeType:video/H264, payloadType:112]"},
		{"h264 packetization-mode mismatch", routerCaps, `{"codecs":[` + h264("0", `"640032"`) + `]}`,
			"UnsupportedError", "unsupported codec [mimeType:video/H264, payloadType:112]"},
		{"h264 packetization-mode string vs number", routerCaps, `{"codecs":[` + h264(`"1"`, `"640032"`) + `]}`,
			"UnsupportedError", "unsupported codec [mimeType:video/H264, payloadType:112]"},
		{"h264 invalid profile-level-id", routerCaps, `{"codecs":[` + h264("1", `"CHICKEN"`) + `]}`,
			"UnsupportedError", "unsupported codec [mimeType:video/H264, payloadType:112]"},
		{"rtx without media codec", routerCaps, `{"codecs":[` + h264("1", `"640032"`) + `,
			{"mimeType":"video/rtx","payloadType":113,"clockRate":90000,"parameters":{"apt":111}}]}`,
			"TypeError", "missing media codec found for RTX PT 113"},
		{"rtx without apt", routerCaps, `{"codecs":[` + h264("1", `"640032"`) + `,
			{"mimeType":"video/rtx","payloadType":113,"clockRate":90000}]}`,
			"TypeError", "missing media codec found for RTX PT 113"},
		{"rtx pointing to a later rtx", routerCaps, `{"codecs":[` + h264("1", `"640032"`) + `,
			{"mimeType":"video/rtx","payloadType":113,"clockRate":90000,"parameters":{"apt":114}},
			{"mimeType":"video/rtx","payloadType":114,"clockRate":90000,"parameters":{"apt":112}}]}`,
			"TypeError", "Cannot read properties of undefined (reading 'preferredPayloadType')"},
		{"rtx pointing to an earlier rtx", routerCaps, `{"codecs":[` + h264("1", `"640032"`) + `,
			{"mimeType":"video/rtx","payloadType":114,"clockRate":90000,"parameters":{"apt":112}},
			{"mimeType":"video/rtx","payloadType":113,"clockRate":90000,"parameters":{"apt":114}}]}`,
			"UnsupportedError", "no RTX codec for capability codec PT 102"},
		{"no router rtx for audio", audioOnly, `{"codecs":[
			{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2},
			{"mimeType":"audio/rtx","payloadType":112,"clockRate":48000,"parameters":{"apt":111}}]}`,
			"UnsupportedError", "no RTX codec for capability codec PT 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := GetProducerRtpParametersMapping(mustParams(t, c.params), c.caps)
			if m != nil {
				t.Fatal("expected nil mapping")
			}
			assertErr(t, err, c.class, c.msg)
		})
	}
}

func TestGetProducerRtpParametersMappingH264Answer(t *testing.T) {
	cases := []struct {
		name       string
		routerPlid string // router codec profile-level-id (JSON)
		routerLaa  string // router level-asymmetry-allowed (JSON)
		prodParams string // producer codec parameters (JSON)
		wantParams string
		wantMapped int
	}{
		{"lower producer level, no asymmetry on producer: min level",
			`"42e01f"`, `1`, `{"packetization-mode":1,"profile-level-id":"42e00a"}`,
			`{"packetization-mode":1,"profile-level-id":"42e00a"}`, 100},
		{"higher producer level, no asymmetry: router level",
			`"42e01f"`, `1`, `{"packetization-mode":1,"profile-level-id":"42e034"}`,
			`{"packetization-mode":1,"profile-level-id":"42e01f"}`, 100},
		{"both allow asymmetry: producer level kept",
			`"42e01f"`, `1`, `{"packetization-mode":1,"profile-level-id":"42e034","level-asymmetry-allowed":"1"}`,
			`{"packetization-mode":1,"profile-level-id":"42e034","level-asymmetry-allowed":"1"}`, 100},
		{"canonicalized profile string (4d e0 -> constrained baseline)",
			`"42e01f"`, `1`, `{"packetization-mode":1,"profile-level-id":"4de01f"}`,
			`{"packetization-mode":1,"profile-level-id":"42e01f"}`, 100},
		{"producer without profile-level-id gets default level 3.1 answer",
			`"42e01f"`, `1`, `{"packetization-mode":1}`,
			`{"packetization-mode":1,"profile-level-id":"42e01f"}`, 100},
		{"neither side has profile-level-id: nothing added",
			`""`, `1`, `{"packetization-mode":1}`,
			`{"packetization-mode":1}`, 100},
		// h264-profile-level-id orders any level other than 1 below a remote
		// 1b (it differs from libwebrtc there); mirrored on purpose.
		{"router level 1b",
			`"42f00b"`, `0`, `{"packetization-mode":1,"profile-level-id":"42e01f"}`,
			`{"packetization-mode":1,"profile-level-id":"42e01f"}`, 100},
		{"producer level 1b",
			`"42e01f"`, `1`, `{"packetization-mode":1,"profile-level-id":"42f00b"}`,
			`{"packetization-mode":1,"profile-level-id":"42f00b"}`, 100},
		{"producer level 1 vs router 1b",
			`"42f00b"`, `1`, `{"packetization-mode":1,"profile-level-id":"42e00a"}`,
			`{"packetization-mode":1,"profile-level-id":"42f00b"}`, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			routerCaps := mustRouterCaps(t, `[{"mimeType":"video/H264","clockRate":90000,
				"parameters":{"packetization-mode":1,"profile-level-id":`+c.routerPlid+`,"level-asymmetry-allowed":`+c.routerLaa+`}}]`)
			params := mustParams(t, `{"codecs":[{"mimeType":"video/h264","payloadType":96,"clockRate":90000,"parameters":`+c.prodParams+`}],
				"encodings":[{"ssrc":1}]}`)
			m, err := GetProducerRtpParametersMapping(params, routerCaps)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, m.Codecs, `[{"payloadType":96,"mappedPayloadType":`+mustMarshal(t, c.wantMapped)+`}]`)
			assertJSON(t, params.Codecs[0].Parameters, c.wantParams)
		})
	}
}

func TestVP9ProfileMatching(t *testing.T) {
	routerCaps := mustRouterCaps(t, `[
		{"mimeType":"video/VP9","clockRate":90000,"parameters":{"profile-id":0}},
		{"mimeType":"video/VP9","clockRate":90000,"parameters":{"profile-id":2}}
	]`)
	cases := []struct {
		params string
		mapped int
		err    string
	}{
		{`{}`, 100, ""},
		{`{"profile-id":0}`, 100, ""},
		{`{"profile-id":""}`, 100, ""}, // "" || 0 === 0
		{`{"profile-id":2}`, 102, ""},
		{`{"profile-id":"2"}`, 0, "unsupported codec [mimeType:video/VP9, payloadType:98]"},
		{`{"profile-id":1}`, 0, "unsupported codec [mimeType:video/VP9, payloadType:98]"},
	}
	for _, c := range cases {
		t.Run(c.params, func(t *testing.T) {
			params := mustParams(t, `{"codecs":[{"mimeType":"video/VP9","payloadType":98,"clockRate":90000,"parameters":`+c.params+`}]}`)
			m, err := GetProducerRtpParametersMapping(params, routerCaps)
			if c.err != "" {
				assertErr(t, err, "UnsupportedError", c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Codecs[0].MappedPayloadType != c.mapped {
				t.Fatalf("mapped to %d", m.Codecs[0].MappedPayloadType)
			}
		})
	}
}

func TestMultiopusProduceConsume(t *testing.T) {
	routerCaps := mustRouterCaps(t, `[{"kind":"audio","mimeType":"audio/multiopus","preferredPayloadType":100,"clockRate":48000,"channels":6,
		"parameters":{"useinbandfec":1,"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2}}]`)
	params := mustParams(t, `{"mid":"AUDIO","codecs":[{"mimeType":"audio/multiopus","payloadType":0,"clockRate":48000,"channels":6,
		"parameters":{"useinbandfec":1,"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2}}],
		"headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":10},{"uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","id":12}],
		"encodings":[{}]}`)
	assertJSON(t, params.Codecs, `[{"mimeType":"audio/multiopus","payloadType":0,"clockRate":48000,"channels":6,
		"parameters":{"useinbandfec":1,"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2},"rtcpFeedback":[]}]`)
	m, err := GetProducerRtpParametersMapping(params, routerCaps)
	if err != nil {
		t.Fatal(err)
	}
	consumable := GetConsumableRtpParameters("audio", params, routerCaps, m)
	device := mustCaps(t, `{"codecs":[{"mimeType":"audio/multiopus","kind":"audio","preferredPayloadType":100,"clockRate":48000,"channels":6,
		"parameters":{"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2}}],
		"headerExtensions":[
			{"kind":"audio","uri":"urn:ietf:params:rtp-hdrext:sdes:mid","preferredId":1,"preferredEncrypt":false},
			{"kind":"audio","uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","preferredId":4,"preferredEncrypt":false},
			{"kind":"audio","uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","preferredId":10,"preferredEncrypt":false}]}`)
	if ok, _ := CanConsume(consumable, device); !ok {
		t.Fatal("expected CanConsume")
	}
	consumer, err := GetConsumerRtpParameters(consumable, device, false, false)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, consumer.Codecs, `[{"mimeType":"audio/multiopus","payloadType":100,"clockRate":48000,"channels":6,
		"parameters":{"useinbandfec":1,"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2},"rtcpFeedback":[]}]`)
	// mid (1) and abs-send-time (4) match; audio level has id 6 in the router.
	assertJSON(t, consumer.HeaderExtensions, `[
		{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1,"encrypt":false,"parameters":{}},
		{"uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","id":4,"encrypt":false,"parameters":{}}]`)
	if consumer.Encodings[0].Rtx != nil || consumer.Encodings[0].ScalabilityMode != "" || consumer.Encodings[0].MaxBitrate != nil {
		t.Fatalf("consumer encoding: %s", mustMarshal(t, consumer.Encodings[0]))
	}

	wrong := mustParams(t, `{"codecs":[{"mimeType":"audio/multiopus","payloadType":0,"clockRate":48000,"channels":6,
		"parameters":{"channel_mapping":"0,4,1,2,3,5","num_streams":2,"coupled_streams":2}}]}`)
	_, err = GetProducerRtpParametersMapping(wrong, routerCaps)
	assertErr(t, err, "UnsupportedError", "unsupported codec [mimeType:audio/multiopus, payloadType:0]")
}

// videoSetup returns router caps and a consumable for a VP8 simulcast producer.
func videoSetup(t *testing.T, encodings string) (*RtpCapabilities, *RtpParameters) {
	t.Helper()
	routerCaps := mustRouterCaps(t, `[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2},
		{"kind":"video","mimeType":"video/VP8","clockRate":90000}]`)
	params := mustParams(t, `{"codecs":[
		{"mimeType":"video/VP8","payloadType":96,"clockRate":90000},
		{"mimeType":"video/rtx","payloadType":97,"clockRate":90000,"parameters":{"apt":96}}],
		"headerExtensions":[{"uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time","id":3}],
		"encodings":`+encodings+`,"rtcp":{"cname":"c"},"msid":"stream track"}`)
	m, err := GetProducerRtpParametersMapping(params, routerCaps)
	if err != nil {
		t.Fatal(err)
	}
	return routerCaps, GetConsumableRtpParameters("video", params, routerCaps, m)
}

func TestConsumableDetails(t *testing.T) {
	_, consumable := videoSetup(t, `[{"rid":"r0","codecPayloadType":96,"rtx":{"ssrc":5},"dtx":true}]`)
	if consumable.Msid != "stream track" {
		t.Fatal("msid not carried")
	}
	// abs-capture-time announced because the producer negotiated it.
	found := false
	for _, e := range consumable.HeaderExtensions {
		if e.Uri == UriAbsCaptureTime && e.Id == 10 {
			found = true
		}
	}
	if !found {
		t.Fatal("abs-capture-time missing")
	}
	enc := consumable.Encodings[0]
	if enc.Rid != "" || enc.Rtx != nil || enc.CodecPayloadType != nil || enc.Dtx == nil || !*enc.Dtx {
		t.Fatalf("consumable encoding: %s", mustMarshal(t, enc))
	}
}

func TestGetConsumerRtpParametersRules(t *testing.T) {
	vp8Caps := func(fb, exts string) string {
		return `{"codecs":[
			{"kind":"video","mimeType":"video/VP8","preferredPayloadType":96,"clockRate":90000,"rtcpFeedback":` + fb + `},
			{"kind":"video","mimeType":"video/rtx","preferredPayloadType":97,"clockRate":90000,"parameters":{"apt":96}}],
			"headerExtensions":` + exts + `}`
	}
	allFb := `[{"type":"nack"},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"},{"type":"goog-remb"},{"type":"transport-cc"}]`
	twcc := `[{"kind":"video","uri":"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01","preferredId":5}]`
	abs := `[{"kind":"video","uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","preferredId":4}]`
	wrongId := `[{"kind":"video","uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","preferredId":3}]`

	cases := []struct {
		name      string
		encodings string
		caps      string
		pipe, rtx bool
		wantFb    string
		wantRtx   bool // consumer has RTX codec and rtx ssrc
		wantSM    string
		wantMaxBr int
		wantEncs  int
	}{
		{"transport-cc wins", `[{"ssrc":1}]`, vp8Caps(allFb, twcc), false, true,
			`[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"},{"type":"transport-cc","parameter":""}]`,
			true, "", 0, 1},
		{"remb with abs-send-time", `[{"ssrc":1}]`, vp8Caps(allFb, abs), false, true,
			`[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"},{"type":"goog-remb","parameter":""}]`,
			true, "", 0, 1},
		{"no bwe extension (id mismatch)", `[{"ssrc":1}]`, vp8Caps(allFb, wrongId), false, true,
			`[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"}]`,
			true, "", 0, 1},
		{"rtx disabled drops rtx and plain nack", `[{"ssrc":1}]`, vp8Caps(allFb, twcc), false, false,
			`[{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"},{"type":"transport-cc","parameter":""}]`,
			false, "", 0, 1},
		{"simulcast scalability and max bitrate",
			`[{"rid":"a","maxBitrate":100,"scalabilityMode":"L1T2"},{"rid":"b","maxBitrate":300},{"rid":"c","maxBitrate":200}]`,
			vp8Caps(`[]`, `[]`), false, true, `[]`, true, "L3T2", 300, 1},
		{"simulcast without scalability mode",
			`[{"rid":"a"},{"rid":"b"}]`, vp8Caps(`[]`, `[]`), false, true, `[]`, true, "L2T1", 0, 1},
		{"svc single encoding keeps mode",
			`[{"ssrc":1,"scalabilityMode":"L3T3_KEY"}]`, vp8Caps(`[]`, `[]`), false, true, `[]`, true, "L3T3_KEY", 0, 1},
		{"first non-empty scalability mode",
			`[{"ssrc":1,"scalabilityMode":""},{"ssrc":2,"scalabilityMode":"S2T3"}]`, vp8Caps(`[]`, `[]`), false, true, `[]`, true, "L2T3", 0, 1},
		{"pipe keeps all encodings", `[{"ssrc":1,"scalabilityMode":"L1T3"},{"ssrc":2,"scalabilityMode":"L1T3"}]`,
			vp8Caps(`[]`, `[]`), true, true, `[]`, true, "L1T3", 0, 2},
		{"endpoint without rtx codec", `[{"ssrc":1}]`,
			`{"codecs":[{"kind":"video","mimeType":"video/VP8","preferredPayloadType":96,"clockRate":90000}]}`, false, true,
			`[]`, false, "", 0, 1},
		{"endpoint rtx for another codec is dropped", `[{"ssrc":1}]`,
			`{"codecs":[{"kind":"video","mimeType":"video/VP8","clockRate":90000},{"kind":"video","mimeType":"video/rtx","clockRate":90000,"parameters":{"apt":50}}]}`, false, true,
			`[]`, true, "", 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, consumable := videoSetup(t, c.encodings)
			caps := mustCaps(t, c.caps)
			consumer, err := GetConsumerRtpParameters(consumable, caps, c.pipe, c.rtx)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, consumer.Codecs[0].RtcpFeedback, c.wantFb)
			hasRtxCodec := len(consumer.Codecs) == 2
			if hasRtxCodec != c.wantRtx || (consumer.Encodings[0].Rtx != nil) != c.wantRtx {
				t.Fatalf("rtx: codecs=%s encodings=%s", mustMarshal(t, consumer.Codecs), mustMarshal(t, consumer.Encodings))
			}
			if len(consumer.Encodings) != c.wantEncs {
				t.Fatalf("encodings: %d", len(consumer.Encodings))
			}
			enc := consumer.Encodings[0]
			if enc.ScalabilityMode != c.wantSM {
				t.Fatalf("scalabilityMode %q", enc.ScalabilityMode)
			}
			if !c.pipe {
				if (c.wantMaxBr == 0) != (enc.MaxBitrate == nil) || (enc.MaxBitrate != nil && *enc.MaxBitrate != c.wantMaxBr) {
					t.Fatalf("maxBitrate: %s", mustMarshal(t, enc))
				}
				if enc.Dtx != nil {
					t.Fatal("consumer encoding must not carry dtx")
				}
				if c.wantRtx && enc.Rtx.Ssrc != *enc.Ssrc+1 {
					t.Fatal("rtx ssrc must be ssrc+1")
				}
			} else if enc.Dtx == nil {
				t.Fatal("pipe consumer encoding keeps producer fields")
			}
			if consumer.Msid != "stream track" || consumer.Rtcp.Cname != "c" {
				t.Fatal("msid/rtcp not carried")
			}
		})
	}
}

func TestConsumeIncompatible(t *testing.T) {
	_, consumable := videoSetup(t, `[{"ssrc":1}]`)
	cases := []struct{ name, caps string }{
		{"empty caps", `{"codecs":[],"headerExtensions":[]}`},
		{"other codec", `{"codecs":[{"kind":"audio","mimeType":"audio/ISAC","preferredPayloadType":100,"clockRate":32000,"channels":1}]}`},
		{"only rtx", `{"codecs":[{"kind":"video","mimeType":"video/rtx","clockRate":90000,"parameters":{"apt":96}}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caps := mustCaps(t, c.caps)
			if ok, err := CanConsume(consumable, caps); ok || err != nil {
				t.Fatalf("CanConsume = %v, %v", ok, err)
			}
			_, err := GetConsumerRtpParameters(consumable, caps, false, true)
			assertErr(t, err, "UnsupportedError", "no compatible media codecs")
		})
	}
	ok, err := CanConsume(consumable, nil)
	if ok {
		t.Fatal("nil caps must not be consumable")
	}
	assertErr(t, err, "TypeError", "caps is not an object")
}

func TestCanConsumeH264(t *testing.T) {
	routerCaps := mustRouterCaps(t, `[{"mimeType":"video/H264","clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"42e01f"}}]`)
	params := mustParams(t, `{"codecs":[{"mimeType":"video/H264","payloadType":96,"clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"42e01f"}}],"encodings":[{"ssrc":1}]}`)
	m, err := GetProducerRtpParametersMapping(params, routerCaps)
	if err != nil {
		t.Fatal(err)
	}
	consumable := GetConsumableRtpParameters("video", params, routerCaps, m)
	cases := []struct {
		params string
		want   bool
	}{
		{`{"packetization-mode":1,"profile-level-id":"42e01f"}`, true},
		{`{"packetization-mode":1,"profile-level-id":"42e034"}`, true},  // level differs only
		{`{"packetization-mode":1}`, true},                              // default profile is constrained baseline
		{`{"packetization-mode":1,"profile-level-id":"640c1f"}`, false}, // Constrained High
		{`{"packetization-mode":0,"profile-level-id":"42e01f"}`, false},
		{`{"packetization-mode":1,"profile-level-id":"4d001f"}`, false},
		{`{"packetization-mode":1,"profile-level-id":"zzzzzz"}`, false},
	}
	for _, c := range cases {
		t.Run(c.params, func(t *testing.T) {
			caps := mustCaps(t, `{"codecs":[{"kind":"video","mimeType":"video/H264","clockRate":90000,"parameters":`+c.params+`}]}`)
			got, err := CanConsume(consumable, caps)
			if err != nil || got != c.want {
				t.Fatalf("CanConsume = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestParseScalabilityMode(t *testing.T) {
	cases := []struct {
		in   string
		want ScalabilityMode
	}{
		{"L1T3", ScalabilityMode{1, 3, false}},
		{"L3T2_KEY", ScalabilityMode{3, 2, true}},
		{"S2T3", ScalabilityMode{2, 3, false}},
		{"L10T10", ScalabilityMode{10, 10, false}},
		{"L3T3_KEY_SHIFT", ScalabilityMode{3, 3, true}},
		{"L1T3h", ScalabilityMode{1, 3, false}},
		{"L123T3", ScalabilityMode{1, 1, false}},
		{"L0T1", ScalabilityMode{1, 1, false}},
		{"l1t3", ScalabilityMode{1, 1, false}},
		{"foo", ScalabilityMode{1, 1, false}},
		{"", ScalabilityMode{1, 1, false}},
		{" L1T3", ScalabilityMode{1, 1, false}},
	}
	for _, c := range cases {
		if got := ParseScalabilityMode(c.in); got != c.want {
			t.Errorf("ParseScalabilityMode(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestIsRtxMimeType(t *testing.T) {
	cases := map[string]bool{
		"video/rtx": true, "audio/RTX": true, "x/rtx": true, "/rtx": false, "video/rtx2": false,
		"video/vp8": false, "\n/rtx": false, "a\n/rtx": false, "\na/rtx": true,
	}
	for in, want := range cases {
		if got := IsRtxMimeType(in); got != want {
			t.Errorf("IsRtxMimeType(%q) = %v", in, got)
		}
	}
}

func TestGenerateRandomSsrc(t *testing.T) {
	for i := 0; i < 10000; i++ {
		if v := GenerateRandomSsrc(); !inRandomRange(v) {
			t.Fatalf("out of range: %d", v)
		}
	}
}
