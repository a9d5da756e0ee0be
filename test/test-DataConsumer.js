'use strict';

// DataConsumer: the API as mediasoup 3.27's (consumeData() arguments, SCTP
// stream parameters and stream ids, properties, dump, stats, subchannels,
// pause/resume and their observer events, buffered amount, close cascades)
// on SCTP transports and DirectTransports, with the real engine.
const assert = require('node:assert/strict');

const gosfu = require('../');
const {
  waitFor, waitUntil, closeWorker, assertRejects,
} = require('./helpers');

const { InvalidStateError, NotFoundError, DataConsumer } = gosfu.types;

function deepFreeze(object) {
  for (const value of Object.values(object)) {
    if (value && typeof value === 'object') deepFreeze(value);
  }
  return Object.freeze(object);
}

const listenInfos = deepFreeze([{ protocol: 'udp', ip: '127.0.0.1' }]);

const sctpDataProducerOptions = deepFreeze({
  sctpStreamParameters: { streamId: 12345, ordered: false, maxPacketLifeTime: 5000 },
  label: 'foo',
  protocol: 'bar',
});

describe('DataConsumer', () => {
  let worker;
  let router;
  let webRtcTransport1;
  let webRtcTransport2;
  let directTransport;
  let sctpDataProducer;
  let directDataProducer;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter();
    webRtcTransport1 = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
    webRtcTransport2 = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
    directTransport = await router.createDirectTransport();
    sctpDataProducer = await webRtcTransport1.produceData(sctpDataProducerOptions);
    directDataProducer = await directTransport.produceData();
  });

  afterEach(async () => {
    gosfu.setLogEventListeners();
    await closeWorker(worker);
    worker = undefined;
  });

  it('transport.consumeData() succeeds', async () => {
    const onObserverNewDataConsumer = [];
    webRtcTransport2.observer.once('newdataconsumer', (c) => onObserverNewDataConsumer.push(c));

    const dataConsumer = await webRtcTransport2.consumeData({
      dataProducerId: sctpDataProducer.id,
      maxPacketLifeTime: 4000,
      // 0 to 65535 (others are refused, see test-bad-args.js), duplicates go.
      subchannels: [0, 1, 1, 1, 2, 65535, 100],
      appData: { baz: 'LOL' },
    });

    assert.deepEqual(onObserverNewDataConsumer, [dataConsumer]);
    assert.ok(dataConsumer instanceof DataConsumer);
    assert.equal(dataConsumer.constructor.name, 'DataConsumer');
    assert.equal(typeof dataConsumer.id, 'string');
    assert.equal(dataConsumer.dataProducerId, sctpDataProducer.id);
    assert.equal(dataConsumer.closed, false);
    assert.equal(dataConsumer.type, 'sctp');
    // The first stream id of this transport's table.
    assert.deepEqual(dataConsumer.sctpStreamParameters, {
      streamId: 0, ordered: false, maxPacketLifeTime: 4000, maxRetransmits: undefined,
    });
    assert.equal(dataConsumer.label, 'foo');
    assert.equal(dataConsumer.protocol, 'bar');
    assert.equal(dataConsumer.paused, false);
    assert.equal(dataConsumer.dataProducerPaused, false);
    assert.deepEqual(dataConsumer.subchannels, [0, 1, 2, 100, 65535]);
    assert.deepEqual(dataConsumer.appData, { baz: 'LOL' });
    // Getters return copies.
    dataConsumer.subchannels.push(7);
    dataConsumer.sctpStreamParameters.streamId = 9;
    assert.deepEqual(dataConsumer.subchannels, [0, 1, 2, 100, 65535]);
    assert.equal(dataConsumer.sctpStreamParameters.streamId, 0);

    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds.find((e) => e.key === sctpDataProducer.id),
      { key: sctpDataProducer.id, values: [dataConsumer.id] });
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId,
      [{ key: dataConsumer.id, value: sctpDataProducer.id }]);
    const transportDump = await webRtcTransport2.dump();
    assert.equal(transportDump.id, webRtcTransport2.id);
    assert.deepEqual(transportDump.dataProducerIds, []);
    assert.deepEqual(transportDump.dataConsumerIds, [dataConsumer.id]);
  });

  it('transport.consumeData() with wrong arguments rejects', async () => {
    await assertRejects(webRtcTransport2.consumeData(), TypeError, 'missing dataProducerId');
    await assertRejects(webRtcTransport2.consumeData({}), TypeError, 'missing dataProducerId');
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: 123 }), TypeError, 'missing dataProducerId');
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id, appData: 'NOT-AN-OBJECT' }),
      TypeError, 'if given, appData must be an object');
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: '12345678' }), NotFoundError,
      'DataProducer with id "12345678" not found');
    // A data producer of another router is not found either.
    const router2 = await worker.createRouter();
    const otherTransport = await router2.createDirectTransport();
    await assertRejects(otherTransport.consumeData({ dataProducerId: sctpDataProducer.id }), NotFoundError,
      `DataProducer with id "${sctpDataProducer.id}" not found`);
    // Both maxPacketLifeTime (the producer's) and maxRetransmits: the engine refuses.
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id, maxRetransmits: 2 }),
      TypeError, 'cannot provide both maxPacketLifeTime and maxRetransmits');
    // Without SCTP.
    const plainTransport = await router.createPlainTransport({ listenInfo: listenInfos[0] });
    await assertRejects(plainTransport.consumeData({ dataProducerId: sctpDataProducer.id }), Error,
      'SCTP not enabled and not a direct Transport');

    assert.deepEqual((await webRtcTransport2.dump()).dataConsumerIds, []);
    assert.deepEqual((await router.dump()).mapDataConsumerIdDataProducerId, []);
  });

  it('SCTP data consumers get consecutive stream ids and the reliability asked for', async () => {
    const dataConsumer0 = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    // ordered: true drops the producer's partial reliability.
    const dataConsumer1 = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id, ordered: true });
    const dataConsumer2 = await webRtcTransport2.consumeData({
      dataProducerId: directDataProducer.id, ordered: false, maxRetransmits: 2,
    });
    const dataConsumer3 = await webRtcTransport2.consumeData({ dataProducerId: directDataProducer.id });
    // A failed consumeData() does not keep its stream id.
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id, maxRetransmits: 2 }),
      TypeError, 'cannot provide both maxPacketLifeTime and maxRetransmits');
    dataConsumer1.close();
    const dataConsumer4 = await webRtcTransport2.consumeData({ dataProducerId: directDataProducer.id });
    // Each transport has its own table.
    const other = await webRtcTransport1.consumeData({ dataProducerId: directDataProducer.id });

    assert.deepEqual(dataConsumer0.sctpStreamParameters, {
      streamId: 0, ordered: false, maxPacketLifeTime: 5000, maxRetransmits: undefined,
    });
    assert.deepEqual(dataConsumer1.sctpStreamParameters, {
      streamId: 1, ordered: true, maxPacketLifeTime: undefined, maxRetransmits: undefined,
    });
    assert.deepEqual(dataConsumer2.sctpStreamParameters, {
      streamId: 2, ordered: false, maxPacketLifeTime: undefined, maxRetransmits: 2,
    });
    assert.deepEqual(dataConsumer3.sctpStreamParameters, {
      streamId: 3, ordered: true, maxPacketLifeTime: undefined, maxRetransmits: undefined,
    });
    // The next stream id goes on from the last one given (4 failed in the engine).
    assert.equal(dataConsumer4.sctpStreamParameters.streamId, 5);
    assert.equal(other.sctpStreamParameters.streamId, 0);
    assert.deepEqual((await webRtcTransport2.dump()).dataConsumerIds.sort(),
      [dataConsumer0.id, dataConsumer2.id, dataConsumer3.id, dataConsumer4.id].sort());
  });

  it('dataConsumer.dump() succeeds', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({
      dataProducerId: sctpDataProducer.id,
      ordered: true,
      subchannels: [0, 1, 1, 1, 2, 65535, 100],
      appData: { baz: 'LOL' },
    });
    assert.deepEqual(await dataConsumer.dump(), {
      id: dataConsumer.id,
      dataProducerId: sctpDataProducer.id,
      type: 'sctp',
      sctpStreamParameters: {
        streamId: dataConsumer.sctpStreamParameters.streamId,
        ordered: true,
        maxPacketLifeTime: undefined,
        maxRetransmits: undefined,
      },
      label: 'foo',
      protocol: 'bar',
      bufferedAmount: 0,
      // The transport's default (sctpDefaultStreamBufferedAmountLowThreshold).
      bufferedAmountLowThreshold: 1024,
      paused: false,
      dataProducerPaused: false,
      subchannels: [0, 1, 2, 100, 65535],
    });
  });

  it('dataConsumer.getStats() succeeds', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    const stats = await dataConsumer.getStats();
    assert.equal(stats.length, 1);
    assert.deepEqual(Object.keys(stats[0]).sort(), [
      'bufferedAmount', 'bytesSent', 'label', 'messagesSent', 'protocol', 'timestamp', 'type',
    ]);
    assert.equal(stats[0].type, 'data-consumer');
    assert.equal(stats[0].label, 'foo');
    assert.equal(stats[0].protocol, 'bar');
    assert.equal(stats[0].messagesSent, 0);
    assert.equal(stats[0].bytesSent, 0);
    assert.equal(stats[0].bufferedAmount, 0);
    assert.equal(typeof stats[0].timestamp, 'number');
  });

  it('dataConsumer.setSubchannels() succeeds', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    assert.deepEqual(dataConsumer.subchannels, []);
    await dataConsumer.setSubchannels([999, 999, 998, 0]);
    assert.deepEqual(dataConsumer.subchannels, [0, 998, 999]);
    assert.deepEqual((await dataConsumer.dump()).subchannels, [0, 998, 999]);
    await assertRejects(dataConsumer.setSubchannels(5), TypeError, 'subchannels must be an array');
    assert.deepEqual(dataConsumer.subchannels, [0, 998, 999]);
  });

  it('dataConsumer.addSubchannel() and removeSubchannel() succeed', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id, subchannels: [1] });
    await dataConsumer.setSubchannels([]);
    assert.deepEqual(dataConsumer.subchannels, []);
    await dataConsumer.addSubchannel(5);
    assert.deepEqual(dataConsumer.subchannels, [5]);
    await dataConsumer.addSubchannel(10);
    assert.deepEqual(dataConsumer.subchannels, [5, 10]);
    await dataConsumer.addSubchannel(5);
    assert.deepEqual(dataConsumer.subchannels, [5, 10]);
    await dataConsumer.addSubchannel(3);
    assert.deepEqual(dataConsumer.subchannels, [3, 5, 10]);
    await dataConsumer.removeSubchannel(666);
    assert.deepEqual(dataConsumer.subchannels, [3, 5, 10]);
    await dataConsumer.removeSubchannel(5);
    assert.deepEqual(dataConsumer.subchannels, [3, 10]);
    assert.deepEqual((await dataConsumer.dump()).subchannels, [3, 10]);
    await dataConsumer.setSubchannels([]);
    assert.deepEqual(dataConsumer.subchannels, []);
  });

  it('transport.consumeData() from a direct DataProducer succeeds', async () => {
    const onObserverNewDataConsumer = [];
    webRtcTransport2.observer.once('newdataconsumer', (c) => onObserverNewDataConsumer.push(c));
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: directDataProducer.id });
    assert.deepEqual(onObserverNewDataConsumer, [dataConsumer]);
    assert.equal(dataConsumer.dataProducerId, directDataProducer.id);
    assert.equal(dataConsumer.closed, false);
    assert.equal(dataConsumer.type, 'sctp');
    assert.deepEqual(dataConsumer.sctpStreamParameters, {
      streamId: 0, ordered: true, maxPacketLifeTime: undefined, maxRetransmits: undefined,
    });
    assert.equal(dataConsumer.label, '');
    assert.equal(dataConsumer.protocol, '');
    assert.equal(dataConsumer.paused, false);
    assert.deepEqual(dataConsumer.subchannels, []);
    assert.deepEqual(dataConsumer.appData, {});

    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds.find((e) => e.key === directDataProducer.id),
      { key: directDataProducer.id, values: [dataConsumer.id] });
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, [{ key: dataConsumer.id, value: directDataProducer.id }]);
    const transportDump = await webRtcTransport2.dump();
    assert.deepEqual(transportDump.dataProducerIds, []);
    assert.deepEqual(transportDump.dataConsumerIds, [dataConsumer.id]);
  });

  it('dataConsumer.dump() consuming from a direct DataProducer succeeds', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({
      dataProducerId: directDataProducer.id,
      ordered: false,
      maxRetransmits: 2,
      subchannels: [0, 1],
    });
    const dump = await dataConsumer.dump();
    assert.deepEqual(dump, {
      id: dataConsumer.id,
      dataProducerId: directDataProducer.id,
      type: 'sctp',
      sctpStreamParameters: {
        streamId: dataConsumer.sctpStreamParameters.streamId,
        ordered: false,
        maxPacketLifeTime: undefined,
        maxRetransmits: 2,
      },
      label: '',
      protocol: '',
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 1024,
      paused: false,
      dataProducerPaused: false,
      subchannels: [0, 1],
    });
  });

  it('transport.consumeData() on a DirectTransport succeeds (SCTP options ignored)', async () => {
    const warnings = [];
    gosfu.setLogEventListeners({ onwarn: (namespace, log) => warnings.push([namespace, log]) });
    const onObserverNewDataConsumer = [];
    directTransport.observer.once('newdataconsumer', (c) => onObserverNewDataConsumer.push(c));

    const dataConsumer = await directTransport.consumeData({
      dataProducerId: sctpDataProducer.id,
      paused: true,
      appData: { hehe: 'HEHE' },
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(onObserverNewDataConsumer, [dataConsumer]);
    assert.equal(dataConsumer.dataProducerId, sctpDataProducer.id);
    assert.equal(dataConsumer.closed, false);
    assert.equal(dataConsumer.type, 'direct');
    assert.equal(dataConsumer.sctpStreamParameters, undefined);
    assert.equal(dataConsumer.label, 'foo');
    assert.equal(dataConsumer.protocol, 'bar');
    assert.equal(dataConsumer.paused, true);
    assert.deepEqual(dataConsumer.appData, { hehe: 'HEHE' });
    const transportDump = await directTransport.dump();
    assert.deepEqual(transportDump.dataProducerIds, [directDataProducer.id]);
    assert.deepEqual(transportDump.dataConsumerIds, [dataConsumer.id]);

    const dataConsumer2 = await directTransport.consumeData({ dataProducerId: sctpDataProducer.id, ordered: false });
    assert.equal(dataConsumer2.sctpStreamParameters, undefined);
    assert.deepEqual(warnings, [[
      'gosfu:WARN:Transport',
      'consumeData() | ordered, maxPacketLifeTime and maxRetransmits are ignored when consuming data on a DirectTransport',
    ]]);
  });

  it('dataConsumer.dump() and getStats() on a DirectTransport succeed', async () => {
    const dataConsumer = await directTransport.consumeData({ dataProducerId: sctpDataProducer.id, paused: true });
    assert.deepEqual(await dataConsumer.dump(), {
      id: dataConsumer.id,
      dataProducerId: sctpDataProducer.id,
      type: 'direct',
      sctpStreamParameters: undefined,
      label: 'foo',
      protocol: 'bar',
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      paused: true,
      dataProducerPaused: false,
      subchannels: [],
    });
    const [stat] = await dataConsumer.getStats();
    assert.equal(stat.type, 'data-consumer');
    assert.equal(stat.label, 'foo');
    assert.equal(stat.protocol, 'bar');
    assert.equal(stat.messagesSent, 0);
    assert.equal(stat.bytesSent, 0);
  });

  it('SCTP-only methods on a DirectTransport DataConsumer reject with TypeError', async () => {
    const dataConsumer = await directTransport.consumeData({ dataProducerId: sctpDataProducer.id });
    await assertRejects(dataConsumer.send('foo'), TypeError, 'invalid DataConsumer type');
    await assertRejects(dataConsumer.getBufferedAmount(), TypeError, 'invalid DataConsumer type');
    await assertRejects(dataConsumer.setBufferedAmountLowThreshold(10), TypeError, 'invalid DataConsumer type');
    await assertRejects(dataConsumer.send(123), TypeError, 'message must be a string or a Buffer');
  });

  it('dataConsumer.setBufferedAmountLowThreshold() and getBufferedAmount() succeed', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    assert.equal(await dataConsumer.getBufferedAmount(), 0);
    await dataConsumer.setBufferedAmountLowThreshold(2048);
    assert.equal((await dataConsumer.dump()).bufferedAmountLowThreshold, 2048);
    await dataConsumer.setBufferedAmountLowThreshold(0);
    assert.equal((await dataConsumer.dump()).bufferedAmountLowThreshold, 0);
  });

  it('dataConsumer.pause() and resume() succeed', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    let pauses = 0;
    let resumes = 0;
    dataConsumer.observer.on('pause', () => { pauses++; });
    dataConsumer.observer.on('resume', () => { resumes++; });

    await dataConsumer.pause();
    assert.equal(dataConsumer.paused, true);
    assert.equal((await dataConsumer.dump()).paused, true);
    await dataConsumer.resume();
    assert.equal(dataConsumer.paused, false);
    assert.equal((await dataConsumer.dump()).paused, false);

    void dataConsumer.pause();
    void dataConsumer.resume();
    void dataConsumer.pause();
    void dataConsumer.pause();
    void dataConsumer.pause();
    await dataConsumer.resume();
    assert.equal(pauses, 3);
    assert.equal(resumes, 3);
  });

  it('dataProducer.pause() and resume() reach the DataConsumer ("dataproducerpause", "dataproducerresume")', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    const events = [];
    for (const name of ['dataproducerpause', 'dataproducerresume']) dataConsumer.on(name, () => events.push(name));
    for (const name of ['pause', 'resume']) dataConsumer.observer.on(name, () => events.push(`observer:${name}`));

    let paused = waitFor(dataConsumer, 'dataproducerpause');
    await sctpDataProducer.pause();
    await paused;
    assert.equal(dataConsumer.dataProducerPaused, true);
    assert.equal(dataConsumer.paused, false);
    assert.equal((await dataConsumer.dump()).dataProducerPaused, true);
    let resumed = waitFor(dataConsumer, 'dataproducerresume');
    await sctpDataProducer.resume();
    await resumed;
    assert.equal(dataConsumer.dataProducerPaused, false);
    assert.deepEqual(events, ['dataproducerpause', 'observer:pause', 'dataproducerresume', 'observer:resume']);

    // Paused itself: the observer sees no change when the producer pauses.
    events.length = 0;
    await dataConsumer.pause();
    paused = waitFor(dataConsumer, 'dataproducerpause');
    await sctpDataProducer.pause();
    await paused;
    // Resuming itself while the producer is paused changes nothing either.
    await dataConsumer.resume();
    await dataConsumer.pause();
    resumed = waitFor(dataConsumer, 'dataproducerresume');
    await sctpDataProducer.resume();
    await resumed;
    await dataConsumer.resume();
    assert.deepEqual(events, ['observer:pause', 'dataproducerpause', 'dataproducerresume', 'observer:resume']);

    // A data consumer of a paused data producer starts with dataProducerPaused.
    await sctpDataProducer.pause();
    const dataConsumer2 = await directTransport.consumeData({ dataProducerId: sctpDataProducer.id });
    assert.equal(dataConsumer2.dataProducerPaused, true);
    assert.equal(dataConsumer2.paused, false);
  });

  it('pause() and resume() on both ends emit in order without awaiting', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    const events = [];
    dataConsumer.observer.once('resume', () => events.push('resume'));
    dataConsumer.observer.once('pause', () => events.push('pause'));
    await Promise.all([sctpDataProducer.pause(), sctpDataProducer.resume()]);
    await waitUntil(() => events.length === 2, 5000, 'pause and resume');
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(dataConsumer.paused, false);
    assert.equal(dataConsumer.dataProducerPaused, false);
  });

  it('dataConsumer.close() succeeds', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    let closes = 0;
    dataConsumer.observer.on('close', () => { closes++; });
    dataConsumer.close();
    assert.equal(closes, 1);
    assert.equal(dataConsumer.closed, true);
    dataConsumer.close();
    assert.equal(closes, 1);
    await assertRejects(dataConsumer.dump(), InvalidStateError, 'DataConsumer closed [method:dump]');

    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds.find((e) => e.key === sctpDataProducer.id),
      { key: sctpDataProducer.id, values: [] });
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, []);
    const transportDump = await webRtcTransport2.dump();
    assert.deepEqual(transportDump.dataProducerIds, []);
    assert.deepEqual(transportDump.dataConsumerIds, []);
  });

  it('DataConsumer methods reject if closed', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    dataConsumer.close();
    const calls = {
      dump: () => dataConsumer.dump(),
      getStats: () => dataConsumer.getStats(),
      pause: () => dataConsumer.pause(),
      resume: () => dataConsumer.resume(),
      setBufferedAmountLowThreshold: () => dataConsumer.setBufferedAmountLowThreshold(10),
      getBufferedAmount: () => dataConsumer.getBufferedAmount(),
      send: () => dataConsumer.send('foo'),
      setSubchannels: () => dataConsumer.setSubchannels([1]),
      addSubchannel: () => dataConsumer.addSubchannel(1),
      removeSubchannel: () => dataConsumer.removeSubchannel(1),
    };
    for (const [method, call] of Object.entries(calls)) {
      await assertRejects(call, InvalidStateError, `DataConsumer closed [method:${method}]`);
    }
  });

  it('DataConsumer emits "dataproducerclose" if DataProducer is closed', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    const directDataConsumer = await directTransport.consumeData({ dataProducerId: sctpDataProducer.id });
    let closes = 0;
    dataConsumer.observer.on('close', () => { closes++; });
    const closed = Promise.all([
      waitFor(dataConsumer, 'dataproducerclose'),
      waitFor(directDataConsumer, 'dataproducerclose'),
    ]);
    sctpDataProducer.close();
    await closed;
    assert.equal(closes, 1);
    assert.equal(dataConsumer.closed, true);
    assert.equal(directDataConsumer.closed, true);
    await assertRejects(dataConsumer.dump(), InvalidStateError, 'DataConsumer closed [method:dump]');
    assert.deepEqual((await webRtcTransport2.dump()).dataConsumerIds, []);
    assert.deepEqual((await directTransport.dump()).dataConsumerIds, []);
    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, []);
    // Closing it afterwards is a no-op.
    dataConsumer.close();
    assert.equal(closes, 1);
  });

  it('DataConsumer emits "transportclose" if Transport is closed', async () => {
    const dataConsumer = await webRtcTransport2.consumeData({ dataProducerId: sctpDataProducer.id });
    let closes = 0;
    dataConsumer.observer.on('close', () => { closes++; });
    const closed = waitFor(dataConsumer, 'transportclose');
    webRtcTransport2.close();
    await closed;
    assert.equal(closes, 1);
    assert.equal(dataConsumer.closed, true);
    await assertRejects(dataConsumer.dump(), InvalidStateError, 'DataConsumer closed [method:dump]');
    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds.find((e) => e.key === sctpDataProducer.id),
      { key: sctpDataProducer.id, values: [] });
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, []);
  });

  it('closing the DataProducer\'s transport closes its DataConsumers ("dataproducerclose")', async () => {
    const dataConsumer = await directTransport.consumeData({ dataProducerId: sctpDataProducer.id });
    const events = [];
    dataConsumer.on('dataproducerclose', () => events.push('dataproducerclose'));
    dataConsumer.on('transportclose', () => events.push('transportclose'));
    const closed = waitFor(dataConsumer.observer, 'close');
    webRtcTransport1.close();
    await closed;
    assert.deepEqual(events, ['dataproducerclose']);
    assert.deepEqual((await directTransport.dump()).dataConsumerIds, []);
  });

  it('"message" events reach DirectTransport DataConsumers; a throwing listener does not stop them', async () => {
    const dataConsumer = await directTransport.consumeData({ dataProducerId: directDataProducer.id });
    const listenerErrors = [];
    const messages = [];
    dataConsumer.on('listenererror', (eventName, error) => listenerErrors.push([eventName, error.message]));
    dataConsumer.on('message', (message, ppid) => messages.push([message.toString(), ppid]));
    dataConsumer.once('message', () => { throw new Error('boom'); });
    directDataProducer.send('one');
    directDataProducer.send(Buffer.from('two'));
    await waitUntil(() => messages.length === 2, 5000, 'two messages');
    assert.deepEqual(listenerErrors, [['message', 'boom']]);
    assert.deepEqual(messages, [['one', 51], ['two', 53]]);
  });

  it('a paused DataConsumer gets no messages until resumed', async () => {
    const dataConsumer = await directTransport.consumeData({ dataProducerId: directDataProducer.id, paused: true });
    const other = await directTransport.consumeData({ dataProducerId: directDataProducer.id });
    const messages = [];
    const otherMessages = [];
    dataConsumer.on('message', (message) => messages.push(message.toString()));
    other.on('message', (message) => otherMessages.push(message.toString()));
    directDataProducer.send('while paused');
    await waitUntil(() => otherMessages.length === 1, 5000, 'the message on the other consumer');
    await dataConsumer.resume();
    directDataProducer.send('resumed');
    await waitUntil(() => otherMessages.length === 2, 5000, 'the second message on the other consumer');
    await waitUntil(() => messages.length === 1, 5000, 'the message after resume');
    assert.deepEqual(messages, ['resumed']);
    const [stat] = await dataConsumer.getStats();
    assert.equal(stat.messagesSent, 1);
  });
});
