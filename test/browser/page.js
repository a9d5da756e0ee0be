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

// ---------------------------------------------------------------------------
// DataChannels (DataProducer / DataConsumer of mediasoup-client).
//
// Received messages are kept in the page (texts as they are, binary ones as
// { size, sha256 }) so that the test fetches them in one go; waits are
// promises resolved by the DataChannel events themselves.

const dataState = {
  producers: new Map(), // id -> { dataProducer, events }
  consumers: new Map(), // id -> { dataConsumer, messages, pending, waiters, events, firstAt, lastAt }
};

/** Wall-clock milliseconds (sub-millisecond), comparable between pages. */
function nowMs() {
  return performance.timeOrigin + performance.now();
}

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(data) {
  return hex(await crypto.subtle.digest('SHA-256', data));
}

/** Deterministic pseudo-random bytes (xorshift32) for binary messages. */
function pseudoRandomBytes(size, seed) {
  const bytes = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function dataEntry(id) {
  const entry = dataState.producers.get(id) || dataState.consumers.get(id);
  if (!entry) throw new Error(`no DataProducer or DataConsumer ${id}`);
  return entry;
}

function dataObject(entry) {
  return entry.dataProducer || entry.dataConsumer;
}

function recordDataEvents(entry, object, names) {
  for (const name of names) {
    object.on(name, (arg) => {
      const event = { name, time: nowMs(), readyState: object.readyState };
      if (name === 'error') event.error = String(arg && (arg.message || arg));
      entry.events.push(event);
      if (entry.onEvent) entry.onEvent(event);
    });
  }
  object.observer.on('close', () => {
    const event = { name: 'observer.close', time: nowMs(), readyState: object.readyState };
    entry.events.push(event);
    if (entry.onEvent) entry.onEvent(event);
  });
}

/** The transport's 'producedata' listener (signals 'produceData' to the test). */
function ensureProduceDataListener(transport) {
  if (transport.listenerCount('producedata') > 0) return;
  transport.on('producedata', ({
    sctpStreamParameters, label, protocol, appData,
  }, callback, errback) => {
    signal('produceData', {
      transportId: transport.id, sctpStreamParameters, label, protocol, appData,
    })
      .then(({ id }) => callback({ id }))
      .catch((error) => errback(error instanceof Error ? error : new Error(String(error))));
  });
}

function dataInfo(object) {
  return {
    id: object.id,
    sctpStreamParameters: object.sctpStreamParameters,
    label: object.label,
    protocol: object.protocol,
    readyState: object.readyState,
    closed: object.closed,
  };
}

/**
 * transport.produceData(options) on a send transport (options as
 * mediasoup-client's: ordered, maxPacketLifeTime, maxRetransmits, label,
 * protocol, appData). Resolves with { id, sctpStreamParameters, label,
 * protocol, readyState, closed }.
 */
async function produceData(transportId, options = {}) {
  const transport = state.transports.get(transportId);
  if (!transport) throw new Error(`no transport ${transportId}`);
  ensureProduceDataListener(transport);
  const dataProducer = await transport.produceData(options);
  const entry = { dataProducer, events: [] };
  recordDataEvents(entry, dataProducer, ['open', 'close', 'error', 'transportclose', 'bufferedamountlow']);
  dataState.producers.set(dataProducer.id, entry);
  return dataInfo(dataProducer);
}

function settleWaiters(entry) {
  entry.waiters = entry.waiters.filter((waiter) => !waiter.check());
}

/**
 * transport.consumeData(params) on a receive transport, with the server
 * DataConsumer's { id, dataProducerId, sctpStreamParameters, label,
 * protocol }. Every message received is recorded. Resolves as produceData().
 */
async function consumeData(transportId, params) {
  const transport = state.transports.get(transportId);
  if (!transport) throw new Error(`no transport ${transportId}`);
  const dataConsumer = await transport.consumeData(params);
  dataConsumer.binaryType = 'arraybuffer';
  const entry = {
    dataConsumer, messages: [], pending: new Set(), waiters: [], events: [], firstAt: undefined, lastAt: undefined,
  };
  entry.onEvent = () => settleWaiters(entry);
  recordDataEvents(entry, dataConsumer, ['open', 'close', 'error', 'transportclose']);
  dataConsumer.on('message', (data) => {
    const at = nowMs();
    if (entry.firstAt === undefined) entry.firstAt = at;
    entry.lastAt = at;
    if (typeof data === 'string') {
      entry.messages.push({ type: 'text', text: data, at });
    } else {
      const message = { type: 'binary', size: data.byteLength, sha256: undefined, at };
      entry.messages.push(message);
      const digest = sha256(data).then((value) => { message.sha256 = value; });
      entry.pending.add(digest);
      digest.finally(() => entry.pending.delete(digest));
    }
    settleWaiters(entry);
  });
  dataState.consumers.set(dataConsumer.id, entry);
  return dataInfo(dataConsumer);
}

/** Waits for `check()` to be true, re-checked on every message and event. */
function waitEntry(entry, check, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const waiter = {
      check: () => {
        let value;
        try {
          value = check();
        } catch (error) {
          clearTimeout(timer);
          reject(error);
          return true;
        }
        if (!value) return false;
        clearTimeout(timer);
        resolve(value);
        return true;
      },
    };
    const timer = setTimeout(() => {
      entry.waiters = (entry.waiters || []).filter((w) => w !== waiter);
      reject(new Error(`timeout (${timeoutMs} ms) waiting for ${what()}`));
    }, timeoutMs);
    if (waiter.check()) return;
    if (!entry.waiters) entry.waiters = [];
    entry.waiters.push(waiter);
    if (!entry.onEvent) entry.onEvent = () => settleWaiters(entry);
  });
}

