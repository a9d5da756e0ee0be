'use strict';

const { Channel } = require('./Channel');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');
const utils = require('./utils');

const logger = new Logger('Router');

/**
 * A media room: producers of its transports can be consumed by consumers on
 * any of its transports.
 */
class Router extends EnhancedEventEmitter {
  constructor({ internal, data, channel, appData }) {
    super();
    logger.debug('constructor()');
    this._internal = internal;
    this._data = data;
    this._channel = channel;
    this._closed = false;
    this._appData = appData || {};
    this._observer = new EnhancedEventEmitter();
    this._transports = new Map();
    this._producers = new Map();
    this._rtpObservers = new Map();
    this._dataProducers = new Map();
    this.on('listenererror', (eventName, error) => {
      logger.error(`event listener threw an error [eventName:${eventName}]:`, error);
    });
  }

  get id() {
    return this._internal.routerId;
  }

  get closed() {
    return this._closed;
  }

  get rtpCapabilities() {
    return this._data.rtpCapabilities;
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

  /** Just for testing purposes. */
  get transportsForTesting() {
    return this._transports;
  }

  close() {
    if (this._closed) return;
    logger.debug('close()');
    this._closed = true;
    try {
      this._channel.requestSync('worker.closeRouter', undefined, { routerId: this.id });
    } catch (error) {
      logger.error(`close() | failed: ${error}`);
    }
    this._closeChildren();
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by the Worker when it closes or dies. */
  workerClosed() {
    if (this._closed) return;
    logger.debug('workerClosed()');
    this._closed = true;
    this._closeChildren();
    this.safeEmit('workerclose');
    this._observer.safeEmit('close');
  }

  _closeChildren() {
    for (const transport of this._transports.values()) transport.routerClosed();
    this._transports.clear();
    this._producers.clear();
    for (const rtpObserver of this._rtpObservers.values()) rtpObserver.routerClosed();
    this._rtpObservers.clear();
    this._dataProducers.clear();
  }

  async dump() {
    logger.debug('dump()');
    return this._channel.request('router.dump', this.id);
  }

  /**
   * Whether the given RTP capabilities can consume the producer. Never
   * throws: bad input logs an error and answers false.
   */
  canConsume({ producerId, rtpCapabilities } = {}) {
    const producer = this._producers.get(producerId);
    if (!producer) {
      logger.error(`canConsume() | Producer with id "${producerId}" not found`);
      return false;
    }
    try {
      return Channel.globalRequest('canConsume', {
        consumableRtpParameters: producer.consumableRtpParameters,
        rtpCapabilities,
      });
    } catch (error) {
      logger.error(`canConsume() | unexpected error: ${error}`);
      return false;
    }
  }

  /** Internal: the id-to-producer map transports register into. */
  get producersMap() {
    return this._producers;
  }

  static checkAppData(appData) {
    utils.checkAppData(appData);
  }
}

module.exports = { Router };
