'use strict';

// The test page: the unmodified mediasoup-client, driven by the mocha test
// through page.evaluate(). Bundled at test time by test/browser/chromium.js
// (esbuild --bundle --format=iife --platform=browser).
//
// Signalling goes through window.gosfuSignal(method, data), a function the
// test exposes with page.exposeFunction(); it answers with whatever the
// server side returns (or throws, and the error reaches mediasoup-client's
// errback).

const mediasoupClient = require('mediasoup-client');

const state = {
  device: undefined,
  transports: new Map(), // id -> mediasoup-client Transport
  producers: new Map(), // id -> Producer
  consumers: new Map(), // id -> Consumer
  events: [], // { type, id, ... } things the test can poll
};

function record(event) {
  state.events.push({ time: Date.now(), ...event });
}

function signal(method, data) {
  if (typeof window.gosfuSignal !== 'function') {
    throw new Error('window.gosfuSignal() is not exposed');
  }
  return window.gosfuSignal(method, data);
}

async function loadDevice(routerRtpCapabilities) {
  const { Device } = mediasoupClient;
  const device = typeof Device.factory === 'function' ? await Device.factory() : new Device();
  await device.load({ routerRtpCapabilities });
  state.device = device;
  return { handlerName: device.handlerName, rtpCapabilities: device.rtpCapabilities };
}

function wireTransport(transport, direction) {
  state.transports.set(transport.id, transport);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal('connect', { transportId: transport.id, dtlsParameters })
      .then(() => callback())
      .catch((error) => errback(error instanceof Error ? error : new Error(String(error))));
  });
  if (direction === 'send') {
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      signal('produce', { transportId: transport.id, kind, rtpParameters, appData })
        .then(({ id }) => callback({ id }))
        .catch((error) => errback(error instanceof Error ? error : new Error(String(error))));
    });
  }
  transport.on('connectionstatechange', (connectionState) => {
    record({ type: 'connectionstatechange', transportId: transport.id, connectionState });
  });
  return transport.id;
}

function transportOptions(params) {
  return {
    id: params.id,
    iceParameters: params.iceParameters,
    iceCandidates: params.iceCandidates,
    dtlsParameters: params.dtlsParameters,
    sctpParameters: params.sctpParameters,
    iceServers: [],
  };
}

function createSendTransport(params) {
  return wireTransport(state.device.createSendTransport(transportOptions(params)), 'send');
}

function createRecvTransport(params) {
  return wireTransport(state.device.createRecvTransport(transportOptions(params)), 'recv');
}

/**
 * Opens Chromium's fake camera and/or microphone and produces them on the
 * given send transport. Resolves with { audio: producerId, video: producerId }.
 * videoCodecMimeType (e.g. 'video/VP9') picks the video codec.
 */
async function produce(transportId, {
  audio = true, video = true, encodings, videoCodecMimeType,
} = {}) {
  const transport = state.transports.get(transportId);
  if (!transport) throw new Error(`no transport ${transportId}`);
  const stream = await navigator.mediaDevices.getUserMedia({
    audio,
    video: video ? { width: 640, height: 480, frameRate: 20 } : false,
  });
  const ids = {};
  for (const track of stream.getTracks()) {
    const options = { track, appData: { kind: track.kind } };
    if (track.kind === 'video' && encodings) options.encodings = encodings;
    if (track.kind === 'video' && videoCodecMimeType) {
      // The device's codec entry, e.g. video/VP9 for SVC.
      options.codec = state.device.rtpCapabilities.codecs
        .find((c) => c.mimeType.toLowerCase() === videoCodecMimeType.toLowerCase());
      if (!options.codec) throw new Error(`no ${videoCodecMimeType} in the device's rtpCapabilities`);
    }
    const producer = await transport.produce(options);
    state.producers.set(producer.id, producer);
    producer.on('transportclose', () => record({ type: 'producer.transportclose', id: producer.id }));
    producer.on('trackended', () => record({ type: 'producer.trackended', id: producer.id }));
    ids[track.kind] = producer.id;
  }
  return ids;
}

/** Consumes server-side consumer params; resolves with the consumer id. */
async function consume(transportId, { id, producerId, kind, rtpParameters }) {
  const transport = state.transports.get(transportId);
  if (!transport) throw new Error(`no transport ${transportId}`);
  const consumer = await transport.consume({ id, producerId, kind, rtpParameters });
  state.consumers.set(consumer.id, consumer);
  consumer.on('transportclose', () => record({ type: 'consumer.transportclose', id: consumer.id }));
  consumer.on('trackended', () => record({ type: 'consumer.trackended', id: consumer.id }));
  // Play it, as an application would (also makes Chromium decode audio).
  const element = document.createElement(kind === 'video' ? 'video' : 'audio');
  element.id = `consumer-${consumer.id}`;
  element.autoplay = true;
  element.muted = true;
  element.playsInline = true;
  element.srcObject = new MediaStream([consumer.track]);
  document.body.appendChild(element);
  element.play().catch(() => {});
  return consumer.id;
}

function closeConsumer(id) {
  const consumer = state.consumers.get(id);
  if (!consumer) return false;
  consumer.close();
  state.consumers.delete(id);
  const element = document.getElementById(`consumer-${id}`);
  if (element) element.remove();
  return true;
}

function closeProducer(id) {
  const producer = state.producers.get(id);
  if (!producer) return false;
  producer.close();
  state.producers.delete(id);
  return true;
}

function closeTransport(id) {
  const transport = state.transports.get(id);
  if (!transport) return false;
  transport.close();
  state.transports.delete(id);
  return true;
}