/**
 * Resolves with the readyState once the DataProducer's or DataConsumer's
 * DataChannel is open; rejects when it closes first or after timeoutMs.
 */
function waitDataOpen(id, timeoutMs = 20000) {
  const entry = dataEntry(id);
  const object = dataObject(entry);
  return waitEntry(entry, () => {
    if (object.readyState === 'open') return 'open';
    if (object.closed || object.readyState === 'closed') throw new Error(`${id} closed before opening`);
    return false;
  }, timeoutMs, () => `${id} to open (readyState ${object.readyState})`);
}

/** Resolves once the DataProducer's or DataConsumer's DataChannel is closed. */
function waitDataClosed(id, timeoutMs = 10000) {
  const entry = dataEntry(id);
  const object = dataObject(entry);
  return waitEntry(entry, () => (object.closed && object.readyState === 'closed' ? 'closed' : false),
    timeoutMs, () => `${id} to close (closed ${object.closed}, readyState ${object.readyState})`);
}

/** Resolves with the message count once a DataConsumer has at least `count` messages. */
function waitDataMessages(id, count, timeoutMs = 30000) {
  const entry = dataState.consumers.get(id);
  if (!entry) throw new Error(`no DataConsumer ${id}`);
  return waitEntry(entry, () => (entry.messages.length >= count ? entry.messages.length : false),
    timeoutMs, () => `${count} messages on ${id} (got ${entry.messages.length})`);
}

/** Resolves once a DataConsumer received the text message `text`. */
function waitDataText(id, text, timeoutMs = 10000) {
  const entry = dataState.consumers.get(id);
  if (!entry) throw new Error(`no DataConsumer ${id}`);
  return waitEntry(entry, () => entry.messages.some((m) => m.type === 'text' && m.text === text),
    timeoutMs, () => `the message ${JSON.stringify(text)} on ${id} (got ${entry.messages.length} messages)`);
}

/**
 * What a DataConsumer received, from index `from` (binary digests
 * complete): { count, messages: [{ type, text } | { type, size, sha256 }],
 * firstAt, lastAt }. `withTimes` adds the arrival time `at` of each one.
 */
async function dataReceived(id, { from = 0, withTimes = false } = {}) {
  const entry = dataState.consumers.get(id);
  if (!entry) throw new Error(`no DataConsumer ${id}`);
  while (entry.pending.size > 0) await Promise.all([...entry.pending]);
  const messages = entry.messages.slice(from).map((m) => {
    const out = m.type === 'text' ? { type: 'text', text: m.text } : { type: 'binary', size: m.size, sha256: m.sha256 };
    if (withTimes) out.at = m.at;
    return out;
  });
  return {
    count: entry.messages.length, messages, firstAt: entry.firstAt, lastAt: entry.lastAt,
  };
}

/** Events recorded on a DataProducer or DataConsumer, plus its state. */
function dataEvents(id) {
  const entry = dataEntry(id);
  const object = dataObject(entry);
  return {
    events: entry.events.slice(), readyState: object.readyState, closed: object.closed,
  };
}

/** Waits until the DataProducer's bufferedAmount is 0 (all handed to SCTP). */
function waitDataDrained(id, timeoutMs = 30000) {
  const entry = dataState.producers.get(id);
  if (!entry) throw new Error(`no DataProducer ${id}`);
  const { dataProducer } = entry;
  if (dataProducer.bufferedAmount === 0) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dataProducer.off('bufferedamountlow', onLow);
      reject(new Error(`timeout (${timeoutMs} ms) waiting for ${id} to drain (bufferedAmount ${dataProducer.bufferedAmount})`));
    }, timeoutMs);
    function onLow() {
      if (dataProducer.bufferedAmount !== 0) return;
      clearTimeout(timer);
      dataProducer.off('bufferedamountlow', onLow);
      resolve(0);
    }
    dataProducer.bufferedAmountLowThreshold = 0;
    dataProducer.on('bufferedamountlow', onLow);
    onLow();
  });
}

