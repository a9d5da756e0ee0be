'use strict';

// Memory per (PlainTransport + consumer), idle and under load. See
// bench/memory-control.md.
//
//   node bench/memory.js [--k 200] [--pps 500] [--size 1100] [--warmup 5]
//                        [--samples 8] [--json]
//
// One worker and router in this process; one VP8 producer (NACK, PLI, RTX)
// on a comedia PlainTransport fed by a child process sending RTP over UDP;
// K PlainTransports each with one consumer of it, connected to a sink
// socket nobody reads (a python3 child; the kernel drops what overflows its
// buffer, so nothing in this process spends memory or CPU on receiving).
//
//   base:  worker + router + producer, no packet sent yet (a few pairs were
//          created and closed first so that code pages and lazy one-time
//          state are already in).
//   idle:  + K pairs, still no packet: no retransmission buffer holds
//          anything, so this is the cost of the objects themselves.
//   load:  the sender runs at --pps for --warmup s (buffers at steady state),
//          then memory is sampled while it keeps sending.
//   close: the K pairs closed, sender stopped.
//
// Figures per pair are (phase − base) / K. RSS is VmRSS of this process
// (Node + Go engine + shim), sampled --samples times 250 ms apart after a
// full V8 GC (the script re-runs itself with --expose-gc), median reported.
// The Go runtime's figures come from worker.getResourceUsage() (read
// without a Go GC: goHeapInuse includes garbage not yet collected).

const { spawn, fork, spawnSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');

if (process.argv[2] === '--sender') {
  runSender();
} else if (typeof global.gc !== 'function') {
  // Re-run with a forced-GC hook so JS garbage is not counted.
  const res = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exitCode = res.status === null ? 1 : res.status;
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

function parseArgs(argv) {
  const opts = {
    k: 200, pps: 500, size: 1100, warmup: 5, samples: 8, json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new TypeError(`bad value for ${a}`);
      return v;
    };
    if (a === '--k') opts.k = Math.max(1, Math.floor(next()));
    else if (a === '--pps') opts.pps = next();
    else if (a === '--size') opts.size = Math.max(40, Math.floor(next()));
    else if (a === '--warmup') opts.warmup = next();
    else if (a === '--samples') opts.samples = Math.max(1, Math.floor(next()));
    else if (a === '--json') opts.json = true;
    else throw new TypeError(`unknown option ${a} (see bench/memory-control.md)`);
  }
  return opts;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const SSRC = 22220000;
const RTX_SSRC = 22220001;
const PT = 96;
const RTX_PT = 97;

const producerRtpParameters = {
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: PT,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    },
    {
      mimeType: 'video/rtx', payloadType: RTX_PT, clockRate: 90000, parameters: { apt: PT },
    },
  ],
  encodings: [{ ssrc: SSRC, rtx: { ssrc: RTX_SSRC } }],
};

/** VmRSS, RssAnon and RssFile of this process in kB. */
function procStatus() {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const get = (key) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : NaN;
  };
  return { rss: get('VmRSS'), rssAnon: get('RssAnon'), rssFile: get('RssFile') };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median over `samples` readings 250 ms apart, each after a full V8 GC. */
async function sampleMemory(worker, samples) {
  const rows = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(250);
    global.gc();
    const status = procStatus();
    const usage = await worker.getResourceUsage();
    const mu = process.memoryUsage();
    rows.push({
      rss: status.rss,
      rssAnon: status.rssAnon,
      rssFile: status.rssFile,
      goHeapInuse: usage.goHeapInuse / 1024,
      goSys: usage.goSys / 1024,
      goroutines: usage.goroutines,
      jsHeapUsed: mu.heapUsed / 1024,
      jsExternal: mu.external / 1024,
      fds: fs.readdirSync('/proc/self/fd').length,
    });
  }
  const out = {};
  for (const key of Object.keys(rows[0])) out[key] = median(rows.map((r) => r[key]));
  out.rssMin = Math.min(...rows.map((r) => r.rss));
  out.rssMax = Math.max(...rows.map((r) => r.rss));
  return out;
}

