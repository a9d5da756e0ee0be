package ortc

import (
	"encoding/json"
	"maps"
	"strings"
)

// Numbers: JavaScript numbers arrive as float64. Integral fields (payload
// types, clock rates, ids, channels, bitrates) are truncated toward zero into
// int; SSRCs are converted with JavaScript's ToUint32 semantics, which is what
// mediasoup applies when it serializes them for its worker. Codec and header
// extension `parameters` keep the decoded values untouched (string or
// float64), so `apt` and friends are float64 inside the maps.

// RtcpFeedback is one RTCP feedback entry of a codec. After normalization
// Parameter is always present in JSON (empty string when unset), as in
// mediasoup.
type RtcpFeedback struct {
	Type      string `json:"type"`
	Parameter string `json:"parameter"`
}

// RtpCodecCapability is a codec entry of RtpCapabilities (router, supported or
// remote endpoint capabilities).
//
// JSON: preferredPayloadType is omitted when unset (nil); channels is emitted
// only for audio codecs; parameters is always an object and rtcpFeedback
// always an array.
type RtpCodecCapability struct {
	Kind                 string         `json:"kind"`
	MimeType             string         `json:"mimeType"`
	PreferredPayloadType *int           `json:"preferredPayloadType,omitempty"`
	ClockRate            int            `json:"clockRate"`
	Channels             int            `json:"-"`
	Parameters           map[string]any `json:"parameters"`
	RtcpFeedback         []RtcpFeedback `json:"rtcpFeedback"`
}

type codecCapabilityJSON struct {
	Kind                 string         `json:"kind"`
	MimeType             string         `json:"mimeType"`
	PreferredPayloadType *int           `json:"preferredPayloadType,omitempty"`
	ClockRate            int            `json:"clockRate"`
	Channels             *int           `json:"channels,omitempty"`
	Parameters           map[string]any `json:"parameters"`
	RtcpFeedback         []RtcpFeedback `json:"rtcpFeedback"`
}

// MarshalJSON emits mediasoup's shape (channels only for audio).
func (c RtpCodecCapability) MarshalJSON() ([]byte, error) {
	return c.AppendJSON(nil)
}

// UnmarshalJSON decodes the shape produced by MarshalJSON (no validation; use
// ValidateRtpCodecCapability for untrusted input).
func (c *RtpCodecCapability) UnmarshalJSON(b []byte) error {
	var aux codecCapabilityJSON
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = RtpCodecCapability{
		Kind:                 aux.Kind,
		MimeType:             aux.MimeType,
		PreferredPayloadType: aux.PreferredPayloadType,
		ClockRate:            aux.ClockRate,
		Parameters:           aux.Parameters,
		RtcpFeedback:         aux.RtcpFeedback,
	}
	if aux.Channels != nil {
		c.Channels = *aux.Channels
	}
	return nil
}

// Clone returns a deep copy.
func (c RtpCodecCapability) Clone() RtpCodecCapability {
	out := c
	if c.PreferredPayloadType != nil {
		pt := *c.PreferredPayloadType
		out.PreferredPayloadType = &pt
	}
	out.Parameters = cloneParams(c.Parameters)
	out.RtcpFeedback = cloneFeedback(c.RtcpFeedback)
	return out
}

// RtpHeaderExtension is a header extension entry of RtpCapabilities.
type RtpHeaderExtension struct {
	Kind             string `json:"kind"`
	Uri              string `json:"uri"`
	PreferredId      int    `json:"preferredId"`
	PreferredEncrypt bool   `json:"preferredEncrypt"`
	Direction        string `json:"direction"`
}

// RtpCapabilities is what mediasoup or an endpoint can receive. After
// normalization both arrays are always present in JSON.
type RtpCapabilities struct {
	Codecs           []RtpCodecCapability `json:"codecs"`
	HeaderExtensions []RtpHeaderExtension `json:"headerExtensions"`
}

// MarshalJSON emits empty arrays instead of null.
func (c RtpCapabilities) MarshalJSON() ([]byte, error) {
	return c.AppendJSON(make([]byte, 0, 4096))
}

// Clone returns a deep copy.
func (c *RtpCapabilities) Clone() *RtpCapabilities {
	if c == nil {
		return nil
	}
	out := &RtpCapabilities{
		Codecs:           make([]RtpCodecCapability, len(c.Codecs)),
		HeaderExtensions: make([]RtpHeaderExtension, len(c.HeaderExtensions)),
	}
	for i, codec := range c.Codecs {
		out.Codecs[i] = codec.Clone()
	}
	copy(out.HeaderExtensions, c.HeaderExtensions)
	return out
}