/** Sends `message`, first waiting for bufferedAmount to fall under `highWater`. */
async function sendPaced(dataProducer, message, highWater) {
  if (dataProducer.bufferedAmount > highWater) {
    await new Promise((resolve) => {
      const onLow = () => {
        dataProducer.off('bufferedamountlow', onLow);
        resolve();
      };
      dataProducer.bufferedAmountLowThreshold = Math.floor(highWater / 4);
      dataProducer.on('bufferedamountlow', onLow);
      if (dataProducer.bufferedAmount <= dataProducer.bufferedAmountLowThreshold) onLow();
    });
  }
  dataProducer.send(message);
}

/**
 * Sends `count` text messages `${prefix}${start + i}` on a DataProducer
 * (bufferedAmount kept under highWater). Resolves with { sent, startedAt,
 * finishedAt } (nowMs()).
 */
async function sendTexts(id, {
  count, prefix = '', start = 0, highWater = 1 << 20, withTime = false,
}) {
  const entry = dataState.producers.get(id);
  if (!entry) throw new Error(`no DataProducer ${id}`);
  const startedAt = nowMs();
  for (let i = 0; i < count; i++) {
    const text = withTime ? `${prefix}${start + i}@${nowMs()}` : `${prefix}${start + i}`;
    await sendPaced(entry.dataProducer, text, highWater);
  }
  return { sent: count, startedAt, finishedAt: nowMs() };
}

/** Sends the text messages of `texts` on a DataProducer, in order. */
async function sendTextList(id, texts) {
  const entry = dataState.producers.get(id);
  if (!entry) throw new Error(`no DataProducer ${id}`);
  for (const text of texts) await sendPaced(entry.dataProducer, text, 1 << 20);
  return texts.length;
}

/**
 * Sends one binary message (pseudo-random bytes) of each size in `sizes` on
 * a DataProducer. Resolves with [{ size, sha256 }] in sending order.
 */
async function sendBinary(id, sizes, { seed = 1, highWater = 4 << 20 } = {}) {
  const entry = dataState.producers.get(id);
  if (!entry) throw new Error(`no DataProducer ${id}`);
  const sent = [];
  for (let i = 0; i < sizes.length; i++) {
    const bytes = pseudoRandomBytes(sizes[i], seed + i);
    sent.push({ size: sizes[i], sha256: await sha256(bytes) });
    await sendPaced(entry.dataProducer, bytes.buffer, highWater);
  }
  return sent;
}

/**
 * Tries to send one binary message of `size` bytes: resolves with
 * { ok: true } or { ok: false, name, message } (what Chromium throws).
 */
function trySendBinary(id, size) {
  const entry = dataState.producers.get(id);
  if (!entry) throw new Error(`no DataProducer ${id}`);
  try {
    entry.dataProducer.send(new Uint8Array(size).buffer);
    return { ok: true };
  } catch (error) {
    return { ok: false, name: error.name, message: error.message };
  }
}

/**
 * The largest message the transport may send or receive as mediasoup-client
 * and Chromium see it: { transport: transport.getDataChannelMaxMessageSize(),
 * sctp: RTCSctpTransport.maxMessageSize of the underlying connection }.
 */
function dataMaxMessageSize(transportId) {
  const transport = state.transports.get(transportId);
  if (!transport) throw new Error(`no transport ${transportId}`);
  let sctp;
  try {
    const pc = transport._handler && transport._handler._pc;
    if (pc && pc.sctp) sctp = pc.sctp.maxMessageSize;
  } catch (error) {
    sctp = undefined;
  }
  return { transport: transport.getDataChannelMaxMessageSize(), sctp };
}

function closeDataProducer(id) {
  const entry = dataState.producers.get(id);
  if (!entry) return false;
  entry.dataProducer.close();
  return true;
}

function closeDataConsumer(id) {
  const entry = dataState.consumers.get(id);
  if (!entry) return false;
  entry.dataConsumer.close();
  return true;
}

Object.assign(window.gosfu, {
  produceData,
  consumeData,
  waitDataOpen,
  waitDataClosed,
  waitDataMessages,
  waitDataText,
  waitDataDrained,
  dataReceived,
  dataEvents,
  sendTexts,
  sendTextList,
  sendBinary,
  trySendBinary,
  dataMaxMessageSize,
  closeDataProducer,
  closeDataConsumer,
});
window.gosfuReady = true;
