'use strict';

// router.pipeToRouter({dataProducerId}): a pipe DataConsumer on the local
// PipeTransport and a pipe DataProducer on the remote one, over the SCTP
// association of a connected PipeTransport pair (mediasoup 3.27's API and
// defaults). Real messages from a DirectTransport DataProducer in one router
// to DirectTransport DataConsumers in another router, of the same Worker or
// of another one.
const assert = require('node:assert/strict');

const gosfu = require('../');
const {
  closeWorker, waitFor, waitUntil, assertRejects, runChild, jsonLines,
} = require('./helpers');

const { NotFoundError, PipeTransport } = gosfu.types;

const mediaCodecs = Object.freeze([
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
]);

const listenInfos = Object.freeze([{ protocol: 'udp', ip: '127.0.0.1' }]);

/**
 * The PipeTransports a router creates, tracked while open; each one's
 * sctpstatechange events (emitter, observer) are in sctpStateChanges.
 */
function trackPipeTransports(router) {
  const transports = new Map();
  router.observer.on('newtransport', (transport) => {
    if (!(transport instanceof PipeTransport)) return;
    transports.set(transport.id, transport);
    sctpStateChanges.set(transport, { events: [], observer: [] });
    transport.on('sctpstatechange', (state) => sctpStateChanges.get(transport).events.push(state));
    transport.observer.on('sctpstatechange', (state) => sctpStateChanges.get(transport).observer.push(state));
    transport.observer.on('close', () => transports.delete(transport.id));
  });
  return transports;
}

const sctpStateChanges = new Map();

/** Waits until a PipeTransport's SCTP association is connected. */
async function sctpConnected(transport) {
  if (transport.sctpState !== 'connected') {
    await waitUntil(() => transport.sctpState === 'connected', 10000, `SCTP connected on ${transport.id}`);
  }
}

/** [Buffer copy, ppid] of every message a data consumer receives. */
function collectMessages(dataConsumer) {
  const messages = [];
  dataConsumer.on('message', (message, ppid) => messages.push([Buffer.from(message), ppid]));
  return messages;
}

/**
 * Sends 'bye' and waits until every data consumer got it: messages sent
 * before it over the same ordered stream have arrived (or been dropped).
 */
async function sendByeAndWait(send, dataConsumers) {
  const received = dataConsumers.map((dataConsumer) => new Promise((resolve) => {
    const onMessage = (message) => {
      if (message.toString('utf8') !== 'bye') return;
      dataConsumer.removeListener('message', onMessage);
      resolve();
    };
    dataConsumer.on('message', onMessage);
  }));
  send('bye');
  await Promise.all(received);
}

