'use strict';

// Child process for test/test-pipe-data.js: router.pipeToRouter() with a
// bogus destination router, the rejection caught by the caller. Node's
// default for an unhandled rejection is to kill the process, so a clean
// exit with the JSON lines printed shows that pipeToRouter() left no
// promise rejection unhandled.
const path = require('node:path');

const gosfu = require(path.join(__dirname, '..', '..'));

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function attempt(router, options) {
  try {
    await router.pipeToRouter(options);
    return { resolved: true };
  } catch (error) {
    return { name: error.constructor.name, message: error.message };
  }
}

async function main() {
  const worker = await gosfu.createWorker();
  const router = await worker.createRouter({
    mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
  });
  const transport = await router.createDirectTransport();
  const producer = await transport.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 1111 }],
    },
  });
  const dataProducer = await transport.produceData();

  out({ producer: await attempt(router, { producerId: producer.id, router: {} }) });
  out({ dataProducer: await attempt(router, { dataProducerId: dataProducer.id, router: {} }) });
  // Whatever pipeToRouter() started has settled by now (the engine answers
  // requests synchronously); give pending rejections a full turn anyway.
  await new Promise((resolve) => setImmediate(resolve));
  out({ transportIds: (await router.dump()).transportIds.length });

  const closed = new Promise((resolve) => worker.once('subprocessclose', resolve));
  worker.close();
  await closed;
  out({ done: true });
}

main().catch((error) => {
  process.stderr.write(`failed: ${error.stack}\n`);
  process.exit(3);
});
