'use strict';

// Opus-like audio RTP for the RtpObserver suites: packets carry the
// ssrc-audio-level header extension (RFC 6464) in a one-byte header
// extension (RFC 8285), written byte by byte here.

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const AUDIO_LEVEL_EXT_ID = 1;
const AUDIO_PT = 100;

/**
 * An audio RTP packet: 12-byte header with X=1, the 0xBEDE profile, one
 * 32-bit word holding the extension element (id, length 1, V bit and
 * level = -dBov, 0..127) and padding, then a 40-byte Opus-like payload.
 */
function audioLevelPacket({
  ssrc, seq, level, voice = true, extId = AUDIO_LEVEL_EXT_ID, payloadType = AUDIO_PT,
}) {
  const buf = Buffer.alloc(12 + 8 + 40, 0);
  buf[0] = 0x90; // V=2, X=1
  buf[1] = payloadType;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE((seq * 960) >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
  buf.writeUInt16BE(0xbede, 12);
  buf.writeUInt16BE(1, 14); // one word
  buf[16] = (extId << 4) | 0; // length - 1 = 0
  buf[17] = (voice ? 0x80 : 0) | (level & 0x7f);
  buf[20] = 0xfc; // Opus TOC: CELT FB 20 ms, one frame
  return buf;
}

/** Producer options of an Opus producer with the audio level extension. */
function audioProducerOptions(ssrc, { withAudioLevel = true } = {}) {
  return {
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
      headerExtensions: withAudioLevel ? [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXT_ID }] : [],
      encodings: [{ ssrc }],
    },
  };
}

/**
 * Sends a packet every 20 ms to every producer with a level in `levels`
 * (producer id → level; delete or set undefined to stop one). Returns
 * {levels, stop(), ticks(n)}: ticks(n) resolves after n more rounds of
 * packets, i.e. n × 20 ms of audio however late the timer runs (for
 * "nothing happens while ..." windows that must hold even on a loaded
 * machine).
 */
function feedAudio(producers) {
  const levels = {};
  const seqs = new Map();
  const ssrcs = new Map(producers.map((p) => [p.id, p.rtpParameters.encodings[0].ssrc]));
  let rounds = 0;
  const waiters = [];
  const timer = setInterval(() => {
    for (const producer of producers) {
      const level = levels[producer.id];
      if (level === undefined || producer.closed) continue;
      const seq = (seqs.get(producer.id) || 0) + 1;
      seqs.set(producer.id, seq);
      producer.send(audioLevelPacket({ ssrc: ssrcs.get(producer.id), seq, level }));
    }
    rounds++;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (rounds >= waiters[i].at) waiters.splice(i, 1)[0].resolve();
    }
  }, 20);
  return {
    levels,
    stop() {
      clearInterval(timer);
    },
    ticks(n) {
      return new Promise((resolve) => waiters.push({ at: rounds + n, resolve }));
    },
  };
}

module.exports = {
  AUDIO_LEVEL_URI, AUDIO_LEVEL_EXT_ID, audioLevelPacket, audioProducerOptions, feedAudio,
};
