'use strict';

// gosfu room demo: `npm start` (node demo/server.js).
//
// One HTTP server on 127.0.0.1 serves the page (demo/public/index.html and the
// page script, bundled with mediasoup-client by esbuild at start-up, or
// demo/dist/app.js where esbuild is not installed), a
// WebSocket for signalling on /ws and the server's view of the room as JSON
// on /api/stats. Everyone who opens the page joins the one room: they publish
// camera (simulcast, three encodings) and microphone and see everyone else,
// and chat over DataChannels (each participant produces one DataProducer
// labelled 'chat' on its send transport; every other participant consumes
// it). An ActiveSpeakerObserver on the router names the dominant speaker;
// each video consumer's layers ('layerschange') go to its page, which can
// choose the layer it receives (setPreferredLayers).
//
// An installed package has none of the devDependencies this file needs
// (ws, esbuild, mediasoup-client): there, demo/run.js (`npx gosfu-demo`) runs
// demo/dist/server.js, this file bundled with ws at npm pack (demo/bundle.js),
// which serves demo/dist/app.js.
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

// demo/, also from its bundle demo/dist/server.js.
const DEMO_DIR = path.basename(__dirname) === 'dist' ? path.dirname(__dirname) : __dirname;
const BUNDLED = DEMO_DIR !== __dirname;
const PUBLIC_DIR = path.join(DEMO_DIR, 'public');

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

function resolves(name) {
  try {
    require.resolve(name);
    return true;
  } catch (error) {
    return false;
  }
}

/**
 * The page script with mediasoup-client: bundled now when esbuild is at hand
 * (the repository), else the one bundled at npm pack (demo/dist/app.js; the
 * bundled server always serves that one, made with the mediasoup-client it
 * was tested with, whatever the app around it has installed).
 */
async function loadPage() {
  if (!BUNDLED && resolves('esbuild')) return require('./bundle').buildPage();
  const file = path.join(DEMO_DIR, 'dist', 'app.js');
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`${file} is missing and esbuild is not installed to make it: run npm install (devDependencies) or node demo/bundle.js`);
  }
}

/**
 * The room: its peers, their transports, producers and consumers.
 * A peer is { id, displayName, socket, joined, rtpCapabilities, transports,
 * producers, consumers, dataProducers, dataConsumers }.
 */
