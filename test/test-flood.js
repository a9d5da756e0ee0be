'use strict';

// A bounded flood of malformed packets against live transports, over real
// UDP sockets on loopback:
//
// - a PlainTransport (comedia, SCTP enabled) whose producer is consumed on
//   a second PlainTransport: the flood comes from the sender's own tuple
//   (and a foreign one); afterwards media still reaches the receiver;
// - a WebRtcTransport: garbage from a tuple ICE never validated, then a
//   binding request (built here: HMAC-SHA1 integrity, CRC-32 fingerprint)
//   validates the tuple and the same tuple floods it with SRTP, DTLS and
//   other garbage; afterwards it still answers binding requests.
//
// Each kind must be dropped and counted in dump().packetsDropped (a gosfu
// extension), and the process's RSS (Node and the Go engine together) must
// stay bounded. The kernel may drop datagrams under the flood, so the
// counters are only required to rise.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const dgram = require('node:dgram');

const gosfu = require('../');
const { closeWorker, waitUntil } = require('./helpers');
const { parseRtp, rtpPacket, vp8PayloadIndex, Vp8Stream } = require('./helpers/rtp');

const FLOOD = 50000;
const MAX_RSS_GROWTH = 100 * 1024 * 1024;
const SSRC = 22220000;
const PT = 96;

const mediaCodecs = Object.freeze([{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }]);

function bindSocket() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
  });
}

/** Sends every packet, at most `window` in flight (bounded memory). */
async function sendAll(socket, packets, port, window = 512) {
  for (let i = 0; i < packets.length; i += window) {
    await Promise.all(packets.slice(i, i + window).map((p) => new Promise((resolve) => {
      socket.send(p, port, '127.0.0.1', () => resolve());
    })));
  }
}

/** Sends n packets built by kinds[i % kinds.length].build(i). */
async function flood(socket, port, kinds, n) {
  const window = 512;
  for (let i = 0; i < n; i += window) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + window); j++) batch.push(kinds[j % kinds.length].build(j));
    await sendAll(socket, batch, port, window);
  }
}

function random(n) {
  return crypto.randomBytes(n);
}

// --- STUN (RFC 5389 / 8445), only what a binding request needs ---------

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function stunAttr(type, value) {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

/** A binding request to a transport with local ICE credentials {ufrag, pwd}. */
function bindingRequest({ usernameFragment, password }) {
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(1853824767);
  let body = Buffer.concat([
    stunAttr(0x0006, Buffer.from(`${usernameFragment}:flood`)),
    stunAttr(0x0024, priority),
    stunAttr(0x802a, random(8)), // ICE-CONTROLLING
    stunAttr(0x0025, Buffer.alloc(0)), // USE-CANDIDATE
  ]);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt32BE(0x2112a442, 4);
  random(12).copy(header, 8);
  // MESSAGE-INTEGRITY covers the message with a length that includes it.
  header.writeUInt16BE(body.length + 24, 2);
  const mac = crypto.createHmac('sha1', password).update(Buffer.concat([header, body])).digest();
  body = Buffer.concat([body, stunAttr(0x0008, mac)]);
  header.writeUInt16BE(body.length + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0);
  return Buffer.concat([header, body, stunAttr(0x8028, fp)]);
}

/** Sends a STUN request and resolves with its response (or null). */
function exchange(socket, b, port, ms = 2000) {
  const transactionId = b.subarray(8, 20);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.removeListener('message', onMessage);
      resolve(null);
    }, ms);
    function onMessage(msg) {
      if (msg.length < 20 || !msg.subarray(8, 20).equals(transactionId)) return;
      clearTimeout(timer);
      socket.removeListener('message', onMessage);
      resolve(msg);
    }
    socket.on('message', onMessage);
    socket.send(b, port, '127.0.0.1');
  });
}

// --- bad packets --------------------------------------------------------

