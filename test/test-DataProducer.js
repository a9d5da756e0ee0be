'use strict';

// DataProducer: the API as mediasoup 3.27's (produceData() validation and
// defaults, properties, dump, stats, pause/resume, close cascades) and
// dataProducer.send() on a DirectTransport (PPIDs, order, pause, over-size
// messages, subchannels) with real messages through the engine.
const assert = require('node:assert/strict');

const gosfu = require('../');
const {
  waitFor, waitUntil, closeWorker, assertRejects, assertThrows,
} = require('./helpers');

const {
  InvalidStateError, WorkerClosedError, NotFoundError, DataProducer,
} = gosfu.types;

function deepFreeze(object) {
  for (const value of Object.values(object)) {
    if (value && typeof value === 'object') deepFreeze(value);
  }
  return Object.freeze(object);
}

const listenInfos = deepFreeze([{ protocol: 'udp', ip: '127.0.0.1' }]);

const dataProducerOptions1 = deepFreeze({
  sctpStreamParameters: { streamId: 666 },
  label: 'foo',
  protocol: 'bar',
  appData: { foo: 1, bar: '2' },
});

const dataProducerOptions2 = deepFreeze({
  sctpStreamParameters: { streamId: 777, maxRetransmits: 3 },
  label: 'foo',
  protocol: 'bar',
  paused: true,
  appData: { foo: 1, bar: '2' },
});

/** The data producer ids of a router dump (mediasoup has no dataProducerIds there). */
function routerDataProducerIds(routerDump) {
  return routerDump.mapDataProducerIdDataConsumerIds.map(({ key }) => key).sort();
}

/** Collects the log lines of the given level while a test runs. */
function captureLogs(level) {
  const logs = [];
  gosfu.setLogEventListeners({ [level]: (namespace, log) => logs.push([namespace, log]) });
  return logs;
}

/** Messages a data consumer receives, as [text, ppid] (or [Buffer, ppid] with raw). */
function collectMessages(dataConsumer, { raw = false } = {}) {
  const messages = [];
  dataConsumer.on('message', (message, ppid) => {
    assert.ok(Buffer.isBuffer(message));
    messages.push([raw ? Buffer.from(message) : message.toString('utf8'), ppid]);
  });
  return messages;
}

/**
 * Sends a last 'bye' message and waits for every given data consumer to
 * get it: messages sent before it have been delivered (or dropped) by then.
 */
async function sendByeAndWait(dataProducer, dataConsumers) {
  const received = dataConsumers.map((dataConsumer) => new Promise((resolve) => {
    const onMessage = (message) => {
      if (message.toString('utf8') !== 'bye') return;
      dataConsumer.removeListener('message', onMessage);
      resolve();
    };
    dataConsumer.on('message', onMessage);
  }));
  dataProducer.send('bye');
  await Promise.all(received);
}