/** A python3 child holding a UDP socket it never reads; resolves its port. */
function startSink() {
  const code = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
    "s.bind(('127.0.0.1', 0))",
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()', // until the parent closes stdin or dies
  ].join('\n');
  const child = spawn('python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) }));
    child.once('exit', (code2) => reject(new Error(`sink exited (${code2})`)));
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const gosfu = require('..');
  const log = (...a) => {
    if (!opts.json) console.log(...a);
  };

  const worker = await gosfu.createWorker({ logLevel: 'warn', rtcMinPort: 20000, rtcMaxPort: 59999 });
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
    ],
  });
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  const inT = await router.createPlainTransport({ listenInfo, comedia: true });
  const producer = await inT.produce({ kind: 'video', rtpParameters: producerRtpParameters });
  const sink = await startSink();

  const createPairs = async (n) => {
    const pairs = [];
    for (let i = 0; i < n; i++) {
      const transport = await router.createPlainTransport({ listenInfo });
      await transport.connect({ ip: '127.0.0.1', port: sink.port });
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
      pairs.push({ transport, consumer });
    }
    return pairs;
  };

  // Warm-up: code pages, lazily built tables, first heap spans.
  for (const p of await createPairs(10)) p.transport.close();
  await sleep(500);

  const base = await sampleMemory(worker, opts.samples);
  log(`base: rss ${base.rss} kB, go heap ${base.goHeapInuse.toFixed(0)} kB, goroutines ${base.goroutines}`);

  const t0 = process.hrtime.bigint();
  const pairs = await createPairs(opts.k);
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await sleep(1000); // timers started by the new objects run once
  const idle = await sampleMemory(worker, opts.samples);
  log(`idle: ${opts.k} pairs created in ${createMs.toFixed(0)} ms; rss ${idle.rss} kB`);

  // Load: the sender child feeds the producer transport (comedia).
  const sender = fork(__filename, ['--sender'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    sender.once('message', resolve);
    sender.once('error', reject);
    sender.send({ port: inT.tuple.localPort, pps: opts.pps, size: opts.size });
  });
  const startedAt = Date.now();
  // Every consumer forwards once the first key frame went through.
  const packetCount = async (c) => {
    const stats = await c.getStats();
    const s = stats.find((x) => x.type === 'outbound-rtp');
    return s ? s.packetCount : 0;
  };
  let loadOk = opts.pps > 0;
  if (loadOk) {
    const deadline = Date.now() + 10000;
    for (const p of pairs) {
      while ((await packetCount(p.consumer)) === 0) {
        if (Date.now() > deadline) {
          loadOk = false;
          break;
        }
        await sleep(50);
      }
      if (!loadOk) break;
    }
  }
  const untilSteady = opts.warmup * 1000 - (Date.now() - startedAt);
  if (untilSteady > 0) await sleep(untilSteady);
  const fwd0 = await Promise.all(pairs.map((p) => packetCount(p.consumer)));
  const cpu0 = process.cpuUsage();
  const f0 = Date.now();
  const load = await sampleMemory(worker, opts.samples);
  const fwd1 = await Promise.all(pairs.map((p) => packetCount(p.consumer)));
  const cpu1 = process.cpuUsage(cpu0);
  const loadSeconds = (Date.now() - f0) / 1000;
  const forwardedPerSecond = (fwd1.reduce((a, b) => a + b, 0) - fwd0.reduce((a, b) => a + b, 0)) / loadSeconds;
  const producerStats = (await producer.getStats())[0] || {};
  sender.kill();
  log(`load: ${((Date.now() - startedAt) / 1000).toFixed(1)} s at ${opts.pps} pps; rss ${load.rss} kB`);

  for (const p of pairs) p.transport.close();
  await sleep(1000);
  const closed = await sampleMemory(worker, opts.samples);

  const perPair = (phase) => ({
    rss: (phase.rss - base.rss) / opts.k,
    rssAnon: (phase.rssAnon - base.rssAnon) / opts.k,
    goHeapInuse: (phase.goHeapInuse - base.goHeapInuse) / opts.k,
    goSys: (phase.goSys - base.goSys) / opts.k,
    jsHeapUsed: (phase.jsHeapUsed - base.jsHeapUsed) / opts.k,
    goroutines: (phase.goroutines - base.goroutines) / opts.k,
    fds: (phase.fds - base.fds) / opts.k,
  });
  const result = {
    options: opts,
    base,
    idle,
    load,
    closed,
    perPair: { idle: perPair(idle), load: perPair(load), closed: perPair(closed) },
    loadCheck: {
      allConsumersForwarding: loadOk,
      producerPackets: producerStats.packetCount,
      forwardedPerSecond,
      expectedPerSecond: opts.k * opts.pps,
      cpuPercent: (100 * (cpu1.user + cpu1.system)) / 1e6 / loadSeconds,
    },
  };

  if (opts.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
    console.log(`\nper (PlainTransport + consumer), K=${opts.k}, ${opts.pps} pps of ${opts.size} B, medians of ${opts.samples} samples`);
    console.log('| phase | RSS kB | RssAnon kB | Go heap kB | Go sys kB | JS heap kB | goroutines | fds |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const name of ['idle', 'load', 'closed']) {
      const p = result.perPair[name];
      console.log(`| ${name} | ${f(p.rss)} | ${f(p.rssAnon)} | ${f(p.goHeapInuse)} | ${f(p.goSys)} | ${f(p.jsHeapUsed)} | ${f(p.goroutines, 2)} | ${f(p.fds, 2)} |`);
    }
    console.log(`process RSS kB: base ${base.rss}, idle ${idle.rss}, load ${load.rss} (samples ${load.rssMin}..${load.rssMax}), closed ${closed.rss}`);
    const lc = result.loadCheck;
    console.log(`load check: every consumer forwarding: ${lc.allConsumersForwarding}; forwarded ${f(lc.forwardedPerSecond, 0)}/s of ${lc.expectedPerSecond}/s expected; process CPU ${f(lc.cpuPercent, 0)}% while sampling`);
  }

  sink.child.stdin.end();
  sink.child.kill();
  worker.close();
}

