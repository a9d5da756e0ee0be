'use strict';

// Ports out of range are refused with TypeError, never wrapped into range
// (mediasoup 3.27.1 binds port 70000 as 4464 and -1 as 65535; gosfu rejects
// them on purpose, see the README).
const gosfu = require('..');
const { closeWorker, assertRejects } = require('./helpers');

describe('numbers crossing into the engine are range-checked', function () {
  let worker;
  let router;

  beforeEach(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter();
  });

  afterEach(() => closeWorker(worker));

  for (const port of [70000, -1]) {
    it(`listen port ${port} rejects with TypeError (PlainTransport, WebRtcTransport, WebRtcServer)`, async () => {
      const message = `invalid listen info: port must be an integer in [0, 65535] (got ${port})`;
      await assertRejects(
        router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1', port } }),
        TypeError, message,
      );
      await assertRejects(
        router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port }] }),
        TypeError, message,
      );
      await assertRejects(
        worker.createWebRtcServer({ listenInfos: [{ protocol: 'tcp', ip: '127.0.0.1', port }] }),
        TypeError, message,
      );
    });
  }

  it('plainTransport.connect() with a remote port out of range rejects with TypeError', async () => {
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    for (const port of [70000, -1, 0, 1.5]) {
      // eslint-disable-next-line no-await-in-loop
      await assertRejects(transport.connect({ ip: '127.0.0.1', port }), TypeError, 'port must be an integer in [1, 65535]');
    }
    // Nothing was set by the refused calls: a valid connect() still works.
    await transport.connect({ ip: '127.0.0.1', port: 9 });
    if (transport.tuple.remotePort !== 9) throw new Error(`remote port ${transport.tuple.remotePort}`);
  });

  it('an SSRC out of [0, 2^32-1] or not an integer rejects with TypeError (produce)', async () => {
    const audioRouter = await worker.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
    });
    const transport = await audioRouter.createDirectTransport();
    const produce = (encoding) => transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [encoding],
      },
    });
    for (const ssrc of [2 ** 40, -1, 1.5]) {
      // eslint-disable-next-line no-await-in-loop
      await assertRejects(produce({ ssrc }), TypeError, 'invalid encoding.ssrc');
    }
    const producer = await produce({ ssrc: 2 ** 32 - 1 });
    if (producer.rtpParameters.encodings[0].ssrc !== 2 ** 32 - 1) throw new Error('ssrc changed');
  });
});
