package ortc

// Validators. Each one takes the raw value decoded from JSON (`any`), never
// modifies it, and returns a freshly built, normalized typed value. The checks,
// their order, the defaults and the error classes/messages follow mediasoup's
// validateAndNormalize* functions.

import (
	"math"
	"strings"
)

// Ranges of the numbers that reach the engine's fixed-width fields. Numbers
// outside them (or not integers) are refused with a TypeError naming the
// field, where mediasoup would wrap or truncate them.
const (
	maxPayloadType  = 127            // 7-bit RTP payload type
	maxClockRate    = math.MaxUint32 // uint32 in mediasoup
	maxChannels     = 255            // uint8 in mediasoup
	maxExtensionId  = 255            // two-byte header extensions
	maxSctpStreamId = 65534          // mediasoup's own limit
	maxUint16       = 65535
	maxSafeInteger  = 1<<53 - 1 // Number.MAX_SAFE_INTEGER
)

// numberIn reads the JS number v (typeof v === 'number' already checked) as
// an int when it is an integer in [lo, hi]; otherwise it returns
// TypeError(msg).
func numberIn(v any, lo, hi float64, msg string) (int, error) {
	f, _ := toNumber(v)
	if !intIn(f, lo, hi) {
		return 0, typeErr(msg)
	}
	return int(f), nil
}

// mimeTypeKind checks a mimeType against mediasoup's `^(audio|video)/(.+)`
// (case-insensitive) rule and returns the lower-cased media kind.
func mimeTypeKind(mimeType string) (string, bool) {
	if len(mimeType) < 7 {
		return "", false
	}
	kind := strings.ToLower(mimeType[:5])
	if kind != "audio" && kind != "video" {
		// ToLower of a non-ASCII prefix can never produce these anyway.
		return "", false
	}
	for i := 0; i < 5; i++ {
		if mimeType[i] >= 0x80 {
			return "", false
		}
	}
	if mimeType[5] != '/' {
		return "", false
	}
	// At least one character that `.` matches must follow the slash.
	for _, r := range mimeType[6:] {
		return kind, !isJSLineTerminator(r)
	}
	return "", false
}

// ValidateRtpCapabilities validates and normalizes RTP capabilities (as given
// by an endpoint to consume, or to canConsume). Missing arrays become empty,
// codecs and header extensions get their defaults. A nil raw value is treated
// as `undefined`.
func ValidateRtpCapabilities(raw any) (*RtpCapabilities, error) {
	if typeOf(raw, raw != nil) != kindObject {
		return nil, typeErr("caps is not an object")
	}
	caps := &RtpCapabilities{
		Codecs:           []RtpCodecCapability{},
		HeaderExtensions: []RtpHeaderExtension{},
	}

	var err error
	if caps.Codecs, err = optionalArray(raw, "codecs", "caps.codecs", caps.Codecs,
		func(v any) (*RtpCodecCapability, error) { return validateCodecCapability(v, true) }); err != nil {
		return nil, err
	}
	if caps.HeaderExtensions, err = optionalArray(raw, "headerExtensions", "caps.headerExtensions", caps.HeaderExtensions,
		func(v any) (*RtpHeaderExtension, error) { return validateHeaderExtension(v, true) }); err != nil {
		return nil, err
	}
	return caps, nil
}