/**
 * The inbound-rtp figures of a consumer (from its RTCRtpReceiver's stats):
 * { kind, packetsReceived, bytesReceived, framesDecoded, frameWidth,
 *   frameHeight, packetsLost, ssrc }.
 */
async function consumerStats(id) {
  const consumer = state.consumers.get(id);
  if (!consumer) throw new Error(`no consumer ${id}`);
  const report = await consumer.getStats();
  const result = { kind: consumer.kind, found: false };
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    result.found = true;
    result.ssrc = s.ssrc;
    result.packetsReceived = s.packetsReceived || 0;
    result.bytesReceived = s.bytesReceived || 0;
    result.packetsLost = s.packetsLost || 0;
    if (consumer.kind === 'video') {
      result.framesDecoded = s.framesDecoded || 0;
      result.frameWidth = s.frameWidth || 0;
      result.frameHeight = s.frameHeight || 0;
      result.keyFramesDecoded = s.keyFramesDecoded || 0;
    } else {
      result.totalSamplesReceived = s.totalSamplesReceived || 0;
    }
  });
  return result;
}

/** The outbound-rtp figures of a producer: { packetsSent, bytesSent, framesEncoded }. */
async function producerStats(id) {
  const producer = state.producers.get(id);
  if (!producer) throw new Error(`no producer ${id}`);
  const report = await producer.getStats();
  const result = { kind: producer.kind, packetsSent: 0, bytesSent: 0, framesEncoded: 0 };
  report.forEach((s) => {
    if (s.type !== 'outbound-rtp') return;
    result.packetsSent += s.packetsSent || 0;
    result.bytesSent += s.bytesSent || 0;
    result.framesEncoded += s.framesEncoded || 0;
  });
  return result;
}

/** Drains the recorded events. */
function takeEvents() {
  const events = state.events;
  state.events = [];
  return events;
}

/** Connection states of every transport, by id. */
function transportStates() {
  const out = {};
  for (const [id, transport] of state.transports) out[id] = transport.connectionState;
  return out;
}

window.gosfu = {
  version: mediasoupClient.version,
  loadDevice,
  createSendTransport,
  createRecvTransport,
  produce,
  consume,
  closeConsumer,
  closeProducer,
  closeTransport,
  consumerStats,
  producerStats,
  takeEvents,
  transportStates,
};
/**
 * Per-encoding outbound-rtp figures of a producer (simulcast: one per rid),
 * plus the send transport's availableOutgoingBitrate:
 * { encodings: [{ rid, ssrc, packetsSent, bytesSent, framesEncoded,
 *   frameWidth, frameHeight, framesPerSecond, targetBitrate,
 *   qualityLimitationReason, active, scalabilityMode }],
 *   availableOutgoingBitrate }.
 */
async function producerEncodingStats(id) {
  const producer = state.producers.get(id);
  if (!producer) throw new Error(`no producer ${id}`);
  const report = await producer.getStats();
  const encodings = [];
  let availableOutgoingBitrate;
  report.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && typeof s.availableOutgoingBitrate === 'number') {
      availableOutgoingBitrate = s.availableOutgoingBitrate;
    }
    if (s.type !== 'outbound-rtp') return;
    encodings.push({
      rid: s.rid,
      ssrc: s.ssrc,
      packetsSent: s.packetsSent || 0,
      bytesSent: s.bytesSent || 0,
      framesEncoded: s.framesEncoded || 0,
      frameWidth: s.frameWidth || 0,
      frameHeight: s.frameHeight || 0,
      framesPerSecond: s.framesPerSecond || 0,
      targetBitrate: s.targetBitrate || 0,
      qualityLimitationReason: s.qualityLimitationReason,
      active: s.active,
      scalabilityMode: s.scalabilityMode,
    });
  });
  encodings.sort((a, b) => String(a.rid).localeCompare(String(b.rid)));
  return { encodings, availableOutgoingBitrate };
}

/**
 * consumerStats() plus the video receiver's freeze and drop counters
 * (freezeCount, totalFreezesDuration, pauseCount, framesDropped,
 * framesReceived, nackCount, pliCount, firCount).
 */
async function consumerVideoStats(id) {
  const result = await consumerStats(id);
  const consumer = state.consumers.get(id);
  const report = await consumer.getStats();
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    result.freezeCount = s.freezeCount || 0;
    result.totalFreezesDuration = s.totalFreezesDuration || 0;
    result.pauseCount = s.pauseCount || 0;
    result.framesDropped = s.framesDropped || 0;
    result.framesReceived = s.framesReceived || 0;
    result.nackCount = s.nackCount || 0;
    result.pliCount = s.pliCount || 0;
    result.firCount = s.firCount || 0;
  });
  return result;
}

Object.assign(window.gosfu, { producerEncodingStats, consumerVideoStats });

/**
 * What a frame rate check needs from a video consumer's inbound-rtp stats:
 * { time (ms, performance.now()), framesDecoded, framesPerSecond,
 *   frameWidth, freezeCount, totalFreezesDuration, framesDropped }.
 */
async function consumerFrameRate(id) {
  const consumer = state.consumers.get(id);
  if (!consumer) throw new Error(`no consumer ${id}`);
  const report = await consumer.getStats();
  const result = { time: performance.now() };
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    result.framesDecoded = s.framesDecoded || 0;
    result.framesPerSecond = s.framesPerSecond || 0;
    result.frameWidth = s.frameWidth || 0;
    result.freezeCount = s.freezeCount || 0;
    result.totalFreezesDuration = s.totalFreezesDuration || 0;
    result.framesDropped = s.framesDropped || 0;
  });
  return result;
}

Object.assign(window.gosfu, { consumerFrameRate });
window.gosfuReady = true;
