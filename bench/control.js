'use strict';

// Control-plane rounds/s. See bench/memory-control.md.
//
//   node bench/control.js [--rounds 2000] [--inflight 1,50] [--repeat 3]
//                         [--consumer-transports 10] [--server] [--tcp]
//                         [--record FILE] [--json]
//
// A round is what issue 11 counts: router.createWebRtcTransport() (own UDP
// port on 127.0.0.1, or a WebRtcServer's with --server), produce() of a
// browser-like VP8 video producer on that new transport, and consume() of
// that producer on another transport (one of --consumer-transports
// WebRtcTransports created beforehand, round-robin). "inflight 1" awaits
// each step of each round (serial); "inflight 50" keeps 50 rounds running
// at once (each itself sequential: produce needs the transport, consume the
// producer). After each batch of --rounds the round transports are closed
// (closing their producers and, through them, the consumers), outside the
// timed part, so memory does not grow from batch to batch.
//
// --record FILE writes the engine requests (method, handler id, JSON body)
// of the setup and of one round as lib/ sends them: input for
// `go run ./bench/controlprof -requests FILE`.

const fs = require('node:fs');
const crypto = require('node:crypto');

function parseArgs(argv) {
  const opts = {
    rounds: 2000,
    inflight: [1, 50],
    repeat: 3,
    consumerTransports: 10,
    server: false,
    tcp: false,
    record: undefined,
    json: false,
    warmup: 200,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new TypeError(`missing value for ${a}`);
      return argv[++i];
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new TypeError(`bad value for ${a}`);
      return v;
    };
    if (a === '--rounds') opts.rounds = Math.max(1, int());
    else if (a === '--inflight') {
      opts.inflight = value().split(',').map(Number);
      if (opts.inflight.some((n) => !Number.isInteger(n) || n < 1)) throw new TypeError('bad --inflight');
    } else if (a === '--repeat') opts.repeat = Math.max(1, int());
    else if (a === '--consumer-transports') opts.consumerTransports = Math.max(1, int());
    else if (a === '--warmup') opts.warmup = int();
    else if (a === '--server') opts.server = true;
    else if (a === '--tcp') opts.tcp = true;
    else if (a === '--record') opts.record = value();
    else if (a === '--json') opts.json = true;
    else throw new TypeError(`unknown option ${a} (see bench/memory-control.md)`);
  }
  return opts;
}

