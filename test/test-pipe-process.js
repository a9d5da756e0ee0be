'use strict';

// A room split over two Node processes, each with its own gosfu worker,
// joined by a pair of PipeTransports over loopback (what mediasoup users do
// to scale beyond one process):
// - data: a DirectTransport DataProducer here, a pipe DataConsumer on a
//   PipeTransport (SCTP over UDP) to a PipeTransport in the child, whose
//   DirectTransport DataConsumer reports the messages back over IPC;
// - media: audio and video producers here on a PlainTransport fed by a UDP
//   socket, piped to the child's router, consumed there on PlainTransports
//   whose receiving sockets are here.
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const path = require('node:path');
const { fork } = require('node:child_process');

const gosfu = require('..');
const { closeWorker, waitFor, waitUntil } = require('./helpers');
const {
  isRtcp, parseRtcp, parseRtp, rtcpPli, rtpPacket, vp8PayloadIsKeyFrame, Vp8Stream,
} = require('./helpers/rtp');

function nextMessage(child, predicate, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.removeListener('message', onMessage);
      reject(new Error('timeout waiting for the child'));
    }, ms);
    function onMessage(msg) {
      if (msg.error) {
        clearTimeout(timer);
        child.removeListener('message', onMessage);
        reject(new Error(`child: ${msg.error}`));
      } else if (predicate(msg)) {
        clearTimeout(timer);
        child.removeListener('message', onMessage);
        resolve(msg);
      }
    }
    child.on('message', onMessage);
  });
}

describe('DataProducer piped to another Node process (PipeTransport with SCTP)', function () {
  this.timeout(30000);
  let worker;
  let child;

  afterEach(async () => {
    if (child && child.connected) {
      child.send({ exit: true });
      await new Promise((resolve) => child.once('exit', resolve));
    }
    child = undefined;
    await closeWorker(worker);
  });

  it('delivers messages intact and in order', async () => {
    child = fork(path.join(__dirname, 'helpers', 'pipe-remote-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const received = [];
    child.on('message', (msg) => {
      if (msg.message !== undefined) received.push({ message: Buffer.from(msg.message, 'base64'), ppid: msg.ppid });
    });
    child.send({ listen: true });
    const { tuple } = await nextMessage(child, (m) => m.tuple);

    worker = await gosfu.createWorker();
    const router = await worker.createRouter();
    const direct = await router.createDirectTransport();
    const source = await direct.produceData({ label: 'telemetry', protocol: 'json' });
    const pipe = await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSctp: true });
    await pipe.connect({ ip: tuple.localAddress, port: tuple.localPort });
    const pipeConsumer = await pipe.consumeData({ dataProducerId: source.id });
    assert.equal(pipeConsumer.type, 'sctp');
    child.send({
      connect: true,
      ip: pipe.tuple.localAddress,
      port: pipe.tuple.localPort,
      id: source.id,
      sctpStreamParameters: pipeConsumer.sctpStreamParameters,
      label: pipeConsumer.label,
      protocol: pipeConsumer.protocol,
    });
    const ready = await nextMessage(child, (m) => m.ready);
    assert.equal(ready.label, 'telemetry');
    assert.equal(ready.protocol, 'json');
    await waitUntil(() => pipe.sctpState === 'connected', 10000, 'SCTP connected on the pipe');

    const sent = [];
    for (let i = 0; i < 500; i++) {
      const message = i % 50 === 0 ? Buffer.alloc(100000, i % 256) : `message ${i}`;
      sent.push(message);
      source.send(message);
      if (i % 50 === 0) {
        // As an application would: let a big message drain before more.
        while ((await pipeConsumer.getBufferedAmount()) > 1000000) await new Promise((r) => setImmediate(r));
      }
    }
    await waitUntil(() => received.length === sent.length, 15000, 'every message in the child');
    received.forEach(({ message, ppid }, i) => {
      const expected = sent[i];
      if (typeof expected === 'string') {
        assert.equal(ppid, 51, `message ${i} ppid`);
        assert.equal(message.toString(), expected, `message ${i}`);
      } else {
        assert.equal(ppid, 53, `message ${i} ppid`);
        assert.ok(message.equals(expected), `binary message ${i} intact`);
      }
    });
    const [stats] = await pipeConsumer.getStats();
    assert.equal(stats.messagesSent, sent.length);

    // Closing the source closes the pipe consumer here (across processes
    // the application tells the other side, as with mediasoup).
    source.close();
    assert.equal(pipeConsumer.closed, true);
  });
});

