'use strict';

// PipeTransport and router.pipeToRouter(): the API as mediasoup's (argument
// checks, parameters, transport pair reuse, pause/resume/close following)
// and real media from a producer in one router to a consumer in another
// (of another worker), through DirectTransports at both ends.
const assert = require('node:assert/strict');
const dgram = require('node:dgram');

const gosfu = require('../');
const {
  closeWorker, waitFor, waitUntil, assertRejects,
} = require('./helpers');
const {
  parseRtp, parseRtcp, vp8PayloadIndex, vp8PayloadIsKeyFrame, Vp8Stream,
} = require('./helpers/rtp');

const {
  PipeTransport, InvalidStateError, NotFoundError,
} = gosfu.types;

const mediaCodecs = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);

const audioProducerOptions = Object.freeze({
  kind: 'audio',
  rtpParameters: {
    mid: 'AUDIO',
    codecs: [{
      mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, foo: 'bar1' },
    }],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10 }],
    encodings: [{ ssrc: 11111111 }],
    rtcp: { cname: 'FOOBAR' },
  },
  appData: { foo: 'bar1' },
});

const videoProducerOptions = Object.freeze({
  kind: 'video',
  rtpParameters: {
    mid: 'VIDEO',
    codecs: [{
      mimeType: 'video/VP8',
      payloadType: 112,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }, { type: 'lalala' }],
    }],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10 },
      { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 11 },
      { uri: 'urn:3gpp:video-orientation', id: 13 },
    ],
    encodings: [{ ssrc: 22222222 }, { ssrc: 22222223 }, { ssrc: 22222224 }],
    rtcp: { cname: 'FOOBAR' },
    msid: 'aaaa-bbbb',
  },
  appData: { foo: 'bar2' },
});

const consumerDeviceCapabilities = Object.freeze({
  codecs: [
    {
      kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2,
    },
    {
      kind: 'video',
      mimeType: 'video/VP8',
      preferredPayloadType: 101,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'ccm', parameter: 'fir' }, { type: 'transport-cc' }],
    },
    {
      kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 102, clockRate: 90000, parameters: { apt: 101 }, rtcpFeedback: [],
    },
  ],
  headerExtensions: [
    {
      kind: 'video', uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', preferredId: 4, preferredEncrypt: false, direction: 'sendrecv',
    },
    {
      kind: 'video', uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', preferredId: 5, preferredEncrypt: false,
    },
    {
      kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', preferredId: 6, preferredEncrypt: false,
    },
  ],
});

const SRTP_KEY_GCM_256 = 'YTdjcDBvY2JoMGY5YXNlNDc0eDJsdGgwaWRvNnJsamRrdG16aWVpZHphdHo=';

/** Rejects with exactly this class (message not checked: the engine writes it). */
async function rejectsWith(promise, Class) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.constructor, Class, `expected ${Class.name}, got ${error.constructor.name}: ${error.message}`);
    return true;
  });
}

/** A UDP port free right now on 127.0.0.1. */
function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

