// Package ortc implements mediasoup v3 (3.27.1) ORTC rules for gosfu: input
// validation and normalization of RTP capabilities, RTP parameters and SCTP
// stream parameters, router capability generation, producer-to-router
// mapping, and derivation of consumable, consumer and pipe-consumer RTP
// parameters.
//
// Inputs coming from JavaScript are passed raw (decoded by encoding/json into
// `any`) to the Validate* functions and GenerateRouterRtpCapabilities, which
// return typed, normalized values whose JSON encoding has the same shape as
// mediasoup's normalized objects. Errors are *TypeError, *UnsupportedError or
// plain errors, matching mediasoup's TypeError, UnsupportedError and Error,
// with identical messages (see JSErrorClass).
package ortc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// GenerateRandomSsrc returns a random number in mediasoup's range for
// generated SSRCs (and other random ids): [100000000, 999999999).
func GenerateRandomSsrc() uint32 {
	return uint32(100_000_000 + rand.IntN(899_999_999))
}

// IsRtxMimeType reports whether mimeType names an RTX codec (mediasoup's
// case-insensitive `.+/rtx$` rule).
func IsRtxMimeType(mimeType string) bool {
	if len(mimeType) < 5 || !strings.EqualFold(mimeType[len(mimeType)-4:], "/rtx") {
		return false
	}
	rs := []rune(mimeType[:len(mimeType)-4])
	return len(rs) > 0 && !isJSLineTerminator(rs[len(rs)-1])
}

// ParseScalabilityMode parses strings such as "L1T3", "S3T3" or "L3T3_KEY"
// (only a prefix has to match mediasoup's
// `^[LS]([1-9][0-9]?)T([1-9][0-9]?)(_KEY)?`). Anything else yields 1
// spatial layer, 1 temporal layer and no K-SVC.
func ParseScalabilityMode(s string) ScalabilityMode {
	if len(s) < 4 || (s[0] != 'L' && s[0] != 'S') {
		return ScalabilityMode{SpatialLayers: 1, TemporalLayers: 1}
	}
	spatial, i := layerCount(s, 1)
	if spatial == 0 || i >= len(s) || s[i] != 'T' {
		return ScalabilityMode{SpatialLayers: 1, TemporalLayers: 1}
	}
	temporal, i := layerCount(s, i+1)
	if temporal == 0 {
		return ScalabilityMode{SpatialLayers: 1, TemporalLayers: 1}
	}
	return ScalabilityMode{SpatialLayers: spatial, TemporalLayers: temporal, Ksvc: strings.HasPrefix(s[i:], "_KEY")}
}

