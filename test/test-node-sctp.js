'use strict';

// SCTP over the UDP tuple of a PlainTransport with an external peer: the npm
// package `sctp` (pure JS SCTP, the peer mediasoup's own tests use) running
// over a node dgram socket connected to the transport's tuple, with the SCTP
// ports of WebRTC (5000/5000). The peer is a plain SCTP endpoint: no DTLS, no
// DCEP, stream ids agreed out of band as mediasoup's produceData() /
// consumeData() do.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const sctp = require('sctp');

const gosfu = require('../');
const { waitFor, waitUntil, closeWorker } = require('./helpers');
const {
  connectPeer, peerSend, peerReceived, closePeer,
} = require('./helpers/sctp-peer');

const PPID_STRING = sctp.PPID.WEBRTC_STRING; // 51
const PPID_BINARY = sctp.PPID.WEBRTC_BINARY; // 53
const PPID_STRING_EMPTY = 56;
const PPID_BINARY_EMPTY = 57;

// The stream the peer sends on (stream 0 is the socket's implicit one).
const PEER_STREAM_ID = 123;

// RFC 6525: RE-CONFIG chunk (130) and its Outgoing SSN Reset Request
// parameter (13).
const CHUNK_RE_CONFIG = 130;
const PARAM_OUTGOING_SSN_RESET_REQUEST = 13;

assert.equal(PPID_STRING, 51);
assert.equal(PPID_BINARY, 53);

/** The stream ids an Outgoing SSN Reset Request of a RE-CONFIG chunk lists. */
function resetStreamIds(chunk) {
  const raw = chunk.buffer;
  assert.equal(raw.readUInt8(0), CHUNK_RE_CONFIG);
  const ids = [];
  let offset = 4;
  const end = raw.readUInt16BE(2);
  while (offset + 4 <= end) {
    const type = raw.readUInt16BE(offset);
    const length = raw.readUInt16BE(offset + 2);
    if (length < 4) break;
    if (type === PARAM_OUTGOING_SSN_RESET_REQUEST) {
      // Request seq | response seq | sender's last TSN | stream ids.
      for (let p = offset + 16; p + 2 <= offset + length; p += 2) ids.push(raw.readUInt16BE(p));
    }
    offset += (length + 3) & ~3;
  }
  return ids;
}

