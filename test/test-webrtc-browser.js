'use strict';

// Real browsers: Debian's Chromium (driven by playwright-core) running the
// unmodified mediasoup-client against gosfu WebRtcTransports.
//
// Page A produces Chromium's fake camera and microphone; page B consumes both.
// Checked from page B's getStats(): video frames are decoded and audio packets
// arrive; pausing the producer stalls the frames, resuming brings them back;
// closing the producer closes the consumers (server-side 'producerclose').
// Three ways in: plain listenInfos over UDP, a WebRtcServer, TCP only.
//
// Needs a loopback-only network namespace: npm test runs mocha inside
// ../shared/tools/netns; by hand:
//   ../shared/tools/netns npx mocha test/test-webrtc-browser.js
// Skipped when Chromium is missing, except with CI=true (then it fails).

const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const net = require('node:net');

const gosfu = require('../');
const { closeWorker, pollUntil } = require('./helpers');
const {
  requireChromium, launch, serveTestPage, openTestPage,
  warnOutsideNetns, serverSignalHandler,
} = require('./browser/chromium');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function freePort() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address();
        server.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

/** Records every event of `emitter` named in `names` into an array. */
function recordEvents(emitter, names) {
  const events = [];
  for (const name of names) emitter.on(name, (...args) => events.push({ name, args }));
  return events;
}

