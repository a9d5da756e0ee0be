'use strict';

// Helpers shared by the data classes (Transport, DataProducer,
// DataConsumer): SCTP stream parameter checks, WebRTC PPIDs, the binary
// payloads of dataProducer.send / dataConsumer.send / 'message', and the
// dump shapes mediasoup returns.

const numbers = require('./numbers');

/** WebRTC DataChannel PPIDs (RFC 8831). */
const PPID_STRING = 51;
const PPID_BINARY = 53;
const PPID_STRING_EMPTY = 56;
const PPID_BINARY_EMPTY = 57;

/** The highest SCTP stream id (mediasoup's limit). */
const MAX_STREAM_ID = 65534;

/**
 * A stream id: an integer in [0, 65534]. mediasoup wraps 70000 into 4464;
 * gosfu refuses it, with mediasoup's message for ids above the limit.
 */
function checkStreamId(streamId) {
  if (Number.isInteger(streamId) && streamId > MAX_STREAM_ID) {
    throw new TypeError(`streamId must not be greater than ${MAX_STREAM_ID}`);
  }
  numbers.checkInteger(streamId, 'streamId', 0, MAX_STREAM_ID);
}

/** A subchannel (uint16 in mediasoup's messages), never wrapped. */
function checkSubchannel(value, name) {
  return numbers.checkInteger(value, name, 0, numbers.UINT16_MAX);
}

/**
 * Checks SctpStreamParameters given to produceData() and fills in the
 * default ordered value (mediasoup's rules and messages). Modifies params.
 */
function validateSctpStreamParameters(params) {
  if (typeof params !== 'object') {
    throw new TypeError('params is not an object');
  }
  if (typeof params.streamId !== 'number') {
    throw new TypeError('missing params.streamId');
  }
  checkStreamId(params.streamId);
  const orderedGiven = typeof params.ordered === 'boolean';
  if (!orderedGiven) params.ordered = true;
  if (params.maxPacketLifeTime && typeof params.maxPacketLifeTime !== 'number') {
    throw new TypeError('invalid params.maxPacketLifeTime');
  }
  if (params.maxRetransmits && typeof params.maxRetransmits !== 'number') {
    throw new TypeError('invalid params.maxRetransmits');
  }
  // Numbers mediasoup would wrap into its uint16 fields (NaN included,
  // which its checks above let through).
  if (typeof params.maxPacketLifeTime === 'number') {
    numbers.checkInteger(params.maxPacketLifeTime, 'maxPacketLifeTime', 0, numbers.UINT16_MAX);
  }
  if (typeof params.maxRetransmits === 'number') {
    numbers.checkInteger(params.maxRetransmits, 'maxRetransmits', 0, numbers.UINT16_MAX);
  }
  const partiallyReliable = Boolean(params.maxPacketLifeTime || params.maxRetransmits);
  if (params.maxPacketLifeTime && params.maxRetransmits) {
    throw new TypeError('cannot provide both maxPacketLifeTime and maxRetransmits');
  }
  if (orderedGiven && params.ordered && partiallyReliable) {
    throw new TypeError('cannot be ordered with maxPacketLifeTime or maxRetransmits');
  } else if (!orderedGiven && partiallyReliable) {
    params.ordered = false;
  }
}

/**
 * SctpStreamParameters as the engine gets them (absent optional fields
 * omitted). The numbers were checked by the caller; the engine checks them
 * again rather than wrapping them.
 */
function serializeSctpStreamParameters(params) {
  if (!params) return undefined;
  const out = { streamId: params.streamId, ordered: Boolean(params.ordered) };
  if (typeof params.maxPacketLifeTime === 'number') out.maxPacketLifeTime = params.maxPacketLifeTime;
  if (typeof params.maxRetransmits === 'number') out.maxRetransmits = params.maxRetransmits;
  return out;
}

/** SctpStreamParameters in mediasoup's shape (every key present), or undefined. */
function parseSctpStreamParameters(params) {
  if (!params || typeof params !== 'object') return undefined;
  return {
    streamId: params.streamId,
    ordered: params.ordered,
    maxPacketLifeTime: typeof params.maxPacketLifeTime === 'number' ? params.maxPacketLifeTime : undefined,
    maxRetransmits: typeof params.maxRetransmits === 'number' ? params.maxRetransmits : undefined,
  };
}

function parseDataProducerDump(dump) {
  return {
    id: dump.id,
    type: dump.type,
    sctpStreamParameters: parseSctpStreamParameters(dump.sctpStreamParameters),
    label: dump.label,
    protocol: dump.protocol,
    paused: dump.paused,
  };
}

