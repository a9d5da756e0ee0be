'use strict';

// VP9 SVC end to end with a real browser: Debian's Chromium (driven by
// playwright-core) running the unmodified mediasoup-client against gosfu.
//
// Page A sends its fake camera (640x480) as VP9 with one encoding in
// scalabilityMode L3T3_KEY (K-SVC: inter-layer prediction on key pictures
// only). The server producer is an 'svc' one (L3T3_KEY); page B consumes
// it. Chromium (156, headless) really sends L2T3_KEY at 640x480 (its
// outbound-rtp scalabilityMode, and the VP9 scalability structure): two
// spatial layers, 320x240 and 640x480, since libwebrtc leaves out spatial
// layers under 240x135; it uses VP9's flexible mode (P_DIFF references,
// no TL0PICIDX) with the U bit on every frame. The server consumer forwards the spatial and
// temporal layers up to the preferred ones and reports the forwarded ones,
// clamped to the layers sent. Checked from page B's getStats(): frames are
// decoded at 640x480 with the default (highest) layers, setPreferredLayers({
// spatialLayer: 0, temporalLayer: 2}) brings the width down to the lowest
// layer's ('layerschange', currentLayers) without a decoding stall or
// freeze, and the top layer again brings 640x480 back (at a key frame the
// consumer asks for).
//
// GOSFU_SVC_DEBUG=1 prints what was seen (sizes, timings).
//
// Needs a loopback-only network namespace:
//   ../shared/tools/netns npx mocha test/test-webrtc-svc.js
// Skipped when Chromium is missing, except with CI=true (then it fails).

const assert = require('node:assert/strict');

const gosfu = require('../');
const { closeWorker, pollUntil } = require('./helpers');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const {
  requireChromium, launch, serveTestPage, openTestPage, serverSignalHandler,
} = require('./browser/chromium');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000 },
];

const log = (line) => {
  if (process.env.GOSFU_SVC_DEBUG) process.stderr.write(`    ${line}\n`);
};

