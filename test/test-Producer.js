'use strict';

const assert = require('node:assert/strict');

const gosfu = require('../');
const { Router } = require('../lib/Router');
const { Channel } = require('../lib/Channel');
const { FakeChannel } = require('./fakeChannel');
const {
  waitFor, closeWorker, assertRejects, assertThrows,
} = require('./helpers');

const {
  InvalidStateError, UnsupportedError, Producer,
} = gosfu.types;

function deepFreeze(object) {
  for (const value of Object.values(object)) {
    if (value && typeof value === 'object') deepFreeze(value);
  }
  return Object.freeze(object);
}

const mediaCodecs = deepFreeze([
  {
    kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { foo: '111' },
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
    rtcpFeedback: [], // Ignored.
  },
]);

const audioProducerOptions = deepFreeze({
  kind: 'audio',
  rtpParameters: {
    mid: 'AUDIO',
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 0,
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
    // No encodings on purpose.
    rtcp: { cname: 'audio-1' },
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
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
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
      { ssrc: 22222222, rtx: { ssrc: 22222223 }, scalabilityMode: 'L1T3' },
      { ssrc: 22222224, rtx: { ssrc: 22222225 } },
      { ssrc: 22222226, rtx: { ssrc: 22222227 } },
      { ssrc: 22222228, rtx: { ssrc: 22222229 } },
    ],
    rtcp: { cname: 'video-1' },
  },
  appData: { foo: 1, bar: '2' },
});

async function rejectsWith(promise, Class) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.constructor, Class, `expected ${Class.name}, got ${error.constructor.name}: ${error.message}`);
    return true;
  });
}

