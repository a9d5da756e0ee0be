'use strict';

// gosfu/ortc: mediasoup 3.27's ORTC helpers, answered by the engine's own
// ORTC code. Their answers agree with what a router, produce() and consume()
// give for the same input.
const assert = require('assert');
const gosfu = require('..');
const ortc = require('../ortc');
const { closeWorker } = require('./helpers');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

const simulcastParams = () => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }] },
    { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } }],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }],
  encodings: [{ rid: 'r0', scalabilityMode: 'L1T3' }, { rid: 'r1', scalabilityMode: 'L1T3' }, { rid: 'r2', scalabilityMode: 'L1T3' }],
  mid: '0',
  rtcp: { cname: 'ortc-test' },
});

/** params without its SSRCs (random on each call). */
function withoutSsrcs(params) {
  return {
    ...params,
    encodings: params.encodings.map(({ ssrc, rtx, ...rest }) => ({ ...rest, ssrc: typeof ssrc, rtx: rtx && typeof rtx.ssrc })),
  };
}

describe('gosfu/ortc', () => {
  let worker;
  let router;

  before(async () => {
    worker = await gosfu.createWorker();
    router = await worker.createRouter({ mediaCodecs });
  });

  after(() => closeWorker(worker));

  it('is the ortc of the top-level module', () => {
    assert.strictEqual(gosfu.ortc, ortc);
  });

  it('generateRouterRtpCapabilities() gives what createRouter() gives', () => {
    assert.deepStrictEqual(ortc.generateRouterRtpCapabilities(mediaCodecs), router.rtpCapabilities);
  });

  it('generateRouterRtpCapabilities() rejects a bad codec with createRouter()\'s error', async () => {
    const bad = [{ kind: 'video', mimeType: 'video/NOPE', clockRate: 90000 }];
    const error = await worker.createRouter({ mediaCodecs: bad }).then(() => null, (e) => e);
    assert.ok(error, 'createRouter() accepted an unknown codec');
    assert.throws(() => ortc.generateRouterRtpCapabilities(bad), (e) => e.constructor === error.constructor && e.message === error.message);
  });

  it('validateAndNormalizeRtpCapabilities() completes the object it is given', () => {
    const caps = { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] };
    const codec = caps.codecs;
    assert.equal(ortc.validateAndNormalizeRtpCapabilities(caps), undefined);
    assert.notStrictEqual(caps.codecs, codec);
    assert.deepStrictEqual(caps, {
      codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
      headerExtensions: [],
    });
    assert.throws(() => ortc.validateAndNormalizeRtpCapabilities({ codecs: [{ kind: 'audio' }] }),
      { name: 'TypeError', message: 'missing codec.mimeType' });
  });

  it('validateAndNormalizeRtpParameters() and validateAndNormalizeSctpStreamParameters() complete their objects', () => {
    const params = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ rid: 'r0' }] };
    ortc.validateAndNormalizeRtpParameters(params);
    assert.deepStrictEqual(params.codecs, [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [] }]);
    assert.deepStrictEqual(params.headerExtensions, []);
    assert.equal(params.rtcp.reducedSize, true);
    const sctp = { streamId: 1 };
    ortc.validateAndNormalizeSctpStreamParameters(sctp);
    assert.deepStrictEqual(sctp, { streamId: 1, ordered: true });
    assert.throws(() => ortc.validateAndNormalizeSctpStreamParameters({}), { name: 'TypeError', message: 'missing params.streamId' });
  });

  it('the producer mapping and consumable parameters are produce()\'s', async () => {
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    try {
      const producer = await transport.produce({ kind: 'video', rtpParameters: simulcastParams() });
      const params = simulcastParams();
      ortc.validateAndNormalizeRtpParameters(params);
      const mapping = ortc.getProducerRtpParametersMapping(params, router.rtpCapabilities);
      const vp8 = router.rtpCapabilities.codecs.find((c) => c.mimeType === 'video/VP8');
      assert.deepStrictEqual(mapping.codecs, [{ payloadType: 96, mappedPayloadType: vp8.preferredPayloadType },
        { payloadType: 97, mappedPayloadType: vp8.preferredPayloadType + 1 }]);
      assert.deepStrictEqual(mapping.encodings.map((e) => e.rid), ['r0', 'r1', 'r2']);
      const consumable = ortc.getConsumableRtpParameters('video', params, router.rtpCapabilities, mapping);
      assert.deepStrictEqual(consumable.encodings.map((e) => e.ssrc), mapping.encodings.map((e) => e.mappedSsrc));
      assert.deepStrictEqual(withoutSsrcs(consumable), withoutSsrcs(producer.consumableRtpParameters));

      assert.equal(ortc.canConsume(consumable, router.rtpCapabilities), true);
      const audioOnly = ortc.generateRouterRtpCapabilities([mediaCodecs[0]]);
      assert.equal(ortc.canConsume(consumable, audioOnly), false);

      // A consumer's parameters, as consume() gives them.
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
      const rtp = ortc.getConsumerRtpParameters({
        consumableRtpParameters: consumable, remoteRtpCapabilities: router.rtpCapabilities, pipe: false, enableRtx: true,
      });
      // consume() adds the transport's next MID, as mediasoup's does after
      // the helper.
      const { mid, ...consumerParams } = consumer.rtpParameters;
      assert.equal(typeof mid, 'string');
      assert.deepStrictEqual(withoutSsrcs(rtp), withoutSsrcs(consumerParams));
      const pipe = ortc.getPipeConsumerRtpParameters({ consumableRtpParameters: consumable, enableRtx: false });
      assert.equal(pipe.encodings.length, 3);
      assert.ok(pipe.codecs.every((c) => c.mimeType !== 'video/rtx'));
    } finally {
      transport.close();
    }
  });
});
