'use strict';

// The consumer half of a room split over two Node processes, for
// test/test-pipe-process.js: a gosfu worker whose router gets its producers
// through a PipeTransport from the parent's router, and whose consumers sit
// on PlainTransports (comedia off) connected to sockets the parent reads.
//
// Driven over the IPC channel as an application would over its own
// signalling: every request is {reqId, op, ...args} and gets one
// {reqId, result} or {reqId, error}. Unsolicited: {event: 'producerclose',
// consumerId} when a consumer here loses its producer.
//
//   listen {enableSrtp, enableRtx}   → {tuple, srtpParameters} of the pipe
//   connect {ip, port, srtpParameters}
//   produce {id, kind, rtpParameters, paused}   (the parent's pipe consumer's)
//   closeProducer {id}               (the parent's pipe consumer closed)
//   consume {producerId, ip, port}   → {id, kind, rtpParameters, localPort}
//   stats {id}                       → getStats() of a consumer or producer
const path = require('node:path');

const gosfu = require(path.join(__dirname, '..', '..'));

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

let worker;
let router;
let pipe;
const producers = new Map();
const consumers = new Map();
// One PlainTransport per remote endpoint (a receiver in the parent).
const transports = new Map();

const ops = {
  async listen({ enableSrtp = false, enableRtx = false }) {
    worker = await gosfu.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs });
    pipe = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSrtp, enableRtx,
    });
    return { tuple: pipe.tuple, srtpParameters: pipe.srtpParameters };
  },

  async connect({ ip, port, srtpParameters }) {
    await pipe.connect({ ip, port, srtpParameters });
  },

  async produce({
    id, kind, rtpParameters, paused,
  }) {
    const producer = await pipe.produce({
      id, kind, rtpParameters, paused,
    });
    producers.set(producer.id, producer);
    return { id: producer.id };
  },

  async closeProducer({ id }) {
    const producer = producers.get(id);
    if (!producer) throw new Error(`no producer ${id}`);
    producer.close();
    producers.delete(id);
  },

  async consume({ producerId, ip, port }) {
    const key = `${ip}:${port}`;
    let transport = transports.get(key);
    if (!transport) {
      transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, comedia: false });
      await transport.connect({ ip, port });
      transports.set(key, transport);
    }
    const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
    consumers.set(consumer.id, consumer);
    consumer.on('producerclose', () => process.send({ event: 'producerclose', consumerId: consumer.id }));
    return {
      id: consumer.id,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      localPort: transport.tuple.localPort,
    };
  },

  async stats({ id }) {
    const object = consumers.get(id) || producers.get(id);
    if (!object) throw new Error(`no consumer or producer ${id}`);
    return object.getStats();
  },

  async exit() {
    worker.close();
    process.disconnect();
  },
};

process.on('message', async ({ reqId, op, ...args }) => {
  try {
    if (!ops[op]) throw new Error(`unknown op ${op}`);
    const result = await ops[op](args);
    if (process.connected) process.send({ reqId, result });
  } catch (error) {
    if (process.connected) process.send({ reqId, error: `${error.constructor.name}: ${error.message}` });
  }
});
