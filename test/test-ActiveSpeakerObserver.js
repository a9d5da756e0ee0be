'use strict';

// ActiveSpeakerObserver: mediasoup's API behaviour (test-ActiveSpeakerObserver
// of mediasoup 3.27) and real audio: DirectTransport producers fed with
// Opus-like packets carrying the ssrc-audio-level extension. gosfu's
// dominant speaker rule is simpler than mediasoup's (see the README): a
// speaker takes over when it is at least 6 dB louder than the dominant one
// for 900 ms.
const assert = require('node:assert/strict');

const gosfu = require('../');
const {
  waitFor, waitUntil, closeWorker, assertRejects,
} = require('./helpers');
const { audioProducerOptions, feedAudio } = require('./helpers/audio');

const {
  InvalidStateError, NotFoundError, ActiveSpeakerObserver, RtpObserver,
} = gosfu.types;

const mediaCodecs = Object.freeze([
  {
    kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, foo: 'bar' },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);

describe('ActiveSpeakerObserver', function () {
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

  it('router.createActiveSpeakerObserver() succeeds', async () => {
    const created = [];
    router.observer.once('newrtpobserver', (o) => created.push(o));
    const activeSpeakerObserver = await router.createActiveSpeakerObserver();
    assert.deepEqual(created, [activeSpeakerObserver]);
    assert.ok(activeSpeakerObserver instanceof ActiveSpeakerObserver);
    assert.ok(activeSpeakerObserver instanceof RtpObserver);
    assert.equal(typeof activeSpeakerObserver.id, 'string');
    assert.equal(activeSpeakerObserver.closed, false);
    assert.equal(activeSpeakerObserver.type, 'activespeaker');
    assert.equal(activeSpeakerObserver.paused, false);
    assert.deepEqual(activeSpeakerObserver.appData, {});
    assert.deepEqual((await router.dump()).rtpObserverIds, [activeSpeakerObserver.id]);
  });

  it('router.createActiveSpeakerObserver() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(router.createActiveSpeakerObserver({ interval: false }), TypeError,
      'if given, interval must be an number');
    await assertRejects(router.createActiveSpeakerObserver({ appData: 'NOT-AN-OBJECT' }), TypeError,
      'if given, appData must be an object');
    assert.deepEqual((await router.dump()).rtpObserverIds, []);
  });

  it('activeSpeakerObserver.pause() and resume() succeed', async () => {
    const activeSpeakerObserver = await router.createActiveSpeakerObserver();
    const events = [];
    activeSpeakerObserver.observer.on('pause', () => events.push('pause'));
    activeSpeakerObserver.observer.on('resume', () => events.push('resume'));
    await activeSpeakerObserver.pause();
    assert.equal(activeSpeakerObserver.paused, true);
    await activeSpeakerObserver.resume();
    assert.equal(activeSpeakerObserver.paused, false);
    assert.deepEqual(events, ['pause', 'resume']);
  });

  it('activeSpeakerObserver.close() succeeds', async () => {
    const activeSpeakerObserver = await router.createActiveSpeakerObserver({ interval: 500 });
    assert.equal((await router.dump()).rtpObserverIds.length, 1);
    activeSpeakerObserver.close();
    assert.equal(activeSpeakerObserver.closed, true);
    assert.equal((await router.dump()).rtpObserverIds.length, 0);
    await assert.rejects(activeSpeakerObserver.pause(), NotFoundError);
  });

  it('emits "routerclose" if Router is closed', async () => {
    const activeSpeakerObserver = await router.createActiveSpeakerObserver();
    const promise = waitFor(activeSpeakerObserver, 'routerclose');
    router.close();
    await promise;
    assert.equal(activeSpeakerObserver.closed, true);
    await assert.rejects(activeSpeakerObserver.pause(), NotFoundError);
  });

  it('emits "routerclose" if Worker is closed', async () => {
    const activeSpeakerObserver = await router.createActiveSpeakerObserver();
    const promise = waitFor(activeSpeakerObserver, 'routerclose');
    worker.close();
    await promise;
    assert.equal(activeSpeakerObserver.closed, true);
    // mediasoup rejects with WorkerClosedError; gosfu with InvalidStateError.
    await assert.rejects(activeSpeakerObserver.pause(), InvalidStateError);
  });

  it('addProducer() checks: unknown, not audio, already added', async () => {
    const transport = await router.createDirectTransport();
    const audio = await transport.produce(audioProducerOptions(1111));
    const video = await transport.produce({
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 2222 }] },
    });
    const activeSpeakerObserver = await router.createActiveSpeakerObserver();
    const added = [];
    activeSpeakerObserver.observer.on('addproducer', (p) => added.push(p));
    await assertRejects(activeSpeakerObserver.addProducer({ producerId: 'nope' }), NotFoundError,
      'Producer with id "nope" not found');
    await assertRejects(activeSpeakerObserver.addProducer({ producerId: video.id }), TypeError, 'not an audio Producer');
    await activeSpeakerObserver.addProducer({ producerId: audio.id });
    await assertRejects(activeSpeakerObserver.addProducer({ producerId: audio.id }), Error, 'Producer already in map');
    assert.deepEqual(added, [audio]);
    const dump = await router.dump();
    assert.deepEqual(dump.mapProducerIdObserverIds.find((e) => e.key === audio.id).values, [activeSpeakerObserver.id]);
  });

  it('a lone producer is the dominant speaker at once (as mediasoup)', async () => {
    const transport = await router.createDirectTransport();
    const audio = await transport.produce(audioProducerOptions(1111));
    const activeSpeakerObserver = await router.createActiveSpeakerObserver({ interval: 100 });
    const dominant = waitFor(activeSpeakerObserver, 'dominantspeaker', 3000);
    const observerDominant = waitFor(activeSpeakerObserver.observer, 'dominantspeaker', 3000);
    await activeSpeakerObserver.addProducer({ producerId: audio.id });
    const [{ producer }] = await dominant;
    assert.equal(producer, audio);
    assert.equal((await observerDominant)[0].producer, audio);
  });

  it('real audio: "dominantspeaker" goes to the loudest speaker and switches when another is louder for long enough, only on change; paused observer silent', async () => {
    const transport = await router.createDirectTransport();
    const p1 = await transport.produce(audioProducerOptions(1001));
    const p2 = await transport.produce(audioProducerOptions(1002));
    const p3 = await transport.produce(audioProducerOptions(1003));
    const activeSpeakerObserver = await router.createActiveSpeakerObserver({ interval: 100 });
    for (const p of [p1, p2, p3]) await activeSpeakerObserver.addProducer({ producerId: p.id });
    const speakers = [];
    activeSpeakerObserver.on('dominantspeaker', ({ producer }) => speakers.push({ producer, at: Date.now() }));

    // Positive steps wait for the event itself (generous timeouts: the
    // observer runs on real intervals); "nothing happens" windows are
    // counted in rounds of packets the feed sent (feed.ticks(n): n × 20 ms
    // of audio), so that they hold on a loaded machine too.
    const feed = feedAudio([p1, p2, p3]);
    try {
      // Nobody speaks yet (all silent): no dominant speaker.
      Object.assign(feed.levels, { [p1.id]: 127, [p2.id]: 127, [p3.id]: 127 });
      await feed.ticks(25);
      assert.deepEqual(speakers, []);

      // p2 speaks: dominant at once.
      feed.levels[p2.id] = 25;
      await waitUntil(() => speakers.length === 1, 10000, 'first dominantspeaker');
      assert.equal(speakers[0].producer, p2);

      // p1 speaks a little louder (less than 6 dB): no switch.
      feed.levels[p1.id] = 22;
      await feed.ticks(75);
      assert.equal(speakers.length, 1);

      // p1 gets much louder: it takes over after about 900 ms.
      const louderAt = Date.now();
      feed.levels[p1.id] = 5;
      feed.levels[p2.id] = 40;
      await waitUntil(() => speakers.length === 2, 10000, 'second dominantspeaker');
      assert.equal(speakers[1].producer, p1);
      assert.ok(speakers[1].at - louderAt >= 700, `switched after ${speakers[1].at - louderAt} ms`);

      // A short burst of p3, 10 dB louder than p1, does not take over.
      feed.levels[p1.id] = 10;
      feed.levels[p3.id] = 0;
      await feed.ticks(15);
      feed.levels[p3.id] = 127;
      await feed.ticks(75);
      assert.equal(speakers.length, 2);

      // Paused observer: nothing, even if p3 speaks loudly for long.
      await activeSpeakerObserver.pause();
      feed.levels[p3.id] = 0;
      feed.levels[p1.id] = 60;
      await feed.ticks(75);
      assert.equal(speakers.length, 2);
      await activeSpeakerObserver.resume();
      await waitUntil(() => speakers.length === 3, 10000, 'third dominantspeaker');
      assert.equal(speakers[2].producer, p3);

      // The dominant producer closes: the loudest remaining one follows.
      p3.close();
      await waitUntil(() => speakers.length === 4, 10000, 'fourth dominantspeaker');
      assert.equal(speakers[3].producer, p2);
    } finally {
      feed.stop();
    }
  });
});
