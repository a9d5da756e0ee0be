'use strict';

// A table of bad API arguments across the API: wrong types, numbers out of
// their field's range, NaN/Infinity, missing required values, unknown ids,
// huge strings. Each one throws or rejects with mediasoup 3.27.1's error
// class and message where mediasoup defines one; where mediasoup would wrap
// or truncate a number into its worker's fixed-width field, gosfu refuses it
// with a TypeError naming the argument (a deliberate difference, see the
// README). Nothing may crash or hang the worker: after the table it still
// creates a transport and produces. Ports and SSRCs: test-number-ranges.js.
const assert = require('node:assert/strict');
const gosfu = require('..');
const { closeWorker, assertRejects, assertThrows } = require('./helpers');

const { UnsupportedError, NotFoundError } = gosfu.types;

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

const opus = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };
const midExt = { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 };

/** rtpParameters of an opus producer with `codec` merged into its codec. */
function audioParams({ codec = {}, headerExtensions, encoding = {} } = {}) {
  const params = { codecs: [{ ...opus, ...codec }], encodings: [{ ssrc: 1111, ...encoding }] };
  if (headerExtensions) params.headerExtensions = headerExtensions;
  return params;
}

/** RTP capabilities a consumer of the opus producer can use. */
function consumerCaps({ codec = {}, ext } = {}) {
  return {
    codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 100, ...codec }],
    headerExtensions: ext ? [{ kind: 'audio', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1, ...ext }] : [],
  };
}

/** createRouter() with one opus codec with `codec` merged in. */
const routerWith = (c, codec) => c.worker.createRouter({ mediaCodecs: [{ ...mediaCodecs[0], ...codec }] });
/** An opus producer on the DirectTransport (see audioParams()). */
const produceAudio = (c, options, extra = {}) => c.direct.produce({
  kind: 'audio', rtpParameters: audioParams(options), ...extra,
});
/** A consumer of the opus producer with capabilities from consumerCaps(). */
const consumeWith = (c, caps, extra = {}) => c.plain.consume({
  producerId: c.producer.id, rtpCapabilities: consumerCaps(caps), ...extra,
});
/** produceData() on the SCTP PlainTransport with these stream parameters. */
const produceSctp = (c, sctpStreamParameters) => c.plain.produceData({ sctpStreamParameters });

const range = (name, min, max, value) => `${name} must be an integer in [${min}, ${max}] (got ${value})`;
const U32 = 4294967295;
const BITRATE_RANGE = 'bitrate must be <= 9223372036854775806 or 0 (unlimited)';
const notInteger = (value) => `The number ${value} cannot be converted to a BigInt because it is not an integer`;

