'use strict';

// DataChannel figures between two Chromium pages through gosfu (not a test):
// page A produces DataChannels with the unmodified mediasoup-client, page B
// consumes them through a gosfu router.
//
//   ../shared/tools/netns node bench/datachannel-browser.js [--runs N]
//
// Prints, per run:
// - ordered small messages (100 bytes), page A -> page B: messages/s from
//   the first send to the last arrival (10000 messages);
// - ordered binary messages of 64 KiB: MB/s (16 MiB in all) and how many
//   the server dropped because its send buffer toward page B was full
//   ('sctpsendbufferfull', as mediasoup does);
// - one-way latency of single messages (page A's clock vs page B's; same
//   machine): p50 / p95 / p99 over 500 messages sent one at a time;
// - unordered (maxRetransmits: 0): messages lost out of a back-to-back
//   burst of 1000 (and datagrams the kernel dropped on the server's socket).
// Needs Chromium (Debian's "chromium" or GOSFU_CHROMIUM).

const fs = require('node:fs');

const gosfu = require('..');
const {
  findChromium, launch, serveTestPage, openTestPage,
} = require('../test/browser/chromium');

const runsIndex = process.argv.indexOf('--runs');
const runs = runsIndex > 0 ? Number(process.argv[runsIndex + 1]) || 3 : 3;

