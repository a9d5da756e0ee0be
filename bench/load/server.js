'use strict';

// The SFU process of bench/load: one worker, one router (opus + VP8) and a
// small HTTP+JSON signalling API on 127.0.0.1 for the Go load generator
// (bench/load/*.go), which starts this script, or attaches to it with -url.
// The SFU runs alone in this process so that /proc/<pid>/stat is its CPU.
//
//   node bench/load/server.js [--port 0] [--webrtc-server] [--module ../..]
//     [--log-level warn] [--exit-on-stdin-close]
//
// --module loads another package with mediasoup's API (e.g. a mediasoup
// install) instead of gosfu, for side-by-side runs. The first stdout line is
// JSON: {"port", "pids"}; pids are this process and, when the worker runs in
// a child process (mediasoup), the worker's.
//
// API: every call is POST /<name> with a JSON body, answering JSON
// ({"error": message} with status 500 on failure):
//   info                  -> {pids, rtpCapabilities, webRtcServer, module}
//   createWebRtcTransport -> {id, iceParameters, iceCandidates, dtlsParameters}
//   connect               {transportId, dtlsParameters}
//   produce               {transportId, kind, rtpParameters} -> {id}
//   consume               {transportId, producerId, rtpCapabilities, paused}
//                         -> {id, producerId, kind, type, rtpParameters}
//   resume                {consumerId} or {consumerIds: [...]}
//   closeTransport        {transportId}
//   stats                 -> {producers: {id: packetCount}, consumers: {id: packetCount}}
//   shutdown              closes the worker and exits

const http = require('node:http');
const path = require('node:path');

function parseArgs(argv) {
  const opts = {
    port: 0, webrtcServer: false, module: path.join(__dirname, '../..'), logLevel: 'warn', exitOnStdinClose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--port': opts.port = Number(next()); break;
      case '--webrtc-server': opts.webrtcServer = true; break;
      case '--module': opts.module = path.resolve(next()); break;
      case '--log-level': opts.logLevel = next(); break;
      case '--exit-on-stdin-close': opts.exitOnStdinClose = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return opts;
}

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const sfu = require(opts.module);
  const worker = await sfu.createWorker({ logLevel: opts.logLevel });
  const router = await worker.createRouter({ mediaCodecs });
  let webRtcServer;
  if (opts.webrtcServer) {
    webRtcServer = await worker.createWebRtcServer({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
    });
  }

  const transports = new Map();
  const producers = new Map();
  const consumers = new Map();
  const pids = [...new Set([process.pid, worker.pid])];

  const transportOf = (id) => {
    const t = transports.get(id);
    if (!t) throw new Error(`no transport ${id}`);
    return t;
  };
  const consumerOf = (id) => {
    const c = consumers.get(id);
    if (!c) throw new Error(`no consumer ${id}`);
    return c;
  };

  let server;
  const handlers = {
    info: async () => ({
      pids, rtpCapabilities: router.rtpCapabilities, webRtcServer: Boolean(webRtcServer), module: opts.module,
    }),
    createWebRtcTransport: async () => {
      const t = await router.createWebRtcTransport(webRtcServer
        ? { webRtcServer, enableUdp: true, enableTcp: false }
        : { listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
      transports.set(t.id, t);
      t.observer.once('close', () => transports.delete(t.id));
      return {
        id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters,
      };
    },
    connect: async ({ transportId, dtlsParameters }) => {
      await transportOf(transportId).connect({ dtlsParameters });
      return {};
    },
    produce: async ({ transportId, kind, rtpParameters }) => {
      const p = await transportOf(transportId).produce({ kind, rtpParameters });
      producers.set(p.id, p);
      p.observer.once('close', () => producers.delete(p.id));
      return { id: p.id };
    },
    consume: async ({
      transportId, producerId, rtpCapabilities, paused,
    }) => {
      const c = await transportOf(transportId).consume({ producerId, rtpCapabilities, paused: Boolean(paused) });
      consumers.set(c.id, c);
      c.observer.once('close', () => consumers.delete(c.id));
      return {
        id: c.id, producerId, kind: c.kind, type: c.type, rtpParameters: c.rtpParameters,
      };
    },
    resume: async ({ consumerId, consumerIds }) => {
      const ids = consumerIds || [consumerId];
      await Promise.all(ids.map((id) => consumerOf(id).resume()));
      return {};
    },
    closeTransport: async ({ transportId }) => {
      transportOf(transportId).close();
      return {};
    },
    stats: async () => {
      const out = { producers: {}, consumers: {} };
      const count = (stats, type) => {
        let n = 0;
        for (const s of stats) if (s.type === type) n += s.packetCount;
        return n;
      };
      await Promise.all([
        ...[...producers.values()].map(async (p) => {
          out.producers[p.id] = count(await p.getStats(), 'inbound-rtp');
        }),
        ...[...consumers.values()].map(async (c) => {
          out.consumers[c.id] = count(await c.getStats(), 'outbound-rtp');
        }),
      ]);
      return out;
    },
    shutdown: async () => {
      setImmediate(() => {
        worker.close();
        server.close();
        process.exit(0);
      });
      return {};
    },
  };

  server = http.createServer((req, res) => {
    const name = req.url.replace(/^\//, '');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      let status = 200;
      let body;
      try {
        const h = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
        if (req.method !== 'POST' || !h) {
          status = 404;
          throw new Error(`no such call: ${req.method} ${req.url}`);
        }
        const raw = Buffer.concat(chunks).toString();
        body = await h(raw ? JSON.parse(raw) : {});
      } catch (err) {
        if (status === 200) status = 500;
        body = { error: String(err && err.message ? err.message : err) };
      }
      const out = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(opts.port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port, pids })}\n`);
  });

  if (opts.exitOnStdinClose) {
    // The generator holds our stdin open: when it dies, so do we.
    process.stdin.resume();
    process.stdin.on('end', () => {
      worker.close();
      process.exit(0);
    });
  }
  process.on('SIGTERM', () => {
    worker.close();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`bench/load/server.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