describe('DataProducer', () => {
  let worker;
  let router;
  let webRtcTransport1;
  let webRtcTransport2;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter();
    webRtcTransport1 = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
    webRtcTransport2 = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
  });

  afterEach(async () => {
    gosfu.setLogEventListeners();
    await closeWorker(worker);
    worker = undefined;
  });

  it('webRtcTransport1.produceData() succeeds', async () => {
    const onObserverNewDataProducer = [];
    webRtcTransport1.observer.once('newdataproducer', (p) => onObserverNewDataProducer.push(p));

    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);

    assert.equal(onObserverNewDataProducer.length, 1);
    assert.equal(onObserverNewDataProducer[0], dataProducer1);
    assert.ok(dataProducer1 instanceof DataProducer);
    assert.equal(dataProducer1.constructor.name, 'DataProducer');
    assert.equal(typeof dataProducer1.id, 'string');
    assert.equal(dataProducer1.closed, false);
    assert.equal(dataProducer1.type, 'sctp');
    assert.deepEqual(dataProducer1.sctpStreamParameters, {
      streamId: 666, ordered: true, maxPacketLifeTime: undefined, maxRetransmits: undefined,
    });
    assert.equal(dataProducer1.label, 'foo');
    assert.equal(dataProducer1.protocol, 'bar');
    assert.equal(dataProducer1.paused, false);
    assert.deepEqual(dataProducer1.appData, { foo: 1, bar: '2' });
    // appData is the given object's value, replaceable.
    dataProducer1.appData = { baz: 3 };
    assert.deepEqual(dataProducer1.appData, { baz: 3 });
    // The getter returns a copy.
    dataProducer1.sctpStreamParameters.streamId = 1;
    assert.equal(dataProducer1.sctpStreamParameters.streamId, 666);

    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds, [{ key: dataProducer1.id, values: [] }]);
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, []);

    const transportDump = await webRtcTransport1.dump();
    assert.equal(transportDump.id, webRtcTransport1.id);
    assert.deepEqual(transportDump.dataProducerIds, [dataProducer1.id]);
    assert.deepEqual(transportDump.dataConsumerIds, []);
    assert.deepEqual(transportDump.sctpListener, { streamIdTable: [{ key: 666, value: dataProducer1.id }] });
  });

  it('webRtcTransport2.produceData() succeeds', async () => {
    const onObserverNewDataProducer = [];
    webRtcTransport2.observer.once('newdataproducer', (p) => onObserverNewDataProducer.push(p));

    const dataProducer2 = await webRtcTransport2.produceData(dataProducerOptions2);

    assert.deepEqual(onObserverNewDataProducer, [dataProducer2]);
    assert.equal(dataProducer2.closed, false);
    assert.equal(dataProducer2.type, 'sctp');
    // maxRetransmits without ordered makes it unordered.
    assert.deepEqual(dataProducer2.sctpStreamParameters, {
      streamId: 777, ordered: false, maxPacketLifeTime: undefined, maxRetransmits: 3,
    });
    assert.equal(dataProducer2.label, 'foo');
    assert.equal(dataProducer2.protocol, 'bar');
    assert.equal(dataProducer2.paused, true);
    assert.deepEqual(dataProducer2.appData, { foo: 1, bar: '2' });

    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds, [{ key: dataProducer2.id, values: [] }]);
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, []);
    const transportDump = await webRtcTransport2.dump();
    assert.deepEqual(transportDump.dataProducerIds, [dataProducer2.id]);
    assert.deepEqual(transportDump.dataConsumerIds, []);
  });

  it('transport.produceData() with an id and defaults succeeds', async () => {
    const dataProducer = await webRtcTransport1.produceData({
      id: 'my-data-producer',
      sctpStreamParameters: { streamId: 1, ordered: false, maxPacketLifeTime: 4000 },
    });
    assert.equal(dataProducer.id, 'my-data-producer');
    assert.equal(dataProducer.label, '');
    assert.equal(dataProducer.protocol, '');
    assert.equal(dataProducer.paused, false);
    assert.deepEqual(dataProducer.appData, {});
    assert.deepEqual(dataProducer.sctpStreamParameters, {
      streamId: 1, ordered: false, maxPacketLifeTime: 4000, maxRetransmits: undefined,
    });
    // Without options at all, SCTP transports need sctpStreamParameters.
    await assertRejects(webRtcTransport1.produceData(), TypeError, 'params is not an object');
  });

  it('transport.produceData() with wrong arguments rejects with TypeError', async () => {
    await assertRejects(webRtcTransport1.produceData({}), TypeError, 'params is not an object');
    await assertRejects(webRtcTransport1.produceData({ sctpStreamParameters: 'foo' }), TypeError,
      'params is not an object');
    await assertRejects(webRtcTransport1.produceData({ sctpStreamParameters: { foo: 'foo' } }), TypeError,
      'missing params.streamId');
    await assertRejects(webRtcTransport1.produceData({ sctpStreamParameters: { streamId: '1' } }), TypeError,
      'missing params.streamId');
    await assertRejects(webRtcTransport1.produceData({
      sctpStreamParameters: { streamId: 1, maxPacketLifeTime: 'foo' },
    }), TypeError, 'invalid params.maxPacketLifeTime');
    await assertRejects(webRtcTransport1.produceData({
      sctpStreamParameters: { streamId: 1, maxRetransmits: 'foo' },
    }), TypeError, 'invalid params.maxRetransmits');
    await assertRejects(webRtcTransport1.produceData({
      sctpStreamParameters: { streamId: 1, maxPacketLifeTime: 4000, maxRetransmits: 3 },
    }), TypeError, 'cannot provide both maxPacketLifeTime and maxRetransmits');
    await assertRejects(webRtcTransport1.produceData({
      sctpStreamParameters: { streamId: 999, ordered: true, maxPacketLifeTime: 4000 },
    }), TypeError, 'cannot be ordered with maxPacketLifeTime or maxRetransmits');
    await assertRejects(webRtcTransport1.produceData({
      sctpStreamParameters: { streamId: 999, ordered: true, maxRetransmits: 1 },
    }), TypeError, 'cannot be ordered with maxPacketLifeTime or maxRetransmits');
    await assertRejects(webRtcTransport1.produceData({
      ...dataProducerOptions1, appData: 'NOT-AN-OBJECT',
    }), TypeError, 'if given, appData must be an object');
    // The engine's own check.
    await assertRejects(webRtcTransport1.produceData({ sctpStreamParameters: { streamId: 65535 } }), TypeError,
      'streamId must not be greater than 65534');

    // Nothing was created.
    assert.deepEqual((await webRtcTransport1.dump()).dataProducerIds, []);
    assert.deepEqual((await router.dump()).mapDataProducerIdDataConsumerIds, []);
  });

  it('transport.produceData() with an already used streamId or id rejects', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    await assertRejects(webRtcTransport1.produceData({ sctpStreamParameters: { streamId: 666 } }), Error,
      'streamId already exists in SCTP listener [streamId:666]');
    await assertRejects(webRtcTransport1.produceData({ id: dataProducer1.id, sctpStreamParameters: { streamId: 1 } }),
      TypeError, `a DataProducer with same id "${dataProducer1.id}" already exists`);
    // Another transport can use the same stream id.
    const dataProducer2 = await webRtcTransport2.produceData({ sctpStreamParameters: { streamId: 666 } });
    assert.equal(dataProducer2.sctpStreamParameters.streamId, 666);
    assert.deepEqual((await webRtcTransport1.dump()).dataProducerIds, [dataProducer1.id]);
  });

  it('transport.produceData() on a transport without SCTP rejects with Error', async () => {
    const plainTransport = await router.createPlainTransport({ listenInfo: listenInfos[0] });
    assert.equal(plainTransport.sctpParameters, undefined);
    assert.equal(plainTransport.sctpState, undefined);
    await assertRejects(plainTransport.produceData(dataProducerOptions1), Error,
      'SCTP not enabled and not a direct Transport');
    const webRtcTransport3 = await router.createWebRtcTransport({ listenInfos });
    await assertRejects(webRtcTransport3.produceData(dataProducerOptions1), Error,
      'SCTP not enabled and not a direct Transport');
  });

  it('produceData() and consumeData() on a closed transport reject with InvalidStateError', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    webRtcTransport2.close();
    await assertRejects(webRtcTransport2.produceData(dataProducerOptions2), InvalidStateError,
      'Transport closed [method:produceData]');
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: dataProducer1.id }), InvalidStateError,
      'Transport closed [method:consumeData]');
    // Argument errors come first.
    await assertRejects(webRtcTransport2.consumeData({}), TypeError, 'missing dataProducerId');
    await assertRejects(webRtcTransport2.produceData({}), TypeError, 'params is not an object');
  });

  it('directTransport.produceData() succeeds and ignores sctpStreamParameters', async () => {
    const warnings = captureLogs('onwarn');
    const directTransport = await router.createDirectTransport();
    const onObserverNewDataProducer = [];
    directTransport.observer.on('newdataproducer', (p) => onObserverNewDataProducer.push(p));

    const dataProducer1 = await directTransport.produceData();
    assert.equal(dataProducer1.type, 'direct');
    assert.equal(dataProducer1.sctpStreamParameters, undefined);
    assert.equal(dataProducer1.label, '');
    assert.equal(dataProducer1.protocol, '');
    assert.equal(dataProducer1.paused, false);
    assert.deepEqual(warnings, []);

    const dataProducer2 = await directTransport.produceData(dataProducerOptions2);
    assert.equal(dataProducer2.type, 'direct');
    assert.equal(dataProducer2.sctpStreamParameters, undefined);
    assert.equal(dataProducer2.label, 'foo');
    assert.equal(dataProducer2.protocol, 'bar');
    assert.equal(dataProducer2.paused, true);
    assert.deepEqual(warnings, [[
      'gosfu:WARN:Transport',
      'produceData() | sctpStreamParameters are ignored when producing data on a DirectTransport',
    ]]);
    assert.deepEqual(onObserverNewDataProducer, [dataProducer1, dataProducer2]);

    assert.deepEqual(await dataProducer2.dump(), {
      id: dataProducer2.id,
      type: 'direct',
      sctpStreamParameters: undefined,
      label: 'foo',
      protocol: 'bar',
      paused: true,
    });
    assert.deepEqual((await directTransport.dump()).dataProducerIds.sort(), [dataProducer1.id, dataProducer2.id].sort());
    assert.deepEqual(routerDataProducerIds(await router.dump()), [dataProducer1.id, dataProducer2.id].sort());
  });

  it('dataProducer.dump() succeeds', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    assert.deepEqual(await dataProducer1.dump(), {
      id: dataProducer1.id,
      type: 'sctp',
      sctpStreamParameters: {
        streamId: 666, ordered: true, maxPacketLifeTime: undefined, maxRetransmits: undefined,
      },
      label: 'foo',
      protocol: 'bar',
      paused: false,
    });

    const dataProducer2 = await webRtcTransport2.produceData(dataProducerOptions2);
    assert.deepEqual(await dataProducer2.dump(), {
      id: dataProducer2.id,
      type: 'sctp',
      sctpStreamParameters: {
        streamId: 777, ordered: false, maxPacketLifeTime: undefined, maxRetransmits: 3,
      },
      label: 'foo',
      protocol: 'bar',
      paused: true,
    });
  });

  it('dataProducer.getStats() succeeds', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    const before = Date.now();
    const stats = await dataProducer1.getStats();
    assert.equal(stats.length, 1);
    const [stat] = stats;
    assert.deepEqual(Object.keys(stat).sort(), [
      'bytesReceived', 'label', 'messagesReceived', 'protocol', 'timestamp', 'type',
    ]);
    assert.equal(stat.type, 'data-producer');
    assert.equal(stat.label, 'foo');
    assert.equal(stat.protocol, 'bar');
    assert.equal(stat.messagesReceived, 0);
    assert.equal(stat.bytesReceived, 0);
    assert.equal(typeof stat.timestamp, 'number');
    assert.ok(Math.abs(stat.timestamp - before) < 60000, `timestamp ${stat.timestamp} is a time in ms`);

    const dataProducer2 = await webRtcTransport2.produceData(dataProducerOptions2);
    const [stat2] = await dataProducer2.getStats();
    assert.equal(stat2.type, 'data-producer');
    assert.equal(stat2.label, 'foo');
    assert.equal(stat2.messagesReceived, 0);
    assert.equal(stat2.bytesReceived, 0);
  });

  it('dataProducer.pause() and resume() succeed', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    let pauses = 0;
    let resumes = 0;
    dataProducer1.observer.on('pause', () => { pauses++; });
    dataProducer1.observer.on('resume', () => { resumes++; });

    await dataProducer1.pause();
    assert.equal(dataProducer1.paused, true);
    assert.equal((await dataProducer1.dump()).paused, true);
    await dataProducer1.resume();
    assert.equal(dataProducer1.paused, false);
    assert.equal((await dataProducer1.dump()).paused, false);

    // Without awaiting each call, the observer still fires on every change.
    void dataProducer1.pause();
    void dataProducer1.resume();
    void dataProducer1.pause();
    void dataProducer1.pause();
    void dataProducer1.pause();
    await dataProducer1.resume();
    assert.equal(pauses, 3);
    assert.equal(resumes, 3);
  });

  it('dataProducer.pause() and resume() emit observer events in order', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    const events = [];
    dataProducer1.observer.once('resume', () => events.push('resume'));
    dataProducer1.observer.once('pause', () => events.push('pause'));
    await Promise.all([dataProducer1.pause(), dataProducer1.resume()]);
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(dataProducer1.paused, false);
  });

  it('dataProducer.close() succeeds', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    let closes = 0;
    dataProducer1.observer.on('close', () => { closes++; });

    dataProducer1.close();
    assert.equal(closes, 1);
    assert.equal(dataProducer1.closed, true);
    dataProducer1.close();
    assert.equal(closes, 1);

    await assertRejects(dataProducer1.dump(), InvalidStateError, 'DataProducer closed [method:dump]');
    const routerDump = await router.dump();
    assert.deepEqual(routerDump.mapDataProducerIdDataConsumerIds, []);
    assert.deepEqual(routerDump.mapDataConsumerIdDataProducerId, []);
    const transportDump = await webRtcTransport1.dump();
    assert.deepEqual(transportDump.dataProducerIds, []);
    assert.deepEqual(transportDump.dataConsumerIds, []);
    assert.deepEqual(transportDump.sctpListener, { streamIdTable: [] });

    // The router forgot it and its stream id is free again.
    await assertRejects(webRtcTransport2.consumeData({ dataProducerId: dataProducer1.id }), NotFoundError,
      `DataProducer with id "${dataProducer1.id}" not found`);
    const again = await webRtcTransport1.produceData({ id: dataProducer1.id, sctpStreamParameters: { streamId: 666 } });
    assert.equal(again.id, dataProducer1.id);
  });

  it('DataProducer methods reject if closed', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    dataProducer1.close();
    await assertRejects(dataProducer1.dump(), InvalidStateError, 'DataProducer closed [method:dump]');
    await assertRejects(dataProducer1.getStats(), InvalidStateError, 'DataProducer closed [method:getStats]');
    await assertRejects(dataProducer1.pause(), InvalidStateError, 'DataProducer closed [method:pause]');
    await assertRejects(dataProducer1.resume(), InvalidStateError, 'DataProducer closed [method:resume]');
    assert.equal(dataProducer1.paused, false);
  });

  it('DataProducer emits "transportclose" if Transport is closed', async () => {
    const dataProducer2 = await webRtcTransport2.produceData(dataProducerOptions2);
    let closes = 0;
    dataProducer2.observer.on('close', () => { closes++; });
    const transportClosed = waitFor(dataProducer2, 'transportclose');

    webRtcTransport2.close();
    await transportClosed;
    assert.equal(closes, 1);
    assert.equal(dataProducer2.closed, true);
    await assertRejects(dataProducer2.dump(), InvalidStateError, 'DataProducer closed [method:dump]');
    // The router forgot it.
    assert.deepEqual(routerDataProducerIds(await router.dump()), []);
    await assertRejects(webRtcTransport1.consumeData({ dataProducerId: dataProducer2.id }), NotFoundError,
      `DataProducer with id "${dataProducer2.id}" not found`);
  });

  it('DataProducer emits "transportclose" if Router or Worker is closed', async () => {
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    const closed1 = Promise.all([waitFor(dataProducer1, 'transportclose'), waitFor(dataProducer1.observer, 'close')]);
    router.close();
    await closed1;
    assert.equal(dataProducer1.closed, true);

    const router2 = await worker.createRouter();
    const directTransport = await router2.createDirectTransport();
    const dataProducer2 = await directTransport.produceData();
    const closed2 = Promise.all([waitFor(dataProducer2, 'transportclose'), waitFor(dataProducer2.observer, 'close')]);
    worker.close();
    await closed2;
    assert.equal(dataProducer2.closed, true);
  });

  it('a throwing listener does not break the DataProducer ("listenererror")', async () => {
    const errors = captureLogs('onerror');
    const dataProducer1 = await webRtcTransport1.produceData(dataProducerOptions1);
    const listenerErrors = [];
    dataProducer1.on('listenererror', (eventName, error) => listenerErrors.push([eventName, error.message]));
    dataProducer1.on('transportclose', () => { throw new Error('boom'); });
    let observerClosed = false;
    dataProducer1.observer.on('close', () => { observerClosed = true; });
    webRtcTransport1.close();
    assert.deepEqual(listenerErrors, [['transportclose', 'boom']]);
    assert.equal(observerClosed, true);
    assert.equal(errors.length, 1);
    assert.deepEqual(errors[0], ['gosfu:ERROR:DataProducer', 'event listener threw an error [eventName:transportclose]:']);
  });
});