/** A valid-looking RTP header of the producer's stream. */
function header(seq, ssrc = SSRC) {
  const b = Buffer.alloc(12);
  b[0] = 0x80;
  b[1] = PT;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(90000, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** Pads b with random bytes to a length that is not a multiple of 4 (not SCTP). */
function notSctp(b) {
  return b.length % 4 === 0 ? Buffer.concat([b, random(1)]) : b;
}

const plainKinds = [
  {
    name: 'RTP with a one-byte extension element overrunning its block',
    counter: 'rtpInvalid',
    build: (i) => {
      const b = header(60000 + i);
      b[0] |= 0x10;
      return Buffer.concat([b, Buffer.from([0xbe, 0xde, 0, 1, 0x1f, 1, 2, 3]), random(50)]);
    },
  },
  {
    name: 'RTP whose CSRC list runs past the packet',
    counter: 'rtpInvalid',
    build: (i) => {
      const b = header(60000 + i);
      b[0] |= 0x0f;
      return Buffer.concat([b, random(i % 40)]);
    },
  },
  {
    name: 'RTP with a zero padding length',
    counter: 'rtpInvalid',
    build: (i) => {
      const b = header(60000 + i);
      b[0] |= 0x20;
      return Buffer.concat([b, random(20), Buffer.from([0])]);
    },
  },
  {
    name: 'RTP of an unknown SSRC',
    counter: 'unknownSsrc',
    build: (i) => Buffer.concat([header(i, 0x0badf00d + (i % 1000)), random(100)]),
  },
  {
    name: 'RTCP whose length runs past the packet',
    counter: 'rtcpInvalid',
    build: () => Buffer.concat([Buffer.from([0x80, 200, 0xff, 0xff]), random(24)]),
  },
  {
    name: 'RTP shorter than its fixed header, or of version 1',
    counter: 'unknownType',
    build: (i) => (i % 2 ? Buffer.from([0x80, PT, 1, 2, 3, 4, 5]) : notSctp(Buffer.concat([Buffer.from([0x40]), random(40)]))),
  },
  {
    name: 'STUN-like and DTLS-like garbage',
    counter: 'unknownType',
    build: (i) => {
      const b = random(21 + (i % 50) * 4);
      b[0] = i % 2 ? 22 : 0;
      b.writeUInt32BE(0x2112a442, 4);
      return b;
    },
  },
  {
    name: 'SCTP larger than pion reads',
    counter: 'oversized',
    build: () => {
      const b = random(9000);
      b[0] = 0x13;
      return b;
    },
  },
];

const webrtcUnvalidatedKinds = [
  { name: 'SRTP', counter: 'unknownTuple', build: () => Buffer.concat([header(1), random(100)]) },
  { name: 'DTLS', counter: 'unknownTuple', build: () => Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), random(80)]) },
  {
    name: 'STUN garbage',
    counter: 'stunInvalid',
    build: (i) => {
      const b = random(20 + 4 * (i % 30));
      b[0] &= 0x01;
      b.writeUInt32BE(0x2112a442, 4);
      return b;
    },
  },
  { name: 'unknown first byte', counter: 'unknownType', build: () => Buffer.concat([Buffer.from([70]), random(60)]) },
];

const webrtcValidatedKinds = [
  { name: 'SRTP before any key', counter: 'srtp', build: (i) => Buffer.concat([header(i), random(100 + (i % 1000))]) },
  { name: 'SRTCP before any key', counter: 'srtp', build: () => Buffer.concat([Buffer.from([0x81, 201, 0, 7]), random(28)]) },
  { name: 'DTLS without a DTLS session', counter: 'dtlsQueue', build: () => Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), random(120)]) },
  { name: 'DTLS larger than pion reads', counter: 'oversized', build: () => Buffer.concat([Buffer.from([23, 0xfe, 0xfd]), random(9000)]) },
  { name: 'RTP shorter than its fixed header', counter: 'unknownType', build: () => Buffer.from([0x80, PT, 0, 1, 2]) },
];