describe('PipeTransport', () => {
  let worker1;
  let worker2;
  let router1;
  let router2;
  let webRtcTransport1;
  let webRtcTransport2;
  let audioProducer;
  let videoProducer;

  beforeEach(async () => {
    worker1 = await gosfu.createWorker();
    worker2 = await gosfu.createWorker();
    router1 = await worker1.createRouter({ mediaCodecs });
    router2 = await worker2.createRouter({ mediaCodecs });
    webRtcTransport1 = await router1.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    webRtcTransport2 = await router2.createWebRtcTransport({ listenIps: ['127.0.0.1'] });
    audioProducer = await webRtcTransport1.produce(audioProducerOptions);
    videoProducer = await webRtcTransport1.produce(videoProducerOptions);
  });

  afterEach(async () => {
    await closeWorker(worker1);
    await closeWorker(worker2);
  });

  it('router.createPipeTransport() succeeds', async () => {
    const onNewTransport = [];
    router1.observer.on('newtransport', (t) => onNewTransport.push(t));
    const pipeTransport = await router1.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 2000, max: 3000 } },
      appData: { foo: 'bar' },
    });
    assert.ok(pipeTransport instanceof PipeTransport);
    assert.deepEqual(onNewTransport, [pipeTransport]);
    assert.equal(pipeTransport.type, 'pipe');
    assert.equal(pipeTransport.closed, false);
    assert.deepEqual(pipeTransport.appData, { foo: 'bar' });
    const { tuple } = pipeTransport;
    assert.equal(tuple.localAddress, '127.0.0.1');
    assert.ok(tuple.localPort >= 2000 && tuple.localPort <= 3000);
    assert.equal(tuple.protocol, 'udp');
    assert.equal(pipeTransport.srtpParameters, undefined);
    assert.equal(pipeTransport.sctpParameters, undefined);
    assert.equal(pipeTransport.sctpState, undefined);

    const dump = await pipeTransport.dump();
    assert.equal(dump.id, pipeTransport.id);
    assert.equal(dump.rtx, false);
    assert.deepEqual(dump.tuple, tuple);
    assert.deepEqual(dump.producerIds, []);
    assert.deepEqual(dump.consumerIds, []);
    const [stats] = await pipeTransport.getStats();
    assert.equal(stats.type, 'pipe-transport');
    assert.deepEqual(stats.tuple, tuple);
    assert.ok((await router1.dump()).transportIds.includes(pipeTransport.id));

    const withSctp = await router1.createPipeTransport({ listenIp: '127.0.0.1', enableSctp: true });
    assert.equal(typeof withSctp.sctpParameters, 'object');
    assert.equal(withSctp.sctpState, 'new');
    withSctp.close();
    assert.equal(withSctp.sctpState, 'closed');
  });

  it('router.createPipeTransport() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(router1.createPipeTransport({}), TypeError, 'missing listenInfo and listenIp (one of them is mandatory)');
    await assertRejects(router1.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, listenIp: '127.0.0.1' }),
      TypeError, 'only one of listenInfo and listenIp must be given');
    await rejectsWith(router1.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 4000, max: 3000 } },
    }), TypeError);
    await rejectsWith(router1.createPipeTransport({ listenIp: '123' }), TypeError);
    await rejectsWith(router1.createPipeTransport({ listenIp: ['127.0.0.1'] }), TypeError);
    await rejectsWith(router1.createPipeTransport({ listenInfo: { protocol: 'tcp', ip: '127.0.0.1' } }), TypeError);
    await assertRejects(router1.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, appData: 'NOT-AN-OBJECT' }),
      TypeError, 'if given, appData must be an object');
    router1.close();
    await rejectsWith(router1.createPipeTransport({ listenIp: '127.0.0.1' }), InvalidStateError);
  });

  it('router.createPipeTransport() with fixed port succeeds', async () => {
    const port = await freeUdpPort();
    const pipeTransport = await router1.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1', port } });
    assert.equal(pipeTransport.tuple.localPort, port);
  });

  it('router.createPipeTransport() with enableRtx succeeds', async () => {
    const pipeTransport = await router1.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 2000, max: 3000 } },
      enableRtx: true,
    });
    assert.equal((await pipeTransport.dump()).rtx, true);
    const pipeConsumer = await pipeTransport.consume({ producerId: videoProducer.id });
    assert.equal(pipeConsumer.kind, 'video');
    assert.equal(pipeConsumer.type, 'pipe');
    assert.equal(pipeConsumer.rtpParameters.mid, undefined);
    assert.deepEqual(pipeConsumer.rtpParameters.codecs, [
      {
        mimeType: 'video/VP8',
        payloadType: 101,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [
          { type: 'nack', parameter: '' },
          { type: 'nack', parameter: 'pli' },
          { type: 'ccm', parameter: 'fir' },
        ],
      },
      {
        mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: 101 }, rtcpFeedback: [],
      },
    ]);
    const { encodings } = pipeConsumer.rtpParameters;
    assert.equal(encodings.length, 3);
    for (const e of encodings) {
      assert.equal(typeof e.ssrc, 'number');
      assert.equal(typeof e.rtx.ssrc, 'number');
    }
    assert.equal(pipeConsumer.paused, false);
    assert.equal(pipeConsumer.producerPaused, false);
    assert.deepEqual(pipeConsumer.score, { score: 10, producerScore: 10, producerScores: [] });
    assert.deepEqual(pipeConsumer.appData, {});
    assert.deepEqual((await pipeTransport.dump()).consumerIds, [pipeConsumer.id]);
    assert.equal((await pipeConsumer.dump()).type, 'pipe');

    await assertRejects(pipeTransport.consume({}), TypeError, 'missing producerId');
    await assertRejects(pipeTransport.consume({ producerId: 'foo' }), NotFoundError, 'Producer with id "foo" not found');
  });

  it('pipeTransport.connect() with valid SRTP parameters succeeds', async () => {
    const pipeTransport = await router1.createPipeTransport({ listenIp: '127.0.0.1', enableSrtp: true });
    assert.equal(pipeTransport.srtpParameters.cryptoSuite, 'AEAD_AES_256_GCM');
    // The master length of AEAD_AES_256_GCM.
    assert.equal(pipeTransport.srtpParameters.keyBase64.length, 60);
    assert.equal(await pipeTransport.connect({
      ip: '127.0.0.2',
      port: 9999,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: SRTP_KEY_GCM_256 },
    }), undefined);
    assert.equal(pipeTransport.tuple.remoteIp, '127.0.0.2');
    assert.equal(pipeTransport.tuple.remotePort, 9999);
    await assertRejects(pipeTransport.connect({ ip: '127.0.0.2', port: 9999 }), Error, 'connect() already called');
  });

  it('pipeTransport.connect() with srtpParameters fails if enableSrtp is unset', async () => {
    const pipeTransport = await router1.createPipeTransport({ listenIp: '127.0.0.1', enableRtx: true });
    assert.equal(pipeTransport.srtpParameters, undefined);
    await assertRejects(pipeTransport.connect({
      ip: '127.0.0.2',
      port: 9999,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: SRTP_KEY_GCM_256 },
    }), TypeError, 'invalid srtpParameters (SRTP not enabled)');
    await rejectsWith(pipeTransport.connect({ ip: '127.0.0.2', port: 9999, srtpParameters: 'invalid' }), TypeError);
  });

  it('pipeTransport.connect() with invalid parameters fails', async () => {
    const pipeTransport = await router1.createPipeTransport({ listenIp: '127.0.0.1', enableSrtp: true });
    const connect = (params) => pipeTransport.connect({ ip: '127.0.0.2', port: 9999, ...params });
    await assertRejects(connect({}), TypeError, 'missing srtpParameters (SRTP enabled)');
    await rejectsWith(connect({ srtpParameters: 1 }), TypeError);
    await assertRejects(connect({ srtpParameters: { keyBase64: SRTP_KEY_GCM_256 } }),
      TypeError, 'invalid/unsupported srtpParameters.cryptoSuite');
    await assertRejects(connect({ srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM' } }),
      TypeError, 'invalid decoded SRTP key length');
    await assertRejects(connect({ srtpParameters: { cryptoSuite: 'FOO', keyBase64: SRTP_KEY_GCM_256 } }),
      TypeError, 'invalid/unsupported srtpParameters.cryptoSuite');
    // Pipe transports use AEAD_AES_256_GCM only.
    await assertRejects(connect({ srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: SRTP_KEY_GCM_256 } }),
      TypeError, 'invalid/unsupported srtpParameters.cryptoSuite');
    await rejectsWith(connect({ srtpParameters: { cryptoSuite: 123, keyBase64: SRTP_KEY_GCM_256 } }), TypeError);
    await rejectsWith(connect({ srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: [] } }), TypeError);
    const srtpParameters = { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: SRTP_KEY_GCM_256 };
    await assertRejects(pipeTransport.connect({ port: 9999, srtpParameters }), TypeError, 'missing ip');
    await assertRejects(pipeTransport.connect({ ip: '127.0.0.2', srtpParameters }), TypeError, 'missing port');
    // None of them connected it.
    await pipeTransport.connect({ ip: '127.0.0.2', port: 9999, srtpParameters });
  });

  it('router.pipeToRouter() succeeds with audio, then with video on the same pipe transports', async () => {
    const { pipeConsumer, pipeProducer } = await router1.pipeToRouter({ producerId: audioProducer.id, router: router2 });
    // One PipeTransport in each router, besides the WebRtcTransport.
    assert.equal((await router1.dump()).transportIds.length, 2);
    assert.equal((await router2.dump()).transportIds.length, 2);
    const pipeTransport1 = [...router1.transportsForTesting.values()].find((t) => t.type === 'pipe');
    const pipeTransport2 = [...router2.transportsForTesting.values()].find((t) => t.type === 'pipe');
    assert.equal(pipeTransport1.tuple.remotePort, pipeTransport2.tuple.localPort);
    assert.equal(pipeTransport2.tuple.remotePort, pipeTransport1.tuple.localPort);

    assert.equal(typeof pipeConsumer.id, 'string');
    assert.equal(pipeConsumer.closed, false);
    assert.equal(pipeConsumer.kind, 'audio');
    assert.equal(pipeConsumer.type, 'pipe');
    assert.equal(pipeConsumer.rtpParameters.mid, undefined);
    assert.deepEqual(pipeConsumer.rtpParameters.codecs, [{
      mimeType: 'audio/opus',
      payloadType: 100,
      clockRate: 48000,
      channels: 2,
      parameters: { useinbandfec: 1, foo: 'bar1' },
      rtcpFeedback: [],
    }]);
    assert.ok(!pipeConsumer.rtpParameters.headerExtensions.some((e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:mid'));
    assert.equal(pipeConsumer.paused, false);
    assert.equal(pipeConsumer.producerPaused, false);
    assert.deepEqual(pipeConsumer.score, { score: 10, producerScore: 10, producerScores: [] });
    assert.deepEqual(pipeConsumer.appData, {});

    assert.equal(pipeProducer.id, audioProducer.id);
    assert.equal(pipeProducer.closed, false);
    assert.equal(pipeProducer.kind, 'audio');
    assert.equal(pipeProducer.rtpParameters.mid, undefined);
    assert.deepEqual(pipeProducer.rtpParameters.codecs, pipeConsumer.rtpParameters.codecs);
    assert.deepEqual(pipeProducer.rtpParameters.headerExtensions, pipeConsumer.rtpParameters.headerExtensions);
    // The pipe producer keeps the CNAME of the original one.
    assert.equal(pipeProducer.rtpParameters.rtcp.cname, audioProducer.rtpParameters.rtcp.cname);
    assert.deepEqual(pipeProducer.appData, { foo: 'bar1' });
    assert.equal(pipeProducer.paused, false);

    // Video (paused) goes through the same transports.
    await videoProducer.pause();
    const video = await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    assert.equal((await router1.dump()).transportIds.length, 2);
    assert.equal((await router2.dump()).transportIds.length, 2);
    assert.equal(video.pipeConsumer.kind, 'video');
    assert.equal(video.pipeConsumer.producerPaused, true);
    assert.deepEqual(video.pipeConsumer.rtpParameters.codecs, [{
      mimeType: 'video/VP8',
      payloadType: 101,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [{ type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    }]);
    assert.equal(video.pipeConsumer.rtpParameters.encodings.length, 3);
    assert.equal(video.pipeProducer.id, videoProducer.id);
    assert.equal(video.pipeProducer.type, 'simulcast');
    assert.equal(video.pipeProducer.paused, true);

    // And the other direction too.
    const back = await router2.pipeToRouter({ producerId: pipeProducer.id, router: router1, keepId: false });
    assert.notEqual(back.pipeProducer.id, pipeProducer.id);
    assert.equal((await router1.dump()).transportIds.length, 2);
  });

  it('router.pipeToRouter() with wrong arguments fails', async () => {
    await assertRejects(router1.pipeToRouter({
      producerId: videoProducer.id, router: router2, listenIp: '127.0.0.1', listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    }), TypeError, 'only one of listenInfo and listenIp must be given');
    await assertRejects(router1.pipeToRouter({ router: router2 }), TypeError, 'missing producerId or dataProducerId');
    await assertRejects(router1.pipeToRouter({ producerId: videoProducer.id, dataProducerId: 'foo', router: router2 }),
      TypeError, 'just producerId or dataProducerId can be given');
    await assertRejects(router1.pipeToRouter({ producerId: videoProducer.id }), TypeError, 'missing router');
    await assertRejects(router1.pipeToRouter({ producerId: videoProducer.id, router: router1 }),
      TypeError, 'cannot use this Router as destination');
    await assertRejects(router1.pipeToRouter({ producerId: '12345678', router: router2 }), NotFoundError, 'Producer not found');
    await assertRejects(router1.pipeToRouter({ dataProducerId: '12345678', router: router2 }),
      NotFoundError, 'DataProducer not found');
    // A closed destination router (gosfu: InvalidStateError, as every call on a closed object).
    const router3 = await worker1.createRouter({ mediaCodecs });
    router3.close();
    await rejectsWith(router1.pipeToRouter({ producerId: videoProducer.id, router: router3 }), InvalidStateError);
    // Nothing left behind.
    assert.equal((await router1.dump()).transportIds.length, 1);
  });

  it('router.pipeToRouter() with keepId: true fails if both routers belong to the same worker', async () => {
    const router1bis = await worker1.createRouter({ mediaCodecs });
    await rejectsWith(router1.pipeToRouter({ producerId: videoProducer.id, router: router1bis, keepId: true }), Error);
    const { pipeProducer } = await router1.pipeToRouter({ producerId: videoProducer.id, router: router1bis, keepId: false });
    assert.notEqual(pipeProducer.id, videoProducer.id);
  });

  it('transport.consume() for a pipe producer succeeds', async () => {
    const { pipeProducer } = await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    const videoConsumer = await webRtcTransport2.consume({ producerId: pipeProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    assert.equal(videoConsumer.kind, 'video');
    assert.equal(videoConsumer.rtpParameters.mid, '0');
    assert.equal(videoConsumer.rtpParameters.encodings.length, 1);
    assert.equal(typeof videoConsumer.rtpParameters.encodings[0].rtx.ssrc, 'number');
    assert.equal(videoConsumer.rtpParameters.msid, 'aaaa-bbbb');
    assert.equal(videoConsumer.type, 'simulcast');
    assert.deepEqual(videoConsumer.score, { score: 10, producerScore: 0, producerScores: [0, 0, 0] });
  });

  it('producer.pause() and producer.resume() are transmitted to the pipe consumer', async () => {
    await videoProducer.pause();
    const { pipeProducer } = await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    const videoConsumer = await webRtcTransport2.consume({ producerId: pipeProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    assert.equal(videoConsumer.producerPaused, true);
    assert.equal(videoConsumer.paused, false);

    let events = Promise.all([waitFor(videoConsumer, 'producerresume'), waitFor(pipeProducer.observer, 'resume')]);
    await videoProducer.resume();
    await events;
    assert.equal(videoConsumer.producerPaused, false);
    assert.equal(pipeProducer.paused, false);

    events = Promise.all([waitFor(videoConsumer, 'producerpause'), waitFor(pipeProducer.observer, 'pause')]);
    await videoProducer.pause();
    await events;
    assert.equal(videoConsumer.producerPaused, true);
    assert.equal(pipeProducer.paused, true);
  });

  it('producer.close() is transmitted to the pipe consumer, producer and their consumers', async () => {
    const { pipeConsumer, pipeProducer } = await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    const videoConsumer = await webRtcTransport2.consume({ producerId: pipeProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const closed = waitFor(videoConsumer, 'producerclose');
    videoProducer.close();
    await closed;
    assert.equal(videoConsumer.closed, true);
    assert.equal(pipeConsumer.closed, true);
    assert.equal(pipeProducer.closed, true);
    await rejectsWith(videoConsumer.dump(), InvalidStateError);
    assert.deepEqual((await router2.dump()).mapProducerIdConsumerIds, []);
  });

  it('pipeConsumer.close() closes the pipe producer; closing a pipe transport closes the pair', async () => {
    const { pipeConsumer, pipeProducer } = await router1.pipeToRouter({ producerId: audioProducer.id, router: router2 });
    const closed = waitFor(pipeProducer.observer, 'close');
    pipeConsumer.close();
    await closed;
    assert.equal(pipeProducer.closed, true);

    const pipeTransport1 = [...router1.transportsForTesting.values()].find((t) => t.type === 'pipe');
    const pipeTransport2 = [...router2.transportsForTesting.values()].find((t) => t.type === 'pipe');
    const video = await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    pipeTransport2.close();
    assert.equal(pipeTransport1.closed, true);
    assert.equal(video.pipeConsumer.closed, true);
    assert.equal(video.pipeProducer.closed, true);
    assert.equal((await router1.dump()).transportIds.length, 1);

    // A new pair next time.
    await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    const next = [...router1.transportsForTesting.values()].find((t) => t.type === 'pipe');
    assert.notEqual(next, pipeTransport1);
    assert.equal((await router2.dump()).transportIds.length, 2);
  });
});

describe('PipeTransport media (DirectTransport → pipeToRouter → DirectTransport)', function () {
  this.timeout(20000);

  const SSRCS = [55550000, 55560000];
  const PT = 96;
  let worker1;
  let worker2;

  afterEach(async () => {
    await closeWorker(worker1);
    await closeWorker(worker2);
  });

  /** Sends the next frames of every stream through producer.send(). */
  function sendFrames(producer, streams, frames) {
    for (let f = 0; f < frames; f++) {
      for (const stream of streams) {
        for (const { packet } of stream.nextFrame()) producer.send(packet);
      }
    }
  }

  for (const enableSrtp of [false, true]) {
    it(`forwards every stream, follows pause/resume/close${enableSrtp ? ' (SRTP, RTX)' : ''}`, async () => {
      worker1 = await gosfu.createWorker();
      worker2 = await gosfu.createWorker();
      const router1 = await worker1.createRouter({ mediaCodecs });
      const router2 = await worker2.createRouter({ mediaCodecs });
      const inT = await router1.createDirectTransport();
      const outT = await router2.createDirectTransport();
      const producer = await inT.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{
            mimeType: 'video/VP8', payloadType: PT, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
          }],
          encodings: SSRCS.map((ssrc) => ({ ssrc })),
        },
      });
      const producerRtcp = [];
      inT.on('rtcp', (buf) => producerRtcp.push(...parseRtcp(buf)));

      const { pipeConsumer, pipeProducer } = await router1.pipeToRouter({
        producerId: producer.id, router: router2, enableSrtp, enableRtx: enableSrtp,
      });
      assert.equal(pipeConsumer.rtpParameters.encodings.length, 2);
      const consumer = await outT.consume({ producerId: producer.id, rtpCapabilities: router2.rtpCapabilities });
      assert.equal(consumer.type, 'simulcast');
      const got = [];
      consumer.on('rtp', (buf) => {
        const rtp = parseRtp(buf);
        got.push({ ...rtp, index: vp8PayloadIndex(rtp.payload), keyFrame: vp8PayloadIsKeyFrame(rtp.payload) });
      });
      const assertContinuous = () => {
        for (let i = 1; i < got.length; i++) {
          assert.equal(got[i].seq, (got[i - 1].seq + 1) & 0xffff, `sequence gap at packet ${i}`);
        }
      };

      const streams = SSRCS.map((ssrc, i) => new Vp8Stream({ ssrc, payloadType: PT, firstSeq: 1000 * (i + 1) }));
      sendFrames(producer, streams, 20);
      await waitUntil(() => got.length >= 30, 5000, 'media in router2');
      assert.equal(got[0].keyFrame, true);
      assert.ok(got.every((p) => p.ssrc === consumer.rtpParameters.encodings[0].ssrc));
      assertContinuous();
      // Both streams crossed the pipe.
      const pipeStats = await pipeConsumer.getStats();
      assert.equal(pipeStats.length, 2);
      assert.ok(pipeStats.every((s) => s.packetCount >= 30), JSON.stringify(pipeStats));
      const farStats = await pipeProducer.getStats();
      assert.equal(farStats.length, 2);

      // A key frame request in router2 reaches the producer's endpoint.
      const plis = () => producerRtcp.filter((e) => e.type === 'pli').length;
      const before = plis();
      await consumer.requestKeyFrame();
      await waitUntil(() => plis() > before, 3000, 'a PLI at the producer endpoint');

      // Pause: no media in router2 while paused; resume: a key frame first,
      // and no sequence gap.
      const paused = waitFor(consumer, 'producerpause');
      await producer.pause();
      await paused;
      const countPaused = got.length;
      // Negative checks without a window: once the producer counted every
      // packet sent, the pipe consumer has decided about each; once the far
      // pipe producer counted all the pipe consumer sent, router2's consumer
      // has decided about each too, and its "rtp" events came before that
      // getStats() answer (engine order).
      const count = async (p) => (await p.getStats()).reduce((n, s) => n + s.packetCount, 0);
      const settle = async () => {
        const sent = streams.reduce((n, s) => n + s.index, 0);
        await waitUntil(async () => (await count(producer)) >= sent, 5000, `producer packetCount ${sent}`, 20);
        const crossed = await count(pipeConsumer);
        await waitUntil(async () => (await count(pipeProducer)) >= crossed, 5000,
          `pipe producer packetCount ${crossed}`, 20);
      };
      sendFrames(producer, streams, 5);
      await settle();
      assert.equal(got.length, countPaused);
      const resumed = waitFor(consumer, 'producerresume');
      await producer.resume();
      await resumed;
      sendFrames(producer, streams, 3);
      await settle();
      assert.equal(got.length, countPaused, 'delta frames forwarded after resume');
      for (const s of streams) s.requestKeyFrame();
      sendFrames(producer, streams, 5);
      await waitUntil(() => got.length > countPaused, 3000, 'media after resume');
      assert.equal(got[countPaused].keyFrame, true);
      assertContinuous();

      // Close: the consumer in router2 gets producerclose.
      const closed = waitFor(consumer, 'producerclose');
      producer.close();
      await closed;
      assert.equal(pipeProducer.closed, true);
      assert.equal(pipeConsumer.closed, true);
    });
  }
});
