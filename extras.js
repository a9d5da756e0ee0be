'use strict';

// gosfu/extras: as mediasoup 3.27's 'mediasoup/extras'.
const { once } = require('events');
const { EnhancedEventEmitter } = require('./lib/EnhancedEventEmitter');

/**
 * events.once() for an EnhancedEventEmitter: resolves with the arguments of
 * the emitter's next `eventName` event.
 */
async function enhancedOnce(emitter, eventName, options) {
  return once(emitter, eventName, options);
}

module.exports = { EnhancedEventEmitter, enhancedOnce };
