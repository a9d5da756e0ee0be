package ortc

import (
	"encoding/json"
	"testing"
)

type errCase struct {
	name  string
	input string // JSON; "" means nil (undefined)
	class string
	msg   string
}

func TestValidateRtpParametersErrors(t *testing.T) {
	const te = "TypeError"
	cases := []errCase{
		{"undefined", "", te, "params is not an object"},
		{"string", `"foo"`, te, "params is not an object"},
		{"number", `1`, te, "params is not an object"},
		{"null", `null`, te, "params is not an object"}, // top-level nil is undefined
		{"mid number", `{"mid":1,"codecs":[]}`, te, "params.mid is not a string"},
		{"missing codecs", `{}`, te, "missing params.codecs"},
		{"array params", `[]`, te, "missing params.codecs"},
		{"codecs object", `{"codecs":{}}`, te, "missing params.codecs"},
		{"codec string", `{"codecs":["x"]}`, te, "codec is not an object"},
		{"codec null", `{"codecs":[null]}`, te, "Cannot read properties of null (reading 'mimeType')"},
		{"codec no mime", `{"codecs":[{}]}`, te, "missing codec.mimeType"},
		{"codec empty mime", `{"codecs":[{"mimeType":""}]}`, te, "missing codec.mimeType"},
		{"codec mime number", `{"codecs":[{"mimeType":5}]}`, te, "missing codec.mimeType"},
		{"codec bad mime", `{"codecs":[{"mimeType":"text/plain"}]}`, te, "invalid codec.mimeType"},
		{"codec mime no subtype", `{"codecs":[{"mimeType":"audio/"}]}`, te, "invalid codec.mimeType"},
		{"codec mime newline subtype", `{"codecs":[{"mimeType":"audio/\nx"}]}`, te, "invalid codec.mimeType"},
		{"codec mime leading space", `{"codecs":[{"mimeType":" audio/opus"}]}`, te, "invalid codec.mimeType"},
		{"codec no pt", `{"codecs":[{"mimeType":"audio/opus","clockRate":48000}]}`, te, "missing codec.payloadType"},
		{"codec pt string", `{"codecs":[{"mimeType":"audio/opus","payloadType":"100","clockRate":48000}]}`, te, "missing codec.payloadType"},
		{"codec no clockRate", `{"codecs":[{"mimeType":"audio/opus","payloadType":100}]}`, te, "missing codec.clockRate"},
		{"codec param bool", `{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"parameters":{"foo":true}}]}`,
			te, "invalid codec parameter [key:foos, value:true]"},
		{"codec param null", `{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"parameters":{"foo":null}}]}`,
			te, "invalid codec parameter [key:foos, value:null]"},
		{"codec param object", `{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"parameters":{"foo":{"a":1}}}]}`,
			te, "invalid codec parameter [key:foos, value:[object Object]]"},
		{"codec param array", `{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"parameters":{"foo":[1,"a",null,[2,3]]}}]}`,
			te, "invalid codec parameter [key:foos, value:1,a,,2,3]"},
		{"codec param index keys first", `{"codecs":[{"mimeType":"audio/opus","payloadType":100,"clockRate":48000,"parameters":{"b":false,"10":false,"2":false}}]}`,
			te, "invalid codec parameter [key:2s, value:false]"},
		{"codec apt string", `{"codecs":[{"mimeType":"video/rtx","payloadType":101,"clockRate":90000,"parameters":{"apt":"100"}}]}`,
			te, "invalid codec apt parameter"},
		{"fb string", `{"codecs":[{"mimeType":"video/VP8","payloadType":101,"clockRate":90000,"rtcpFeedback":["nack"]}]}`,
			te, "fb is not an object"},
		{"fb null", `{"codecs":[{"mimeType":"video/VP8","payloadType":101,"clockRate":90000,"rtcpFeedback":[null]}]}`,
			te, "Cannot read properties of null (reading 'type')"},
		{"fb no type", `{"codecs":[{"mimeType":"video/VP8","payloadType":101,"clockRate":90000,"rtcpFeedback":[{"parameter":"pli"}]}]}`,
			te, "missing fb.type"},
		{"headerExtensions object", `{"codecs":[],"headerExtensions":{}}`, te, "params.headerExtensions is not an array"},
		{"ext number", `{"codecs":[],"headerExtensions":[1]}`, te, "ext is not an object"},
		{"ext null", `{"codecs":[],"headerExtensions":[null]}`, te, "Cannot read properties of null (reading 'uri')"},
		{"ext no uri", `{"codecs":[],"headerExtensions":[{"id":1}]}`, te, "missing ext.uri"},
		{"ext no id", `{"codecs":[],"headerExtensions":[{"uri":"urn:x"}]}`, te, "missing ext.id"},
		{"ext encrypt string", `{"codecs":[],"headerExtensions":[{"uri":"urn:x","id":1,"encrypt":"yes"}]}`, te, "invalid ext.encrypt"},
		{"ext param bool", `{"codecs":[],"headerExtensions":[{"uri":"urn:x","id":1,"parameters":{"a":true}}]}`, te, "invalid header extension parameter"},
		{"encodings object", `{"codecs":[],"encodings":{}}`, te, "params.encodings is not an array"},
		{"encoding string", `{"codecs":[],"encodings":["x"]}`, te, "encoding is not an object"},
		{"encoding null", `{"codecs":[],"encodings":[null]}`, te, "Cannot read properties of null (reading 'ssrc')"},
		{"encoding ssrc string", `{"codecs":[],"encodings":[{"ssrc":"1111"}]}`, te, "invalid encoding.ssrc"},
		{"encoding rid number", `{"codecs":[],"encodings":[{"rid":1}]}`, te, "invalid encoding.rid"},
		{"encoding rtx number", `{"codecs":[],"encodings":[{"rtx":1}]}`, te, "invalid encoding.rtx"},
		{"encoding rtx no ssrc", `{"codecs":[],"encodings":[{"rtx":{}}]}`, te, "missing encoding.rtx.ssrc"},
		{"encoding rtx array", `{"codecs":[],"encodings":[{"rtx":[1]}]}`, te, "missing encoding.rtx.ssrc"},
		{"encoding scalabilityMode number", `{"codecs":[],"encodings":[{"scalabilityMode":3}]}`, te, "invalid encoding.scalabilityMode"},
		{"rtcp string", `{"codecs":[],"rtcp":"x"}`, te, "params.rtcp is not an object"},
		{"msid number", `{"codecs":[],"msid":5}`, te, "params.msid is not a string"},
		{"msid checked before cname", `{"codecs":[],"msid":5,"rtcp":{"cname":1}}`, te, "params.msid is not a string"},
		{"rtcp cname number", `{"codecs":[],"rtcp":{"cname":1}}`, te, "invalid rtcp.cname"},
		{"codecs checked before encodings", `{"codecs":[{}],"encodings":["x"]}`, te, "missing codec.mimeType"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := decode(t, c.input)
			before, _ := json.Marshal(raw)
			got, err := ValidateRtpParameters(raw)
			if got != nil {
				t.Fatalf("expected nil result with error")
			}
			assertErr(t, err, c.class, c.msg)
			after, _ := json.Marshal(raw)
			if string(before) != string(after) {
				t.Fatalf("input mutated")
			}
		})
	}
}