describe('DataProducer send() on a DirectTransport', () => {
  let worker;
  let router;
  let directTransport;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter();
    directTransport = await router.createDirectTransport();
  });

  afterEach(async () => {
    gosfu.setLogEventListeners();
    await closeWorker(worker);
    worker = undefined;
  });

  it('dataProducer.send() with wrong arguments throws TypeError', async () => {
    const dataProducer = await directTransport.produceData();
    assertThrows(() => dataProducer.send(), TypeError, 'message must be a string or a Buffer');
    assertThrows(() => dataProducer.send(123), TypeError, 'message must be a string or a Buffer');
    assertThrows(() => dataProducer.send({ foo: 'bar' }), TypeError, 'message must be a string or a Buffer');
    assertThrows(() => dataProducer.send(new Uint8Array([1, 2])), TypeError, 'message must be a string or a Buffer');
  });

  it('messages carry the right Buffer and PPID (strings, binaries, empty ones, given PPIDs)', async () => {
    const dataProducer = await directTransport.produceData();
    const dataConsumer = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    assert.equal(dataConsumer.type, 'direct');
    const messages = collectMessages(dataConsumer, { raw: true });

    dataProducer.send('foo');
    dataProducer.send('ñ€😀');
    dataProducer.send(Buffer.from([1, 2, 3, 0, 255]));
    dataProducer.send('');
    dataProducer.send(Buffer.alloc(0));
    // A given PPID is kept; 56/57 replace the message by the empty one's byte.
    dataProducer.send('abc', 56);
    dataProducer.send(Buffer.from('abc'), 57);
    dataProducer.send('abc', 53);
    dataProducer.send(Buffer.from('xyz'), 51);
    dataProducer.send('custom', 1234);
    dataProducer.send('max', 0xffffffff);
    dataProducer.send(Buffer.alloc(1000, 7));
    await sendByeAndWait(dataProducer, [dataConsumer]);

    assert.deepEqual(messages, [
      [Buffer.from('foo'), 51],
      [Buffer.from('ñ€😀', 'utf8'), 51],
      [Buffer.from([1, 2, 3, 0, 255]), 53],
      [Buffer.from(' '), 56],
      [Buffer.from([0]), 57],
      [Buffer.from(' '), 56],
      [Buffer.from([0]), 57],
      [Buffer.from('abc'), 53],
      [Buffer.from('xyz'), 51],
      [Buffer.from('custom'), 1234],
      [Buffer.from('max'), 0xffffffff],
      [Buffer.alloc(1000, 7), 53],
      [Buffer.from('bye'), 51],
    ]);
  });

  it('1000 sequential messages arrive in order, with the stats counting them', async () => {
    const dataProducer = await directTransport.produceData({ label: 'foo', protocol: 'bar' });
    const directTransport2 = await router.createDirectTransport();
    const dataConsumer1 = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    const dataConsumer2 = await directTransport2.consumeData({ dataProducerId: dataProducer.id });
    const messages1 = collectMessages(dataConsumer1);
    const messages2 = collectMessages(dataConsumer2);
    const expected = [];
    let bytes = 0;
    for (let i = 1; i <= 1000; i++) {
      const text = `message ${i}`;
      if (i % 2) dataProducer.send(text);
      else dataProducer.send(Buffer.from(text));
      expected.push([text, i % 2 ? 51 : 53]);
      bytes += Buffer.byteLength(text);
    }
    await waitUntil(() => messages1.length === 1000 && messages2.length === 1000, 10000, '1000 messages each');
    assert.deepEqual(messages1, expected);
    assert.deepEqual(messages2, expected);

    const [producerStat] = await dataProducer.getStats();
    assert.equal(producerStat.type, 'data-producer');
    assert.equal(producerStat.label, 'foo');
    assert.equal(producerStat.protocol, 'bar');
    assert.equal(producerStat.messagesReceived, 1000);
    assert.equal(producerStat.bytesReceived, bytes);
    for (const dataConsumer of [dataConsumer1, dataConsumer2]) {
      const stats = await dataConsumer.getStats();
      assert.equal(stats.length, 1);
      assert.deepEqual(Object.keys(stats[0]).sort(), [
        'bufferedAmount', 'bytesSent', 'label', 'messagesSent', 'protocol', 'timestamp', 'type',
      ]);
      assert.equal(stats[0].type, 'data-consumer');
      assert.equal(stats[0].label, 'foo');
      assert.equal(stats[0].protocol, 'bar');
      assert.equal(stats[0].messagesSent, 1000);
      assert.equal(stats[0].bytesSent, bytes);
      assert.equal(stats[0].bufferedAmount, 0);
    }
  });

  it('messages sent while the DataProducer or the DataConsumer is paused are dropped', async () => {
    const dataProducer = await directTransport.produceData({ label: 'foo', protocol: 'bar', appData: { foo: 'bar' } });
    const dataConsumer = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    const messages = collectMessages(dataConsumer);
    const consumerEvents = [];
    dataConsumer.on('dataproducerpause', () => consumerEvents.push('dataproducerpause'));
    dataConsumer.on('dataproducerresume', () => consumerEvents.push('dataproducerresume'));

    const numMessages = 200;
    const expected = [];
    let sentBytes = 0;
    let deliveredBytes = 0;
    for (let id = 1; id <= numMessages; id++) {
      if (id === 10) await dataProducer.pause();
      else if (id === 20) await dataProducer.resume();
      else if (id === 40) await dataConsumer.pause();
      else if (id === 60) await dataConsumer.resume();
      const message = id < numMessages / 2 ? String(id) : Buffer.from(String(id));
      dataProducer.send(message);
      sentBytes += Buffer.byteLength(String(id));
      if (!dataProducer.paused && !dataConsumer.paused) {
        expected.push([String(id), id < numMessages / 2 ? 51 : 53]);
        deliveredBytes += Buffer.byteLength(String(id));
      }
    }
    await waitUntil(() => messages.length > 0 && messages[messages.length - 1][0] === String(numMessages),
      5000, 'the last message');
    assert.equal(expected.length, numMessages - 10 - 20);
    assert.deepEqual(messages, expected);
    assert.deepEqual(consumerEvents, ['dataproducerpause', 'dataproducerresume']);

    // A paused data producer still counts what it receives.
    const [producerStat] = await dataProducer.getStats();
    assert.equal(producerStat.messagesReceived, numMessages);
    assert.equal(producerStat.bytesReceived, sentBytes);
    const [consumerStat] = await dataConsumer.getStats();
    assert.equal(consumerStat.messagesSent, expected.length);
    assert.equal(consumerStat.bytesSent, deliveredBytes);
  });

  it('messages over maxReceiveMessageSize (producer side) or maxSendMessageSize (consumer side) are dropped', async () => {
    const warnings = captureLogs('onwarn');
    const smallInTransport = await router.createDirectTransport({ maxReceiveMessageSize: 100 });
    const smallOutTransport = await router.createDirectTransport({ maxSendMessageSize: 50 });
    const dataProducer = await smallInTransport.produceData();
    const dataConsumer1 = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    const dataConsumer2 = await smallOutTransport.consumeData({ dataProducerId: dataProducer.id });
    const messages1 = collectMessages(dataConsumer1);
    const messages2 = collectMessages(dataConsumer2);

    // Not thrown: logged, as mediasoup's worker does with a notification.
    dataProducer.send('a'.repeat(101));
    assert.ok(warnings.some(([namespace, log]) => namespace === 'gosfu:WARN:DataProducer'
      && log === 'send() | message dropped: TypeError: given message exceeds maxMessageSize value [maxMessageSize:100, len:101]'),
    JSON.stringify(warnings));
    dataProducer.send('b'.repeat(100));
    dataProducer.send('c'.repeat(51));
    dataProducer.send('d'.repeat(50));
    await sendByeAndWait(dataProducer, [dataConsumer1, dataConsumer2]);

    assert.deepEqual(messages1, [['b'.repeat(100), 51], ['c'.repeat(51), 51], ['d'.repeat(50), 51], ['bye', 51]]);
    assert.deepEqual(messages2, [['d'.repeat(50), 51], ['bye', 51]]);
    const [producerStat] = await dataProducer.getStats();
    assert.equal(producerStat.messagesReceived, 4);
    const [consumerStat] = await dataConsumer2.getStats();
    assert.equal(consumerStat.messagesSent, 2);
  });

  it('messages reach only the DataConsumers their subchannels select', async () => {
    const dataProducer = await directTransport.produceData();
    const dataConsumer1 = await directTransport.consumeData({ dataProducerId: dataProducer.id, subchannels: [1, 11, 666] });
    const dataConsumer2 = await directTransport.consumeData({ dataProducerId: dataProducer.id, subchannels: [2, 22, 666] });
    // Subscribed to nothing: only messages without subchannels nor requiredSubchannel.
    const dataConsumer3 = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    assert.deepEqual(dataConsumer1.subchannels, [1, 11, 666]);
    assert.deepEqual(dataConsumer3.subchannels, []);
    const messages1 = collectMessages(dataConsumer1);
    const messages2 = collectMessages(dataConsumer2);
    const messages3 = collectMessages(dataConsumer3);

    dataProducer.send('all1');
    dataProducer.send('both1', undefined, [1, 2]);
    dataProducer.send('both2', undefined, [11, 22, 33], 666);
    dataProducer.send('none1', undefined, [3], 666);
    dataProducer.send('none2', undefined, [666], 3);
    dataProducer.send('dc1-1', undefined, [1]);
    dataProducer.send('dc1-2', undefined, [11], 1);
    dataProducer.send('dc1-3', undefined, [666], 11);
    dataProducer.send('dc2-1', undefined, [666], 2);
    // Required subchannel alone (no subchannels list).
    dataProducer.send('dc2-2', undefined, undefined, 22);
    // Ignored subchannel: not for those subscribed to it.
    dataProducer.send('dc2-3', undefined, [666], undefined, 1);
    dataProducer.send('dc1+dc3', undefined, undefined, undefined, 2);
    dataProducer.send('none3', undefined, [1, 2], 666, 666);
    // dataConsumer2 also subscribes to subchannel 1 (not awaited: requests are in order).
    void dataConsumer2.setSubchannels([...dataConsumer2.subchannels, 1]);
    dataProducer.send('both3', undefined, [1], 666);
    await sendByeAndWait(dataProducer, [dataConsumer1, dataConsumer2, dataConsumer3]);

    assert.deepEqual(messages1.map(([m]) => m), ['all1', 'both1', 'both2', 'dc1-1', 'dc1-2', 'dc1-3', 'dc1+dc3', 'both3', 'bye']);
    assert.deepEqual(messages2.map(([m]) => m), ['all1', 'both1', 'both2', 'dc2-1', 'dc2-2', 'dc2-3', 'both3', 'bye']);
    assert.deepEqual(messages3.map(([m]) => m), ['all1', 'dc1+dc3', 'bye']);
    assert.deepEqual(dataConsumer2.subchannels, [1, 2, 22, 666]);
  });

  it('a closed DataProducer drops messages; after its Worker closed, send() throws WorkerClosedError', async () => {
    const warnings = captureLogs('onwarn');
    const dataProducer = await directTransport.produceData();
    const dataConsumer = await directTransport.consumeData({ dataProducerId: dataProducer.id });
    const messages = collectMessages(dataConsumer);
    dataProducer.send('before');
    await waitUntil(() => messages.length === 1, 5000, 'the first message');
    const consumerClosed = waitFor(dataConsumer, 'dataproducerclose');
    dataProducer.close();
    await consumerClosed;
    // Dropped silently (no engine request, hence no "message dropped" warning).
    dataProducer.send('after');
    assert.deepEqual(warnings, []);
    assert.deepEqual(messages, [['before', 51]]);

    const dataProducer2 = await directTransport.produceData();
    await closeWorker(worker);
    assert.equal(dataProducer2.closed, true);
    assertThrows(() => dataProducer2.send('foo'), WorkerClosedError,
      'Channel closed, cannot send request [method:dataProducer.send]');
    // Argument errors come first.
    assertThrows(() => dataProducer2.send(1), TypeError, 'message must be a string or a Buffer');
  });
});

