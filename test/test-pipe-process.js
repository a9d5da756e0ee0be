'use strict';

// Data piped between two Node processes, each with its own gosfu worker:
// a DirectTransport DataProducer here, a pipe DataConsumer on a
// PipeTransport (SCTP over UDP) to a PipeTransport in the child, whose
// DirectTransport DataConsumer reports the messages back over IPC.
const assert = require('node:assert/strict');
const path = require('node:path');
const { fork } = require('node:child_process');

const gosfu = require('..');
const { closeWorker, waitUntil } = require('./helpers');

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
