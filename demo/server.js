'use strict';

// gosfu room demo: `npm start` (node demo/server.js).
//
// One HTTP server on 127.0.0.1 serves the page (demo/public/index.html and the
// page script, bundled with mediasoup-client by esbuild at start-up) and a
// WebSocket for signalling on /ws. Everyone who opens the page joins the one
// room: they publish camera and microphone and see everyone else, and chat
// over DataChannels (each participant produces one DataProducer labelled
// 'chat' on its send transport; every other participant consumes it).
//
// Environment:
//   PORT               HTTP port (default 3000; 0 picks a free one)
//   HOST               HTTP listen address (default 127.0.0.1)
//   MEDIA_IP           address the WebRTC transports listen on (default 127.0.0.1)
//   ANNOUNCED_ADDRESS  address announced in ICE candidates (default: MEDIA_IP)
//   RTC_MIN_PORT / RTC_MAX_PORT  media port range (default 40000-49999)
//   LOG_LEVEL          gosfu worker log level (default warn)

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const { WebSocketServer } = require('ws');

const gosfu = require('..');

const PUBLIC_DIR = path.join(__dirname, 'public');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 2, 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 1000,
    },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 1000,
    },
  },
];

function log(...args) {
  console.log(`[${new Date().toISOString()}]`, ...args);
}

