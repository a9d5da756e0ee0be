'use strict';

// gosfu/ortc: mediasoup 3.27's 'mediasoup/ortc' helpers, answered by the
// engine's ORTC code (gosfu/ortc, in Go) without a worker: the very code
// createRouter(), produce() and consume() run. serializeRtpMapping is
// absent: it encodes for mediasoup's flatbuffers worker channel, which
// gosfu does not have.
const { Channel } = require('./lib/Channel');

/**
 * Puts the normalized fields into the caller's object, as mediasoup's
 * validateAndNormalize* helpers complete the object they are given.
 */
function normalizeInPlace(target, normalized) {
  if (target && typeof target === 'object' && normalized && typeof normalized === 'object') {
    Object.assign(target, normalized);
  }
}

/** Validates RTP capabilities, adding the defaults missing; throws TypeError if invalid. */
function validateAndNormalizeRtpCapabilities(caps) {
  normalizeInPlace(caps, Channel.globalRequest('validateRtpCapabilities', { value: caps }));
}

/** Validates RTP parameters, adding the defaults missing; throws TypeError if invalid. */
function validateAndNormalizeRtpParameters(params) {
  normalizeInPlace(params, Channel.globalRequest('validateRtpParameters', { value: params }));
}

/** Validates SCTP stream parameters, adding the defaults missing; throws TypeError if invalid. */
function validateAndNormalizeSctpStreamParameters(params) {
  normalizeInPlace(params, Channel.globalRequest('validateSctpStreamParameters', { value: params }));
}

/** The RTP capabilities a router with these media codecs has. */
function generateRouterRtpCapabilities(mediaCodecs = []) {
  return Channel.globalRequest('generateRouterRtpCapabilities', { value: mediaCodecs });
}

/** How a producer's payload types and encodings map into a router with capabilities `caps`. */
function getProducerRtpParametersMapping(params, caps) {
  return Channel.globalRequest('getProducerRtpParametersMapping', { rtpParameters: params, rtpCapabilities: caps });
}

/** The RTP parameters consumers of such a producer consume from. */
function getConsumableRtpParameters(kind, params, caps, rtpMapping) {
  return Channel.globalRequest('getConsumableRtpParameters', {
    kind, rtpParameters: params, rtpCapabilities: caps, rtpMapping,
  });
}

/**
 * Whether an endpoint with RTP capabilities `caps` can consume a producer
 * whose consumable RTP parameters are `consumableParams`. Throws TypeError
 * if `caps` is invalid.
 */
function canConsume(consumableParams, caps) {
  return Channel.globalRequest('canConsume', {
    consumableRtpParameters: consumableParams,
    rtpCapabilities: caps,
  });
}

/** A consumer's RTP parameters for an endpoint with `remoteRtpCapabilities`. */
function getConsumerRtpParameters({
  consumableRtpParameters, remoteRtpCapabilities, pipe = false, enableRtx = false,
}) {
  return Channel.globalRequest('getConsumerRtpParameters', {
    consumableRtpParameters, rtpCapabilities: remoteRtpCapabilities, pipe, enableRtx,
  });
}

/** A pipe consumer's RTP parameters. */
function getPipeConsumerRtpParameters({ consumableRtpParameters, enableRtx = false }) {
  return Channel.globalRequest('getPipeConsumerRtpParameters', { consumableRtpParameters, enableRtx });
}

module.exports = {
  validateAndNormalizeRtpCapabilities,
  validateAndNormalizeRtpParameters,
  validateAndNormalizeSctpStreamParameters,
  generateRouterRtpCapabilities,
  getProducerRtpParametersMapping,
  getConsumableRtpParameters,
  canConsume,
  getConsumerRtpParameters,
  getPipeConsumerRtpParameters,
};
