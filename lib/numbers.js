'use strict';

// Range checks of the numbers the API hands to the engine. mediasoup passes
// them to its worker as fixed-width integers, so an out-of-range or
// fractional number is silently wrapped or truncated there (port 70000
// binds 4464, a payload type of 300 becomes 44, 1.5 becomes 1; NaN becomes
// 0). gosfu refuses them with a TypeError naming the argument: a deliberate
// difference (see the README). Where mediasoup itself throws for a value,
// its own check runs first and keeps its error.

const UINT8_MAX = 0xff;
const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffff;

/** mediasoup's upper bound for bitrates (its worker's AbsoluteMaxBitrate). */
const MAX_BITRATE = 9223372036854775806n;

/** A short rendering of a bad value for an error message. */
function show(value) {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

function isIntegerIn(value, min, max) {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Returns value if it is an integer number in [min, max], else throws
 * TypeError "<name> must be an integer in [min, max] (got <value>)".
 */
function checkInteger(value, name, min, max) {
  if (!isIntegerIn(value, min, max)) {
    throw new TypeError(`${name} must be an integer in [${min}, ${max}] (got ${show(value)})`);
  }
  return value;
}

/** checkInteger unless value is undefined or null (an omitted option). */
function checkOptionalInteger(value, name, min, max) {
  if (value === undefined || value === null) return value;
  return checkInteger(value, name, min, max);
}

/** Each element of an array as checkInteger checks it. */
function checkIntegerArray(values, name, min, max) {
  values.forEach((value, i) => checkInteger(value, `${name}[${i}]`, min, max));
  return values;
}

/**
 * A bitrate as mediasoup reads it: converted with BigInt() (so undefined,
 * null, NaN, 1.5 or 'abc' throw the same TypeError/RangeError/SyntaxError
 * as mediasoup's), then refused with `rangeMessage` when negative or above
 * mediasoup's maximum (mediasoup's worker refuses the same values, a
 * negative one wrapped to a huge one, except those that wrap to a small
 * one: -2^64 would become 0). Returns a Number for the engine; one beyond
 * 2^53 (petabits per second) is sent as 2^53-1, the same "no limit".
 */
function checkBitrate(value, rangeMessage) {
  const bitrate = BigInt(value);
  if (bitrate < 0n || bitrate > MAX_BITRATE) throw new TypeError(rangeMessage);
  return bitrate > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(bitrate);
}

/**
 * A remote port given to connect(): the engine checks its range, but NaN
 * and ±Infinity would reach it as null (JSON), i.e. "missing port", so they
 * are refused here with the engine's message for the other bad ports.
 */
function checkRemotePort(value, name) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`${name} must be an integer in [1, 65535]`);
  }
}

/**
 * The numbers of a listen info (port, portRange, socket buffer sizes):
 * each one, if given, must fit its field. Throws TypeError prefixed with
 * "invalid listen info: " as the engine's own listen info errors.
 */
function checkListenInfoNumbers(info) {
  const check = (value, name, max) => {
    if (value === undefined || value === null) return;
    if (!isIntegerIn(value, 0, max)) {
      throw new TypeError(`invalid listen info: ${name} must be an integer in [0, ${max}] (got ${show(value)})`);
    }
  };
  check(info.port, 'port', UINT16_MAX);
  if (info.portRange && typeof info.portRange === 'object') {
    check(info.portRange.min, 'portRange.min', UINT16_MAX);
    check(info.portRange.max, 'portRange.max', UINT16_MAX);
  }
  check(info.sendBufferSize, 'sendBufferSize', UINT32_MAX);
  check(info.recvBufferSize, 'recvBufferSize', UINT32_MAX);
}

module.exports = {
  UINT8_MAX,
  UINT16_MAX,
  UINT32_MAX,
  MAX_BITRATE,
  show,
  isIntegerIn,
  checkInteger,
  checkOptionalInteger,
  checkIntegerArray,
  checkBitrate,
  checkRemotePort,
  checkListenInfoNumbers,
};
