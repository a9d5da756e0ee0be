package ortc

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// The encodings the ORTC types had before jsonenc.go (encoding/json over
// shape structs): the reference the direct encoders must match byte for
// byte.

type refCodecCap RtpCodecCapability

func (c refCodecCap) MarshalJSON() ([]byte, error) {
	aux := codecCapabilityJSON{
		Kind: c.Kind, MimeType: c.MimeType, PreferredPayloadType: c.PreferredPayloadType,
		ClockRate: c.ClockRate, Parameters: refParams(c.Parameters), RtcpFeedback: refFeedback(c.RtcpFeedback),
	}
	if isAudioMimeType(c.MimeType) {
		ch := c.Channels
		aux.Channels = &ch
	}
	return json.Marshal(aux)
}

type refCodecParams RtpCodecParameters

func (c refCodecParams) MarshalJSON() ([]byte, error) {
	aux := codecParametersJSON{
		MimeType: c.MimeType, PayloadType: c.PayloadType, ClockRate: c.ClockRate,
		Parameters: refParams(c.Parameters), RtcpFeedback: refFeedback(c.RtcpFeedback),
	}
	if isAudioMimeType(c.MimeType) {
		ch := c.Channels
		aux.Channels = &ch
	}
	return json.Marshal(aux)
}

type refHdrExt struct {
	Uri        string         `json:"uri"`
	Id         int            `json:"id"`
	Encrypt    bool           `json:"encrypt"`
	Parameters map[string]any `json:"parameters"`
}

func refParams(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return p
}

func refFeedback(f []RtcpFeedback) []RtcpFeedback {
	if f == nil {
		return []RtcpFeedback{}
	}
	return f
}

func refCaps(c *RtpCapabilities) any {
	out := struct {
		Codecs           []refCodecCap        `json:"codecs"`
		HeaderExtensions []RtpHeaderExtension `json:"headerExtensions"`
	}{Codecs: []refCodecCap{}, HeaderExtensions: []RtpHeaderExtension{}}
	for _, x := range c.Codecs {
		out.Codecs = append(out.Codecs, refCodecCap(x))
	}
	out.HeaderExtensions = append(out.HeaderExtensions, c.HeaderExtensions...)
	return out
}

func refRtpParams(p *RtpParameters) any {
	out := struct {
		Mid              string                  `json:"mid,omitempty"`
		Codecs           []refCodecParams        `json:"codecs"`
		HeaderExtensions []refHdrExt             `json:"headerExtensions"`
		Encodings        []RtpEncodingParameters `json:"encodings"`
		Rtcp             RtcpParameters          `json:"rtcp"`
		Msid             string                  `json:"msid,omitempty"`
	}{Mid: p.Mid, Codecs: []refCodecParams{}, HeaderExtensions: []refHdrExt{},
		Encodings: []RtpEncodingParameters{}, Rtcp: p.Rtcp, Msid: p.Msid}
	for _, x := range p.Codecs {
		out.Codecs = append(out.Codecs, refCodecParams(x))
	}
	for _, x := range p.HeaderExtensions {
		out.HeaderExtensions = append(out.HeaderExtensions, refHdrExt{x.Uri, x.Id, x.Encrypt, refParams(x.Parameters)})
	}
	out.Encodings = append(out.Encodings, p.Encodings...)
	return out
}

func refMapping(m *RtpMapping) any {
	out := struct {
		Codecs    []RtpMappingCodec    `json:"codecs"`
		Encodings []RtpMappingEncoding `json:"encodings"`
	}{Codecs: []RtpMappingCodec{}, Encodings: []RtpMappingEncoding{}}
	out.Codecs = append(out.Codecs, m.Codecs...)
	out.Encodings = append(out.Encodings, m.Encodings...)
	return out
}

// sameJSON checks that json.Marshal(got) and the direct encoding both equal
// json.Marshal(ref).
func sameJSON(t *testing.T, got any, direct func() ([]byte, error), ref any) {
	t.Helper()
	want, werr := json.Marshal(ref)
	b, err := json.Marshal(got)
	if (err != nil) != (werr != nil) {
		t.Fatalf("errors differ: %v / %v", err, werr)
	}
	if werr != nil {
		return
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("json.Marshal differs\n got: %s\nwant: %s", b, want)
	}
	d, err := direct()
	if err != nil || !bytes.Equal(d, want) {
		t.Fatalf("direct encoding differs (%v)\n got: %s\nwant: %s", err, d, want)
	}
}

