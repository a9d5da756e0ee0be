'use strict';

// Real media through gosfu with ffmpeg on both ends (loopback only):
//
//   ffmpeg (VP8 + Opus, RTP or SRTP)
//     → two comedia PlainTransports (one per stream) → Producers
//     → Consumers on two PlainTransports (connect()ed to the receiver)
//     → ffmpeg (SDP input, decodes to framecrc on stdout)
//
// Why one transport per stream and rtcpMux: false on the producer side:
// ffmpeg's rtp muxer sends each output from its own UDP socket and its RTCP
// (sender reports) from yet another socket, to port+1 unless `?rtcpport=`
// says otherwise. A comedia transport learns one remote RTP tuple (and, with
// rtcpMux: false, one RTCP tuple), so each ffmpeg output gets a transport of
// its own whose RTP port is the output's port and whose separate RTCP port
// is the output's `rtcpport`: both tuples are learnt (events 'tuple' and
// 'rtcptuple') and ffmpeg's SRs reach the producer.
//
// On the consumer side ffmpeg's SDP demuxer binds port P for RTP and P+1 for
// RTCP per m-line, so each consumer has its own transport, rtcpMux: false,
// connected to {port: P, rtcpPort: P+1}.
//
// A consumer forwards video only from a key frame on; ffmpeg answers no PLI,
// so the sender's `-g 30` (a key frame a second) bounds the wait.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const gosfu = require('../');
const { closeWorker, tmpDir, waitStable } = require('./helpers');
const {
  requireFfmpeg, runFfmpeg, freeUdpPortPair, waitUdpPortBound, receiveSdp, parseFrameHashes,
  parseFrameHashHeader,
} = require('./helpers/ffmpeg');

const mediaCodecs = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);

const CRYPTO_SUITE = 'AES_CM_128_HMAC_SHA1_80';
// What ffmpeg sends with (its payload types differ from the router's, so
// the consumers prove the payload type mapping too).
const VIDEO_PT = 96;
const VIDEO_SSRC = 22222222;
const AUDIO_PT = 111;
const AUDIO_SSRC = 33333333;
const SEND_SECONDS = 4;

function videoRtpParameters() {
  return {
    codecs: [{
      mimeType: 'video/VP8',
      payloadType: VIDEO_PT,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    }],
    encodings: [{ ssrc: VIDEO_SSRC }],
  };
}

function audioRtpParameters() {
  return {
    codecs: [{
      mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2,
    }],
    encodings: [{ ssrc: AUDIO_SSRC }],
  };
}