describe('Producer', () => {
  let worker;
  let router;
  let transport1;
  let transport2;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter({ mediaCodecs });
    transport1 = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    transport2 = await router.createPlainTransport({ listenIp: '127.0.0.1' });
  });

  afterEach(async () => {
    await closeWorker(worker);
    worker = undefined;
  });

  it('transport1.produce() succeeds', async () => {
    const onNewProducer = [];
    transport1.observer.once('newproducer', (p) => onNewProducer.push(p));
    const producer = await transport1.produce(audioProducerOptions);
    assert.equal(onNewProducer.length, 1);
    assert.equal(onNewProducer[0], producer);
    assert.equal(producer.constructor.name, 'Producer');
    assert.ok(producer instanceof Producer);
    assert.equal(typeof producer.id, 'string');
    assert.equal(producer.closed, false);
    assert.equal(producer.kind, 'audio');
    assert.equal(typeof producer.rtpParameters, 'object');
    assert.equal(producer.type, 'simple');
    // Private API.
    assert.equal(typeof producer.consumableRtpParameters, 'object');
    assert.equal(producer.paused, false);
    assert.deepEqual(producer.score, []);
    assert.deepEqual(producer.appData, { foo: 1, bar: '2' });
    assert.equal(router.producersMap.get(producer.id), producer);

    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapProducerIdConsumerIds, [{ key: producer.id, values: [] }]);
    assert.deepEqual(routerDump.mapConsumerIdProducerId, []);
    const transportDump = await transport1.dump();
    assert.equal(transportDump.id, transport1.id);
    assert.deepEqual(transportDump.producerIds, [producer.id]);
    assert.deepEqual(transportDump.consumerIds, []);
  });

  it('transport2.produce() succeeds', async () => {
    const onNewProducer = [];
    transport2.observer.once('newproducer', (p) => onNewProducer.push(p));
    const producer = await transport2.produce(videoProducerOptions);
    assert.equal(onNewProducer.length, 1);
    assert.equal(onNewProducer[0], producer);
    assert.equal(producer.kind, 'video');
    assert.equal(producer.type, 'simulcast');
    assert.equal(typeof producer.consumableRtpParameters, 'object');
    assert.equal(producer.paused, false);
    assert.deepEqual(producer.score, []);
    assert.deepEqual(producer.appData, { foo: 1, bar: '2' });

    const routerDump = await router.dump();
    assert.ok(routerDump.mapProducerIdConsumerIds.some(
      (e) => e.key === producer.id && e.values.length === 0,
    ));
    assert.equal(routerDump.mapConsumerIdProducerId.length, 0);
    const transportDump = await transport2.dump();
    assert.deepEqual(transportDump.producerIds, [producer.id]);
    assert.deepEqual(transportDump.consumerIds, []);
  });

  it('transport1.produce() without header extensions and rtcp succeeds', async () => {
    const producer = await transport1.produce({
      kind: 'audio',
      rtpParameters: {
        mid: 'AUDIO2',
        codecs: [
          {
            mimeType: 'audio/opus',
            payloadType: 0,
            clockRate: 48000,
            channels: 2,
            parameters: {
              useinbandfec: 1, usedtx: 1, foo: 222.222, bar: '333',
            },
          },
        ],
      },
      appData: { foo: 1, bar: '2' },
    });
    assert.equal(producer.kind, 'audio');
    assert.equal(producer.type, 'simple');
    assert.equal(typeof producer.consumableRtpParameters, 'object');
    // The engine gives it a CNAME and one encoding.
    assert.equal(typeof producer.rtpParameters.rtcp.cname, 'string');
    assert.equal(producer.rtpParameters.encodings.length, 1);
    producer.close();
  });

  it('transport1.produce() serializes rtpParameters instead of cloning them (README: request data is not cloned)', async () => {
    // mediasoup's structuredClone would throw DataCloneError here; gosfu
    // sends the JSON of the object: the function is dropped.
    const rtpParameters = {
      mid: 'AUDIO3',
      codecs: [{
        mimeType: 'audio/opus', payloadType: 0, clockRate: 48000, channels: 2, parameters: { onData() {} },
      }],
    };
    const producer = await transport1.produce({ kind: 'audio', rtpParameters });
    assert.deepEqual(producer.rtpParameters.codecs[0].parameters, {});
    assert.equal(typeof rtpParameters.codecs[0].parameters.onData, 'function');
    producer.close();
  });

  it('transport1.produce() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(transport1.produce({ kind: 'chicken', rtpParameters: {} }), TypeError,
      'invalid kind "chicken"');
    await assertRejects(transport1.produce(), TypeError, 'invalid kind "undefined"');
    await assertRejects(transport1.produce({ ...audioProducerOptions, appData: 'foo' }), TypeError,
      'if given, appData must be an object');
    const producer = await transport1.produce({ ...audioProducerOptions, id: 'my-producer-id' });
    assert.equal(producer.id, 'my-producer-id');
    await assertRejects(transport1.produce({ ...videoProducerOptions, id: 'my-producer-id' }), TypeError,
      'a Producer with same id "my-producer-id" already exists');
  });

  it('transport1.produce() with wrong rtpParameters rejects with TypeError', async () => {
    await rejectsWith(transport1.produce({ kind: 'audio', rtpParameters: {} }), TypeError);
    // Invalid ssrc.
    await rejectsWith(transport1.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [], headerExtensions: [], encodings: [{ ssrc: '1111' }], rtcp: { cname: 'qwerty' },
      },
    }), TypeError);
    // Empty encodings.
    await rejectsWith(transport1.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/h264',
            payloadType: 112,
            clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032' },
          },
          {
            mimeType: 'video/rtx', payloadType: 113, clockRate: 90000, parameters: { apt: 112 },
          },
        ],
        headerExtensions: [],
        encodings: [],
        rtcp: { cname: 'qwerty' },
      },
    }), TypeError);
    // Wrong apt in the RTX codec.
    await rejectsWith(transport1.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/h264',
            payloadType: 112,
            clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032' },
          },
          {
            mimeType: 'video/rtx', payloadType: 113, clockRate: 90000, parameters: { apt: 111 },
          },
        ],
        headerExtensions: [],
        encodings: [{ ssrc: 6666, rtx: { ssrc: 6667 } }],
        rtcp: { cname: 'video-1' },
      },
    }), TypeError);
  });

  it('transport1.produce() with unsupported codecs rejects with UnsupportedError', async () => {
    await rejectsWith(transport1.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/ISAC', payloadType: 108, clockRate: 32000 }],
        headerExtensions: [],
        encodings: [{ ssrc: 1111 }],
        rtcp: { cname: 'audio' },
      },
    }), UnsupportedError);
    // Invalid H264 profile-level-id.
    await rejectsWith(transport1.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/h264',
            payloadType: 112,
            clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': 'CHICKEN' },
          },
          {
            mimeType: 'video/rtx', payloadType: 113, clockRate: 90000, parameters: { apt: 112 },
          },
        ],
        headerExtensions: [],
        encodings: [{ ssrc: 6666, rtx: { ssrc: 6667 } }],
      },
    }), UnsupportedError);
  });

  it('transport.produce() with already used MID or SSRC rejects with Error', async () => {
    const audio = {
      kind: 'audio',
      rtpParameters: {
        mid: 'AUDIO',
        codecs: [{
          mimeType: 'audio/opus', payloadType: 0, clockRate: 48000, channels: 2,
        }],
        encodings: [{ ssrc: 33333333 }],
      },
    };
    const video = {
      kind: 'video',
      rtpParameters: {
        mid: 'VIDEO2',
        codecs: [{
          mimeType: 'video/h264',
          payloadType: 112,
          clockRate: 90000,
          parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032' },
        }],
        headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10 }],
        encodings: [{ ssrc: 22222222 }],
        rtcp: { cname: 'video-1' },
      },
    };
    await transport1.produce(audio);
    await assert.rejects(transport1.produce(audio), Error);
    await transport2.produce(video);
    await assert.rejects(transport2.produce(video), Error);
  });

  it('transport.produce() with no MID and with single encoding without RID or SSRC rejects with Error', async () => {
    await assert.rejects(transport1.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{
          mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2,
        }],
        encodings: [{}],
      },
    }), Error);
  });

  for (const [title, encodings, type] of [
    ['single encoding and no temporal layers is of type simple', [{ ssrc: 11111111 }], 'simple'],
    ['single encoding and temporal layers is of type svc', [{ ssrc: 11111111, scalabilityMode: 'L1T3' }], 'svc'],
    ['multiple encodings is of type simulcast', [
      { ssrc: 11111111, scalabilityMode: 'L1T3' },
      { ssrc: 22222222, scalabilityMode: 'L1T3' },
    ], 'simulcast'],
  ]) {
    it(`transport.produce() with ${title}`, async () => {
      const producer = await transport1.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
          encodings,
          rtcp: { cname: 'test' },
        },
      });
      assert.equal(producer.type, type);
    });
  }

  it('producer.dump() succeeds', async () => {
    const audioProducer = await transport1.produce(audioProducerOptions);
    const dump1 = await audioProducer.dump();
    assert.equal(dump1.id, audioProducer.id);
    assert.equal(dump1.kind, audioProducer.kind);
    assert.equal(dump1.rtpParameters.codecs.length, 1);
    assert.equal(dump1.rtpParameters.codecs[0].mimeType, 'audio/opus');
    assert.equal(dump1.rtpParameters.codecs[0].payloadType, 0);
    assert.equal(dump1.rtpParameters.codecs[0].clockRate, 48000);
    assert.equal(dump1.rtpParameters.codecs[0].channels, 2);
    assert.deepEqual(dump1.rtpParameters.codecs[0].parameters, {
      useinbandfec: 1, usedtx: 1, foo: 222.222, bar: '333',
    });
    assert.deepEqual(dump1.rtpParameters.codecs[0].rtcpFeedback, []);
    assert.deepEqual(dump1.rtpParameters.headerExtensions, [
      {
        uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10, parameters: {}, encrypt: false,
      },
      {
        uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 12, parameters: {}, encrypt: false,
      },
    ]);
    assert.equal(dump1.rtpParameters.encodings.length, 1);
    assert.equal(dump1.rtpParameters.encodings[0].codecPayloadType, 0);
    assert.equal(dump1.type, 'simple');

    const videoProducer = await transport2.produce(videoProducerOptions);
    const dump2 = await videoProducer.dump();
    assert.equal(dump2.id, videoProducer.id);
    assert.equal(dump2.kind, videoProducer.kind);
    assert.equal(dump2.rtpParameters.codecs.length, 2);
    assert.equal(dump2.rtpParameters.codecs[0].mimeType, 'video/H264');
    assert.equal(dump2.rtpParameters.codecs[0].payloadType, 112);
    assert.equal(dump2.rtpParameters.codecs[0].clockRate, 90000);
    assert.equal(dump2.rtpParameters.codecs[0].channels, undefined);
    assert.deepEqual(dump2.rtpParameters.codecs[0].parameters, {
      'packetization-mode': 1, 'profile-level-id': '4d0032',
    });
    assert.deepEqual(dump2.rtpParameters.codecs[0].rtcpFeedback, [
      { type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' },
    ]);
    assert.equal(dump2.rtpParameters.codecs[1].mimeType, 'video/rtx');
    assert.equal(dump2.rtpParameters.codecs[1].payloadType, 113);
    assert.deepEqual(dump2.rtpParameters.codecs[1].parameters, { apt: 112 });
    assert.deepEqual(dump2.rtpParameters.codecs[1].rtcpFeedback, []);
    assert.deepEqual(dump2.rtpParameters.headerExtensions, [
      {
        uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 10, parameters: {}, encrypt: false,
      },
      {
        uri: 'urn:3gpp:video-orientation', id: 13, parameters: {}, encrypt: false,
      },
    ]);
    assert.equal(dump2.rtpParameters.encodings.length, 4);
    const expected = [
      {
        codecPayloadType: 112, ssrc: 22222222, rtx: { ssrc: 22222223 }, scalabilityMode: 'L1T3',
      },
      { codecPayloadType: 112, ssrc: 22222224, rtx: { ssrc: 22222225 } },
      { codecPayloadType: 112, ssrc: 22222226, rtx: { ssrc: 22222227 } },
      { codecPayloadType: 112, ssrc: 22222228, rtx: { ssrc: 22222229 } },
    ];
    expected.forEach((e, i) => {
      for (const [key, value] of Object.entries(e)) {
        assert.deepEqual(dump2.rtpParameters.encodings[i][key], value, `encodings[${i}].${key}`);
      }
    });
    assert.equal(dump2.type, 'simulcast');
  });

  it('producer.getStats() succeeds', async () => {
    const audioProducer = await transport1.produce(audioProducerOptions);
    const videoProducer = await transport2.produce(videoProducerOptions);
    assert.deepEqual(await audioProducer.getStats(), []);
    assert.deepEqual(await videoProducer.getStats(), []);
  });

  it('producer.pause() and resume() succeed', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    let pauses = 0;
    let resumes = 0;
    producer.observer.on('pause', () => pauses++);
    producer.observer.on('resume', () => resumes++);
    await producer.pause();
    assert.equal(producer.paused, true);
    assert.equal((await producer.dump()).paused, true);
    await producer.resume();
    assert.equal(producer.paused, false);
    assert.equal((await producer.dump()).paused, false);
    // Without awaiting, the observer still fires on each effective change.
    producer.pause();
    producer.resume();
    producer.pause();
    producer.pause();
    producer.pause();
    await producer.resume();
    assert.equal(pauses, 3);
    assert.equal(resumes, 3);
  });

  it('producer.pause() and resume() emit events', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    const events = [];
    producer.observer.once('resume', () => events.push('resume'));
    producer.observer.once('pause', () => events.push('pause'));
    await Promise.all([producer.pause(), producer.resume()]);
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(producer.paused, false);
  });

  it('transport.produce() with paused: true succeeds', async () => {
    const producer = await transport1.produce({ ...audioProducerOptions, paused: true });
    assert.equal(producer.paused, true);
    assert.equal((await producer.dump()).paused, true);
  });

  it('producer.enableTraceEvent() succeeds', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    await producer.enableTraceEvent(['rtp', 'pli']);
    assert.deepEqual((await producer.dump()).traceEventTypes.sort(), ['pli', 'rtp']);
    await producer.enableTraceEvent();
    assert.deepEqual((await producer.dump()).traceEventTypes, []);
    await producer.enableTraceEvent(['nack', 'FOO', 'fir']);
    assert.deepEqual((await producer.dump()).traceEventTypes.sort(), ['fir', 'nack']);
    await producer.enableTraceEvent();
    assert.deepEqual((await producer.dump()).traceEventTypes, []);
  });

  it('producer.enableTraceEvent() with wrong arguments rejects with TypeError', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    await assertRejects(producer.enableTraceEvent(123), TypeError, 'types must be an array');
    await assertRejects(producer.enableTraceEvent('rtp'), TypeError, 'types must be an array');
    await assertRejects(producer.enableTraceEvent(['fir', 123.123]), TypeError, 'every type must be a string');
  });

  it('Producer emits "score"', async () => {
    const producer = await transport2.produce(videoProducerOptions);
    const channel = producer.channelForTesting;
    let scores = 0;
    producer.on('score', () => scores++);
    const score = [
      { encodingIdx: 0, ssrc: 11, score: 10 },
      { encodingIdx: 1, ssrc: 22, score: 9 },
    ];
    channel.emit(producer.id, 'score', score);
    channel.emit(producer.id, 'score', score);
    channel.emit(producer.id, 'score', score);
    assert.equal(scores, 3);
    assert.deepEqual(producer.score, score);
  });

  it('producer.send() with a non Buffer throws TypeError', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    assertThrows(() => producer.send('foo'), TypeError, 'rtpPacket must be a Buffer');
  });

  it('producer.close() succeeds', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    let closes = 0;
    producer.observer.once('close', () => closes++);
    producer.close();
    assert.equal(closes, 1);
    assert.equal(producer.closed, true);
    assert.equal(router.producersMap.has(producer.id), false);
    await assertRejects(producer.dump(), InvalidStateError, 'Producer closed [method:dump]');
    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapProducerIdConsumerIds, []);
    assert.deepEqual(routerDump.mapConsumerIdProducerId, []);
    const transportDump = await transport1.dump();
    assert.deepEqual(transportDump.producerIds, []);
    assert.deepEqual(transportDump.consumerIds, []);
  });

  it('Producer methods reject if closed', async () => {
    const producer = await transport1.produce(audioProducerOptions);
    producer.close();
    await assertRejects(producer.dump(), InvalidStateError, 'Producer closed [method:dump]');
    await assertRejects(producer.getStats(), InvalidStateError, 'Producer closed [method:getStats]');
    await assertRejects(producer.pause(), InvalidStateError, 'Producer closed [method:pause]');
    await assertRejects(producer.resume(), InvalidStateError, 'Producer closed [method:resume]');
    await assertRejects(producer.enableTraceEvent([]), InvalidStateError, 'Producer closed [method:enableTraceEvent]');
  });

  it('Producer emits "transportclose" if Transport is closed', async () => {
    const producer = await transport2.produce(videoProducerOptions);
    let closes = 0;
    producer.observer.once('close', () => closes++);
    const promise = waitFor(producer, 'transportclose');
    transport2.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(producer.closed, true);
    assert.equal(router.producersMap.has(producer.id), false);
    await assertRejects(producer.dump(), InvalidStateError, 'Producer closed [method:dump]');
  });

  it('Producer emits "transportclose" if Router is closed', async () => {
    const producer = await transport2.produce(videoProducerOptions);
    const promise = waitFor(producer, 'transportclose');
    router.close();
    await promise;
    assert.equal(producer.closed, true);
  });
});