/** Bundles the page script (mediasoup-client included) into a temporary dir. */
async function buildPage() {
  const esbuild = require('esbuild');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-demo-'));
  const outfile = path.join(dir, 'app.js');
  await esbuild.build({
    entryPoints: [path.join(PUBLIC_DIR, 'app.js')],
    outfile,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'inline',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return { dir, js: fs.readFileSync(outfile) };
}

/**
 * The room: its peers, their transports, producers and consumers.
 * A peer is { id, displayName, socket, joined, rtpCapabilities, transports,
 * producers, consumers, dataProducers, dataConsumers }.
 */
class Room {
  constructor({ router, webRtcTransportOptions }) {
    this.router = router;
    this.webRtcTransportOptions = webRtcTransportOptions;
    this.peers = new Map();
  }

  joinedPeers(except) {
    return [...this.peers.values()].filter((p) => p.joined && p !== except);
  }

  peerInfo(peer) {
    return { id: peer.id, displayName: peer.displayName };
  }

  addPeer(socket) {
    const peer = {
      id: crypto.randomUUID(),
      displayName: 'guest',
      socket,
      joined: false,
      rtpCapabilities: undefined,
      transports: new Map(),
      producers: new Map(),
      consumers: new Map(),
      dataProducers: new Map(),
      dataConsumers: new Map(),
      closed: false,
    };
    this.peers.set(peer.id, peer);
    return peer;
  }

  removePeer(peer) {
    if (peer.closed) return;
    peer.closed = true;
    this.peers.delete(peer.id);
    // Closing the transports closes the peer's producers and data producers,
    // and with them the other peers' consumers of those (they get
    // 'producerclose' / 'dataproducerclose').
    for (const transport of peer.transports.values()) transport.close();
    if (peer.joined) {
      for (const other of this.joinedPeers(peer)) notify(other, 'peerClosed', { peerId: peer.id });
      log(`peer left: ${peer.displayName} (${peer.id}); ${this.joinedPeers().length} in the room`);
    }
  }

  async handle(peer, method, data = {}) {
    switch (method) {
      case 'getRouterRtpCapabilities':
        return this.router.rtpCapabilities;

      case 'createWebRtcTransport': {
        const direction = data.direction === 'recv' ? 'recv' : 'send';
        const transport = await this.router.createWebRtcTransport({
          ...this.webRtcTransportOptions,
          appData: { peerId: peer.id, direction },
        });
        if (peer.closed) {
          transport.close();
          throw new Error('peer gone');
        }
        peer.transports.set(transport.id, transport);
        transport.on('dtlsstatechange', (state) => {
          if (state === 'failed' || state === 'closed') log(`transport ${transport.id} dtls ${state}`);
        });
        transport.observer.on('close', () => peer.transports.delete(transport.id));
        return {
          id: transport.id,
          iceParameters: transport.iceParameters,
          iceCandidates: transport.iceCandidates,
          dtlsParameters: transport.dtlsParameters,
          sctpParameters: transport.sctpParameters,
        };
      }

      case 'connectWebRtcTransport': {
        const transport = this.transportOf(peer, data.transportId);
        await transport.connect({ dtlsParameters: data.dtlsParameters });
        return {};
      }

      case 'join': {
        if (peer.joined) throw new Error('already joined');
        peer.displayName = String(data.displayName || 'guest').slice(0, 64);
        peer.rtpCapabilities = data.rtpCapabilities;
        peer.joined = true;
        const others = this.joinedPeers(peer);
        for (const other of others) notify(other, 'newPeer', this.peerInfo(peer));
        // Consume what the others already publish (media and chat).
        for (const other of others) {
          for (const producer of other.producers.values()) this.createConsumer(peer, other, producer);
          for (const dataProducer of other.dataProducers.values()) this.createDataConsumer(peer, other, dataProducer);
        }
        log(`peer joined: ${peer.displayName} (${peer.id}); ${this.joinedPeers().length} in the room`);
        return { peerId: peer.id, peers: others.map((p) => this.peerInfo(p)) };
      }

      case 'produce': {
        if (!peer.joined) throw new Error('not joined');
        const transport = this.transportOf(peer, data.transportId);
        const producer = await transport.produce({
          kind: data.kind,
          rtpParameters: data.rtpParameters,
          appData: { ...(data.appData || {}), peerId: peer.id },
        });
        peer.producers.set(producer.id, producer);
        producer.observer.on('close', () => peer.producers.delete(producer.id));
        for (const other of this.joinedPeers(peer)) this.createConsumer(other, peer, producer);
        return { id: producer.id };
      }

      case 'produceData': {
        if (!peer.joined) throw new Error('not joined');
        const transport = this.transportOf(peer, data.transportId);
        if (transport.appData.direction !== 'send') throw new Error('not a send transport');
        const dataProducer = await transport.produceData({
          sctpStreamParameters: data.sctpStreamParameters,
          label: String(data.label || '').slice(0, 64),
          protocol: String(data.protocol || '').slice(0, 64),
          appData: { ...(data.appData || {}), peerId: peer.id },
        });
        peer.dataProducers.set(dataProducer.id, dataProducer);
        dataProducer.observer.on('close', () => peer.dataProducers.delete(dataProducer.id));
        for (const other of this.joinedPeers(peer)) this.createDataConsumer(other, peer, dataProducer);
        return { id: dataProducer.id };
      }

      case 'closeProducer': {
        const producer = peer.producers.get(data.producerId);
        if (producer) producer.close();
        return {};
      }

      case 'pauseProducer': {
        const producer = peer.producers.get(data.producerId);
        if (!producer) throw new Error(`no producer ${data.producerId}`);
        await producer.pause();
        return {};
      }

      case 'resumeProducer': {
        const producer = peer.producers.get(data.producerId);
        if (!producer) throw new Error(`no producer ${data.producerId}`);
        await producer.resume();
        return {};
      }

      case 'resumeConsumer': {
        const consumer = peer.consumers.get(data.consumerId);
        if (!consumer) throw new Error(`no consumer ${data.consumerId}`);
        await consumer.resume();
        return {};
      }

      case 'requestKeyFrame': {
        const consumer = peer.consumers.get(data.consumerId);
        if (consumer) await consumer.requestKeyFrame();
        return {};
      }

      default:
        throw new Error(`unknown method "${method}"`);
    }
  }

  transportOf(peer, transportId) {
    const transport = peer.transports.get(transportId);
    if (!transport) throw new Error(`no transport ${transportId}`);
    return transport;
  }

  /**
   * Creates a paused consumer of `producer` (published by `producerPeer`) for
   * `consumerPeer` and announces it; the page resumes it once it has it.
   */
  async createConsumer(consumerPeer, producerPeer, producer) {
    try {
      if (consumerPeer.closed || !consumerPeer.rtpCapabilities) return;
      if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities: consumerPeer.rtpCapabilities })) {
        log(`peer ${consumerPeer.displayName} cannot consume ${producer.kind} of ${producerPeer.displayName}`);
        return;
      }
      const transport = [...consumerPeer.transports.values()].find((t) => t.appData.direction === 'recv');
      if (!transport) {
        log(`peer ${consumerPeer.displayName} has no receive transport`);
        return;
      }
      const consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities: consumerPeer.rtpCapabilities,
        paused: true,
        appData: { peerId: producerPeer.id },
      });
      if (consumerPeer.closed) {
        consumer.close();
        return;
      }
      consumerPeer.consumers.set(consumer.id, consumer);
      const gone = () => {
        consumerPeer.consumers.delete(consumer.id);
        notify(consumerPeer, 'consumerClosed', { consumerId: consumer.id });
      };
      consumer.on('transportclose', () => consumerPeer.consumers.delete(consumer.id));
      consumer.on('producerclose', gone);
      consumer.on('producerpause', () => notify(consumerPeer, 'consumerPaused', { consumerId: consumer.id }));
      consumer.on('producerresume', () => notify(consumerPeer, 'consumerResumed', { consumerId: consumer.id }));
      notify(consumerPeer, 'newConsumer', {
        peerId: producerPeer.id,
        producerId: producer.id,
        id: consumer.id,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        producerPaused: consumer.producerPaused,
      });
    } catch (error) {
      log(`createConsumer() failed: ${error.message}`);
    }
  }

  /**
   * Creates a DataConsumer of `dataProducer` (a chat channel of
   * `producerPeer`) on `consumerPeer`'s receive transport and announces it.
   */
  async createDataConsumer(consumerPeer, producerPeer, dataProducer) {
    try {
      if (consumerPeer.closed) return;
      const transport = [...consumerPeer.transports.values()].find((t) => t.appData.direction === 'recv');
      if (!transport) {
        log(`peer ${consumerPeer.displayName} has no receive transport`);
        return;
      }
      const dataConsumer = await transport.consumeData({
        dataProducerId: dataProducer.id,
        appData: { peerId: producerPeer.id },
      });
      if (consumerPeer.closed) {
        dataConsumer.close();
        return;
      }
      consumerPeer.dataConsumers.set(dataConsumer.id, dataConsumer);
      dataConsumer.on('transportclose', () => consumerPeer.dataConsumers.delete(dataConsumer.id));
      dataConsumer.on('dataproducerclose', () => {
        consumerPeer.dataConsumers.delete(dataConsumer.id);
        notify(consumerPeer, 'dataConsumerClosed', { dataConsumerId: dataConsumer.id });
      });
      notify(consumerPeer, 'newDataConsumer', {
        peerId: producerPeer.id,
        dataProducerId: dataProducer.id,
        id: dataConsumer.id,
        sctpStreamParameters: dataConsumer.sctpStreamParameters,
        label: dataConsumer.label,
        protocol: dataConsumer.protocol,
      });
    } catch (error) {
      log(`createDataConsumer() failed: ${error.message}`);
    }
  }
}