/**
 * The RTP sender child: VP8-like frames at the requested packet rate to the
 * producer transport, a key frame first, every 2 s and on PLI/FIR; RTX for
 * NACKed packets it still has.
 */
function runSender() {
  process.once('message', ({ port, pps, size }) => {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => {
      // About 30 frames/s of equal packets; the frame rate is adjusted so
      // that the RTP clock matches the packet rate exactly (the
      // retransmission buffer keeps 2 s of media time).
      const perFrame = Math.max(1, Math.round(pps / 30));
      const fps = pps / perFrame;
      let seq = 1000;
      let rtxSeq = 5000;
      let ts = 90000;
      let tsExact = ts;
      let inFrame = 0;
      let keyNext = true;
      let lastKey = 0;
      const sent = new Map();
      const payloadSize = size - 12;
      const packet = (keyFrame, start, marker) => {
        const b = Buffer.alloc(12 + payloadSize, 0xab);
        b[0] = 0x80;
        b[1] = (marker ? 0x80 : 0) | PT;
        b.writeUInt16BE(seq & 0xffff, 2);
        b.writeUInt32BE(ts >>> 0, 4);
        b.writeUInt32BE(SSRC, 8);
        b[12] = start ? 0x10 : 0x00; // VP8 descriptor: S bit, partition 0
        b[13] = start ? (keyFrame ? 0x00 : 0x01) : 0x5a; // P bit: 0 = key frame
        return b;
      };
      let frameKey = false;
      const sendOne = () => {
        if (inFrame === 0) {
          const now = Date.now();
          frameKey = keyNext || now - lastKey > 2000;
          if (frameKey) lastKey = now;
          keyNext = false;
        }
        const marker = inFrame === perFrame - 1;
        const b = packet(frameKey, inFrame === 0, marker);
        sent.set(seq & 0xffff, b);
        sent.delete((seq - 1024) & 0xffff);
        socket.send(b, port, '127.0.0.1');
        seq++;
        if (marker) {
          inFrame = 0;
          tsExact += 90000 / fps;
          ts = Math.round(tsExact);
        } else {
          inFrame++;
        }
      };
      socket.on('message', (msg) => {
        // Compound RTCP: look for PLI (206/1), FIR (206/4), NACK (205/1).
        for (let off = 0; off + 12 <= msg.length;) {
          const fmt = msg[off] & 0x1f;
          const pt = msg[off + 1];
          const len = (msg.readUInt16BE(off + 2) + 1) * 4;
          if (pt === 206 && (fmt === 1 || fmt === 4)) keyNext = true;
          if (pt === 205 && fmt === 1) {
            for (let o = off + 12; o + 4 <= off + len && o + 4 <= msg.length; o += 4) {
              const pid = msg.readUInt16BE(o);
              const blp = msg.readUInt16BE(o + 2);
              for (let i = 0; i <= 16; i++) {
                if (i > 0 && !(blp & (1 << (i - 1)))) continue;
                const orig = sent.get((pid + i) & 0xffff);
                if (!orig) continue;
                const rtx = Buffer.alloc(orig.length + 2);
                orig.copy(rtx, 0, 0, 12);
                rtx[1] = (orig[1] & 0x80) | RTX_PT;
                rtx.writeUInt16BE(rtxSeq++ & 0xffff, 2);
                rtx.writeUInt32BE(RTX_SSRC, 8);
                rtx.writeUInt16BE((pid + i) & 0xffff, 12);
                orig.copy(rtx, 14, 12);
                socket.send(rtx, port, '127.0.0.1');
              }
            }
          }
          off += len;
        }
      });
      // Paced by elapsed time, so timer jitter does not change the rate.
      const start = process.hrtime.bigint();
      let total = 0;
      setInterval(() => {
        const due = Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * pps);
        while (total < due) {
          sendOne();
          total++;
        }
      }, 5);
      process.send('started');
    });
  });
  process.once('disconnect', () => process.exit(0));
}