describe('WebRTC with Chromium and mediasoup-client', function () {
  this.timeout(60000);

  let browser;
  let pageServer;
  let worker;
  let router;

  before(async function () {
    this.timeout(90000);
    requireChromium(this, 'WebRTC browser tests');
    warnOutsideNetns();
    pageServer = await serveTestPage();
    browser = await launch();
    worker = await gosfu.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs });
  });

  after(async function () {
    this.timeout(30000);
    if (browser) await browser.close().catch(() => {});
    if (pageServer) await pageServer.close();
    await closeWorker(worker);
  });

  /**
   * One call: page A sends camera+mic through a transport made by
   * `createTransport()`, page B receives both through another. Then pause,
   * resume and close the producers. `checkTuple(tuple)` checks the selected
   * ICE tuple of each server transport.
   */
  async function runCall({ createTransport, checkTuple }) {
    const serverTransports = new Map();
    const producersById = new Map();
    const transportEvents = new Map();
    let pageA;
    let pageB;
    const sendTransport = await createTransport();
    const recvTransport = await createTransport();
    try {
      for (const transport of [sendTransport, recvTransport]) {
        assert.equal(typeof transport.id, 'string');
        assert.equal(transport.iceRole, 'controlled');
        assert.ok(transport.iceParameters.usernameFragment);
        assert.ok(transport.iceParameters.password);
        assert.equal(transport.iceParameters.iceLite, true);
        assert.ok(Array.isArray(transport.iceCandidates) && transport.iceCandidates.length > 0);
        assert.ok(transport.dtlsParameters.fingerprints.length > 0);
        assert.equal(transport.iceState, 'new');
        assert.equal(transport.dtlsState, 'new');
        serverTransports.set(transport.id, transport);
        transportEvents.set(transport.id, recordEvents(transport, [
          'icestatechange', 'iceselectedtuplechange', 'dtlsstatechange',
        ]));
      }

      const onSignal = serverSignalHandler(serverTransports, { producers: producersById });
      pageA = await openTestPage(browser, pageServer.url, onSignal);
      pageB = await openTestPage(browser, pageServer.url, onSignal);

      const params = (t) => ({
        id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters,
      });

      // Page A: device, send transport, camera + microphone.
      const loadedA = await pageA.evaluate((caps) => window.gosfu.loadDevice(caps), router.rtpCapabilities);
      assert.ok(loadedA.handlerName, 'mediasoup-client found a handler');
      await pageA.evaluate((p) => window.gosfu.createSendTransport(p), params(sendTransport));
      const producerIds = await pageA.evaluate((id) => window.gosfu.produce(id, { audio: true, video: true }),
        sendTransport.id);
      assert.ok(producerIds.audio && producerIds.video, `producers: ${JSON.stringify(producerIds)}`);
      const producers = {};
      for (const kind of ['audio', 'video']) {
        producers[kind] = producersById.get(producerIds[kind]);
        assert.ok(producers[kind], `server-side ${kind} producer ${producerIds[kind]}`);
        assert.equal(producers[kind].kind, kind);
      }

      // Page B: device, receive transport, consumers created paused and
      // resumed once the page has them (mediasoup's recommended pattern).
      const loadedB = await pageB.evaluate((caps) => window.gosfu.loadDevice(caps), router.rtpCapabilities);
      await pageB.evaluate((p) => window.gosfu.createRecvTransport(p), params(recvTransport));
      const consumers = {};
      const consumerEvents = {};
      for (const kind of ['audio', 'video']) {
        assert.ok(router.canConsume({ producerId: producers[kind].id, rtpCapabilities: loadedB.rtpCapabilities }));
        const consumer = await recvTransport.consume({
          producerId: producers[kind].id, rtpCapabilities: loadedB.rtpCapabilities, paused: true,
        });
        consumerEvents[kind] = recordEvents(consumer, [
          'producerpause', 'producerresume', 'producerclose', 'transportclose',
        ]);
        await pageB.evaluate((args) => window.gosfu.consume(args.transportId, args.params), {
          transportId: recvTransport.id,
          params: {
            id: consumer.id, producerId: consumer.producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters,
          },
        });
        await consumer.resume();
        consumers[kind] = consumer;
      }

      const stats = (kind) => pageB.evaluate((id) => window.gosfu.consumerStats(id), consumers[kind].id);

      // Media flows: frames decoded, audio packets received.
      const firstVideo = await pollUntil(() => stats('video'), (s) => s.framesDecoded > 0, 20000,
        'the first decoded video frame in page B');
      await pollUntil(() => stats('video'), (s) => s.framesDecoded >= firstVideo.framesDecoded + 10, 10000,
        'framesDecoded to grow');
      const firstAudio = await pollUntil(() => stats('audio'), (s) => s.packetsReceived > 0, 10000,
        'audio packets in page B');
      await pollUntil(() => stats('audio'), (s) => s.packetsReceived >= firstAudio.packetsReceived + 20, 10000,
        'audio packetsReceived to grow');
      const video = await stats('video');
      assert.ok(video.frameWidth > 0 && video.frameHeight > 0, `frame size ${video.frameWidth}x${video.frameHeight}`);

      // The server transports reached connected ICE and DTLS, with a tuple.
      for (const transport of [sendTransport, recvTransport]) {
        assert.ok(['connected', 'completed'].includes(transport.iceState), `iceState ${transport.iceState}`);
        assert.equal(transport.dtlsState, 'connected');
        const events = transportEvents.get(transport.id);
        const names = events.map((e) => e.name);
        assert.ok(names.includes('icestatechange'), `events: ${names}`);
        assert.ok(names.includes('iceselectedtuplechange'), `events: ${names}`);
        assert.deepEqual(
          events.filter((e) => e.name === 'dtlsstatechange').map((e) => e.args[0]),
          ['connecting', 'connected'],
        );
        assert.ok(transport.iceSelectedTuple, 'iceSelectedTuple');
        assert.equal(transport.iceSelectedTuple.remoteIp, '127.0.0.1');
        checkTuple(transport.iceSelectedTuple);
      }

      // Pausing the producer stops the frames.
      await producers.video.pause();
      assert.equal(producers.video.paused, true);
      // (mediasoup emits the consumer's 'producerpause' before pause()
      // resolves; here it is only waited for: the ordering belongs to the
      // Producer/Consumer suites.)
      await pollUntil(() => consumers.video.producerPaused, (paused) => paused, 3000, 'consumer.producerPaused');
      assert.deepEqual(consumerEvents.video.map((e) => e.name), ['producerpause']);
      // Then framesDecoded must stand still: after what was in flight and
      // in the jitter buffer, two reads 1.2 s apart must agree.
      await sleep(700); // what was in flight and in the jitter buffer
      let stalled = await stats('video');
      const stallDeadline = Date.now() + 8000;
      for (;;) {
        await sleep(1200);
        const now = await stats('video');
        if (now.framesDecoded === stalled.framesDecoded) break;
        assert.ok(Date.now() < stallDeadline,
          `framesDecoded still grows while the producer is paused (${stalled.framesDecoded} -> ${now.framesDecoded})`);
        stalled = now;
      }

      // Resuming brings them back.
      await producers.video.resume();
      await pollUntil(() => consumers.video.producerPaused, (paused) => !paused, 3000, '!consumer.producerPaused');
      assert.deepEqual(consumerEvents.video.map((e) => e.name), ['producerpause', 'producerresume']);
      await pollUntil(() => stats('video'), (s) => s.framesDecoded >= stalled.framesDecoded + 10, 15000,
        'framesDecoded to grow again after resume');

      // Closing the producers closes the consumers; page B closes its own.
      for (const kind of ['audio', 'video']) {
        producers[kind].close();
        await pollUntil(() => consumers[kind].closed, (closed) => closed, 5000, `the ${kind} consumer to close`);
        assert.ok(consumerEvents[kind].some((e) => e.name === 'producerclose'),
          `${kind} consumer events: ${consumerEvents[kind].map((e) => e.name)}`);
        assert.ok(!consumerEvents[kind].some((e) => e.name === 'transportclose'));
        const closedInPage = await pageB.evaluate((id) => window.gosfu.closeConsumer(id), consumers[kind].id);
        assert.equal(closedInPage, true);
        await pageA.evaluate((id) => window.gosfu.closeProducer(id), producers[kind].id);
      }
      const statesB = await pageB.evaluate(() => window.gosfu.transportStates());
      assert.equal(statesB[recvTransport.id], 'connected');
    } finally {
      if (pageA) await pageA.close().catch(() => {});
      if (pageB) await pageB.close().catch(() => {});
      sendTransport.close();
      recvTransport.close();
    }
  }

  it('sends camera and microphone from one page to another over UDP (listenInfos)', async function () {
    this.timeout(60000);
    await runCall({
      createTransport: () => router.createWebRtcTransport({
        listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
      }),
      checkTuple: (tuple) => {
        assert.equal(tuple.protocol, 'udp');
        assert.equal(tuple.localAddress, '127.0.0.1');
      },
    });
  });

  it('does the same through a WebRtcServer (UDP + TCP on one port)', async function () {
    this.timeout(60000);
    const port = await freePort();
    const webRtcServer = await worker.createWebRtcServer({
      listenInfos: [
        { protocol: 'udp', ip: '127.0.0.1', port },
        { protocol: 'tcp', ip: '127.0.0.1', port },
      ],
    });
    try {
      await runCall({
        createTransport: async () => {
          const transport = await router.createWebRtcTransport({ webRtcServer });
          const ports = transport.iceCandidates.map((c) => c.port);
          assert.ok(ports.every((p) => p === port), `candidate ports ${ports} (server port ${port})`);
          assert.deepEqual([...new Set(transport.iceCandidates.map((c) => c.protocol))].sort(), ['tcp', 'udp']);
          return transport;
        },
        checkTuple: (tuple) => assert.equal(tuple.localPort, port),
      });
    } finally {
      webRtcServer.close();
    }
  });

  it('does the same over TCP only', async function () {
    this.timeout(60000);
    await runCall({
      createTransport: async () => {
        const transport = await router.createWebRtcTransport({
          listenInfos: [{ protocol: 'tcp', ip: '127.0.0.1' }],
          enableUdp: false,
          enableTcp: true,
        });
        assert.ok(transport.iceCandidates.every((c) => c.protocol === 'tcp' && c.tcpType === 'passive'),
          `candidates ${JSON.stringify(transport.iceCandidates)}`);
        return transport;
      },
      checkTuple: (tuple) => assert.equal(tuple.protocol, 'tcp'),
    });
  });
});