// optionalArray validates raw[key] when it is set (truthy, as mediasoup's
// `if (x)` checks): it must be an array, each item validated by validate
// and appended to out. name is the path used in the error message.
func optionalArray[T any](raw any, key, name string, out []T, validate func(any) (*T, error)) ([]T, error) {
	v, ok := prop(raw, key)
	if !truthy(v, ok) {
		return out, nil
	}
	arr, isArr := asArray(v)
	if !isArr {
		return nil, typeErr(name + " is not an array")
	}
	for _, item := range arr {
		x, err := validate(item)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, nil
}

// ValidateRtpCodecCapability validates and normalizes a single codec
// capability (e.g. one entry of a router's mediaCodecs): kind is derived from
// mimeType, channels defaults to 1 for audio (dropped for video), parameters
// defaults to {} and rtcpFeedback to []. PreferredPayloadType is nil unless
// given as a number. A nil raw value is treated as `undefined`.
func ValidateRtpCodecCapability(raw any) (*RtpCodecCapability, error) {
	return validateCodecCapability(raw, false)
}

// validateCodecCapability: inArray tells that raw is an array element, where
// nil is JSON null rather than undefined.
func validateCodecCapability(raw any, inArray bool) (*RtpCodecCapability, error) {
	if typeOf(raw, inArray || raw != nil) != kindObject {
		return nil, typeErr("codec is not an object")
	}
	if raw == nil {
		return nil, nullPropErr("mimeType")
	}
	mimeType, ok := prop(raw, "mimeType")
	if !truthy(mimeType, ok) || typeOf(mimeType, ok) != kindString {
		return nil, typeErr("missing codec.mimeType")
	}
	mime := mimeType.(string)
	kind, valid := mimeTypeKind(mime)
	if !valid {
		return nil, typeErr("invalid codec.mimeType")
	}
	codec := &RtpCodecCapability{Kind: kind, MimeType: mime}

	ppt, ok := prop(raw, "preferredPayloadType")
	if typeOf(ppt, ok) == kindNumber {
		pt, err := numberIn(ppt, 0, maxPayloadType, "invalid codec.preferredPayloadType")
		if err != nil {
			return nil, err
		}
		codec.PreferredPayloadType = &pt
	} else if truthy(ppt, ok) {
		return nil, typeErr("invalid codec.preferredPayloadType")
	}

	clockRate, ok := prop(raw, "clockRate")
	if typeOf(clockRate, ok) != kindNumber {
		return nil, typeErr("missing codec.clockRate")
	}
	var err error
	if codec.ClockRate, err = numberIn(clockRate, 0, maxClockRate, "invalid codec.clockRate"); err != nil {
		return nil, err
	}

	if kind == "audio" {
		if codec.Channels, err = normalizedChannels(raw); err != nil {
			return nil, err
		}
	}

	params, err := validateCodecParametersMap(raw)
	if err != nil {
		return nil, err
	}
	codec.Parameters = params

	fbs, err := validateRtcpFeedbackList(raw)
	if err != nil {
		return nil, err
	}
	codec.RtcpFeedback = fbs
	return codec, nil
}

// normalizedChannels returns codec.channels if numeric (an integer in
// [0, 255]), else the default 1.
func normalizedChannels(raw any) (int, error) {
	ch, ok := prop(raw, "channels")
	if typeOf(ch, ok) == kindNumber {
		return numberIn(ch, 0, maxChannels, "invalid codec.channels")
	}
	return 1, nil
}

// validateCodecParametersMap implements the shared codec `parameters` rules.
func validateCodecParametersMap(raw any) (map[string]any, error) {
	out := map[string]any{}
	p, ok := prop(raw, "parameters")
	if !truthy(p, ok) || typeOf(p, ok) != kindObject {
		return out, nil
	}
	keys, m := objectEntries(p)
	for _, key := range keys {
		value := m[key]
		k := typeOf(value, true)
		if k != kindString && k != kindNumber {
			return nil, typeErr("invalid codec parameter [key:" + key + "s, value:" + jsString(value) + "]")
		}
		if key == "apt" && k != kindNumber {
			return nil, typeErr("invalid codec apt parameter")
		}
		out[key] = normalizeScalar(value)
	}
	return out, nil
}

// normalizeScalar stores numbers as float64 so every parameters map holds
// only string or float64 values.
func normalizeScalar(v any) any {
	if s, ok := v.(string); ok {
		return s
	}
	f, _ := toNumber(v)
	return f
}

// validateRtcpFeedbackList implements the shared codec `rtcpFeedback` rules.
func validateRtcpFeedbackList(raw any) ([]RtcpFeedback, error) {
	out := []RtcpFeedback{}
	v, ok := prop(raw, "rtcpFeedback")
	arr, isArr := asArray(v)
	if !truthy(v, ok) || !isArr {
		return out, nil
	}
	for _, fb := range arr {
		if typeOf(fb, true) != kindObject {
			return nil, typeErr("fb is not an object")
		}
		if fb == nil {
			return nil, nullPropErr("type")
		}
		t, ok := prop(fb, "type")
		if !truthy(t, ok) || typeOf(t, ok) != kindString {
			return nil, typeErr("missing fb.type")
		}
		entry := RtcpFeedback{Type: t.(string)}
		if p, ok := prop(fb, "parameter"); truthy(p, ok) && typeOf(p, ok) == kindString {
			entry.Parameter = p.(string)
		}
		out = append(out, entry)
	}
	return out, nil
}

// validateHeaderExtension validates a capability header extension.
func validateHeaderExtension(raw any, inArray bool) (*RtpHeaderExtension, error) {
	if typeOf(raw, inArray || raw != nil) != kindObject {
		return nil, typeErr("ext is not an object")
	}
	if raw == nil {
		return nil, nullPropErr("kind")
	}
	kind, ok := prop(raw, "kind")
	ks, _ := kind.(string)
	if !ok || (ks != "audio" && ks != "video") {
		return nil, typeErr("invalid ext.kind")
	}
	uri, ok := prop(raw, "uri")
	if !truthy(uri, ok) || typeOf(uri, ok) != kindString {
		return nil, typeErr("missing ext.uri")
	}
	id, ok := prop(raw, "preferredId")
	if typeOf(id, ok) != kindNumber {
		return nil, typeErr("missing ext.preferredId")
	}
	preferredId, err := numberIn(id, 1, maxExtensionId, "invalid ext.preferredId")
	if err != nil {
		return nil, err
	}
	ext := &RtpHeaderExtension{
		Kind:        ks,
		Uri:         uri.(string),
		PreferredId: preferredId,
		Direction:   "sendrecv",
	}
	enc, ok := prop(raw, "preferredEncrypt")
	if truthy(enc, ok) {
		b, isBool := enc.(bool)
		if !isBool {
			return nil, typeErr("invalid ext.preferredEncrypt")
		}
		ext.PreferredEncrypt = b
	}
	dir, ok := prop(raw, "direction")
	if truthy(dir, ok) {
		s, isStr := dir.(string)
		if !isStr {
			return nil, typeErr("invalid ext.direction")
		}
		ext.Direction = s
	}
	return ext, nil
}

// ValidateRtpParameters validates and normalizes a Producer's RTP parameters:
// codecs is mandatory; headerExtensions, encodings default to []; rtcp
// defaults to {} with reducedSize forced to true; each entry gets mediasoup's
// defaults. A nil raw value is treated as `undefined`.
//
// Note that mediasoup's Transport.produce() additionally replaces empty
// encodings with a single empty encoding; that is left to the caller.
func ValidateRtpParameters(raw any) (*RtpParameters, error) {
	if typeOf(raw, raw != nil) != kindObject {
		return nil, typeErr("params is not an object")
	}
	params := &RtpParameters{
		Codecs:           []RtpCodecParameters{},
		HeaderExtensions: []RtpHeaderExtensionParameters{},
		Encodings:        []RtpEncodingParameters{},
	}

	mid, ok := prop(raw, "mid")
	if truthy(mid, ok) {
		s, isStr := mid.(string)
		if !isStr {
			return nil, typeErr("params.mid is not a string")
		}
		params.Mid = s
	}

	codecs, ok := prop(raw, "codecs")
	codecArr, isArr := asArray(codecs)
	if !ok || !isArr {
		return nil, typeErr("missing params.codecs")
	}
	for _, c := range codecArr {
		codec, err := validateCodecParameters(c)
		if err != nil {
			return nil, err
		}
		params.Codecs = append(params.Codecs, *codec)
	}

	var err error
	if params.HeaderExtensions, err = optionalArray(raw, "headerExtensions", "params.headerExtensions",
		params.HeaderExtensions, validateHeaderExtensionParameters); err != nil {
		return nil, err
	}
	if params.Encodings, err = optionalArray(raw, "encodings", "params.encodings",
		params.Encodings, validateEncoding); err != nil {
		return nil, err
	}

	rtcp, rtcpOk := prop(raw, "rtcp")
	if truthy(rtcp, rtcpOk) && typeOf(rtcp, rtcpOk) != kindObject {
		return nil, typeErr("params.rtcp is not an object")
	}

	msid, ok := prop(raw, "msid")
	if truthy(msid, ok) {
		s, isStr := msid.(string)
		if !isStr {
			return nil, typeErr("params.msid is not a string")
		}
		params.Msid = s
	}

	params.Rtcp = RtcpParameters{ReducedSize: true}
	if truthy(rtcp, rtcpOk) {
		cname, ok := prop(rtcp, "cname")
		if truthy(cname, ok) {
			s, isStr := cname.(string)
			if !isStr {
				return nil, typeErr("invalid rtcp.cname")
			}
			params.Rtcp.Cname = s
		}
	}
	return params, nil
}

// validateCodecParameters validates one entry of params.codecs.
func validateCodecParameters(raw any) (*RtpCodecParameters, error) {
	if typeOf(raw, true) != kindObject {
		return nil, typeErr("codec is not an object")
	}
	if raw == nil {
		return nil, nullPropErr("mimeType")
	}
	mimeType, ok := prop(raw, "mimeType")
	if !truthy(mimeType, ok) || typeOf(mimeType, ok) != kindString {
		return nil, typeErr("missing codec.mimeType")
	}
	mime := mimeType.(string)
	kind, valid := mimeTypeKind(mime)
	if !valid {
		return nil, typeErr("invalid codec.mimeType")
	}
	pt, ok := prop(raw, "payloadType")
	if typeOf(pt, ok) != kindNumber {
		return nil, typeErr("missing codec.payloadType")
	}
	clockRate, ok := prop(raw, "clockRate")
	if typeOf(clockRate, ok) != kindNumber {
		return nil, typeErr("missing codec.clockRate")
	}
	codec := &RtpCodecParameters{MimeType: mime}
	var err error
	if codec.PayloadType, err = numberIn(pt, 0, maxPayloadType, "invalid codec.payloadType"); err != nil {
		return nil, err
	}
	if codec.ClockRate, err = numberIn(clockRate, 0, maxClockRate, "invalid codec.clockRate"); err != nil {
		return nil, err
	}
	if kind == "audio" {
		if codec.Channels, err = normalizedChannels(raw); err != nil {
			return nil, err
		}
	}
	params, err := validateCodecParametersMap(raw)
	if err != nil {
		return nil, err
	}
	codec.Parameters = params
	fbs, err := validateRtcpFeedbackList(raw)
	if err != nil {
		return nil, err
	}
	codec.RtcpFeedback = fbs
	return codec, nil
}

// validateHeaderExtensionParameters validates one entry of
// params.headerExtensions.
func validateHeaderExtensionParameters(raw any) (*RtpHeaderExtensionParameters, error) {
	if typeOf(raw, true) != kindObject {
		return nil, typeErr("ext is not an object")
	}
	if raw == nil {
		return nil, nullPropErr("uri")
	}
	uri, ok := prop(raw, "uri")
	if !truthy(uri, ok) || typeOf(uri, ok) != kindString {
		return nil, typeErr("missing ext.uri")
	}
	id, ok := prop(raw, "id")
	if typeOf(id, ok) != kindNumber {
		return nil, typeErr("missing ext.id")
	}
	if idf, _ := toNumber(id); idf == 0 {
		// mediasoup's worker message for it.
		return nil, typeErr("invalid id 0")
	}
	extId, err := numberIn(id, 1, maxExtensionId, "invalid ext.id")
	if err != nil {
		return nil, err
	}
	ext := &RtpHeaderExtensionParameters{
		Uri:        uri.(string),
		Id:         extId,
		Parameters: map[string]any{},
	}
	enc, ok := prop(raw, "encrypt")
	if truthy(enc, ok) {
		b, isBool := enc.(bool)
		if !isBool {
			return nil, typeErr("invalid ext.encrypt")
		}
		ext.Encrypt = b
	}
	p, ok := prop(raw, "parameters")
	if truthy(p, ok) && typeOf(p, ok) == kindObject {
		keys, m := objectEntries(p)
		for _, key := range keys {
			value := m[key]
			k := typeOf(value, true)
			if k != kindString && k != kindNumber {
				return nil, typeErr("invalid header extension parameter")
			}
			ext.Parameters[key] = normalizeScalar(value)
		}
	}
	return ext, nil
}

// validateEncoding validates one entry of params.encodings.
func validateEncoding(raw any) (*RtpEncodingParameters, error) {
	if typeOf(raw, true) != kindObject {
		return nil, typeErr("encoding is not an object")
	}
	if raw == nil {
		return nil, nullPropErr("ssrc")
	}
	enc := &RtpEncodingParameters{}

	ssrc, ok := prop(raw, "ssrc")
	if typeOf(ssrc, ok) == kindNumber {
		f, _ := toNumber(ssrc)
		v, ok := ssrcValue(f)
		if !ok {
			return nil, typeErr("invalid encoding.ssrc")
		}
		enc.Ssrc = &v
	} else if truthy(ssrc, ok) {
		return nil, typeErr("invalid encoding.ssrc")
	}

	rid, ok := prop(raw, "rid")
	if truthy(rid, ok) {
		s, isStr := rid.(string)
		if !isStr {
			return nil, typeErr("invalid encoding.rid")
		}
		enc.Rid = s
	}

	rtx, ok := prop(raw, "rtx")
	if truthy(rtx, ok) {
		if typeOf(rtx, ok) != kindObject {
			return nil, typeErr("invalid encoding.rtx")
		}
		rs, rok := prop(rtx, "ssrc")
		if typeOf(rs, rok) != kindNumber {
			return nil, typeErr("missing encoding.rtx.ssrc")
		}
		f, _ := toNumber(rs)
		v, ok := ssrcValue(f)
		if !ok {
			return nil, typeErr("invalid encoding.rtx.ssrc")
		}
		enc.Rtx = &RtpEncodingRtx{Ssrc: v}
	}

	dtx, ok := prop(raw, "dtx")
	b, _ := dtx.(bool)
	b = b && ok
	enc.Dtx = &b

	sm, ok := prop(raw, "scalabilityMode")
	if truthy(sm, ok) {
		s, isStr := sm.(string)
		if !isStr {
			return nil, typeErr("invalid encoding.scalabilityMode")
		}
		enc.ScalabilityMode = s
	}

	// Not validated by mediasoup's Node layer; kept when numeric and in
	// range (mediasoup would wrap or truncate them).
	if cpt, ok := prop(raw, "codecPayloadType"); typeOf(cpt, ok) == kindNumber {
		v, err := numberIn(cpt, 0, maxPayloadType, "invalid encoding.codecPayloadType")
		if err != nil {
			return nil, err
		}
		enc.CodecPayloadType = &v
	}
	if mb, ok := prop(raw, "maxBitrate"); typeOf(mb, ok) == kindNumber {
		v, err := numberIn(mb, 0, maxSafeInteger, "invalid encoding.maxBitrate")
		if err != nil {
			return nil, err
		}
		enc.MaxBitrate = &v
	}
	return enc, nil
}

// ValidateSctpStreamParameters validates and normalizes SCTP stream
// parameters: streamId is mandatory; ordered defaults to true, or to false
// when maxPacketLifeTime or maxRetransmits is given. A nil raw value is
// treated as `undefined`.
func ValidateSctpStreamParameters(raw any) (*SctpStreamParameters, error) {
	if typeOf(raw, raw != nil) != kindObject {
		return nil, typeErr("params is not an object")
	}
	streamId, ok := prop(raw, "streamId")
	if typeOf(streamId, ok) != kindNumber {
		return nil, typeErr("missing params.streamId")
	}
	sf, _ := toNumber(streamId)
	if intIn(sf, maxSctpStreamId+1, math.MaxFloat64) {
		// mediasoup's worker message for 65535 (and the engine's for all).
		return nil, typeErr("streamId must not be greater than 65534")
	}
	sid, err := numberIn(streamId, 0, maxSctpStreamId, "invalid params.streamId")
	if err != nil {
		return nil, err
	}
	out := &SctpStreamParameters{StreamId: sid, Ordered: true}

	orderedRaw, ok := prop(raw, "ordered")
	ordered, orderedGiven := orderedRaw.(bool)
	orderedGiven = orderedGiven && ok
	if orderedGiven {
		out.Ordered = ordered
	}

	mplt, mpltOk := prop(raw, "maxPacketLifeTime")
	if typeOf(mplt, mpltOk) == kindNumber {
		v, err := numberIn(mplt, 0, maxUint16, "invalid params.maxPacketLifeTime")
		if err != nil {
			return nil, err
		}
		out.MaxPacketLifeTime = &v
	} else if truthy(mplt, mpltOk) {
		return nil, typeErr("invalid params.maxPacketLifeTime")
	}
	mr, mrOk := prop(raw, "maxRetransmits")
	if typeOf(mr, mrOk) == kindNumber {
		v, err := numberIn(mr, 0, maxUint16, "invalid params.maxRetransmits")
		if err != nil {
			return nil, err
		}
		out.MaxRetransmits = &v
	} else if truthy(mr, mrOk) {
		return nil, typeErr("invalid params.maxRetransmits")
	}

	hasMplt := truthy(mplt, mpltOk)
	hasMr := truthy(mr, mrOk)
	if hasMplt && hasMr {
		return nil, typeErr("cannot provide both maxPacketLifeTime and maxRetransmits")
	}
	if orderedGiven && ordered && (hasMplt || hasMr) {
		return nil, typeErr("cannot be ordered with maxPacketLifeTime or maxRetransmits")
	} else if !orderedGiven && (hasMplt || hasMr) {
		out.Ordered = false
	}
	return out, nil
}
