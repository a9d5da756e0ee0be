'use strict';

// Loss repair and RTCP feedback through PlainTransports, with plain UDP
// sockets playing the endpoints (no ffmpeg needed):
//
//   sender ──RTP──▶ [comedia PlainTransport → Producer]
//                         Consumer on a PlainTransport ──RTP/RTX/SR──▶ relay ──▶ receiver
//   sender ◀─NACK/PLI/RR──┘                     ◀──NACK/PLI── relay ◀──┘
//
// The relay drops a known pattern of the consumer's media packets; the
// receiver NACKs what is missing (RFC 4585 Generic NACK built by hand) and
// the consumer repairs with RTX (RFC 4588). The relay is the consumer
// transport's connected remote: the receiver's RTCP goes back through the
// relay's socket, so it arrives from the tuple the transport expects.
const assert = require('node:assert/strict');
const dgram = require('node:dgram');

const gosfu = require('../');
const { closeWorker, waitUntil } = require('./helpers');
const {
  isRtcp, parseRtp, parseRtcp, rtcpNack, rtcpPli, rtxPacket, vp8PayloadIndex, vp8PayloadIsKeyFrame, Vp8Stream,
} = require('./helpers/rtp');

const mediaCodecs = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
]);

const SENDER_SSRC = 11110000;
const SENDER_RTX_SSRC = 11110001;
const SENDER_PT = 96;
const SENDER_RTX_PT = 97;
const RECEIVER_SSRC = 99990000;
const FRAME_MS = 20;

const producerRtpParameters = Object.freeze({
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: SENDER_PT,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    },
    {
      mimeType: 'video/rtx', payloadType: SENDER_RTX_PT, clockRate: 90000, parameters: { apt: SENDER_PT },
    },
  ],
  encodings: [{ ssrc: SENDER_SSRC, rtx: { ssrc: SENDER_RTX_SSRC } }],
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Unwraps 16-bit sequence numbers against the highest one seen. */
class SeqUnwrapper {
  constructor() {
    this.highest = undefined;
  }

  /** The extended value of seq (does not move the highest). */
  peek(seq) {
    if (this.highest === undefined) return seq;
    const delta = ((seq - (this.highest & 0xffff) + 0x18000) & 0xffff) - 0x8000;
    return this.highest + delta;
  }

  update(seq) {
    const ext = this.peek(seq);
    if (this.highest === undefined || ext > this.highest) this.highest = ext;
    return ext;
  }
}

