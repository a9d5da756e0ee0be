'use strict';

const assert = require('node:assert/strict');

const gosfu = require('../');
const { Router } = require('../lib/Router');
const { FakeChannel } = require('./fakeChannel');
const {
  waitFor, closeWorker, assertRejects, assertThrows,
} = require('./helpers');

const {
  InvalidStateError, UnsupportedError, DirectTransport, Producer, Consumer,
} = gosfu.types;

const mediaCodecs = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);

/** The payload of an RTP packet (after CSRCs and header extension). */
function rtpPayload(packet) {
  let offset = 12 + 4 * (packet[0] & 0x0f);
  if (packet[0] & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return packet.subarray(offset);
}

/** An RTP packet: version 2, no CSRC, no extension. */
function rtpPacket({ payloadType, seq, timestamp, ssrc, marker = false, payload }) {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | payloadType;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(timestamp, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

describe('DirectTransport', () => {
  let worker;
  let router;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(async () => {
    await closeWorker(worker);
    worker = undefined;
  });

  it('router.createDirectTransport() succeeds', async () => {
    const onNewTransport = [];
    router.observer.once('newtransport', (t) => onNewTransport.push(t));
    const transport = await router.createDirectTransport({ maxMessageSize: 1024, appData: { foo: 'bar' } });
    assert.deepEqual((await router.dump()).transportIds, [transport.id]);
    assert.equal(onNewTransport.length, 1);
    assert.equal(onNewTransport[0], transport);
    assert.equal(transport.constructor.name, 'DirectTransport');
    assert.ok(transport instanceof DirectTransport);
    assert.equal(typeof transport.id, 'string');
    assert.equal(transport.type, 'direct');
    assert.equal(transport.closed, false);
    assert.deepEqual(transport.appData, { foo: 'bar' });

    const dump = await transport.dump();
    assert.equal(dump.id, transport.id);
    assert.deepEqual(dump.producerIds, []);
    assert.deepEqual(dump.consumerIds, []);
    assert.deepEqual(dump.dataProducerIds, []);
    assert.deepEqual(dump.dataConsumerIds, []);
    assert.ok(dump.recvRtpHeaderExtensions);
    assert.equal(typeof dump.rtpListener, 'object');

    transport.close();
    assert.equal(transport.closed, true);
    assert.deepEqual((await router.dump()).transportIds, []);
  });

  it('router.createDirectTransport() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(router.createDirectTransport({ appData: 'NOT-AN-OBJECT' }), TypeError,
      'if given, appData must be an object');
    assert.equal(router.transportsForTesting.size, 0);
  });

  it('directTransport.getStats() succeeds', async () => {
    const transport = await router.createDirectTransport();
    const stats = await transport.getStats();
    assert.ok(Array.isArray(stats));
    assert.equal(stats.length, 1);
    const [s] = stats;
    assert.equal(s.type, 'direct-transport');
    assert.equal(s.transportId, transport.id);
    assert.equal(typeof s.timestamp, 'number');
    for (const key of [
      'bytesReceived', 'recvBitrate', 'bytesSent', 'sendBitrate', 'rtpBytesReceived', 'rtpRecvBitrate',
      'rtpBytesSent', 'rtpSendBitrate', 'rtxBytesReceived', 'rtxRecvBitrate', 'rtxBytesSent',
      'rtxSendBitrate', 'probationBytesSent', 'probationSendBitrate',
    ]) {
      assert.equal(s[key], 0, key);
    }
  });

  it('directTransport.connect() succeeds', async () => {
    const transport = await router.createDirectTransport();
    assert.equal(await transport.connect(), undefined);
  });

  it('directTransport bitrate setters reject with UnsupportedError', async () => {
    const transport = await router.createDirectTransport();
    await assertRejects(transport.setMaxIncomingBitrate(100000), UnsupportedError,
      'setMaxIncomingBitrate() not implemented in DirectTransport');
    await assertRejects(transport.setMaxOutgoingBitrate(100000), UnsupportedError,
      'setMaxOutgoingBitrate() not implemented in DirectTransport');
    await assertRejects(transport.setMinOutgoingBitrate(100000), UnsupportedError,
      'setMinOutgoingBitrate() not implemented in DirectTransport');
  });

  it('directTransport.sendRtcp() with a non Buffer throws TypeError', async () => {
    const transport = await router.createDirectTransport();
    assertThrows(() => transport.sendRtcp('foo'), TypeError, 'rtcpPacket must be a Buffer');
    assertThrows(() => transport.sendRtcp(), TypeError, 'rtcpPacket must be a Buffer');
    // A receiver report with no report blocks.
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    transport.sendRtcp(rr);
  });

  it('producer.send() on a DirectTransport reaches a consumer on a DirectTransport as "rtp"', async () => {
    const transport1 = await router.createDirectTransport();
    const transport2 = await router.createDirectTransport();
    const producer = await transport1.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: 11111111 }],
      },
    });
    const consumer = await transport2.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    assert.ok(producer instanceof Producer);
    assert.ok(consumer instanceof Consumer);
    assertThrows(() => producer.send('foo'), TypeError, 'rtpPacket must be a Buffer');

    const consumerSsrc = consumer.rtpParameters.encodings[0].ssrc;
    const consumerPt = consumer.rtpParameters.codecs[0].payloadType;
    const received = [];
    const done = new Promise((resolve) => {
      consumer.on('rtp', (packet) => {
        received.push(packet);
        if (received.length === 10) resolve();
      });
    });
    for (let i = 0; i < 10; i++) {
      producer.send(rtpPacket({
        payloadType: 111, seq: 1000 + i, timestamp: 960 * i, ssrc: 11111111, payload: Buffer.from(`packet ${i}`),
      }));
    }
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('no rtp')), 3000))]);
    for (let i = 0; i < 10; i++) {
      const packet = received[i];
      assert.ok(Buffer.isBuffer(packet));
      assert.equal(packet[1] & 0x7f, consumerPt);
      assert.equal(packet.readUInt32BE(8), consumerSsrc);
      assert.equal(rtpPayload(packet).toString(), `packet ${i}`);
    }
    // Sequence numbers stay consecutive.
    for (let i = 1; i < 10; i++) {
      assert.equal(received[i].readUInt16BE(2), (received[i - 1].readUInt16BE(2) + 1) & 0xffff);
    }

    // The consumer's sender reports come out as 'rtcp' on its transport.
    const [rtcp] = await waitFor(transport2, 'rtcp', 5000);
    assert.ok(Buffer.isBuffer(rtcp));
    assert.equal(rtcp[0] >> 6, 2);

    const stats = await transport1.getStats();
    assert.ok(stats[0].rtpBytesReceived > 0);
  });

  it('DirectTransport methods reject if closed', async () => {
    const transport = await router.createDirectTransport();
    let closes = 0;
    transport.observer.once('close', () => closes++);
    transport.close();
    assert.equal(closes, 1);
    assert.equal(transport.closed, true);
    await assertRejects(transport.dump(), InvalidStateError, 'Transport closed [method:dump]');
    await assertRejects(transport.getStats(), InvalidStateError, 'Transport closed [method:getStats]');
    // A packet for a closed transport is dropped.
    transport.sendRtcp(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]));
  });

  it('DirectTransport emits "routerclose" if Router is closed', async () => {
    const transport = await router.createDirectTransport();
    let closes = 0;
    transport.observer.once('close', () => closes++);
    const promise = waitFor(transport, 'routerclose');
    router.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(transport.closed, true);
    await assertRejects(transport.getStats(), InvalidStateError, 'Transport closed [method:getStats]');
  });

  it('DirectTransport emits "routerclose" if Worker is closed', async () => {
    const transport = await router.createDirectTransport();
    let closes = 0;
    transport.observer.once('close', () => closes++);
    const promise = waitFor(transport, 'routerclose');
    worker.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(transport.closed, true);
    await assertRejects(transport.getStats(), InvalidStateError, 'Transport closed [method:getStats]');
  });
});

