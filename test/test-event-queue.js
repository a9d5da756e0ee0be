'use strict';

// The queue of events from the engine to JavaScript is bounded: while the JS
// thread is blocked, a flood of DirectTransport 'rtp' events is dropped (and
// counted per kind in worker.dump().eventQueue) once the queue holds
// GOSFU_EVENT_QUEUE_MAX_EVENTS events or _MAX_BYTES bytes, instead of
// growing the process' memory; lifecycle events are still delivered, and
// what is delivered keeps engine order.
//
// The flood comes from a worker thread (the main thread is busy): RTP over
// UDP into a PlainTransport producer, consumed by a DirectTransport (the
// 'rtp' events) and by two PlainTransports that send it back to the thread,
// which is how the thread knows how far the engine got without the main
// thread's help.
const assert = require('node:assert/strict');
const { Worker: Thread } = require('node:worker_threads');

const gosfu = require('..');
const { closeWorker, waitFor } = require('./helpers');

const SSRC = 3344;
const PT = 100;
const PAYLOAD = 1000; // bytes of RTP payload per packet
// Packets the engine forwards while JS is blocked: unbounded, their 'rtp'
// events would hold PACKETS * ~1.1 KB (~44 MB) or more.
const PACKETS = 40000;
// The main thread never blocks longer than this, flood done or not.
const BUSY_LIMIT_MS = 30000;

// Shared flags between the threads.
const PHASE = 0; // 0 warm-up, 1 flood (set by main), 2 done (set by the thread)
const BACK = 1; // flood packets the engine forwarded back to the thread
const FLOOD_START = 2; // payload index of the first flood packet

/** The packet index the flood thread put first in an RTP packet's payload. */
function payloadIndex(b) {
  const cc = b[0] & 0x0f;
  let offset = 12 + 4 * cc;
  // The consumers add header extensions.
  if (b[0] & 0x10) offset += 4 + 4 * b.readUInt16BE(offset + 2);
  return b.length >= offset + 4 ? b.readUInt32BE(offset) : -1;
}

const floodThread = `
${payloadIndex}
const dgram = require('node:dgram');
const { parentPort, workerData } = require('node:worker_threads');
const { flags, t1Port, t2Port, ssrc, pt, payload } = workerData;
const [PHASE, BACK, FLOOD_START] = [0, 1, 2];
let index = 0; // carried in the payload, which the engine never rewrites
let floodStart = -1;
function packet() {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(index & 0xffff, 2);
  b.writeUInt32BE((index * 960) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt32BE(index, 12);
  index++;
  return b;
}
const producer = dgram.createSocket('udp4'); // feeds t1 (comedia)
const back = dgram.createSocket('udp4'); // t3 sends here
const late = dgram.createSocket('udp4'); // t2's remote, revealed mid-flood
let sentLate = false;
let lateAnswered = false;
back.on('message', (m) => {
  if (floodStart >= 0 && payloadIndex(m) >= floodStart) Atomics.add(flags, BACK, 1);
});
late.on('message', () => { lateAnswered = true; });
function send(sock, port) { sock.send(packet(), port, '127.0.0.1'); }
function pump() {
  if (Atomics.load(flags, PHASE) === 0) {
    send(producer, t1Port); // warm-up: until the main thread saw an 'rtp' event
    setTimeout(pump, 5);
    return;
  }
  if (floodStart < 0) {
    floodStart = index;
    Atomics.store(flags, FLOOD_START, floodStart);
  }
  if (lateAnswered) {
    // t2 learnt its tuple (emitting 'tuple') before its consumer could send.
    Atomics.store(flags, PHASE, 2);
    producer.close(); back.close(); late.close();
    return;
  }
  if (!sentLate && Atomics.load(flags, BACK) >= ${PACKETS}) {
    sentLate = true;
    send(late, t2Port);
  }
  // Sends libuv could not hand to the kernel at once wait in its queue,
  // with their buffers: past a few, wait too (that memory would count
  // against the queue under test).
  if (producer.getSendQueueCount() < 64) {
    for (let i = 0; i < 32; i++) send(producer, t1Port);
  }
  setImmediate(pump);
}
let bound = 0;
for (const s of [producer, back, late]) {
  s.bind(0, '127.0.0.1', () => {
    if (++bound < 3) return;
    parentPort.postMessage({ backPort: back.address().port });
    pump();
  });
}
`;

const listenInfo = Object.freeze({ protocol: 'udp', ip: '127.0.0.1' });

