'use strict';

const assert = require('node:assert/strict');
const dgram = require('node:dgram');

const gosfu = require('../');
const { Router } = require('../lib/Router');
const { FakeChannel } = require('./fakeChannel');
const { waitFor, closeWorker, assertRejects } = require('./helpers');

const { InvalidStateError, PlainTransport } = gosfu.types;

const mediaCodecs = Object.freeze([
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, foo: 'bar' },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'level-asymmetry-allowed': 1,
      'packetization-mode': 1,
      'profile-level-id': '4d0032',
      foo: 'bar',
    },
    rtcpFeedback: [], // Ignored.
  },
]);

const SRTP_KEY_80 = 'ZnQ3eWJraDg0d3ZoYzM5cXN1Y2pnaHU5NWxrZTVv';
const SRTP_KEY_GCM_256 = 'YTdjcDBvY2JoMGY5YXNlNDc0eDJsdGgwaWRvNnJsamRrdG16aWVpZHphdHo=';

/** A UDP port free right now on ip. */
function freeUdpPort(ip = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', reject);
    socket.bind(0, ip, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Rejects with exactly this class (message not checked: the engine writes it). */
async function rejectsWith(promise, Class) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.constructor, Class, `expected ${Class.name}, got ${error.constructor.name}: ${error.message}`);
    return true;
  });
}