describe('SCTP parameters of transports', () => {
  let worker;
  let router;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter();
  });

  afterEach(async () => {
    await closeWorker(worker);
    worker = undefined;
  });

  const defaults = {
    port: 5000,
    maxSendMessageSize: 262144,
    maxReceiveMessageSize: 262144,
    sendBufferSize: 2000000,
    perStreamSendQueueLimit: 2000000,
    maxReceiverWindowBufferSize: 5242880,
    OS: 65535,
    MIS: 65535,
    maxMessageSize: 262144,
  };

  it('webRtcTransport with enableSctp has sctpParameters (defaults), sctpState "new", then "closed"', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
    assert.deepEqual(transport.sctpParameters, { ...defaults, isDataChannel: true });
    assert.equal(transport.sctpState, 'new');
    assert.equal(transport.sctpNegotiatedCapabilities, undefined);
    const dump = await transport.dump();
    assert.deepEqual(dump.sctpParameters, transport.sctpParameters);
    assert.equal(dump.sctpState, 'new');
    assert.deepEqual(dump.sctpListener, { streamIdTable: [] });
    const [stats] = await transport.getStats();
    assert.equal(stats.sctpState, 'new');
    transport.close();
    assert.equal(transport.sctpState, 'closed');

    const noSctp = await router.createWebRtcTransport({ listenInfos });
    assert.equal(noSctp.sctpParameters, undefined);
    assert.equal(noSctp.sctpState, undefined);
    noSctp.close();
    assert.equal(noSctp.sctpState, undefined);
  });

  it('webRtcTransport with SCTP options has them in sctpParameters; legacy options are ignored', async () => {
    const transport = await router.createWebRtcTransport({
      listenInfos,
      enableSctp: true,
      numSctpStreams: { OS: 2048, MIS: 2048 },
      maxSctpMessageSize: 1000,
      maxSendMessageSize: 1000001,
      maxReceiveMessageSize: 1000002,
      sctpSendBufferSize: 2000001,
      sctpPerStreamSendQueueLimit: 2000002,
      sctpMaxReceiverWindowBufferSize: 2000003,
      sctpDefaultStreamBufferedAmountLowThreshold: 4096,
    });
    assert.deepEqual(transport.sctpParameters, {
      port: 5000,
      maxSendMessageSize: 1000001,
      maxReceiveMessageSize: 1000002,
      sendBufferSize: 2000001,
      perStreamSendQueueLimit: 2000002,
      maxReceiverWindowBufferSize: 2000003,
      isDataChannel: true,
      OS: 65535,
      MIS: 65535,
      maxMessageSize: 1000002,
    });
    // The default buffered amount low threshold of its data consumers.
    const directTransport = await router.createDirectTransport();
    const dataProducer = await directTransport.produceData();
    const dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id });
    assert.equal((await dataConsumer.dump()).bufferedAmountLowThreshold, 4096);
  });

  it('webRtcTransport sctpState becomes "closed" when its Router closes', async () => {
    const transport = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
    const closed = waitFor(transport, 'routerclose');
    router.close();
    await closed;
    assert.equal(transport.sctpState, 'closed');
  });

  it('plainTransport with enableSctp has sctpParameters (defaults, not a DataChannel)', async () => {
    const transport = await router.createPlainTransport({ listenInfo: listenInfos[0], enableSctp: true });
    assert.deepEqual(transport.sctpParameters, { ...defaults, isDataChannel: false });
    assert.equal(transport.sctpState, 'new');
    assert.equal(transport.sctpNegotiatedCapabilities, undefined);
    const dump = await transport.dump();
    assert.deepEqual(dump.sctpParameters, transport.sctpParameters);
    assert.equal(dump.sctpState, 'new');
    const dataProducer = await transport.produceData({ sctpStreamParameters: { streamId: 3 } });
    assert.equal(dataProducer.type, 'sctp');
    const closed = waitFor(transport, 'routerclose');
    router.close();
    await closed;
    assert.equal(transport.sctpState, 'closed');
  });

  it('pipeTransport with enableSctp has sctpParameters (defaults, not a DataChannel)', async () => {
    const transport = await router.createPipeTransport({
      listenInfo: listenInfos[0], enableSctp: true, maxReceiveMessageSize: 1234,
    });
    assert.deepEqual(transport.sctpParameters, {
      ...defaults, isDataChannel: false, maxReceiveMessageSize: 1234, maxMessageSize: 1234,
    });
    assert.equal(transport.sctpState, 'new');
    assert.equal(transport.sctpNegotiatedCapabilities, undefined);
    transport.close();
    assert.equal(transport.sctpState, 'closed');
  });

  it('directTransport takes maxSendMessageSize and maxReceiveMessageSize', async () => {
    const transport = await router.createDirectTransport({ maxSendMessageSize: 1000, maxReceiveMessageSize: 2000 });
    const dump = await transport.dump();
    assert.equal(dump.maxSendMessageSize, 1000);
    assert.equal(dump.maxReceiveMessageSize, 2000);
    assert.equal(dump.sctpParameters, undefined);
  });
});