function send(socket, message) {
  if (socket.readyState === 1) socket.send(JSON.stringify(message));
}

function notify(peer, method, data) {
  send(peer.socket, { notification: true, method, data });
}

/**
 * Starts the demo. Resolves with { url, port, close() }.
 */
async function start({
  port = process.env.PORT !== undefined ? Number(process.env.PORT) : 3000,
  host = process.env.HOST || '127.0.0.1',
  mediaIp = process.env.MEDIA_IP || '127.0.0.1',
  announcedAddress = process.env.ANNOUNCED_ADDRESS || undefined,
  rtcMinPort = Number(process.env.RTC_MIN_PORT || 40000),
  rtcMaxPort = Number(process.env.RTC_MAX_PORT || 49999),
  logLevel = process.env.LOG_LEVEL || 'warn',
} = {}) {
  const page = await buildPage();
  const indexHtml = fs.readFileSync(path.join(PUBLIC_DIR, 'index.html'));
  const styleCss = fs.readFileSync(path.join(PUBLIC_DIR, 'style.css'));

  const worker = await gosfu.createWorker({ logLevel, rtcMinPort, rtcMaxPort });
  worker.on('died', (error) => {
    log(`gosfu worker died: ${error && error.message}`);
    process.exit(1);
  });
  const router = await worker.createRouter({ mediaCodecs });
  const room = new Room({
    router,
    webRtcTransportOptions: {
      listenInfos: [
        { protocol: 'udp', ip: mediaIp, announcedAddress },
        { protocol: 'tcp', ip: mediaIp, announcedAddress },
      ],
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1000000,
      enableSctp: true, // the chat's DataChannels
    },
  });

  const files = {
    '/': { type: 'text/html; charset=utf-8', body: indexHtml },
    '/index.html': { type: 'text/html; charset=utf-8', body: indexHtml },
    '/style.css': { type: 'text/css; charset=utf-8', body: styleCss },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: page.js },
  };
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } else {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    }
  });

  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1024 * 1024 });
  wss.on('connection', (socket) => {
    const peer = room.addPeer(socket);
    socket.on('message', async (raw) => {
      let message;
      try {
        message = JSON.parse(raw);
      } catch (error) {
        return;
      }
      if (!message || !message.request) return;
      try {
        const data = await room.handle(peer, message.method, message.data);
        send(socket, { response: true, id: message.id, ok: true, data });
      } catch (error) {
        send(socket, { response: true, id: message.id, ok: false, error: String(error && error.message) });
      }
    });
    socket.on('close', () => room.removePeer(peer));
    socket.on('error', () => {});
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}/`;

  let closing;
  function close() {
    if (!closing) {
      closing = (async () => {
        for (const client of wss.clients) client.close(1001, 'server shutting down');
        await new Promise((resolve) => wss.close(() => resolve()));
        if (server.closeAllConnections) server.closeAllConnections();
        await new Promise((resolve) => server.close(() => resolve()));
        for (const peer of [...room.peers.values()]) room.removePeer(peer);
        if (!worker.closed) {
          await new Promise((resolve) => {
            worker.once('subprocessclose', resolve);
            worker.close();
            setTimeout(resolve, 3000).unref();
          });
        }
        fs.rmSync(page.dir, { recursive: true, force: true });
      })();
    }
    return closing;
  }

  return { url, port: address.port, close, room };
}

if (require.main === module) {
  start().then((demo) => {
    console.log(`gosfu demo: ${demo.url} (open it in two or more tabs; Ctrl-C to stop)`);
    let stopping = false;
    const stop = (signal) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: shutting down`);
      const timer = setTimeout(() => {
        log('shutdown took too long');
        process.exit(1);
      }, 5000);
      demo.close().then(() => {
        clearTimeout(timer);
        log('bye');
        process.exit(0);
      }, (error) => {
        log(`shutdown failed: ${error.message}`);
        process.exit(1);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  }, (error) => {
    console.error(`gosfu demo failed to start: ${error.stack || error}`);
    process.exit(1);
  });
}

module.exports = { start };