describe('flood of malformed packets against live transports', function () {
  this.timeout(120000);

  let worker;
  let router;
  let sockets;

  beforeEach(async () => {
    sockets = [];
    worker = await gosfu.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(async () => {
    for (const s of sockets) {
      try {
        s.close();
      } catch (error) {
        // Already closed.
      }
    }
    await closeWorker(worker);
    worker = undefined;
  });

  async function socket() {
    const s = await bindSocket();
    sockets.push(s);
    return s;
  }

  async function dropped(transport) {
    const { packetsDropped } = await transport.dump();
    assert.equal(typeof packetsDropped, 'object', 'dump() has packetsDropped');
    return packetsDropped;
  }

  function assertRose(before, after, kinds) {
    for (const counter of new Set(kinds.map((k) => k.counter))) {
      assert.ok(after[counter] > before[counter], `packetsDropped.${counter} did not rise (${before[counter]} → ${after[counter]})`);
    }
  }

  it('PlainTransport: dropped and counted, media flows afterwards, RSS bounded', async () => {
    const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
    const inT = await router.createPlainTransport({ listenInfo, comedia: true, enableSctp: true });
    const outT = await router.createPlainTransport({ listenInfo });
    const producer = await inT.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: PT, clockRate: 90000 }],
        encodings: [{ ssrc: SSRC }],
      },
    });
    await outT.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    const sender = await socket();
    const stranger = await socket();
    const receiver = await socket();
    await outT.connect({ ip: '127.0.0.1', port: receiver.address().port });
    const received = [];
    receiver.on('message', (msg) => {
      const p = parseRtp(msg);
      if (p) received.push(vp8PayloadIndex(p.payload));
    });
    const stream = new Vp8Stream({ ssrc: SSRC, payloadType: PT });
    const inPort = inT.tuple.localPort;
    const sendFrame = () => sendAll(sender, stream.nextFrame().map((f) => f.packet), inPort);

    // Media flows (comedia learns the sender's tuple).
    await sendFrame();
    await waitUntil(() => received.length > 0, 5000, 'media before the flood');

    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const before = await dropped(inT);
    await flood(sender, inPort, plainKinds, FLOOD);
    const strangerKinds = [{ counter: 'unknownTuple', build: (i) => Buffer.concat([header(i), random(100)]) }];
    await flood(stranger, inPort, strangerKinds, 2000);
    let after;
    const kinds = [...plainKinds, ...strangerKinds];
    const deadline = Date.now() + 5000;
    for (;;) {
      after = await dropped(inT);
      const rose = [...new Set(kinds.map((k) => k.counter))].every((c) => after[c] > before[c]);
      if (rose || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertRose(before, after, kinds);
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < MAX_RSS_GROWTH, `RSS grew by ${Math.round(grown / 1048576)} MiB`);

    // Media sent after the flood is still forwarded.
    const firstAfter = stream.index;
    for (let i = 0; i < 3; i++) await sendFrame();
    await waitUntil(() => received.some((index) => index >= firstAfter), 5000, 'media after the flood');
    const stats = await inT.getStats();
    assert.equal(stats[0].tuple.remotePort, sender.address().port, 'the learned tuple did not change');
  });

  it('WebRtcTransport: dropped and counted before and after ICE, still answers, RSS bounded', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    const port = transport.iceCandidates[0].port;
    const peer = await socket();

    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const before = await dropped(transport);
    await flood(peer, port, webrtcUnvalidatedKinds, FLOOD / 2);
    // The binding request validates the tuple (ICE-lite: nominated).
    const reply = await exchange(peer, bindingRequest(transport.iceParameters), port);
    assert.ok(reply, 'no reply to a valid binding request');
    assert.equal(reply.readUInt16BE(0), 0x0101, 'binding success response');
    await waitUntil(() => transport.iceState === 'completed' || transport.iceState === 'connected', 5000, 'ICE connected');
    const middle = await dropped(transport);
    await flood(peer, port, webrtcValidatedKinds, FLOOD / 2);

    let after;
    const deadline = Date.now() + 5000;
    const kinds = [...webrtcUnvalidatedKinds, ...webrtcValidatedKinds];
    for (;;) {
      after = await dropped(transport);
      const rose = [...new Set(kinds.map((k) => k.counter))].every((c) => after[c] > before[c])
        && [...new Set(webrtcValidatedKinds.map((k) => k.counter))].every((c) => after[c] > middle[c]);
      if (rose || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertRose(before, middle, webrtcUnvalidatedKinds);
    assertRose(middle, after, webrtcValidatedKinds);
    const grown = process.memoryUsage().rss - rss0;
    assert.ok(grown < MAX_RSS_GROWTH, `RSS grew by ${Math.round(grown / 1048576)} MiB`);

    // Still serving: another binding request is answered, the state holds.
    const again = await exchange(peer, bindingRequest(transport.iceParameters), port);
    assert.ok(again && again.readUInt16BE(0) === 0x0101, 'binding request after the flood');
    assert.ok(['connected', 'completed'].includes(transport.iceState), `iceState ${transport.iceState}`);
    assert.equal(transport.dtlsState, 'new');
  });
});
