'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');
const { RtpObserver } = require('./RtpObserver');

const logger = new Logger('AudioLevelObserver');

/**
 * Emits 'volumes' ([{producer, volume}], loudest first) every interval in
 * which some producer is loud enough, and 'silence' once when none is.
 */
class AudioLevelObserver extends RtpObserver {
  constructor(options) {
    super(options, new EnhancedEventEmitter(), logger);
  }

  get type() {
    return 'audiolevel';
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'volumes': {
        // Producers closed in the meanwhile are left out.
        const volumes = (Array.isArray(data) ? data : [])
          .map(({ producerId, volume }) => ({ producer: this._getProducerById(producerId), volume }))
          .filter(({ producer }) => producer);
        if (volumes.length > 0) {
          this.safeEmit('volumes', volumes);
          this._observer.safeEmit('volumes', volumes);
        }
        break;
      }
      case 'silence':
        this.safeEmit('silence');
        this._observer.safeEmit('silence');
        break;
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
  }
}

module.exports = { AudioLevelObserver };
