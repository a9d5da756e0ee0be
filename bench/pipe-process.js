#!/usr/bin/env node
'use strict';

// What a PipeTransport pair costs when a room is split over two Node
// processes (producers in A, consumers in B, as mediasoup users scale), per
// forwarded packet, against the same room in one process.
//
//   single: sender ─▶ S [PlainTransport → Producer → N Consumers] ─▶ sink
//   pipe:   sender ─▶ A [PlainTransport → Producer → pipe Consumer]
//                        ═▶ B [pipe Producer → N Consumers] ─▶ sink
//
// S, A and B are child processes of this script, each with its own gosfu
// worker, driven over IPC; this process only sends (paced, one 1100-byte
// VP8 packet per frame, a key frame every second) and orchestrates. The
// consumers' PlainTransports send to one UDP socket that is never read (a
// child whose event loop is blocked), so no reader competes for the cores.
// CPU is each child's process.cpuUsage() (user + system of every thread:
// Node and the Go engine) over the measuring window, divided by the packets
// its consumers forwarded (their stats' packetCount) in that window.
//
// Usage: node bench/pipe-process.js [--consumers 1,10,100] [--rate 500]
//   [--size 1100] [--seconds 8] [--warmup 2] [--idle 2] [--repeat 3]
//   [--srtp] [--rtx]
// Wrap it in `flock /tmp/gosfu-cpu.lock` on a shared machine.
const path = require('node:path');
const dgram = require('node:dgram');
const { fork } = require('node:child_process');

const mediaCodecs = [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }];
const SSRC = 12340000;
const PT = 96;
const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };

// ---------------------------------------------------------------- children

function runSink() {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 16 });
  socket.bind(0, '127.0.0.1', () => {
    process.send({ port: socket.address().port }, () => {
      // Block the event loop for good: the socket is never read and the
      // kernel drops what overflows its buffer. The parent kills us.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });
  });
}

function runRoomHalf() {
  const gosfu = require(path.join(__dirname, '..'));
  let worker;
  let router;
  let producer;
  let pipe;
  const consumers = [];

  const packetCount = async (object, type) => {
    const stats = await object.getStats();
    return stats.filter((s) => s.type === type).reduce((n, s) => n + s.packetCount, 0);
  };

  const ops = {
    async init() {
      worker = await gosfu.createWorker({ logLevel: 'warn' });
      router = await worker.createRouter({ mediaCodecs });
    },
    async produce() {
      const transport = await router.createPlainTransport({ listenInfo, comedia: true });
      producer = await transport.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{
            mimeType: 'video/VP8',
            payloadType: PT,
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          }],
          encodings: [{ ssrc: SSRC }],
        },
      });
      return { port: transport.tuple.localPort, producerId: producer.id };
    },
    async pipe({ enableSrtp, enableRtx }) {
      pipe = await router.createPipeTransport({ listenInfo, enableSrtp, enableRtx });
      return { ip: pipe.tuple.localAddress, port: pipe.tuple.localPort, srtpParameters: pipe.srtpParameters };
    },
    async pipeConnect({ ip, port, srtpParameters }) {
      await pipe.connect({ ip, port, srtpParameters });
    },
    // pipeToRouter()'s two halves: a pipe consumer here, a producer with
    // its parameters (and the same id) on the other side's pipe.
    async pipeConsume({ producerId }) {
      const pipeConsumer = await pipe.consume({ producerId });
      return { kind: pipeConsumer.kind, rtpParameters: pipeConsumer.rtpParameters, paused: pipeConsumer.producerPaused };
    },
    async pipeProduce({
      id, kind, rtpParameters, paused,
    }) {
      producer = await pipe.produce({
        id, kind, rtpParameters, paused,
      });
    },
    async consume({ n, sinkPort }) {
      for (let i = 0; i < n; i += 20) {
        await Promise.all(Array.from({ length: Math.min(20, n - i) }, async () => {
          const transport = await router.createPlainTransport({ listenInfo });
          await transport.connect({ ip: '127.0.0.1', port: sinkPort });
          consumers.push(await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities }));
        }));
      }
    },
    async counts() {
      const perConsumer = await Promise.all(consumers.map((c) => packetCount(c, 'outbound-rtp')));
      return { at: performance.now(), forwarded: perConsumer.reduce((x, y) => x + y, 0) };
    },
    async cpu() {
      const { user, system } = process.cpuUsage();
      return { at: performance.now(), cpuUs: user + system, rss: process.memoryUsage.rss() };
    },
  };

  process.on('message', async ({ reqId, op, ...args }) => {
    try {
      const result = await ops[op](args);
      process.send({ reqId, result });
    } catch (error) {
      process.send({ reqId, error: `${op}: ${error.stack || error}` });
    }
  });
}