var jsonTestStrings = []string{
	"", "a", "video/VP8", "audio/opus", "AUDIO/x", "<script>&amp;", `"quoted"\`, "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "\u2028\u2029", "é€😀", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "urn:ietf:params:rtp-hdrext:sdes:mid",
}

var jsonTestFloats = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 96, 90000, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789012345678,
	1.5e300, -2.5e-300, 0.1, 4294967295, math.MaxFloat64, math.SmallestNonzeroFloat64}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	return jsonTestStrings[r.IntN(len(jsonTestStrings))]
}

func randScalar(r *rand.Rand, depth int) any {
	switch r.IntN(12) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.IntN(2000) - 1000
	case 3:
		return int64(r.Uint64())
	case 4:
		return uint32(r.Uint32())
	case 5:
		return json.Number("1.50")
	case 6:
		if depth < 2 {
			return randParams(r, depth+1)
		}
		return "x"
	case 7:
		if depth < 2 {
			return []any{randScalar(r, depth+1), randScalar(r, depth+1)}
		}
		return []int{1, 2}
	case 8:
		return randString(r)
	case 9:
		return math.NaN()
	default:
		return jsonTestFloats[r.IntN(len(jsonTestFloats))] * float64(1+r.IntN(3))
	}
}

func randParams(r *rand.Rand, depth int) map[string]any {
	switch r.IntN(5) {
	case 0:
		return nil
	case 1:
		return map[string]any{}
	}
	m := map[string]any{}
	for n := r.IntN(6); n > 0; n-- {
		m[randString(r)] = randScalar(r, depth)
	}
	return m
}

func randFeedback(r *rand.Rand) []RtcpFeedback {
	if r.IntN(4) == 0 {
		return nil
	}
	out := []RtcpFeedback{}
	for n := r.IntN(4); n > 0; n-- {
		out = append(out, RtcpFeedback{Type: randString(r), Parameter: randString(r)})
	}
	return out
}

func randMime(r *rand.Rand) string {
	return []string{"audio/opus", "Audio/PCMU", "video/VP8", "video/rtx", "", "audio/", "x"}[r.IntN(7)]
}

func optInt(r *rand.Rand) *int {
	if r.IntN(2) == 0 {
		return nil
	}
	v := r.IntN(1<<20) - 10
	return &v
}

func optU32(r *rand.Rand) *uint32 {
	if r.IntN(2) == 0 {
		return nil
	}
	v := r.Uint32()
	return &v
}

func randRtpParams(r *rand.Rand) *RtpParameters {
	p := &RtpParameters{Mid: randString(r), Msid: randString(r),
		Rtcp: RtcpParameters{Cname: randString(r), ReducedSize: r.IntN(2) == 0}}
	if r.IntN(5) > 0 {
		p.Codecs = []RtpCodecParameters{}
		for n := r.IntN(4); n > 0; n-- {
			p.Codecs = append(p.Codecs, RtpCodecParameters{MimeType: randMime(r), PayloadType: r.IntN(200) - 10,
				ClockRate: r.IntN(100000), Channels: r.IntN(3), Parameters: randParams(r, 0), RtcpFeedback: randFeedback(r)})
		}
	}
	if r.IntN(5) > 0 {
		p.HeaderExtensions = []RtpHeaderExtensionParameters{}
		for n := r.IntN(4); n > 0; n-- {
			p.HeaderExtensions = append(p.HeaderExtensions, RtpHeaderExtensionParameters{Uri: randString(r),
				Id: r.IntN(300), Encrypt: r.IntN(2) == 0, Parameters: randParams(r, 0)})
		}
	}
	if r.IntN(5) > 0 {
		p.Encodings = []RtpEncodingParameters{}
		for n := r.IntN(4); n > 0; n-- {
			e := RtpEncodingParameters{Ssrc: optU32(r), CodecPayloadType: optInt(r), MaxBitrate: optInt(r)}
			if r.IntN(2) == 0 {
				e.Rid = randString(r)
			}
			if r.IntN(2) == 0 {
				e.ScalabilityMode = randString(r)
			}
			if r.IntN(2) == 0 {
				e.Rtx = &RtpEncodingRtx{Ssrc: r.Uint32()}
			}
			if r.IntN(2) == 0 {
				d := r.IntN(2) == 0
				e.Dtx = &d
			}
			p.Encodings = append(p.Encodings, e)
		}
	}
	return p
}

func randCaps(r *rand.Rand) *RtpCapabilities {
	c := &RtpCapabilities{}
	if r.IntN(5) > 0 {
		c.Codecs = []RtpCodecCapability{}
		for n := r.IntN(4); n > 0; n-- {
			c.Codecs = append(c.Codecs, RtpCodecCapability{Kind: randString(r), MimeType: randMime(r),
				PreferredPayloadType: optInt(r), ClockRate: r.IntN(100000), Channels: r.IntN(3),
				Parameters: randParams(r, 0), RtcpFeedback: randFeedback(r)})
		}
	}
	if r.IntN(5) > 0 {
		for n := r.IntN(4); n > 0; n-- {
			c.HeaderExtensions = append(c.HeaderExtensions, RtpHeaderExtension{Kind: randString(r), Uri: randString(r),
				PreferredId: r.IntN(300), PreferredEncrypt: r.IntN(2) == 0, Direction: randString(r)})
		}
	}
	return c
}

func randMapping(r *rand.Rand) *RtpMapping {
	m := &RtpMapping{}
	for n := r.IntN(4); n > 0; n-- {
		m.Codecs = append(m.Codecs, RtpMappingCodec{PayloadType: r.IntN(128), MappedPayloadType: r.IntN(128)})
	}
	for n := r.IntN(4); n > 0; n-- {
		e := RtpMappingEncoding{Ssrc: optU32(r), MappedSsrc: r.Uint32()}
		if r.IntN(2) == 0 {
			e.Rid = randString(r)
		}
		if r.IntN(2) == 0 {
			e.ScalabilityMode = randString(r)
		}
		m.Encodings = append(m.Encodings, e)
	}
	return m
}

func TestDirectJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		p := randRtpParams(r)
		sameJSON(t, p, func() ([]byte, error) { return p.AppendJSON(nil) }, refRtpParams(p))
		sameJSON(t, *p, func() ([]byte, error) { return p.AppendJSON([]byte{}) }, refRtpParams(p))
		c := randCaps(r)
		sameJSON(t, c, func() ([]byte, error) { return c.AppendJSON(nil) }, refCaps(c))
		m := randMapping(r)
		sameJSON(t, m, func() ([]byte, error) { return m.AppendJSON(nil) }, refMapping(m))
		v := randScalar(r, 0)
		sameJSON(t, v, func() ([]byte, error) { return AppendJSONValue(nil, v) }, v)
		resp := map[string]any{"rtpParameters": p, "caps": c, "mapping": m, "v": v, "type": "simple",
			"list": []any{*p, *c, *m, (*RtpParameters)(nil)}}
		sameJSON(t, resp, func() ([]byte, error) { return AppendJSONValue(nil, resp) },
			map[string]any{"rtpParameters": refRtpParams(p), "caps": refCaps(c), "mapping": refMapping(m), "v": v,
				"type": "simple", "list": []any{refRtpParams(p), refCaps(c), refMapping(m), nil}})
	}
	// Real values: router capabilities and the ORTC pipeline's outputs.
	caps := fuzzRouterCaps(t)
	sameJSON(t, caps, func() ([]byte, error) { return caps.AppendJSON(nil) }, refCaps(caps))
	sup := SupportedRtpCapabilities()
	sameJSON(t, sup, func() ([]byte, error) { return sup.AppendJSON(nil) }, refCaps(&sup))
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonTestStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

func FuzzAppendJSONFloat(f *testing.F) {
	for _, x := range jsonTestFloats {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, werr := json.Marshal(x)
		got, err := AppendJSONValue(nil, x)
		if (err != nil) != (werr != nil) || (err == nil && !bytes.Equal(got, want)) {
			t.Fatalf("%v: got %s (%v) want %s (%v)", x, got, err, want, werr)
		}
	})
}

func BenchmarkRtpParametersJSON(b *testing.B) {
	caps := mustRouterCaps(b, `[{"mimeType":"audio/opus","clockRate":48000,"channels":2},{"mimeType":"video/VP8","clockRate":90000},{"mimeType":"video/H264","clockRate":90000,"parameters":{"packetization-mode":1,"profile-level-id":"42e01f"}}]`)
	p := mustParams(b, `{"mid":"0","codecs":[{"mimeType":"video/VP8","payloadType":96,"clockRate":90000,
		"rtcpFeedback":[{"type":"goog-remb"},{"type":"transport-cc"},{"type":"ccm","parameter":"fir"},{"type":"nack"},{"type":"nack","parameter":"pli"}]},
		{"mimeType":"video/rtx","payloadType":97,"clockRate":90000,"parameters":{"apt":96}}],
		"headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":4},{"uri":"urn:3gpp:video-orientation","id":13}],
		"encodings":[{"ssrc":1234,"rtx":{"ssrc":1235}}],"rtcp":{"cname":"abc"}}`)
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(map[string]any{"rtpParameters": p, "caps": caps})
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 8192)
		for b.Loop() {
			buf, _ = p.AppendJSON(buf[:0])
			buf, _ = caps.AppendJSON(buf)
		}
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(map[string]any{"rtpParameters": refRtpParams(p), "caps": refCaps(caps)})
		}
	})
}