/**
 * Calls into a child driven by {reqId, op, ...args} requests (as
 * test/helpers/pipe-media-child.js is): call(op, args) resolves with its
 * result, rejects with its error or when the child exits first.
 */
function rpcClient(child) {
  let nextId = 1;
  const pending = new Map();
  child.on('message', (msg) => {
    const entry = msg.reqId !== undefined && pending.get(msg.reqId);
    if (!entry) return;
    pending.delete(msg.reqId);
    if (msg.error) entry.reject(new Error(`child ${entry.op}: ${msg.error}`));
    else entry.resolve(msg.result);
  });
  child.on('exit', (code) => {
    for (const entry of pending.values()) entry.reject(new Error(`child exited (${code}) during ${entry.op}`));
    pending.clear();
  });
  return (op, args = {}) => new Promise((resolve, reject) => {
    if (!child.connected) {
      reject(new Error(`child gone before ${op}`));
      return;
    }
    const reqId = nextId++;
    pending.set(reqId, { op, resolve, reject });
    child.send({ reqId, op, ...args });
  });
}

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

describe('Producers in this process, consumers in another (PipeTransport pair over loopback)', function () {
  this.timeout(30000);

  const mediaCodecs = [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  ];
  const AUDIO_SSRC = 22220000;
  const VIDEO_SSRC = 33330000;
  const AUDIO_PT = 100;
  const VIDEO_PT = 96;
  const RECEIVER_SSRC = 44440000;
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };

  let worker;
  let child;
  let sockets;

  beforeEach(() => {
    sockets = [];
  });

  afterEach(async () => {
    for (const socket of sockets) socket.close();
    if (child && child.connected) {
      const exited = waitFor(child, 'exit', 10000);
      child.send({ op: 'exit' });
      await exited;
    }
    child = undefined;
    await closeWorker(worker);
  });

  for (const { enableSrtp, enableRtx } of [{ enableSrtp: false, enableRtx: false }, { enableSrtp: true, enableRtx: true }]) {
    it(`forwards audio and video intact, carries PLIs back and follows close${enableSrtp ? ' (SRTP, RTX)' : ''}`, async () => {
      child = fork(path.join(__dirname, 'helpers', 'pipe-media-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const call = rpcClient(child);
      const closedInChild = []; // consumer ids that got 'producerclose' in the child
      child.on('message', (msg) => {
        if (msg.event === 'producerclose') closedInChild.push(msg.consumerId);
      });

      // Process A (here): producers on a comedia PlainTransport, and a pipe.
      const far = await call('listen', { enableSrtp, enableRtx });
      worker = await gosfu.createWorker({ logLevel: 'warn' });
      const router = await worker.createRouter({ mediaCodecs });
      const inT = await router.createPlainTransport({ listenInfo, comedia: true });
      const audioProducer = await inT.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{
            mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2,
          }],
          encodings: [{ ssrc: AUDIO_SSRC }],
        },
      });
      const videoProducer = await inT.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{
            mimeType: 'video/VP8',
            payloadType: VIDEO_PT,
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          }],
          encodings: [{ ssrc: VIDEO_SSRC }],
        },
      });

      // The pipe pair, endpoints and keys exchanged over the signalling (IPC).
      const pipe = await router.createPipeTransport({ listenInfo, enableSrtp, enableRtx });
      await pipe.connect({ ip: far.tuple.localAddress, port: far.tuple.localPort, srtpParameters: far.srtpParameters });
      await call('connect', { ip: pipe.tuple.localAddress, port: pipe.tuple.localPort, srtpParameters: pipe.srtpParameters });

      // What router.pipeToRouter() does within one process, split between
      // the two: a pipe consumer here, a producer with the same id and the
      // pipe consumer's parameters there. Closing follows as pipeToRouter()
      // wires it, through the signalling: the pipe consumer closes with its
      // producer here, and the application closes the piped producer there.
      const pipeConsumers = {};
      for (const producer of [audioProducer, videoProducer]) {
        const pipeConsumer = await pipe.consume({ producerId: producer.id });
        await call('produce', {
          id: producer.id,
          kind: pipeConsumer.kind,
          rtpParameters: pipeConsumer.rtpParameters,
          paused: pipeConsumer.producerPaused,
        });
        pipeConsumer.observer.on('close', () => {
          call('closeProducer', { id: producer.id }).catch(() => {}); // the child may be gone
        });
        pipeConsumers[producer.kind] = pipeConsumer;
      }

      // Process B's consumers: two receivers, each a PlainTransport there
      // (comedia off, connected to a socket here) with an audio and a video
      // consumer.
      const receivers = [];
      for (let i = 0; i < 2; i++) {
        const socket = await bindSocket();
        sockets.push(socket);
        const receiver = {
          socket, audio: [], video: [], consumers: {}, localPort: undefined,
        };
        for (const producer of [audioProducer, videoProducer]) {
          const c = await call('consume', { producerId: producer.id, ip: '127.0.0.1', port: socket.address().port });
          assert.equal(c.kind, producer.kind);
          receiver.consumers[c.kind] = { id: c.id, ssrc: c.rtpParameters.encodings[0].ssrc, pt: c.rtpParameters.codecs[0].payloadType };
          receiver.localPort = c.localPort;
        }
        socket.on('message', (buf) => {
          if (isRtcp(buf)) return;
          const rtp = parseRtp(buf);
          const kind = Object.keys(receiver.consumers).find((k) => receiver.consumers[k].ssrc === rtp.ssrc);
          assert.ok(kind, `RTP with an unknown SSRC ${rtp.ssrc}`);
          receiver[kind].push(rtp);
        });
        receivers.push(receiver);
      }
      assert.notEqual(receivers[0].consumers.video.ssrc, receivers[1].consumers.video.ssrc);

      // The sender: VP8 frames of 3 packets and one opus packet per frame,
      // each payload unique; it answers PLIs with a key frame.
      const sender = await bindSocket();
      sockets.push(sender);
      const video = new Vp8Stream({ ssrc: VIDEO_SSRC, payloadType: VIDEO_PT, size: 300 });
      const audio = { seq: 7000, timestamp: 48000 };
      const sent = { audio: [], video: [] };
      const plisAtSender = [];
      sender.on('message', (buf) => {
        if (!isRtcp(buf)) return;
        for (const entry of parseRtcp(buf)) {
          if (entry.type === 'pli' && entry.mediaSsrc === VIDEO_SSRC) {
            plisAtSender.push(entry);
            video.requestKeyFrame();
          }
        }
      });
      const inPort = inT.tuple.localPort;
      const sendFrames = async (frames) => {
        for (let f = 0; f < frames; f++) {
          for (const { packet, info } of video.nextFrame()) {
            sender.send(packet, inPort, '127.0.0.1');
            sent.video.push(info);
          }
          const payload = Buffer.alloc(80);
          payload.writeUInt32BE(sent.audio.length, 0);
          payload.fill(sent.audio.length & 0xff, 4);
          const info = {
            seq: audio.seq & 0xffff, timestamp: audio.timestamp, marker: false, payload,
          };
          sender.send(rtpPacket({ payloadType: AUDIO_PT, ssrc: AUDIO_SSRC, ...info }), inPort, '127.0.0.1');
          sent.audio.push(info);
          audio.seq++;
          audio.timestamp += 960;
        }
        await waitUntil(
          () => receivers.every((r) => r.audio.length >= sent.audio.length && r.video.length >= sent.video.length),
          10000,
          `${sent.audio.length} audio and ${sent.video.length} video packets at every receiver`,
        );
      };

      const assertReceived = () => {
        for (const [r, receiver] of receivers.entries()) {
          for (const kind of ['audio', 'video']) {
            const got = receiver[kind];
            const { ssrc, pt } = receiver.consumers[kind];
            const what = `receiver ${r} ${kind}`;
            assert.equal(got.length, sent[kind].length, `${what}: packet count`);
            got.forEach((p, i) => {
              const s = sent[kind][i];
              assert.equal(p.ssrc, ssrc, `${what} ${i}: the consumer's SSRC`);
              assert.equal(p.payloadType, pt, `${what} ${i}: payload type`);
              assert.equal(p.marker, s.marker, `${what} ${i}: marker`);
              assert.ok(p.payload.equals(s.payload), `${what} ${i}: payload intact`);
              if (i > 0) {
                // In order, without a gap, timestamps moving as the sender's.
                assert.equal(p.seq, (got[i - 1].seq + 1) & 0xffff, `${what} ${i}: sequence`);
                assert.equal((p.timestamp - got[i - 1].timestamp) >>> 0, (s.timestamp - sent[kind][i - 1].timestamp) >>> 0,
                  `${what} ${i}: timestamp delta`);
              }
            });
          }
        }
      };

      // Bursts, each awaited at every receiver before the next.
      for (let b = 0; b < 3; b++) await sendFrames(10);
      assertReceived();
      assert.equal(vp8PayloadIsKeyFrame(receivers[0].video[0].payload), true);

      // A PLI from a receiver in B reaches the sender through both
      // processes: B's consumer counts it, A's pipe consumer gets it over the
      // pipe, A's producer sends it to the sender, which answers with a key
      // frame that reaches every receiver.
      const pliCount = (stats, type) => stats.find((s) => s.type === type).pliCount;
      const target = receivers[0].consumers.video;
      const before = {
        bConsumer: pliCount(await call('stats', { id: target.id }), 'outbound-rtp'),
        aPipeConsumer: pliCount(await pipeConsumers.video.getStats(), 'outbound-rtp'),
        aProducer: pliCount(await videoProducer.getStats(), 'inbound-rtp'),
        sender: plisAtSender.length,
      };
      receivers[0].socket.send(rtcpPli(RECEIVER_SSRC, target.ssrc), receivers[0].localPort, '127.0.0.1');
      await waitUntil(async () => pliCount(await call('stats', { id: target.id }), 'outbound-rtp') === before.bConsumer + 1,
        5000, 'the PLI counted by the consumer in B', 20);
      await waitUntil(async () => pliCount(await pipeConsumers.video.getStats(), 'outbound-rtp') > before.aPipeConsumer,
        5000, 'the PLI at the pipe consumer in A', 20);
      await waitUntil(async () => pliCount(await videoProducer.getStats(), 'inbound-rtp') > before.aProducer,
        5000, 'a PLI sent by the producer in A', 20);
      await waitUntil(() => plisAtSender.length > before.sender, 5000, 'the PLI at the sender');
      const keyFrameAt = sent.video.length;
      await sendFrames(1);
      assertReceived();
      for (const receiver of receivers) assert.equal(vp8PayloadIsKeyFrame(receiver.video[keyFrameAt].payload), true);

      // Closing the producer in A closes its pipe consumer; the signalling
      // closes the piped producer in B, whose consumers get 'producerclose'.
      const videoIds = receivers.map((r) => r.consumers.video.id);
      const pipeClosed = waitFor(pipeConsumers.video, 'producerclose');
      videoProducer.close();
      await pipeClosed;
      assert.equal(pipeConsumers.video.closed, true);
      await waitUntil(() => videoIds.every((id) => closedInChild.includes(id)), 5000, 'producerclose on the video consumers in B');
      assert.deepEqual([...closedInChild].sort(), [...videoIds].sort());
      // Audio still crosses.
      const audioBefore = sent.audio.length;
      sent.video = [];
      for (const receiver of receivers) receiver.video = [];
      const payload = Buffer.from('still here');
      sender.send(rtpPacket({
        payloadType: AUDIO_PT, ssrc: AUDIO_SSRC, seq: audio.seq, timestamp: audio.timestamp, payload,
      }), inPort, '127.0.0.1');
      await waitUntil(() => receivers.every((r) => r.audio.length > audioBefore), 5000, 'audio after the video producer closed');
      for (const receiver of receivers) assert.ok(receiver.audio[audioBefore].payload.equals(payload));
    });
  }
});