describe('ffmpeg ⇄ PlainTransport (real VP8/Opus media)', function () {
  this.timeout(45000);

  let worker;
  let router;
  let tmp;
  let procs;

  before(function () {
    requireFfmpeg(this);
  });

  beforeEach(async () => {
    procs = [];
    tmp = tmpDir();
    worker = await gosfu.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(async function () {
    if (this.currentTest && this.currentTest.state === 'failed') {
      for (const p of procs) {
        // eslint-disable-next-line no-console
        console.log(`--- ffmpeg ${p.args.join(' ')}\n${p.stderr().slice(-4000)}`);
      }
    }
    await Promise.all(procs.map((p) => p.stop(2000)));
    await closeWorker(worker);
    worker = undefined;
    if (tmp) tmp.cleanup();
  });

  /**
   * Streams SEND_SECONDS of VP8 + Opus from an ffmpeg through gosfu to a
   * decoding ffmpeg; returns what both sides and the stats saw.
   */
  async function session({ srtp }) {
    const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
    const srtpOptions = srtp ? { enableSrtp: true, srtpCryptoSuite: CRYPTO_SUITE } : {};

    // Producer side.
    const videoIn = await router.createPlainTransport({
      listenInfo, rtcpMux: false, comedia: true, ...srtpOptions,
    });
    const audioIn = await router.createPlainTransport({
      listenInfo, rtcpMux: false, comedia: true, ...srtpOptions,
    });
    const events = { tuple: [], rtcptuple: [] };
    videoIn.on('tuple', (t) => events.tuple.push(t));
    videoIn.on('rtcptuple', (t) => events.rtcptuple.push(t));
    // The keys ffmpeg encrypts with (30 bytes: 128-bit key + 112-bit salt).
    const videoSendKey = crypto.randomBytes(30).toString('base64');
    const audioSendKey = crypto.randomBytes(30).toString('base64');
    if (srtp) {
      // comedia: no ip/port, just the remote's keys.
      await videoIn.connect({ srtpParameters: { cryptoSuite: CRYPTO_SUITE, keyBase64: videoSendKey } });
      await audioIn.connect({ srtpParameters: { cryptoSuite: CRYPTO_SUITE, keyBase64: audioSendKey } });
    }
    const videoProducer = await videoIn.produce({ kind: 'video', rtpParameters: videoRtpParameters() });
    const audioProducer = await audioIn.produce({ kind: 'audio', rtpParameters: audioRtpParameters() });

    // Consumer side.
    const videoOut = await router.createPlainTransport({ listenInfo, rtcpMux: false, ...srtpOptions });
    const audioOut = await router.createPlainTransport({ listenInfo, rtcpMux: false, ...srtpOptions });
    const videoConsumer = await videoOut.consume({
      producerId: videoProducer.id, rtpCapabilities: router.rtpCapabilities,
    });
    const audioConsumer = await audioOut.consume({
      producerId: audioProducer.id, rtpCapabilities: router.rtpCapabilities,
    });
    assert.equal(videoConsumer.kind, 'video');
    assert.equal(audioConsumer.kind, 'audio');
    const videoPort = await freeUdpPortPair();
    let audioPort = await freeUdpPortPair();
    while (audioPort === videoPort) audioPort = await freeUdpPortPair();

    const sdpPath = path.join(tmp.dir, 'receive.sdp');
    fs.writeFileSync(sdpPath, receiveSdp([
      {
        kind: 'video',
        port: videoPort,
        rtpParameters: videoConsumer.rtpParameters,
        srtpKeyBase64: srtp ? videoOut.srtpParameters.keyBase64 : undefined,
        cryptoSuite: CRYPTO_SUITE,
      },
      {
        kind: 'audio',
        port: audioPort,
        rtpParameters: audioConsumer.rtpParameters,
        srtpKeyBase64: srtp ? audioOut.srtpParameters.keyBase64 : undefined,
        cryptoSuite: CRYPTO_SUITE,
      },
    ]));

    const receiver = runFfmpeg([
      '-loglevel', 'info',
      '-protocol_whitelist', 'file,udp,rtp,srtp',
      // RRs go back to where the media comes from (gosfu's RTCP sockets).
      '-sdp_flags', 'rtcp_to_source',
      '-reorder_queue_size', '0',
      '-analyzeduration', '3000000',
      '-i', sdpPath,
      '-map', '0:v', '-map', '0:a',
      '-f', 'framecrc', '-flush_packets', '1', '-',
    ]);
    procs.push(receiver);
    await waitUdpPortBound(videoPort, receiver);
    await waitUdpPortBound(audioPort, receiver);

    // The receiver decrypts with the consumer transports' own keys; what it
    // might send back (RTCP) is encrypted with the same SDES key.
    const outSrtp = (t) => (srtp ? { srtpParameters: { cryptoSuite: CRYPTO_SUITE, keyBase64: t.srtpParameters.keyBase64 } } : {});
    await videoOut.connect({ ip: '127.0.0.1', port: videoPort, rtcpPort: videoPort + 1, ...outSrtp(videoOut) });
    await audioOut.connect({ ip: '127.0.0.1', port: audioPort, rtcpPort: audioPort + 1, ...outSrtp(audioOut) });

    const scheme = srtp ? 'srtp' : 'rtp';
    const srtpOut = (key) => (srtp ? ['-srtp_out_suite', CRYPTO_SUITE, '-srtp_out_params', key] : []);
    const sender = runFfmpeg([
      '-loglevel', 'warning',
      '-re', '-t', String(SEND_SECONDS), '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30',
      '-re', '-t', String(SEND_SECONDS), '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-b:v', '400k',
      '-payload_type', String(VIDEO_PT), '-ssrc', String(VIDEO_SSRC), ...srtpOut(videoSendKey),
      '-f', 'rtp', `${scheme}://127.0.0.1:${videoIn.tuple.localPort}?rtcpport=${videoIn.rtcpTuple.localPort}&pkt_size=1200`,
      '-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k',
      '-payload_type', String(AUDIO_PT), '-ssrc', String(AUDIO_SSRC), ...srtpOut(audioSendKey),
      '-f', 'rtp', `${scheme}://127.0.0.1:${audioIn.tuple.localPort}?rtcpport=${audioIn.rtcpTuple.localPort}&pkt_size=1200`,
    ]);
    procs.push(sender);
    const sent = await sender.exited;
    assert.equal(sent.code, 0, `sending ffmpeg failed:\n${sender.stderr().slice(-3000)}`);

    // Let the last packets through (the consumers' counters stop rising),
    // then read the stats while the counters still hold every packet of
    // the run.
    await waitStable(async () => [
      (await videoConsumer.getStats())[0]?.packetCount, (await audioConsumer.getStats())[0]?.packetCount,
    ], 10000, 'the consumers\' packet counts to settle');
    const stats = {
      videoProducer: await videoProducer.getStats(),
      audioProducer: await audioProducer.getStats(),
      videoConsumer: await videoConsumer.getStats(),
      audioConsumer: await audioConsumer.getStats(),
      videoIn: await videoIn.getStats(),
      audioIn: await audioIn.getStats(),
      videoOut: await videoOut.getStats(),
      audioOut: await audioOut.getStats(),
    };
    const received = await receiver.stop(5000);
    const output = receiver.stdout();
    return {
      videoIn,
      audioIn,
      videoConsumer,
      audioConsumer,
      events,
      stats,
      received,
      frames: parseFrameHashes(output),
      header: parseFrameHashHeader(output),
      receiverLog: receiver.stderr(),
    };
  }

  function assertMediaFlowed(r) {
    const video = r.frames.get(0);
    const audio = r.frames.get(1);
    const tail = r.receiverLog.slice(-3000);
    assert.ok(video, `the receiving ffmpeg decoded no video:\n${tail}`);
    assert.ok(audio, `the receiving ffmpeg decoded no audio:\n${tail}`);
    // 4 s at 30 fps is 120 frames; forwarding starts at the first key frame.
    assert.ok(video.frames >= 30, `only ${video.frames} video frames decoded:\n${tail}`);
    // Every decoded picture is a full 320x240 yuv420p image (115200 bytes).
    assert.deepEqual([...video.sizes], [320 * 240 * 1.5]);
    // 48 kHz Opus: at least 1.5 s of decoded samples out of 4 s sent.
    assert.ok(audio.frames >= 50, `only ${audio.frames} audio frames decoded`);
    const audioHeader = r.header.get(1) || {};
    const sampleRate = Number((audioHeader.sample_rate || '48000'));
    assert.equal(sampleRate, 48000);
    assert.ok(audio.duration >= 1.5 * 48000, `only ${audio.duration} audio samples decoded`);
  }

  function assertStats(r) {
    const { stats } = r;
    for (const [name, ssrc, mimeType] of [
      ['videoProducer', VIDEO_SSRC, 'video/VP8'], ['audioProducer', AUDIO_SSRC, 'audio/opus'],
    ]) {
      const [s] = stats[name];
      assert.ok(s, `${name}.getStats() is empty`);
      assert.equal(s.type, 'inbound-rtp', name);
      assert.equal(s.ssrc, ssrc, name);
      assert.equal(s.mimeType.toLowerCase(), mimeType.toLowerCase(), name);
      assert.ok(s.packetCount > 0, `${name} packetCount ${s.packetCount}`);
      assert.ok(s.byteCount > 0, `${name} byteCount ${s.byteCount}`);
    }
    // ~120 VP8 frames, several packets each at 400 kbit/s.
    assert.ok(stats.videoProducer[0].packetCount >= 100, `video packetCount ${stats.videoProducer[0].packetCount}`);
    // Opus: 50 packets a second.
    assert.ok(stats.audioProducer[0].packetCount >= 150, `audio packetCount ${stats.audioProducer[0].packetCount}`);

    for (const [name, consumer] of [['videoConsumer', r.videoConsumer], ['audioConsumer', r.audioConsumer]]) {
      const [s, producerSide] = stats[name];
      assert.equal(s.type, 'outbound-rtp', name);
      assert.equal(s.ssrc, consumer.rtpParameters.encodings[0].ssrc, name);
      assert.ok(s.packetCount > 0, `${name} packetCount ${s.packetCount}`);
      assert.ok(s.byteCount > 0, `${name} byteCount ${s.byteCount}`);
      assert.equal(producerSide.type, 'inbound-rtp', name);
      // A consumer never sends more than its producer received.
      assert.ok(s.packetCount <= producerSide.packetCount, `${name}: ${s.packetCount} > ${producerSide.packetCount}`);
    }
    // Audio needs no key frame: (nearly) everything is forwarded.
    assert.ok(stats.audioConsumer[0].packetCount >= stats.audioProducer[0].packetCount - 5);

    for (const name of ['videoIn', 'audioIn', 'videoOut', 'audioOut']) {
      const [s] = stats[name];
      assert.equal(s.type, 'plain-rtp-transport', name);
      assert.equal(s.rtcpMux, false, name);
    }
    for (const name of ['videoIn', 'audioIn']) {
      const [s] = stats[name];
      assert.equal(s.comedia, true, name);
      assert.ok(s.bytesReceived > 0, `${name} bytesReceived ${s.bytesReceived}`);
      assert.ok(s.rtpBytesReceived > 0, `${name} rtpBytesReceived ${s.rtpBytesReceived}`);
      assert.equal(s.tuple.remoteIp, '127.0.0.1', name);
    }
    for (const name of ['videoOut', 'audioOut']) {
      const [s] = stats[name];
      assert.equal(s.comedia, false, name);
      assert.ok(s.bytesSent > 0, `${name} bytesSent ${s.bytesSent}`);
      assert.ok(s.rtpBytesSent > 0, `${name} rtpBytesSent ${s.rtpBytesSent}`);
    }
    // The consumer transport sent at least the bytes its consumer counted.
    assert.ok(stats.videoOut[0].rtpBytesSent >= stats.videoConsumer[0].byteCount);

    // comedia learnt ffmpeg's RTP and RTCP sockets.
    assert.equal(r.events.tuple.length, 1);
    assert.equal(r.events.tuple[0].remoteIp, '127.0.0.1');
    assert.equal(r.events.tuple[0].localPort, r.videoIn.tuple.localPort);
    assert.ok(r.events.tuple[0].remotePort > 0);
    assert.equal(r.videoIn.tuple.remoteIp, '127.0.0.1');
    assert.equal(r.videoIn.tuple.remotePort, r.events.tuple[0].remotePort);
    // ffmpeg sends its first SR with its first packets (RTCP every ~5 s
    // after), so the RTCP tuple is known too.
    assert.equal(r.events.rtcptuple.length, 1);
    assert.equal(r.events.rtcptuple[0].remoteIp, '127.0.0.1');
    assert.equal(r.events.rtcptuple[0].localPort, r.videoIn.rtcpTuple.localPort);
    assert.notEqual(r.events.rtcptuple[0].remotePort, r.events.tuple[0].remotePort);
  }

  it('RTP: ffmpeg VP8 + Opus → comedia PlainTransports → consumers → decoding ffmpeg', async () => {
    const r = await session({ srtp: false });
    assertMediaFlowed(r);
    assertStats(r);
  });

  it('SRTP (AES_CM_128_HMAC_SHA1_80) on both legs', async () => {
    const r = await session({ srtp: true });
    assertMediaFlowed(r);
    assertStats(r);
    assert.equal(r.videoIn.srtpParameters.cryptoSuite, CRYPTO_SUITE);
  });
});
