'use strict';

const assert = require('node:assert/strict');

const gosfu = require('../');
const { waitFor, closeWorker, assertRejects } = require('./helpers');
const expected = require('./helpers/rtpCapabilities');

const { UnsupportedError, WorkerClosedError } = gosfu.types;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function deepFreeze(value) {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// The media codecs of a typical mediasoup application.
const mediaCodecs = deepFreeze([
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, foo: 'bar' },
  },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/VP9',
    clockRate: 90000,
    parameters: { 'profile-id': 2, 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/h264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '4d0032',
      'level-asymmetry-allowed': 1,
    },
    rtcpFeedback: [], // Ignored.
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
    },
  },
  {
    kind: 'video',
    mimeType: 'video/AV1',
    clockRate: 90000,
  },
]);

function videoCodec(mimeType, preferredPayloadType, parameters) {
  return {
    kind: 'video',
    mimeType,
    preferredPayloadType,
    clockRate: 90000,
    parameters,
    rtcpFeedback: expected.videoFeedback(),
  };
}

function opus(preferredPayloadType, parameters) {
  return {
    kind: 'audio',
    mimeType: 'audio/opus',
    preferredPayloadType,
    clockRate: 48000,
    channels: 2,
    parameters,
    rtcpFeedback: expected.opusFeedback(),
  };
}

// What mediasoup 3.27.1's generateRouterRtpCapabilities() makes of them.
const expectedRtpCapabilities = deepFreeze({
  codecs: [
    opus(100, { useinbandfec: 1, foo: 'bar' }),
    videoCodec('video/VP8', 101, { 'x-google-start-bitrate': 1000 }),
    expected.rtx(102, 101),
    videoCodec('video/VP9', 103, { 'profile-id': 2, 'x-google-start-bitrate': 1000 }),
    expected.rtx(104, 103),
    videoCodec('video/H264', 105, {
      'level-asymmetry-allowed': 1,
      'packetization-mode': 1,
      'profile-level-id': '4d0032',
    }),
    expected.rtx(106, 105),
    videoCodec('video/H264', 107, {
      // From the supported H264 codec.
      'level-asymmetry-allowed': 1,
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
    }),
    expected.rtx(108, 107),
    videoCodec('video/AV1', 109, {}),
    expected.rtx(110, 109),
  ],
  headerExtensions: expected.headerExtensions(),
});

