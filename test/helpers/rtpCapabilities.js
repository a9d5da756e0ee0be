'use strict';

// Expected RTP capability fragments (mediasoup 3.27.1 rules), written out by
// hand so the suites compare the engine against fixed values, not against
// data the engine produced.

function hdr(kind, uri, preferredId, direction) {
  return { kind, uri, preferredId, preferredEncrypt: false, direction };
}

const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const RRID = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
const ABS_SEND_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
const TWCC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const DD = 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension';
const VIDEO_ORIENTATION = 'urn:3gpp:video-orientation';
const TOFFSET = 'urn:ietf:params:rtp-hdrext:toffset';
const ABS_CAPTURE_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';
const PLAYOUT_DELAY = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
const PACKET_ID = 'urn:mediasoup:params:rtp-hdrext:packet-id';

/** Every header extension, in mediasoup's order (router = supported). */
function headerExtensions() {
  return [
    hdr('audio', MID, 1, 'sendrecv'),
    hdr('video', MID, 1, 'sendrecv'),
    hdr('video', RID, 2, 'recvonly'),
    hdr('video', RRID, 3, 'recvonly'),
    hdr('audio', ABS_SEND_TIME, 4, 'sendrecv'),
    hdr('video', ABS_SEND_TIME, 4, 'sendrecv'),
    hdr('audio', TWCC, 5, 'recvonly'),
    hdr('video', TWCC, 5, 'sendrecv'),
    hdr('audio', AUDIO_LEVEL, 6, 'sendrecv'),
    hdr('video', DD, 7, 'recvonly'),
    hdr('video', VIDEO_ORIENTATION, 8, 'sendrecv'),
    hdr('video', TOFFSET, 9, 'sendrecv'),
    hdr('audio', ABS_CAPTURE_TIME, 10, 'sendrecv'),
    hdr('video', ABS_CAPTURE_TIME, 10, 'sendrecv'),
    hdr('audio', PLAYOUT_DELAY, 11, 'sendrecv'),
    hdr('video', PLAYOUT_DELAY, 11, 'sendrecv'),
    hdr('audio', PACKET_ID, 12, 'sendrecv'),
    hdr('video', PACKET_ID, 12, 'sendrecv'),
  ];
}

/** RTCP feedback of every supported video codec, normalized. */
function videoFeedback() {
  return [
    { type: 'nack', parameter: '' },
    { type: 'nack', parameter: 'pli' },
    { type: 'ccm', parameter: 'fir' },
    { type: 'goog-remb', parameter: '' },
    { type: 'transport-cc', parameter: '' },
  ];
}

/** RTCP feedback of opus and multiopus, normalized. */
function opusFeedback() {
  return [
    { type: 'nack', parameter: '' },
    { type: 'transport-cc', parameter: '' },
  ];
}

/** The RTX codec a router adds after a video codec. */
function rtx(preferredPayloadType, apt) {
  return {
    kind: 'video',
    mimeType: 'video/rtx',
    preferredPayloadType,
    clockRate: 90000,
    parameters: { apt },
    rtcpFeedback: [],
  };
}

module.exports = { headerExtensions, videoFeedback, opusFeedback, rtx };
