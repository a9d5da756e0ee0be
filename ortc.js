'use strict';

// gosfu/ortc: the helpers of mediasoup 3.27's 'mediasoup/ortc' that gosfu's
// engine answers in-process (its ORTC logic is in Go, gosfu/ortc).
const { Channel } = require('./lib/Channel');

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

module.exports = { canConsume };
