package ortc

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const videoFb = `[{"type":"nack","parameter":""},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"},{"type":"goog-remb","parameter":""},{"type":"transport-cc","parameter":""}]`

func TestGenerateRouterRtpCapabilitiesMediasoupCase(t *testing.T) {
	caps, err := GenerateRouterRtpCapabilities(decode(t, `[
		{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"parameters":{"useinbandfec":1,"foo":"bar"}},
		{"kind":"video","mimeType":"video/VP8","preferredPayloadType":125,"clockRate":90000},
		{"kind":"video","mimeType":"video/H264","clockRate":90000,
		 "parameters":{"level-asymmetry-allowed":1,"profile-level-id":"42e01f","foo":"bar"},"rtcpFeedback":[]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(caps.Codecs) != 5 {
		t.Fatalf("got %d codecs", len(caps.Codecs))
	}
	assertJSON(t, caps.Codecs, `[
		{"kind":"audio","mimeType":"audio/opus","preferredPayloadType":100,"clockRate":48000,"channels":2,
		 "parameters":{"useinbandfec":1,"foo":"bar"},
		 "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}]},
		{"kind":"video","mimeType":"video/VP8","preferredPayloadType":125,"clockRate":90000,"parameters":{},"rtcpFeedback":`+videoFb+`},
		{"kind":"video","mimeType":"video/rtx","preferredPayloadType":101,"clockRate":90000,"parameters":{"apt":125},"rtcpFeedback":[]},
		{"kind":"video","mimeType":"video/H264","preferredPayloadType":102,"clockRate":90000,
		 "parameters":{"level-asymmetry-allowed":1,"profile-level-id":"42e01f","foo":"bar"},"rtcpFeedback":`+videoFb+`},
		{"kind":"video","mimeType":"video/rtx","preferredPayloadType":103,"clockRate":90000,"parameters":{"apt":102},"rtcpFeedback":[]}
	]`)
	// All supported header extensions, normalized.
	assertJSON(t, caps.HeaderExtensions, mustMarshal(t, SupportedRtpCapabilities().HeaderExtensions))
	if len(caps.HeaderExtensions) != 18 {
		t.Fatalf("got %d header extensions", len(caps.HeaderExtensions))
	}
}

func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGenerateRouterRtpCapabilitiesErrors(t *testing.T) {
	manyOpus := make([]string, 100)
	for i := range manyOpus {
		manyOpus[i] = `{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2}`
	}
	// 16 video codecs need 32 dynamic payload types; the 17th cannot get one.
	manyVideo := make([]string, 17)
	for i := range manyVideo {
		manyVideo[i] = `{"kind":"video","mimeType":"video/VP8","clockRate":90000}`
	}
	cases := []errCase{
		{"not array object", `{}`, "TypeError", "mediaCodecs must be an Array"},
		{"not array string", `"opus"`, "TypeError", "mediaCodecs must be an Array"},
		{"invalid codec", `[{"mimeType":"audio/opus"}]`, "TypeError", "missing codec.clockRate"},
		{"null codec", `[null]`, "TypeError", "Cannot read properties of null (reading 'mimeType')"},
		{"string codec", `["opus"]`, "TypeError", "codec is not an object"},
		{"unknown codec", `[{"kind":"audio","mimeType":"audio/chicken","clockRate":8000,"channels":4}]`,
			"UnsupportedError", "media codec not supported [mimeType:audio/chicken]"},
		{"opus mono", `[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":1}]`,
			"UnsupportedError", "media codec not supported [mimeType:audio/opus]"},
		{"opus default channels", `[{"kind":"audio","mimeType":"audio/opus","clockRate":48000}]`,
			"UnsupportedError", "media codec not supported [mimeType:audio/opus]"},
		{"wrong clock rate", `[{"kind":"video","mimeType":"video/VP8","clockRate":48000}]`,
			"UnsupportedError", "media codec not supported [mimeType:video/VP8]"},
		{"multiopus wrong layout", `[{"kind":"audio","mimeType":"audio/multiopus","clockRate":48000,"channels":6,
			"parameters":{"num_streams":2,"coupled_streams":2}}]`,
			"UnsupportedError", "media codec not supported [mimeType:audio/multiopus]"},
		{"multiopus string streams", `[{"kind":"audio","mimeType":"audio/multiopus","clockRate":48000,"channels":4,
			"parameters":{"num_streams":"2","coupled_streams":2}}]`,
			"UnsupportedError", "media codec not supported [mimeType:audio/multiopus]"},
		{"multiopus missing streams", `[{"kind":"audio","mimeType":"audio/multiopus","clockRate":48000,"channels":4}]`,
			"UnsupportedError", "media codec not supported [mimeType:audio/multiopus]"},
		{"rtx not a media codec", `[{"kind":"video","mimeType":"video/rtx","clockRate":90000}]`,
			"UnsupportedError", "media codec not supported [mimeType:video/rtx]"},
		{"too many codecs", "[" + strings.Join(manyOpus, ",") + "]", "Error", "cannot allocate more dynamic codec payload types"},
		{"too many video codecs (rtx)", "[" + strings.Join(manyVideo, ",") + "]", "Error", "cannot allocate more dynamic codec payload types"},
		{"duplicated preferred pt", `[
			{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"preferredPayloadType":111},
			{"kind":"video","mimeType":"video/VP8","clockRate":90000,"preferredPayloadType":111}]`,
			"TypeError", "duplicated codec.preferredPayloadType"},
		{"preferred pt equals an allocated dynamic pt", `[
			{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2},
			{"kind":"video","mimeType":"video/VP8","clockRate":90000,"preferredPayloadType":100}]`,
			"TypeError", "duplicated codec.preferredPayloadType"},
		{"preferred pt equals an rtx pt", `[
			{"kind":"video","mimeType":"video/VP8","clockRate":90000},
			{"kind":"video","mimeType":"video/VP9","clockRate":90000,"preferredPayloadType":101}]`,
			"TypeError", "duplicated codec.preferredPayloadType"},
		{"static pt clash", `[
			{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"preferredPayloadType":0},
			{"kind":"audio","mimeType":"audio/PCMU","clockRate":8000}]`,
			"TypeError", "duplicated codec.preferredPayloadType"},
		{"same CN twice", `[{"kind":"audio","mimeType":"audio/CN","clockRate":8000},{"kind":"audio","mimeType":"audio/CN","clockRate":16000}]`,
			"TypeError", "duplicated codec.preferredPayloadType"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caps, err := GenerateRouterRtpCapabilities(decode(t, c.input))
			if caps != nil {
				t.Fatal("expected nil caps")
			}
			assertErr(t, err, c.class, c.msg)
		})
	}
}

func TestGenerateRouterRtpCapabilitiesRules(t *testing.T) {
	cases := []struct {
		name, input, want string
	}{
		{"nil media codecs", "", `[]`},
		{"empty", `[]`, `[]`},
		{
			"static and dynamic payload types, case-insensitive mime, supported mime kept",
			`[{"mimeType":"AUDIO/pcmu","clockRate":8000},{"mimeType":"audio/opus","clockRate":48000,"channels":2},{"mimeType":"audio/G722","clockRate":8000}]`,
			`[{"kind":"audio","mimeType":"audio/PCMU","preferredPayloadType":0,"clockRate":8000,"channels":1,"parameters":{},"rtcpFeedback":[{"type":"transport-cc","parameter":""}]},
			  {"kind":"audio","mimeType":"audio/opus","preferredPayloadType":100,"clockRate":48000,"channels":2,"parameters":{},"rtcpFeedback":[{"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}]},
			  {"kind":"audio","mimeType":"audio/G722","preferredPayloadType":9,"clockRate":8000,"channels":1,"parameters":{},"rtcpFeedback":[{"type":"transport-cc","parameter":""}]}]`,
		},
		{
			"preferred payload type removed from the dynamic list",
			`[{"mimeType":"video/VP8","clockRate":90000,"preferredPayloadType":101},{"mimeType":"audio/opus","clockRate":48000,"channels":2}]`,
			`[{"kind":"video","mimeType":"video/VP8","preferredPayloadType":101,"clockRate":90000,"parameters":{},"rtcpFeedback":` + videoFb + `},
			  {"kind":"video","mimeType":"video/rtx","preferredPayloadType":100,"clockRate":90000,"parameters":{"apt":101},"rtcpFeedback":[]},
			  {"kind":"audio","mimeType":"audio/opus","preferredPayloadType":102,"clockRate":48000,"channels":2,"parameters":{},"rtcpFeedback":[{"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}]}]`,
		},
		{
			"preferred payload type overrides static one; falsy non-number ignored",
			`[{"mimeType":"audio/PCMA","clockRate":8000,"preferredPayloadType":96},{"mimeType":"audio/PCMU","clockRate":8000,"preferredPayloadType":""}]`,
			`[{"kind":"audio","mimeType":"audio/PCMA","preferredPayloadType":96,"clockRate":8000,"channels":1,"parameters":{},"rtcpFeedback":[{"type":"transport-cc","parameter":""}]},
			  {"kind":"audio","mimeType":"audio/PCMU","preferredPayloadType":0,"clockRate":8000,"channels":1,"parameters":{},"rtcpFeedback":[{"type":"transport-cc","parameter":""}]}]`,
		},
		{
			"multiopus 5.1 merges parameters",
			`[{"kind":"audio","mimeType":"audio/multiopus","preferredPayloadType":100,"clockRate":48000,"channels":6,
			   "parameters":{"useinbandfec":1,"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2}}]`,
			`[{"kind":"audio","mimeType":"audio/multiopus","preferredPayloadType":100,"clockRate":48000,"channels":6,
			   "parameters":{"useinbandfec":1,"channel_mapping":"0,4,1,2,3,5","num_streams":4,"coupled_streams":2},
			   "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}]}]`,
		},
		{
			"multiopus 7.1 takes supported channel_mapping",
			`[{"mimeType":"audio/multiopus","clockRate":48000,"channels":8,"parameters":{"num_streams":5,"coupled_streams":3}}]`,
			`[{"kind":"audio","mimeType":"audio/multiopus","preferredPayloadType":100,"clockRate":48000,"channels":8,
			   "parameters":{"channel_mapping":"0,6,1,2,3,4,5,7","num_streams":5,"coupled_streams":3},
			   "rtcpFeedback":[{"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}]}]`,
		},
		{
			"VP9 profiles and H264 profiles are not distinguished at router level",
			`[{"mimeType":"video/VP9","clockRate":90000,"parameters":{"profile-id":2}},
			  {"mimeType":"video/H264","clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"640032"}},
			  {"mimeType":"video/H264","clockRate":90000,"parameters":{"level-asymmetry-allowed":0}}]`,
			`[{"kind":"video","mimeType":"video/VP9","preferredPayloadType":100,"clockRate":90000,"parameters":{"profile-id":2},"rtcpFeedback":` + videoFb + `},
			  {"kind":"video","mimeType":"video/rtx","preferredPayloadType":101,"clockRate":90000,"parameters":{"apt":100},"rtcpFeedback":[]},
			  {"kind":"video","mimeType":"video/H264","preferredPayloadType":102,"clockRate":90000,"parameters":{"level-asymmetry-allowed":1,"packetization-mode":1,"profile-level-id":"640032"},"rtcpFeedback":` + videoFb + `},
			  {"kind":"video","mimeType":"video/rtx","preferredPayloadType":103,"clockRate":90000,"parameters":{"apt":102},"rtcpFeedback":[]},
			  {"kind":"video","mimeType":"video/H264","preferredPayloadType":104,"clockRate":90000,"parameters":{"level-asymmetry-allowed":0},"rtcpFeedback":` + videoFb + `},
			  {"kind":"video","mimeType":"video/rtx","preferredPayloadType":105,"clockRate":90000,"parameters":{"apt":104},"rtcpFeedback":[]}]`,
		},
		{
			"AV1",
			`[{"mimeType":"video/AV1","clockRate":90000}]`,
			`[{"kind":"video","mimeType":"video/AV1","preferredPayloadType":100,"clockRate":90000,"parameters":{},"rtcpFeedback":` + videoFb + `},
			  {"kind":"video","mimeType":"video/rtx","preferredPayloadType":101,"clockRate":90000,"parameters":{"apt":100},"rtcpFeedback":[]}]`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caps, err := GenerateRouterRtpCapabilities(decode(t, c.input))
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, caps.Codecs, c.want)
		})
	}
}

