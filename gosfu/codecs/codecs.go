// Package codecs parses RTP payload descriptors of video codecs and tells
// whether a packet starts a key frame, without allocating.
//
// Supported: VP8 (RFC 7741), VP9 (RFC 9628), H264 (RFC 6184), H265
// (RFC 7798) and AV1 (AOM RTP payload format). Audio codecs (Opus, G.711,
// ...) and unknown codecs never carry key frames.
//
// Every function takes the RTP payload (after the RTP header, extensions and
// with padding removed) and never panics, whatever the input.
package codecs

import "strings"

// Codec identifies a payload format handled by this package.
type Codec uint8

// Known codecs.
const (
	CodecUnknown Codec = iota
	CodecVP8
	CodecVP9
	CodecH264
	CodecH265
	CodecAV1
	CodecOpus
)

// CodecFromMimeType returns the codec of a mime type such as "video/VP8"
// (case insensitive; the "video/" or "audio/" prefix is optional).
func CodecFromMimeType(mimeType string) Codec {
	sub := mimeType
	if i := strings.IndexByte(mimeType, '/'); i >= 0 {
		sub = mimeType[i+1:]
	}
	switch {
	case strings.EqualFold(sub, "VP8"):
		return CodecVP8
	case strings.EqualFold(sub, "VP9"):
		return CodecVP9
	case strings.EqualFold(sub, "H264"), strings.EqualFold(sub, "H264-SVC"):
		return CodecH264
	case strings.EqualFold(sub, "H265"), strings.EqualFold(sub, "HEVC"):
		return CodecH265
	case strings.EqualFold(sub, "AV1"):
		return CodecAV1
	case strings.EqualFold(sub, "opus"), strings.EqualFold(sub, "multiopus"):
		return CodecOpus
	}
	return CodecUnknown
}

// IsKeyFrame reports whether the RTP payload of a packet of the given mime
// type is (the start of) a key frame. Audio and unknown codecs always give
// false.
func IsKeyFrame(mimeType string, payload []byte) bool {
	return CodecFromMimeType(mimeType).IsKeyFrame(payload)
}

// IsKeyFrame reports whether payload is (the start of) a key frame of codec c.
func (c Codec) IsKeyFrame(payload []byte) bool {
	switch c {
	case CodecVP8:
		return VP8IsKeyFrame(payload)
	case CodecVP9:
		return VP9IsKeyFrame(payload)
	case CodecH264:
		return H264IsKeyFrame(payload)
	case CodecH265:
		return H265IsKeyFrame(payload)
	case CodecAV1:
		return AV1IsKeyFrame(payload)
	}
	return false
}

// Inspect reads the payload descriptor once and tells what IsKeyFrame and
// Layers tell: whether the packet starts a key frame, and its spatial and
// temporal layer ids (0, 0 when the codec or packet carries none). The
// producer's packet path uses it so that a packet is parsed once.
func (c Codec) Inspect(payload []byte) (keyFrame bool, spatial, temporal uint8) {
	switch c {
	case CodecVP8:
		var d VP8Descriptor
		if d.Unmarshal(payload) != nil {
			return false, 0, 0
		}
		if d.HasTID {
			temporal = d.TID
		}
		return d.KeyFrame, 0, temporal
	case CodecVP9:
		var d VP9Descriptor
		if d.Unmarshal(payload) != nil {
			return false, 0, 0
		}
		if d.HasLayerIndices {
			spatial, temporal = d.SID, d.TID
		}
		return d.KeyFrame, spatial, temporal
	}
	return c.IsKeyFrame(payload), 0, 0
}

// Layers returns the spatial and temporal layer ids carried in the payload
// descriptor (0, 0 when the codec or packet carries none).
func (c Codec) Layers(payload []byte) (spatial, temporal uint8) {
	switch c {
	case CodecVP8:
		var d VP8Descriptor
		if d.Unmarshal(payload) == nil && d.HasTID {
			return 0, d.TID
		}
	case CodecVP9:
		var d VP9Descriptor
		if d.Unmarshal(payload) == nil && d.HasLayerIndices {
			return d.SID, d.TID
		}
	}
	return 0, 0
}
