'use strict';

// Forwarding through the engine with DirectTransports: synthetic VP8 in
// with producer.send(), out as consumer 'rtp' events (and, across transport
// types, over UDP from a PlainTransport). Checks the rewriting (SSRC,
// payload type, sequence continuity), key-frame gating on resume and the
// pause/resume/close events.
const assert = require('node:assert/strict');
const dgram = require('node:dgram');

const gosfu = require('../');
const { closeWorker, waitFor, waitUntil } = require('./helpers');
const {
  parseRtp, parseRtcp, isRtcp, rtcpPli, vp8PayloadIndex, vp8PayloadIsKeyFrame, Vp8Stream,
} = require('./helpers/rtp');

const mediaCodecs = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);

const PRODUCER_SSRC = 55550000;
const PRODUCER_PT = 96;

const producerOptions = Object.freeze({
  kind: 'video',
  rtpParameters: {
    codecs: [{
      mimeType: 'video/VP8',
      payloadType: PRODUCER_PT,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    }],
    encodings: [{ ssrc: PRODUCER_SSRC }],
  },
});


/** Collects a consumer's packets ('rtp' events or datagrams), parsed. */
function collector() {
  const packets = [];
  return {
    packets,
    push(buf) {
      const rtp = parseRtp(buf);
      assert.ok(rtp, 'not an RTP packet');
      packets.push({
        ...rtp,
        index: vp8PayloadIndex(rtp.payload),
        keyFrame: vp8PayloadIsKeyFrame(rtp.payload),
      });
    },
    get indices() {
      return packets.map((p) => p.index);
    },
  };
}

/** Sends the next `frames` frames of stream through producer.send(). */
function sendFrames(producer, stream, frames) {
  const infos = [];
  for (let f = 0; f < frames; f++) {
    for (const { packet, info } of stream.nextFrame()) {
      producer.send(packet);
      infos.push(info);
    }
  }
  return infos;
}

/** Asserts the consumer's rewriting and that sequence numbers have no gap. */
function assertForwarded(packets, { ssrc, payloadType }) {
  for (const p of packets) {
    assert.equal(p.ssrc, ssrc);
    assert.equal(p.payloadType, payloadType);
  }
  for (let i = 1; i < packets.length; i++) {
    assert.equal(packets[i].seq, (packets[i - 1].seq + 1) & 0xffff,
      `sequence gap between packets ${i - 1} (seq ${packets[i - 1].seq}) and ${i} (seq ${packets[i].seq})`);
  }
}

/**
 * Before a "nothing was forwarded" check: waits until the producer has
 * counted every packet `stream` sent. A DirectTransport consumer decides
 * about a packet within producer.send(), and engine events reach JS in
 * engine order, so a forwarded packet's "rtp" event comes before the
 * getStats() answer that shows it counted: no window is needed.
 */
async function flush(producer, stream) {
  await waitUntil(async () => ((await producer.getStats())[0]?.packetCount ?? 0) >= stream.index, 5000,
    `producer packetCount ${stream.index}`, 20);
}

