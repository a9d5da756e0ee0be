'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');
const { NotFoundError } = require('./errors');

const logger = new Logger('RtpObserver');

/**
 * Base of AudioLevelObserver and ActiveSpeakerObserver: watches the audio
 * levels of the audio producers added to it. As in mediasoup, methods on a
 * closed observer are left to the engine (NotFoundError once it is gone).
 */
class RtpObserver extends EnhancedEventEmitter {
  constructor({ internal, channel, appData, getProducerById }, observer) {
    super();
    logger.debug('constructor()');
    this._internal = internal;
    this._channel = channel;
    this._closed = false;
    this._paused = false;
    this._appData = appData || {};
    this._getProducerById = getProducerById;
    this._observer = observer || new EnhancedEventEmitter();
    this._onChannelEvent = (event, data) => this._onEngineEvent(event, data);
    this._channel.on(this._internal.rtpObserverId, this._onChannelEvent);
  }

  get id() {
    return this._internal.rtpObserverId;
  }

  get closed() {
    return this._closed;
  }

  /** 'audiolevel' or 'activespeaker' (subclasses). */
  get type() {
    return undefined;
  }

  get paused() {
    return this._paused;
  }

  get appData() {
    return this._appData;
  }

  set appData(appData) {
    this._appData = appData;
  }

  get observer() {
    return this._observer;
  }

  close() {
    if (this._closed) return;
    logger.debug('close()');
    this._closed = true;
    this._unsubscribe();
    this._channel
      .request('router.closeRtpObserver', this._internal.routerId, { rtpObserverId: this.id })
      .catch(() => {});
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by the Router when it closes. */
  routerClosed() {
    if (this._closed) return;
    logger.debug('routerClosed()');
    this._closed = true;
    this._unsubscribe();
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

  _unsubscribe() {
    this._channel.removeListener(this._internal.rtpObserverId, this._onChannelEvent);
  }
}

module.exports = { RtpObserver };