// RtpCodecParameters is a codec entry of RtpParameters.
//
// JSON: channels is emitted only for audio codecs; parameters is always an
// object and rtcpFeedback always an array.
type RtpCodecParameters struct {
	MimeType     string         `json:"mimeType"`
	PayloadType  int            `json:"payloadType"`
	ClockRate    int            `json:"clockRate"`
	Channels     int            `json:"-"`
	Parameters   map[string]any `json:"parameters"`
	RtcpFeedback []RtcpFeedback `json:"rtcpFeedback"`
}

type codecParametersJSON struct {
	MimeType     string         `json:"mimeType"`
	PayloadType  int            `json:"payloadType"`
	ClockRate    int            `json:"clockRate"`
	Channels     *int           `json:"channels,omitempty"`
	Parameters   map[string]any `json:"parameters"`
	RtcpFeedback []RtcpFeedback `json:"rtcpFeedback"`
}

// MarshalJSON emits mediasoup's shape (channels only for audio).
func (c RtpCodecParameters) MarshalJSON() ([]byte, error) {
	return c.AppendJSON(nil)
}

// UnmarshalJSON decodes the shape produced by MarshalJSON (no validation; use
// ValidateRtpParameters for untrusted input).
func (c *RtpCodecParameters) UnmarshalJSON(b []byte) error {
	var aux codecParametersJSON
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = RtpCodecParameters{
		MimeType:     aux.MimeType,
		PayloadType:  aux.PayloadType,
		ClockRate:    aux.ClockRate,
		Parameters:   aux.Parameters,
		RtcpFeedback: aux.RtcpFeedback,
	}
	if aux.Channels != nil {
		c.Channels = *aux.Channels
	}
	return nil
}

// Clone returns a deep copy.
func (c RtpCodecParameters) Clone() RtpCodecParameters {
	out := c
	out.Parameters = cloneParams(c.Parameters)
	out.RtcpFeedback = cloneFeedback(c.RtcpFeedback)
	return out
}

// RtpHeaderExtensionParameters is a negotiated header extension of
// RtpParameters. parameters is always an object in JSON.
type RtpHeaderExtensionParameters struct {
	Uri        string         `json:"uri"`
	Id         int            `json:"id"`
	Encrypt    bool           `json:"encrypt"`
	Parameters map[string]any `json:"parameters"`
}

// MarshalJSON emits an empty object for nil parameters.
func (e RtpHeaderExtensionParameters) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil)
}

// Clone returns a deep copy.
func (e RtpHeaderExtensionParameters) Clone() RtpHeaderExtensionParameters {
	out := e
	out.Parameters = cloneParams(e.Parameters)
	return out
}

// RtpEncodingRtx is the `rtx` member of an encoding.
type RtpEncodingRtx struct {
	Ssrc uint32 `json:"ssrc"`
}

// RtpEncodingParameters describes one RTP stream (and its RTX stream).
// Pointer / omitempty fields are absent in JSON when unset, as in mediasoup.
// Validated producer encodings always carry Dtx (false by default); encodings
// generated for consumers only carry what mediasoup sets. An empty Rid or
// ScalabilityMode is treated as unset (mediasoup's worker does the same).
type RtpEncodingParameters struct {
	Ssrc             *uint32         `json:"ssrc,omitempty"`
	Rid              string          `json:"rid,omitempty"`
	CodecPayloadType *int            `json:"codecPayloadType,omitempty"`
	Rtx              *RtpEncodingRtx `json:"rtx,omitempty"`
	Dtx              *bool           `json:"dtx,omitempty"`
	ScalabilityMode  string          `json:"scalabilityMode,omitempty"`
	MaxBitrate       *int            `json:"maxBitrate,omitempty"`
}

// Clone returns a deep copy.
func (e RtpEncodingParameters) Clone() RtpEncodingParameters {
	out := e
	if e.Ssrc != nil {
		v := *e.Ssrc
		out.Ssrc = &v
	}
	if e.CodecPayloadType != nil {
		v := *e.CodecPayloadType
		out.CodecPayloadType = &v
	}
	if e.Rtx != nil {
		v := *e.Rtx
		out.Rtx = &v
	}
	if e.Dtx != nil {
		v := *e.Dtx
		out.Dtx = &v
	}
	if e.MaxBitrate != nil {
		v := *e.MaxBitrate
		out.MaxBitrate = &v
	}
	return out
}