function udpDrops(port) {
  try {
    const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1] === local) return Number(fields[fields.length - 1]);
    }
  } catch (error) {
    // not Linux
  }
  return 0;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function oneRun(browser, pageServer, router) {
  const transports = new Map();
  const dataProducers = new Map();
  const onSignal = async (method, data) => {
    const transport = transports.get(data.transportId);
    if (method === 'connect') {
      await transport.connect({ dtlsParameters: data.dtlsParameters });
      return {};
    }
    if (method === 'produceData') {
      const dataProducer = await transport.produceData({
        sctpStreamParameters: data.sctpStreamParameters, label: data.label, protocol: data.protocol,
      });
      dataProducers.set(dataProducer.id, dataProducer);
      return { id: dataProducer.id };
    }
    throw new Error(`unknown method ${method}`);
  };
  const send = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], enableSctp: true });
  const recv = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], enableSctp: true });
  transports.set(send.id, send);
  transports.set(recv.id, recv);
  const params = (t) => ({
    id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters, sctpParameters: t.sctpParameters,
  });
  const pageA = await openTestPage(browser, pageServer.url, onSignal);
  const pageB = await openTestPage(browser, pageServer.url, onSignal);
  try {
    await pageA.evaluate((caps) => window.gosfu.loadDevice(caps), router.rtpCapabilities);
    await pageA.evaluate((p) => window.gosfu.createSendTransport(p), params(send));
    await pageB.evaluate((caps) => window.gosfu.loadDevice(caps), router.rtpCapabilities);
    await pageB.evaluate((p) => window.gosfu.createRecvTransport(p), params(recv));

    const channel = async (options) => {
      const info = await pageA.evaluate((args) => window.gosfu.produceData(args.id, args.options), { id: send.id, options });
      const dataConsumer = await recv.consumeData({ dataProducerId: info.id });
      await pageB.evaluate((args) => window.gosfu.consumeData(args.transportId, args.params), {
        transportId: recv.id,
        params: {
          id: dataConsumer.id,
          dataProducerId: dataConsumer.dataProducerId,
          sctpStreamParameters: dataConsumer.sctpStreamParameters,
          label: dataConsumer.label,
          protocol: dataConsumer.protocol,
        },
      });
      await pageA.evaluate((id) => window.gosfu.waitDataOpen(id), info.id);
      await pageB.evaluate((id) => window.gosfu.waitDataOpen(id), dataConsumer.id);
      // The server drops what does not fit its SCTP send buffer toward page
      // B (as mediasoup does), with 'sctpsendbufferfull'.
      const counters = { sendBufferFull: 0 };
      dataConsumer.on('sctpsendbufferfull', () => { counters.sendBufferFull += 1; });
      return { producerId: info.id, consumerId: dataConsumer.id, counters };
    };
    const ordered = await channel({ ordered: true, label: 'ordered' });
    const unordered = await channel({ ordered: false, maxRetransmits: 0, label: 'unordered' });
    const port = send.iceSelectedTuple.localPort;
    const result = {};
    let received = 0;

    // Ordered small messages.
    {
      const count = 10000;
      const sent = await pageA.evaluate((args) => window.gosfu.sendTexts(args.id, { count: args.count, prefix: 'x'.repeat(94) }),
        { id: ordered.producerId, count });
      await pageB.evaluate((args) => window.gosfu.waitDataMessages(args.id, args.n, 120000), { id: ordered.consumerId, n: received + count });
      const { lastAt } = await pageB.evaluate((id) => window.gosfu.dataReceived(id, { from: 1e9 }), ordered.consumerId);
      received += count;
      result.smallPerSecond = Math.round(count / ((lastAt - sent.startedAt) / 1000));
    }

    // Ordered 64 KiB binary messages (16 MiB). What the server drops
    // (sctpsendbufferfull) never arrives: wait for the rest.
    {
      const count = 256;
      const sizes = new Array(count).fill(65536);
      const fullBefore = ordered.counters.sendBufferFull;
      const startedAt = await pageA.evaluate(() => performance.timeOrigin + performance.now());
      await pageA.evaluate((args) => window.gosfu.sendBinary(args.id, args.sizes), { id: ordered.producerId, sizes });
      await pageA.evaluate((id) => window.gosfu.waitDataDrained(id, 120000), ordered.producerId);
      let got;
      const deadline = Date.now() + 60000;
      for (;;) {
        const dropped = ordered.counters.sendBufferFull - fullBefore;
        got = (await pageB.evaluate((id) => window.gosfu.dataReceived(id, { from: 1e9 }), ordered.consumerId)).count - received;
        if (got + dropped >= count) break;
        if (Date.now() > deadline) {
          result.binaryMissing = count - got - dropped;
          break;
        }
        await pageB.evaluate((args) => window.gosfu.waitDataMessages(args.id, args.n, 1000),
          { id: ordered.consumerId, n: received + got + 1 }).catch(() => {});
      }
      const { lastAt } = await pageB.evaluate((id) => window.gosfu.dataReceived(id, { from: 1e9 }), ordered.consumerId);
      received += got;
      result.binaryMBps = ((got * 65536) / 1e6 / ((lastAt - startedAt) / 1000)).toFixed(1);
      result.binaryDropped = ordered.counters.sendBufferFull - fullBefore;
    }

    // Latency, one message at a time.
    {
      const count = 500;
      const delays = [];
      for (let i = 0; i < count; i++) {
        await pageA.evaluate((id) => window.gosfu.sendTexts(id, { count: 1, prefix: 'lat-', withTime: true }), ordered.producerId);
        await pageB.evaluate((args) => window.gosfu.waitDataMessages(args.id, args.n, 10000), { id: ordered.consumerId, n: received + 1 });
        const { messages } = await pageB.evaluate((args) => window.gosfu.dataReceived(args.id, { from: args.from, withTimes: true }),
          { id: ordered.consumerId, from: received });
        received += 1;
        delays.push(messages[0].at - Number(messages[0].text.split('@')[1]));
      }
      delays.sort((a, b) => a - b);
      result.latencyMs = [50, 95, 99].map((p) => percentile(delays, p).toFixed(2)).join(' / ');
    }

    // Unordered burst.
    {
      const count = 1000;
      const dropsBefore = udpDrops(port);
      await pageA.evaluate((args) => window.gosfu.sendTexts(args.id, { count: args.count, prefix: 'u-' }), { id: unordered.producerId, count });
      await pageA.evaluate((id) => window.gosfu.waitDataDrained(id), unordered.producerId);
      await pageA.evaluate((id) => window.gosfu.sendTextList(id, ['marker']), ordered.producerId);
      await pageB.evaluate((args) => window.gosfu.waitDataText(args.id, 'marker', 20000), { id: ordered.consumerId });
      await pageB.evaluate((args) => window.gosfu.waitDataMessages(args.id, args.n, 2000), { id: unordered.consumerId, n: count })
        .catch(() => {});
      const { count: got } = await pageB.evaluate((id) => window.gosfu.dataReceived(id, { from: 1e9 }), unordered.consumerId);
      result.unorderedLost = `${count - got}/${count} (kernel drops on the server socket: ${udpDrops(port) - dropsBefore})`;
    }
    return result;
  } finally {
    await pageA.close().catch(() => {});
    await pageB.close().catch(() => {});
    send.close();
    recv.close();
  }
}

async function main() {
  if (!findChromium()) {
    console.error('Chromium not found (install Debian\'s "chromium" or set GOSFU_CHROMIUM)');
    process.exit(2);
  }
  const pageServer = await serveTestPage();
  const browser = await launch();
  const worker = await gosfu.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({
    mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
  });
  try {
    for (let run = 1; run <= runs; run++) {
      const r = await oneRun(browser, pageServer, router);
      console.log(`run ${run}: ordered 100 B: ${r.smallPerSecond} messages/s; ordered 64 KiB: ${r.binaryMBps} MB/s`
        + ` (${r.binaryDropped}/256 dropped by the server: sctpsendbufferfull`
        + `${r.binaryMissing ? `; ${r.binaryMissing} MISSING: neither received nor reported dropped after 60 s` : ''});`
        + ` latency p50/p95/p99: ${r.latencyMs} ms; unordered burst lost: ${r.unorderedLost}`);
    }
  } finally {
    await browser.close().catch(() => {});
    await pageServer.close();
    worker.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