describe('bad API arguments throw the right error and never hurt the worker', function () {
  this.timeout(60000);

  const ctx = {};

  before(async () => {
    ctx.worker = await gosfu.createWorker();
    ctx.router = await ctx.worker.createRouter({ mediaCodecs });
    ctx.router2 = await ctx.worker.createRouter({ mediaCodecs });
    ctx.plain = await ctx.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, enableSctp: true,
    });
    ctx.direct = await ctx.router.createDirectTransport();
    ctx.producer = await ctx.direct.produce({ kind: 'audio', rtpParameters: audioParams() });
    ctx.consumer = await ctx.plain.consume({ producerId: ctx.producer.id, rtpCapabilities: consumerCaps() });
    ctx.dataProducer = await ctx.plain.produceData({ sctpStreamParameters: { streamId: 1 } });
    ctx.directDataProducer = await ctx.direct.produceData();
    ctx.dataConsumer = await ctx.plain.consumeData({ dataProducerId: ctx.dataProducer.id });
  });

  after(() => closeWorker(ctx.worker));

  const plainInfo = (extra) => ({ listenInfo: { protocol: 'udp', ip: '127.0.0.1', ...extra } });
  const webRtcInfos = { listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] };

  // [description, (ctx) => call, error class, message (or (ctx) => message)].
  // Calls that throw synchronously, as in mediasoup, are marked 'sync'.
  const cases = [
    // createWorker() settings: a mediasoup worker fails to start with them.
    ['createWorker rtcMinPort Infinity', () => gosfu.createWorker({ rtcMinPort: Infinity }), TypeError, 'wrong settings'],
    ['createWorker rtcMaxPort 1.5', () => gosfu.createWorker({ rtcMinPort: 1, rtcMaxPort: 1.5 }), TypeError, 'wrong settings'],
    ['createWorker logLevel', () => gosfu.createWorker({ logLevel: 'chatty' }), TypeError, 'wrong settings'],
    ['createWorker appData', () => gosfu.createWorker({ appData: 'x' }), TypeError, 'if given, appData must be an object'],

    // WebRtcServer listen infos.
    ['createWebRtcServer no listenInfos', (c) => c.worker.createWebRtcServer({}), TypeError, 'missing listenInfos'],
    ['createWebRtcServer port NaN', (c) => c.worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: NaN }] }),
      TypeError, `invalid listen info: ${range('port', 0, 65535, 'NaN')}`],
    ['createWebRtcServer portRange.max 70000', (c) => c.worker.createWebRtcServer({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', portRange: { min: 10000, max: 70000 } }],
    }), TypeError, `invalid listen info: ${range('portRange.max', 0, 65535, 70000)}`],
    ['createWebRtcServer sendBufferSize -1', (c) => c.worker.createWebRtcServer({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', sendBufferSize: -1 }],
    }), TypeError, `invalid listen info: ${range('sendBufferSize', 0, U32, -1)}`],

    // createRouter() media codecs.
    ['createRouter mediaCodecs not an array', (c) => c.worker.createRouter({ mediaCodecs: 'opus' }),
      TypeError, 'mediaCodecs must be an Array'],
    ['createRouter codec null', (c) => c.worker.createRouter({ mediaCodecs: [null] }), TypeError,
      "Cannot read properties of null (reading 'mimeType')"],
    ['createRouter codec string', (c) => c.worker.createRouter({ mediaCodecs: ['opus'] }), TypeError, 'codec is not an object'],
    ['createRouter preferredPayloadType 300', (c) => routerWith(c, { preferredPayloadType: 300 }),
      TypeError, 'invalid codec.preferredPayloadType'],
    ['createRouter preferredPayloadType 100.5', (c) => routerWith(c, { preferredPayloadType: 100.5 }),
      TypeError, 'invalid codec.preferredPayloadType'],
    ['createRouter preferredPayloadType string', (c) => routerWith(c, { preferredPayloadType: '100' }),
      TypeError, 'invalid codec.preferredPayloadType'],
    ['createRouter clockRate 48000.5', (c) => routerWith(c, { clockRate: 48000.5 }),
      TypeError, 'invalid codec.clockRate'],
    ['createRouter clockRate 2^32+48000', (c) => routerWith(c, { clockRate: 2 ** 32 + 48000 }),
      TypeError, 'invalid codec.clockRate'],
    ['createRouter no clockRate', (c) => c.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus' }] }),
      TypeError, 'missing codec.clockRate'],
    ['createRouter channels 258', (c) => routerWith(c, { channels: 258 }),
      TypeError, 'invalid codec.channels'],
    ['createRouter channels 2.5', (c) => routerWith(c, { channels: 2.5 }),
      TypeError, 'invalid codec.channels'],
    ['createRouter unsupported codec', (c) => c.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/foo', clockRate: 8000 }] }),
      UnsupportedError, 'media codec not supported [mimeType:audio/foo]'],
    ['createRouter appData', (c) => c.worker.createRouter({ appData: 1 }), TypeError, 'if given, appData must be an object'],

    // Transport creation.
    ['createPlainTransport no listen info', (c) => c.router.createPlainTransport({}), TypeError,
      'missing listenInfo and listenIp (one of them is mandatory)'],
    ['createPlainTransport listenInfo string', (c) => c.router.createPlainTransport({ listenInfo: 'udp' }),
      TypeError, 'listenInfo must be an object'],
    ['createPlainTransport port 1.5', (c) => c.router.createPlainTransport(plainInfo({ port: 1.5 })), TypeError,
      `invalid listen info: ${range('port', 0, 65535, 1.5)}`],
    ['createPlainTransport port Infinity', (c) => c.router.createPlainTransport(plainInfo({ port: Infinity })), TypeError,
      `invalid listen info: ${range('port', 0, 65535, 'Infinity')}`],
    ['createPlainTransport portRange.min "1000"', (c) => c.router.createPlainTransport(plainInfo({ portRange: { min: '1000', max: 2000 } })),
      TypeError, `invalid listen info: ${range('portRange.min', 0, 65535, '"1000"')}`],
    ['createPlainTransport recvBufferSize 2^32', (c) => c.router.createPlainTransport(plainInfo({ recvBufferSize: 2 ** 32 })),
      TypeError, `invalid listen info: ${range('recvBufferSize', 0, U32, 2 ** 32)}`],
    ['createPlainTransport maxSendMessageSize NaN', (c) => c.router.createPlainTransport({ ...plainInfo(), maxSendMessageSize: NaN }),
      TypeError, range('maxSendMessageSize', 0, U32, 'NaN')],
    ['createPlainTransport sctpSendBufferSize -1', (c) => c.router.createPlainTransport({ ...plainInfo(), sctpSendBufferSize: -1 }),
      TypeError, range('sctpSendBufferSize', 0, U32, -1)],
    ['createPipeTransport maxReceiveMessageSize 2^32', (c) => c.router.createPipeTransport({ ...plainInfo(), maxReceiveMessageSize: 2 ** 32 }),
      TypeError, range('maxReceiveMessageSize', 0, U32, 2 ** 32)],
    ['createPipeTransport sctpDefaultStreamBufferedAmountLowThreshold 1.5', (c) => c.router.createPipeTransport({
      ...plainInfo(), sctpDefaultStreamBufferedAmountLowThreshold: 1.5,
    }), TypeError, range('sctpDefaultStreamBufferedAmountLowThreshold', 0, U32, 1.5)],
    ['createDirectTransport maxSendMessageSize "1000"', (c) => c.router.createDirectTransport({ maxSendMessageSize: '1000' }),
      TypeError, range('maxSendMessageSize', 0, U32, '"1000"')],
    ['createWebRtcTransport nothing to listen on', (c) => c.router.createWebRtcTransport({}), TypeError,
      'missing webRtcServer, listenInfos and listenIps (one of them is mandatory)'],
    ['createWebRtcTransport iceConsentTimeout 300', (c) => c.router.createWebRtcTransport({ ...webRtcInfos, iceConsentTimeout: 300 }),
      TypeError, range('iceConsentTimeout', 0, 255, 300)],
    ['createWebRtcTransport sctpPerStreamSendQueueLimit Infinity', (c) => c.router.createWebRtcTransport({
      ...webRtcInfos, sctpPerStreamSendQueueLimit: Infinity,
    }), TypeError, range('sctpPerStreamSendQueueLimit', 0, U32, 'Infinity')],
    // mediasoup converts it with BigInt(): its errors for non-integers, its
    // worker's message for a value out of range (-1 wraps to 2^64-1 there).
    ['createWebRtcTransport initialAvailableOutgoingBitrate -1', (c) => c.router.createWebRtcTransport({
      ...webRtcInfos, initialAvailableOutgoingBitrate: -1,
    }), TypeError, 'wrong initialAvailableOutgoingBitrate (must be <= 9223372036854775806)'],
    ['createWebRtcTransport initialAvailableOutgoingBitrate 1.5', (c) => c.router.createWebRtcTransport({
      ...webRtcInfos, initialAvailableOutgoingBitrate: 1.5,
    }), RangeError, notInteger(1.5)],
    ['createWebRtcTransport initialAvailableOutgoingBitrate NaN', (c) => c.router.createWebRtcTransport({
      ...webRtcInfos, initialAvailableOutgoingBitrate: NaN,
    }), RangeError, notInteger(NaN)],

    // RTP observers: mediasoup's own checks first, then the ranges.
    ['createActiveSpeakerObserver interval string', (c) => c.router.createActiveSpeakerObserver({ interval: '300' }),
      TypeError, 'if given, interval must be an number'],
    ['createActiveSpeakerObserver interval 70000', (c) => c.router.createActiveSpeakerObserver({ interval: 70000 }),
      TypeError, range('interval', 0, 65535, 70000)],
    ['createAudioLevelObserver maxEntries 0', (c) => c.router.createAudioLevelObserver({ maxEntries: 0 }),
      TypeError, 'if given, maxEntries must be a positive number'],
    ['createAudioLevelObserver maxEntries 1.5', (c) => c.router.createAudioLevelObserver({ maxEntries: 1.5 }),
      TypeError, range('maxEntries', 1, 65535, 1.5)],
    ['createAudioLevelObserver maxEntries NaN', (c) => c.router.createAudioLevelObserver({ maxEntries: NaN }),
      TypeError, range('maxEntries', 1, 65535, 'NaN')],
    ['createAudioLevelObserver threshold -128', (c) => c.router.createAudioLevelObserver({ threshold: -128 }),
      TypeError, 'if given, threshole must be a negative number greater than -127'],
    ['createAudioLevelObserver threshold -10.5', (c) => c.router.createAudioLevelObserver({ threshold: -10.5 }),
      TypeError, range('threshold', -127, 0, -10.5)],
    ['createAudioLevelObserver interval NaN', (c) => c.router.createAudioLevelObserver({ interval: NaN }),
      TypeError, range('interval', 0, 65535, 'NaN')],

    // pipeToRouter() and canConsume().
    ['pipeToRouter nothing to pipe', (c) => c.router.pipeToRouter({ router: c.router2 }),
      TypeError, 'missing producerId or dataProducerId'],
    ['pipeToRouter same router', (c) => c.router.pipeToRouter({ producerId: c.producer.id, router: c.router }), TypeError,
      'cannot use this Router as destination'],
    ['pipeToRouter unknown producer', (c) => c.router.pipeToRouter({ producerId: 'nope', router: c.router2 }),
      NotFoundError, 'Producer not found'],
    ['pipeToRouter unknown data producer', (c) => c.router.pipeToRouter({ dataProducerId: 'nope', router: c.router2 }),
      NotFoundError, 'DataProducer not found'],

    // Bitrates: BigInt() as mediasoup, then its worker's range.
    ['setMaxIncomingBitrate -1', (c) => c.plain.setMaxIncomingBitrate(-1), TypeError, BITRATE_RANGE],
    ['setMaxIncomingBitrate 2^64', (c) => c.plain.setMaxIncomingBitrate(2 ** 64), TypeError, BITRATE_RANGE],
    ['setMaxIncomingBitrate 1.5', (c) => c.plain.setMaxIncomingBitrate(1.5), RangeError, notInteger(1.5)],
    ['setMaxIncomingBitrate undefined', (c) => c.plain.setMaxIncomingBitrate(),
      TypeError, 'Cannot convert undefined to a BigInt'],
    ['setMaxOutgoingBitrate NaN', (c) => c.plain.setMaxOutgoingBitrate(NaN), RangeError, notInteger(NaN)],
    ['setMaxOutgoingBitrate null', (c) => c.plain.setMaxOutgoingBitrate(null), TypeError, 'Cannot convert null to a BigInt'],
    ['setMaxOutgoingBitrate below the floor', (c) => c.plain.setMaxOutgoingBitrate(1000),
      TypeError, 'bitrate must be >= 30000 or 0 (unlimited)'],
    ['setMinOutgoingBitrate "abc"', (c) => c.plain.setMinOutgoingBitrate('abc'), SyntaxError, 'Cannot convert abc to a BigInt'],
    ['setMinOutgoingBitrate Infinity', (c) => c.plain.setMinOutgoingBitrate(Infinity), RangeError, notInteger(Infinity)],

    ['enableTraceEvent not an array', (c) => c.plain.enableTraceEvent('bwe'), TypeError, 'types must be an array'],
    ['enableTraceEvent not strings', (c) => c.plain.enableTraceEvent([1]), TypeError, 'every type must be a string'],
    ['plain connect port NaN', (c) => c.plain.connect({ ip: '127.0.0.1', port: NaN }),
      TypeError, 'port must be an integer in [1, 65535]'],
    ['plain connect no port', (c) => c.plain.connect({ ip: '127.0.0.1' }), TypeError, 'missing port'],

    // produce().
    ['produce no kind', (c) => c.direct.produce({ rtpParameters: audioParams() }), TypeError, 'invalid kind "undefined"'],
    ['produce no rtpParameters', (c) => c.direct.produce({ kind: 'audio' }), TypeError, 'params is not an object'],
    ['produce codecs not an array', (c) => c.direct.produce({ kind: 'audio', rtpParameters: { codecs: {} } }),
      TypeError, 'missing params.codecs'],
    ['produce appData', (c) => produceAudio(c, {}, { appData: 'x' }),
      TypeError, 'if given, appData must be an object'],
    ['produce id not a string', (c) => c.direct.produce({ id: 5, kind: 'audio', rtpParameters: audioParams() }),
      TypeError, 'if given, id must be a string'],
    ['produce duplicated id', (c) => c.direct.produce({ id: c.producer.id, kind: 'audio', rtpParameters: audioParams() }),
      TypeError, (c) => `a Producer with same id "${c.producer.id}" already exists`],
    ['produce payloadType 300', (c) => produceAudio(c, { codec: { payloadType: 300 } }),
      TypeError, 'invalid codec.payloadType'],
    ['produce payloadType 128', (c) => produceAudio(c, { codec: { payloadType: 128 } }),
      TypeError, 'invalid codec.payloadType'],
    ['produce payloadType 111.5', (c) => produceAudio(c, { codec: { payloadType: 111.5 } }),
      TypeError, 'invalid codec.payloadType'],
    ['produce payloadType string', (c) => produceAudio(c, { codec: { payloadType: '111' } }),
      TypeError, 'missing codec.payloadType'],
    ['produce clockRate -48000', (c) => produceAudio(c, { codec: { clockRate: -48000 } }),
      TypeError, 'invalid codec.clockRate'],
    ['produce channels -2', (c) => produceAudio(c, { codec: { channels: -2 } }),
      TypeError, 'invalid codec.channels'],
    ['produce clockRate not the router\'s', (c) => produceAudio(c, { codec: { clockRate: 44100 } }),
      UnsupportedError, 'unsupported codec [mimeType:audio/opus, payloadType:111]'],
    ['produce header extension id 0', (c) => produceAudio(c, { headerExtensions: [{ ...midExt, id: 0 }] }),
      TypeError, 'invalid id 0'],
    ['produce header extension id 256', (c) => produceAudio(c, { headerExtensions: [{ ...midExt, id: 256 }] }),
      TypeError, 'invalid ext.id'],
    ['produce header extension id 1.5', (c) => produceAudio(c, { headerExtensions: [{ ...midExt, id: 1.5 }] }),
      TypeError, 'invalid ext.id'],
    ['produce encoding.codecPayloadType 367', (c) => produceAudio(c, { encoding: { codecPayloadType: 367 } }),
      TypeError, 'invalid encoding.codecPayloadType'],
    ['produce encoding.maxBitrate -1', (c) => produceAudio(c, { encoding: { maxBitrate: -1 } }),
      TypeError, 'invalid encoding.maxBitrate'],
    ['produce encoding.rid number', (c) => produceAudio(c, { encoding: { rid: 1 } }),
      TypeError, 'invalid encoding.rid'],
    ['produce keyFrameRequestDelay -1', (c) => produceAudio(c, {}, { keyFrameRequestDelay: -1 }),
      TypeError, range('keyFrameRequestDelay', 0, U32, -1)],
    ['produce keyFrameRequestDelay "100"', (c) => produceAudio(c, {}, { keyFrameRequestDelay: '100' }),
      TypeError, range('keyFrameRequestDelay', 0, U32, '"100"')],

    // consume().
    ['consume no producerId', (c) => c.plain.consume({ rtpCapabilities: consumerCaps() }), TypeError, 'missing producerId'],
    ['consume unknown producer', (c) => c.plain.consume({ producerId: 'nope', rtpCapabilities: consumerCaps() }),
      NotFoundError, 'Producer with id "nope" not found'],
    ['consume mid not a string', (c) => consumeWith(c, {}, { mid: 5 }),
      TypeError, 'if given, mid must be non empty string'],
    ['consume caps not an object', (c) => c.plain.consume({ producerId: c.producer.id, rtpCapabilities: 'caps' }),
      TypeError, 'caps is not an object'],
    ['consume caps preferredPayloadType 300', (c) => consumeWith(c, { codec: { preferredPayloadType: 300 } }),
      TypeError, 'invalid codec.preferredPayloadType'],
    ['consume caps clockRate 48000.5', (c) => consumeWith(c, { codec: { clockRate: 48000.5 } }),
      TypeError, 'invalid codec.clockRate'],
    ['consume caps preferredId 0', (c) => consumeWith(c, { ext: { preferredId: 0 } }), TypeError, 'invalid ext.preferredId'],
    ['consume caps preferredId 256', (c) => consumeWith(c, { ext: { preferredId: 256 } }),
      TypeError, 'invalid ext.preferredId'],
    ['consume preferredLayers.spatialLayer 1.5', (c) => consumeWith(c, {}, { preferredLayers: { spatialLayer: 1.5 } }),
      TypeError, range('preferredLayers.spatialLayer', 0, 255, 1.5)],
    ['consume preferredLayers.temporalLayer 256', (c) => consumeWith(c, {}, { preferredLayers: { spatialLayer: 0, temporalLayer: 256 } }),
      TypeError, range('preferredLayers.temporalLayer', 0, 255, 256)],

    // Consumer.
    ['setPreferredLayers no spatialLayer', (c) => c.consumer.setPreferredLayers({}),
      TypeError, 'spatialLayer must be a number'],
    ['setPreferredLayers temporalLayer string', (c) => c.consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: '1' }),
      TypeError, 'if given, temporalLayer must be a number'],
    ['setPreferredLayers spatialLayer 300', (c) => c.consumer.setPreferredLayers({ spatialLayer: 300 }),
      TypeError, range('spatialLayer', 0, 255, 300)],
    ['setPreferredLayers spatialLayer NaN', (c) => c.consumer.setPreferredLayers({ spatialLayer: NaN }),
      TypeError, range('spatialLayer', 0, 255, 'NaN')],
    ['setPreferredLayers temporalLayer -1', (c) => c.consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: -1 }),
      TypeError, range('temporalLayer', 0, 255, -1)],
    ['setPriority -1', (c) => c.consumer.setPriority(-1), TypeError, 'priority must be a positive number'],
    ['setPriority "2"', (c) => c.consumer.setPriority('2'), TypeError, 'priority must be a positive number'],
    ['setPriority 0', (c) => c.consumer.setPriority(0), TypeError, 'wrong priority (must be higher than 0)'],
    ['setPriority 256', (c) => c.consumer.setPriority(256), TypeError, range('priority', 1, 255, 256)],
    ['setPriority 1.5', (c) => c.consumer.setPriority(1.5), TypeError, range('priority', 1, 255, 1.5)],
    ['setPriority NaN', (c) => c.consumer.setPriority(NaN), TypeError, range('priority', 1, 255, 'NaN')],
    ['consumer enableTraceEvent', (c) => c.consumer.enableTraceEvent([null]), TypeError, 'every type must be a string'],

    // Producer.
    ['producer send not a Buffer', (c) => c.producer.send('rtp'), TypeError, 'rtpPacket must be a Buffer', 'sync'],
    ['producer enableTraceEvent', (c) => c.producer.enableTraceEvent({}), TypeError, 'types must be an array'],

    // produceData().
    ['produceData no sctpStreamParameters', (c) => c.plain.produceData({}), TypeError, 'params is not an object'],
    ['produceData streamId string', (c) => produceSctp(c, { streamId: '2' }),
      TypeError, 'missing params.streamId'],
    ['produceData streamId 65535', (c) => produceSctp(c, { streamId: 65535 }),
      TypeError, 'streamId must not be greater than 65534'],
    ['produceData streamId 70000', (c) => produceSctp(c, { streamId: 70000 }),
      TypeError, 'streamId must not be greater than 65534'],
    ['produceData streamId 1.5', (c) => produceSctp(c, { streamId: 1.5 }),
      TypeError, range('streamId', 0, 65534, 1.5)],
    ['produceData streamId NaN', (c) => produceSctp(c, { streamId: NaN }),
      TypeError, range('streamId', 0, 65534, 'NaN')],
    ['produceData maxPacketLifeTime string', (c) => produceSctp(c, { streamId: 2, maxPacketLifeTime: '1' }),
      TypeError, 'invalid params.maxPacketLifeTime'],
    ['produceData maxPacketLifeTime 70000', (c) => produceSctp(c, { streamId: 2, maxPacketLifeTime: 70000 }),
      TypeError, range('maxPacketLifeTime', 0, 65535, 70000)],
    ['produceData maxRetransmits NaN', (c) => produceSctp(c, { streamId: 2, maxRetransmits: NaN }),
      TypeError, range('maxRetransmits', 0, 65535, 'NaN')],
    ['produceData both limits', (c) => produceSctp(c, { streamId: 2, maxPacketLifeTime: 1, maxRetransmits: 1 }),
      TypeError, 'cannot provide both maxPacketLifeTime and maxRetransmits'],
    ['produceData ordered with a limit', (c) => produceSctp(c, { streamId: 2, ordered: true, maxRetransmits: 1 }),
      TypeError, 'cannot be ordered with maxPacketLifeTime or maxRetransmits'],
    ['produceData duplicated id', (c) => c.plain.produceData({ id: c.dataProducer.id, sctpStreamParameters: { streamId: 2 } }),
      TypeError, (c) => `a DataProducer with same id "${c.dataProducer.id}" already exists`],

    // consumeData().
    ['consumeData no dataProducerId', (c) => c.plain.consumeData({}), TypeError, 'missing dataProducerId'],
    ['consumeData unknown data producer', (c) => c.plain.consumeData({ dataProducerId: 'nope' }), NotFoundError,
      'DataProducer with id "nope" not found'],
    ['consumeData maxRetransmits -1', (c) => c.plain.consumeData({ dataProducerId: c.dataProducer.id, maxRetransmits: -1 }),
      TypeError, range('maxRetransmits', 0, 65535, -1)],
    ['consumeData maxPacketLifeTime 1.5', (c) => c.plain.consumeData({ dataProducerId: c.dataProducer.id, maxPacketLifeTime: 1.5 }),
      TypeError, range('maxPacketLifeTime', 0, 65535, 1.5)],
    ['consumeData subchannels [70000]', (c) => c.plain.consumeData({ dataProducerId: c.dataProducer.id, subchannels: [1, 70000] }),
      TypeError, range('subchannels[1]', 0, 65535, 70000)],

    // DataConsumer.
    ['setBufferedAmountLowThreshold -1', (c) => c.dataConsumer.setBufferedAmountLowThreshold(-1),
      TypeError, range('threshold', 0, U32, -1)],
    ['setBufferedAmountLowThreshold NaN', (c) => c.dataConsumer.setBufferedAmountLowThreshold(NaN),
      TypeError, range('threshold', 0, U32, 'NaN')],
    ['setBufferedAmountLowThreshold 2^32', (c) => c.dataConsumer.setBufferedAmountLowThreshold(2 ** 32), TypeError,
      range('threshold', 0, U32, 2 ** 32)],
    ['setSubchannels not an array', (c) => c.dataConsumer.setSubchannels(1), TypeError, 'subchannels must be an array'],
    ['setSubchannels [65536]', (c) => c.dataConsumer.setSubchannels([65536]),
      TypeError, range('subchannels[0]', 0, 65535, 65536)],
    ['addSubchannel -1', (c) => c.dataConsumer.addSubchannel(-1), TypeError, range('subchannel', 0, 65535, -1)],
    ['removeSubchannel undefined', (c) => c.dataConsumer.removeSubchannel(),
      TypeError, range('subchannel', 0, 65535, 'undefined')],
    ['dataConsumer send number', (c) => c.dataConsumer.send(5), TypeError, 'message must be a string or a Buffer'],
    ['dataConsumer send ppid 2^32', (c) => c.dataConsumer.send('x', 2 ** 32), TypeError, range('ppid', 0, U32, 2 ** 32)],

    // DataProducer.send() throws synchronously.
    ['dataProducer send number', (c) => c.directDataProducer.send(5),
      TypeError, 'message must be a string or a Buffer', 'sync'],
    ['dataProducer send ppid -1', (c) => c.directDataProducer.send('x', -1), TypeError, range('ppid', 0, U32, -1), 'sync'],
    ['dataProducer send ppid 51.5', (c) => c.directDataProducer.send('x', 51.5),
      TypeError, range('ppid', 0, U32, 51.5), 'sync'],
    ['dataProducer send subchannel 70000', (c) => c.directDataProducer.send('x', 51, [70000]), TypeError,
      range('subchannels[0]', 0, 65535, 70000), 'sync'],
    ['dataProducer send requiredSubchannel 1.5', (c) => c.directDataProducer.send('x', 51, [], 1.5), TypeError,
      range('requiredSubchannel', 0, 65535, 1.5), 'sync'],
    ['dataProducer send ignoredSubchannel "2"', (c) => c.directDataProducer.send('x', 51, [], undefined, '2'), TypeError,
      range('ignoredSubchannel', 0, 65535, '"2"'), 'sync'],

    // RTP observers.
    ['rtpObserver addProducer unknown', async (c) => (await c.router.createAudioLevelObserver()).addProducer({ producerId: 'nope' }),
      NotFoundError, 'Producer with id "nope" not found'],
  ];

  for (const [name, call, Class, expected, sync] of cases) {
    it(`${name}: ${Class.name}`, async () => {
      const message = typeof expected === 'function' ? expected(ctx) : expected;
      if (sync) assertThrows(() => call(ctx), Class, message);
      else await assertRejects(() => call(ctx), Class, message);
    });
  }

  it('canConsume() with bad capabilities answers false instead of throwing', () => {
    for (const rtpCapabilities of [undefined, 'caps', consumerCaps({ codec: { preferredPayloadType: 300 } })]) {
      assert.equal(ctx.router.canConsume({ producerId: ctx.producer.id, rtpCapabilities }), false);
    }
    assert.equal(ctx.router.canConsume({ producerId: 'nope', rtpCapabilities: consumerCaps() }), false);
    assert.equal(ctx.router.canConsume({ producerId: ctx.producer.id, rtpCapabilities: consumerCaps() }), true);
  });

  it('the edges of each range are accepted', async () => {
    const { router, plain, consumer, dataConsumer, directDataProducer } = ctx;
    const edgeRouter = await ctx.worker.createRouter({
      mediaCodecs: [{ ...mediaCodecs[0], preferredPayloadType: 127 }, { ...mediaCodecs[1], preferredPayloadType: 0 }],
    });
    assert.deepEqual(edgeRouter.rtpCapabilities.codecs.map((c) => c.preferredPayloadType).slice(0, 2), [127, 0]);
    const transport = await router.createDirectTransport({ maxSendMessageSize: U32, maxReceiveMessageSize: 0 });
    const producer = await transport.produce({
      kind: 'audio',
      keyFrameRequestDelay: U32,
      rtpParameters: audioParams({
        codec: { payloadType: 0 },
        headerExtensions: [{ ...midExt, id: 255 }],
        encoding: { ssrc: 2222, codecPayloadType: 0, maxBitrate: Number.MAX_SAFE_INTEGER },
      }),
    });
    assert.equal(producer.rtpParameters.codecs[0].payloadType, 0);
    assert.equal(producer.rtpParameters.headerExtensions[0].id, 255);
    await plain.setMaxIncomingBitrate(0);
    await plain.setMaxIncomingBitrate(2 ** 62);
    await plain.setMaxOutgoingBitrate(0);
    await plain.setMinOutgoingBitrate(30000);
    await plain.setMinOutgoingBitrate(0);
    await consumer.setPreferredLayers({ spatialLayer: 255, temporalLayer: 0 });
    await consumer.setPriority(255);
    assert.equal(consumer.priority, 255);
    await consumer.setPriority(1);
    await dataConsumer.setBufferedAmountLowThreshold(U32);
    await dataConsumer.setBufferedAmountLowThreshold(0);
    await dataConsumer.setSubchannels([0, 65535]);
    assert.deepEqual(dataConsumer.subchannels, [0, 65535]);
    await dataConsumer.setSubchannels([]);
    directDataProducer.send('x', U32, [0, 65535], 0, 65535);
    const edgeData = await plain.produceData({ sctpStreamParameters: { streamId: 65534, maxPacketLifeTime: 65535 } });
    assert.equal(edgeData.sctpStreamParameters.streamId, 65534);
    assert.equal(edgeData.sctpStreamParameters.maxPacketLifeTime, 65535);
    const observer = await router.createAudioLevelObserver({ maxEntries: 65535, threshold: -127, interval: 65535 });
    const speaker = await router.createActiveSpeakerObserver({ interval: 0 });
    const webRtc = await router.createWebRtcTransport({
      ...webRtcInfos, iceConsentTimeout: 255, initialAvailableOutgoingBitrate: 0, sctpSendBufferSize: U32,
    });
    for (const x of [observer, speaker, webRtc, transport, edgeRouter]) x.close();
  });

  it('huge strings neither crash nor stall the worker', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    // As in mediasoup, these are accepted: appData stays in JS, the others
    // are only carried (an RTP MID or RID that long can never be sent, so
    // the engine leaves it out of the packets or never matches it).
    const transport = await ctx.router.createDirectTransport({ appData: { huge } });
    const producer = await transport.produce({
      kind: 'audio', rtpParameters: { ...audioParams(), mid: huge }, appData: { huge },
    });
    assert.equal(producer.rtpParameters.mid.length, huge.length);
    const consumer = await ctx.plain.consume({ producerId: ctx.producer.id, rtpCapabilities: consumerCaps(), mid: huge });
    assert.equal(consumer.rtpParameters.mid.length, huge.length);
    const dataProducer = await transport.produceData({ label: huge, protocol: huge });
    assert.equal(dataProducer.label.length, huge.length);
    // Errors quoting a huge value stay short.
    const error = await assertRejects(ctx.router.createDirectTransport({ maxSendMessageSize: huge }), TypeError,
      range('maxSendMessageSize', 0, U32, `"${'x'.repeat(32)}…"`));
    assert.ok(error.message.length < 200);
    await assertRejects(transport.produce({ kind: huge, rtpParameters: audioParams() }), TypeError, `invalid kind "${huge}"`);
    consumer.close();
    transport.close();
  });

  it('the worker still works after the table: a transport produces and consumes', async () => {
    assert.equal(ctx.worker.closed, false);
    const transport = await ctx.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
    const producer = await transport.produce({ kind: 'audio', rtpParameters: audioParams({ encoding: { ssrc: 3333 } }) });
    const consumer = await ctx.plain.consume({ producerId: producer.id, rtpCapabilities: consumerCaps() });
    assert.equal(consumer.kind, 'audio');
    assert.equal((await ctx.worker.dump()).routerIds.length >= 2, true);
    transport.close();
  });
});
