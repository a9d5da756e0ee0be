'use strict';

// Events reach JavaScript in engine order, also when a listener makes a
// synchronous engine call: that call delivers the events queued so far
// before it returns, and must deliver them after the ones already taken
// for delivery, never before.
const assert = require('node:assert/strict');

const gosfu = require('..');
const { closeWorker, waitUntil } = require('./helpers');

describe('event order', function () {
  let worker;

  afterEach(() => closeWorker(worker));

  it('a listener that sends (a synchronous request) does not reorder the events of other objects', async () => {
    worker = await gosfu.createWorker();
    const router = await worker.createRouter();
    const transport = await router.createDirectTransport();
    const dataProducer = await transport.produceData();
    const first = await transport.consumeData({ dataProducerId: dataProducer.id });
    const second = await transport.consumeData({ dataProducerId: dataProducer.id });
    const count = 50;
    const atFirst = [];
    const atSecond = [];
    // Each message the first consumer gets makes the next one: the send
    // runs while the engine's events of the previous send (the second
    // consumer's message among them) are being delivered.
    first.on('message', (message) => {
      const n = Number(message.toString());
      atFirst.push(n);
      if (n + 1 < count) dataProducer.send(String(n + 1));
    });
    second.on('message', (message) => atSecond.push(Number(message.toString())));
    dataProducer.send('0');
    await waitUntil(() => atSecond.length === count, 5000, 'every message at the second consumer');
    const inOrder = Array.from({ length: count }, (_, i) => i);
    assert.deepEqual(atFirst, inOrder);
    assert.deepEqual(atSecond, inOrder);
  });

  it('a flood of events from an engine goroutine arrives complete and in order', async () => {
    worker = await gosfu.createWorker();
    const routerA = await worker.createRouter();
    const routerB = await worker.createRouter();
    const source = await (await routerA.createDirectTransport()).produceData();
    const { pipeDataProducer } = await routerA.pipeToRouter({ dataProducerId: source.id, router: routerB, keepId: false });
    const sink = await (await routerB.createDirectTransport()).consumeData({ dataProducerId: pipeDataProducer.id });
    const received = [];
    sink.on('message', (message) => received.push(message.toString()));
    // More than the shim delivers per wake-up (4096), queued by the SCTP
    // reader goroutine of the far pipe transport.
    const count = 20000;
    for (let i = 0; i < count; i++) source.send(String(i));
    await waitUntil(() => received.length === count, 20000, 'every message at the sink');
    assert.deepEqual(received, Array.from({ length: count }, (_, i) => String(i)));
  });
});
