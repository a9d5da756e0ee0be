'use strict';

// A plain SCTP peer for tests: the npm package `sctp` (pure JS SCTP, the
// peer mediasoup's own tests use) over a node dgram socket connected to a
// PlainTransport's tuple, with WebRTC's SCTP ports (5000/5000).
const dgram = require('node:dgram');

const sctp = require('sctp');

const { waitFor } = require('./index');

/**
 * A node-sctp association to `transport`'s tuple over a connected dgram
 * socket. Resolves once the association is up (the SCTP 'connect' event).
 */
async function connectPeer(transport) {
  const udpSocket = dgram.createSocket({ type: 'udp4' });
  const peer = {
    udpSocket,
    sctpSocket: undefined,
    outStreams: new Map(),
    received: new Map(),
    reconfigs: [],
    emptyHeartbeats: 0,
  };
  await new Promise((resolve, reject) => {
    udpSocket.once('error', reject);
    udpSocket.bind(0, '127.0.0.1', () => {
      udpSocket.removeListener('error', reject);
      resolve();
    });
  });
  await new Promise((resolve) => {
    udpSocket.connect(transport.tuple.localPort, transport.tuple.localAddress, resolve);
  });
  const { OS, MIS } = transport.sctpParameters;
  peer.sctpSocket = sctp.connect({
    localPort: 5000, // SCTP over UDP in mediasoup (and gosfu) uses 5000 on both ends.
    port: 5000,
    OS,
    MIS,
    udpTransport: udpSocket,
  });
  peer.sctpSocket.on('error', (error) => {
    peer.error = error || new Error('SCTP association error');
  });
  // Every incoming SCTP stream: its messages (each a Buffer with .ppid), in
  // arrival order.
  peer.sctpSocket.on('stream', (stream, streamId) => {
    const messages = [];
    peer.received.set(streamId, messages);
    stream.on('data', (data) => messages.push(data));
  });
  try {
    await waitFor(peer.sctpSocket, 'connect', 5000);
  } catch (error) {
    udpSocket.close(); // Also stops node-sctp's INIT retransmissions.
    throw error;
  }
  // node-sctp implements no stream reconfiguration (RFC 6525): its public
  // API never reports a stream reset. Its association is an EventEmitter
  // that emits every decoded chunk by type, so the RE-CONFIG chunks the
  // engine sends are recorded from there (an internal of node-sctp).
  const { association } = peer.sctpSocket;
  association.on('re_config', (chunk) => peer.reconfigs.push(chunk));
  // pion/sctp (v1.12.0 and v1.12.1) sends the HEARTBEAT of its idle
  // tail-loss probe without its mandatory Heartbeat Info parameter (the chunk
  // is marshalled through the embedded header: 04 00 00 04), and node-sctp
  // throws on such a chunk from its UDP 'message' handler. The probe only
  // fires when a PTO timer races the last SACK (seen under CPU load), so the
  // peer here ignores these chunks, as pion itself does, and counts them.
  const onHeartbeat = association.listeners('heartbeat');
  association.removeAllListeners('heartbeat');
  association.on('heartbeat', (chunk, ...rest) => {
    if (!chunk.heartbeat_info) {
      peer.emptyHeartbeats++;
      return;
    }
    for (const listener of onHeartbeat) listener.call(association, chunk, ...rest);
  });
  return peer;
}

/** Sends `data` (a Buffer) on the peer's stream `streamId` with `ppid`. */
function peerSend(peer, streamId, data, ppid) {
  if (!peer.outStreams.has(streamId)) {
    peer.outStreams.set(streamId, peer.sctpSocket.createStream(streamId));
  }
  const buffer = Buffer.from(data);
  buffer.ppid = ppid;
  peer.outStreams.get(streamId).write(buffer);
}

function peerReceived(peer, streamId) {
  return peer.received.get(streamId) || [];
}

/** Ends the peer: ABORT to the engine, then the UDP socket closes. */
async function closePeer(peer) {
  if (!peer) return;
  if (peer.sctpSocket && peer.sctpSocket.association && !peer.sctpSocket.destroyed) {
    peer.sctpSocket.destroy();
  }
  await new Promise((resolve) => {
    try {
      peer.udpSocket.close(resolve);
    } catch (error) {
      resolve(); // Already closed.
    }
  });
}

module.exports = {
  connectPeer, peerSend, peerReceived, closePeer,
};
