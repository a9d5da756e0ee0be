'use strict';

// The SFU process of bench/fanout: one worker, one router (VP8), one video
// producer on a comedia PlainTransport, and N consumers of it, each on its
// own PlainTransport connected to a receiver address the Go driver
// (bench/fanout/main.go) gives. The SFU runs alone in this process so that
// /proc/<pid>/stat is its CPU.
//
//   node bench/fanout/server.js [--module ../..] [--log-level warn]
//
// --module loads another package with mediasoup's API (e.g. a mediasoup
// install) instead of gosfu, for side-by-side runs.
//
// Protocol: one JSON object per line on stdin, one answer per line on
// stdout ({"error": message} on failure). The first line printed, before any
// request, is {"pids": [...], "module": path}: this process and, when the
// worker runs in a child process (mediasoup), the worker's.
//
//   {"cmd": "setup", "rxIp": "127.0.0.1", "rxPorts": [port per consumer]}
//     -> {"producerPort", "producerSsrc", "payloadType", "consumerSsrcs": [...],
//         "consumerPorts": [local port of each consumer transport]}
//   {"cmd": "stats"}
//     -> {"producerPacketCount", "consumerPacketCounts": [...],
//         "udpSendBufferFull": sum over the consumers' transports' dump()
//         packetsDropped.udpSendBufferFull (null if the module has no such
//         counter), "producerTransportDropped": that transport's
//         packetsDropped}
//   {"cmd": "close"} -> {} then exits. Closing stdin exits too.

const path = require('node:path');
const readline = require('node:readline');

const PRODUCER_SSRC = 22222222;
const PAYLOAD_TYPE = 101;

function parseArgs(argv) {
  const opts = { module: path.join(__dirname, '../..'), logLevel: 'warn' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--module': opts.module = path.resolve(next()); break;
      case '--log-level': opts.logLevel = next(); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return opts;
}

// The producer a browser's VP8 sender would create: NACK, PLI and FIR
// feedback, RTX, abs-send-time and transport-cc (as bench/run.sh's
// forwarding benchmark).
const producerRtpParameters = {
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: PAYLOAD_TYPE,
      clockRate: 90000,
      rtcpFeedback: [
        { type: 'nack' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
      ],
    },
    { mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: PAYLOAD_TYPE } },
  ],
  headerExtensions: [
    { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2 },
    { uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3 },
  ],
  encodings: [{ ssrc: PRODUCER_SSRC, rtx: { ssrc: PRODUCER_SSRC + 1 } }],
};

// Up to this many createPlainTransport+connect+consume in flight.
const SETUP_CONCURRENCY = 32;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const sfu = require(opts.module);
  const worker = await sfu.createWorker({ logLevel: opts.logLevel });
  const router = await worker.createRouter({
    mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }],
  });
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };

  let producerTransport;
  let producer;
  const consumers = [];

  const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  out({ pids: [...new Set([process.pid, worker.pid])], module: opts.module });

  async function setup(req) {
    if (producer) throw new Error('already set up');
    const ports = req.rxPorts;
    if (!Array.isArray(ports) || ports.length === 0) throw new Error('rxPorts must be a non-empty array');
    producerTransport = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: true });
    producer = await producerTransport.produce({ kind: 'video', rtpParameters: producerRtpParameters });

    const result = new Array(ports.length);
    let next = 0;
    const one = async () => {
      for (;;) {
        const i = next++;
        if (i >= ports.length) return;
        const transport = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false });
        await transport.connect({ ip: req.rxIp || '127.0.0.1', port: ports[i] });
        const consumer = await transport.consume({
          producerId: producer.id,
          rtpCapabilities: router.rtpCapabilities,
        });
        result[i] = { transport, consumer };
      }
    };
    await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, ports.length) }, one));
    consumers.push(...result);
    return {
      producerPort: producerTransport.tuple.localPort,
      producerSsrc: PRODUCER_SSRC,
      payloadType: PAYLOAD_TYPE,
      consumerSsrcs: consumers.map((c) => c.consumer.rtpParameters.encodings[0].ssrc),
      consumerPorts: consumers.map((c) => c.transport.tuple.localPort),
    };
  }

  const packetCount = (stats, type) => {
    const s = stats.find((x) => x.type === type);
    return s ? s.packetCount : 0;
  };

  async function stats() {
    if (!producer) throw new Error('not set up');
    const consumerPacketCounts = await Promise.all(
      consumers.map(async (c) => packetCount(await c.consumer.getStats(), 'outbound-rtp')));
    let udpSendBufferFull = null;
    const dumps = await Promise.all(consumers.map((c) => c.transport.dump()));
    for (const d of dumps) {
      const n = d.packetsDropped && d.packetsDropped.udpSendBufferFull;
      if (typeof n === 'number') udpSendBufferFull = (udpSendBufferFull || 0) + n;
    }
    const pd = await producerTransport.dump();
    return {
      producerPacketCount: packetCount(await producer.getStats(), 'inbound-rtp'),
      consumerPacketCounts,
      udpSendBufferFull,
      producerTransportDropped: pd.packetsDropped || null,
    };
  }

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    worker.close();
    // Let stdout drain; a worker left open would keep the process alive.
    setImmediate(() => process.exit(0));
  };

  const rl = readline.createInterface({ input: process.stdin });
  // Requests are answered in order, one at a time.
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      let req;
      try {
        req = JSON.parse(line);
        switch (req.cmd) {
          case 'setup': out(await setup(req)); break;
          case 'stats': out(await stats()); break;
          case 'close': out({}); shutdown(); break;
          default: throw new Error(`unknown cmd ${req.cmd}`);
        }
      } catch (err) {
        out({ error: String(err && err.stack || err) });
      }
    });
  });
  rl.on('close', () => queue.then(shutdown));
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack || err}\n`);
  process.exit(1);
});