func TestValidateRtpParametersNormalization(t *testing.T) {
	cases := []struct {
		name, input, want string
	}{
		{
			"minimal",
			`{"codecs":[]}`,
			`{"codecs":[],"headerExtensions":[],"encodings":[],"rtcp":{"reducedSize":true}}`,
		},
		{
			"falsy optional fields ignored",
			`{"mid":"","msid":0,"codecs":[],"headerExtensions":null,"encodings":0,"rtcp":false}`,
			`{"codecs":[],"headerExtensions":[],"encodings":[],"rtcp":{"reducedSize":true}}`,
		},
		{
			"full",
			`{"mid":"AUDIO","msid":"a b","codecs":[
				{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2,
				 "parameters":{"useinbandfec":1,"foo":"bar"},"rtcpFeedback":[{"type":"nack"},{"type":"transport-cc","parameter":5}]},
				{"mimeType":"audio/PCMU","payloadType":0,"clockRate":8000,"parameters":"nope","rtcpFeedback":{}},
				{"mimeType":"VIDEO/VP8","payloadType":96,"clockRate":90000,"channels":3}
			 ],
			 "headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1},{"uri":"urn:x","id":2,"encrypt":true,"parameters":{"a":1}}],
			 "encodings":[{"ssrc":1111,"rtx":{"ssrc":1112},"dtx":"yes","maxBitrate":5000,"codecPayloadType":111},{"rid":"r0","dtx":true,"scalabilityMode":"L1T3","ssrc":0}],
			 "rtcp":{"cname":"abc","reducedSize":false}}`,
			`{"mid":"AUDIO","msid":"a b","codecs":[
				{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2,
				 "parameters":{"useinbandfec":1,"foo":"bar"},"rtcpFeedback":[{"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}]},
				{"mimeType":"audio/PCMU","payloadType":0,"clockRate":8000,"channels":1,"parameters":{},"rtcpFeedback":[]},
				{"mimeType":"VIDEO/VP8","payloadType":96,"clockRate":90000,"parameters":{},"rtcpFeedback":[]}
			 ],
			 "headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1,"encrypt":false,"parameters":{}},{"uri":"urn:x","id":2,"encrypt":true,"parameters":{"a":1}}],
			 "encodings":[{"ssrc":1111,"rtx":{"ssrc":1112},"dtx":false,"maxBitrate":5000,"codecPayloadType":111},{"rid":"r0","dtx":true,"scalabilityMode":"L1T3","ssrc":0}],
			 "rtcp":{"cname":"abc","reducedSize":true}}`,
		},
		{
			"array parameters become index keys",
			`{"codecs":[{"mimeType":"video/VP8","payloadType":96,"clockRate":90000,"parameters":["a",2]}]}`,
			`{"codecs":[{"mimeType":"video/VP8","payloadType":96,"clockRate":90000,"parameters":{"0":"a","1":2},"rtcpFeedback":[]}],
			  "headerExtensions":[],"encodings":[],"rtcp":{"reducedSize":true}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ValidateRtpParameters(decode(t, c.input))
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, got, c.want)
		})
	}
}

func TestValidateRtpCapabilities(t *testing.T) {
	const te = "TypeError"
	errs := []errCase{
		{"undefined", "", te, "caps is not an object"},
		{"number", `3`, te, "caps is not an object"},
		{"codecs not array", `{"codecs":{}}`, te, "caps.codecs is not an array"},
		{"codec null", `{"codecs":[null]}`, te, "Cannot read properties of null (reading 'mimeType')"},
		{"codec bad ppt", `{"codecs":[{"mimeType":"audio/opus","preferredPayloadType":"100","clockRate":48000}]}`, te, "invalid codec.preferredPayloadType"},
		{"codec no clockRate", `{"codecs":[{"mimeType":"audio/opus"}]}`, te, "missing codec.clockRate"},
		{"headerExtensions not array", `{"headerExtensions":"x"}`, te, "caps.headerExtensions is not an array"},
		{"ext null", `{"headerExtensions":[null]}`, te, "Cannot read properties of null (reading 'kind')"},
		{"ext string", `{"headerExtensions":["x"]}`, te, "ext is not an object"},
		{"ext bad kind", `{"headerExtensions":[{"kind":"data","uri":"urn:x","preferredId":1}]}`, te, "invalid ext.kind"},
		{"ext no uri", `{"headerExtensions":[{"kind":"audio","preferredId":1}]}`, te, "missing ext.uri"},
		{"ext no preferredId", `{"headerExtensions":[{"kind":"audio","uri":"urn:x"}]}`, te, "missing ext.preferredId"},
		{"ext bad encrypt", `{"headerExtensions":[{"kind":"audio","uri":"urn:x","preferredId":1,"preferredEncrypt":1}]}`, te, "invalid ext.preferredEncrypt"},
		{"ext bad direction", `{"headerExtensions":[{"kind":"audio","uri":"urn:x","preferredId":1,"direction":1}]}`, te, "invalid ext.direction"},
	}
	for _, c := range errs {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateRtpCapabilities(decode(t, c.input))
			assertErr(t, err, c.class, c.msg)
		})
	}

	t.Run("normalization", func(t *testing.T) {
		got, err := ValidateRtpCapabilities(decode(t, `{"codecs":[
			{"kind":"video","mimeType":"audio/opus","preferredPayloadType":0,"clockRate":48000,"rtcpFeedback":[{"type":"nack","parameter":""}]},
			{"mimeType":"video/VP8","clockRate":90000,"channels":2,"preferredPayloadType":""}
		],"headerExtensions":[{"kind":"audio","uri":"urn:x","preferredId":1,"preferredEncrypt":false,"direction":""}]}`))
		if err != nil {
			t.Fatal(err)
		}
		assertJSON(t, got, `{"codecs":[
			{"kind":"audio","mimeType":"audio/opus","preferredPayloadType":0,"clockRate":48000,"channels":1,"parameters":{},"rtcpFeedback":[{"type":"nack","parameter":""}]},
			{"kind":"video","mimeType":"video/VP8","clockRate":90000,"parameters":{},"rtcpFeedback":[]}
		],"headerExtensions":[{"kind":"audio","uri":"urn:x","preferredId":1,"preferredEncrypt":false,"direction":"sendrecv"}]}`)
	})

	t.Run("empty", func(t *testing.T) {
		got, err := ValidateRtpCapabilities(decode(t, `[]`))
		if err != nil {
			t.Fatal(err)
		}
		assertJSON(t, got, `{"codecs":[],"headerExtensions":[]}`)
	})

	t.Run("codec capability undefined", func(t *testing.T) {
		_, err := ValidateRtpCodecCapability(nil)
		assertErr(t, err, te, "codec is not an object")
	})
}

func TestValidateSctpStreamParameters(t *testing.T) {
	const te = "TypeError"
	errs := []errCase{
		{"undefined", "", te, "params is not an object"},
		{"string", `"x"`, te, "params is not an object"},
		{"null element semantics not applicable", `{}`, te, "missing params.streamId"},
		{"streamId string", `{"streamId":"1"}`, te, "missing params.streamId"},
		{"bad mplt", `{"streamId":1,"maxPacketLifeTime":"5"}`, te, "invalid params.maxPacketLifeTime"},
		{"bad mr", `{"streamId":1,"maxRetransmits":true}`, te, "invalid params.maxRetransmits"},
		{"both", `{"streamId":1,"maxPacketLifeTime":5,"maxRetransmits":3}`, te, "cannot provide both maxPacketLifeTime and maxRetransmits"},
		{"ordered with mplt", `{"streamId":1,"ordered":true,"maxPacketLifeTime":5}`, te, "cannot be ordered with maxPacketLifeTime or maxRetransmits"},
		{"ordered with mr", `{"streamId":1,"ordered":true,"maxRetransmits":5}`, te, "cannot be ordered with maxPacketLifeTime or maxRetransmits"},
	}
	for _, c := range errs {
		t.Run(c.name, func(t *testing.T) {
			_, err := ValidateSctpStreamParameters(decode(t, c.input))
			assertErr(t, err, c.class, c.msg)
		})
	}
	ok := []struct{ name, input, want string }{
		{"defaults", `{"streamId":3}`, `{"streamId":3,"ordered":true}`},
		{"unordered given", `{"streamId":3,"ordered":false}`, `{"streamId":3,"ordered":false}`},
		{"ordered non-bool ignored", `{"streamId":3,"ordered":"no"}`, `{"streamId":3,"ordered":true}`},
		{"mplt implies unordered", `{"streamId":3,"maxPacketLifeTime":100}`, `{"streamId":3,"ordered":false,"maxPacketLifeTime":100}`},
		{"mr implies unordered", `{"streamId":3,"maxRetransmits":2}`, `{"streamId":3,"ordered":false,"maxRetransmits":2}`},
		{"zero mr kept, stays ordered", `{"streamId":3,"maxRetransmits":0}`, `{"streamId":3,"ordered":true,"maxRetransmits":0}`},
		{"zero mr with ordered ok", `{"streamId":3,"ordered":true,"maxRetransmits":0,"maxPacketLifeTime":0}`, `{"streamId":3,"ordered":true,"maxRetransmits":0,"maxPacketLifeTime":0}`},
		{"unordered with mr", `{"streamId":3,"ordered":false,"maxRetransmits":2}`, `{"streamId":3,"ordered":false,"maxRetransmits":2}`},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := ValidateSctpStreamParameters(decode(t, c.input))
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, got, c.want)
		})
	}
}

func TestJSString(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "null"}, {true, "true"}, {1.0, "1"}, {0.5, "0.5"}, {1e21, "1e+21"},
		{1e-7, "1e-7"}, {1e-6, "0.000001"}, {-2.5e-8, "-2.5e-8"}, {1.5e300, "1.5e+300"}, {123456789012.0, "123456789012"},
		{[]any{}, ""}, {map[string]any{}, "[object Object]"},
	}
	for _, c := range cases {
		if got := jsString(c.in); got != c.want {
			t.Errorf("jsString(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
