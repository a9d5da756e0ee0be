'use strict';

// AudioLevelObserver: mediasoup's API behaviour (test-AudioLevelObserver of
// mediasoup 3.27) and real audio: DirectTransport producers fed with
// Opus-like packets carrying the ssrc-audio-level extension.
const assert = require('node:assert/strict');

const gosfu = require('../');
const {
  waitFor, waitUntil, closeWorker, assertRejects,
} = require('./helpers');
const { audioProducerOptions, feedAudio } = require('./helpers/audio');

const { InvalidStateError, NotFoundError, AudioLevelObserver } = gosfu.types;

const mediaCodecs = Object.freeze([
  {
    kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, foo: 'bar' },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);


describe('AudioLevelObserver', function () {
  this.timeout(30000);

  let worker;
  let router;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(async () => {
    await closeWorker(worker);
  });

  it('router.createAudioLevelObserver() succeeds', async () => {
    const created = [];
    router.observer.once('newrtpobserver', (o) => created.push(o));
    const audioLevelObserver = await router.createAudioLevelObserver();
    assert.deepEqual(created, [audioLevelObserver]);
    assert.ok(audioLevelObserver instanceof AudioLevelObserver);
    assert.equal(typeof audioLevelObserver.id, 'string');
    assert.equal(audioLevelObserver.closed, false);
    assert.equal(audioLevelObserver.type, 'audiolevel');
    assert.equal(audioLevelObserver.paused, false);
    assert.deepEqual(audioLevelObserver.appData, {});
    const dump = await router.dump();
    assert.deepEqual(dump.rtpObserverIds, [audioLevelObserver.id]);

    const withAppData = await router.createAudioLevelObserver({
      maxEntries: 8, threshold: -60, interval: 500, appData: { foo: 'bar' },
    });
    assert.deepEqual(withAppData.appData, { foo: 'bar' });
    assert.deepEqual((await router.dump()).rtpObserverIds.sort(), [audioLevelObserver.id, withAppData.id].sort());
  });

  it('router.createAudioLevelObserver() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(router.createAudioLevelObserver({ maxEntries: 0 }), TypeError,
      'if given, maxEntries must be a positive number');
    await assertRejects(router.createAudioLevelObserver({ maxEntries: -10 }), TypeError,
      'if given, maxEntries must be a positive number');
    await assertRejects(router.createAudioLevelObserver({ threshold: 'foo' }), TypeError,
      'if given, threshole must be a negative number greater than -127');
    await assertRejects(router.createAudioLevelObserver({ threshold: 1 }), TypeError,
      'if given, threshole must be a negative number greater than -127');
    await assertRejects(router.createAudioLevelObserver({ threshold: -128 }), TypeError,
      'if given, threshole must be a negative number greater than -127');
    await assertRejects(router.createAudioLevelObserver({ interval: false }), TypeError,
      'if given, interval must be an number');
    await assertRejects(router.createAudioLevelObserver({ appData: 'NOT-AN-OBJECT' }), TypeError,
      'if given, appData must be an object');
    assert.deepEqual((await router.dump()).rtpObserverIds, []);
  });

  it('audioLevelObserver.pause() and resume() succeed', async () => {
    const audioLevelObserver = await router.createAudioLevelObserver();
    const events = [];
    audioLevelObserver.observer.on('pause', () => events.push('pause'));
    audioLevelObserver.observer.on('resume', () => events.push('resume'));
    await audioLevelObserver.pause();
    assert.equal(audioLevelObserver.paused, true);
    await audioLevelObserver.pause();
    await audioLevelObserver.resume();
    assert.equal(audioLevelObserver.paused, false);
    await audioLevelObserver.resume();
    assert.deepEqual(events, ['pause', 'resume']);
  });

  it('audioLevelObserver.close() succeeds', async () => {
    const audioLevelObserver = await router.createAudioLevelObserver({ maxEntries: 8 });
    let observerClosed = 0;
    audioLevelObserver.observer.on('close', () => observerClosed++);
    assert.equal((await router.dump()).rtpObserverIds.length, 1);
    audioLevelObserver.close();
    audioLevelObserver.close();
    assert.equal(audioLevelObserver.closed, true);
    assert.equal(observerClosed, 1);
    assert.equal((await router.dump()).rtpObserverIds.length, 0);
    await assert.rejects(audioLevelObserver.pause(), NotFoundError);
  });

  it('emits "routerclose" if Router is closed', async () => {
    const audioLevelObserver = await router.createAudioLevelObserver();
    const promise = waitFor(audioLevelObserver, 'routerclose');
    const observerClose = waitFor(audioLevelObserver.observer, 'close');
    router.close();
    await promise;
    await observerClose;
    assert.equal(audioLevelObserver.closed, true);
    await assert.rejects(audioLevelObserver.pause(), NotFoundError);
  });

  it('emits "routerclose" if Worker is closed', async () => {
    const audioLevelObserver = await router.createAudioLevelObserver();
    const promise = waitFor(audioLevelObserver, 'routerclose');
    worker.close();
    await promise;
    assert.equal(audioLevelObserver.closed, true);
    // mediasoup rejects with WorkerClosedError; gosfu with InvalidStateError.
    await assert.rejects(audioLevelObserver.pause(), InvalidStateError);
  });

  it('addProducer() and removeProducer(): checks, observer events and router dump', async () => {
    const transport = await router.createDirectTransport();
    const audio = await transport.produce(audioProducerOptions(1111));
    const video = await transport.produce({
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 2222 }] },
    });
    const audioLevelObserver = await router.createAudioLevelObserver();
    const events = [];
    audioLevelObserver.observer.on('addproducer', (p) => events.push(['add', p]));
    audioLevelObserver.observer.on('removeproducer', (p) => events.push(['remove', p]));

    await assertRejects(audioLevelObserver.addProducer({ producerId: 'nope' }), NotFoundError,
      'Producer with id "nope" not found');
    await assertRejects(audioLevelObserver.removeProducer({ producerId: 'nope' }), NotFoundError,
      'Producer with id "nope" not found');
    await assertRejects(audioLevelObserver.addProducer({ producerId: video.id }), TypeError, 'not an audio Producer');

    await audioLevelObserver.addProducer({ producerId: audio.id });
    let dump = await router.dump();
    const entry = (d, id) => d.mapProducerIdObserverIds.find((e) => e.key === id);
    assert.deepEqual(entry(dump, audio.id), { key: audio.id, values: [audioLevelObserver.id] });
    assert.deepEqual(entry(dump, video.id), { key: video.id, values: [] });
    await audioLevelObserver.removeProducer({ producerId: audio.id });
    dump = await router.dump();
    assert.deepEqual(entry(dump, audio.id), { key: audio.id, values: [] });
    assert.deepEqual(events, [['add', audio], ['remove', audio]]);

    // Closing the observer leaves the router's map; closing the producer too.
    await audioLevelObserver.addProducer({ producerId: audio.id });
    audioLevelObserver.close();
    assert.deepEqual(entry(await router.dump(), audio.id), { key: audio.id, values: [] });
    const other = await router.createAudioLevelObserver();
    await other.addProducer({ producerId: audio.id });
    audio.close();
    assert.equal(entry(await router.dump(), audio.id), undefined);
  });

  it('real audio: "volumes" loudest first with the average level, threshold, maxEntries; "silence" once when all stop; paused producers and observer', async () => {
    const transport = await router.createDirectTransport();
    const p1 = await transport.produce(audioProducerOptions(1001));
    const p2 = await transport.produce(audioProducerOptions(1002));
    const p3 = await transport.produce(audioProducerOptions(1003));
    const p4 = await transport.produce(audioProducerOptions(1004));
    const audioLevelObserver = await router.createAudioLevelObserver({ maxEntries: 3, threshold: -70, interval: 500 });
    for (const p of [p1, p2, p3, p4]) await audioLevelObserver.addProducer({ producerId: p.id });

    const volumes = [];
    const observerVolumes = [];
    let silences = 0;
    audioLevelObserver.on('volumes', (v) => volumes.push(v));
    audioLevelObserver.observer.on('volumes', (v) => observerVolumes.push(v));
    audioLevelObserver.on('silence', () => silences++);

    const feed = feedAudio([p1, p2, p3, p4]);
    try {
      // p3 is louder than p1 than p2; p4 is below the threshold.
      Object.assign(feed.levels, {
        [p1.id]: 30, [p2.id]: 45, [p3.id]: 12, [p4.id]: 90,
      });
      await waitUntil(() => volumes.length >= 2, 10000, 'two "volumes" events');
      const last = volumes[volumes.length - 1];
      assert.deepEqual(last.map(({ producer, volume }) => [producer, volume]), [[p3, -12], [p1, -30], [p2, -45]]);
      assert.equal(observerVolumes.length, volumes.length);
      assert.equal(silences, 0);

      // A paused producer is left out.
      await p3.pause();
      const n = volumes.length;
      await waitUntil(() => volumes.length >= n + 2, 10000, '"volumes" events');
      assert.deepEqual(volumes[volumes.length - 1].map(({ producer, volume }) => [producer.id, volume]),
        [[p1.id, -30], [p2.id, -45]]);
      await p3.resume();

      // Everybody stops: one "silence".
      for (const p of [p1, p2, p3, p4]) delete feed.levels[p.id];
      await waitUntil(() => silences === 1, 10000, '"silence"');
      const volumesAtSilence = volumes.length;
      // Nothing more for a while (the feed sends nothing: a wall-clock window).
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.equal(silences, 1);
      assert.equal(volumes.length, volumesAtSilence);

      // Back: volumes again; pausing the observer emits "silence" and then nothing.
      feed.levels[p2.id] = 20;
      await waitUntil(() => volumes.length > volumesAtSilence, 10000, '"volumes" after silence');
      assert.deepEqual(volumes[volumes.length - 1].map(({ producer, volume }) => [producer.id, volume]), [[p2.id, -20]]);
      const pausedSilence = waitFor(audioLevelObserver, 'silence');
      await audioLevelObserver.pause();
      await pausedSilence;
      const volumesAtPause = volumes.length;
      // Nothing while paused, over 1.2 s of audio sent to the observer.
      await feed.ticks(60);
      assert.equal(volumes.length, volumesAtPause);
      assert.equal(silences, 2);
      await audioLevelObserver.resume();
      await waitUntil(() => volumes.length > volumesAtPause, 10000, '"volumes" after resume');

      // A closed producer leaves the observer (mediasoup emits no "removeproducer" for it).
      let removed = 0;
      audioLevelObserver.observer.on('removeproducer', () => removed++);
      feed.levels[p1.id] = 10;
      p1.close();
      const afterClose = volumes.length;
      await waitUntil(() => volumes.length >= afterClose + 2, 10000, '"volumes" after producer close');
      assert.deepEqual(volumes[volumes.length - 1].map(({ producer }) => producer.id), [p2.id]);
      assert.equal(removed, 0);
    } finally {
      feed.stop();
    }
  });

  it('producers without the audio level extension are never reported', async () => {
    const transport = await router.createDirectTransport();
    const plain = await transport.produce(audioProducerOptions(3001, { withAudioLevel: false }));
    const audioLevelObserver = await router.createAudioLevelObserver({ interval: 250 });
    await audioLevelObserver.addProducer({ producerId: plain.id });
    let events = 0;
    audioLevelObserver.on('volumes', () => events++);
    audioLevelObserver.on('silence', () => events++);
    const feed = feedAudio([plain]);
    feed.levels[plain.id] = 10;
    // Negative check over 0.8 s of audio sent (three intervals and more).
    await feed.ticks(40);
    feed.stop();
    assert.equal(events, 0);
  });
});