describe('Producer (Node layer against a fake engine)', () => {
  const produceResponse = {
    type: 'simple',
    rtpParameters: {
      codecs: [{
        mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [],
      }],
      headerExtensions: [],
      encodings: [{ ssrc: 1111 }],
      rtcp: { cname: 'abcd1234', reducedSize: true },
    },
    consumableRtpParameters: {
      codecs: [{
        mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [],
      }],
      headerExtensions: [],
      encodings: [{ ssrc: 987654 }],
      rtcp: { cname: 'abcd1234', reducedSize: true },
    },
    rtpMapping: { codecs: [{ payloadType: 111, mappedPayloadType: 100 }], encodings: [] },
  };
  let channel;
  let router;
  let transport;

  beforeEach(async () => {
    channel = new FakeChannel({
      'router.createDirectTransport': {},
      'transport.produce': produceResponse,
      'transport.closeProducer': undefined,
      'router.closeTransport': undefined,
      'worker.closeRouter': undefined,
      'producer.pause': undefined,
      'producer.resume': undefined,
      'producer.send': undefined,
    });
    router = new Router({ internal: { routerId: 'router-1' }, data: { rtpCapabilities: {} }, channel });
    transport = await router.createDirectTransport();
  });

  it('produce() sends the raw parameters and uses the normalised ones of the response', async () => {
    const rtpParameters = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }] };
    const producer = await transport.produce({
      kind: 'audio', rtpParameters, paused: true, keyFrameRequestDelay: 3000, appData: { a: 1 },
    });
    const [req] = channel.sent('transport.produce');
    assert.equal(req.handlerId, transport.id);
    assert.deepEqual(req.data, {
      producerId: producer.id,
      kind: 'audio',
      rtpParameters,
      paused: true,
      keyFrameRequestDelay: 3000,
    });
    // The producer keeps the engine's answer, never the caller's object
    // (sent as is: the request serializes it at once).
    rtpParameters.codecs[0].payloadType = 99;
    assert.deepEqual(producer.rtpParameters, produceResponse.rtpParameters);
    assert.deepEqual(producer.consumableRtpParameters, produceResponse.consumableRtpParameters);
    assert.equal(producer.type, 'simple');
    assert.equal(producer.kind, 'audio');
    assert.equal(producer.paused, true);
    assert.deepEqual(producer.appData, { a: 1 });
    assert.equal(router.producersMap.get(producer.id), producer);

    // Router.canConsume() asks the engine with the consumable parameters.
    const globalRequest = Channel.globalRequest;
    const asked = [];
    Channel.globalRequest = (method, data) => {
      asked.push([method, data]);
      return true;
    };
    try {
      assert.equal(router.canConsume({ producerId: producer.id, rtpCapabilities: { codecs: [] } }), true);
    } finally {
      Channel.globalRequest = globalRequest;
    }
    assert.deepEqual(asked, [['canConsume', {
      consumableRtpParameters: produceResponse.consumableRtpParameters,
      rtpCapabilities: { codecs: [] },
    }]]);
  });

  it('produce() argument errors never reach the engine', async () => {
    await assertRejects(transport.produce({ kind: 'data' }), TypeError, 'invalid kind "data"');
    await assertRejects(transport.produce({ kind: 'audio', appData: 'x' }), TypeError,
      'if given, appData must be an object');
    await assertRejects(transport.produce({ kind: 'audio', id: 12 }), TypeError, 'if given, id must be a string');
    assert.equal(channel.sent('transport.produce').length, 0);
  });

  it('close() asks the engine and the Router forgets the producer', async () => {
    const producer = await transport.produce({ kind: 'audio', rtpParameters: {} });
    const events = [];
    producer.on('@close', () => events.push('@close'));
    producer.observer.on('close', () => events.push('observer:close'));
    transport.on('@producerclose', (p) => events.push(['@producerclose', p.id]));
    producer.close();
    producer.close();
    // The transport's '@close' listener (registered first) emits '@producerclose'.
    assert.deepEqual(events, [['@producerclose', producer.id], '@close', 'observer:close']);
    assert.deepEqual(channel.sent('transport.closeProducer').map((r) => [r.handlerId, r.data]),
      [[transport.id, { producerId: producer.id }]]);
    assert.equal(router.producersMap.has(producer.id), false);
    assert.equal(channel.listenerCount(producer.id), 0);
    assert.equal(router.canConsume({ producerId: producer.id, rtpCapabilities: {} }), false);
  });

  it('transport.close() closes its producers with "transportclose"', async () => {
    const producer = await transport.produce({ kind: 'audio', rtpParameters: {} });
    const events = [];
    producer.on('transportclose', () => events.push('transportclose'));
    producer.observer.on('close', () => events.push('observer:close'));
    transport.on('@producerclose', () => events.push('@producerclose'));
    transport.observer.on('close', () => events.push('transport observer:close'));
    transport.close();
    assert.deepEqual(events, ['transportclose', 'observer:close', '@producerclose', 'transport observer:close']);
    assert.equal(router.producersMap.size, 0);
    assert.equal(channel.sent('transport.closeProducer').length, 0);
    assert.equal(channel.listenerCount(producer.id), 0);
  });

  it('router.close() closes the producers of its transports', async () => {
    const producer = await transport.produce({ kind: 'audio', rtpParameters: {} });
    const events = [];
    producer.on('transportclose', () => events.push('transportclose'));
    transport.on('routerclose', () => events.push('routerclose'));
    router.close();
    assert.deepEqual(events, ['transportclose', 'routerclose']);
    assert.equal(router.producersMap.size, 0);
  });

  it('engine events: score, videoorientationchange, trace', async () => {
    const producer = await transport.produce({ kind: 'video', rtpParameters: {} });
    const events = [];
    for (const name of ['score', 'videoorientationchange', 'trace']) {
      producer.on(name, (arg) => events.push([name, arg]));
      producer.observer.on(name, (arg) => events.push([`observer:${name}`, arg]));
    }
    const score = [{ encodingIdx: 0, ssrc: 1111, score: 7 }];
    channel.fire(producer.id, 'score', score);
    assert.deepEqual(producer.score, score);
    const orientation = { camera: false, flip: false, rotation: 90 };
    channel.fire(producer.id, 'videoorientationchange', orientation);
    const trace = {
      type: 'keyframe', timestamp: 1, direction: 'in', info: {},
    };
    channel.fire(producer.id, 'trace', trace);
    assert.deepEqual(events, [
      ['score', score], ['observer:score', score],
      ['videoorientationchange', orientation], ['observer:videoorientationchange', orientation],
      ['trace', trace], ['observer:trace', trace],
    ]);
  });

  it('pause() and resume() change state once per effective change', async () => {
    const producer = await transport.produce({ kind: 'audio', rtpParameters: {} });
    const events = [];
    producer.observer.on('pause', () => events.push('pause'));
    producer.observer.on('resume', () => events.push('resume'));
    await producer.pause();
    await producer.pause();
    await producer.resume();
    await producer.resume();
    assert.deepEqual(events, ['pause', 'resume']);
    assert.deepEqual(channel.requests.filter((r) => r.method.startsWith('producer.')).map((r) => [r.method, r.handlerId]), [
      ['producer.pause', producer.id], ['producer.pause', producer.id],
      ['producer.resume', producer.id], ['producer.resume', producer.id],
    ]);
  });

  it('send() sends binary RTP; dropped after close', async () => {
    const producer = await transport.produce({ kind: 'audio', rtpParameters: {} });
    const packet = Buffer.from([0x80, 111, 0, 1]);
    producer.send(packet);
    assert.deepEqual(channel.sent('producer.send').map((r) => [r.handlerId, r.data]), [[producer.id, packet]]);
    channel.answers['producer.send'] = { error: { name: 'TypeError', message: 'invalid RTP packet' } };
    producer.send(packet);
    producer.close();
    producer.send(packet);
    assert.equal(channel.sent('producer.send').length, 2);
  });
});