describe('WebRTC VP9 SVC with Chromium and mediasoup-client', function () {
  this.timeout(90000);

  let browser;
  let pageServer;
  let worker;
  let router;

  before(async function () {
    this.timeout(90000);
    requireChromium(this, 'WebRTC VP9 SVC tests');
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

  it('L3T3_KEY at 640x480: spatial layer 0 at the lowest layer\'s width, the top one at 640', async function () {
    this.timeout(60000);
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const listenInfos = [{ protocol: 'udp', ip: '127.0.0.1' }];
    const sendTransport = await router.createWebRtcTransport({ listenInfos });
    const recvTransport = await router.createWebRtcTransport({ listenInfos });
    const serverTransports = new Map([[sendTransport.id, sendTransport], [recvTransport.id, recvTransport]]);
    const producersById = new Map();
    const seen = [];
    let pageA;
    let pageB;
    try {
      const onSignal = serverSignalHandler(serverTransports, { producers: producersById });
      pageA = await openTestPage(browser, pageServer.url, onSignal);
      pageB = await openTestPage(browser, pageServer.url, onSignal);
      const params = (t) => ({
        id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters,
      });

      // Page A: the fake camera as VP9 L3T3_KEY.
      await pageA.evaluate((caps) => window.gosfu.loadDevice(caps), router.rtpCapabilities);
      await pageA.evaluate((p) => window.gosfu.createSendTransport(p), params(sendTransport));
      const producerIds = await pageA.evaluate((id) => window.gosfu.produce(id, {
        audio: false, video: true, encodings: [{ scalabilityMode: 'L3T3_KEY' }], videoCodecMimeType: 'video/VP9',
      }), sendTransport.id);
      const producer = producersById.get(producerIds.video);
      assert.ok(producer, `server-side video producer ${producerIds.video}`);
      assert.equal(producer.type, 'svc');
      assert.equal(producer.rtpParameters.codecs[0].mimeType, 'video/VP9');
      assert.equal(producer.rtpParameters.encodings.length, 1);
      assert.equal(producer.rtpParameters.encodings[0].scalabilityMode, 'L3T3_KEY');
      const sendStats = () => pageA.evaluate((id) => window.gosfu.producerEncodingStats(id), producer.id);
      const sent = await pollUntil(sendStats, (st) => st.encodings.some((e) => e.frameWidth === 640), 15000,
        'page A to send 640 wide');
      log(`${elapsed()} send: ${JSON.stringify(sent)}`);
      // The spatial layers Chromium really sends: libwebrtc drops those
      // under 240x135, so a 640x480 camera gives L2T3_KEY (320x240 and
      // 640x480) although L3T3_KEY was asked for.
      const sentMode = sent.encodings[0].scalabilityMode;
      const m = /^L([1-3])T3_KEY$/.exec(sentMode);
      assert.ok(m, `Chromium's scalabilityMode ${sentMode}`);
      const sentLayers = Number(m[1]);
      assert.ok(sentLayers >= 2, `Chromium sends ${sentMode}`);
      const topLayer = sentLayers - 1;
      const lowWidth = 640 >> topLayer;

      // Page B: consume (paused, resumed once the page has it).
      const loadedB = await pageB.evaluate((caps) => window.gosfu.loadDevice(caps), router.rtpCapabilities);
      await pageB.evaluate((p) => window.gosfu.createRecvTransport(p), params(recvTransport));
      const consumer = await recvTransport.consume({
        producerId: producer.id, rtpCapabilities: loadedB.rtpCapabilities, paused: true,
      });
      assert.equal(consumer.type, 'svc');
      assert.equal(consumer.rtpParameters.codecs[0].mimeType, 'video/VP9');
      assert.deepEqual(consumer.preferredLayers, { spatialLayer: 2, temporalLayer: 2 });
      const layersEvents = [];
      consumer.on('layerschange', (layers) => {
        layersEvents.push({ time: Date.now(), layers });
        log(`${elapsed()} layerschange ${JSON.stringify(layers)}`);
      });
      await pageB.evaluate((args) => window.gosfu.consume(args.transportId, args.params), {
        transportId: recvTransport.id,
        params: {
          id: consumer.id, producerId: consumer.producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters,
        },
      });
      await consumer.resume();

      const stats = () => pageB.evaluate((id) => window.gosfu.consumerVideoStats(id), consumer.id);
      const top = await pollUntil(stats, (st) => st.frameWidth === 640 && st.framesDecoded > 10, 20000,
        'page B to decode 640 wide');
      log(`${elapsed()} decoding ${top.frameWidth}x${top.frameHeight}`);
      assert.deepEqual(consumer.currentLayers, { spatialLayer: topLayer, temporalLayer: 2 });
      seen.push([topLayer, top.frameWidth, top.frameHeight]);

      /**
       * Prefers `spatialLayer` (temporal layer 2); expects 'layerschange'
       * with `layer` and page B to go on decoding, without a stall or
       * freeze, frames `width` wide.
       */
      const switchLayers = async (spatialLayer, layer, width) => {
        const before = await stats();
        const eventsBefore = layersEvents.length;
        const since = Date.now();
        await consumer.setPreferredLayers({ spatialLayer, temporalLayer: 2 });
        assert.deepEqual(consumer.preferredLayers, { spatialLayer, temporalLayer: 2 });
        await pollUntil(() => layersEvents.slice(eventsBefore),
          (events) => events.some((e) => e.layers.spatialLayer === layer), 5000,
          `layerschange with spatialLayer ${layer}`, 100);
        const switchMs = layersEvents.find((e, i) => i >= eventsBefore
          && e.layers.spatialLayer === layer).time - since;
        assert.deepEqual(consumer.currentLayers, { spatialLayer: layer, temporalLayer: 2 });
        let last = before;
        let lastChange = Date.now();
        let longestStall = 0;
        let after = before;
        const deadline = Date.now() + 8000;
        while (Date.now() < deadline) {
          await sleep(200);
          after = await stats();
          if (after.framesDecoded > last.framesDecoded) {
            longestStall = Math.max(longestStall, Date.now() - lastChange);
            lastChange = Date.now();
          }
          last = after;
          if (after.frameWidth === width && after.framesDecoded >= before.framesDecoded + 40) break;
        }
        longestStall = Math.max(longestStall, Date.now() - lastChange);
        log(`${elapsed()} prefer ${spatialLayer}: layerschange after ${switchMs} ms, `
          + `${before.frameWidth}x${before.frameHeight} -> ${after.frameWidth}x${after.frameHeight}, `
          + `framesDecoded ${before.framesDecoded} -> ${after.framesDecoded}, longest stall ${longestStall} ms, `
          + `freezes ${before.freezeCount} -> ${after.freezeCount}, keyFramesDecoded ${before.keyFramesDecoded} -> `
          + `${after.keyFramesDecoded}, framesDropped ${after.framesDropped}, pli ${after.pliCount}`);
        assert.equal(after.frameWidth, width, `frame size ${after.frameWidth}x${after.frameHeight} after the switch`);
        assert.ok(after.framesDecoded >= before.framesDecoded + 40,
          `framesDecoded ${before.framesDecoded} -> ${after.framesDecoded} across the switch`);
        assert.ok(longestStall < 1500, `decoding stalled for ${longestStall} ms across the switch`);
        assert.equal(after.freezeCount, before.freezeCount, 'no freeze across the switch');
        seen.push([layer, after.frameWidth, after.frameHeight]);
        return after;
      };

      const statsBefore = await consumer.getStats();
      await switchLayers(0, 0, lowWidth);
      await switchLayers(2, topLayer, 640);
      const statsAfter = await consumer.getStats();
      assert.ok(statsAfter[0].packetCount > statsBefore[0].packetCount);
      log(`${elapsed()} seen ${JSON.stringify(seen)}`);
      assert.deepEqual(seen, [[topLayer, 640, 480], [0, lowWidth, lowWidth * 0.75], [topLayer, 640, 480]]);
    } finally {
      if (pageA) await pageA.close().catch(() => {});
      if (pageB) await pageB.close().catch(() => {});
      sendTransport.close();
      recvTransport.close();
    }
  });
});
