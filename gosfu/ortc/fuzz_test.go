package ortc

import (
	"bytes"
	"encoding/json"
	"testing"
)

var fuzzSeeds = []string{
	`{"codecs":[]}`,
	`{"mid":"0","codecs":[{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2,"parameters":{"useinbandfec":1}}],
	  "headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1}],"encodings":[{"ssrc":1234}],"rtcp":{"cname":"x"}}`,
	`{"codecs":[{"mimeType":"video/H264","payloadType":96,"clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"42e01f"}},
	  {"mimeType":"video/rtx","payloadType":97,"clockRate":90000,"parameters":{"apt":96}}],
	  "encodings":[{"rid":"a","scalabilityMode":"L1T3","maxBitrate":1e5},{"rid":"b"}]}`,
	`{"codecs":[{"mimeType":"video/VP9","payloadType":98,"clockRate":90000,"parameters":{"profile-id":2}}],"encodings":[{"ssrc":1,"rtx":{"ssrc":2}}]}`,
	`{"codecs":[{"mimeType":"audio/multiopus","payloadType":100,"clockRate":48000,"channels":6,"parameters":{"num_streams":4,"coupled_streams":2}}]}`,
	`{"codecs":[null],"encodings":[null]}`,
	`[{"mimeType":"audio/opus","clockRate":48000,"channels":2},{"mimeType":"video/VP8","clockRate":90000,"preferredPayloadType":100}]`,
	`{"codecs":[{"mimeType":"audio/opus","clockRate":48000,"channels":0,"preferredPayloadType":0}],"headerExtensions":[{"kind":"audio","uri":"u","preferredId":1}]}`,
	`{"streamId":1,"maxRetransmits":0,"ordered":false}`,
	`{"codecs":[{"mimeType":"audio/x","payloadType":-1e300,"clockRate":1.5,"parameters":[1,"a"]}],"encodings":[{"ssrc":-1,"maxBitrate":1e300}]}`,
	`null`, `1`, `"x"`, `[]`, `{}`,
}

// fuzzRouterCaps is a router with every codec family, used to push validated
// parameters through the whole ORTC pipeline.
func fuzzRouterCaps(t *testing.T) *RtpCapabilities {
	return mustRouterCaps(t, `[
		{"mimeType":"audio/opus","clockRate":48000,"channels":2},
		{"mimeType":"audio/multiopus","clockRate":48000,"channels":6,"parameters":{"num_streams":4,"coupled_streams":2}},
		{"mimeType":"audio/PCMU","clockRate":8000},
		{"mimeType":"video/VP8","clockRate":90000},
		{"mimeType":"video/VP9","clockRate":90000,"parameters":{"profile-id":2}},
		{"mimeType":"video/H264","clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"42e01f"}},
		{"mimeType":"video/AV1","clockRate":90000}
	]`)
}

func checkErrClass(t *testing.T, err error, allowPlain bool) {
	t.Helper()
	if err == nil {
		return
	}
	switch JSErrorClass(err) {
	case "TypeError", "UnsupportedError":
	case "Error":
		if !allowPlain {
			t.Fatalf("unexpected plain error: %v", err)
		}
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

// checkIdempotent re-validates the JSON of a normalized value and expects the
// very same JSON back.
func checkIdempotent(t *testing.T, out any, validate func(any) (any, error)) {
	t.Helper()
	b1, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var again any
	if err := json.Unmarshal(b1, &again); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out2, err := validate(again)
	if err != nil {
		t.Fatalf("normalized output rejected: %v\n%s", err, b1)
	}
	b2, _ := json.Marshal(out2)
	if !bytes.Equal(b1, b2) {
		t.Fatalf("not idempotent:\n%s\n%s", b1, b2)
	}
}

func FuzzValidateRtpParameters(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw any
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		before, _ := json.Marshal(raw)
		defer func() {
			after, _ := json.Marshal(raw)
			if !bytes.Equal(before, after) {
				t.Fatal("validators mutated their input")
			}
		}()

		params, err := ValidateRtpParameters(raw)
		checkErrClass(t, err, false)
		if err == nil {
			checkIdempotent(t, params, func(v any) (any, error) { return ValidateRtpParameters(v) })
			if len(params.Encodings) == 0 {
				params.Encodings = []RtpEncodingParameters{{}}
			}
			routerCaps := fuzzRouterCaps(t)
			mapping, err := GetProducerRtpParametersMapping(params, routerCaps)
			checkErrClass(t, err, false)
			if err == nil {
				for _, kind := range []string{"audio", "video"} {
					consumable := GetConsumableRtpParameters(kind, params, routerCaps, mapping)
					remote, err := ValidateRtpCapabilities(decode(t, mustMarshal(t, routerCaps)))
					if err != nil {
						t.Fatal(err)
					}
					// Note: like mediasoup, CanConsume may say false while a
					// consumer can still be built (when an orphan RTX codec
					// matches first), so the two are not cross-checked.
					_, err = CanConsume(consumable, remote)
					checkErrClass(t, err, false)
					for _, pipe := range []bool{false, true} {
						for _, rtx := range []bool{false, true} {
							consumer, err := GetConsumerRtpParameters(consumable, remote, pipe, rtx)
							checkErrClass(t, err, false)
							if err == nil {
								mustMarshal(t, consumer)
							}
						}
						mustMarshal(t, GetPipeConsumerRtpParameters(consumable, pipe))
					}
				}
			}
		}

		caps, err := ValidateRtpCapabilities(raw)
		checkErrClass(t, err, false)
		if err == nil {
			checkIdempotent(t, caps, func(v any) (any, error) { return ValidateRtpCapabilities(v) })
		}

		codec, err := ValidateRtpCodecCapability(raw)
		checkErrClass(t, err, false)
		if err == nil {
			checkIdempotent(t, codec, func(v any) (any, error) { return ValidateRtpCodecCapability(v) })
		}

		sctp, err := ValidateSctpStreamParameters(raw)
		checkErrClass(t, err, false)
		if err == nil {
			checkIdempotent(t, sctp, func(v any) (any, error) { return ValidateSctpStreamParameters(v) })
		}

		routerCaps, err := GenerateRouterRtpCapabilities(raw)
		checkErrClass(t, err, true)
		if err == nil {
			if _, err := ValidateRtpCapabilities(decode(t, mustMarshal(t, routerCaps))); err != nil {
				t.Fatalf("router caps do not validate: %v", err)
			}
		}
		if m, ok := raw.(map[string]any); ok {
			if c, ok := m["codecs"]; ok {
				_, err := GenerateRouterRtpCapabilities(c)
				checkErrClass(t, err, true)
			}
		}
	})
}