describe('DirectTransport forwarding (producer.send() → consumer "rtp")', function () {
  this.timeout(20000);

  let worker;
  let router;
  let sockets;

  beforeEach(async () => {
    sockets = [];
    worker = await gosfu.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(async () => {
    for (const s of sockets) s.close();
    await closeWorker(worker);
    worker = undefined;
  });

  it('rewrites SSRC and payload type with continuous sequence numbers; key-frame gating on resume; producer pause/resume/close', async () => {
    const inT = await router.createDirectTransport();
    const outT = await router.createDirectTransport();
    const producer = await inT.produce(producerOptions);
    const consumer = await outT.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    const ssrc = consumer.rtpParameters.encodings[0].ssrc;
    const payloadType = consumer.rtpParameters.codecs[0].payloadType;
    assert.equal(consumer.rtpParameters.codecs[0].mimeType.toLowerCase(), 'video/vp8');
    const routerVp8 = router.rtpCapabilities.codecs.find((c) => c.mimeType === 'video/VP8');
    assert.equal(payloadType, routerVp8.preferredPayloadType);
    assert.notEqual(payloadType, PRODUCER_PT, 'the test needs a payload type to rewrite');
    assert.notEqual(ssrc, PRODUCER_SSRC);

    const got = collector();
    consumer.on('rtp', (buf) => got.push(buf));
    const producerRtcp = [];
    inT.on('rtcp', (buf) => producerRtcp.push(...parseRtcp(buf)));

    const stream = new Vp8Stream({ ssrc: PRODUCER_SSRC, payloadType: PRODUCER_PT, firstSeq: 65500 });
    // 10 frames (30 packets, key frame first), across a sequence number wrap.
    sendFrames(producer, stream, 10);
    await waitUntil(() => got.packets.length === 30, 3000, '30 packets');
    assert.deepEqual(got.indices, [...Array(30).keys()]);
    assert.equal(got.packets[0].keyFrame, true);
    assertForwarded(got.packets, { ssrc, payloadType });
    // Timestamps and markers pass through.
    assert.equal(got.packets[2].marker, true);
    assert.equal(got.packets[0].marker, false);
    assert.equal(got.packets[3].timestamp, got.packets[0].timestamp + 1800);
    // Payloads are untouched.
    assert.deepEqual(got.packets[7].payload, stream.sent.get((65500 + 7) & 0xffff).payload);

    // Consumer paused: nothing.
    await consumer.pause();
    sendFrames(producer, stream, 5);
    await flush(producer, stream);
    assert.equal(got.packets.length, 30, 'packets forwarded while the consumer was paused');

    // Resumed: the consumer asks the producer's endpoint for a key frame
    // (a PLI out of the producer's DirectTransport) and forwards nothing
    // until one comes.
    await consumer.resume();
    await waitUntil(() => producerRtcp.some((e) => e.type === 'pli'), 2000, 'a PLI for the producer');
    const pli = producerRtcp.find((e) => e.type === 'pli');
    assert.equal(pli.mediaSsrc, PRODUCER_SSRC);
    const deltas = sendFrames(producer, stream, 3);
    await flush(producer, stream);
    assert.equal(got.packets.length, 30, 'delta frames forwarded before a key frame');
    stream.requestKeyFrame();
    const resumed = sendFrames(producer, stream, 3);
    await waitUntil(() => got.packets.length === 39, 3000, 'packets after the key frame');
    const afterResume = got.packets.slice(30);
    assert.deepEqual(afterResume.map((p) => p.index), resumed.map((i) => i.index));
    assert.equal(afterResume[0].keyFrame, true);
    assert.ok(deltas.length > 0);
    // No gap for the receiver across the pause.
    assertForwarded(got.packets, { ssrc, payloadType });

    // Producer paused: 'producerpause', nothing forwarded.
    const onPause = waitFor(consumer, 'producerpause', 2000);
    await producer.pause();
    await onPause;
    assert.equal(consumer.producerPaused, true);
    assert.equal(consumer.paused, false);
    stream.requestKeyFrame();
    sendFrames(producer, stream, 3);
    await flush(producer, stream);
    assert.equal(got.packets.length, 39, 'packets forwarded while the producer was paused');

    // Producer resumed: 'producerresume', forwarding restarts at a key frame.
    const onResume = waitFor(consumer, 'producerresume', 2000);
    await producer.resume();
    await onResume;
    assert.equal(consumer.producerPaused, false);
    sendFrames(producer, stream, 2); // delta frames: gated
    await flush(producer, stream);
    assert.equal(got.packets.length, 39, 'delta frames forwarded after producer resume');
    stream.requestKeyFrame();
    const again = sendFrames(producer, stream, 2);
    await waitUntil(() => got.packets.length === 45, 3000, 'packets after producer resume');
    assert.deepEqual(got.packets.slice(39).map((p) => p.index), again.map((i) => i.index));
    assertForwarded(got.packets, { ssrc, payloadType });

    // Stats follow what went through.
    const [cs, ps] = await consumer.getStats();
    assert.equal(cs.type, 'outbound-rtp');
    assert.equal(cs.packetCount, 45);
    assert.equal(ps.type, 'inbound-rtp');
    assert.equal(ps.packetCount, stream.index);

    // Producer closed: 'producerclose' and the consumer is closed.
    const onClose = waitFor(consumer, 'producerclose', 2000);
    producer.close();
    await onClose;
    assert.equal(consumer.closed, true);
    assert.deepEqual((await outT.dump()).consumerIds, []);
  });

  it('a DirectTransport producer feeds a PlainTransport consumer over UDP; its PLI comes back as "rtcp"', async () => {
    const inT = await router.createDirectTransport();
    const outT = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    const producer = await inT.produce(producerOptions);
    const consumer = await outT.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    const ssrc = consumer.rtpParameters.encodings[0].ssrc;
    const payloadType = consumer.rtpParameters.codecs[0].payloadType;

    const socket = dgram.createSocket('udp4');
    sockets.push(socket);
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const got = collector();
    const rtcp = [];
    socket.on('message', (msg) => {
      if (isRtcp(msg)) rtcp.push(...parseRtcp(msg));
      else got.push(msg);
    });
    await outT.connect({ ip: '127.0.0.1', port: socket.address().port });
    const producerRtcp = [];
    inT.on('rtcp', (buf) => producerRtcp.push(...parseRtcp(buf)));

    const stream = new Vp8Stream({ ssrc: PRODUCER_SSRC, payloadType: PRODUCER_PT });
    const sent = sendFrames(producer, stream, 20);
    await waitUntil(() => got.packets.length === 60, 3000, '60 packets over UDP');
    assert.deepEqual(got.indices, sent.map((i) => i.index));
    assert.equal(got.packets[0].keyFrame, true);
    assertForwarded(got.packets, { ssrc, payloadType });

    // A PLI from the UDP peer reaches the producer's endpoint.
    const before = producerRtcp.filter((e) => e.type === 'pli').length;
    socket.send(rtcpPli(12345678, ssrc), outT.tuple.localPort, '127.0.0.1');
    await waitUntil(() => producerRtcp.filter((e) => e.type === 'pli').length > before, 2000, 'PLI as "rtcp"');
    assert.equal(producerRtcp.filter((e) => e.type === 'pli').pop().mediaSsrc, PRODUCER_SSRC);
    assert.equal((await consumer.getStats())[0].pliCount, 1);

    // The PlainTransport's sender report for the consumer arrives too.
    await waitUntil(() => rtcp.some((e) => e.type === 'sr' && e.ssrc === ssrc), 3000, 'an SR for the consumer');
    const sr = rtcp.find((e) => e.type === 'sr' && e.ssrc === ssrc);
    assert.equal(sr.packetCount, 60);

    const [transportStats] = await outT.getStats();
    assert.ok(transportStats.rtpBytesSent > 0);
    const [inStats] = await inT.getStats();
    assert.ok(inStats.rtpBytesReceived > 0);
  });
});
