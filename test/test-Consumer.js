'use strict';

const assert = require('node:assert/strict');

const gosfu = require('../');
const { Router } = require('../lib/Router');
const { FakeChannel } = require('./fakeChannel');
const {
  waitFor, waitUntil, closeWorker, assertRejects,
} = require('./helpers');

const {
  InvalidStateError, UnsupportedError, NotFoundError, Consumer,
} = gosfu.types;

function deepFreeze(object) {
  for (const value of Object.values(object)) {
    if (value && typeof value === 'object') deepFreeze(value);
  }
  return Object.freeze(object);
}

const mediaCodecs = deepFreeze([
  {
    kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { foo: 'bar' },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'level-asymmetry-allowed': 1,
      'packetization-mode': 1,
      'profile-level-id': '4d0032',
      foo: 'bar',
    },
  },
]);

const audioProducerOptions = deepFreeze({
  kind: 'audio',
  rtpParameters: {
    mid: 'AUDIO',
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: {
          useinbandfec: 1, usedtx: 1, foo: 222.222, bar: '333',
        },
      },
    ],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10 },
      { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 12 },
    ],
    encodings: [{ ssrc: 11111111 }],
    rtcp: { cname: 'FOOBAR' },
    msid: '1111-1111-1111-1111 2222-2222-2222-2222',
  },
  appData: { foo: 1, bar: '2' },
});

const videoProducerOptions = deepFreeze({
  kind: 'video',
  rtpParameters: {
    mid: 'VIDEO',
    codecs: [
      {
        mimeType: 'video/h264',
        payloadType: 112,
        clockRate: 90000,
        parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032' },
        rtcpFeedback: [
          { type: 'nack', parameter: '' },
          { type: 'nack', parameter: 'pli' },
          { type: 'goog-remb', parameter: '' },
        ],
      },
      {
        mimeType: 'video/rtx', payloadType: 113, clockRate: 90000, parameters: { apt: 112 },
      },
    ],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10 },
      { uri: 'urn:3gpp:video-orientation', id: 13 },
    ],
    encodings: [
      { ssrc: 22222222, scalabilityMode: 'L1T5', rtx: { ssrc: 22222223 } },
      { ssrc: 22222224, scalabilityMode: 'L1T5', rtx: { ssrc: 22222225 } },
      { ssrc: 22222226, scalabilityMode: 'L1T5', rtx: { ssrc: 22222227 } },
      { ssrc: 22222228, scalabilityMode: 'L1T5', rtx: { ssrc: 22222229 } },
    ],
    rtcp: { cname: 'FOOBAR' },
  },
  appData: { foo: 1, bar: '2' },
});

const consumerDeviceCapabilities = deepFreeze({
  codecs: [
    {
      mimeType: 'audio/opus',
      kind: 'audio',
      preferredPayloadType: 100,
      clockRate: 48000,
      channels: 2,
      rtcpFeedback: [{ type: 'nack', parameter: '' }],
    },
    {
      mimeType: 'video/H264',
      kind: 'video',
      preferredPayloadType: 101,
      clockRate: 90000,
      parameters: {
        'level-asymmetry-allowed': 1,
        'packetization-mode': 1,
        'profile-level-id': '4d0032',
      },
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
        { type: 'goog-remb', parameter: '' },
      ],
    },
    {
      mimeType: 'video/rtx',
      kind: 'video',
      preferredPayloadType: 102,
      clockRate: 90000,
      parameters: { apt: 101 },
      rtcpFeedback: [],
    },
  ],
  headerExtensions: [
    {
      kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1, preferredEncrypt: false,
    },
    {
      kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1, preferredEncrypt: false,
    },
    {
      kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', preferredId: 2, preferredEncrypt: false,
    },
    {
      kind: 'audio',
      uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      preferredId: 4,
      preferredEncrypt: false,
    },
    {
      kind: 'video',
      uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      preferredId: 4,
      preferredEncrypt: false,
    },
    {
      kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', preferredId: 6, preferredEncrypt: false,
    },
    {
      kind: 'video', uri: 'urn:3gpp:video-orientation', preferredId: 8, preferredEncrypt: false,
    },
    {
      kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:toffset', preferredId: 9, preferredEncrypt: false,
    },
  ],
});

const vpxFeedback = [
  { type: 'nack', parameter: '' },
  { type: 'nack', parameter: 'pli' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'goog-remb', parameter: '' },
];

const vpxMediaCodecs = deepFreeze([
  {
    kind: 'video', mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: vpxFeedback,
  },
  {
    kind: 'video', mimeType: 'video/VP9', clockRate: 90000, rtcpFeedback: vpxFeedback,
  },
]);

const vp9SvcProducerOptions = deepFreeze({
  kind: 'video',
  rtpParameters: {
    mid: 'VIDEOSVC',
    codecs: [{
      mimeType: 'video/VP9', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: vpxFeedback,
    }],
    headerExtensions: [],
    encodings: [{ ssrc: 33333333, scalabilityMode: 'L3T3' }],
    rtcp: { cname: 'FOOBAR' },
  },
  appData: { foo: 1, bar: '2' },
});

const vp8SimulcastProducerOptions = deepFreeze({
  kind: 'video',
  rtpParameters: {
    mid: 'VIDEOVP8',
    codecs: [{
      mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: vpxFeedback,
    }],
    headerExtensions: [],
    encodings: [
      { ssrc: 44444441, scalabilityMode: 'L1T5' },
      { ssrc: 44444442, scalabilityMode: 'L1T5' },
      { ssrc: 44444443, scalabilityMode: 'L1T5' },
    ],
    rtcp: { cname: 'FOOBAR' },
  },
  appData: { foo: 1, bar: '2' },
});

const vpxConsumerDeviceCapabilities = deepFreeze({
  codecs: [
    {
      kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101, clockRate: 90000, rtcpFeedback: vpxFeedback,
    },
    {
      kind: 'video', mimeType: 'video/VP9', preferredPayloadType: 102, clockRate: 90000, rtcpFeedback: vpxFeedback,
    },
  ],
  headerExtensions: [],
});