describe('DirectTransport (Node layer against a fake engine)', () => {
  let channel;
  let router;

  beforeEach(() => {
    channel = new FakeChannel({
      'router.createDirectTransport': {},
      'router.closeTransport': undefined,
      'transport.sendRtcp': undefined,
    });
    router = new Router({ internal: { routerId: 'router-1' }, data: { rtpCapabilities: {} }, channel });
  });

  it('createDirectTransport() sends transportId, maxSendMessageSize and maxReceiveMessageSize', async () => {
    const transport = await router.createDirectTransport();
    // The legacy maxMessageSize is ignored (as in mediasoup 3.27).
    const transport2 = await router.createDirectTransport({
      maxSendMessageSize: 1024, maxReceiveMessageSize: 2048, maxMessageSize: 4096,
    });
    assert.deepEqual(channel.sent('router.createDirectTransport').map((r) => [r.handlerId, r.data]), [
      ['router-1', { transportId: transport.id, maxSendMessageSize: 262144, maxReceiveMessageSize: 262144 }],
      ['router-1', { transportId: transport2.id, maxSendMessageSize: 1024, maxReceiveMessageSize: 2048 }],
    ]);
    assert.equal(transport.type, 'direct');
    assert.deepEqual(transport.appData, {});
  });

  it('sendRtcp() sends the packet as binary; "rtcp" events are emitted as Buffers', async () => {
    const transport = await router.createDirectTransport();
    const packet = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    transport.sendRtcp(packet);
    const [req] = channel.sent('transport.sendRtcp');
    assert.equal(req.handlerId, transport.id);
    assert.equal(req.data, packet);

    const got = [];
    transport.on('rtcp', (b) => got.push(b));
    channel.fire(transport.id, 'rtcp', Buffer.from([1, 2, 3]));
    assert.deepEqual(got, [Buffer.from([1, 2, 3])]);
  });

  it('sendRtcp() drops the packet when the engine rejects it', async () => {
    channel.answers['transport.sendRtcp'] = { error: { name: 'TypeError', message: 'invalid RTCP packet' } };
    const transport = await router.createDirectTransport();
    transport.sendRtcp(Buffer.from([1]));
  });

  it('bitrate setters reject with UnsupportedError without asking the engine', async () => {
    const transport = await router.createDirectTransport();
    const count = channel.requests.length;
    await assertRejects(transport.setMaxIncomingBitrate(1), UnsupportedError,
      'setMaxIncomingBitrate() not implemented in DirectTransport');
    await assertRejects(transport.setMaxOutgoingBitrate(1), UnsupportedError,
      'setMaxOutgoingBitrate() not implemented in DirectTransport');
    await assertRejects(transport.setMinOutgoingBitrate(1), UnsupportedError,
      'setMinOutgoingBitrate() not implemented in DirectTransport');
    assert.equal(channel.requests.length, count);
  });
});
