'use strict';

// WebRtcTransport and WebRtcServer API surface (no peer): parameters,
// validation, state, close cascades. Media flows are in
// test-webrtc-browser.js (Chromium) and gosfu/engine/webrtc_pion_test.go.
const assert = require('node:assert/strict');
const dgram = require('dgram');
const net = require('net');

const gosfu = require('../');
const { waitUntil } = require('./helpers');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

function isError(cls, message) {
  return (error) => {
    assert.equal(error.constructor.name, cls, `${error.constructor.name}: ${error.message}`);
    if (message instanceof RegExp) assert.match(error.message, message);
    else if (message !== undefined) assert.equal(error.message, message);
    return true;
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('WebRtcTransport', () => {
  let worker;
  let router;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(() => worker.close());

  it('router.createWebRtcTransport() gives ICE-lite and DTLS parameters as mediasoup', async () => {
    const onNew = [];
    router.observer.on('newtransport', (t) => onNew.push(t));
    const transport = await router.createWebRtcTransport({
      listenInfos: [
        { protocol: 'udp', ip: '127.0.0.1', announcedAddress: '9.9.9.1' },
        { protocol: 'tcp', ip: '127.0.0.1' },
      ],
      appData: { foo: 'bar' },
    });
    assert.equal(transport.constructor.name, 'WebRtcTransport');
    assert.equal(transport.type, 'webrtc');
    assert.deepEqual(onNew, [transport]);
    assert.deepEqual(transport.appData, { foo: 'bar' });
    assert.equal(transport.iceRole, 'controlled');
    assert.equal(transport.iceParameters.iceLite, true);
    assert.ok(transport.iceParameters.usernameFragment.length >= 4);
    assert.ok(transport.iceParameters.password.length >= 22);
    assert.equal(transport.iceState, 'new');
    assert.equal(transport.iceSelectedTuple, undefined);
    assert.equal(transport.dtlsState, 'new');
    assert.equal(transport.dtlsParameters.role, 'auto');
    assert.deepEqual(transport.dtlsParameters.fingerprints.map((f) => f.algorithm),
      ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);
    for (const f of transport.dtlsParameters.fingerprints) {
      assert.match(f.value, /^([0-9A-F]{2}:)+[0-9A-F]{2}$/);
    }
    const [udp, tcp] = transport.iceCandidates;
    assert.deepEqual(
      { ...udp, port: 0 },
      { foundation: 'udpcandidate', priority: 1076302079, ip: '9.9.9.1', address: '9.9.9.1', protocol: 'udp', port: 0, type: 'host' });
    assert.deepEqual(
      { ...tcp, port: 0 },
      { foundation: 'tcpcandidate', priority: 1076276479, ip: '127.0.0.1', address: '127.0.0.1', protocol: 'tcp', port: 0, type: 'host', tcpType: 'passive' });
    assert.ok(udp.port > 0 && tcp.port > 0);
    const stats = await transport.getStats();
    assert.equal(stats[0].type, 'webrtc-transport');
    assert.equal(stats[0].iceRole, 'controlled');
    assert.equal(stats[0].iceState, 'new');
    assert.equal(stats[0].dtlsState, 'new');
    assert.equal(stats[0].transportId, transport.id);
    const dump = await transport.dump();
    assert.equal(dump.id, transport.id);
    assert.deepEqual(dump.iceCandidates, transport.iceCandidates);
  });

  it('exposeInternalIp adds the local address as a second, lower candidate', async () => {
    const transport = await router.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', announcedAddress: 'sfu.example.com', exposeInternalIp: true }],
    });
    assert.deepEqual(transport.iceCandidates.map((c) => [c.address, c.priority]),
      [['sfu.example.com', 1076302079], ['127.0.0.1', 1076301079]]);
    assert.equal(transport.iceCandidates[0].port, transport.iceCandidates[1].port);
  });

  it('the deprecated listenIps form gives one candidate per IP and protocol, preferred first', async () => {
    const transport = await router.createWebRtcTransport({
      listenIps: ['127.0.0.1'], enableUdp: true, enableTcp: true, preferTcp: true,
    });
    assert.deepEqual(transport.iceCandidates.map((c) => c.protocol), ['tcp', 'udp']);
  });

  it('router.createWebRtcTransport() with wrong arguments rejects with TypeError', async () => {
    await assert.rejects(router.createWebRtcTransport({}),
      isError('TypeError', 'missing webRtcServer, listenInfos and listenIps (one of them is mandatory)'));
    await assert.rejects(router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], appData: 'x' }),
      isError('TypeError', 'if given, appData must be an object'));
    await assert.rejects(router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '1.2.3.4.5' }] }),
      isError('TypeError', /invalid IP/));
    await assert.rejects(router.createWebRtcTransport({ listenInfos: [] }), isError('TypeError'));
  });

  it('connect() sets the local DTLS role from the remote one, once', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    const other = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    await assert.rejects(transport.connect({}), isError('TypeError', 'missing dtlsParameters'));
    await assert.rejects(transport.connect({ dtlsParameters: { role: 'client', fingerprints: [] } }),
      isError('TypeError', 'empty dtlsParameters.fingerprints array'));
    await transport.connect({ dtlsParameters: { role: 'client', fingerprints: other.dtlsParameters.fingerprints } });
    assert.equal(transport.dtlsParameters.role, 'server');
    await assert.rejects(transport.connect({ dtlsParameters: { role: 'client', fingerprints: other.dtlsParameters.fingerprints } }),
      isError('Error', 'connect() already called'));
    await other.connect({ dtlsParameters: { role: 'server', fingerprints: transport.dtlsParameters.fingerprints } });
    assert.equal(other.dtlsParameters.role, 'client');
  });

  it('restartIce() gives new credentials and updates iceParameters', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    const before = transport.iceParameters;
    const after = await transport.restartIce();
    assert.equal(after.iceLite, true);
    assert.notEqual(after.usernameFragment, before.usernameFragment);
    assert.notEqual(after.password, before.password);
    assert.deepEqual(transport.iceParameters, after);
  });

  it('close() sets ICE and DTLS states to closed, frees the port and rejects later calls', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'tcp', ip: '127.0.0.1' }] });
    const { port } = transport.iceCandidates[0];
    const events = [];
    transport.observer.on('close', () => events.push('observer close'));
    router.observer.on('newtransport', () => events.push('newtransport'));
    transport.close();
    assert.equal(transport.closed, true);
    assert.equal(transport.iceState, 'closed');
    assert.equal(transport.dtlsState, 'closed');
    assert.deepEqual(events, ['observer close']);
    await assert.rejects(transport.getStats(), isError('InvalidStateError'));
    await assert.rejects(transport.restartIce(), isError('InvalidStateError'));
    // The TCP port can be bound again.
    await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => srv.close(resolve));
    });
  });

  it('worker.close() closes the transport with routerclose', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    let routerclose = 0;
    transport.on('routerclose', () => routerclose++);
    worker.close();
    assert.equal(routerclose, 1);
    assert.equal(transport.closed, true);
    assert.equal(transport.iceState, 'closed');
  });
});