/** What mediasoup-client sends for a Chromium VP8 camera track. */
function producerRtpParameters() {
  const ssrc = crypto.randomInt(1, 0xffffffff);
  return {
    mid: '0',
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [
          { type: 'goog-remb', parameter: '' },
          { type: 'transport-cc', parameter: '' },
          { type: 'ccm', parameter: 'fir' },
          { type: 'nack', parameter: '' },
          { type: 'nack', parameter: 'pli' },
        ],
      },
      {
        mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [],
      },
    ],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} },
      { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2, encrypt: false, parameters: {} },
      {
        uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3, encrypt: false, parameters: {},
      },
      { uri: 'urn:3gpp:video-orientation', id: 13, encrypt: false, parameters: {} },
      { uri: 'urn:ietf:params:rtp-hdrext:toffset', id: 14, encrypt: false, parameters: {} },
    ],
    encodings: [{ ssrc, rtx: { ssrc: (ssrc + 1) >>> 0 || 1 }, dtx: false }],
    rtcp: { cname: crypto.randomBytes(8).toString('base64'), reducedSize: true },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function rssKb() {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

function summarize(values) {
  const s = Float64Array.from(values).sort();
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    mean, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1],
  };
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const gosfu = require('..');
  const log = (...a) => {
    if (!opts.json) console.log(...a);
  };

  let recording;
  if (opts.record) {
    // Capture the requests lib/ hands the engine during one round.
    const { Channel } = require('../lib/Channel');
    for (const name of ['requestSync', 'requestAsync']) {
      const original = Channel.prototype[name];
      Channel.prototype[name] = function recorded(method, handlerId, data) {
        if (recording) recording.push({ method, handlerId: handlerId || '', data });
        return original.call(this, method, handlerId, data);
      };
    }
  }

  const worker = await gosfu.createWorker({ logLevel: 'warn', rtcMinPort: 20000, rtcMaxPort: 59999 });
  if (opts.record) recording = [];
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
      { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 2 } },
      {
        kind: 'video',
        mimeType: 'video/H264',
        clockRate: 90000,
        parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1 },
      },
    ],
  });
  const protocols = opts.tcp ? ['udp', 'tcp'] : ['udp'];
  let webRtcServer;
  if (opts.server) {
    webRtcServer = await worker.createWebRtcServer({
      listenInfos: protocols.map((protocol) => ({ protocol, ip: '127.0.0.1', port: 0 })),
    });
  }
  const transportOptions = webRtcServer
    ? { webRtcServer, enableTcp: opts.tcp }
    : { listenInfos: protocols.map((protocol) => ({ protocol, ip: '127.0.0.1' })) };
  const consumerTransports = [];
  for (let i = 0; i < opts.consumerTransports; i++) {
    consumerTransports.push(await router.createWebRtcTransport(transportOptions));
  }
  const rtpCapabilities = router.rtpCapabilities;

  let next = 0;
  const round = async (created, times) => {
    const index = next++;
    const t0 = nowMs();
    const transport = await router.createWebRtcTransport(transportOptions);
    created.push(transport);
    const t1 = nowMs();
    const producer = await transport.produce({ kind: 'video', rtpParameters: producerRtpParameters() });
    const t2 = nowMs();
    await consumerTransports[index % consumerTransports.length].consume({ producerId: producer.id, rtpCapabilities });
    const t3 = nowMs();
    times.round.push(t3 - t0);
    times.create.push(t1 - t0);
    times.produce.push(t2 - t1);
    times.consume.push(t3 - t2);
  };

  const batch = async (rounds, inflight) => {
    const created = [];
    const times = {
      round: [], create: [], produce: [], consume: [],
    };
    let left = rounds;
    const lane = async () => {
      while (left > 0) {
        left--;
        await round(created, times);
      }
    };
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    await Promise.all(Array.from({ length: Math.min(inflight, rounds) }, lane));
    const elapsed = nowMs() - t0;
    const cpu = process.cpuUsage(cpu0);
    const c0 = nowMs();
    for (const t of created) t.close();
    const closeMs = nowMs() - c0;
    return {
      rounds,
      inflight,
      elapsedMs: elapsed,
      roundsPerSecond: (rounds * 1000) / elapsed,
      cpuUsPerRound: (cpu.user + cpu.system) / rounds,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / elapsed) * 100,
      closeUsPerTransport: (closeMs * 1000) / created.length,
      latencyMs: {
        round: summarize(times.round),
        create: summarize(times.create),
        produce: summarize(times.produce),
        consume: summarize(times.consume),
      },
      rssKb: rssKb(),
    };
  };

  if (opts.record) {
    // Setup (router, WebRtcServer, consumer transports), then one round
    // and the close of its transport.
    const setup = recording;
    recording = [];
    await batch(1, 1);
    fs.writeFileSync(opts.record, `${JSON.stringify({ setup, round: recording }, null, 1)}\n`);
    recording = undefined;
    log(`recorded ${opts.record}`);
  }

  if (opts.warmup > 0) await batch(opts.warmup, Math.max(...opts.inflight));
  const rssStart = rssKb();
  log(`rss after warm-up ${rssStart} kB; ${opts.rounds} rounds per batch, ${opts.repeat} batches per setting, `
    + `${webRtcServer ? 'WebRtcServer' : 'own ports'} (${protocols.join('+')})`);

  const results = [];
  for (const inflight of opts.inflight) {
    const runs = [];
    for (let r = 0; r < opts.repeat; r++) {
      const res = await batch(opts.rounds, inflight);
      runs.push(res);
      const l = res.latencyMs.round;
      log(`inflight ${inflight}: ${res.roundsPerSecond.toFixed(0)} rounds/s, CPU ${res.cpuUsPerRound.toFixed(0)} µs/round `
        + `(${res.cpuPercent.toFixed(0)}%), round latency p50 ${l.p50.toFixed(2)} p90 ${l.p90.toFixed(2)} `
        + `p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(2)} ms; close ${res.closeUsPerTransport.toFixed(0)} µs/transport; rss ${res.rssKb} kB`);
    }
    runs.sort((a, b) => a.roundsPerSecond - b.roundsPerSecond);
    results.push({ inflight, median: runs[runs.length >> 1], runs });
  }

  // Let the engine finish closing before the last figure.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const dump = await router.dump();
  const rssEnd = rssKb();
  const usage = await worker.getResourceUsage();
  let consumersLeft = 0;
  for (const t of consumerTransports) consumersLeft += (await t.dump()).consumerIds.length;

  if (opts.json) {
    console.log(JSON.stringify({
      options: opts,
      results,
      rssStartKb: rssStart,
      rssEndKb: rssEnd,
      transportsLeft: dump.transportIds.length - opts.consumerTransports,
      consumersLeft,
      goroutines: usage.goroutines,
      goHeapInuseKb: usage.goHeapInuse / 1024,
    }, null, 2));
  } else {
    const f = (v) => v.toFixed(2);
    console.log('\n| in flight | rounds/s | CPU µs/round | round p50 / p90 / p99 / max (ms) | create / produce / consume mean (ms) |');
    console.log('|---:|---:|---:|---|---|');
    for (const { inflight, median } of results) {
      const l = median.latencyMs;
      console.log(`| ${inflight} | ${median.roundsPerSecond.toFixed(0)} | ${median.cpuUsPerRound.toFixed(0)} | `
        + `${f(l.round.p50)} / ${f(l.round.p90)} / ${f(l.round.p99)} / ${f(l.round.max)} | `
        + `${f(l.create.mean)} / ${f(l.produce.mean)} / ${f(l.consume.mean)} |`);
    }
    console.log(`(medians of ${opts.repeat} batches by rounds/s) rss ${rssStart} → ${rssEnd} kB; `
      + `transports left besides the ${opts.consumerTransports} consumer transports: ${dump.transportIds.length - opts.consumerTransports}, `
      + `consumers left: ${consumersLeft}; goroutines ${usage.goroutines}, Go heap ${(usage.goHeapInuse / 1048576).toFixed(1)} MB`);
  }
  if (webRtcServer) webRtcServer.close();
  worker.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