func TestGenerateRouterRtpCapabilitiesDynamicOrder(t *testing.T) {
	// 32 audio codecs exhaust 100..127 then 96..99 in that order.
	codecs := make([]string, 32)
	for i := range codecs {
		codecs[i] = `{"mimeType":"audio/opus","clockRate":48000,"channels":2}`
	}
	caps, err := GenerateRouterRtpCapabilities(decode(t, "["+strings.Join(codecs, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range caps.Codecs {
		got = append(got, fmt.Sprint(*c.PreferredPayloadType))
	}
	want := "100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127 96 97 98 99"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v", got)
	}
}

func TestSupportedRtpCapabilities(t *testing.T) {
	a := SupportedRtpCapabilities()
	a.Codecs[0].Parameters["x"] = 1.0
	a.Codecs[0].RtcpFeedback[0].Type = "bar"
	a.HeaderExtensions[0].Uri = "bar"
	b := SupportedRtpCapabilities()
	if _, ok := b.Codecs[0].Parameters["x"]; ok || b.Codecs[0].RtcpFeedback[0].Type != "nack" || b.HeaderExtensions[0].Uri != UriMid {
		t.Fatal("SupportedRtpCapabilities must return a fresh copy")
	}
	if len(b.Codecs) != 25 || len(b.HeaderExtensions) != 18 {
		t.Fatalf("unexpected sizes %d/%d", len(b.Codecs), len(b.HeaderExtensions))
	}
	// Spot-check the JSON shape of a few entries.
	assertJSON(t, b.Codecs[4], `{"kind":"audio","mimeType":"audio/PCMU","preferredPayloadType":0,"clockRate":8000,"channels":1,"parameters":{},"rtcpFeedback":[{"type":"transport-cc","parameter":""}]}`)
	assertJSON(t, b.Codecs[23], `{"kind":"video","mimeType":"video/H264","clockRate":90000,"parameters":{"level-asymmetry-allowed":1},"rtcpFeedback":`+videoFb+`}`)
	assertJSON(t, b.HeaderExtensions[9], `{"kind":"video","uri":"https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension","preferredId":7,"preferredEncrypt":false,"direction":"recvonly"}`)
	// The supported list is itself valid and stable under validation.
	v, err := ValidateRtpCapabilities(decode(t, mustMarshal(t, b)))
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, v, mustMarshal(t, b))
}
