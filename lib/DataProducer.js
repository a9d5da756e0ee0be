'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const sctp = require('./sctp');
const utils = require('./utils');

const logger = new Logger('DataProducer');

/**
 * Data messages an endpoint sends into a transport: over an SCTP stream of
 * a WebRtc/Plain/Pipe transport, or with send() on a DirectTransport.
 */
class DataProducer extends EngineObject {
  constructor({ internal, data, channel, paused, appData }) {
    super({ logger, kind: 'DataProducer', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._data = data;
    this._paused = Boolean(paused);
    // The engine sends no event to a DataProducer: nothing to subscribe to.
  }

  get id() {
    return this._internal.dataProducerId;
  }

  get type() {
    return this._data.type;
  }

  get sctpStreamParameters() {
    return utils.clone(this._data.sctpStreamParameters);
  }

  get label() {
    return this._data.label;
  }

  get protocol() {
    return this._data.protocol;
  }

  get paused() {
    return this._paused;
  }

  /** Just for testing purposes. */
  get channelForTesting() {
    return this._channel;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    this._channel
      .request('transport.closeDataProducer', this._internal.transportId, { dataProducerId: this.id })
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
    return sctp.parseDataProducerDump(await this._channel.request('dataProducer.dump', this.id));
  }

  async getStats() {
    logger.debug('getStats()');
    this._checkNotClosed('getStats');
    return this._channel.request('dataProducer.getStats', this.id);
  }

  async pause() {
    logger.debug('pause()');
    this._checkNotClosed('pause');
    await this._channel.request('dataProducer.pause', this.id);
    const wasPaused = this._paused;
    this._paused = true;
    if (!wasPaused) this._observer.safeEmit('pause');
  }

  async resume() {
    logger.debug('resume()');
    this._checkNotClosed('resume');
    await this._channel.request('dataProducer.resume', this.id);
    const wasPaused = this._paused;
    this._paused = false;
    if (wasPaused) this._observer.safeEmit('resume');
  }

  /**
   * Injects a message as if the endpoint had sent it (DirectTransport data
   * producers). Fire and forget, as mediasoup's notification: a message the
   * engine refuses (too big) is dropped and logged, one for a closed data
   * producer is dropped; only a closed Worker throws (InvalidStateError).
   *
   * Without ppid, the WebRTC one follows from the message: 51 (string), 53
   * (binary), 56 (empty string, sent as ' ') or 57 (empty binary, sent as one
   * zero byte). subchannels, requiredSubchannel and ignoredSubchannel select
   * the data consumers that get it.
   */
  send(message, ppid, subchannels, requiredSubchannel, ignoredSubchannel) {
    if (typeof message !== 'string' && !Buffer.isBuffer(message)) {
      throw new TypeError('message must be a string or a Buffer');
    }
    // A closed data producer drops it, as mediasoup's worker does with a
    // notification for an unknown id; a closed Worker throws (below).
    if (this._closed && !this._channel.closed) return;
    const prepared = sctp.prepareMessage(message, ppid);
    const payload = sctp.encodeDataProducerSend({
      ppid: prepared.ppid,
      message: prepared.message,
      subchannels,
      requiredSubchannel,
      ignoredSubchannel,
    });
    try {
      this._channel.requestSync('dataProducer.send', this.id, payload);
    } catch (error) {
      if (this._channel.closed) throw error;
      logger.warn(`send() | message dropped: ${error}`);
    }
  }
}

module.exports = { DataProducer };
