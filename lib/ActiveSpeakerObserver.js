'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');
const { RtpObserver } = require('./RtpObserver');

const logger = new Logger('ActiveSpeakerObserver');

/**
 * Emits 'dominantspeaker' ({producer}) when the dominant speaker changes
 * (gosfu's rule: see the README).
 */
class ActiveSpeakerObserver extends RtpObserver {
  constructor(options) {
    super(options, new EnhancedEventEmitter(), logger);
  }

  get type() {
    return 'activespeaker';
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'dominantspeaker': {
        const producer = this._getProducerById(data && data.producerId);
        if (!producer) break;
        const dominantSpeaker = { producer };
        this.safeEmit('dominantspeaker', dominantSpeaker);
        this._observer.safeEmit('dominantspeaker', dominantSpeaker);
        break;
      }
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
  }
}

module.exports = { ActiveSpeakerObserver };
