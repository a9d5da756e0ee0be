'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const { NotFoundError } = require('./errors');

const logger = new Logger('RtpObserver');

/**
 * Base of AudioLevelObserver and ActiveSpeakerObserver: watches the audio
 * levels of the audio producers added to it. As in mediasoup, methods on a
 * closed observer are left to the engine (NotFoundError once it is gone).
 */
class RtpObserver extends EngineObject {
  constructor({ internal, channel, appData, getProducerById }, observer, subclassLogger) {
    super({ logger: subclassLogger, kind: 'RtpObserver', appData, observer, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._paused = false;
    this._getProducerById = getProducerById;
    this._subscribe(this._internal.rtpObserverId);
  }

  get id() {
    return this._internal.rtpObserverId;
  }

  /** 'audiolevel' or 'activespeaker' (subclasses). */
  get type() {
    return undefined;
  }

  get paused() {
    return this._paused;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    this._channel
      .request('router.closeRtpObserver', this._internal.routerId, { rtpObserverId: this.id })
      .catch(() => {});
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by the Router when it closes. */
  routerClosed() {
    if (!this._setClosed()) return;
    logger.debug('routerClosed()');
    this.safeEmit('routerclose');
    this._observer.safeEmit('close');
  }

  async pause() {
    logger.debug('pause()');
    const wasPaused = this._paused;
    await this._channel.request('rtpObserver.pause', this.id);
    this._paused = true;
    if (!wasPaused) this._observer.safeEmit('pause');
  }

  async resume() {
    logger.debug('resume()');
    const wasPaused = this._paused;
    await this._channel.request('rtpObserver.resume', this.id);
    this._paused = false;
    if (wasPaused) this._observer.safeEmit('resume');
  }

  async addProducer({ producerId } = {}) {
    logger.debug('addProducer()');
    const producer = this._getProducerById(producerId);
    if (!producer) throw new NotFoundError(`Producer with id "${producerId}" not found`);
    await this._channel.request('rtpObserver.addProducer', this.id, { producerId });
    this._observer.safeEmit('addproducer', producer);
  }

  async removeProducer({ producerId } = {}) {
    logger.debug('removeProducer()');
    const producer = this._getProducerById(producerId);
    if (!producer) throw new NotFoundError(`Producer with id "${producerId}" not found`);
    await this._channel.request('rtpObserver.removeProducer', this.id, { producerId });
    this._observer.safeEmit('removeproducer', producer);
  }

  _onEngineEvent(event) {
    logger.error(`ignoring unknown event "${event}"`);
  }
}

module.exports = { RtpObserver };
