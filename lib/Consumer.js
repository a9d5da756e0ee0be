'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const utils = require('./utils');
const numbers = require('./numbers');

const logger = new Logger('Consumer');

/**
 * {spatialLayer, temporalLayer} as the API shows layers (temporalLayer
 * undefined when absent), or undefined when the engine gave none.
 */
function normalizeLayers(layers) {
  if (!layers || typeof layers.spatialLayer !== 'number') return undefined;
  return {
    spatialLayer: layers.spatialLayer,
    temporalLayer: typeof layers.temporalLayer === 'number' ? layers.temporalLayer : undefined,
  };
}

/**
 * Media of a producer forwarded to an endpoint through a transport.
 */
class Consumer extends EngineObject {
  constructor({
    internal,
    data,
    channel,
    appData,
    paused,
    producerPaused,
    score = { score: 10, producerScore: 10, producerScores: [] },
    preferredLayers,
  }) {
    super({ logger, kind: 'Consumer', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._data = data;
    this._paused = Boolean(paused);
    this._producerPaused = Boolean(producerPaused);
    this._priority = 1;
    this._score = score;
    this._preferredLayers = preferredLayers;
    this._currentLayers = undefined;
    this._subscribe(this._internal.consumerId);
  }

  get id() {
    return this._internal.consumerId;
  }

  get producerId() {
    return this._data.producerId;
  }

  get kind() {
    return this._data.kind;
  }

  get rtpParameters() {
    return utils.clone(this._data.rtpParameters);
  }

  get type() {
    return this._data.type;
  }

  get paused() {
    return this._paused;
  }

  get producerPaused() {
    return this._producerPaused;
  }

  get priority() {
    return this._priority;
  }

  get score() {
    return utils.clone(this._score);
  }

  get preferredLayers() {
    return utils.clone(this._preferredLayers);
  }

  get currentLayers() {
    return utils.clone(this._currentLayers);
  }

  /** Just for testing purposes. */
  get channelForTesting() {
    return this._channel;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    this._channel
      .request('transport.closeConsumer', this._internal.transportId, { consumerId: this.id })
      .catch((error) => logger.debug(`close() | engine request failed: ${error}`));
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by its transport when the transport closes. */
  transportClosed() {
    if (!this._setClosed()) return;
    logger.debug('transportClosed()');
    this.safeEmit('transportclose');
    this._observer.safeEmit('close');
  }

  async dump() {
    logger.debug('dump()');
    this._checkNotClosed('dump');
    return this._channel.request('consumer.dump', this.id);
  }

  async getStats() {
    logger.debug('getStats()');
    this._checkNotClosed('getStats');
    return this._channel.request('consumer.getStats', this.id);
  }

  async pause() {
    logger.debug('pause()');
    this._checkNotClosed('pause');
    await this._channel.request('consumer.pause', this.id);
    const wasPaused = this._paused;
    this._paused = true;
    // Nothing changes for the observer if the producer was already paused.
    if (!wasPaused && !this._producerPaused) this._observer.safeEmit('pause');
  }

  async resume() {
    logger.debug('resume()');
    this._checkNotClosed('resume');
    await this._channel.request('consumer.resume', this.id);
    const wasPaused = this._paused;
    this._paused = false;
    if (wasPaused && !this._producerPaused) this._observer.safeEmit('resume');
  }

  async setPreferredLayers({ spatialLayer, temporalLayer } = {}) {
    logger.debug('setPreferredLayers()');
    if (typeof spatialLayer !== 'number') {
      throw new TypeError('spatialLayer must be a number');
    }
    if (temporalLayer !== undefined && temporalLayer !== null && typeof temporalLayer !== 'number') {
      throw new TypeError('if given, temporalLayer must be a number');
    }
    // uint8 in mediasoup, which would wrap the others (NaN included).
    numbers.checkInteger(spatialLayer, 'spatialLayer', 0, numbers.UINT8_MAX);
    if (typeof temporalLayer === 'number') numbers.checkInteger(temporalLayer, 'temporalLayer', 0, numbers.UINT8_MAX);
    this._checkNotClosed('setPreferredLayers');
    const request = { spatialLayer };
    if (typeof temporalLayer === 'number') request.temporalLayer = temporalLayer;
    const response = await this._channel.request('consumer.setPreferredLayers', this.id, request);
    // Simple consumers answer nothing: they have no layers.
    const layers = response && typeof response === 'object' && 'preferredLayers' in response
      ? response.preferredLayers
      : response;
    this._preferredLayers = normalizeLayers(layers);
  }

  async setPriority(priority) {
    logger.debug('setPriority()');
    if (typeof priority !== 'number' || priority < 0) {
      throw new TypeError('priority must be a positive number');
    }
    if (priority === 0) {
      // mediasoup's worker message for it.
      throw new TypeError('wrong priority (must be higher than 0)');
    }
    // uint8 in mediasoup, which would wrap the others (NaN included).
    numbers.checkInteger(priority, 'priority', 1, numbers.UINT8_MAX);
    this._checkNotClosed('setPriority');
    const response = await this._channel.request('consumer.setPriority', this.id, { priority });
    this._priority = response && typeof response.priority === 'number' ? response.priority : priority;
  }

  async unsetPriority() {
    logger.debug('unsetPriority()');
    await this.setPriority(1);
  }

  async requestKeyFrame() {
    logger.debug('requestKeyFrame()');
    this._checkNotClosed('requestKeyFrame');
    await this._channel.request('consumer.requestKeyFrame', this.id);
  }

  async enableTraceEvent(types = []) {
    logger.debug('enableTraceEvent()');
    if (!Array.isArray(types)) throw new TypeError('types must be an array');
    if (types.some((type) => typeof type !== 'string')) throw new TypeError('every type must be a string');
    this._checkNotClosed('enableTraceEvent');
    // Unknown types are ignored by the engine.
    await this._channel.request('consumer.enableTraceEvent', this.id, { types });
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'producerclose': {
        if (!this._setClosed()) break;
        this.emit('@producerclose');
        this.safeEmit('producerclose');
        this._observer.safeEmit('close');
        break;
      }
      case 'producerpause': {
        if (this._producerPaused) break;
        this._producerPaused = true;
        this.safeEmit('producerpause');
        if (!this._paused) this._observer.safeEmit('pause');
        break;
      }
      case 'producerresume': {
        if (!this._producerPaused) break;
        this._producerPaused = false;
        this.safeEmit('producerresume');
        if (!this._paused) this._observer.safeEmit('resume');
        break;
      }
      case 'score': {
        this._score = data;
        this.safeEmit('score', data);
        this._observer.safeEmit('score', data);
        break;
      }
      case 'layerschange': {
        const layers = normalizeLayers(data);
        this._currentLayers = layers;
        this.safeEmit('layerschange', layers);
        this._observer.safeEmit('layerschange', layers);
        break;
      }
      case 'trace':
        this.safeEmit('trace', data);
        this._observer.safeEmit('trace', data);
        break;
      case 'rtp':
        if (this._closed) break;
        this.safeEmit('rtp', data);
        break;
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
  }
}

module.exports = { Consumer, normalizeLayers };