describe('pipeToRouter() with a DataProducer', () => {
  let worker1;
  let worker2;
  let routerA;
  let routerA2;
  let routerB;
  let directTransportA;
  let directDataProducer;

  beforeEach(async () => {
    worker1 = await gosfu.createWorker();
    worker2 = await gosfu.createWorker();
    routerA = await worker1.createRouter({ mediaCodecs });
    routerA2 = await worker1.createRouter({ mediaCodecs });
    routerB = await worker2.createRouter({ mediaCodecs });
    directTransportA = await routerA.createDirectTransport();
    directDataProducer = await directTransportA.produceData({
      label: 'foo', protocol: 'bar', appData: { foo: 'bar' },
    });
  });

  afterEach(async () => {
    await closeWorker(worker1);
    await closeWorker(worker2);
    worker1 = undefined;
    worker2 = undefined;
  });

  /**
   * A DirectTransport DataProducer in router A, piped to `destination`, and
   * a DirectTransport DataConsumer of it there: messages of every kind
   * (strings, binaries, empty ones, given PPIDs, a large one, 500 in a row)
   * arrive intact and in order.
   */
  async function checkMessagesAcross(destination, keepId) {
    const pipeTransportsA = trackPipeTransports(routerA);
    const pipeTransportsDest = trackPipeTransports(destination);
    const { pipeDataConsumer, pipeDataProducer } = await routerA.pipeToRouter({
      dataProducerId: directDataProducer.id, router: destination, keepId,
    });
    assert.equal(pipeTransportsA.size, 1);
    assert.equal(pipeTransportsDest.size, 1);
    const [pipeTransportA] = pipeTransportsA.values();
    const [pipeTransportDest] = pipeTransportsDest.values();
    // pipeToRouter() enables SCTP with mediasoup's defaults.
    for (const transport of [pipeTransportA, pipeTransportDest]) {
      assert.deepEqual(transport.sctpParameters, {
        port: 5000,
        maxSendMessageSize: 262144,
        maxReceiveMessageSize: 262144,
        sendBufferSize: 2000000,
        perStreamSendQueueLimit: 2000000,
        maxReceiverWindowBufferSize: 5242880,
        isDataChannel: false,
        OS: 65535,
        MIS: 65535,
        maxMessageSize: 262144,
      });
    }
    assert.deepEqual((await pipeTransportA.dump()).dataConsumerIds, [pipeDataConsumer.id]);
    assert.deepEqual((await pipeTransportDest.dump()).dataProducerIds, [pipeDataProducer.id]);

    assert.equal(pipeDataConsumer.type, 'sctp');
    assert.equal(pipeDataConsumer.dataProducerId, directDataProducer.id);
    assert.equal(pipeDataConsumer.label, 'foo');
    assert.equal(pipeDataConsumer.protocol, 'bar');
    // A direct producer: reliable and ordered.
    assert.deepEqual(pipeDataConsumer.sctpStreamParameters, {
      streamId: 0, ordered: true, maxPacketLifeTime: undefined, maxRetransmits: undefined,
    });
    assert.equal(pipeDataProducer.type, 'sctp');
    if (keepId) assert.equal(pipeDataProducer.id, directDataProducer.id);
    else assert.notEqual(pipeDataProducer.id, directDataProducer.id);
    assert.deepEqual(pipeDataProducer.sctpStreamParameters, pipeDataConsumer.sctpStreamParameters);
    assert.equal(pipeDataProducer.label, 'foo');
    assert.equal(pipeDataProducer.protocol, 'bar');
    assert.equal(pipeDataProducer.paused, false);
    assert.deepEqual(pipeDataProducer.appData, { foo: 'bar' });

    const directTransportDest = await destination.createDirectTransport();
    const dataConsumer = await directTransportDest.consumeData({ dataProducerId: pipeDataProducer.id });
    assert.equal(dataConsumer.label, 'foo');
    assert.equal(dataConsumer.protocol, 'bar');
    const messages = collectMessages(dataConsumer);

    await Promise.all([sctpConnected(pipeTransportA), sctpConnected(pipeTransportDest)]);
    for (const transport of [pipeTransportA, pipeTransportDest]) {
      const { events, observer } = sctpStateChanges.get(transport);
      assert.equal(events[events.length - 1], 'connected');
      assert.ok(events.every((state) => ['connecting', 'connected'].includes(state)), events.join());
      assert.deepEqual(observer, events);
      assert.deepEqual(transport.sctpNegotiatedCapabilities, {
        negotiatedMaxOutboundStreams: 65535, negotiatedMaxInboundStreams: 65535,
      });
    }

    const expected = [];
    const send = (message, ppid, expectedMessage, expectedPpid) => {
      directDataProducer.send(message, ppid);
      expected.push([expectedMessage, expectedPpid]);
    };
    send('hello', undefined, Buffer.from('hello'), 51);
    send('ñ€😀', undefined, Buffer.from('ñ€😀'), 51);
    send(Buffer.from([0, 1, 2, 254, 255]), undefined, Buffer.from([0, 1, 2, 254, 255]), 53);
    send('', undefined, Buffer.from(' '), 56);
    send(Buffer.alloc(0), undefined, Buffer.from([0]), 57);
    send('custom', 4242, Buffer.from('custom'), 4242);
    const large = Buffer.alloc(200000);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7) & 0xff;
    send(large, undefined, large, 53);
    for (let i = 0; i < 500; i++) send(`message ${i}`, undefined, Buffer.from(`message ${i}`), 51);
    await waitUntil(() => messages.length >= expected.length, 10000, `${expected.length} messages`);
    assert.equal(messages.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      assert.deepEqual(messages[i], expected[i], `message ${i}`);
    }

    const [pipeStat] = await pipeDataConsumer.getStats();
    assert.equal(pipeStat.type, 'data-consumer');
    assert.equal(pipeStat.messagesSent, expected.length);
    const [farStat] = await pipeDataProducer.getStats();
    assert.equal(farStat.type, 'data-producer');
    assert.equal(farStat.messagesReceived, expected.length);
    return {
      pipeDataConsumer, pipeDataProducer, pipeTransportA, pipeTransportDest, dataConsumer, messages,
    };
  }

  it('messages reach a DataConsumer in a router of another Worker, intact and in order', async () => {
    await checkMessagesAcross(routerB, true);
  });

  it('messages reach a DataConsumer in another router of the same Worker (keepId: false)', async () => {
    await checkMessagesAcross(routerA2, false);
  });

  it('keepId: true fails if both routers belong to the same Worker', async () => {
    const pipeTransportsA = trackPipeTransports(routerA);
    let error;
    try {
      await routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerA2 });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof Error, 'rejected');
    // The pipe DataConsumer created before the failure is closed again.
    assert.equal(pipeTransportsA.size, 1);
    const [pipeTransportA] = pipeTransportsA.values();
    assert.deepEqual((await pipeTransportA.dump()).dataConsumerIds, []);
    assert.deepEqual((await routerA2.dump()).mapDataProducerIdDataConsumerIds, []);
  });

  it('an SCTP DataProducer keeps its reliability across the pipe; consumers there get it too', async () => {
    const webRtcTransportA = await routerA.createWebRtcTransport({ listenInfos, enableSctp: true });
    const webRtcTransportB = await routerB.createWebRtcTransport({ listenInfos, enableSctp: true });
    const sctpDataProducer = await webRtcTransportA.produceData({
      sctpStreamParameters: { streamId: 12345, ordered: false, maxPacketLifeTime: 5000 },
      label: 'foo',
      protocol: 'bar',
    });
    const { pipeDataConsumer, pipeDataProducer } = await routerA.pipeToRouter({
      dataProducerId: sctpDataProducer.id, router: routerB,
    });
    const dump1 = await routerA.dump();
    assert.equal(dump1.transportIds.length, 3);
    const dump2 = await routerB.dump();
    assert.equal(dump2.transportIds.length, 2);
    for (const object of [pipeDataConsumer, pipeDataProducer]) {
      assert.equal(object.type, 'sctp');
      assert.equal(typeof object.sctpStreamParameters.streamId, 'number');
      assert.equal(object.sctpStreamParameters.ordered, false);
      assert.equal(object.sctpStreamParameters.maxPacketLifeTime, 5000);
      assert.equal(object.sctpStreamParameters.maxRetransmits, undefined);
      assert.equal(object.label, 'foo');
      assert.equal(object.protocol, 'bar');
    }
    assert.equal(pipeDataProducer.id, sctpDataProducer.id);
    const dataConsumer = await webRtcTransportB.consumeData({ dataProducerId: pipeDataProducer.id });
    assert.equal(dataConsumer.type, 'sctp');
    assert.equal(dataConsumer.sctpStreamParameters.ordered, false);
    assert.equal(dataConsumer.sctpStreamParameters.maxPacketLifeTime, 5000);
    assert.equal(dataConsumer.sctpStreamParameters.maxRetransmits, undefined);
    assert.equal(dataConsumer.label, 'foo');
    assert.equal(dataConsumer.protocol, 'bar');
  });

  it('close follows across the pipe, both ways', async () => {
    const {
      pipeDataConsumer, pipeDataProducer, dataConsumer,
    } = await checkMessagesAcross(routerB, true);

    // The original DataProducer closes: everything down the pipe follows.
    const events = [];
    pipeDataConsumer.on('dataproducerclose', () => events.push('pipeDataConsumer:dataproducerclose'));
    pipeDataProducer.observer.on('close', () => events.push('pipeDataProducer:close'));
    const closed = waitFor(dataConsumer, 'dataproducerclose');
    directDataProducer.close();
    await closed;
    assert.deepEqual(events, ['pipeDataConsumer:dataproducerclose', 'pipeDataProducer:close']);
    assert.equal(pipeDataConsumer.closed, true);
    assert.equal(pipeDataProducer.closed, true);
    assert.equal(dataConsumer.closed, true);
    assert.deepEqual((await routerB.dump()).mapDataProducerIdDataConsumerIds, []);

    // The pipe DataProducer closes: the pipe DataConsumer follows.
    const dataProducer2 = await directTransportA.produceData();
    const piped = await routerA.pipeToRouter({ dataProducerId: dataProducer2.id, router: routerB });
    const pipeConsumerClosed = waitFor(piped.pipeDataConsumer.observer, 'close');
    piped.pipeDataProducer.close();
    await pipeConsumerClosed;
    assert.equal(piped.pipeDataConsumer.closed, true);
    assert.equal(dataProducer2.closed, false);
    // The original can be piped again (same pipe transports, a new stream).
    const again = await routerA.pipeToRouter({ dataProducerId: dataProducer2.id, router: routerB });
    assert.equal(again.pipeDataProducer.id, dataProducer2.id);
    assert.notEqual(again.pipeDataConsumer.id, piped.pipeDataConsumer.id);

    // The pipe DataConsumer closes: the pipe DataProducer follows.
    const pipeProducerClosed = waitFor(again.pipeDataProducer.observer, 'close');
    again.pipeDataConsumer.close();
    await pipeProducerClosed;
    assert.deepEqual((await routerB.dump()).mapDataProducerIdDataConsumerIds, []);
  });

  it('closing one PipeTransport closes the other one and the data objects on both', async () => {
    const {
      pipeDataConsumer, pipeDataProducer, pipeTransportA, pipeTransportDest, dataConsumer,
    } = await checkMessagesAcross(routerB, true);
    // The pipe DataConsumer closes first (its transport's children close
    // before the transport), and its pipe DataProducer follows it.
    const closed = Promise.all([
      waitFor(pipeTransportDest.observer, 'close'),
      waitFor(pipeDataConsumer, 'transportclose'),
      waitFor(pipeDataProducer.observer, 'close'),
      waitFor(dataConsumer, 'dataproducerclose'),
    ]);
    pipeTransportA.close();
    await closed;
    assert.equal(pipeDataConsumer.closed, true);
    assert.equal(pipeTransportA.sctpState, 'closed');
    assert.equal(pipeTransportDest.sctpState, 'closed');
    assert.equal(directDataProducer.closed, false);
    // A new pair is created on the next call.
    const { pipeDataProducer: next } = await routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerB });
    assert.equal(next.closed, false);
    // The DirectTransport of the DataConsumer and the new PipeTransport.
    assert.equal((await routerB.dump()).transportIds.length, 2);
  });

  it('a Producer and a DataProducer piped at once share one PipeTransport pair', async () => {
    const pipeTransportsA = trackPipeTransports(routerA);
    const pipeTransportsB = trackPipeTransports(routerB);
    const producer = await directTransportA.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: 1111 }],
      },
    });
    const dataProducer2 = await directTransportA.produceData();
    const [media, data1, data2] = await Promise.all([
      routerA.pipeToRouter({ producerId: producer.id, router: routerB }),
      routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerB }),
      routerA.pipeToRouter({ dataProducerId: dataProducer2.id, router: routerB }),
    ]);
    assert.equal(media.pipeProducer.id, producer.id);
    assert.equal(data1.pipeDataProducer.id, directDataProducer.id);
    assert.equal(data2.pipeDataProducer.id, dataProducer2.id);
    assert.notEqual(data1.pipeDataConsumer.sctpStreamParameters.streamId, data2.pipeDataConsumer.sctpStreamParameters.streamId);
    assert.equal(pipeTransportsA.size, 1);
    assert.equal(pipeTransportsB.size, 1);
    // And from B back to A: the same pair.
    const directTransportB = await routerB.createDirectTransport();
    const dataProducerB = await directTransportB.produceData();
    await routerB.pipeToRouter({ dataProducerId: dataProducerB.id, router: routerA });
    assert.equal(pipeTransportsA.size, 1);
    assert.equal(pipeTransportsB.size, 1);

    routerA.close();
    assert.equal(pipeTransportsA.size, 0);
    assert.equal(pipeTransportsB.size, 0);
  });

  it('a paused DataProducer sends nothing across the pipe; the pipe DataConsumer learns it', async () => {
    const { pipeDataConsumer, dataConsumer, messages } = await checkMessagesAcross(routerB, true);
    messages.length = 0;
    const paused = waitFor(pipeDataConsumer, 'dataproducerpause');
    await directDataProducer.pause();
    await paused;
    assert.equal(pipeDataConsumer.dataProducerPaused, true);
    directDataProducer.send('while paused');
    const resumed = waitFor(pipeDataConsumer, 'dataproducerresume');
    await directDataProducer.resume();
    await resumed;
    await sendByeAndWait((m) => directDataProducer.send(m), [dataConsumer]);
    assert.deepEqual(messages.map(([m]) => m.toString()), ['bye']);
  });

  it('subchannels: the pipe DataConsumer filters, the final DataConsumers apply the rest', async () => {
    const pipeTransportsA = trackPipeTransports(routerA);
    const { pipeDataConsumer } = await routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerB });
    // (Messages sent before the association is up are the next test's matter.)
    await sctpConnected([...pipeTransportsA.values()][0]);
    const directTransportB = await routerB.createDirectTransport();
    const dataConsumer1 = await directTransportB.consumeData({
      dataProducerId: directDataProducer.id, subchannels: [123, 666, 777],
    });
    const dataConsumer2 = await directTransportB.consumeData({ dataProducerId: directDataProducer.id, subchannels: [111] });
    const messages1 = collectMessages(dataConsumer1);
    const messages2 = collectMessages(dataConsumer2);
    const send = (...args) => directDataProducer.send(...args);

    // Not subscribed to any subchannel, the pipe DataConsumer lets everything through.
    send('hello1', undefined, [123, 124], 666);
    await pipeDataConsumer.setSubchannels([111, 123, 124, 666]);
    send('hello2', undefined, [123], 666);
    // Through the pipe, but dataConsumer1 is not subscribed to 124.
    send('hello3', undefined, [124], 666);
    // The pipe DataConsumer is not subscribed to 125.
    send('hello4', undefined, [125], 666);
    // dataConsumer1 ignores 666; the pipe DataConsumer does not apply it itself.
    send('hello5', undefined, [123], undefined, 666);
    send('hello6', undefined, undefined, 123, 777);
    // ignoredSubchannel 111 travels with the message: only dataConsumer2 drops it.
    send('hello7', undefined, undefined, undefined, 111);
    await sendByeAndWait((m) => directDataProducer.send(m), [dataConsumer1, dataConsumer2]);

    assert.deepEqual(messages1.map(([m]) => m.toString()), ['hello1', 'hello2', 'hello7', 'bye']);
    assert.deepEqual(messages2.map(([m]) => m.toString()), ['bye']);
  });

  it('messages sent before the SCTP association is connected are queued, not lost', async () => {
    // The pipe pair by hand, so that data flows before connect().
    const pipeTransportA = await routerA.createPipeTransport({ listenInfo: listenInfos[0], enableSctp: true });
    const pipeTransportB = await routerB.createPipeTransport({ listenInfo: listenInfos[0], enableSctp: true });
    const pipeDataConsumer = await pipeTransportA.consumeData({ dataProducerId: directDataProducer.id });
    const pipeDataProducer = await pipeTransportB.produceData({
      id: directDataProducer.id,
      sctpStreamParameters: pipeDataConsumer.sctpStreamParameters,
      label: pipeDataConsumer.label,
      protocol: pipeDataConsumer.protocol,
    });
    const directTransportB = await routerB.createDirectTransport();
    const dataConsumer = await directTransportB.consumeData({ dataProducerId: pipeDataProducer.id });
    const messages = collectMessages(dataConsumer);
    for (let i = 0; i < 10; i++) directDataProducer.send(`early ${i}`);
    assert.equal(pipeTransportA.sctpState, 'new');
    const stateChanges = [];
    pipeTransportA.on('sctpstatechange', (state) => stateChanges.push(state));
    pipeTransportA.observer.on('sctpstatechange', (state) => stateChanges.push(`observer:${state}`));

    await Promise.all([
      pipeTransportA.connect({ ip: pipeTransportB.tuple.localAddress, port: pipeTransportB.tuple.localPort }),
      pipeTransportB.connect({ ip: pipeTransportA.tuple.localAddress, port: pipeTransportA.tuple.localPort }),
    ]);
    await Promise.all([sctpConnected(pipeTransportA), sctpConnected(pipeTransportB)]);
    assert.deepEqual(stateChanges.slice(-2), ['connected', 'observer:connected']);
    await waitUntil(() => messages.length >= 10, 5000, 'the 10 messages sent before connect()');
    assert.deepEqual(messages.map(([m]) => m.toString()), Array.from({ length: 10 }, (_, i) => `early ${i}`));
  });

  it('pipeDataConsumer.send() sends over SCTP to the other router\'s DataConsumers', async () => {
    const { pipeDataConsumer, dataConsumer, messages } = await checkMessagesAcross(routerB, true);
    messages.length = 0;
    const bufferedAmount = await pipeDataConsumer.send('from the pipe');
    assert.equal(typeof bufferedAmount, 'number');
    assert.equal(typeof await pipeDataConsumer.send(Buffer.from([1, 2, 3])), 'number');
    assert.equal(typeof await pipeDataConsumer.send('', 56), 'number');
    await sendByeAndWait((m) => { void pipeDataConsumer.send(m); }, [dataConsumer]);
    assert.deepEqual(messages, [
      [Buffer.from('from the pipe'), 51],
      [Buffer.from([1, 2, 3]), 53],
      [Buffer.from(' '), 56],
      [Buffer.from('bye'), 51],
    ]);
    // Once the far end acknowledged everything, nothing is buffered: with
    // a threshold of 0, 'bufferedamountlow' says when (listening first, so
    // a drain between the check and the wait is not missed).
    await pipeDataConsumer.setBufferedAmountLowThreshold(0);
    const drained = waitFor(pipeDataConsumer, 'bufferedamountlow', 5000);
    if ((await pipeDataConsumer.getBufferedAmount()) !== 0) await drained;
    else drained.catch(() => {});
    assert.equal(await pipeDataConsumer.getBufferedAmount(), 0);

    // Over maxSendMessageSize: TypeError; paused: not sent.
    await assertRejects(pipeDataConsumer.send(Buffer.alloc(262145)), TypeError,
      'given message exceeds maxMessageSize value [maxMessageSize:262144, len:262145]');
    await pipeDataConsumer.pause();
    await assertRejects(pipeDataConsumer.send('paused'), Error, 'message send failed');
  });

  it('"bufferedamountlow" after a burst; "sctpsendbufferfull" when the send buffer is full', async () => {
    const pipeTransportsA = trackPipeTransports(routerA);
    const { pipeDataConsumer, pipeDataProducer } = await routerA.pipeToRouter({
      dataProducerId: directDataProducer.id,
      router: routerB,
      sctpSendBufferSize: 30000,
      sctpPerStreamSendQueueLimit: 30000,
    });
    const [pipeTransportA] = pipeTransportsA.values();
    assert.equal(pipeTransportA.sctpParameters.sendBufferSize, 30000);
    assert.equal(pipeTransportA.sctpParameters.perStreamSendQueueLimit, 30000);
    await sctpConnected(pipeTransportA);
    const directTransportB = await routerB.createDirectTransport();
    const dataConsumer = await directTransportB.consumeData({ dataProducerId: pipeDataProducer.id });
    const messages = collectMessages(dataConsumer);

    await pipeDataConsumer.setBufferedAmountLowThreshold(5000);
    assert.equal((await pipeDataConsumer.dump()).bufferedAmountLowThreshold, 5000);
    const low = waitFor(pipeDataConsumer, 'bufferedamountlow');
    let fullEvents = 0;
    pipeDataConsumer.on('sctpsendbufferfull', () => { fullEvents++; });
    // Ten 20000-byte messages at once (the requests go out without waiting):
    // the first one fits, the 30000-byte send buffer cannot take them all.
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => pipeDataConsumer.send(Buffer.alloc(20000, i))),
    );
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(typeof results[0].value, 'number');
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.ok(rejected.length > 0, 'some sends rejected');
    for (const { reason } of rejected) {
      assert.equal(reason.constructor, Error);
      assert.equal(reason.message, 'sctpsendbufferfull');
    }
    await waitUntil(() => fullEvents === rejected.length, 5000, 'one "sctpsendbufferfull" per rejected send');
    // Once drained under the threshold: "bufferedamountlow" with the amount.
    const [amount] = await low;
    assert.equal(typeof amount, 'number');
    assert.ok(amount <= 5000, `bufferedamountlow with ${amount}`);
    const sent = results.flatMap((r, i) => (r.status === 'fulfilled' ? [[Buffer.alloc(20000, i), 53]] : []));
    await waitUntil(() => messages.length === sent.length, 5000, `${sent.length} messages`);
    assert.deepEqual(messages, sent);
  });

  it('wrong arguments reject', async () => {
    await assertRejects(routerA.pipeToRouter({ dataProducerId: '12345678', router: routerB }), NotFoundError,
      'DataProducer not found');
    await assertRejects(routerA.pipeToRouter({ dataProducerId: directDataProducer.id, producerId: 'foo', router: routerB }),
      TypeError, 'just producerId or dataProducerId can be given');
    await assertRejects(routerA.pipeToRouter({ dataProducerId: directDataProducer.id }), TypeError, 'missing router');
    await assertRejects(routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerA }), TypeError,
      'cannot use this Router as destination');
    // Without SCTP on the pipe transports, data cannot be piped.
    await assertRejects(routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerB, enableSctp: false }),
      Error, 'SCTP not enabled and not a direct Transport');
    assert.deepEqual((await routerB.dump()).mapDataProducerIdDataConsumerIds, []);
  });

  it('a bogus destination router rejects, leaves nothing behind and no unhandled rejection', async () => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const producer = await directTransportA.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: 1111 }],
        },
      });
      await assertRejects(routerA.pipeToRouter({ producerId: producer.id, router: {} }), TypeError,
        'router.addPipeTransportPair is not a function');
      await assertRejects(routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: {} }), TypeError,
        'router.addPipeTransportPair is not a function');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
      assert.deepEqual((await routerA.dump()).transportIds, [directTransportA.id]);
      // A real router still works afterwards.
      const { pipeDataProducer } = await routerA.pipeToRouter({ dataProducerId: directDataProducer.id, router: routerB });
      assert.equal(pipeDataProducer.id, directDataProducer.id);
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
    }

    // And in a process of its own, where an unhandled rejection is fatal.
    const { code, signal, stdout, stderr } = await runChild('pipe-data-child.js');
    assert.equal(code, 0, stderr);
    assert.equal(signal, null);
    assert.deepEqual(jsonLines(stdout), [
      { producer: { name: 'TypeError', message: 'router.addPipeTransportPair is not a function' } },
      { dataProducer: { name: 'TypeError', message: 'router.addPipeTransportPair is not a function' } },
      { transportIds: 1 },
      { done: true },
    ]);
  });
});