describe('WebRtcServer', () => {
  let worker;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
  });

  afterEach(() => worker.close());

  it('worker.createWebRtcServer() shares its ports among transports', async () => {
    const port = await freePort();
    const created = [];
    worker.observer.on('newwebrtcserver', (s) => created.push(s));
    const server = await worker.createWebRtcServer({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port }, { protocol: 'tcp', ip: '127.0.0.1', port }],
      appData: { foo: 1 },
    });
    assert.equal(server.constructor.name, 'WebRtcServer');
    assert.deepEqual(created, [server]);
    assert.deepEqual((await worker.dump()).webRtcServerIds, [server.id]);
    const handled = [];
    const unhandled = [];
    server.observer.on('webrtctransporthandled', (t) => handled.push(t));
    server.observer.on('webrtctransportunhandled', (t) => unhandled.push(t));
    const router = await worker.createRouter({ mediaCodecs });
    const t1 = await router.createWebRtcTransport({ webRtcServer: server });
    const t2 = await router.createWebRtcTransport({ webRtcServer: server, enableTcp: false });
    assert.deepEqual(handled, [t1, t2]);
    assert.deepEqual(t1.iceCandidates.map((c) => [c.protocol, c.port]), [['udp', port], ['tcp', port]]);
    assert.deepEqual(t2.iceCandidates.map((c) => [c.protocol, c.port]), [['udp', port]]);
    assert.notEqual(t1.iceParameters.usernameFragment, t2.iceParameters.usernameFragment);
    const dump = await server.dump();
    assert.equal(dump.id, server.id);
    assert.deepEqual(dump.udpSockets, [{ ip: '127.0.0.1', port }]);
    assert.deepEqual(dump.tcpServers, [{ ip: '127.0.0.1', port }]);
    assert.deepEqual([...dump.webRtcTransportIds].sort(), [t1.id, t2.id].sort());
    // gosfu extension: what the server could route to no transport.
    assert.deepEqual(dump.packetsDropped, { unknownUfrag: 0, unknownTuple: 0, stunInvalid: 0, tcpFraming: 0 });
    const stray = dgram.createSocket('udp4');
    const rtp = Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    await new Promise((resolve, reject) => stray.send(rtp, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    stray.close();
    await waitUntil(async () => (await server.dump()).packetsDropped.unknownTuple === 1, 5000,
      'the stray datagram to be counted', 20);
    t2.close();
    assert.deepEqual(unhandled, [t2]);
    let listenserverclose = 0;
    t1.on('listenserverclose', () => listenserverclose++);
    server.close();
    assert.equal(server.closed, true);
    assert.equal(listenserverclose, 1);
    assert.equal(t1.closed, true);
    assert.deepEqual(unhandled, [t2, t1]);
    assert.equal(router.transportsForTesting.size, 0);
    // server.close() does not wait for the engine: poll until it is gone.
    await waitUntil(async () => (await worker.dump()).webRtcServerIds.length === 0, 5000,
      'the WebRtcServer to leave worker.dump()', 20);
  });

  it('worker.close() emits workerclose on the server', async () => {
    const server = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
    let workerclose = 0;
    server.on('workerclose', () => workerclose++);
    worker.close();
    assert.equal(workerclose, 1);
    assert.equal(server.closed, true);
  });

  it('wrong arguments reject', async () => {
    await assert.rejects(worker.createWebRtcServer({}), isError('TypeError', 'missing listenInfos'));
    await assert.rejects(worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], appData: 1 }),
      isError('TypeError', 'if given, appData must be an object'));
    const port = await freePort();
    const server = await worker.createWebRtcServer({ listenInfos: [{ protocol: 'tcp', ip: '127.0.0.1', port }] });
    // The port is taken now.
    await assert.rejects(worker.createWebRtcServer({ listenInfos: [{ protocol: 'tcp', ip: '127.0.0.1', port }] }), isError('Error'));
    server.close();
  });
});