describe('PlainTransport loss repair and RTCP feedback (NACK/RTX, PLI, SR)', function () {
  this.timeout(30000);

  let worker;
  let router;
  let sockets;
  let timers;

  beforeEach(async () => {
    sockets = [];
    timers = [];
    worker = await gosfu.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs });
  });

  afterEach(async () => {
    for (const t of timers) clearInterval(t);
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

  /**
   * Producer on a comedia PlainTransport, consumer on a PlainTransport
   * connected to the relay; the sender, relay and receiver sockets.
   * Options: keyFrameRequestDelay; dropMedia(n, packet) tells the relay to
   * drop the n-th (0-based) media packet of the consumer; receiverNacks:
   * whether the receiver NACKs gaps; senderSkips: packet indices the sender
   * holds back until NACKed; answerNacks / answerPli for the sender.
   */
  async function setup({
    keyFrameRequestDelay = 0,
    dropMedia = () => false,
    receiverNacks = true,
    senderSkips = new Set(),
    answerPli = true,
  } = {}) {
    const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
    const inT = await router.createPlainTransport({ listenInfo, comedia: true });
    const outT = await router.createPlainTransport({ listenInfo });
    const producer = await inT.produce({
      kind: 'video', rtpParameters: producerRtpParameters, keyFrameRequestDelay,
    });
    const consumer = await outT.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
    const cp = consumer.rtpParameters;
    const mediaCodec = cp.codecs.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
    const rtxCodec = cp.codecs.find((c) => c.mimeType.toLowerCase() === 'video/rtx');
    assert.ok(rtxCodec, 'the consumer has an RTX codec');
    assert.equal(rtxCodec.parameters.apt, mediaCodec.payloadType);
    const c = {
      ssrc: cp.encodings[0].ssrc,
      rtxSsrc: cp.encodings[0].rtx && cp.encodings[0].rtx.ssrc,
      pt: mediaCodec.payloadType,
      rtxPt: rtxCodec.payloadType,
    };
    assert.equal(typeof c.rtxSsrc, 'number', 'the consumer has an RTX SSRC');

    const senderSocket = await bindSocket();
    const relaySocket = await bindSocket();
    const receiverSocket = await bindSocket();
    sockets.push(senderSocket, relaySocket, receiverSocket);
    const inPort = inT.tuple.localPort;
    const outPort = outT.tuple.localPort;
    const relayPort = relaySocket.address().port;
    const receiverPort = receiverSocket.address().port;

    // Sender.
    const stream = new Vp8Stream({ ssrc: SENDER_SSRC, payloadType: SENDER_PT });
    const sender = {
      stream,
      rtcp: [], // {at, entry}
      nacks: [], // NACK entries
      plis: [], // {at, entry}
      held: new Map(), // seq → info of skipped packets
      rtxSeq: 5000,
      rtxSent: 0,
      frames: 0,
      sendFrame() {
        for (const { packet, info } of stream.nextFrame()) {
          if (senderSkips.has(info.index)) {
            sender.held.set(info.seq, info);
            continue;
          }
          senderSocket.send(packet, inPort, '127.0.0.1');
        }
        sender.frames++;
      },
    };
    senderSocket.on('message', (msg) => {
      if (!isRtcp(msg)) return;
      const at = Date.now();
      for (const entry of parseRtcp(msg)) {
        sender.rtcp.push({ at, entry });
        if (entry.type === 'nack') {
          sender.nacks.push(entry);
          // Answer as a real sender: RTX for what it still has.
          for (const seq of entry.seqs) {
            const original = stream.sent.get(seq);
            if (!original) continue;
            senderSocket.send(rtxPacket({
              payloadType: SENDER_RTX_PT, seq: sender.rtxSeq++, ssrc: SENDER_RTX_SSRC, original,
            }), inPort, '127.0.0.1');
            sender.rtxSent++;
          }
        } else if (entry.type === 'pli') {
          sender.plis.push({ at, entry });
          if (answerPli) stream.requestKeyFrame();
        }
      }
    });

    // Relay: consumer → (drops) → receiver; receiver → consumer.
    const relay = {
      mediaSeen: 0, dropped: [], rtxSeen: 0, rtcpFromSfu: 0, srs: [],
    };
    relaySocket.on('message', (msg, rinfo) => {
      if (rinfo.port === outPort) {
        if (isRtcp(msg)) {
          relay.rtcpFromSfu++;
          // Note how many media packets came before each SR (the relay sees
          // the consumer's datagrams in the order they were sent).
          for (const entry of parseRtcp(msg)) {
            if (entry.type === 'sr') relay.srs.push({ at: Date.now(), entry, mediaSeen: relay.mediaSeen });
          }
        } else {
          const rtp = parseRtp(msg);
          if (rtp && rtp.ssrc === c.ssrc) {
            const n = relay.mediaSeen++;
            if (dropMedia(n, rtp)) {
              relay.dropped.push(rtp.seq);
              return;
            }
          } else if (rtp && rtp.ssrc === c.rtxSsrc) {
            relay.rtxSeen++;
          }
        }
        relaySocket.send(msg, receiverPort, '127.0.0.1');
      } else if (rinfo.port === receiverPort) {
        relaySocket.send(msg, outPort, '127.0.0.1');
      }
    });

    // Receiver.
    const unwrap = new SeqUnwrapper();
    const receiver = {
      unwrap,
      media: new Map(), // ext seq → {index, keyFrame, at}
      repaired: new Map(), // ext seq → index carried by the RTX packet
      missing: new Set(),
      nacksSent: 0,
      nackedSeqs: [],
      srs: [], // {at, entry}
      sdes: [],
      keyFrames: [], // {at, index}
      errors: [],
      firstExt: undefined,
      firstIndex: undefined,
      sendRtcp(buf) {
        receiverSocket.send(buf, relayPort, '127.0.0.1');
      },
    };
    receiverSocket.on('message', (msg) => {
      const at = Date.now();
      if (isRtcp(msg)) {
        for (const entry of parseRtcp(msg)) {
          if (entry.type === 'sr') receiver.srs.push({ at, entry });
          if (entry.type === 'sdes') receiver.sdes.push(entry);
        }
        return;
      }
      const rtp = parseRtp(msg);
      if (!rtp) {
        receiver.errors.push('not RTP');
        return;
      }
      if (rtp.ssrc === c.ssrc) {
        if (rtp.payloadType !== c.pt) receiver.errors.push(`media PT ${rtp.payloadType}`);
        const ext = unwrap.peek(rtp.seq);
        const before = unwrap.highest;
        unwrap.update(rtp.seq);
        const index = vp8PayloadIndex(rtp.payload);
        if (receiver.firstExt === undefined) {
          receiver.firstExt = ext;
          receiver.firstIndex = index;
        }
        if (receiver.media.has(ext)) receiver.errors.push(`duplicate seq ${rtp.seq}`);
        receiver.media.set(ext, { index, at });
        if (vp8PayloadIsKeyFrame(rtp.payload)) receiver.keyFrames.push({ at, index });
        receiver.missing.delete(ext);
        if (before !== undefined && ext > before + 1) {
          const lost = [];
          for (let e = before + 1; e < ext; e++) {
            receiver.missing.add(e);
            lost.push(e & 0xffff);
          }
          if (receiverNacks) {
            receiver.nacksSent++;
            receiver.nackedSeqs.push(...lost);
            receiver.sendRtcp(rtcpNack(RECEIVER_SSRC, c.ssrc, lost));
          }
        }
      } else if (rtp.ssrc === c.rtxSsrc) {
        if (rtp.payloadType !== c.rtxPt) receiver.errors.push(`RTX PT ${rtp.payloadType}`);
        const osn = rtp.payload.readUInt16BE(0);
        const ext = unwrap.peek(osn);
        receiver.repaired.set(ext, vp8PayloadIndex(rtp.payload.subarray(2)));
        receiver.missing.delete(ext);
      } else {
        receiver.errors.push(`unknown SSRC ${rtp.ssrc}`);
      }
    });

    await outT.connect({ ip: '127.0.0.1', port: relayPort });

    function stream1(frames) {
      return new Promise((resolve) => {
        let n = 0;
        const timer = setInterval(() => {
          sender.sendFrame();
          if (++n >= frames) {
            clearInterval(timer);
            resolve();
          }
        }, FRAME_MS);
        timers.push(timer);
      });
    }

    return {
      inT, outT, producer, consumer, c, sender, relay, receiver, stream: stream1,
    };
  }

  /** Every sequence number from the first to the highest arrived (as media or RTX). */
  function assertGapFree(receiver) {
    const missing = [];
    for (let e = receiver.firstExt; e <= receiver.unwrap.highest; e++) {
      if (!receiver.media.has(e) && !receiver.repaired.has(e)) missing.push(e & 0xffff);
    }
    assert.deepEqual(missing, [], 'sequence numbers never received');
  }

  /** Packet indices follow sequence numbers one to one (also inside RTX). */
  function assertIndicesMatch(receiver) {
    for (const [ext, { index }] of receiver.media) {
      assert.equal(index, receiver.firstIndex + (ext - receiver.firstExt), `index of seq ${ext & 0xffff}`);
    }
    for (const [ext, index] of receiver.repaired) {
      assert.equal(index, receiver.firstIndex + (ext - receiver.firstExt), `RTX payload of seq ${ext & 0xffff}`);
    }
  }

  it('consumer: dropped packets are NACKed by the receiver and repaired with RTX; SRs report what was sent', async () => {
    const s = await setup({ dropMedia: (n) => n % 10 === 5 });
    const startedAt = Date.now();
    await s.stream(80); // 240 packets over 1.6 s
    // Wait for everything the checks below count (on timeout they say
    // what is missing), then a short window in which a duplicate or an
    // extra packet would show.
    await waitUntil(() => s.receiver.missing.size === 0 && s.relay.mediaSeen >= 240
      && s.receiver.media.size + s.receiver.repaired.size >= 240, 10000, 'all losses repaired').catch(() => {});
    await sleep(100);
    const { receiver, relay } = s;

    assert.deepEqual(receiver.errors, []);
    assert.equal(relay.mediaSeen, 240, 'the consumer forwarded every packet once');
    assert.equal(relay.dropped.length, 24);
    assert.equal(receiver.firstIndex, 0, 'forwarding started at the first (key) frame');
    assertGapFree(receiver);
    assertIndicesMatch(receiver);
    // Exactly the dropped packets came back, as RTX, each once.
    const dropped = relay.dropped.map((seq) => receiver.unwrap.peek(seq)).sort((a, b) => a - b);
    assert.deepEqual([...receiver.repaired.keys()].sort((a, b) => a - b), dropped);
    assert.equal(relay.rtxSeen, 24);
    assert.equal(receiver.nacksSent, 24);

    const [stats] = await s.consumer.getStats();
    assert.equal(stats.type, 'outbound-rtp');
    assert.equal(stats.ssrc, s.c.ssrc);
    assert.equal(stats.rtxSsrc, s.c.rtxSsrc);
    assert.equal(stats.nackCount, 24);
    assert.equal(stats.nackPacketCount, 24);
    assert.equal(stats.packetsRetransmitted, 24);
    assert.equal(stats.packetsRepaired, 24);
    assert.equal(stats.packetCount, 240);
    const [transportStats] = await s.outT.getStats();
    assert.ok(transportStats.rtxBytesSent > 0, `rtxBytesSent ${transportStats.rtxBytesSent}`);
    // No loss on the producer leg: nothing to NACK there.
    const [producerStats] = await s.producer.getStats();
    assert.equal(producerStats.nackCount, 0);
    assert.equal(producerStats.packetCount, 240);
    assert.deepEqual(s.sender.nacks, []);

    // Sender reports for the consumer's SSRC reach the receiver, each
    // counting what the consumer had sent when it was built (RTX excluded).
    assert.ok(receiver.srs.length >= 1, 'no SR received');
    // An SR the relay just passed on may still be on its way.
    await waitUntil(() => receiver.srs.length === relay.srs.length, 3000, 'the relayed SRs at the receiver').catch(() => {});
    assert.equal(receiver.srs.length, relay.srs.length);
    const consumerSrs = relay.srs.filter((sr) => sr.entry.ssrc === s.c.ssrc);
    assert.equal(consumerSrs.length, relay.srs.length, 'SRs for other SSRCs');
    assert.ok(consumerSrs[0].at - startedAt < 2000, `first SR after ${consumerSrs[0].at - startedAt} ms`);
    for (const { entry, mediaSeen } of consumerSrs) {
      // Packets written between building the SR and sending it may be
      // ahead of it (a couple of frames at most), never behind.
      assert.ok(entry.packetCount <= mediaSeen && entry.packetCount >= mediaSeen - 6,
        `SR packetCount ${entry.packetCount}, packets seen before it ${mediaSeen}`);
      assert.ok(entry.packetCount > 0);
      assert.ok(entry.octetCount >= entry.packetCount * 100, `SR octetCount ${entry.octetCount}`);
      assert.ok(entry.ntpSeconds > 0);
    }
    // Each SR comes with an SDES CNAME chunk (compound RTCP).
    assert.ok(receiver.sdes.some((sd) => sd.chunks.some(
      (ch) => ch.ssrc === s.c.ssrc && ch.items[1] === s.consumer.rtpParameters.rtcp.cname,
    )), 'no SDES CNAME for the consumer SSRC');
  });

  it('producer: gosfu NACKs exactly the packets the sender skipped; RTX from the sender repairs them end to end', async () => {
    const skipped = new Set([10, 11, 40, 77, 100]);
    const s = await setup({ senderSkips: skipped, receiverNacks: false });
    await s.stream(40); // 120 packets
    // Wait for every packet (on timeout the checks below say what is
    // missing), then a short window in which a duplicate would show.
    await waitUntil(() => s.receiver.media.size === 120, 10000, 'every packet at the receiver').catch(() => {});
    await sleep(100);
    const { sender, receiver } = s;

    // The NACKs name the producer's SSRC and, together, exactly the skipped
    // sequence numbers.
    assert.ok(sender.nacks.length > 0, 'gosfu sent no NACK');
    for (const nack of sender.nacks) assert.equal(nack.mediaSsrc, SENDER_SSRC);
    const nacked = new Set(sender.nacks.flatMap((n) => n.seqs));
    const skippedSeqs = new Set([...sender.held.values()].map((info) => info.seq));
    assert.deepEqual([...nacked].sort((a, b) => a - b), [...skippedSeqs].sort((a, b) => a - b));
    assert.equal(sender.rtxSent >= skipped.size, true);

    const [stats] = await s.producer.getStats();
    assert.equal(stats.type, 'inbound-rtp');
    assert.equal(stats.ssrc, SENDER_SSRC);
    assert.equal(stats.rtxSsrc, SENDER_RTX_SSRC);
    assert.ok(stats.nackCount > 0, `nackCount ${stats.nackCount}`);
    assert.ok(stats.nackPacketCount >= skipped.size, `nackPacketCount ${stats.nackPacketCount}`);
    assert.ok(stats.packetsRetransmitted >= skipped.size, `packetsRetransmitted ${stats.packetsRetransmitted}`);
    assert.equal(stats.packetsRepaired, skipped.size);
    const [inStats] = await s.inT.getStats();
    assert.ok(inStats.rtxBytesReceived > 0, `rtxBytesReceived ${inStats.rtxBytesReceived}`);

    // The repaired packets reached the receiver as media, in their place.
    assert.deepEqual(receiver.errors, []);
    assert.equal(receiver.media.size, 120);
    assert.equal(receiver.repaired.size, 0);
    assertGapFree(receiver);
    assertIndicesMatch(receiver);
    const [consumerStats] = await s.consumer.getStats();
    assert.equal(consumerStats.packetCount, 120);
  });

  it('PLI: receiver → consumer → producer → sender, with keyFrameRequestDelay', async () => {
    const delay = 1000;
    const s = await setup({ keyFrameRequestDelay: delay });
    const { sender, receiver, c } = s;
    const streaming = s.stream(110); // 2.2 s
    await waitUntil(() => receiver.media.size >= 30, 3000, 'media at the receiver');
    assert.equal(sender.plis.length, 0, 'no key frame request before the PLI');
    assert.deepEqual(receiver.keyFrames.map((k) => k.index), [0]);

    // First PLI: forwarded at once.
    const pli1At = Date.now();
    receiver.sendRtcp(rtcpPli(RECEIVER_SSRC, c.ssrc));
    await waitUntil(() => sender.plis.length === 1, 1000, 'the PLI at the sender');
    const first = sender.plis[0];
    assert.equal(first.entry.mediaSsrc, SENDER_SSRC);
    assert.ok(first.at - pli1At < 700, `PLI forwarded after ${first.at - pli1At} ms`);
    assert.equal((await s.consumer.getStats())[0].pliCount, 1);
    assert.equal((await s.producer.getStats())[0].pliCount, 1);

    // Second PLI right after, within keyFrameRequestDelay: held back until
    // the delay started by the first one ends.
    const pli2At = Date.now();
    receiver.sendRtcp(rtcpPli(RECEIVER_SSRC, c.ssrc));
    // Meanwhile the sender's answer to the first (a key frame) reaches the
    // receiver.
    await waitUntil(() => receiver.keyFrames.length >= 2, 1000, 'the new key frame at the receiver');
    await waitUntil(() => sender.plis.length === 2, delay + 1000, 'the delayed PLI at the sender');
    const second = sender.plis[1];
    assert.equal(second.entry.mediaSsrc, SENDER_SSRC);
    const gap = second.at - first.at;
    assert.ok(pli2At - first.at < delay - 300, 'the second PLI must be sent well within the delay');
    assert.ok(gap >= delay - 150 && gap <= delay + 400, `delayed PLI ${gap} ms after the first (sent after ${pli2At - first.at} ms)`);
    assert.equal((await s.consumer.getStats())[0].pliCount, 2);
    assert.equal((await s.producer.getStats())[0].pliCount, 2);
    await waitUntil(() => receiver.keyFrames.length === 3, 1000, 'the second new key frame at the receiver');
    await streaming;
    assert.deepEqual(receiver.errors, []);
    assert.equal(receiver.keyFrames.length, 3);
    assertGapFree(receiver);
  });
});
