package ortc

// Header extension URIs that the ORTC rules refer to explicitly.
const (
	UriMid                  = "urn:ietf:params:rtp-hdrext:sdes:mid"
	UriRtpStreamId          = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
	UriRepairedRtpStreamId  = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
	UriAbsSendTime          = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
	UriTransportWideCc01    = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
	UriSsrcAudioLevel       = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
	UriDependencyDescriptor = "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"
	UriVideoOrientation     = "urn:3gpp:video-orientation"
	UriTimeOffset           = "urn:ietf:params:rtp-hdrext:toffset"
	UriAbsCaptureTime       = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
	UriPlayoutDelay         = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
	UriMediasoupPacketId    = "urn:mediasoup:params:rtp-hdrext:packet-id"
)

// dynamicPayloadTypes is the order in which dynamic payload types are handed
// out to codecs that have no preferred one (100..127 first, then 96..99).
var dynamicPayloadTypes = []int{
	100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114,
	115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 96, 97, 98,
	99,
}

func intPtr(v int) *int { return &v }

// Feedback sets shared by several supported codecs.
func fbAudio() []RtcpFeedback {
	return []RtcpFeedback{{Type: "nack"}, {Type: "transport-cc"}}
}

func fbTransportCc() []RtcpFeedback {
	return []RtcpFeedback{{Type: "transport-cc"}}
}

func fbVideo() []RtcpFeedback {
	return []RtcpFeedback{
		{Type: "nack"},
		{Type: "nack", Parameter: "pli"},
		{Type: "ccm", Parameter: "fir"},
		{Type: "goog-remb"},
		{Type: "transport-cc"},
	}
}

func audioCodec(mime string, pt *int, clock, channels int, params map[string]any, fb []RtcpFeedback) RtpCodecCapability {
	if params == nil {
		params = map[string]any{}
	}
	if fb == nil {
		fb = []RtcpFeedback{}
	}
	return RtpCodecCapability{
		Kind: "audio", MimeType: mime, PreferredPayloadType: pt, ClockRate: clock,
		Channels: channels, Parameters: params, RtcpFeedback: fb,
	}
}

func videoCodec(mime string, params map[string]any) RtpCodecCapability {
	if params == nil {
		params = map[string]any{}
	}
	return RtpCodecCapability{
		Kind: "video", MimeType: mime, ClockRate: 90000,
		Parameters: params, RtcpFeedback: fbVideo(),
	}
}

func hdrExt(kind, uri string, id int, direction string) RtpHeaderExtension {
	return RtpHeaderExtension{Kind: kind, Uri: uri, PreferredId: id, Direction: direction}
}

// SupportedRtpCapabilities returns the RTP capabilities supported by
// mediasoup 3.27.1, in normalized form (channels set for audio, parameters
// and rtcpFeedback always present, feedback parameter defaulting to ""), as
// mediasoup.getSupportedRtpCapabilities() returns them once a router exists.
// Each call returns a fresh deep copy.
func SupportedRtpCapabilities() RtpCapabilities {
	return RtpCapabilities{
		Codecs: []RtpCodecCapability{
			audioCodec("audio/opus", nil, 48000, 2, nil, fbAudio()),
			// Quad channel.
			audioCodec("audio/multiopus", nil, 48000, 4, map[string]any{
				"channel_mapping": "0,1,2,3",
				"num_streams":     float64(2),
				"coupled_streams": float64(2),
			}, fbAudio()),
			// 5.1.
			audioCodec("audio/multiopus", nil, 48000, 6, map[string]any{
				"channel_mapping": "0,4,1,2,3,5",
				"num_streams":     float64(4),
				"coupled_streams": float64(2),
			}, fbAudio()),
			// 7.1.
			audioCodec("audio/multiopus", nil, 48000, 8, map[string]any{
				"channel_mapping": "0,6,1,2,3,4,5,7",
				"num_streams":     float64(5),
				"coupled_streams": float64(3),
			}, fbAudio()),
			audioCodec("audio/PCMU", intPtr(0), 8000, 1, nil, fbTransportCc()),
			audioCodec("audio/PCMA", intPtr(8), 8000, 1, nil, fbTransportCc()),
			audioCodec("audio/ISAC", nil, 32000, 1, nil, fbTransportCc()),
			audioCodec("audio/ISAC", nil, 16000, 1, nil, fbTransportCc()),
			audioCodec("audio/G722", intPtr(9), 8000, 1, nil, fbTransportCc()),
			audioCodec("audio/iLBC", nil, 8000, 1, nil, fbTransportCc()),
			audioCodec("audio/SILK", nil, 24000, 1, nil, fbTransportCc()),
			audioCodec("audio/SILK", nil, 16000, 1, nil, fbTransportCc()),
			audioCodec("audio/SILK", nil, 12000, 1, nil, fbTransportCc()),
			audioCodec("audio/SILK", nil, 8000, 1, nil, fbTransportCc()),
			audioCodec("audio/CN", intPtr(13), 32000, 1, nil, nil),
			audioCodec("audio/CN", intPtr(13), 16000, 1, nil, nil),
			audioCodec("audio/CN", intPtr(13), 8000, 1, nil, nil),
			audioCodec("audio/telephone-event", nil, 48000, 1, nil, nil),
			audioCodec("audio/telephone-event", nil, 32000, 1, nil, nil),
			audioCodec("audio/telephone-event", nil, 16000, 1, nil, nil),
			audioCodec("audio/telephone-event", nil, 8000, 1, nil, nil),
			videoCodec("video/VP8", nil),
			videoCodec("video/VP9", nil),
			videoCodec("video/H264", map[string]any{"level-asymmetry-allowed": float64(1)}),
			videoCodec("video/AV1", nil),
		},
		HeaderExtensions: []RtpHeaderExtension{
			hdrExt("audio", UriMid, 1, "sendrecv"),
			hdrExt("video", UriMid, 1, "sendrecv"),
			hdrExt("video", UriRtpStreamId, 2, "recvonly"),
			hdrExt("video", UriRepairedRtpStreamId, 3, "recvonly"),
			hdrExt("audio", UriAbsSendTime, 4, "sendrecv"),
			hdrExt("video", UriAbsSendTime, 4, "sendrecv"),
			// Audio only receives transport-wide-cc-01.
			hdrExt("audio", UriTransportWideCc01, 5, "recvonly"),
			hdrExt("video", UriTransportWideCc01, 5, "sendrecv"),
			hdrExt("audio", UriSsrcAudioLevel, 6, "sendrecv"),
			hdrExt("video", UriDependencyDescriptor, 7, "recvonly"),
			hdrExt("video", UriVideoOrientation, 8, "sendrecv"),
			hdrExt("video", UriTimeOffset, 9, "sendrecv"),
			hdrExt("audio", UriAbsCaptureTime, 10, "sendrecv"),
			hdrExt("video", UriAbsCaptureTime, 10, "sendrecv"),
			hdrExt("audio", UriPlayoutDelay, 11, "sendrecv"),
			hdrExt("video", UriPlayoutDelay, 11, "sendrecv"),
			hdrExt("audio", UriMediasoupPacketId, 12, "sendrecv"),
			hdrExt("video", UriMediasoupPacketId, 12, "sendrecv"),
		},
	}
}
