'use strict';

// The far end of a PipeTransport in another Node process, for
// test/test-pipe-process.js. Driven over the IPC channel:
//   parent → {listen}            child → {tuple}
//   parent → {connect, ip, port, sctpStreamParameters, label, protocol, id}
//   child  → {ready}             then one {message, ppid} per message its
//   DirectTransport DataConsumer gets.
const path = require('node:path');

const gosfu = require(path.join(__dirname, '..', '..'));

let worker;
let pipe;
let direct;

process.on('message', async (msg) => {
  try {
    if (msg.listen) {
      worker = await gosfu.createWorker();
      const router = await worker.createRouter();
      pipe = await router.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSctp: true });
      direct = await router.createDirectTransport();
      process.send({ tuple: pipe.tuple });
    } else if (msg.connect) {
      await pipe.connect({ ip: msg.ip, port: msg.port });
      const dataProducer = await pipe.produceData({
        id: msg.id,
        sctpStreamParameters: msg.sctpStreamParameters,
        label: msg.label,
        protocol: msg.protocol,
      });
      const dataConsumer = await direct.consumeData({ dataProducerId: dataProducer.id });
      dataConsumer.on('message', (message, ppid) => process.send({ message: message.toString('base64'), ppid }));
      process.send({ ready: true, label: dataConsumer.label, protocol: dataConsumer.protocol });
    } else if (msg.exit) {
      worker.close();
      process.disconnect();
    }
  } catch (error) {
    process.send({ error: `${error.constructor.name}: ${error.message}` });
  }
});