// layerCount reads `[1-9][0-9]?` at s[i:]: the number (0 if none) and the
// index after it.
func layerCount(s string, i int) (int, int) {
	if i >= len(s) || s[i] < '1' || s[i] > '9' {
		return 0, i
	}
	n := int(s[i] - '0')
	i++
	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, i
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// codecView is the part of a codec (capability or parameters) that codec
// matching looks at.
type codecView struct {
	mimeType  string
	clockRate int
	channels  int
	params    map[string]any
}

func capView(c *RtpCodecCapability) codecView {
	return codecView{c.MimeType, c.ClockRate, c.Channels, c.Parameters}
}

func paramView(c *RtpCodecParameters) codecView {
	return codecView{c.MimeType, c.ClockRate, c.Channels, c.Parameters}
}

// paramEqual compares a codec parameter of both codecs with ===.
func paramEqual(a, b map[string]any, key string) bool {
	va, aok := a[key]
	vb, bok := b[key]
	return jsStrictEqual(va, aok, vb, bok)
}

// paramOrZero returns `params[key] || 0`.
func paramOrZero(params map[string]any, key string) any {
	v, ok := params[key]
	if truthy(v, ok) {
		return v
	}
	return float64(0)
}

// matchCodecs decides whether codec a matches codec b. Non-strict matching
// (router generation) compares mime type, clock rate, channels and, for
// multiopus, the stream layout. Strict matching also requires equal H264
// packetization-mode and profile (with a computable answer level) and equal
// VP9 profile-id. With modify, a's H264 profile-level-id is rewritten to the
// answer (or removed when there is none).
func matchCodecs(a, b codecView, strict, modify bool) bool {
	aMime := a.mimeType
	if isASCII(a.mimeType) && isASCII(b.mimeType) {
		// What the lower-cased comparison gives, without allocating.
		if len(a.mimeType) != len(b.mimeType) || !asciiEqualFold(a.mimeType, b.mimeType) {
			return false
		}
	} else {
		aMime = strings.ToLower(a.mimeType)
		if aMime != strings.ToLower(b.mimeType) {
			return false
		}
	}
	if a.clockRate != b.clockRate || a.channels != b.channels {
		return false
	}
	// aMime is a.mimeType lower-cased or ASCII: compare case-insensitively.
	is := func(lower string) bool { return len(aMime) == len(lower) && asciiEqualFold(aMime, lower) }
	switch {
	case is("audio/multiopus"):
		if !paramEqual(a.params, b.params, "num_streams") ||
			!paramEqual(a.params, b.params, "coupled_streams") {
			return false
		}
	case is("video/h264"):
		if !strict {
			break
		}
		if !jsStrictEqual(paramOrZero(a.params, "packetization-mode"), true,
			paramOrZero(b.params, "packetization-mode"), true) {
			return false
		}
		if !h264IsSameProfile(a.params, b.params) {
			return false
		}
		answer, ok, err := h264AnswerProfileLevelId(a.params, b.params)
		if err != nil {
			return false
		}
		if modify && a.params != nil {
			if ok && answer != "" {
				a.params["profile-level-id"] = answer
			} else {
				delete(a.params, "profile-level-id")
			}
		}
	case is("video/vp9"):
		if !strict {
			break
		}
		if !jsStrictEqual(paramOrZero(a.params, "profile-id"), true,
			paramOrZero(b.params, "profile-id"), true) {
			return false
		}
	}
	return true
}

// GenerateRouterRtpCapabilities builds a router's RTP capabilities from the
// raw `mediaCodecs` array given to createRouter() (nil means none). Each
// media codec is validated, matched against SupportedRtpCapabilities()
// (mime type, clock rate, channels, multiopus layout), takes its payload type
// (its own preferredPayloadType, else the supported static one, else the next
// free dynamic one), gets the merged parameters and the supported
// rtcpFeedback, and every video codec is followed by its RTX codec. All
// supported header extensions are included.
//
// Errors: *TypeError for invalid input or a duplicated payload type,
// *UnsupportedError for an unsupported codec, a plain error when dynamic
// payload types run out.
func GenerateRouterRtpCapabilities(mediaCodecs any) (*RtpCapabilities, error) {
	var list []any
	if mediaCodecs != nil {
		arr, ok := asArray(mediaCodecs)
		if !ok {
			return nil, typeErr("mediaCodecs must be an Array")
		}
		list = arr
	}
	supported := SupportedRtpCapabilities()
	dynamic := slices.Clone(dynamicPayloadTypes)
	caps := &RtpCapabilities{
		Codecs:           []RtpCodecCapability{},
		HeaderExtensions: supported.HeaderExtensions,
	}
	takeDynamic := func() (int, error) {
		if len(dynamic) == 0 {
			return 0, errors.New("cannot allocate more dynamic codec payload types")
		}
		pt := dynamic[0]
		dynamic = dynamic[1:]
		return pt, nil
	}

	for _, raw := range list {
		mediaCodec, err := validateCodecCapability(raw, true)
		if err != nil {
			return nil, err
		}
		var matched *RtpCodecCapability
		for i := range supported.Codecs {
			if matchCodecs(capView(mediaCodec), capView(&supported.Codecs[i]), false, false) {
				matched = &supported.Codecs[i]
				break
			}
		}
		if matched == nil {
			return nil, unsupportedErr(fmt.Sprintf("media codec not supported [mimeType:%s]", mediaCodec.MimeType))
		}
		codec := matched.Clone()

		switch {
		case mediaCodec.PreferredPayloadType != nil:
			pt := *mediaCodec.PreferredPayloadType
			codec.PreferredPayloadType = &pt
			if idx := slices.Index(dynamic, pt); idx >= 0 {
				dynamic = slices.Delete(dynamic, idx, idx+1)
			}
		case codec.PreferredPayloadType != nil:
			// Static payload type of the supported codec.
		default:
			pt, err := takeDynamic()
			if err != nil {
				return nil, err
			}
			codec.PreferredPayloadType = &pt
		}

		for _, c := range caps.Codecs {
			if *c.PreferredPayloadType == *codec.PreferredPayloadType {
				return nil, typeErr("duplicated codec.preferredPayloadType")
			}
		}

		for k, v := range mediaCodec.Parameters {
			codec.Parameters[k] = v
		}
		caps.Codecs = append(caps.Codecs, codec)

		if codec.Kind == "video" {
			pt, err := takeDynamic()
			if err != nil {
				return nil, err
			}
			caps.Codecs = append(caps.Codecs, RtpCodecCapability{
				Kind:                 codec.Kind,
				MimeType:             codec.Kind + "/rtx",
				PreferredPayloadType: &pt,
				ClockRate:            codec.ClockRate,
				Parameters:           map[string]any{"apt": float64(*codec.PreferredPayloadType)},
				RtcpFeedback:         []RtcpFeedback{},
			})
		}
	}
	return caps, nil
}

// ptValue returns a capability codec's preferredPayloadType as a JS value.
func ptValue(c *RtpCodecCapability) (any, bool) {
	if c.PreferredPayloadType == nil {
		return nil, false
	}
	return float64(*c.PreferredPayloadType), true
}

func ptString(c *RtpCodecCapability) string {
	if c.PreferredPayloadType == nil {
		return "undefined"
	}
	return strconv.Itoa(*c.PreferredPayloadType)
}

// GetProducerRtpParametersMapping maps a Producer's (validated) RTP parameters
// onto the router capabilities: each media codec must strictly match a router
// codec and each RTX codec needs its media codec (by apt) and a router RTX
// codec for it. Codec mappings list media codecs first, then RTX codecs, in
// parameter order. Encodings get consecutive mapped SSRCs from a random base.
//
// Like mediasoup, it rewrites the H264 profile-level-id of params' codecs to
// the negotiated answer value (in place), so pass the same params to
// GetConsumableRtpParameters afterwards.
//
// Errors: *UnsupportedError for an unsupported codec or a missing router RTX
// codec, *TypeError for an RTX codec whose apt matches no codec.
func GetProducerRtpParametersMapping(params *RtpParameters, caps *RtpCapabilities) (*RtpMapping, error) {
	if params == nil {
		return nil, typeErr("params is not an object")
	}
	if caps == nil {
		caps = &RtpCapabilities{}
	}
	mapping := &RtpMapping{Codecs: []RtpMappingCodec{}, Encodings: []RtpMappingEncoding{}}
	capIdx := make([]int, len(params.Codecs))
	for i := range capIdx {
		capIdx[i] = -1
	}
	var order []int

	for i := range params.Codecs {
		codec := &params.Codecs[i]
		if IsRtxMimeType(codec.MimeType) {
			continue
		}
		if codec.Parameters == nil {
			codec.Parameters = map[string]any{}
		}
		for j := range caps.Codecs {
			if matchCodecs(paramView(codec), capView(&caps.Codecs[j]), true, true) {
				capIdx[i] = j
				break
			}
		}
		if capIdx[i] < 0 {
			return nil, unsupportedErr(fmt.Sprintf("unsupported codec [mimeType:%s, payloadType:%d]", codec.MimeType, codec.PayloadType))
		}
		order = append(order, i)
	}

	for i := range params.Codecs {
		codec := &params.Codecs[i]
		if !IsRtxMimeType(codec.MimeType) {
			continue
		}
		apt, aptOk := codec.Parameters["apt"]
		assoc := -1
		for k := range params.Codecs {
			if jsStrictEqual(float64(params.Codecs[k].PayloadType), true, apt, aptOk) {
				assoc = k
				break
			}
		}
		if assoc < 0 {
			return nil, typeErr(fmt.Sprintf("missing media codec found for RTX PT %d", codec.PayloadType))
		}
		if capIdx[assoc] < 0 {
			// mediasoup dereferences an undefined entry here.
			return nil, typeErr("Cannot read properties of undefined (reading 'preferredPayloadType')")
		}
		capMedia := &caps.Codecs[capIdx[assoc]]
		pt, ptOk := ptValue(capMedia)
		for j := range caps.Codecs {
			capCodec := &caps.Codecs[j]
			capApt, capAptOk := capCodec.Parameters["apt"]
			if IsRtxMimeType(capCodec.MimeType) && jsStrictEqual(capApt, capAptOk, pt, ptOk) {
				capIdx[i] = j
				break
			}
		}
		if capIdx[i] < 0 {
			return nil, unsupportedErr("no RTX codec for capability codec PT " + ptString(capMedia))
		}
		order = append(order, i)
	}

	for _, i := range order {
		mapped := 0
		if pt := caps.Codecs[capIdx[i]].PreferredPayloadType; pt != nil {
			mapped = *pt
		}
		mapping.Codecs = append(mapping.Codecs, RtpMappingCodec{
			PayloadType:       params.Codecs[i].PayloadType,
			MappedPayloadType: mapped,
		})
	}

	mappedSsrc := GenerateRandomSsrc()
	for _, enc := range params.Encodings {
		m := RtpMappingEncoding{
			Rid:             enc.Rid,
			ScalabilityMode: enc.ScalabilityMode,
			MappedSsrc:      mappedSsrc,
		}
		if enc.Ssrc != nil {
			v := *enc.Ssrc
			m.Ssrc = &v
		}
		mapping.Encodings = append(mapping.Encodings, m)
		mappedSsrc++
	}
	return mapping, nil
}

// GetConsumableRtpParameters derives the RTP parameters that consumers of a
// Producer are built from: router payload types, router codec names and
// rtcpFeedback with the Producer's codec parameters, the router's RTX codecs,
// the router header extensions of this kind that mediasoup can send
// (abs-capture-time only if the Producer uses it), the Producer encodings
// without rid/rtx/codecPayloadType and with mapped SSRCs, the Producer cname
// and msid. params and mapping must come from GetProducerRtpParametersMapping
// with the same caps; entries without a mapping are skipped.
func GetConsumableRtpParameters(kind string, params *RtpParameters, caps *RtpCapabilities, mapping *RtpMapping) *RtpParameters {
	out := &RtpParameters{
		Codecs:           []RtpCodecParameters{},
		HeaderExtensions: []RtpHeaderExtensionParameters{},
		Encodings:        []RtpEncodingParameters{},
		Rtcp:             RtcpParameters{ReducedSize: true},
	}
	if params == nil {
		return out
	}
	if caps == nil {
		caps = &RtpCapabilities{}
	}
	if mapping == nil {
		mapping = &RtpMapping{}
	}

	for _, codec := range params.Codecs {
		if IsRtxMimeType(codec.MimeType) {
			continue
		}
		mi := slices.IndexFunc(mapping.Codecs, func(m RtpMappingCodec) bool { return m.PayloadType == codec.PayloadType })
		if mi < 0 {
			continue
		}
		mappedPt := mapping.Codecs[mi].MappedPayloadType
		ci := slices.IndexFunc(caps.Codecs, func(c RtpCodecCapability) bool {
			return c.PreferredPayloadType != nil && *c.PreferredPayloadType == mappedPt
		})
		if ci < 0 {
			continue
		}
		capCodec := &caps.Codecs[ci]
		consumable := RtpCodecParameters{
			MimeType:     capCodec.MimeType,
			PayloadType:  mappedPt,
			ClockRate:    capCodec.ClockRate,
			Channels:     capCodec.Channels,
			Parameters:   cloneParams(codec.Parameters),
			RtcpFeedback: cloneFeedback(capCodec.RtcpFeedback),
		}
		out.Codecs = append(out.Codecs, consumable)

		for j := range caps.Codecs {
			rtx := &caps.Codecs[j]
			apt, aptOk := rtx.Parameters["apt"]
			if IsRtxMimeType(rtx.MimeType) && jsStrictEqual(apt, aptOk, float64(mappedPt), true) {
				pt := 0
				if rtx.PreferredPayloadType != nil {
					pt = *rtx.PreferredPayloadType
				}
				out.Codecs = append(out.Codecs, RtpCodecParameters{
					MimeType:     rtx.MimeType,
					PayloadType:  pt,
					ClockRate:    rtx.ClockRate,
					Parameters:   cloneParams(rtx.Parameters),
					RtcpFeedback: cloneFeedback(rtx.RtcpFeedback),
				})
				break
			}
		}
	}

	for _, capExt := range caps.HeaderExtensions {
		if capExt.Kind != kind || (capExt.Direction != "sendrecv" && capExt.Direction != "sendonly") {
			continue
		}
		// abs-capture-time is only forwarded from the Producer's packets, so
		// it is not announced unless the Producer negotiated it.
		if capExt.Uri == UriAbsCaptureTime && !slices.ContainsFunc(params.HeaderExtensions,
			func(e RtpHeaderExtensionParameters) bool { return e.Uri == capExt.Uri }) {
			continue
		}
		out.HeaderExtensions = append(out.HeaderExtensions, RtpHeaderExtensionParameters{
			Uri:        capExt.Uri,
			Id:         capExt.PreferredId,
			Encrypt:    capExt.PreferredEncrypt,
			Parameters: map[string]any{},
		})
	}

	for i, enc := range params.Encodings {
		c := enc.Clone()
		c.Rid = ""
		c.Rtx = nil
		c.CodecPayloadType = nil
		c.Ssrc = nil
		if i < len(mapping.Encodings) {
			v := mapping.Encodings[i].MappedSsrc
			c.Ssrc = &v
		}
		out.Encodings = append(out.Encodings, c)
	}

	out.Rtcp = RtcpParameters{Cname: params.Rtcp.Cname, ReducedSize: true}
	out.Msid = params.Msid
	return out
}

// CanConsume reports whether an endpoint with the given (validated) RTP
// capabilities can consume a Producer with the given consumable parameters:
// the first consumable codec strictly matched by the capabilities must be a
// media codec. A nil caps yields false and the TypeError mediasoup raises.
func CanConsume(consumable *RtpParameters, caps *RtpCapabilities) (bool, error) {
	if caps == nil {
		return false, typeErr("caps is not an object")
	}
	if consumable == nil {
		return false, nil
	}
	for i := range consumable.Codecs {
		codec := &consumable.Codecs[i]
		for j := range caps.Codecs {
			if matchCodecs(capView(&caps.Codecs[j]), paramView(codec), true, false) {
				// The first matching codec decides.
				return !IsRtxMimeType(codec.MimeType), nil
			}
		}
	}
	return false, nil
}

// findByApt reports whether codecs has a codec whose payload type equals the
// RTX codec's apt parameter.
func findByApt(codecs []RtpCodecParameters, rtx *RtpCodecParameters) bool {
	apt, ok := rtx.Parameters["apt"]
	for i := range codecs {
		if jsStrictEqual(float64(codecs[i].PayloadType), true, apt, ok) {
			return true
		}
	}
	return false
}

// GetConsumerRtpParameters derives a Consumer's RTP parameters from the
// Producer's consumable parameters and the consuming endpoint's (validated)
// RTP capabilities:
//   - codecs are reduced to those the endpoint strictly matches (RTX only
//     when enableRtx), each taking the endpoint's rtcpFeedback (plain "nack"
//     dropped unless enableRtx); RTX codecs whose media codec was dropped are
//     removed;
//   - header extensions are reduced to those the endpoint has with the same
//     id and uri; then transport-cc feedback is kept if the transport-wide-cc
//     extension survived (goog-remb dropped), else goog-remb if abs-send-time
//     survived (transport-cc dropped), else both are dropped;
//   - without pipe: one encoding with a random SSRC (RTX SSRC = SSRC+1 when an
//     RTX codec survived), the scalabilityMode of the first producer encoding
//     having one (rewritten to L<encodings>T<temporal> for simulcast) and the
//     highest maxBitrate;
//   - with pipe: all consumable encodings with consecutive random SSRCs (and
//     RTX SSRCs when an RTX codec survived).
//
// rtcp and msid are copied from the consumable parameters; mid is left empty
// for the caller. Errors: *UnsupportedError "no compatible media codecs",
// *TypeError when remoteCaps is nil.
func GetConsumerRtpParameters(consumable *RtpParameters, remoteCaps *RtpCapabilities, pipe bool, enableRtx bool) (*RtpParameters, error) {
	if consumable == nil {
		consumable = &RtpParameters{}
	}
	if remoteCaps == nil {
		return nil, typeErr("caps is not an object")
	}
	out := &RtpParameters{
		Codecs:           []RtpCodecParameters{},
		HeaderExtensions: []RtpHeaderExtensionParameters{},
		Encodings:        []RtpEncodingParameters{},
		Rtcp:             consumable.Rtcp,
		Msid:             consumable.Msid,
	}

	for i := range consumable.Codecs {
		src := &consumable.Codecs[i]
		if !enableRtx && IsRtxMimeType(src.MimeType) {
			continue
		}
		var matched *RtpCodecCapability
		for j := range remoteCaps.Codecs {
			if matchCodecs(capView(&remoteCaps.Codecs[j]), paramView(src), true, false) {
				matched = &remoteCaps.Codecs[j]
				break
			}
		}
		if matched == nil {
			continue
		}
		codec := src.Clone()
		codec.RtcpFeedback = []RtcpFeedback{}
		for _, fb := range matched.RtcpFeedback {
			if enableRtx || fb.Type != "nack" || fb.Parameter != "" {
				codec.RtcpFeedback = append(codec.RtcpFeedback, fb)
			}
		}
		out.Codecs = append(out.Codecs, codec)
	}

	rtxSupported := false
	for idx := len(out.Codecs) - 1; idx >= 0; idx-- {
		codec := &out.Codecs[idx]
		if !IsRtxMimeType(codec.MimeType) {
			continue
		}
		if findByApt(out.Codecs, codec) {
			rtxSupported = true
		} else {
			out.Codecs = slices.Delete(out.Codecs, idx, idx+1)
		}
	}

	if len(out.Codecs) == 0 || IsRtxMimeType(out.Codecs[0].MimeType) {
		return nil, unsupportedErr("no compatible media codecs")
	}

	for _, ext := range consumable.HeaderExtensions {
		if slices.ContainsFunc(remoteCaps.HeaderExtensions, func(c RtpHeaderExtension) bool {
			return c.PreferredId == ext.Id && c.Uri == ext.Uri
		}) {
			out.HeaderExtensions = append(out.HeaderExtensions, ext.Clone())
		}
	}

	hasExt := func(uri string) bool {
		return slices.ContainsFunc(out.HeaderExtensions, func(e RtpHeaderExtensionParameters) bool { return e.Uri == uri })
	}
	var drop func(fb RtcpFeedback) bool
	switch {
	case hasExt(UriTransportWideCc01):
		drop = func(fb RtcpFeedback) bool { return fb.Type == "goog-remb" }
	case hasExt(UriAbsSendTime):
		drop = func(fb RtcpFeedback) bool { return fb.Type == "transport-cc" }
	default:
		drop = func(fb RtcpFeedback) bool { return fb.Type == "transport-cc" || fb.Type == "goog-remb" }
	}
	for i := range out.Codecs {
		out.Codecs[i].RtcpFeedback = slices.DeleteFunc(out.Codecs[i].RtcpFeedback, drop)
	}

	if !pipe {
		ssrc := GenerateRandomSsrc()
		enc := RtpEncodingParameters{Ssrc: &ssrc}
		if rtxSupported {
			enc.Rtx = &RtpEncodingRtx{Ssrc: ssrc + 1}
		}
		scalabilityMode := ""
		for _, e := range consumable.Encodings {
			if e.ScalabilityMode != "" {
				scalabilityMode = e.ScalabilityMode
				break
			}
		}
		if n := len(consumable.Encodings); n > 1 {
			temporal := ParseScalabilityMode(scalabilityMode).TemporalLayers
			scalabilityMode = fmt.Sprintf("L%dT%d", n, temporal)
		}
		enc.ScalabilityMode = scalabilityMode
		maxBitrate := 0
		for _, e := range consumable.Encodings {
			if e.MaxBitrate != nil && *e.MaxBitrate > maxBitrate {
				maxBitrate = *e.MaxBitrate
			}
		}
		if maxBitrate != 0 {
			enc.MaxBitrate = &maxBitrate
		}
		out.Encodings = append(out.Encodings, enc)
	} else {
		out.Encodings = renumberEncodings(consumable.Encodings, rtxSupported)
	}
	return out, nil
}

// renumberEncodings clones encodings giving them consecutive random SSRCs and,
// when withRtx, consecutive random RTX SSRCs (else no rtx).
func renumberEncodings(encodings []RtpEncodingParameters, withRtx bool) []RtpEncodingParameters {
	out := []RtpEncodingParameters{}
	baseSsrc := GenerateRandomSsrc()
	baseRtxSsrc := GenerateRandomSsrc()
	for i, e := range encodings {
		c := e.Clone()
		ssrc := baseSsrc + uint32(i)
		c.Ssrc = &ssrc
		if withRtx {
			c.Rtx = &RtpEncodingRtx{Ssrc: baseRtxSsrc + uint32(i)}
		} else {
			c.Rtx = nil
		}
		out = append(out, c)
	}
	return out
}

// pipeDependencyDescriptorExtension is the Dependency Descriptor extension
// that pipe consumers always announce: it is receive-only in the router
// capabilities, hence absent from consumable parameters.
func pipeDependencyDescriptorExtension() (RtpHeaderExtensionParameters, bool) {
	e, ok := pipeDDExtension()
	e.Parameters = map[string]any{}
	return e, ok
}

// pipeDDExtension looks the extension up once (SupportedRtpCapabilities
// builds the whole table).
var pipeDDExtension = sync.OnceValues(func() (RtpHeaderExtensionParameters, bool) {
	for _, e := range SupportedRtpCapabilities().HeaderExtensions {
		if e.Uri == UriDependencyDescriptor && e.Direction != "sendrecv" {
			return RtpHeaderExtensionParameters{Uri: e.Uri, Id: e.PreferredId, Encrypt: e.PreferredEncrypt}, true
		}
	}
	return RtpHeaderExtensionParameters{}, false
})

// GetPipeConsumerRtpParameters derives the RTP parameters of a Consumer on a
// PipeTransport: all consumable codecs (RTX only when enableRtx) with their
// rtcpFeedback reduced to "nack pli", "ccm fir" and (with enableRtx) plain
// "nack"; header extensions without MID, abs-send-time and transport-wide-cc,
// plus the Dependency Descriptor extension (for audio too, as mediasoup does
// once any router exists), sorted by id; all encodings with
// consecutive random SSRCs (and RTX SSRCs when enableRtx). mid is not set.
func GetPipeConsumerRtpParameters(consumable *RtpParameters, enableRtx bool) *RtpParameters {
	if consumable == nil {
		consumable = &RtpParameters{}
	}
	out := &RtpParameters{
		Codecs:           []RtpCodecParameters{},
		HeaderExtensions: []RtpHeaderExtensionParameters{},
		Rtcp:             consumable.Rtcp,
		Msid:             consumable.Msid,
	}
	for _, src := range consumable.Codecs {
		if !enableRtx && IsRtxMimeType(src.MimeType) {
			continue
		}
		codec := src.Clone()
		codec.RtcpFeedback = slices.DeleteFunc(codec.RtcpFeedback, func(fb RtcpFeedback) bool {
			keep := (fb.Type == "nack" && fb.Parameter == "pli") ||
				(fb.Type == "ccm" && fb.Parameter == "fir") ||
				(enableRtx && fb.Type == "nack" && fb.Parameter == "")
			return !keep
		})
		out.Codecs = append(out.Codecs, codec)
	}
	for _, ext := range consumable.HeaderExtensions {
		if ext.Uri == UriMid || ext.Uri == UriAbsSendTime || ext.Uri == UriTransportWideCc01 {
			continue
		}
		out.HeaderExtensions = append(out.HeaderExtensions, ext.Clone())
	}
	if dd, ok := pipeDependencyDescriptorExtension(); ok {
		out.HeaderExtensions = append(out.HeaderExtensions, dd)
		sort.SliceStable(out.HeaderExtensions, func(i, j int) bool {
			return out.HeaderExtensions[i].Id < out.HeaderExtensions[j].Id
		})
	}
	out.Encodings = renumberEncodings(consumable.Encodings, enableRtx)
	return out
}