// RtcpParameters holds RTCP settings. reducedSize is always true after
// normalization (mediasoup forces it).
type RtcpParameters struct {
	Cname       string `json:"cname,omitempty"`
	ReducedSize bool   `json:"reducedSize"`
}

// RtpParameters describes a Producer's sent media or a Consumer's received
// media. mid and msid are omitted in JSON when empty; the arrays are always
// present.
type RtpParameters struct {
	Mid              string                         `json:"mid,omitempty"`
	Codecs           []RtpCodecParameters           `json:"codecs"`
	HeaderExtensions []RtpHeaderExtensionParameters `json:"headerExtensions"`
	Encodings        []RtpEncodingParameters        `json:"encodings"`
	Rtcp             RtcpParameters                 `json:"rtcp"`
	Msid             string                         `json:"msid,omitempty"`
}

// MarshalJSON emits empty arrays instead of null.
func (p RtpParameters) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(make([]byte, 0, 1024))
}

// Clone returns a deep copy.
func (p *RtpParameters) Clone() *RtpParameters {
	if p == nil {
		return nil
	}
	out := &RtpParameters{
		Mid:              p.Mid,
		Codecs:           make([]RtpCodecParameters, len(p.Codecs)),
		HeaderExtensions: make([]RtpHeaderExtensionParameters, len(p.HeaderExtensions)),
		Encodings:        make([]RtpEncodingParameters, len(p.Encodings)),
		Rtcp:             p.Rtcp,
		Msid:             p.Msid,
	}
	for i, c := range p.Codecs {
		out.Codecs[i] = c.Clone()
	}
	for i, e := range p.HeaderExtensions {
		out.HeaderExtensions[i] = e.Clone()
	}
	for i, e := range p.Encodings {
		out.Encodings[i] = e.Clone()
	}
	return out
}

// SctpStreamParameters describes an SCTP stream of a DataProducer or
// DataConsumer. ordered is always present after normalization.
type SctpStreamParameters struct {
	StreamId          int  `json:"streamId"`
	Ordered           bool `json:"ordered"`
	MaxPacketLifeTime *int `json:"maxPacketLifeTime,omitempty"`
	MaxRetransmits    *int `json:"maxRetransmits,omitempty"`
}

// RtpMappingCodec maps a Producer payload type to the router payload type.
type RtpMappingCodec struct {
	PayloadType       int `json:"payloadType"`
	MappedPayloadType int `json:"mappedPayloadType"`
}

// RtpMappingEncoding maps a Producer encoding (by ssrc or rid) to the SSRC
// used inside the router. ScalabilityMode is carried for the engine's
// convenience (mediasoup 3.27's mapping no longer includes it; it is omitted
// when the encoding has none).
type RtpMappingEncoding struct {
	Ssrc            *uint32 `json:"ssrc,omitempty"`
	Rid             string  `json:"rid,omitempty"`
	ScalabilityMode string  `json:"scalabilityMode,omitempty"`
	MappedSsrc      uint32  `json:"mappedSsrc"`
}

// RtpMapping is the Producer-to-router translation of payload types and
// SSRCs, as produced by GetProducerRtpParametersMapping.
type RtpMapping struct {
	Codecs    []RtpMappingCodec    `json:"codecs"`
	Encodings []RtpMappingEncoding `json:"encodings"`
}

// MarshalJSON emits empty arrays instead of null.
func (m RtpMapping) MarshalJSON() ([]byte, error) {
	return m.AppendJSON(nil)
}

// ScalabilityMode is the parsed form of a scalabilityMode string such as
// "L3T3_KEY".
type ScalabilityMode struct {
	SpatialLayers  int  `json:"spatialLayers"`
	TemporalLayers int  `json:"temporalLayers"`
	Ksvc           bool `json:"ksvc"`
}

func isAudioMimeType(mimeType string) bool {
	return len(mimeType) >= 6 && strings.EqualFold(mimeType[:6], "audio/")
}

// cloneParams copies a parameters map (values are scalars). It never returns
// nil.
func cloneParams(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return maps.Clone(p)
}

// cloneFeedback copies a feedback list. It never returns nil.
func cloneFeedback(f []RtcpFeedback) []RtcpFeedback {
	out := make([]RtcpFeedback, len(f))
	copy(out, f)
	return out
}