function parseDataConsumerDump(dump) {
  return {
    id: dump.id,
    dataProducerId: dump.dataProducerId,
    type: dump.type,
    sctpStreamParameters: parseSctpStreamParameters(dump.sctpStreamParameters),
    label: dump.label,
    protocol: dump.protocol,
    bufferedAmount: dump.bufferedAmount,
    bufferedAmountLowThreshold: dump.bufferedAmountLowThreshold,
    paused: dump.paused,
    dataProducerPaused: dump.dataProducerPaused,
    subchannels: Array.isArray(dump.subchannels) ? dump.subchannels : [],
  };
}

/**
 * The PPID and bytes a message travels with: the WebRTC PPID for its kind
 * when none is given; an empty-message PPID (56/57) replaces the message by
 * the one byte WebRTC sends for it.
 */
function prepareMessage(message, ppid) {
  if (typeof ppid === 'number') {
    // uint32 in mediasoup, which would wrap the others.
    numbers.checkInteger(ppid, 'ppid', 0, numbers.UINT32_MAX);
  } else if (typeof message === 'string') {
    ppid = message.length > 0 ? PPID_STRING : PPID_STRING_EMPTY;
  } else {
    ppid = message.length > 0 ? PPID_BINARY : PPID_BINARY_EMPTY;
  }
  if (ppid === PPID_STRING_EMPTY) message = ' ';
  else if (ppid === PPID_BINARY_EMPTY) message = Buffer.alloc(1);
  return {
    ppid,
    message: typeof message === 'string' ? Buffer.from(message, 'utf8') : message,
  };
}

const FLAG_REQUIRED_SUBCHANNEL = 0x01;
const FLAG_IGNORED_SUBCHANNEL = 0x02;

/**
 * dataProducer.send payload (big-endian): u32 ppid | u16 n | n × u16
 * subchannels | u8 flags | u16 requiredSubchannel | u16 ignoredSubchannel |
 * message.
 */
function encodeDataProducerSend({
  ppid, message, subchannels, requiredSubchannel, ignoredSubchannel,
}) {
  const list = Array.isArray(subchannels) ? subchannels : [];
  list.forEach((subchannel, i) => checkSubchannel(subchannel, `subchannels[${i}]`));
  const hasRequired = requiredSubchannel !== undefined && requiredSubchannel !== null;
  const hasIgnored = ignoredSubchannel !== undefined && ignoredSubchannel !== null;
  if (hasRequired) checkSubchannel(requiredSubchannel, 'requiredSubchannel');
  if (hasIgnored) checkSubchannel(ignoredSubchannel, 'ignoredSubchannel');
  const headerLength = 4 + 2 + 2 * list.length + 1 + 2 + 2;
  const out = Buffer.allocUnsafe(headerLength + message.length);
  let offset = out.writeUInt32BE(ppid, 0);
  offset = out.writeUInt16BE(list.length, offset);
  for (const subchannel of list) offset = out.writeUInt16BE(subchannel, offset);
  offset = out.writeUInt8((hasRequired ? FLAG_REQUIRED_SUBCHANNEL : 0) | (hasIgnored ? FLAG_IGNORED_SUBCHANNEL : 0), offset);
  offset = out.writeUInt16BE(hasRequired ? requiredSubchannel : 0, offset);
  offset = out.writeUInt16BE(hasIgnored ? ignoredSubchannel : 0, offset);
  message.copy(out, offset);
  return out;
}

/** dataConsumer.send payload: u32 ppid (big-endian) | message. */
function encodeDataConsumerSend({ ppid, message }) {
  const out = Buffer.allocUnsafe(4 + message.length);
  out.writeUInt32BE(ppid, 0);
  message.copy(out, 4);
  return out;
}

/** A 'message' event payload (u32 ppid big-endian | message) → {ppid, message}. */
function decodeMessage(payload) {
  if (!Buffer.isBuffer(payload) || payload.length < 4) return undefined;
  return { ppid: payload.readUInt32BE(0), message: payload.subarray(4) };
}

module.exports = {
  checkStreamId,
  checkSubchannel,
  validateSctpStreamParameters,
  serializeSctpStreamParameters,
  parseSctpStreamParameters,
  parseDataProducerDump,
  parseDataConsumerDump,
  prepareMessage,
  encodeDataProducerSend,
  encodeDataConsumerSend,
  decodeMessage,
};
