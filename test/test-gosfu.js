'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const gosfu = require('../');
const { waitFor, waitUntil, closeWorker } = require('./helpers');
const expected = require('./helpers/rtpCapabilities');

const PKG = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

describe('gosfu (module)', () => {
  describe('version', () => {
    it('equals the version field of package.json', () => {
      assert.equal(typeof gosfu.version, 'string');
      assert.equal(gosfu.version, PKG.version);
    });
  });

  describe('observer', () => {
    let worker;
    afterEach(() => closeWorker(worker));

    it("emits 'newworker' with the new worker, once per createWorker()", async () => {
      const seen = [];
      const onNewWorker = (w) => seen.push(w);
      gosfu.observer.on('newworker', onNewWorker);
      try {
        worker = await gosfu.createWorker();
      } finally {
        gosfu.observer.removeListener('newworker', onNewWorker);
      }
      assert.equal(seen.length, 1);
      assert.equal(seen[0], worker);
    });

    it("does not emit 'newworker' when createWorker() fails", async () => {
      const seen = [];
      const onNewWorker = (w) => seen.push(w);
      gosfu.observer.on('newworker', onNewWorker);
      try {
        await assert.rejects(gosfu.createWorker({ logLevel: 'chicken' }), TypeError);
        await assert.rejects(gosfu.createWorker({ appData: 'NOT-AN-OBJECT' }), TypeError);
      } finally {
        gosfu.observer.removeListener('newworker', onNewWorker);
      }
      assert.equal(seen.length, 0);
    });
  });

  describe('getSupportedRtpCapabilities()', () => {
    it('lists the supported codecs in mediasoup order', () => {
      const caps = gosfu.getSupportedRtpCapabilities();
      const summary = caps.codecs.map((c) => [c.mimeType, c.clockRate, c.channels].filter((x) => x !== undefined).join('/'));
      assert.deepEqual(summary, [
        'audio/opus/48000/2',
        'audio/multiopus/48000/4',
        'audio/multiopus/48000/6',
        'audio/multiopus/48000/8',
        'audio/PCMU/8000/1',
        'audio/PCMA/8000/1',
        'audio/ISAC/32000/1',
        'audio/ISAC/16000/1',
        'audio/G722/8000/1',
        'audio/iLBC/8000/1',
        'audio/SILK/24000/1',
        'audio/SILK/16000/1',
        'audio/SILK/12000/1',
        'audio/SILK/8000/1',
        'audio/CN/32000/1',
        'audio/CN/16000/1',
        'audio/CN/8000/1',
        'audio/telephone-event/48000/1',
        'audio/telephone-event/32000/1',
        'audio/telephone-event/16000/1',
        'audio/telephone-event/8000/1',
        'video/VP8/90000',
        'video/VP9/90000',
        'video/H264/90000',
        'video/AV1/90000',
      ]);
    });

    it('describes opus, VP8, VP9, H264, AV1 and PCMU exactly (normalized)', () => {
      const caps = gosfu.getSupportedRtpCapabilities();
      const find = (mimeType) => caps.codecs.find((c) => c.mimeType === mimeType);
      assert.deepEqual(find('audio/opus'), {
        kind: 'audio',
        mimeType: 'audio/opus',
        clockRate: 48000,
        channels: 2,
        parameters: {},
        rtcpFeedback: expected.opusFeedback(),
      });
      assert.deepEqual(find('audio/PCMU'), {
        kind: 'audio',
        mimeType: 'audio/PCMU',
        preferredPayloadType: 0,
        clockRate: 8000,
        channels: 1,
        parameters: {},
        rtcpFeedback: [{ type: 'transport-cc', parameter: '' }],
      });
      assert.deepEqual(caps.codecs.filter((c) => c.mimeType === 'audio/multiopus').map((c) => c.parameters), [
        { channel_mapping: '0,1,2,3', num_streams: 2, coupled_streams: 2 },
        { channel_mapping: '0,4,1,2,3,5', num_streams: 4, coupled_streams: 2 },
        { channel_mapping: '0,6,1,2,3,4,5,7', num_streams: 5, coupled_streams: 3 },
      ]);
      for (const [mimeType, parameters] of [
        ['video/VP8', {}],
        ['video/VP9', {}],
        ['video/H264', { 'level-asymmetry-allowed': 1 }],
        ['video/AV1', {}],
      ]) {
        assert.deepEqual(find(mimeType), {
          kind: 'video',
          mimeType,
          clockRate: 90000,
          parameters,
          rtcpFeedback: expected.videoFeedback(),
        }, mimeType);
      }
    });

    it('lists the expected header extensions', () => {
      const caps = gosfu.getSupportedRtpCapabilities();
      assert.deepEqual(caps.headerExtensions, expected.headerExtensions());
    });

    it('returns a fresh deep copy on each call', () => {
      const caps1 = gosfu.getSupportedRtpCapabilities();
      const pristine = gosfu.getSupportedRtpCapabilities();
      assert.notEqual(caps1, pristine);
      assert.deepEqual(caps1, pristine);

      // Mangle nested values first, then whole members.
      caps1.codecs[0].parameters.foo = 'bar';
      caps1.codecs[0].rtcpFeedback.push({ type: 'chicken', parameter: '' });
      caps1.codecs[0].clockRate = 1;
      caps1.headerExtensions[0].uri = 'urn:chicken';
      caps1.headerExtensions.length = 1;
      let caps2 = gosfu.getSupportedRtpCapabilities();
      assert.deepEqual(caps2, pristine);

      caps2.codecs = 'bar';
      delete caps2.headerExtensions;
      const caps3 = gosfu.getSupportedRtpCapabilities();
      assert.notDeepEqual(caps3, caps2);
      assert.deepEqual(caps3, pristine);
      caps2 = null;
    });
  });

  describe('parseScalabilityMode()', () => {
    const cases = [
      ['L1T3', 1, 3, false],
      ['L3T2_KEY', 3, 2, true],
      ['S2T3', 2, 3, false],
      ['L20T3', 20, 3, false],
      ['L4T7_KEY_SHIFT', 4, 7, true],
      ['L2T2h', 2, 2, false],
      ['foo', 1, 1, false],
      [undefined, 1, 1, false],
      [null, 1, 1, false],
      ['', 1, 1, false],
      ['S0T3', 1, 1, false],
      ['S1T0', 1, 1, false],
      ['S200T3', 1, 1, false],
      ['l1t3', 1, 1, false],
      [' L1T3', 1, 1, false],
    ];
    for (const [mode, spatialLayers, temporalLayers, ksvc] of cases) {
      it(`parses ${JSON.stringify(mode)} as S${spatialLayers}T${temporalLayers}${ksvc ? ' KSVC' : ''}`, () => {
        assert.deepEqual(gosfu.parseScalabilityMode(mode), { spatialLayers, temporalLayers, ksvc });
      });
    }
  });

  describe('types', () => {
    let worker;
    afterEach(() => closeWorker(worker));

    it('exposes the error classes', () => {
      const { UnsupportedError, InvalidStateError } = gosfu.types;
      for (const [Class, name] of [[UnsupportedError, 'UnsupportedError'], [InvalidStateError, 'InvalidStateError']]) {
        assert.equal(typeof Class, 'function');
        const error = new Class('some message');
        assert.ok(error instanceof Error);
        assert.ok(error instanceof Class);
        assert.equal(error.name, name);
        assert.equal(error.constructor.name, name);
        assert.equal(error.message, 'some message');
        assert.match(error.stack, new RegExp(`^${name}: some message`));
      }
      assert.notEqual(UnsupportedError, InvalidStateError);
      assert.ok(!(new UnsupportedError('x') instanceof InvalidStateError));
    });

    it('exposes the Worker and Router classes of the objects the API returns', async () => {
      assert.equal(typeof gosfu.types.Worker, 'function');
      assert.equal(typeof gosfu.types.Router, 'function');
      worker = await gosfu.createWorker();
      const router = await worker.createRouter();
      assert.ok(worker instanceof gosfu.types.Worker);
      assert.ok(router instanceof gosfu.types.Router);
      assert.ok(!(router instanceof gosfu.types.Worker));
    });
  });

  describe('setLogEventListeners()', () => {
    let worker;
    let logs;

    function install() {
      logs = { debug: [], warn: [], error: [] };
      gosfu.setLogEventListeners({
        ondebug: (namespace, log) => logs.debug.push([namespace, log]),
        onwarn: (namespace, log) => logs.warn.push([namespace, log]),
        onerror: (namespace, log, error) => logs.error.push([namespace, log, error]),
      });
    }

    const has = (list, namespace, log) => list.some(([n, l]) => n === namespace && (log instanceof RegExp ? log.test(l) : l === log));

    afterEach(async () => {
      gosfu.setLogEventListeners();
      await closeWorker(worker);
      worker = undefined;
    });

    it('receives debug logs of the Node layer and of the engine', async () => {
      install();
      worker = await gosfu.createWorker({ logLevel: 'debug' });
      // Node-layer logs are synchronous.
      assert.ok(has(logs.debug, 'gosfu', 'createWorker()'), JSON.stringify(logs.debug));
      assert.ok(has(logs.debug, 'gosfu:Worker', 'constructor()'), JSON.stringify(logs.debug));
      // Engine logs arrive from the engine, asynchronously.
      await waitUntil(() => has(logs.debug, 'gosfu:worker:Worker', 'worker started [logLevel:debug]'), 5000, 'engine start log');
      const router = await worker.createRouter();
      assert.ok(has(logs.debug, 'gosfu:Worker', 'createRouter()'));
      await waitUntil(() => has(logs.debug, 'gosfu:worker:Worker', `router created [id:${router.id}]`), 5000, 'engine router log');
      assert.equal(logs.warn.length, 0, JSON.stringify(logs.warn));
      assert.equal(logs.error.length, 0, JSON.stringify(logs.error));
    });

    it('gets no engine debug logs from a worker whose logLevel is error', async () => {
      install();
      worker = await gosfu.createWorker({ logLevel: 'error' });
      const engineEvents = [];
      worker.channel.on('worker', (event, data) => engineEvents.push([event, data]));
      const router = await worker.createRouter();
      // Turn debug on and make the engine log again: that log arrives after
      // anything the first createRouter() could have emitted.
      await worker.updateSettings({ logLevel: 'debug' });
      const router2 = await worker.createRouter();
      await waitUntil(() => has(logs.debug, 'gosfu:worker:Worker', `router created [id:${router2.id}]`), 5000, 'engine router log');
      assert.ok(!logs.debug.some(([n]) => n.startsWith('gosfu:worker:') && n !== 'gosfu:worker:Worker'));
      assert.ok(!has(logs.debug, 'gosfu:worker:Worker', `router created [id:${router.id}]`));
      assert.ok(!has(logs.debug, 'gosfu:worker:Worker', /^worker started/));
      assert.deepEqual(engineEvents.map(([e]) => e), ['log']);
    });

    it('receives warn logs (a failed request)', async () => {
      install();
      worker = await gosfu.createWorker();
      await assert.rejects(worker.updateSettings({ logLevel: 'chicken' }), TypeError);
      assert.deepEqual(logs.warn, [[
        'gosfu:WARN:Channel',
        "request failed [method:worker.updateSettings]: invalid value 'chicken' for logLevel",
      ]]);
    });

    it('receives error logs of the Node layer (a throwing event listener)', async () => {
      install();
      worker = await gosfu.createWorker();
      const thrown = new Error('listener failure');
      // A throwing listener stops the ones after it (as in any EventEmitter):
      // listen first.
      const closed = waitFor(worker, 'subprocessclose');
      worker.on('subprocessclose', () => { throw thrown; });
      worker.close();
      await closed;
      assert.equal(logs.error.length, 1, JSON.stringify(logs.error));
      assert.deepEqual(logs.error[0], ['gosfu:ERROR:Worker', 'event listener threw an error [eventName:subprocessclose]:', thrown]);
    });

    it('receives error logs of the engine (wrong settings)', async () => {
      install();
      await assert.rejects(gosfu.createWorker({ rtcMinPort: 2000, rtcMaxPort: 1000 }), { name: 'TypeError', message: 'wrong settings' });
      await waitUntil(
        () => has(logs.error, 'gosfu:ERROR:worker:Worker', 'wrong settings: invalid rtcMinPort/rtcMaxPort'),
        5000, `engine error log, got ${JSON.stringify(logs.error)}`);
    });

    it('stops delivering logs once called with no arguments', async () => {
      install();
      const before = logs;
      gosfu.setLogEventListeners();
      const counts = [before.debug.length, before.warn.length, before.error.length];
      worker = await gosfu.createWorker({ logLevel: 'debug' });
      // Wait for the engine's first log to reach the Node layer.
      await waitFor(worker.channel, 'worker');
      await worker.createRouter();
      await assert.rejects(worker.updateSettings({ logLevel: 'chicken' }), TypeError);
      const closed = waitFor(worker, 'subprocessclose');
      worker.on('subprocessclose', () => { throw new Error('listener failure'); });
      worker.close();
      await closed;
      await assert.rejects(gosfu.createWorker({ rtcMinPort: 2000, rtcMaxPort: 1000 }), TypeError);
      // Negative check: no log delivered late either.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual([before.debug.length, before.warn.length, before.error.length], counts);
    });

    it('a throwing log listener does not break the library', async () => {
      gosfu.setLogEventListeners({
        ondebug: () => { throw new Error('bad listener'); },
      });
      worker = await gosfu.createWorker({ logLevel: 'debug' });
      // Engine events caused by a request are delivered before it resolves.
      const logged = waitFor(worker.channel, 'worker');
      const router = await worker.createRouter();
      assert.equal(router.closed, false);
      await logged;
    });
  });
});