class Room {
  constructor({ router, activeSpeakerObserver, webRtcTransportOptions }) {
    this.router = router;
    this.webRtcTransportOptions = webRtcTransportOptions;
    this.peers = new Map();
    // The dominant speaker, pushed to every page ('dominantspeaker') and
    // given to those who join later.
    this.dominantPeerId = undefined;
    this.activeSpeakerObserver = activeSpeakerObserver;
    activeSpeakerObserver.on('dominantspeaker', ({ producer }) => {
      const { peerId } = producer.appData;
      if (!this.peers.has(peerId)) return;
      this.dominantPeerId = peerId;
      for (const peer of this.joinedPeers()) notify(peer, 'dominantspeaker', { peerId });
    });
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
    if (this.dominantPeerId === peer.id) this.dominantPeerId = undefined;
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
        return {
          peerId: peer.id,
          peers: others.map((p) => this.peerInfo(p)),
          dominantPeerId: this.dominantPeerId,
        };
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
        if (producer.kind === 'audio') {
          await this.activeSpeakerObserver.addProducer({ producerId: producer.id }).catch((error) => {
            log(`ActiveSpeakerObserver.addProducer() failed: ${error.message}`);
          });
        }
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

      case 'setConsumerPreferredLayers': {
        const consumer = peer.consumers.get(data.consumerId);
        if (!consumer) throw new Error(`no consumer ${data.consumerId}`);
        if (!Number.isInteger(data.spatialLayer)) throw new Error('spatialLayer must be an integer');
        await consumer.setPreferredLayers({
          spatialLayer: data.spatialLayer,
          temporalLayer: Number.isInteger(data.temporalLayer) ? data.temporalLayer : undefined,
        });
        return { preferredLayers: consumer.preferredLayers, currentLayers: consumer.currentLayers };
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
      // The layers being forwarded (simulcast / SVC) and the scores, for the
      // page's overlay of that tile.
      consumer.on('layerschange', (layers) => notify(consumerPeer, 'consumerLayersChanged', {
        consumerId: consumer.id,
        spatialLayer: layers ? layers.spatialLayer : null,
        temporalLayer: layers && layers.temporalLayer !== undefined ? layers.temporalLayer : null,
      }));
      consumer.on('score', (score) => notify(consumerPeer, 'consumerScore', { consumerId: consumer.id, score }));
      notify(consumerPeer, 'newConsumer', {
        peerId: producerPeer.id,
        producerId: producer.id,
        id: consumer.id,
        kind: consumer.kind,
        type: consumer.type,
        rtpParameters: consumer.rtpParameters,
        producerPaused: consumer.producerPaused,
        preferredLayers: consumer.preferredLayers,
        currentLayers: consumer.currentLayers,
        score: consumer.score,
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

/**
 * The server's view of the room for the page's stats panel (/api/stats):
 * getStats() of every transport, producer and consumer, sampled once a
 * second while someone asks for it (a page polls it; sampling stops 15 s
 * after the last request), and the SFU's total bitrate over the last
 * HISTORY samples. One sampler serves every page, so the engine is asked
 * once a second whatever the number of pages watching.
 */
class StatsSampler {
  static HISTORY = 120;

  constructor(room, { intervalMs = 1000, idleMs = 15000 } = {}) {
    this.room = room;
    this.intervalMs = intervalMs;
    this.idleMs = idleMs;
    this.history = []; // { t, recv, send } bits/s, oldest first
    this.transportHistory = new Map(); // transportId -> [recv + send bits/s], last 60
    this.snapshot = undefined;
    this.timer = undefined;
    this.sampling = undefined;
    this.lastDemand = 0;
    this.cpu = { usage: process.cpuUsage(), at: process.hrtime.bigint() };
  }

  /** The latest snapshot; starts sampling if it was idle. */
  async get() {
    this.lastDemand = Date.now();
    if (!this.timer) {
      // After a pause the old history would be joined to the new one by a
      // straight line: start again.
      this.history = [];
      this.transportHistory.clear();
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    if (!this.snapshot || Date.now() - this.snapshot.time > 2 * this.intervalMs) await this.sample();
    return this.snapshot;
  }

  tick() {
    if (Date.now() - this.lastDemand > this.idleMs) {
      this.stop();
      return;
    }
    this.sample().catch((error) => log(`stats sample failed: ${error.message}`));
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample at a time; concurrent callers share it. */
  sample() {
    if (!this.sampling) {
      this.sampling = this.collect().then((snapshot) => {
        this.snapshot = snapshot;
      }).finally(() => {
        this.sampling = undefined;
      });
    }
    return this.sampling;
  }

  processFigures() {
    const usage = process.cpuUsage();
    const at = process.hrtime.bigint();
    const wallUs = Number(at - this.cpu.at) / 1000;
    const cpuUs = (usage.user - this.cpu.usage.user) + (usage.system - this.cpu.usage.system);
    this.cpu = { usage, at };
    return {
      cpuPercent: wallUs > 0 ? Math.round((1000 * cpuUs) / wallUs) / 10 : 0,
      rssMB: Math.round(process.memoryUsage.rss() / 1048576),
      cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    };
  }

  async collect() {
    const statsOf = (object) => (object.closed ? Promise.resolve([]) : object.getStats().catch(() => []));
    const peers = this.room.joinedPeers();
    const names = new Map(peers.map((p) => [p.id, p.displayName]));
    const totals = {
      recvBitrate: 0, sendBitrate: 0, peers: peers.length, transports: 0, producers: 0, consumers: 0,
    };
    const live = new Set();
    const out = await Promise.all(peers.map(async (peer) => {
      const transports = await Promise.all([...peer.transports.values()].map(async (transport) => {
        const [s = {}] = await statsOf(transport);
        const tuple = transport.iceSelectedTuple;
        const row = {
          id: transport.id,
          direction: transport.appData.direction,
          iceState: transport.iceState,
          dtlsState: transport.dtlsState,
          sctpState: transport.sctpState,
          tuple: tuple ? `${tuple.protocol} ${tuple.localPort} ⇄ ${tuple.remotePort}` : undefined,
          recvBitrate: s.recvBitrate || 0,
          sendBitrate: s.sendBitrate || 0,
          bytesReceived: s.bytesReceived || 0,
          bytesSent: s.bytesSent || 0,
          availableOutgoingBitrate: s.availableOutgoingBitrate,
          rtpPacketLossReceived: s.rtpPacketLossReceived,
          rtpPacketLossSent: s.rtpPacketLossSent,
        };
        totals.transports++;
        totals.recvBitrate += row.recvBitrate;
        totals.sendBitrate += row.sendBitrate;
        live.add(transport.id);
        const history = this.transportHistory.get(transport.id) || [];
        history.push(row.recvBitrate + row.sendBitrate);
        if (history.length > 60) history.shift();
        this.transportHistory.set(transport.id, history);
        row.history = history.slice();
        return row;
      }));
      const producers = await Promise.all([...peer.producers.values()].map(async (producer) => {
        const streams = (await statsOf(producer)).map((s) => ({
          rid: s.rid,
          ssrc: s.ssrc,
          mimeType: s.mimeType,
          bitrate: s.bitrate || 0,
          score: s.score,
          packetCount: s.packetCount || 0,
          packetsLost: s.packetsLost || 0,
          jitter: s.jitter,
          nackCount: s.nackCount || 0,
          pliCount: s.pliCount || 0,
          firCount: s.firCount || 0,
        })).sort((a, b) => String(a.rid || '').localeCompare(String(b.rid || '')));
        totals.producers++;
        return {
          id: producer.id,
          kind: producer.kind,
          type: producer.type,
          paused: producer.paused,
          bitrate: streams.reduce((sum, s) => sum + s.bitrate, 0),
          streams,
        };
      }));
      const consumers = await Promise.all([...peer.consumers.values()].map(async (consumer) => {
        const stats = await statsOf(consumer);
        const s = stats.find((x) => x.type === 'outbound-rtp') || {};
        totals.consumers++;
        return {
          id: consumer.id,
          kind: consumer.kind,
          type: consumer.type,
          producerPeerId: consumer.appData.peerId,
          producerPeerName: names.get(consumer.appData.peerId),
          paused: consumer.paused,
          producerPaused: consumer.producerPaused,
          currentLayers: consumer.currentLayers,
          preferredLayers: consumer.preferredLayers,
          score: consumer.score,
          bitrate: s.bitrate || 0,
          packetCount: s.packetCount || 0,
          packetsLost: s.packetsLost || 0,
          roundTripTime: s.roundTripTime,
          nackCount: s.nackCount || 0,
          pliCount: s.pliCount || 0,
        };
      }));
      return {
        id: peer.id, displayName: peer.displayName, transports, producers, consumers,
      };
    }));
    for (const id of this.transportHistory.keys()) {
      if (!live.has(id)) this.transportHistory.delete(id);
    }
    const time = Date.now();
    this.history.push({ t: time, recv: totals.recvBitrate, send: totals.sendBitrate });
    if (this.history.length > StatsSampler.HISTORY) this.history.shift();
    return {
      time,
      intervalMs: this.intervalMs,
      engine: { name: 'gosfu', version: gosfu.version },
      process: this.processFigures(),
      totals,
      history: this.history.slice(),
      peers: out,
    };
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
  const page = await loadPage();
  const indexHtml = fs.readFileSync(path.join(PUBLIC_DIR, 'index.html'));
  const styleCss = fs.readFileSync(path.join(PUBLIC_DIR, 'style.css'));

  const worker = await gosfu.createWorker({ logLevel, rtcMinPort, rtcMaxPort });
  worker.on('died', (error) => {
    log(`gosfu worker died: ${error && error.message}`);
    process.exit(1);
  });
  const router = await worker.createRouter({ mediaCodecs });
  const activeSpeakerObserver = await router.createActiveSpeakerObserver({ interval: 300 });
  const room = new Room({
    router,
    activeSpeakerObserver,
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
    '/app.js': { type: 'text/javascript; charset=utf-8', body: page },
  };
  const sampler = new StatsSampler(room);
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    const file = files[pathname];
    if (req.method === 'GET' && pathname === '/api/stats') {
      sampler.get().then((snapshot) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify(snapshot));
      }, (error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error && error.message));
      });
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
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
        sampler.stop();
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
      })();
    }
    return closing;
  }

  return { url, port: address.port, close, room };
}

/** Runs the demo until SIGINT or SIGTERM (`npm start`, demo/run.js). */
function main() {
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

// Run as a program (npm start, or node demo/dist/server.js: compared by file
// name, which holds in the bundle whatever esbuild does with the module
// object); demo/run.js requires it and calls main().
if (require.main && require.main.filename === __filename) main();

module.exports = { start, main };