// ---------------------------------------------------------------- parent

function spawn(role) {
  const child = fork(__filename, [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const pending = new Map();
  child.on('message', (msg) => {
    const entry = pending.get(msg.reqId);
    if (!entry) return;
    pending.delete(msg.reqId);
    if (msg.error) entry.reject(new Error(msg.error));
    else entry.resolve(msg.result);
  });
  child.on('exit', (code, signal) => {
    for (const entry of pending.values()) entry.reject(new Error(`child ${role} exited (${code ?? signal})`));
    pending.clear();
  });
  child.call = (op, args = {}) => new Promise((resolve, reject) => {
    const reqId = nextId++;
    pending.set(reqId, { resolve, reject });
    child.send({ reqId, op, ...args });
  });
  child.stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
  return child;
}

async function startSink() {
  const sink = spawn('--sink');
  const [{ port }] = await new Promise((resolve) => { sink.once('message', (...args) => resolve(args)); });
  return { sink, port };
}

/** A paced sender of VP8 packets (one per frame, a key frame each second). */
function startSender(port, rate, size) {
  const socket = dgram.createSocket('udp4');
  const payloadSize = Math.max(size - 12, 4);
  const t0 = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) {
      const packet = Buffer.alloc(12 + payloadSize, 0xab);
      packet[0] = 0x80;
      packet[1] = 0x80 | PT; // marker: every packet ends its frame
      packet.writeUInt16BE(sent & 0xffff, 2);
      packet.writeUInt32BE((sent * 3000) >>> 0, 4);
      packet.writeUInt32BE(SSRC, 8);
      const keyFrame = sent % rate === 0;
      packet[12] = 0x10; // VP8 descriptor: S=1, PID=0
      packet[13] = keyFrame ? 0x00 : 0x01; // VP8 header: P bit 0 on key frames
      socket.send(packet, port, '127.0.0.1');
    }
  }, 1);
  return {
    get sent() {
      return sent;
    },
    stop() {
      clearInterval(timer);
      socket.close();
    },
  };
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** One run: builds the room in one or two processes, measures, tears down. */
async function runOnce(mode, n, opts, sinkPort) {
  const children = [];
  try {
    let ingress; // the process with the producer
    let egress; // the process with the consumers
    if (mode === 'single') {
      ingress = spawn('--room');
      egress = ingress;
      children.push(ingress);
      await ingress.call('init');
    } else {
      ingress = spawn('--room');
      egress = spawn('--room');
      children.push(ingress, egress);
      await Promise.all([ingress.call('init'), egress.call('init')]);
    }
    const { port, producerId } = await ingress.call('produce');
    if (mode === 'pipe') {
      const [a, b] = await Promise.all([ingress.call('pipe', opts), egress.call('pipe', opts)]);
      await Promise.all([ingress.call('pipeConnect', b), egress.call('pipeConnect', a)]);
      const params = await ingress.call('pipeConsume', { producerId });
      await egress.call('pipeProduce', { id: producerId, ...params });
    }
    await egress.call('consume', { n, sinkPort });

    const sampleCpu = () => Promise.all(children.map((c) => c.call('cpu')));
    const cpuRate = (s0, s1) => s0.map((s, i) => (s1[i].cpuUs - s.cpuUs) / ((s1[i].at - s.at) / 1000)); // µs CPU per s

    const idle0 = await sampleCpu();
    await sleep(opts.idle * 1000);
    const idle1 = await sampleCpu();

    const sender = startSender(port, opts.rate, opts.size);
    await sleep(opts.warmup * 1000);
    const c0 = await egress.call('counts');
    const s0 = await sampleCpu();
    await sleep(opts.seconds * 1000);
    const s1 = await sampleCpu();
    const c1 = await egress.call('counts');
    sender.stop();
    // Loss over the whole run: every consumer existed before the first
    // (key frame) packet; let the last packets land first.
    await sleep(300);
    const end = await egress.call('counts');

    const fwdPerSec = (c1.forwarded - c0.forwarded) / ((c1.at - c0.at) / 1000);
    const cpu = cpuRate(s0, s1);
    const idle = cpuRate(idle0, idle1);
    const perFwd = cpu.map((r) => r / fwdPerSec);
    const total = perFwd.reduce((x, y) => x + y, 0);
    const idleUsPerSec = idle.reduce((x, y) => x + y, 0);
    return {
      mode,
      n,
      fwdPerSec,
      loss: 1 - end.forwarded / (n * sender.sent),
      cpuA: perFwd[0],
      cpuB: mode === 'pipe' ? perFwd[1] : undefined,
      total,
      // The processes' idle CPU (timers, runtimes) taken out: what the
      // packets themselves cost.
      net: total - idleUsPerSec / fwdPerSec,
      idleMsPerSec: idleUsPerSec / 1000,
      rssMb: s1.map((s) => s.rss / 1048576),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

function median(values) {
  const v = values.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function parseArgs(argv) {
  const opts = {
    consumers: [1, 10, 100], rate: 500, size: 1100, seconds: 8, warmup: 2, idle: 2, repeat: 3, enableSrtp: false, enableRtx: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i];
    if (a === '--consumers') opts.consumers = value().split(',').map(Number);
    else if (a === '--rate') opts.rate = Number(value());
    else if (a === '--size') opts.size = Number(value());
    else if (a === '--seconds') opts.seconds = Number(value());
    else if (a === '--warmup') opts.warmup = Number(value());
    else if (a === '--idle') opts.idle = Number(value());
    else if (a === '--repeat') opts.repeat = Number(value());
    else if (a === '--srtp') opts.enableSrtp = true;
    else if (a === '--rtx') opts.enableRtx = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const os = require('node:os');
  console.log(`# pipe-process: ${opts.rate} packets/s of ${opts.size} B into one producer, consumers ${opts.consumers.join(',')}, `
    + `${opts.seconds} s windows after ${opts.warmup} s warm-up, ${opts.repeat} runs (medians), `
    + `pipe ${opts.enableSrtp ? 'SRTP' : 'plain'}${opts.enableRtx ? ' + RTX' : ''}; ${os.cpus().length} CPUs, `
    + `load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { sink, port: sinkPort } = await startSink();
  const results = new Map(); // `${n}/${mode}` → [runs]
  try {
    for (let rep = 0; rep < opts.repeat; rep++) {
      for (const n of opts.consumers) {
        // Alternate the order so that drift in machine load hits both alike.
        const modes = rep % 2 ? ['pipe', 'single'] : ['single', 'pipe'];
        for (const mode of modes) {
          const t0 = performance.now();
          const r = await runOnce(mode, n, opts, sinkPort);
          const key = `${n}/${mode}`;
          if (!results.has(key)) results.set(key, []);
          results.get(key).push(r);
          process.stderr.write(`run ${rep + 1} N=${n} ${mode}: ${r.total.toFixed(2)} µs/fwd, ${Math.round(r.fwdPerSec)} fwd/s, `
            + `loss ${(100 * r.loss).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
        }
      }
    }
  } finally {
    await sink.stop();
  }

  const f = (x, d = 2) => (x === undefined ? '–' : x.toFixed(d));
  console.log('');
  console.log('| N | mode | forwarded/s | loss | CPU A (µs/fwd) | CPU B (µs/fwd) | total (µs/fwd) | idle CPU (ms/s) '
    + '| total without idle (µs/fwd) | RSS A / B (MB) |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const summary = [];
  for (const n of opts.consumers) {
    const m = {};
    for (const mode of ['single', 'pipe']) {
      const runs = results.get(`${n}/${mode}`);
      const med = (k) => median(runs.map((r) => r[k]));
      m[mode] = { total: med('total'), net: med('net') };
      const rss = [median(runs.map((r) => r.rssMb[0])), mode === 'pipe' ? median(runs.map((r) => r.rssMb[1])) : undefined];
      console.log(`| ${n} | ${mode === 'single' ? 'one process' : 'A ═pipe═ B'} | ${Math.round(med('fwdPerSec'))} | ${f(100 * med('loss'))}% `
        + `| ${f(med('cpuA'))} | ${f(med('cpuB'))} | ${f(med('total'))} | ${f(med('idleMsPerSec'), 1)} | ${f(med('net'))} `
        + `| ${rss.map((x) => f(x, 0)).join(' / ')} |`);
    }
    summary.push({ n, ...m });
  }
  console.log('');
  console.log('| N | pipe cost per forwarded packet (µs) | per piped packet (µs, × N) | without idle: per forwarded / per piped (µs) '
    + '| pipe / one process |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const { n, single, pipe } of summary) {
    const d = pipe.total - single.total;
    const dn = pipe.net - single.net;
    console.log(`| ${n} | ${f(d)} | ${f(d * n, 1)} | ${f(dn)} / ${f(dn * n, 1)} | ${f(pipe.total / single.total)} |`);
  }
  console.log('');
  console.log('A is the process with the producer (alone in "one process": all its CPU is in column A), B the one with the '
    + 'consumers. CPU columns are medians of each run\'s process CPU over the window / packets forwarded to the consumers; '
    + '"without idle" first takes out the CPU the same processes used idle (room built, no media). '
    + `Load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
}

if (process.argv[2] === '--sink') runSink();
else if (process.argv[2] === '--room') runRoomHalf();
else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