describe('SCTP over a PlainTransport with a node-sctp peer', function () {
  this.timeout(30000);

  let worker;
  let router;
  let peer;

  before(() => {
    // As mediasoup's test: node-sctp fragments above 1200 bytes.
    sctp.defaults({ PMTU: 1200 });
  });

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter();
  });

  afterEach(async () => {
    await closePeer(peer);
    peer = undefined;
    await closeWorker(worker);
    worker = undefined;
    router = undefined;
  });

  /** A comedia PlainTransport with SCTP on 127.0.0.1, its sctpstatechange events recorded. */
  async function createPlainTransport(options = {}) {
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      comedia: true, // The peer's first packet sets the remote tuple.
      enableSctp: true,
      ...options,
    });
    transport.sctpStates = [];
    transport.on('sctpstatechange', (state) => transport.sctpStates.push(state));
    return transport;
  }

  /** The transport connected to a new peer (association up on both ends). */
  async function connectedPlainTransport(options) {
    const transport = await createPlainTransport(options);
    peer = await connectPeer(transport);
    await waitUntil(() => transport.sctpState === 'connected', 5000, "sctpState 'connected'");
    return transport;
  }

  it('the association comes up over the UDP tuple (comedia, ports 5000/5000)', async () => {
    const transport = await createPlainTransport();
    assert.equal(transport.sctpState, 'new');
    assert.equal(transport.sctpParameters.port, 5000);
    assert.equal(transport.sctpParameters.OS, 65535);
    assert.equal(transport.sctpParameters.MIS, 65535);
    assert.equal(transport.sctpParameters.isDataChannel, false);
    assert.equal(transport.tuple.localAddress, '127.0.0.1');

    const onTuple = waitFor(transport, 'tuple', 5000);
    const onConnected = new Promise((resolve) => {
      transport.on('sctpstatechange', (state) => {
        if (state === 'connected') resolve();
      });
    });
    peer = await connectPeer(transport);
    await onConnected;

    assert.equal(transport.sctpState, 'connected');
    assert.deepEqual(transport.sctpStates, ['connecting', 'connected']);
    const [tuple] = await onTuple;
    assert.equal(tuple.remoteIp, '127.0.0.1');
    assert.equal(tuple.remotePort, peer.udpSocket.address().port);
    assert.equal(transport.tuple.remotePort, peer.udpSocket.address().port);
    // min(local OS, remote MIS) on the peer's side.
    assert.equal(peer.sctpSocket.OS, 65535);
    assert.equal(peer.sctpSocket.MIS, 65535);

    const dump = await transport.dump();
    assert.equal(dump.sctpState, 'connected');
    assert.equal(peer.error, undefined);
  });

  it('200 ordered messages (PPIDs 51/53) come back to the peer and reach a DirectTransport, counted exactly', async () => {
    const transport = await connectedPlainTransport();
    const directTransport = await router.createDirectTransport();

    const dataProducer = await transport.produceData({
      sctpStreamParameters: { streamId: PEER_STREAM_ID, ordered: true },
      label: 'node-sctp',
      protocol: 'foo & bar 😀😀😀',
    });
    assert.equal(dataProducer.type, 'sctp');
    assert.equal(dataProducer.sctpStreamParameters.streamId, PEER_STREAM_ID);

    const dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id });
    // The first DataConsumer of the transport.
    assert.equal(dataConsumer.type, 'sctp');
    assert.equal(dataConsumer.sctpStreamParameters.streamId, 0);
    assert.equal(dataConsumer.sctpStreamParameters.ordered, true);

    const directDataConsumer = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    assert.equal(directDataConsumer.type, 'direct');
    const directMessages = [];
    directDataConsumer.on('message', (message, ppid) => directMessages.push({ message, ppid }));

    // Odd ids are strings, even ids binary; sizes vary up to ~3 kB so that
    // messages are fragmented (PMTU 1200) in both directions.
    const numMessages = 200;
    const sent = [];
    for (let id = 1; id <= numMessages; id++) {
      const size = (id * 37) % 3000;
      let data;
      let ppid;
      if (id % 2 === 1) {
        data = Buffer.from(`${id}:${'s'.repeat(size)}`, 'utf8');
        ppid = PPID_STRING;
      } else {
        data = Buffer.concat([Buffer.from(`${id}:`), crypto.randomBytes(size)]);
        ppid = PPID_BINARY;
      }
      sent.push({ data, ppid });
      peerSend(peer, PEER_STREAM_ID, data, ppid);
    }
    const sentBytes = sent.reduce((sum, m) => sum + m.data.length, 0);

    await waitUntil(
      () => peerReceived(peer, 0).length >= numMessages && directMessages.length >= numMessages,
      15000,
      `${numMessages} messages at the peer (got ${peerReceived(peer, 0).length}) and the DirectTransport`,
    );

    // The peer got them on the consumer's stream only, in order, whole.
    assert.deepEqual([...peer.received.keys()], [0]);
    const received = peerReceived(peer, 0);
    assert.equal(received.length, numMessages);
    for (let i = 0; i < numMessages; i++) {
      assert.equal(received[i].ppid, sent[i].ppid, `ppid of message ${i + 1}`);
      assert.ok(received[i].equals(sent[i].data), `message ${i + 1} (${received[i].length} bytes, sent ${sent[i].data.length})`);
    }
    // And the DirectTransport DataConsumer too.
    assert.equal(directMessages.length, numMessages);
    for (let i = 0; i < numMessages; i++) {
      assert.ok(Buffer.isBuffer(directMessages[i].message));
      assert.equal(directMessages[i].ppid, sent[i].ppid, `direct ppid of message ${i + 1}`);
      assert.ok(directMessages[i].message.equals(sent[i].data), `direct message ${i + 1}`);
    }

    const [producerStats] = await dataProducer.getStats();
    assert.equal(producerStats.type, 'data-producer');
    assert.equal(producerStats.label, 'node-sctp');
    assert.equal(producerStats.protocol, 'foo & bar 😀😀😀');
    assert.equal(producerStats.messagesReceived, numMessages);
    assert.equal(producerStats.bytesReceived, sentBytes);

    const [consumerStats] = await dataConsumer.getStats();
    assert.equal(consumerStats.type, 'data-consumer');
    assert.equal(consumerStats.label, 'node-sctp');
    assert.equal(consumerStats.protocol, 'foo & bar 😀😀😀');
    assert.equal(consumerStats.messagesSent, numMessages);
    assert.equal(consumerStats.bytesSent, sentBytes);

    const [directStats] = await directDataConsumer.getStats();
    assert.equal(directStats.type, 'data-consumer');
    assert.equal(directStats.messagesSent, numMessages);
    assert.equal(directStats.bytesSent, sentBytes);

    const dump = await transport.dump();
    assert.deepEqual(dump.sctpListener.streamIdTable, [{ key: PEER_STREAM_ID, value: dataProducer.id }]);
    assert.equal(dump.sctpDropped.tooBig, 0);
    assert.equal(dump.sctpDropped.noDataProducer, 0);
    assert.equal(peer.error, undefined);
  });

  it('a DirectTransport DataProducer (chat bot) reaches the peer with PPIDs 51/53/56/57', async () => {
    const transport = await connectedPlainTransport();
    const directTransport = await router.createDirectTransport();
    const botDataProducer = await directTransport.produceData({ label: 'bot', protocol: 'chat' });
    assert.equal(botDataProducer.type, 'direct');

    const dataConsumer = await transport.consumeData({ dataProducerId: botDataProducer.id });
    assert.equal(dataConsumer.type, 'sctp');
    assert.equal(dataConsumer.sctpStreamParameters.streamId, 0);
    assert.equal(dataConsumer.label, 'bot');
    assert.equal(dataConsumer.protocol, 'chat');

    const binary = Buffer.from([0, 1, 2, 3, 254, 255]);
    botDataProducer.send('hello');
    botDataProducer.send(binary);
    botDataProducer.send('');
    botDataProducer.send(Buffer.alloc(0));
    botDataProducer.send('bye 😀');

    await waitUntil(() => peerReceived(peer, 0).length >= 5, 5000, '5 bot messages at the peer');
    const received = peerReceived(peer, 0);
    assert.equal(received.length, 5);
    assert.deepEqual(received.map((m) => m.ppid),
      [PPID_STRING, PPID_BINARY, PPID_STRING_EMPTY, PPID_BINARY_EMPTY, PPID_STRING]);
    assert.equal(received[0].toString('utf8'), 'hello');
    assert.ok(received[1].equals(binary));
    // WebRTC's empty messages travel as one byte (a space / a zero byte).
    assert.equal(received[2].toString('utf8'), ' ');
    assert.ok(received[3].equals(Buffer.alloc(1)));
    assert.equal(received[4].toString('utf8'), 'bye 😀');

    const [producerStats] = await botDataProducer.getStats();
    assert.equal(producerStats.messagesReceived, 5);
    const [consumerStats] = await dataConsumer.getStats();
    assert.equal(consumerStats.messagesSent, 5);
    assert.equal(consumerStats.bytesSent, 5 + binary.length + 1 + 1 + Buffer.byteLength('bye 😀'));
    assert.equal(peer.error, undefined);
  });

  it('a message over maxReceiveMessageSize is dropped and counted; the next one arrives', async () => {
    const transport = await connectedPlainTransport({ maxReceiveMessageSize: 1000 });
    assert.equal(transport.sctpParameters.maxReceiveMessageSize, 1000);
    const directTransport = await router.createDirectTransport();
    const dataProducer = await transport.produceData({
      sctpStreamParameters: { streamId: PEER_STREAM_ID, ordered: true },
    });
    const directDataConsumer = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    const directMessages = [];
    directDataConsumer.on('message', (message, ppid) => directMessages.push({ message, ppid }));

    const atLimit = crypto.randomBytes(1000);
    peerSend(peer, PEER_STREAM_ID, Buffer.from('before'), PPID_STRING);
    peerSend(peer, PEER_STREAM_ID, crypto.randomBytes(2000), PPID_BINARY); // Dropped.
    peerSend(peer, PEER_STREAM_ID, atLimit, PPID_BINARY); // Exactly the limit: kept.
    peerSend(peer, PEER_STREAM_ID, crypto.randomBytes(1001), PPID_BINARY); // Dropped.
    peerSend(peer, PEER_STREAM_ID, Buffer.from('after'), PPID_STRING);

    await waitUntil(() => directMessages.some((m) => m.message.toString() === 'after'), 5000, "'after'");
    assert.equal(directMessages.length, 3);
    assert.equal(directMessages[0].message.toString(), 'before');
    assert.equal(directMessages[0].ppid, PPID_STRING);
    assert.ok(directMessages[1].message.equals(atLimit));
    assert.equal(directMessages[1].ppid, PPID_BINARY);
    assert.equal(directMessages[2].message.toString(), 'after');
    assert.equal(directMessages[2].ppid, PPID_STRING);

    const dump = await transport.dump();
    assert.equal(dump.sctpDropped.tooBig, 2);
    assert.equal(dump.sctpState, 'connected');

    // Dropped messages never reached the DataProducer.
    const [producerStats] = await dataProducer.getStats();
    assert.equal(producerStats.messagesReceived, 3);
    assert.equal(producerStats.bytesReceived, 6 + 1000 + 5);
    assert.equal(peer.error, undefined);
  });

  it('closing the DataConsumer resets its outgoing stream towards the peer', async () => {
    const transport = await connectedPlainTransport();
    const directTransport = await router.createDirectTransport();
    const dataProducer = await transport.produceData({
      sctpStreamParameters: { streamId: PEER_STREAM_ID, ordered: true },
    });
    const dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id });
    assert.equal(dataConsumer.sctpStreamParameters.streamId, 0);
    const directDataConsumer = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    const directMessages = [];
    directDataConsumer.on('message', (message) => directMessages.push(message.toString()));

    // The consumer's stream carries data first (the peer then knows it).
    peerSend(peer, PEER_STREAM_ID, Buffer.from('one'), PPID_STRING);
    await waitUntil(() => peerReceived(peer, 0).length === 1, 5000, "'one' back at the peer");
    assert.equal(peer.reconfigs.length, 0);

    dataConsumer.close();
    assert.equal(dataConsumer.closed, true);

    // The engine sends a RE-CONFIG with an Outgoing SSN Reset Request for
    // stream 0 (the browser would close its DataChannel). node-sctp does not
    // answer it (no RFC 6525), so it may come more than once.
    await waitUntil(() => peer.reconfigs.length > 0, 5000, 'a RE-CONFIG chunk at the peer');
    for (const chunk of peer.reconfigs) {
      assert.deepEqual(resetStreamIds(chunk), [0]);
    }

    // The DataProducer keeps working for the others; nothing more on stream 0.
    peerSend(peer, PEER_STREAM_ID, Buffer.from('two'), PPID_STRING);
    await waitUntil(() => directMessages.length === 2, 5000, "'two' at the DirectTransport");
    assert.deepEqual(directMessages, ['one', 'two']);
    assert.equal(peerReceived(peer, 0).length, 1);
    const dump = await transport.dump();
    assert.deepEqual(dump.sctpListener.streamIdTable, [{ key: PEER_STREAM_ID, value: dataProducer.id }]);
    assert.equal(dump.sctpState, 'connected');
  });

  it("an ABORT from the peer closes the association ('closed', as mediasoup on a lost association)", async () => {
    const transport = await connectedPlainTransport();
    const onClosed = new Promise((resolve) => {
      transport.on('sctpstatechange', (state) => {
        if (state === 'closed') resolve();
      });
    });
    peer.sctpSocket.destroy(); // ABORT (User-Initiated Abort).
    await onClosed;
    assert.deepEqual(transport.sctpStates, ['connecting', 'connected', 'closed']);
    assert.equal(transport.sctpState, 'closed');
    assert.equal((await transport.dump()).sctpState, 'closed');
    assert.equal(transport.closed, false);
  });
});