describe('event queue', function () {
  this.timeout(60000);
  let worker;
  let thread;
  const savedEnv = {};

  afterEach(async () => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (thread) await thread.terminate();
    thread = undefined;
    await closeWorker(worker);
  });

  function setEnv(k, v) {
    if (!(k in savedEnv)) savedEnv[k] = process.env[k];
    process.env[k] = v;
  }

  const cases = [
    { name: 'by event count', maxEvents: 64, maxBytes: 64 << 20 },
    { name: 'by bytes', maxEvents: 65536, maxBytes: 64 << 10 },
  ];
  for (const { name, maxEvents, maxBytes } of cases) {
    it(`drops rtp events past the bound (${name}), keeps lifecycle events and order, memory stays bounded`, async () => {
      // Read by the native addon when the worker is created.
      setEnv('GOSFU_EVENT_QUEUE_MAX_EVENTS', String(maxEvents));
      setEnv('GOSFU_EVENT_QUEUE_MAX_BYTES', String(maxBytes));
      worker = await gosfu.createWorker({ logLevel: 'warn' });
      const router = await worker.createRouter({
        mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
      });
      const t1 = await router.createPlainTransport({ listenInfo, comedia: true, rtcpMux: true });
      const producer = await t1.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: PT, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: SSRC }],
        },
      });
      const consume = (t) => t.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
      const direct = await router.createDirectTransport();
      const consumer = await consume(direct);
      const t2 = await router.createPlainTransport({ listenInfo, comedia: true, rtcpMux: true });
      await consume(t2);
      const t3 = await router.createPlainTransport({ listenInfo, rtcpMux: true });
      await consume(t3);

      const flags = new Int32Array(new SharedArrayBuffer(12));
      thread = new Thread(floodThread, {
        eval: true,
        // The thread's garbage (a buffer per packet sent and received)
        // counts in this process's RSS too: a small young generation keeps
        // it from hiding, or faking, the queue's growth.
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
        workerData: { flags, t1Port: t1.tuple.localPort, t2Port: t2.tuple.localPort, ssrc: SSRC, pt: PT, payload: PAYLOAD },
      });
      const [{ backPort }] = await waitFor(thread, 'message');
      await t3.connect({ ip: '127.0.0.1', port: backPort });

      // What reaches JS, in order: payload indices of 'rtp' events and t2's 'tuple'.
      const delivered = [];
      consumer.on('rtp', (packet) => delivered.push(payloadIndex(packet)));
      t2.on('tuple', () => delivered.push('tuple'));
      await waitFor(consumer, 'rtp');

      // Block the JS thread for the whole flood: it ends when t2, whose
      // remote the thread reveals after PACKETS forwarded packets, sends
      // back (so its 'tuple' event was queued into a full queue).
      const rssBefore = process.memoryUsage.rss();
      Atomics.store(flags, PHASE, 1);
      const deadline = Date.now() + BUSY_LIMIT_MS;
      while (Atomics.load(flags, PHASE) !== 2 && Date.now() < deadline) { /* busy */ }
      const rssGrowth = process.memoryUsage.rss() - rssBefore;
      const forwarded = Atomics.load(flags, BACK);
      assert.equal(Atomics.load(flags, PHASE), 2, `flood not done in ${BUSY_LIMIT_MS} ms (${forwarded} forwarded)`);

      if (!delivered.includes('tuple')) await waitFor(t2, 'tuple');
      const { eventQueue } = await worker.dump();
      assert.equal(eventQueue.maxEvents, maxEvents);
      assert.equal(eventQueue.maxBytes, maxBytes);
      // Each forwarded packet was an 'rtp' event offered while JS was
      // blocked (but for the last, maybe); at most a full queue of them
      // was kept.
      const room = Math.min(maxEvents, Math.floor(maxBytes / (12 + PAYLOAD)));
      assert.ok(eventQueue.dropped.rtp >= forwarded - 1 - room,
        `dropped ${eventQueue.dropped.rtp} rtp of ${forwarded} (room ${room})`);
      assert.equal(typeof eventQueue.dropped.trace, 'number');
      // Unbounded, the queue would have grown by 44 MB or more (measured
      // with the caps set huge: 100-125 MiB of RSS in a fresh process;
      // bounded: -6 to 11 MiB, Go's heap warming up).
      assert.ok(rssGrowth < 20 * 1024 * 1024, `RSS grew by ${(rssGrowth / 1048576).toFixed(1)} MiB`);

      // The tuple came after the flood's rtp events queued before it, and
      // the rtp events that were delivered kept their order.
      const at = delivered.indexOf('tuple');
      const floodStart = Atomics.load(flags, FLOOD_START);
      const floodBefore = delivered.slice(0, at).filter((d) => d >= floodStart).length;
      assert.ok(floodBefore > 0 && floodBefore <= room, `${floodBefore} flood rtp events before the tuple (room ${room})`);
      const indices = delivered.filter((d) => d !== 'tuple');
      for (let i = 1; i < indices.length; i++) {
        assert.ok(indices[i] > indices[i - 1], `rtp ${indices[i]} after ${indices[i - 1]}`);
      }
    });
  }
});