describe('PlainTransport', () => {
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

  it('router.createPlainTransport() succeeds', async () => {
    const transport1 = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 2000, max: 3000 } },
    });
    assert.deepEqual((await router.dump()).transportIds, [transport1.id]);
    assert.ok(transport1.tuple.localPort >= 2000 && transport1.tuple.localPort <= 3000);

    const onNewTransport = [];
    router.observer.once('newtransport', (t) => onNewTransport.push(t));
    const transport2 = await router.createPlainTransport({
      listenInfo: {
        protocol: 'udp', ip: '127.0.0.1', announcedAddress: '9.9.9.1', portRange: { min: 2000, max: 3000 },
      },
      appData: { foo: 'bar' },
    });
    assert.equal(onNewTransport.length, 1);
    assert.equal(onNewTransport[0], transport2);
    assert.equal(transport2.constructor.name, 'PlainTransport');
    assert.ok(transport2 instanceof PlainTransport);
    assert.equal(typeof transport2.id, 'string');
    assert.equal(transport2.closed, false);
    assert.equal(transport2.type, 'plain');
    assert.deepEqual(transport2.appData, { foo: 'bar' });
    assert.equal(typeof transport2.tuple, 'object');
    assert.equal(transport2.tuple.localIp, '9.9.9.1');
    assert.equal(transport2.tuple.localAddress, '9.9.9.1');
    assert.equal(typeof transport2.tuple.localPort, 'number');
    assert.equal(transport2.tuple.protocol, 'udp');
    assert.equal(transport2.rtcpTuple, undefined);
    assert.equal(transport2.sctpParameters, undefined);
    assert.equal(transport2.sctpState, undefined);
    assert.equal(transport2.sctpNegotiatedCapabilities, undefined);
    assert.equal(transport2.srtpParameters, undefined);
    assert.ok(router.transportsForTesting.has(transport2.id));

    const dump1 = await transport2.dump();
    assert.equal(dump1.id, transport2.id);
    assert.deepEqual(dump1.producerIds, []);
    assert.deepEqual(dump1.consumerIds, []);
    assert.deepEqual(dump1.tuple, transport2.tuple);
    assert.equal(dump1.rtcpTuple, undefined);
    assert.equal(dump1.sctpState, undefined);
    assert.ok(dump1.recvRtpHeaderExtensions);
    assert.equal(typeof dump1.rtpListener, 'object');

    transport2.close();
    assert.equal(transport2.closed, true);
    assert.ok(!router.transportsForTesting.has(transport2.id));
    assert.deepEqual((await router.dump()).transportIds, [transport1.id]);

    const transport3 = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    assert.equal(typeof transport3, 'object');
    assert.equal(transport3.tuple.localAddress, '127.0.0.1');

    const rtpPort = await freeUdpPort();
    const rtcpPort = await freeUdpPort();
    const transport4 = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', port: rtpPort },
      rtcpListenInfo: { protocol: 'udp', ip: '127.0.0.1', port: rtcpPort },
    });
    assert.equal(typeof transport4.id, 'string');
    assert.equal(transport4.closed, false);
    assert.deepEqual(transport4.appData, {});
    assert.equal(transport4.tuple.localIp, '127.0.0.1');
    assert.equal(transport4.tuple.localAddress, '127.0.0.1');
    assert.equal(transport4.tuple.localPort, rtpPort);
    assert.equal(transport4.tuple.protocol, 'udp');
    assert.equal(typeof transport4.rtcpTuple, 'object');
    assert.equal(transport4.rtcpTuple.localIp, '127.0.0.1');
    assert.equal(transport4.rtcpTuple.localAddress, '127.0.0.1');
    assert.equal(transport4.rtcpTuple.localPort, rtcpPort);
    assert.equal(transport4.rtcpTuple.protocol, 'udp');
    assert.equal(transport4.sctpParameters, undefined);
    assert.equal(transport4.sctpState, undefined);

    const dump2 = await transport4.dump();
    assert.equal(dump2.id, transport4.id);
    assert.deepEqual(dump2.tuple, transport4.tuple);
    assert.deepEqual(dump2.rtcpTuple, transport4.rtcpTuple);
    assert.equal(dump2.rtcpMux, false);
    assert.equal(dump2.comedia, false);
  });

  it('router.createPlainTransport() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(router.createPlainTransport({}), TypeError,
      'missing listenInfo and listenIp (one of them is mandatory)');
    await assertRejects(router.createPlainTransport(), TypeError,
      'missing listenInfo and listenIp (one of them is mandatory)');
    await assertRejects(router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, listenIp: '127.0.0.1',
    }), TypeError, 'only one of listenInfo and listenIp must be given');
    await assertRejects(router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, appData: 'NOT-AN-OBJECT',
    }), TypeError, 'if given, appData must be an object');
    assert.equal(router.transportsForTesting.size, 0);
  });

  it('router.createPlainTransport() with wrong listen infos rejects with TypeError', async () => {
    await rejectsWith(router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 4000, max: 3000 } },
    }), TypeError);
    await rejectsWith(router.createPlainTransport({ listenIp: '123' }), TypeError);
    await rejectsWith(router.createPlainTransport({ listenIp: ['127.0.0.1'] }), TypeError);
    await rejectsWith(router.createPlainTransport({ listenInfo: { protocol: 'tcp', ip: '127.0.0.1' } }), TypeError);
    assert.equal(router.transportsForTesting.size, 0);
  });

  it('router.createPlainTransport() with enableSrtp succeeds', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', enableSrtp: true });
    assert.equal(typeof transport.srtpParameters, 'object');
    assert.equal(transport.srtpParameters.cryptoSuite, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(transport.srtpParameters.keyBase64.length, 40);

    // Missing srtpParameters.
    await rejectsWith(transport.connect({ ip: '127.0.0.2', port: 9999 }), TypeError);
    // Invalid srtpParameters.
    await rejectsWith(transport.connect({ ip: '127.0.0.2', port: 9999, srtpParameters: 1 }), TypeError);
    // Missing cryptoSuite.
    await rejectsWith(transport.connect({
      ip: '127.0.0.2', port: 9999, srtpParameters: { keyBase64: SRTP_KEY_80 },
    }), TypeError);
    // Missing keyBase64.
    await rejectsWith(transport.connect({
      ip: '127.0.0.2', port: 9999, srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' },
    }), TypeError);
    // Invalid cryptoSuite.
    await rejectsWith(transport.connect({
      ip: '127.0.0.2', port: 9999, srtpParameters: { cryptoSuite: 'FOO', keyBase64: SRTP_KEY_80 },
    }), TypeError);
    await rejectsWith(transport.connect({
      ip: '127.0.0.2', port: 9999, srtpParameters: { cryptoSuite: 123, keyBase64: SRTP_KEY_80 },
    }), TypeError);
    // Invalid keyBase64.
    await rejectsWith(transport.connect({
      ip: '127.0.0.2', port: 9999, srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: [] },
    }), TypeError);

    // Valid, and it changes the crypto suite.
    assert.equal(await transport.connect({
      ip: '127.0.0.2',
      port: 9999,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: SRTP_KEY_GCM_256 },
    }), undefined);
    assert.equal(transport.srtpParameters.cryptoSuite, 'AEAD_AES_256_GCM');
    assert.equal(transport.srtpParameters.keyBase64.length, 60);
  });

  it('plainTransport.connect() with srtpParameters and comedia enabled succeeds', async () => {
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSrtp: true, comedia: true,
    });
    assert.equal(transport.srtpParameters.cryptoSuite, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(transport.srtpParameters.keyBase64.length, 40);
    assert.equal(transport.tuple.localAddress, '127.0.0.1');
    assert.equal(transport.tuple.protocol, 'udp');
    assert.equal(transport.tuple.remoteIp, undefined);

    assert.equal(await transport.connect({
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: SRTP_KEY_GCM_256 },
    }), undefined);
    assert.equal(transport.srtpParameters.cryptoSuite, 'AEAD_AES_256_GCM');
    assert.equal(transport.srtpParameters.keyBase64.length, 60);
    // Comedia latches the remote later.
    assert.equal(transport.tuple.remoteIp, undefined);
  });

  it('router.createPlainTransport() with non bindable IP rejects with Error', async () => {
    await assert.rejects(router.createPlainTransport({ listenIp: '8.8.8.8' }), Error);
  });

  it('two transports binding to the same IP:port with udpReusePort flag succeed', async () => {
    const multicastIp = '224.0.0.1';
    const port = await freeUdpPort();
    await router.createPlainTransport({
      listenInfo: {
        // ipv6Only is ignored for an IPv4 address.
        protocol: 'udp', ip: multicastIp, port, flags: { udpReusePort: true, ipv6Only: true },
      },
    });
    await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: multicastIp, port, flags: { udpReusePort: true } },
    });
  });

  it('two transports binding to the same IP:port without udpReusePort flag fail', async () => {
    const multicastIp = '224.0.0.1';
    const port = await freeUdpPort();
    await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: multicastIp, port, flags: { udpReusePort: false } },
    });
    await assert.rejects(router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: multicastIp, port, flags: { udpReusePort: false } },
    }));
  });

  it('plainTransport.getStats() succeeds', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    const stats = await transport.getStats();
    assert.ok(Array.isArray(stats));
    assert.equal(stats.length, 1);
    const [s] = stats;
    assert.equal(s.type, 'plain-rtp-transport');
    assert.equal(s.transportId, transport.id);
    assert.equal(typeof s.timestamp, 'number');
    for (const key of [
      'bytesReceived', 'recvBitrate', 'bytesSent', 'sendBitrate', 'rtpBytesReceived', 'rtpRecvBitrate',
      'rtpBytesSent', 'rtpSendBitrate', 'rtxBytesReceived', 'rtxRecvBitrate', 'rtxBytesSent',
      'rtxSendBitrate', 'probationBytesSent', 'probationSendBitrate',
    ]) {
      assert.equal(s[key], 0, key);
    }
    assert.equal(s.tuple.localIp, '127.0.0.1');
    assert.equal(s.tuple.localAddress, '127.0.0.1');
    assert.equal(typeof s.tuple.localPort, 'number');
    assert.equal(s.tuple.protocol, 'udp');
    assert.equal(s.rtcpTuple, undefined);
  });

  it('plainTransport.connect() succeeds', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false });
    assert.equal(await transport.connect({ ip: '1.2.3.4', port: 1234, rtcpPort: 1235 }), undefined);
    // Already connected.
    await assert.rejects(transport.connect({ ip: '1.2.3.4', port: 1234, rtcpPort: 1235 }), Error);
    assert.equal(transport.tuple.remoteIp, '1.2.3.4');
    assert.equal(transport.tuple.remotePort, 1234);
    assert.equal(transport.tuple.protocol, 'udp');
    assert.equal(transport.rtcpTuple.remoteIp, '1.2.3.4');
    assert.equal(transport.rtcpTuple.remotePort, 1235);
    assert.equal(transport.rtcpTuple.protocol, 'udp');
  });

  it('plainTransport.connect() with wrong arguments rejects with TypeError', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false });
    // SRTP not enabled.
    await rejectsWith(transport.connect({
      ip: '127.0.0.2',
      port: 9998,
      rtcpPort: 9999,
      srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: SRTP_KEY_80 },
    }), TypeError);
    await rejectsWith(transport.connect({}), TypeError);
    await rejectsWith(transport.connect({ ip: '::::1234' }), TypeError);
    // rtcpMux is off: rtcpPort is required.
    await rejectsWith(transport.connect({ ip: '127.0.0.1', port: 1234, __rtcpPort: 1235 }), TypeError);
    await rejectsWith(transport.connect({ ip: '127.0.0.1', __port: 'chicken', rtcpPort: 1235 }), TypeError);
  });

  it('PlainTransport methods reject if closed', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    let closes = 0;
    transport.observer.once('close', () => closes++);
    transport.close();
    assert.equal(closes, 1);
    assert.equal(transport.closed, true);
    await assertRejects(transport.dump(), InvalidStateError, 'Transport closed [method:dump]');
    await assertRejects(transport.getStats(), InvalidStateError, 'Transport closed [method:getStats]');
    await assertRejects(transport.connect({}), InvalidStateError, 'Transport closed [method:connect]');
    await assertRejects(transport.setMaxIncomingBitrate(100000), InvalidStateError,
      'Transport closed [method:setMaxIncomingBitrate]');
    await assertRejects(transport.enableTraceEvent(['bwe']), InvalidStateError,
      'Transport closed [method:enableTraceEvent]');
    await assertRejects(transport.produce({ kind: 'audio', rtpParameters: {} }), InvalidStateError,
      'Transport closed [method:produce]');
    await assertRejects(transport.consume({ producerId: 'foo', rtpCapabilities: {} }), InvalidStateError,
      'Transport closed [method:consume]');
  });

  it('router.createPlainTransport() with fixed port succeeds', async () => {
    const port = await freeUdpPort();
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1', port } });
    assert.equal(transport.tuple.localPort, port);
  });

  it('plainTransport.setMaxIncomingBitrate() and friends succeed', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    await transport.setMaxIncomingBitrate(100000);
    await transport.setMinOutgoingBitrate(50000);
    await transport.setMaxOutgoingBitrate(200000);
    await rejectsWith(transport.setMaxOutgoingBitrate(10000), TypeError);
    await transport.enableTraceEvent(['bwe', 'probation']);
    assert.deepEqual((await transport.dump()).traceEventTypes.sort(), ['bwe', 'probation']);
    await transport.enableTraceEvent();
    assert.deepEqual((await transport.dump()).traceEventTypes, []);
  });

  it('plainTransport.enableTraceEvent() with wrong arguments rejects with TypeError', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    await assertRejects(transport.enableTraceEvent(123), TypeError, 'types must be an array');
    await assertRejects(transport.enableTraceEvent('bwe'), TypeError, 'types must be an array');
    await assertRejects(transport.enableTraceEvent(['bwe', 1]), TypeError, 'every type must be a string');
  });

  it('plainTransport.produceData() and consumeData() without SCTP fail', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    await assertRejects(transport.produceData({}), TypeError, 'params is not an object');
    await assertRejects(transport.produceData({ sctpStreamParameters: { streamId: 1 } }), Error,
      'SCTP not enabled and not a direct Transport');
    await assertRejects(transport.consumeData({ dataProducerId: 'x' }), gosfu.types.NotFoundError,
      'DataProducer with id "x" not found');
  });

  it('PlainTransport emits "routerclose" if Router is closed', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    let closes = 0;
    transport.observer.once('close', () => closes++);
    const promise = waitFor(transport, 'routerclose');
    router.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(transport.closed, true);
    await assertRejects(transport.dump(), InvalidStateError, 'Transport closed [method:dump]');
  });

  it('PlainTransport emits "routerclose" if Worker is closed', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    let closes = 0;
    transport.observer.once('close', () => closes++);
    const promise = waitFor(transport, 'routerclose');
    worker.close();
    await promise;
    assert.equal(closes, 1);
    assert.equal(transport.closed, true);
    await assertRejects(transport.dump(), InvalidStateError, 'Transport closed [method:dump]');
  });

  it('PlainTransport emits "tuple" in comedia mode', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', comedia: true });
    const socket = dgram.createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const promise = waitFor(transport, 'tuple');
      const observerPromise = waitFor(transport.observer, 'tuple');
      // An RTP packet (version 2, PT 100, any SSRC).
      const rtp = Buffer.alloc(20);
      rtp[0] = 0x80;
      rtp[1] = 100;
      rtp.writeUInt32BE(12345678, 8);
      socket.send(rtp, transport.tuple.localPort, '127.0.0.1');
      const [tuple] = await promise;
      await observerPromise;
      assert.equal(tuple.remoteIp, '127.0.0.1');
      assert.equal(tuple.remotePort, socket.address().port);
      assert.deepEqual(transport.tuple, tuple);
    } finally {
      socket.close();
    }
  });
});