async function rejectsWith(promise, Class) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.constructor, Class, `expected ${Class.name}, got ${error.constructor.name}: ${error.message}`);
    return true;
  });
}

function pick(object, keys) {
  return Object.fromEntries(keys.map((k) => [k, object[k]]));
}

describe('Consumer', () => {
  let worker;
  let router;
  let transport1;
  let transport2;
  let audioProducer;
  let videoProducer;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter({ mediaCodecs });
    transport1 = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    transport2 = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    audioProducer = await transport1.produce(audioProducerOptions);
    videoProducer = await transport1.produce(videoProducerOptions);
  });

  afterEach(async () => {
    await closeWorker(worker);
    worker = undefined;
  });

  /** Two plain transports of a new router with the VP8/VP9 codecs. */
  async function vpxTransports() {
    const vpxRouter = await worker.createRouter({ mediaCodecs: vpxMediaCodecs });
    return {
      vpxRouter,
      t1: await vpxRouter.createPlainTransport({ listenIp: '127.0.0.1' }),
      t2: await vpxRouter.createPlainTransport({ listenIp: '127.0.0.1' }),
    };
  }

  it('transport.consume() succeeds', async () => {
    const onNewConsumer1 = [];
    transport2.observer.once('newconsumer', (c) => onNewConsumer1.push(c));
    assert.equal(router.canConsume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities }), true);
    const audioConsumer = await transport2.consume({
      producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities, appData: { baz: 'LOL' },
    });
    assert.equal(onNewConsumer1.length, 1);
    assert.equal(onNewConsumer1[0], audioConsumer);
    assert.equal(audioConsumer.constructor.name, 'Consumer');
    assert.ok(audioConsumer instanceof Consumer);
    assert.equal(typeof audioConsumer.id, 'string');
    assert.equal(audioConsumer.producerId, audioProducer.id);
    assert.equal(audioConsumer.closed, false);
    assert.equal(audioConsumer.kind, 'audio');
    assert.equal(typeof audioConsumer.rtpParameters, 'object');
    assert.equal(audioConsumer.rtpParameters.mid, '0');
    assert.equal(audioConsumer.rtpParameters.codecs.length, 1);
    assert.deepEqual(audioConsumer.rtpParameters.codecs[0], {
      mimeType: 'audio/opus',
      payloadType: 100,
      clockRate: 48000,
      channels: 2,
      parameters: {
        useinbandfec: 1, usedtx: 1, foo: 222.222, bar: '333',
      },
      rtcpFeedback: [],
    });
    assert.equal(audioConsumer.rtpParameters.msid, '1111-1111-1111-1111 2222-2222-2222-2222');
    assert.equal(audioConsumer.type, 'simple');
    assert.equal(audioConsumer.paused, false);
    assert.equal(audioConsumer.producerPaused, false);
    assert.equal(audioConsumer.priority, 1);
    assert.deepEqual(audioConsumer.score, { score: 10, producerScore: 0, producerScores: [0] });
    assert.equal(audioConsumer.preferredLayers, undefined);
    assert.equal(audioConsumer.currentLayers, undefined);
    assert.deepEqual(audioConsumer.appData, { baz: 'LOL' });

    const dump1 = await router.dump();
    assert.ok(dump1.mapProducerIdConsumerIds.some(
      (e) => e.key === audioProducer.id && e.values.length === 1 && e.values[0] === audioConsumer.id,
    ));
    assert.ok(dump1.mapConsumerIdProducerId.some((e) => e.key === audioConsumer.id && e.value === audioProducer.id));
    const transportDump1 = await transport2.dump();
    assert.deepEqual(transportDump1.producerIds, []);
    assert.deepEqual(transportDump1.consumerIds, [audioConsumer.id]);

    const onNewConsumer2 = [];
    transport2.observer.once('newconsumer', (c) => onNewConsumer2.push(c));
    assert.equal(router.canConsume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities }), true);
    await videoProducer.pause();
    const videoConsumer = await transport2.consume({
      producerId: videoProducer.id,
      rtpCapabilities: consumerDeviceCapabilities,
      paused: true,
      preferredLayers: { spatialLayer: 12, temporalLayer: 0 },
      appData: { baz: 'LOL' },
    });
    assert.equal(onNewConsumer2.length, 1);
    assert.equal(onNewConsumer2[0], videoConsumer);
    assert.equal(videoConsumer.producerId, videoProducer.id);
    assert.equal(videoConsumer.kind, 'video');
    assert.equal(videoConsumer.rtpParameters.mid, '1');
    assert.equal(videoConsumer.rtpParameters.codecs.length, 2);
    assert.deepEqual(videoConsumer.rtpParameters.codecs[0], {
      mimeType: 'video/H264',
      payloadType: 103,
      clockRate: 90000,
      parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032' },
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
        { type: 'goog-remb', parameter: '' },
      ],
    });
    assert.deepEqual(videoConsumer.rtpParameters.codecs[1], {
      mimeType: 'video/rtx',
      payloadType: 104,
      clockRate: 90000,
      parameters: { apt: 103 },
      rtcpFeedback: [],
    });
    assert.equal(videoConsumer.rtpParameters.msid, undefined);
    assert.equal(videoConsumer.type, 'simulcast');
    assert.equal(videoConsumer.paused, true);
    assert.equal(videoConsumer.producerPaused, true);
    assert.equal(videoConsumer.priority, 1);
    assert.deepEqual(videoConsumer.score, { score: 10, producerScore: 0, producerScores: [0, 0, 0, 0] });
    assert.deepEqual(videoConsumer.preferredLayers, { spatialLayer: 3, temporalLayer: 0 });
    assert.equal(videoConsumer.currentLayers, undefined);
    assert.deepEqual(videoConsumer.appData, { baz: 'LOL' });

    const onNewConsumer3 = [];
    transport2.observer.once('newconsumer', (c) => onNewConsumer3.push(c));
    const videoPipeConsumer = await transport2.consume({
      producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities, pipe: true,
    });
    assert.equal(onNewConsumer3.length, 1);
    assert.equal(onNewConsumer3[0], videoPipeConsumer);
    assert.equal(videoPipeConsumer.producerId, videoProducer.id);
    assert.equal(videoPipeConsumer.kind, 'video');
    assert.equal(videoPipeConsumer.rtpParameters.mid, undefined);
    assert.equal(videoPipeConsumer.rtpParameters.codecs.length, 2);
    assert.equal(videoPipeConsumer.rtpParameters.codecs[0].payloadType, 103);
    assert.equal(videoPipeConsumer.rtpParameters.codecs[1].payloadType, 104);
    assert.equal(videoPipeConsumer.type, 'pipe');
    assert.equal(videoPipeConsumer.paused, false);
    assert.equal(videoPipeConsumer.producerPaused, true);
    assert.equal(videoPipeConsumer.priority, 1);
    assert.deepEqual(videoPipeConsumer.score, { score: 10, producerScore: 10, producerScores: [0, 0, 0, 0] });
    assert.equal(videoPipeConsumer.preferredLayers, undefined);
    assert.equal(videoPipeConsumer.currentLayers, undefined);
    assert.deepEqual(videoPipeConsumer.appData, {});

    const dump2 = await router.dump();
    const videoEntry = dump2.mapProducerIdConsumerIds.find((e) => e.key === videoProducer.id);
    assert.deepEqual([...videoEntry.values].sort(), [videoConsumer.id, videoPipeConsumer.id].sort());
    assert.equal(dump2.mapConsumerIdProducerId.length, 3);
    const transportDump2 = await transport2.dump();
    assert.deepEqual([...transportDump2.consumerIds].sort(),
      [audioConsumer.id, videoConsumer.id, videoPipeConsumer.id].sort());
  });

  it('transport.consume() with unknown producerId rejects with NotFoundError', async () => {
    await rejectsWith(transport2.consume({ producerId: '12345678', rtpCapabilities: consumerDeviceCapabilities }),
      NotFoundError);
  });

  it('transport.consume() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(transport2.consume({ rtpCapabilities: consumerDeviceCapabilities }), TypeError,
      'missing producerId');
    await assertRejects(transport2.consume(), TypeError, 'missing producerId');
    await assertRejects(transport2.consume({ producerId: 123 }), TypeError, 'missing producerId');
    await assertRejects(transport2.consume({
      producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities, appData: 'foo',
    }), TypeError, 'if given, appData must be an object');
    await assertRejects(transport2.consume({
      producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities, mid: 123,
    }), TypeError, 'if given, mid must be non empty string');
    // Invalid capabilities: checked by the engine before the producer lookup.
    await rejectsWith(transport2.consume({ producerId: audioProducer.id, rtpCapabilities: { codecs: 1 } }), TypeError);
  });

  it('transport.consume() with enableRtx succeeds', async () => {
    const consumer = await transport2.consume({
      producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities, enableRtx: true,
    });
    assert.equal(consumer.kind, 'audio');
    assert.equal(consumer.rtpParameters.codecs.length, 1);
    assert.deepEqual(consumer.rtpParameters.codecs[0], {
      mimeType: 'audio/opus',
      payloadType: 100,
      clockRate: 48000,
      channels: 2,
      parameters: {
        useinbandfec: 1, usedtx: 1, foo: 222.222, bar: '333',
      },
      rtcpFeedback: [{ type: 'nack', parameter: '' }],
    });
  });

  it('transport.consume() can be created with user provided mid', async () => {
    const consumer1 = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    assert.match(consumer1.rtpParameters.mid, /^[0-9]+/);
    const consumer2 = await transport2.consume({
      producerId: audioProducer.id, mid: 'custom-mid', rtpCapabilities: consumerDeviceCapabilities,
    });
    assert.equal(consumer2.rtpParameters.mid, 'custom-mid');
    const consumer3 = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    assert.match(consumer3.rtpParameters.mid, /^[0-9]+/);
    assert.equal(Number(consumer1.rtpParameters.mid) + 1, Number(consumer3.rtpParameters.mid));
  });

  it('transport.consume() with incompatible rtpCapabilities rejects with UnsupportedError', async () => {
    let caps = {
      codecs: [{
        kind: 'audio', mimeType: 'audio/ISAC', preferredPayloadType: 100, clockRate: 32000, channels: 1,
      }],
      headerExtensions: [],
    };
    assert.equal(router.canConsume({ producerId: audioProducer.id, rtpCapabilities: caps }), false);
    await rejectsWith(transport2.consume({ producerId: audioProducer.id, rtpCapabilities: caps }), UnsupportedError);
    caps = { codecs: [], headerExtensions: [] };
    assert.equal(router.canConsume({ producerId: audioProducer.id, rtpCapabilities: caps }), false);
    await rejectsWith(transport2.consume({ producerId: audioProducer.id, rtpCapabilities: caps }), UnsupportedError);
  });

  it('consumer.dump() succeeds', async () => {
    const audioConsumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const dump1 = await audioConsumer.dump();
    assert.equal(dump1.id, audioConsumer.id);
    assert.equal(dump1.producerId, audioConsumer.producerId);
    assert.equal(dump1.kind, audioConsumer.kind);
    assert.equal(dump1.rtpParameters.codecs.length, 1);
    assert.equal(dump1.rtpParameters.codecs[0].mimeType, 'audio/opus');
    assert.equal(dump1.rtpParameters.codecs[0].payloadType, 100);
    assert.equal(dump1.rtpParameters.codecs[0].clockRate, 48000);
    assert.equal(dump1.rtpParameters.codecs[0].channels, 2);
    assert.deepEqual(dump1.rtpParameters.codecs[0].parameters, {
      useinbandfec: 1, usedtx: 1, foo: 222.222, bar: '333',
    });
    assert.deepEqual(dump1.rtpParameters.codecs[0].rtcpFeedback, []);
    assert.deepEqual(dump1.rtpParameters.headerExtensions, [
      {
        uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, encrypt: false, parameters: {},
      },
      {
        uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 4, parameters: {}, encrypt: false,
      },
      {
        uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 6, parameters: {}, encrypt: false,
      },
    ]);
    assert.equal(dump1.rtpParameters.encodings.length, 1);
    assert.equal(dump1.rtpParameters.encodings[0].codecPayloadType, 100);
    assert.equal(dump1.rtpParameters.encodings[0].ssrc, audioConsumer.rtpParameters.encodings[0].ssrc);
    assert.equal(dump1.rtpParameters.msid, '1111-1111-1111-1111 2222-2222-2222-2222');
    assert.equal(dump1.type, 'simple');
    assert.equal(dump1.consumableRtpEncodings.length, 1);
    assert.equal(dump1.consumableRtpEncodings[0].ssrc, audioProducer.consumableRtpParameters.encodings[0].ssrc);
    assert.deepEqual(dump1.supportedCodecPayloadTypes, [100]);
    assert.deepEqual(pick(dump1, ['paused', 'producerPaused', 'priority']),
      { paused: false, producerPaused: false, priority: 1 });
    assert.deepEqual(dump1.rtpStream, {
      params: {
        encodingIdx: 0,
        ssrc: audioConsumer.rtpParameters.encodings[0].ssrc,
        payloadType: 100,
        mimeType: 'audio/opus',
        clockRate: 48000,
        cname: audioConsumer.rtpParameters.rtcp.cname,
        useNack: false,
        usePli: false,
        useFir: false,
        useInBandFec: true,
        useDtx: false,
        spatialLayers: 1,
        temporalLayers: 1,
      },
      score: 10,
    });

    const videoConsumer = await transport2.consume({
      producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities, paused: true,
    });
    const dump2 = await videoConsumer.dump();
    assert.equal(dump2.id, videoConsumer.id);
    assert.equal(dump2.kind, 'video');
    assert.equal(dump2.rtpParameters.codecs.length, 2);
    assert.equal(dump2.rtpParameters.codecs[0].mimeType, 'video/H264');
    assert.equal(dump2.rtpParameters.codecs[0].payloadType, 103);
    assert.equal(dump2.rtpParameters.codecs[0].channels, undefined);
    assert.deepEqual(dump2.rtpParameters.codecs[0].rtcpFeedback, [
      { type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' },
    ]);
    assert.deepEqual(dump2.rtpParameters.headerExtensions.map((h) => [h.uri, h.id]), [
      ['urn:ietf:params:rtp-hdrext:sdes:mid', 1],
      ['http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 4],
      ['urn:3gpp:video-orientation', 8],
      ['urn:ietf:params:rtp-hdrext:toffset', 9],
    ]);
    assert.equal(dump2.rtpParameters.encodings.length, 1);
    assert.deepEqual(pick(dump2.rtpParameters.encodings[0], ['codecPayloadType', 'ssrc', 'scalabilityMode']), {
      codecPayloadType: 103,
      ssrc: videoConsumer.rtpParameters.encodings[0].ssrc,
      scalabilityMode: 'L4T5',
    });
    assert.equal(dump2.rtpParameters.encodings[0].rtx.ssrc, videoConsumer.rtpParameters.encodings[0].rtx.ssrc);
    assert.equal(dump2.rtpParameters.msid, undefined);
    assert.equal(dump2.consumableRtpEncodings.length, 4);
    for (let i = 0; i < 4; i++) {
      assert.equal(dump2.consumableRtpEncodings[i].ssrc, videoProducer.consumableRtpParameters.encodings[i].ssrc);
      assert.equal(dump2.consumableRtpEncodings[i].scalabilityMode, 'L1T5');
    }
    assert.deepEqual(dump2.supportedCodecPayloadTypes, [103]);
    assert.deepEqual(pick(dump2, ['paused', 'producerPaused', 'priority']),
      { paused: true, producerPaused: false, priority: 1 });
    assert.equal(dump2.type, 'simulcast');
    assert.deepEqual(pick(dump2.rtpStream.params, ['mimeType', 'payloadType', 'spatialLayers', 'temporalLayers', 'rtxSsrc', 'useNack', 'usePli']), {
      mimeType: 'video/H264',
      payloadType: 103,
      spatialLayers: 4,
      temporalLayers: 5,
      rtxSsrc: videoConsumer.rtpParameters.encodings[0].rtx.ssrc,
      useNack: true,
      usePli: true,
    });
    assert.deepEqual(pick(dump2.rtpStream.rtxStream.params, ['ssrc', 'mimeType', 'clockRate']), {
      ssrc: videoConsumer.rtpParameters.encodings[0].rtx.ssrc, mimeType: 'video/rtx', clockRate: 90000,
    });
    // Nothing forwarded yet (paused): no current layers.
    assert.deepEqual(pick(dump2, ['preferredSpatialLayer', 'preferredTemporalLayer', 'currentSpatialLayer', 'currentTemporalLayer']), {
      preferredSpatialLayer: 3, preferredTemporalLayer: 4, currentSpatialLayer: -1, currentTemporalLayer: -1,
    });
  });

  it('consumer.getStats() succeeds', async () => {
    const audioConsumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const stats1 = await audioConsumer.getStats();
    assert.equal(stats1.length, 1);
    assert.deepEqual(pick(stats1[0], ['type', 'kind', 'mimeType', 'ssrc']), {
      type: 'outbound-rtp', kind: 'audio', mimeType: 'audio/opus', ssrc: audioConsumer.rtpParameters.encodings[0].ssrc,
    });
    const videoConsumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const stats2 = await videoConsumer.getStats();
    assert.equal(stats2.length, 1);
    assert.deepEqual(pick(stats2[0], ['type', 'kind', 'mimeType', 'ssrc']), {
      type: 'outbound-rtp', kind: 'video', mimeType: 'video/H264', ssrc: videoConsumer.rtpParameters.encodings[0].ssrc,
    });
  });

  it('consumer.pause() and resume() succeed', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    let pauses = 0;
    let resumes = 0;
    consumer.observer.on('pause', () => pauses++);
    consumer.observer.on('resume', () => resumes++);
    await consumer.pause();
    assert.equal(consumer.paused, true);
    assert.equal((await consumer.dump()).paused, true);
    await consumer.resume();
    assert.equal(consumer.paused, false);
    assert.equal((await consumer.dump()).paused, false);
    consumer.pause();
    consumer.resume();
    consumer.pause();
    consumer.pause();
    consumer.pause();
    await consumer.resume();
    assert.equal(pauses, 3);
    assert.equal(resumes, 3);
  });

  it('producer.pause() and resume() emit consumer observer events', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const events = [];
    consumer.observer.once('resume', () => events.push('resume'));
    consumer.observer.once('pause', () => events.push('pause'));
    await Promise.all([audioProducer.pause(), audioProducer.resume()]);
    await waitUntil(() => events.length === 2, 5000, 'consumer observer "pause" and "resume"');
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(consumer.paused, false);
  });

  it('consumer.setPreferredLayers() succeeds', async () => {
    const audioConsumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const videoConsumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await audioConsumer.setPreferredLayers({ spatialLayer: 1, temporalLayer: 1 });
    assert.equal(audioConsumer.preferredLayers, undefined);
    await videoConsumer.setPreferredLayers({ spatialLayer: 2, temporalLayer: 3 });
    assert.deepEqual(videoConsumer.preferredLayers, { spatialLayer: 2, temporalLayer: 3 });
    await videoConsumer.setPreferredLayers({ spatialLayer: 3 });
    assert.deepEqual(videoConsumer.preferredLayers, { spatialLayer: 3, temporalLayer: 4 });
    await videoConsumer.setPreferredLayers({ spatialLayer: 3, temporalLayer: 0 });
    assert.deepEqual(videoConsumer.preferredLayers, { spatialLayer: 3, temporalLayer: 0 });
    await videoConsumer.setPreferredLayers({ spatialLayer: 66, temporalLayer: 66 });
    assert.deepEqual(videoConsumer.preferredLayers, { spatialLayer: 3, temporalLayer: 4 });
  });

  it('consumer.setPreferredLayers() with wrong arguments rejects with TypeError', async () => {
    const consumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await assertRejects(consumer.setPreferredLayers({}), TypeError, 'spatialLayer must be a number');
    await assertRejects(consumer.setPreferredLayers({ foo: '123' }), TypeError, 'spatialLayer must be a number');
    await assertRejects(consumer.setPreferredLayers('foo'), TypeError, 'spatialLayer must be a number');
    await assertRejects(consumer.setPreferredLayers({ temporalLayer: 2 }), TypeError, 'spatialLayer must be a number');
    await assertRejects(consumer.setPreferredLayers({ spatialLayer: 1, temporalLayer: '2' }), TypeError,
      'if given, temporalLayer must be a number');
  });

  it('transport.consume() for an SVC producer honors preferredLayers', async () => {
    const { vpxRouter, t1, t2 } = await vpxTransports();
    const producer = await t1.produce(vp9SvcProducerOptions);
    assert.equal(vpxRouter.canConsume({ producerId: producer.id, rtpCapabilities: vpxConsumerDeviceCapabilities }), true);
    const c1 = await t2.consume({
      producerId: producer.id,
      rtpCapabilities: vpxConsumerDeviceCapabilities,
      paused: true,
      preferredLayers: { spatialLayer: 1, temporalLayer: 0 },
    });
    assert.equal(c1.type, 'svc');
    assert.deepEqual(c1.preferredLayers, { spatialLayer: 1, temporalLayer: 0 });
    const c2 = await t2.consume({
      producerId: producer.id,
      rtpCapabilities: vpxConsumerDeviceCapabilities,
      paused: true,
      preferredLayers: { spatialLayer: 9, temporalLayer: 9 },
    });
    assert.deepEqual(c2.preferredLayers, { spatialLayer: 2, temporalLayer: 2 });
    const c3 = await t2.consume({
      producerId: producer.id,
      rtpCapabilities: vpxConsumerDeviceCapabilities,
      paused: true,
      preferredLayers: { spatialLayer: 1 },
    });
    assert.deepEqual(c3.preferredLayers, { spatialLayer: 1, temporalLayer: 2 });
  });

  it('transport.consume() for a simulcast producer honors preferredLayers', async () => {
    const { vpxRouter, t1, t2 } = await vpxTransports();
    const producer = await t1.produce(vp8SimulcastProducerOptions);
    assert.equal(vpxRouter.canConsume({ producerId: producer.id, rtpCapabilities: vpxConsumerDeviceCapabilities }), true);
    const c1 = await t2.consume({
      producerId: producer.id,
      rtpCapabilities: vpxConsumerDeviceCapabilities,
      paused: true,
      preferredLayers: { spatialLayer: 1, temporalLayer: 0 },
    });
    assert.equal(c1.type, 'simulcast');
    assert.deepEqual(c1.preferredLayers, { spatialLayer: 1, temporalLayer: 0 });
    const c2 = await t2.consume({
      producerId: producer.id,
      rtpCapabilities: vpxConsumerDeviceCapabilities,
      paused: true,
      preferredLayers: { spatialLayer: 9, temporalLayer: 9 },
    });
    assert.deepEqual(c2.preferredLayers, { spatialLayer: 2, temporalLayer: 4 });
  });

  for (const [title, encodings, type] of [
    ['a single-encoding no temporal layer producer is of type simple', [{ ssrc: 11111111 }], 'simple'],
    ['a single-encoding multiple temporal layer producer is of type svc', [{ ssrc: 55555555, scalabilityMode: 'L1T3' }], 'svc'],
    ['a multiple-encoding producer is of type simulcast', [
      { ssrc: 11111111, scalabilityMode: 'L1T3' },
      { ssrc: 22222222, scalabilityMode: 'L1T3' },
    ], 'simulcast'],
  ]) {
    it(`transport.consume() from ${title}`, async () => {
      const { t1, t2 } = await vpxTransports();
      const producer = await t1.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{
            mimeType: 'video/VP8',
            payloadType: 96,
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack', parameter: '' }, { type: 'nack', parameter: 'pli' }],
          }],
          headerExtensions: [],
          encodings,
          rtcp: { cname: 'test' },
        },
      });
      assert.equal(producer.type, type);
      const consumer = await t2.consume({ producerId: producer.id, rtpCapabilities: vpxConsumerDeviceCapabilities });
      assert.equal(consumer.type, type);
    });
  }

  it('consumer.setPriority() succeeds', async () => {
    const consumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await consumer.setPriority(2);
    assert.equal(consumer.priority, 2);
  });

  it('consumer.setPriority() with wrong arguments rejects with TypeError', async () => {
    const consumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await assertRejects(consumer.setPriority(), TypeError, 'priority must be a positive number');
    await assertRejects(consumer.setPriority('foo'), TypeError, 'priority must be a positive number');
    await assertRejects(consumer.setPriority(-1), TypeError, 'priority must be a positive number');
    // 0 passes the Node-layer check; the engine refuses it.
    await rejectsWith(consumer.setPriority(0), TypeError);
  });

  it('consumer.unsetPriority() succeeds', async () => {
    const consumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await consumer.setPriority(3);
    await consumer.unsetPriority();
    assert.equal(consumer.priority, 1);
  });

  it('consumer.requestKeyFrame() succeeds', async () => {
    const consumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    assert.equal(await consumer.requestKeyFrame(), undefined);
  });

  it('consumer.enableTraceEvent() succeeds', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await consumer.enableTraceEvent(['rtp', 'pli']);
    assert.deepEqual((await consumer.dump()).traceEventTypes.sort(), ['pli', 'rtp']);
    await consumer.enableTraceEvent();
    assert.deepEqual((await consumer.dump()).traceEventTypes, []);
    await consumer.enableTraceEvent(['nack', 'FOO', 'fir']);
    assert.deepEqual((await consumer.dump()).traceEventTypes.sort(), ['fir', 'nack']);
    await consumer.enableTraceEvent();
    assert.deepEqual((await consumer.dump()).traceEventTypes, []);
  });

  it('consumer.enableTraceEvent() with wrong arguments rejects with TypeError', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await assertRejects(consumer.enableTraceEvent(123), TypeError, 'types must be an array');
    await assertRejects(consumer.enableTraceEvent('rtp'), TypeError, 'types must be an array');
    await assertRejects(consumer.enableTraceEvent(['fir', 123.123]), TypeError, 'every type must be a string');
  });

  it('Consumer emits "producerpause" and "producerresume"', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    await Promise.all([waitFor(consumer, 'producerpause'), audioProducer.pause()]);
    assert.equal(consumer.paused, false);
    assert.equal(consumer.producerPaused, true);
    await Promise.all([waitFor(consumer, 'producerresume'), audioProducer.resume()]);
    assert.equal(consumer.paused, false);
    assert.equal(consumer.producerPaused, false);
  });

  it('Consumer emits "score"', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const channel = consumer.channelForTesting;
    let scores = 0;
    consumer.on('score', () => scores++);
    const score = { score: 9, producerScore: 10, producerScores: [8] };
    channel.emit(consumer.id, 'score', score);
    channel.emit(consumer.id, 'score', score);
    channel.emit(consumer.id, 'score', score);
    assert.equal(scores, 3);
    assert.deepEqual(consumer.score, score);
  });

  it('consumer.close() succeeds', async () => {
    const audioConsumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const videoConsumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    let closes = 0;
    audioConsumer.observer.once('close', () => closes++);
    audioConsumer.close();
    assert.equal(closes, 1);
    assert.equal(audioConsumer.closed, true);
    await assertRejects(audioConsumer.dump(), InvalidStateError, 'Consumer closed [method:dump]');
    const routerDump = await router.dump();
    const entries = Object.fromEntries(routerDump.mapProducerIdConsumerIds.map((e) => [e.key, e.values]));
    assert.deepEqual(entries[audioProducer.id], []);
    assert.deepEqual(entries[videoProducer.id], [videoConsumer.id]);
    assert.deepEqual(routerDump.mapConsumerIdProducerId, [{ key: videoConsumer.id, value: videoProducer.id }]);
    const transportDump = await transport2.dump();
    assert.deepEqual(transportDump.producerIds, []);
    assert.deepEqual(transportDump.consumerIds, [videoConsumer.id]);
  });

  it('Consumer methods reject if closed', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    consumer.close();
    await assertRejects(consumer.dump(), InvalidStateError, 'Consumer closed [method:dump]');
    await assertRejects(consumer.getStats(), InvalidStateError, 'Consumer closed [method:getStats]');
    await assertRejects(consumer.pause(), InvalidStateError, 'Consumer closed [method:pause]');
    await assertRejects(consumer.resume(), InvalidStateError, 'Consumer closed [method:resume]');
    // Arguments are checked first.
    await assertRejects(consumer.setPreferredLayers({}), TypeError, 'spatialLayer must be a number');
    await assertRejects(consumer.setPreferredLayers({ spatialLayer: 1 }), InvalidStateError,
      'Consumer closed [method:setPreferredLayers]');
    await assertRejects(consumer.setPriority(2), InvalidStateError, 'Consumer closed [method:setPriority]');
    await assertRejects(consumer.requestKeyFrame(), InvalidStateError, 'Consumer closed [method:requestKeyFrame]');
  });

  it('Consumer emits "producerclose" if Producer is closed', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    let closes = 0;
    consumer.observer.once('close', () => closes++);
    const promise = waitFor(consumer, 'producerclose');
    audioProducer.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(consumer.closed, true);
    await assertRejects(consumer.dump(), InvalidStateError, 'Consumer closed [method:dump]');
    assert.deepEqual((await transport2.dump()).consumerIds, []);
  });

  it('Consumer emits "producerclose" if the Producer\'s Transport is closed', async () => {
    const consumer = await transport2.consume({ producerId: audioProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    const promise = waitFor(consumer, 'producerclose');
    transport1.close();
    await promise;
    assert.equal(consumer.closed, true);
  });

  it('Consumer emits "transportclose" if Transport is closed', async () => {
    const consumer = await transport2.consume({ producerId: videoProducer.id, rtpCapabilities: consumerDeviceCapabilities });
    let closes = 0;
    consumer.observer.once('close', () => closes++);
    const promise = waitFor(consumer, 'transportclose');
    transport2.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(consumer.closed, true);
    await assertRejects(consumer.dump(), InvalidStateError, 'Consumer closed [method:dump]');
    const routerDump = await router.dump();
    const entries = Object.fromEntries(routerDump.mapProducerIdConsumerIds.map((e) => [e.key, e.values]));
    assert.deepEqual(entries[audioProducer.id], []);
    assert.deepEqual(entries[videoProducer.id], []);
    assert.deepEqual(routerDump.mapConsumerIdProducerId, []);
  });
});

