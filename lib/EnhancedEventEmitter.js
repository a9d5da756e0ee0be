'use strict';

const { EventEmitter } = require('events');

/**
 * EventEmitter whose safeEmit() never lets a throwing listener break the
 * emitter: the error is re-emitted as 'listenererror' (eventName, error).
 */
class EnhancedEventEmitter extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(Infinity);
  }

  safeEmit(eventName, ...args) {
    try {
      return this.emit(eventName, ...args);
    } catch (error) {
      try {
        this.emit('listenererror', eventName, error);
      } catch (ignored) {
        // A throwing 'listenererror' listener has nowhere left to go.
      }
      return this.listenerCount(eventName) > 0;
    }
  }
}

module.exports = { EnhancedEventEmitter };