describe('PlainTransport (Node layer against a fake engine)', () => {
  const localTuple = { localAddress: '127.0.0.1', localPort: 40000, protocol: 'udp' };
  let channel;
  let router;

  beforeEach(() => {
    channel = new FakeChannel({
      'router.createPlainTransport': () => ({ tuple: localTuple, rtcpMux: true, comedia: false }),
      'router.closeTransport': undefined,
      'transport.connect': () => ({
        tuple: { ...localTuple, remoteIp: '1.2.3.4', remotePort: 1234 },
        srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: SRTP_KEY_GCM_256 },
      }),
    });
    router = new Router({ internal: { routerId: 'router-1' }, data: { rtpCapabilities: {} }, channel });
  });

  it('createPlainTransport() sends the normalised options', async () => {
    const transport = await router.createPlainTransport({ listenIp: { ip: '0.0.0.0', announcedIp: '1.1.1.1' }, port: 4444 });
    const [req] = channel.sent('router.createPlainTransport');
    assert.equal(req.handlerId, 'router-1');
    assert.deepEqual(req.data, {
      transportId: transport.id,
      listenInfo: { protocol: 'udp', ip: '0.0.0.0', announcedAddress: '1.1.1.1', port: 4444 },
      rtcpMux: true,
      comedia: false,
      enableSctp: false,
      maxSendMessageSize: 262144,
      maxReceiveMessageSize: 262144,
      sctpSendBufferSize: 2000000,
      sctpPerStreamSendQueueLimit: 2000000,
      sctpMaxReceiverWindowBufferSize: 5242880,
      sctpDefaultStreamBufferedAmountLowThreshold: 1024,
      enableSrtp: false,
      srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
    });
    assert.deepEqual(transport.tuple, {
      localIp: '127.0.0.1',
      localAddress: '127.0.0.1',
      localPort: 40000,
      remoteIp: undefined,
      remotePort: 0,
      protocol: 'udp',
    });

    await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1', announcedIp: '2.2.2.2', portRange: { min: 1, max: 2 } },
      rtcpListenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      enableSrtp: true,
      srtpCryptoSuite: 'AEAD_AES_128_GCM',
    });
    const req2 = channel.sent('router.createPlainTransport')[1].data;
    assert.deepEqual(req2.listenInfo, {
      protocol: 'udp', ip: '127.0.0.1', announcedAddress: '2.2.2.2', portRange: { min: 1, max: 2 },
    });
    assert.deepEqual(req2.rtcpListenInfo, { protocol: 'udp', ip: '127.0.0.1' });
    // rtcpListenInfo turns rtcpMux off.
    assert.equal(req2.rtcpMux, false);
    assert.equal(req2.enableSrtp, true);
    assert.equal(req2.srtpCryptoSuite, 'AEAD_AES_128_GCM');
  });

  it('createPlainTransport() argument errors never reach the engine', async () => {
    await assertRejects(router.createPlainTransport({}), TypeError,
      'missing listenInfo and listenIp (one of them is mandatory)');
    await assertRejects(router.createPlainTransport({ listenIp: '127.0.0.1', listenInfo: { ip: '127.0.0.1' } }),
      TypeError, 'only one of listenInfo and listenIp must be given');
    await assertRejects(router.createPlainTransport({ listenIp: '127.0.0.1', appData: 1 }),
      TypeError, 'if given, appData must be an object');
    await assertRejects(router.createPlainTransport({ listenInfo: 'udp://127.0.0.1' }),
      TypeError, 'listenInfo must be an object');
    assert.equal(channel.requests.length, 0);
  });

  it('connect() sends only the given fields and updates tuple and srtpParameters', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    await transport.connect({ ip: '1.2.3.4', port: 1234 });
    const [req] = channel.sent('transport.connect');
    assert.equal(req.handlerId, transport.id);
    assert.deepEqual(req.data, { ip: '1.2.3.4', port: 1234 });
    assert.equal(transport.tuple.remoteIp, '1.2.3.4');
    assert.equal(transport.tuple.remotePort, 1234);
    assert.equal(transport.srtpParameters.cryptoSuite, 'AEAD_AES_256_GCM');
  });

  it('engine events update the state and are emitted on the transport and its observer', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    const events = [];
    for (const name of ['tuple', 'rtcptuple', 'sctpstatechange', 'trace']) {
      transport.on(name, (arg) => events.push([name, arg]));
      transport.observer.on(name, (arg) => events.push([`observer:${name}`, arg]));
    }
    channel.fire(transport.id, 'tuple', { tuple: { ...localTuple, remoteIp: '5.5.5.5', remotePort: 5 } });
    assert.equal(transport.tuple.remoteIp, '5.5.5.5');
    assert.equal(transport.tuple.localIp, '127.0.0.1');
    channel.fire(transport.id, 'rtcptuple', { rtcpTuple: { ...localTuple, localPort: 40001 } });
    assert.equal(transport.rtcpTuple.localPort, 40001);
    channel.fire(transport.id, 'sctpstatechange', { sctpState: 'connected' });
    assert.equal(transport.sctpState, 'connected');
    const trace = { type: 'bwe', timestamp: 1, direction: 'out', info: {} };
    channel.fire(transport.id, 'trace', trace);
    assert.deepEqual(events.map(([name]) => name), [
      'tuple', 'observer:tuple', 'rtcptuple', 'observer:rtcptuple',
      'sctpstatechange', 'observer:sctpstatechange', 'trace', 'observer:trace',
    ]);
    assert.deepEqual(events[6][1], trace);
  });

  it('close() asks the engine, unsubscribes and tells the Router', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    assert.equal(channel.listenerCount(transport.id), 1);
    const events = [];
    transport.on('@close', () => events.push('@close'));
    transport.on('routerclose', () => events.push('routerclose'));
    transport.observer.on('close', () => events.push('observer:close'));
    transport.close();
    transport.close();
    assert.deepEqual(events, ['@close', 'observer:close']);
    assert.deepEqual(channel.sent('router.closeTransport').map((r) => [r.handlerId, r.data]),
      [['router-1', { transportId: transport.id }]]);
    assert.equal(channel.listenerCount(transport.id), 0);
    assert.equal(router.transportsForTesting.size, 0);
    // No engine request for a closed transport.
    const count = channel.requests.length;
    await assertRejects(transport.getStats(), InvalidStateError, 'Transport closed [method:getStats]');
    assert.equal(channel.requests.length, count);
  });

  it('router.close() closes its transports with "routerclose"', async () => {
    channel.answers['worker.closeRouter'] = undefined;
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    const events = [];
    transport.on('routerclose', () => events.push('routerclose'));
    transport.observer.on('close', () => events.push('observer:close'));
    router.close();
    assert.deepEqual(events, ['routerclose', 'observer:close']);
    assert.equal(transport.closed, true);
    assert.equal(channel.sent('router.closeTransport').length, 0);
    assert.equal(channel.listenerCount(transport.id), 0);
  });

  it('a closed Router refuses to create transports', async () => {
    channel.answers['worker.closeRouter'] = undefined;
    router.close();
    await assertRejects(router.createPlainTransport({ listenIp: '127.0.0.1' }), InvalidStateError,
      'Router closed [method:createPlainTransport]');
  });

  it('sctpState becomes "closed" on close', async () => {
    channel.answers['router.createPlainTransport'] = () => ({
      tuple: localTuple, rtcpMux: true, comedia: false, sctpParameters: { port: 5000 }, sctpState: 'new',
    });
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', enableSctp: true });
    assert.equal(transport.sctpState, 'new');
    assert.deepEqual(transport.sctpParameters, { port: 5000 });
    transport.close();
    assert.equal(transport.sctpState, 'closed');
  });

  it('listenererror does not break the emitter', async () => {
    const transport = await router.createPlainTransport({ listenIp: '127.0.0.1' });
    const errors = [];
    transport.on('listenererror', (name, error) => errors.push([name, error.message]));
    transport.on('tuple', () => { throw new Error('boom'); });
    channel.fire(transport.id, 'tuple', { tuple: localTuple });
    assert.deepEqual(errors, [['tuple', 'boom']]);
  });
});
