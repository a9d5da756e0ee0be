'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const utils = require('./utils');

const logger = new Logger('Producer');

/**
 * Media (one audio or video track) an endpoint sends into a transport.
 */
class Producer extends EngineObject {
  constructor({ internal, data, channel, appData, paused }) {
    super({ logger, kind: 'Producer', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._data = data;
    this._paused = Boolean(paused);
    this._score = [];
    this._subscribe(this._internal.producerId);
  }

  get id() {
    return this._internal.producerId;
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

  /**
   * Internal: the RTP parameters consumers of this producer are built from
   * (Router.canConsume() and Transport.consume() use them).
   */
  get consumableRtpParameters() {
    return utils.clone(this._data.consumableRtpParameters);
  }

  get paused() {
    return this._paused;
  }

  get score() {
    return utils.clone(this._score);
  }

  /** Just for testing purposes. */
  get channelForTesting() {
    return this._channel;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    this._channel
      .request('transport.closeProducer', this._internal.transportId, { producerId: this.id })
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
    return this._channel.request('producer.dump', this.id);
  }

  async getStats() {
    logger.debug('getStats()');
    this._checkNotClosed('getStats');
    return this._channel.request('producer.getStats', this.id);
  }

  async pause() {
    logger.debug('pause()');
    this._checkNotClosed('pause');
    await this._channel.request('producer.pause', this.id);
    const wasPaused = this._paused;
    this._paused = true;
    if (!wasPaused) this._observer.safeEmit('pause');
  }

  async resume() {
    logger.debug('resume()');
    this._checkNotClosed('resume');
    await this._channel.request('producer.resume', this.id);
    const wasPaused = this._paused;
    this._paused = false;
    if (wasPaused) this._observer.safeEmit('resume');
  }

  async enableTraceEvent(types = []) {
    logger.debug('enableTraceEvent()');
    if (!Array.isArray(types)) throw new TypeError('types must be an array');
    if (types.some((type) => typeof type !== 'string')) throw new TypeError('every type must be a string');
    this._checkNotClosed('enableTraceEvent');
    // Unknown types are ignored by the engine.
    await this._channel.request('producer.enableTraceEvent', this.id, { types });
  }

  /**
   * Injects an RTP packet as if it came from the endpoint (DirectTransport
   * producers). Like a mediasoup notification it reports nothing back: a
   * packet for a closed producer, or one the engine rejects, is dropped.
   */
  send(rtpPacket) {
    if (!Buffer.isBuffer(rtpPacket)) throw new TypeError('rtpPacket must be a Buffer');
    if (this._closed) return;
    try {
      this._channel.requestSync('producer.send', this.id, rtpPacket);
    } catch (error) {
      // Only a closed channel (closed Worker) is the caller's business.
      if (this._channel.closed) throw error;
      logger.warn(`send() | packet dropped: ${error}`);
    }
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'score': {
        const score = Array.isArray(data) ? data : [];
        this._score = score;
        this.safeEmit('score', score);
        this._observer.safeEmit('score', score);
        break;
      }
      case 'videoorientationchange':
        this.safeEmit('videoorientationchange', data);
        this._observer.safeEmit('videoorientationchange', data);
        break;
      case 'trace':
        this.safeEmit('trace', data);
        this._observer.safeEmit('trace', data);
        break;
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
  }
}

module.exports = { Producer };