describe('Router', () => {
  let worker;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
  });

  afterEach(async () => {
    await closeWorker(worker);
    worker = undefined;
  });

  describe('worker.createRouter()', () => {
    it('succeeds with typical media codecs', async () => {
      const seen = [];
      worker.observer.on('newrouter', (r) => seen.push(r));
      const router = await worker.createRouter({ mediaCodecs, appData: { foo: 123 } });
      assert.deepEqual(seen, [router]);
      assert.equal(router.constructor.name, 'Router');
      assert.equal(typeof router.id, 'string');
      assert.match(router.id, UUID_V4);
      assert.equal(router.closed, false);
      assert.deepEqual(router.rtpCapabilities, expectedRtpCapabilities);
      assert.deepEqual(router.appData, { foo: 123 });
      router.appData = { foo: 222, bar: 'BBB' };
      assert.deepEqual(router.appData, { foo: 222, bar: 'BBB' });
      assert.equal(worker.routersForTesting.size, 1);
      assert.ok(worker.routersForTesting.has(router));
    });

    it('succeeds without media codecs (no codecs, every header extension)', async () => {
      const router = await worker.createRouter();
      assert.deepEqual(router.rtpCapabilities, { codecs: [], headerExtensions: expected.headerExtensions() });
      assert.deepEqual(router.appData, {});
      const router2 = await worker.createRouter({ mediaCodecs: [] });
      assert.deepEqual(router2.rtpCapabilities, { codecs: [], headerExtensions: expected.headerExtensions() });
      assert.notEqual(router.id, router2.id);
    });

    it('honours preferredPayloadType and skips it when allocating', async () => {
      const router = await worker.createRouter({
        mediaCodecs: [
          { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, foo: 'bar' } },
          { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 125, clockRate: 90000 },
          {
            kind: 'video',
            mimeType: 'video/H264',
            clockRate: 90000,
            parameters: { 'level-asymmetry-allowed': 1, 'profile-level-id': '42e01f', foo: 'bar' },
            rtcpFeedback: [],
          },
        ],
      });
      assert.deepEqual(router.rtpCapabilities.codecs, [
        opus(100, { useinbandfec: 1, foo: 'bar' }),
        videoCodec('video/VP8', 125, {}),
        expected.rtx(101, 125),
        // No packetization-mode given: none is added.
        videoCodec('video/H264', 102, { 'level-asymmetry-allowed': 1, 'profile-level-id': '42e01f', foo: 'bar' }),
        expected.rtx(103, 102),
      ]);

      // A preferred dynamic type is taken out of the pool.
      const router2 = await worker.createRouter({
        mediaCodecs: [
          { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 101, clockRate: 48000, channels: 2 },
          { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
          { kind: 'video', mimeType: 'video/VP9', preferredPayloadType: 96, clockRate: 90000 },
        ],
      });
      assert.deepEqual(router2.rtpCapabilities.codecs.map((c) => [c.mimeType, c.preferredPayloadType, c.parameters.apt]), [
        ['audio/opus', 101, undefined],
        ['video/VP8', 100, undefined],
        ['video/rtx', 102, 100],
        ['video/VP9', 96, undefined],
        ['video/rtx', 103, 96],
      ]);
    });

    it('gives static payload types to PCMU, PCMA, G722 and CN', async () => {
      const router = await worker.createRouter({
        mediaCodecs: [
          { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 },
          { kind: 'audio', mimeType: 'audio/pcma', clockRate: 8000, channels: 1 },
          { kind: 'audio', mimeType: 'audio/G722', clockRate: 8000 },
          { kind: 'audio', mimeType: 'audio/CN', clockRate: 8000 },
          { kind: 'audio', mimeType: 'audio/telephone-event', clockRate: 48000 },
        ],
      });
      const audio = (mimeType, preferredPayloadType, clockRate, rtcpFeedback) => ({
        kind: 'audio', mimeType, preferredPayloadType, clockRate, channels: 1, parameters: {}, rtcpFeedback,
      });
      const tcc = [{ type: 'transport-cc', parameter: '' }];
      assert.deepEqual(router.rtpCapabilities.codecs, [
        audio('audio/PCMU', 0, 8000, tcc),
        audio('audio/PCMA', 8, 8000, tcc),
        audio('audio/G722', 9, 8000, tcc),
        audio('audio/CN', 13, 8000, []),
        audio('audio/telephone-event', 100, 48000, []),
      ]);
    });

    it('matches multiopus by its stream layout', async () => {
      const router = await worker.createRouter({
        mediaCodecs: [{
          kind: 'audio',
          mimeType: 'audio/multiopus',
          clockRate: 48000,
          channels: 6,
          parameters: { channel_mapping: '0,4,1,2,3,5', num_streams: 4, coupled_streams: 2 },
        }],
      });
      assert.deepEqual(router.rtpCapabilities.codecs, [{
        kind: 'audio',
        mimeType: 'audio/multiopus',
        preferredPayloadType: 100,
        clockRate: 48000,
        channels: 6,
        parameters: { channel_mapping: '0,4,1,2,3,5', num_streams: 4, coupled_streams: 2 },
        rtcpFeedback: expected.opusFeedback(),
      }]);
      await assertRejects(worker.createRouter({
        mediaCodecs: [{
          kind: 'audio',
          mimeType: 'audio/multiopus',
          clockRate: 48000,
          channels: 6,
          parameters: { channel_mapping: '0,4,1,2,3,5', num_streams: 3, coupled_streams: 2 },
        }],
      }), UnsupportedError, 'media codec not supported [mimeType:audio/multiopus]');
    });

    it('takes kind from mimeType and does not modify the given codecs', async () => {
      const given = [{ kind: 'video', mimeType: 'AUDIO/OPUS', clockRate: 48000, channels: 2 }];
      const copy = JSON.parse(JSON.stringify(given));
      const router = await worker.createRouter({ mediaCodecs: given });
      assert.deepEqual(router.rtpCapabilities.codecs, [opus(100, {})]);
      assert.deepEqual(given, copy);
    });

    it('rejects with TypeError for a duplicated preferredPayloadType', async () => {
      const cases = [
        [
          { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 111, clockRate: 48000, channels: 2 },
          { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 111, clockRate: 90000 },
        ],
        [
          { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 },
          { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 },
        ],
        [
          // VP8 gets 100 and its RTX 101, which opus then asks for.
          { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
          { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 101, clockRate: 48000, channels: 2 },
        ],
      ];
      for (const codecs of cases) {
        await assertRejects(worker.createRouter({ mediaCodecs: codecs }), TypeError, 'duplicated codec.preferredPayloadType');
      }
    });

    it('rejects with UnsupportedError for unsupported codecs', async () => {
      const cases = [
        [{ kind: 'audio', mimeType: 'audio/chicken', clockRate: 8000, channels: 4 }, 'audio/chicken'],
        // opus is only supported in stereo.
        [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 1 }, 'audio/opus'],
        [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 }, 'audio/opus'],
        [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 44100, channels: 2 }, 'audio/opus'],
        [{ kind: 'audio', mimeType: 'audio/x-aiff', clockRate: 8000, channels: 1 }, 'audio/x-aiff'],
        [{ kind: 'video', mimeType: 'video/3gpp', clockRate: 90000 }, 'video/3gpp'],
        [{ kind: 'video', mimeType: 'video/VP8', clockRate: 8000 }, 'video/VP8'],
        [{ kind: 'video', mimeType: 'video/H265', clockRate: 90000 }, 'video/H265'],
      ];
      for (const [codec, mimeType] of cases) {
        await assertRejects(
          worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }, codec] }),
          UnsupportedError, `media codec not supported [mimeType:${mimeType}]`);
      }
      assert.equal(worker.routersForTesting.size, 0);
      assert.deepEqual((await worker.dump()).routerIds, []);
    });

    it('rejects with Error when dynamic payload types run out', async () => {
      const many = [];
      for (let i = 0; i < 100; ++i) many.push({ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 });
      await assertRejects(worker.createRouter({ mediaCodecs: many }), Error, 'cannot allocate more dynamic codec payload types');
      // 16 video codecs need 32 types: exactly the pool.
      const video = [];
      for (let i = 0; i < 16; ++i) video.push({ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 });
      const router = await worker.createRouter({ mediaCodecs: video });
      assert.equal(router.rtpCapabilities.codecs.length, 32);
      assert.deepEqual(router.rtpCapabilities.codecs.slice(-2).map((c) => c.preferredPayloadType), [98, 99]);
      video.push({ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 });
      await assertRejects(worker.createRouter({ mediaCodecs: video }), Error, 'cannot allocate more dynamic codec payload types');
    });

    it('rejects with TypeError for malformed media codecs', async () => {
      const cases = [
        [{ kind: 'audio', clockRate: 48000 }, 'missing codec.mimeType'],
        [{ kind: 'audio', mimeType: 1234, clockRate: 48000 }, 'missing codec.mimeType'],
        [{ kind: 'audio', mimeType: 'chicken', clockRate: 48000 }, 'invalid codec.mimeType'],
        [{ kind: 'audio', mimeType: 'audio/opus', channels: 2 }, 'missing codec.clockRate'],
        [{ kind: 'audio', mimeType: 'audio/opus', clockRate: '48000', channels: 2 }, 'missing codec.clockRate'],
        [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: '100' },
          'invalid codec.preferredPayloadType'],
        [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { apt: '100' } },
          'invalid codec apt parameter'],
        ['chicken', 'codec is not an object'],
        [null, "Cannot read properties of null (reading 'mimeType')"],
      ];
      for (const [codec, message] of cases) {
        await assertRejects(worker.createRouter({ mediaCodecs: [codec] }), TypeError, message);
      }
    });

    it('rejects with TypeError if mediaCodecs is not an array', async () => {
      for (const bad of [{}, 'opus', 1, { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }]) {
        await assertRejects(worker.createRouter({ mediaCodecs: bad }), TypeError, 'mediaCodecs must be an Array');
      }
      assert.equal(worker.routersForTesting.size, 0);
    });

    it('rejects with TypeError if appData is not an object', async () => {
      for (const appData of ['NOT-AN-OBJECT', 1, true]) {
        await assertRejects(worker.createRouter({ appData }), TypeError, 'if given, appData must be an object');
      }
      assert.equal(worker.routersForTesting.size, 0);
    });

    it('rejects with WorkerClosedError if the worker is closed', async () => {
      worker.close();
      await assertRejects(worker.createRouter({ mediaCodecs }), WorkerClosedError,
        'Channel closed, cannot send request [method:worker.createRouter]');
    });
  });

  describe('router.rtpCapabilities', () => {
    it('returns a copy the application cannot alter', async () => {
      const router = await worker.createRouter({ mediaCodecs });
      const caps = router.rtpCapabilities;
      caps.headerExtensions = [];
      caps.codecs[0].parameters.useinbandfec = 0;
      router.rtpCapabilities.codecs.pop();
      assert.deepEqual(router.rtpCapabilities, expectedRtpCapabilities);
    });
  });

  describe('router.updateMediaCodecs()', () => {
    const audioOnly = [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];
    const vp8Params = {
      codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
      encodings: [{ ssrc: 1111 }],
    };

    it('changes rtpCapabilities, and what new producers may send', async () => {
      const router = await worker.createRouter({ mediaCodecs: audioOnly });
      const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
      const audio = await transport.produce({
        kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 2222 }] },
      });
      await assertRejects(transport.produce({ kind: 'video', rtpParameters: vp8Params }), UnsupportedError,
        'unsupported codec [mimeType:video/VP8, payloadType:96]');
      assert.equal(router.updateMediaCodecs(mediaCodecs), undefined);
      assert.deepEqual(router.rtpCapabilities, expectedRtpCapabilities);
      const video = await transport.produce({ kind: 'video', rtpParameters: vp8Params });
      assert.equal(video.consumableRtpParameters.codecs[0].mimeType, 'video/VP8');
      // The producer created before keeps working.
      assert.equal(router.canConsume({ producerId: audio.id, rtpCapabilities: router.rtpCapabilities }), true);
      await transport.consume({ producerId: audio.id, rtpCapabilities: router.rtpCapabilities });
    });

    it('throws as createRouter() does for a bad codec, and changes nothing', async () => {
      const router = await worker.createRouter({ mediaCodecs: audioOnly });
      const before = router.rtpCapabilities;
      const bad = [{ kind: 'video', mimeType: 'video/NOPE', clockRate: 90000 }];
      const error = await worker.createRouter({ mediaCodecs: bad }).then(() => null, (e) => e);
      assert.ok(error);
      assert.throws(() => router.updateMediaCodecs(bad), (e) => e.constructor === error.constructor && e.message === error.message);
      assert.deepEqual(router.rtpCapabilities, before);
    });

    it('works on a closed router, as in mediasoup (nothing is asked of the engine)', async () => {
      const router = await worker.createRouter({ mediaCodecs: audioOnly });
      router.close();
      router.updateMediaCodecs(mediaCodecs);
      assert.deepEqual(router.rtpCapabilities, expectedRtpCapabilities);
    });
  });

  describe('router.dump()', () => {
    it('describes an empty router', async () => {
      const router = await worker.createRouter({ mediaCodecs });
      assert.deepEqual(await router.dump(), {
        id: router.id,
        transportIds: [],
        rtpObserverIds: [],
        mapProducerIdConsumerIds: [],
        mapConsumerIdProducerId: [],
        mapProducerIdObserverIds: [],
        mapDataProducerIdDataConsumerIds: [],
        mapDataConsumerIdDataProducerId: [],
      });
      // eventQueue is gosfu's extension, described in test-Worker.js.
      const { eventQueue, ...workerDump } = await worker.dump();
      assert.strictEqual(typeof eventQueue.maxEvents, 'number');
      assert.deepEqual(workerDump, {
        pid: process.pid,
        webRtcServerIds: [],
        routerIds: [router.id],
        channelMessageHandlers: {
          channelRequestHandlers: [router.id],
          channelNotificationHandlers: [],
        },
      });
    });
  });

  describe('router.close()', () => {
    it("closes, emits observer 'close' once and leaves the worker", async () => {
      const router = await worker.createRouter({ mediaCodecs });
      const other = await worker.createRouter();
      const events = [];
      router.observer.on('close', () => events.push('observer close'));
      router.on('workerclose', () => events.push('workerclose'));
      router.close();
      assert.equal(router.closed, true);
      assert.deepEqual(events, ['observer close']);
      router.close();
      assert.deepEqual(events, ['observer close']);
      assert.equal(worker.routersForTesting.size, 1);
      assert.ok(worker.routersForTesting.has(other));
      const dump = await worker.dump();
      assert.deepEqual(dump.routerIds, [other.id]);
      assert.deepEqual(dump.channelMessageHandlers.channelRequestHandlers, [other.id]);
      // The engine no longer knows the router (mediasoup: NotFoundError).
      let error;
      try {
        await router.dump();
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof Error, 'router.dump() after close() must reject');
      assert.ok(['Error', 'NotFoundError'].includes(error.constructor.name), error.constructor.name);
      assert.equal(error.message, `Channel request handler with ID ${router.id} not found [method:router.dump]`);
      await closeWorker(worker);
      assert.deepEqual(events, ['observer close']);
      assert.equal(other.closed, true);
    });
  });

  describe("'workerclose'", () => {
    it("is emitted when the worker closes, before the worker's observer 'close'", async () => {
      const router = await worker.createRouter({ mediaCodecs });
      const order = [];
      router.on('workerclose', () => order.push(['router workerclose', router.closed]));
      router.observer.on('close', () => order.push(['router observer close', router.closed]));
      worker.observer.on('close', () => order.push(['worker observer close', router.closed]));
      const workerclose = waitFor(router, 'workerclose');
      worker.close();
      await workerclose;
      assert.deepEqual(order, [
        ['router workerclose', true],
        ['router observer close', true],
        ['worker observer close', true],
      ]);
      assert.equal(router.closed, true);
      assert.equal(worker.routersForTesting.size, 0);
      await assertRejects(router.dump(), WorkerClosedError, 'Channel closed, cannot send request [method:router.dump]');
      router.close();
      assert.equal(order.length, 3);
    });
  });

  describe('router.canConsume()', () => {
    const consumableRtpParameters = deepFreeze({
      codecs: [{
        mimeType: 'audio/opus',
        payloadType: 100,
        clockRate: 48000,
        channels: 2,
        parameters: { useinbandfec: 1 },
        rtcpFeedback: [],
      }],
      headerExtensions: [],
      encodings: [{ ssrc: 11111111 }],
      rtcp: { cname: 'gosfu-test', reducedSize: true },
    });

    let logs;
    beforeEach(() => {
      logs = [];
      gosfu.setLogEventListeners({ onerror: (namespace, log) => logs.push([namespace, log]) });
    });
    afterEach(() => gosfu.setLogEventListeners());

    it('returns false for an unknown producer', async () => {
      const router = await worker.createRouter({ mediaCodecs });
      assert.equal(router.canConsume({ producerId: 'chicken', rtpCapabilities: router.rtpCapabilities }), false);
      assert.equal(router.canConsume({ producerId: undefined, rtpCapabilities: router.rtpCapabilities }), false);
      assert.equal(router.canConsume(), false);
      assert.deepEqual(logs[0], ['gosfu:ERROR:Router', 'canConsume() | Producer with id "chicken" not found']);
      assert.equal(logs.length, 3);
    });

    it('answers for a known producer and returns false (never throws) for garbage capabilities', async () => {
      const router = await worker.createRouter({ mediaCodecs });
      // A producer as transports register it (only its consumable parameters matter here).
      router.producersMap.set('producer-1', { id: 'producer-1', consumableRtpParameters });
      assert.equal(router.canConsume({ producerId: 'producer-1', rtpCapabilities: router.rtpCapabilities }), true);
      const videoOnly = {
        codecs: router.rtpCapabilities.codecs.filter((c) => c.kind === 'video'),
        headerExtensions: [],
      };
      assert.equal(router.canConsume({ producerId: 'producer-1', rtpCapabilities: videoOnly }), false);
      assert.equal(logs.length, 0, JSON.stringify(logs));

      const garbage = [
        undefined,
        null,
        'chicken',
        42,
        { codecs: 'bar' },
        { codecs: [{ mimeType: 1234 }] },
        { codecs: [null] },
        { codecs: [{ kind: 'audio', mimeType: 'audio/opus' }] },
        { codecs: [], headerExtensions: [{ kind: 'chicken' }] },
      ];
      for (const rtpCapabilities of garbage) {
        let result;
        assert.doesNotThrow(() => {
          result = router.canConsume({ producerId: 'producer-1', rtpCapabilities });
        }, `canConsume threw for ${JSON.stringify(rtpCapabilities)}`);
        assert.equal(result, false, JSON.stringify(rtpCapabilities));
      }
      assert.equal(logs.length, garbage.length, JSON.stringify(logs));
      for (const [namespace, log] of logs) {
        assert.equal(namespace, 'gosfu:ERROR:Router');
        assert.match(log, /^canConsume\(\) \| unexpected error: TypeError: /);
      }
      assert.deepEqual(logs.find(([, l]) => l.includes("missing codec.clockRate")),
        ['gosfu:ERROR:Router', 'canConsume() | unexpected error: TypeError: missing codec.clockRate']);
    });
  });
});