describe('Consumer (Node layer against a fake engine)', () => {
  const consumeResponse = {
    kind: 'video',
    rtpParameters: {
      mid: '0',
      codecs: [{
        mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [],
      }],
      headerExtensions: [],
      encodings: [{ ssrc: 1234, scalabilityMode: 'L3T3' }],
      rtcp: { cname: 'abcd', reducedSize: true },
    },
    type: 'simulcast',
    paused: false,
    producerPaused: true,
    score: { score: 10, producerScore: 0, producerScores: [0, 0, 0] },
    preferredLayers: { spatialLayer: 2, temporalLayer: 2 },
  };
  let channel;
  let router;
  let transport;

  beforeEach(async () => {
    channel = new FakeChannel({
      'router.createDirectTransport': {},
      'router.closeTransport': undefined,
      'worker.closeRouter': undefined,
      'transport.consume': consumeResponse,
      'transport.closeConsumer': undefined,
      'consumer.pause': undefined,
      'consumer.resume': undefined,
      'consumer.setPreferredLayers': (id, data) => ({ spatialLayer: Math.min(data.spatialLayer, 2), temporalLayer: 1 }),
      'consumer.setPriority': (id, data) => ({ priority: data.priority }),
      'consumer.requestKeyFrame': undefined,
    });
    router = new Router({ internal: { routerId: 'router-1' }, data: { rtpCapabilities: {} }, channel });
    transport = await router.createDirectTransport();
  });

  it('consume() sends the raw request and builds the consumer from the response', async () => {
    const rtpCapabilities = { codecs: [], headerExtensions: [] };
    const consumer = await transport.consume({
      producerId: 'p1', rtpCapabilities, preferredLayers: { spatialLayer: 2 }, appData: { x: 1 },
    });
    const [req] = channel.sent('transport.consume');
    assert.equal(req.handlerId, transport.id);
    assert.deepEqual(req.data, {
      consumerId: consumer.id,
      producerId: 'p1',
      rtpCapabilities,
      paused: false,
      ignoreDtx: false,
      pipe: false,
      preferredLayers: { spatialLayer: 2 },
    });
    assert.equal(consumer.producerId, 'p1');
    assert.equal(consumer.kind, 'video');
    assert.equal(consumer.type, 'simulcast');
    assert.deepEqual(consumer.rtpParameters, consumeResponse.rtpParameters);
    assert.equal(consumer.paused, false);
    assert.equal(consumer.producerPaused, true);
    assert.equal(consumer.priority, 1);
    assert.deepEqual(consumer.score, consumeResponse.score);
    assert.deepEqual(consumer.preferredLayers, { spatialLayer: 2, temporalLayer: 2 });
    assert.equal(consumer.currentLayers, undefined);
    assert.deepEqual(consumer.appData, { x: 1 });

    await transport.consume({
      producerId: 'p1', rtpCapabilities, paused: true, mid: 'm', ignoreDtx: true, enableRtx: false, pipe: true,
    });
    assert.deepEqual(channel.sent('transport.consume')[1].data, {
      consumerId: channel.sent('transport.consume')[1].data.consumerId,
      producerId: 'p1',
      rtpCapabilities,
      paused: true,
      mid: 'm',
      ignoreDtx: true,
      enableRtx: false,
      pipe: true,
    });
  });

  it('consume() argument errors never reach the engine', async () => {
    await assertRejects(transport.consume({}), TypeError, 'missing producerId');
    await assertRejects(transport.consume({ producerId: 'p', appData: 1 }), TypeError, 'if given, appData must be an object');
    await assertRejects(transport.consume({ producerId: 'p', mid: {} }), TypeError, 'if given, mid must be non empty string');
    assert.equal(channel.sent('transport.consume').length, 0);
  });

  it('a consume() response without score gets mediasoup\'s default score', async () => {
    channel.answers['transport.consume'] = { ...consumeResponse, score: undefined, preferredLayers: undefined };
    const consumer = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    assert.deepEqual(consumer.score, { score: 10, producerScore: 10, producerScores: [] });
    assert.equal(consumer.preferredLayers, undefined);
  });

  it('"producerclose" closes the consumer and removes it from its transport', async () => {
    const consumer = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    const events = [];
    consumer.on('@producerclose', () => events.push('@producerclose'));
    consumer.on('producerclose', () => events.push('producerclose'));
    consumer.observer.on('close', () => events.push('observer:close'));
    channel.fire(consumer.id, 'producerclose');
    channel.fire(consumer.id, 'producerclose');
    assert.deepEqual(events, ['@producerclose', 'producerclose', 'observer:close']);
    assert.equal(consumer.closed, true);
    assert.equal(channel.listenerCount(consumer.id), 0);
    // No engine request: the engine closed it.
    assert.equal(channel.sent('transport.closeConsumer').length, 0);
    // The transport forgot it: its close does not touch it again.
    transport.close();
    assert.deepEqual(events, ['@producerclose', 'producerclose', 'observer:close']);
  });

  it('close() asks the engine; transport close gives "transportclose"', async () => {
    const consumer1 = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    const consumer2 = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    const events = [];
    consumer1.observer.on('close', () => events.push('1:observer:close'));
    consumer2.on('transportclose', () => events.push('2:transportclose'));
    consumer2.observer.on('close', () => events.push('2:observer:close'));
    consumer1.close();
    assert.deepEqual(channel.sent('transport.closeConsumer').map((r) => [r.handlerId, r.data]),
      [[transport.id, { consumerId: consumer1.id }]]);
    transport.close();
    assert.deepEqual(events, ['1:observer:close', '2:transportclose', '2:observer:close']);
    assert.equal(channel.sent('transport.closeConsumer').length, 1);
  });

  it('producerpause/producerresume and pause/resume drive the observer as mediasoup does', async () => {
    channel.answers['transport.consume'] = { ...consumeResponse, producerPaused: false };
    const consumer = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    const events = [];
    for (const name of ['producerpause', 'producerresume']) consumer.on(name, () => events.push(name));
    consumer.observer.on('pause', () => events.push('observer:pause'));
    consumer.observer.on('resume', () => events.push('observer:resume'));

    channel.fire(consumer.id, 'producerpause');
    channel.fire(consumer.id, 'producerpause');
    assert.equal(consumer.producerPaused, true);
    // Already not flowing: pausing the consumer changes nothing for the observer.
    await consumer.pause();
    channel.fire(consumer.id, 'producerresume');
    assert.equal(consumer.producerPaused, false);
    await consumer.resume();
    await consumer.pause();
    channel.fire(consumer.id, 'producerpause');
    channel.fire(consumer.id, 'producerresume');
    assert.deepEqual(events, [
      'producerpause', 'observer:pause',
      'producerresume',
      'observer:resume',
      'observer:pause',
      'producerpause',
      'producerresume',
    ]);
  });

  it('engine events: score, layerschange, trace, rtp', async () => {
    const consumer = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    const events = [];
    for (const name of ['score', 'layerschange', 'trace', 'rtp']) {
      consumer.on(name, (arg) => events.push([name, arg]));
      consumer.observer.on(name, (arg) => events.push([`observer:${name}`, arg]));
    }
    const score = { score: 7, producerScore: 8, producerScores: [8, 0, 0] };
    channel.fire(consumer.id, 'score', score);
    assert.deepEqual(consumer.score, score);
    channel.fire(consumer.id, 'layerschange', { spatialLayer: 1, temporalLayer: 0 });
    assert.deepEqual(consumer.currentLayers, { spatialLayer: 1, temporalLayer: 0 });
    channel.fire(consumer.id, 'layerschange', undefined);
    assert.equal(consumer.currentLayers, undefined);
    const trace = {
      type: 'rtp', timestamp: 1, direction: 'out', info: {},
    };
    channel.fire(consumer.id, 'trace', trace);
    channel.fire(consumer.id, 'rtp', Buffer.from([1, 2]));
    assert.deepEqual(events, [
      ['score', score], ['observer:score', score],
      ['layerschange', { spatialLayer: 1, temporalLayer: 0 }],
      ['observer:layerschange', { spatialLayer: 1, temporalLayer: 0 }],
      ['layerschange', undefined], ['observer:layerschange', undefined],
      ['trace', trace], ['observer:trace', trace],
      ['rtp', Buffer.from([1, 2])],
    ]);
  });

  it('setPreferredLayers(), setPriority(), unsetPriority(), requestKeyFrame() send their requests', async () => {
    const consumer = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    await consumer.setPreferredLayers({ spatialLayer: 5 });
    assert.deepEqual(consumer.preferredLayers, { spatialLayer: 2, temporalLayer: 1 });
    await consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 0 });
    assert.deepEqual(channel.sent('consumer.setPreferredLayers').map((r) => [r.handlerId, r.data]), [
      [consumer.id, { spatialLayer: 5 }],
      [consumer.id, { spatialLayer: 0, temporalLayer: 0 }],
    ]);
    // A simple consumer answers nothing.
    channel.answers['consumer.setPreferredLayers'] = undefined;
    await consumer.setPreferredLayers({ spatialLayer: 0 });
    assert.equal(consumer.preferredLayers, undefined);

    await consumer.setPriority(3);
    assert.equal(consumer.priority, 3);
    await consumer.unsetPriority();
    assert.equal(consumer.priority, 1);
    assert.deepEqual(channel.sent('consumer.setPriority').map((r) => r.data), [{ priority: 3 }, { priority: 1 }]);
    await consumer.requestKeyFrame();
    assert.deepEqual(channel.sent('consumer.requestKeyFrame').map((r) => [r.handlerId, r.data]), [[consumer.id, undefined]]);
  });

  it('"rtp" after close is not emitted', async () => {
    const consumer = await transport.consume({ producerId: 'p1', rtpCapabilities: {} });
    let got = 0;
    consumer.on('rtp', () => got++);
    const handler = channel.listeners(consumer.id)[0];
    consumer.close();
    handler('rtp', Buffer.from([1]));
    assert.equal(got, 0);
  });
});
