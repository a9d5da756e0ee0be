'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const sctp = require('./sctp');
const numbers = require('./numbers');
const utils = require('./utils');

const logger = new Logger('DataConsumer');

/** The subchannels an engine answer carries (sorted by the engine). */
function subchannelsOf(response) {
  return response && Array.isArray(response.subchannels) ? response.subchannels : [];
}

/**
 * Messages of a data producer forwarded to an endpoint through a
 * transport: over an SCTP stream, or as 'message' events on a
 * DirectTransport.
 */
class DataConsumer extends EngineObject {
  constructor({
    internal, data, channel, paused, dataProducerPaused, subchannels, appData,
  }) {
    super({ logger, kind: 'DataConsumer', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._data = data;
    this._paused = Boolean(paused);
    this._dataProducerPaused = Boolean(dataProducerPaused);
    this._subchannels = Array.isArray(subchannels) ? subchannels.slice() : [];
    this._subscribe(this._internal.dataConsumerId);
  }

  get id() {
    return this._internal.dataConsumerId;
  }

  get dataProducerId() {
    return this._data.dataProducerId;
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

  get dataProducerPaused() {
    return this._dataProducerPaused;
  }

  get subchannels() {
    return this._subchannels.slice();
  }

  /** Just for testing purposes. */
  get channelForTesting() {
    return this._channel;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    this._channel
      .request('transport.closeDataConsumer', this._internal.transportId, { dataConsumerId: this.id })
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
    return sctp.parseDataConsumerDump(await this._channel.request('dataConsumer.dump', this.id));
  }

  async getStats() {
    logger.debug('getStats()');
    this._checkNotClosed('getStats');
    return this._channel.request('dataConsumer.getStats', this.id);
  }

  async pause() {
    logger.debug('pause()');
    this._checkNotClosed('pause');
    await this._channel.request('dataConsumer.pause', this.id);
    const wasPaused = this._paused;
    this._paused = true;
    // Nothing changes for the observer if the data producer was already paused.
    if (!wasPaused && !this._dataProducerPaused) this._observer.safeEmit('pause');
  }

  async resume() {
    logger.debug('resume()');
    this._checkNotClosed('resume');
    await this._channel.request('dataConsumer.resume', this.id);
    const wasPaused = this._paused;
    this._paused = false;
    if (wasPaused && !this._dataProducerPaused) this._observer.safeEmit('resume');
  }

  /** Threshold (bytes) under which the SCTP send buffer emits 'bufferedamountlow'. */
  async setBufferedAmountLowThreshold(threshold) {
    logger.debug(`setBufferedAmountLowThreshold() [threshold:${threshold}]`);
    // uint32 in mediasoup, which would wrap the others.
    numbers.checkInteger(threshold, 'threshold', 0, numbers.UINT32_MAX);
    this._checkNotClosed('setBufferedAmountLowThreshold');
    await this._channel.request('dataConsumer.setBufferedAmountLowThreshold', this.id, { threshold });
  }

  /** Bytes queued in the SCTP send buffer of this data consumer's stream. */
  async getBufferedAmount() {
    logger.debug('getBufferedAmount()');
    this._checkNotClosed('getBufferedAmount');
    const response = await this._channel.request('dataConsumer.getBufferedAmount', this.id);
    return response && response.bufferedAmount;
  }

  /**
   * Sends a message to the endpoint (SCTP data consumers), with the same PPID
   * rules as dataProducer.send(). Resolves with the buffered amount once the
   * message is queued.
   */
  async send(message, ppid) {
    if (typeof message !== 'string' && !Buffer.isBuffer(message)) {
      throw new TypeError('message must be a string or a Buffer');
    }
    this._checkNotClosed('send');
    const prepared = sctp.prepareMessage(message, ppid);
    const response = await this._channel.request('dataConsumer.send', this.id, sctp.encodeDataConsumerSend(prepared));
    return response && response.bufferedAmount;
  }

  async setSubchannels(subchannels) {
    logger.debug('setSubchannels()');
    if (!Array.isArray(subchannels)) throw new TypeError('subchannels must be an array');
    subchannels.forEach((subchannel, i) => sctp.checkSubchannel(subchannel, `subchannels[${i}]`));
    this._checkNotClosed('setSubchannels');
    const response = await this._channel.request('dataConsumer.setSubchannels', this.id, { subchannels });
    this._subchannels = subchannelsOf(response);
  }

  async addSubchannel(subchannel) {
    logger.debug('addSubchannel()');
    sctp.checkSubchannel(subchannel, 'subchannel');
    this._checkNotClosed('addSubchannel');
    const response = await this._channel.request('dataConsumer.addSubchannel', this.id, { subchannel });
    this._subchannels = subchannelsOf(response);
  }

  async removeSubchannel(subchannel) {
    logger.debug('removeSubchannel()');
    sctp.checkSubchannel(subchannel, 'subchannel');
    this._checkNotClosed('removeSubchannel');
    const response = await this._channel.request('dataConsumer.removeSubchannel', this.id, { subchannel });
    this._subchannels = subchannelsOf(response);
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'dataproducerclose': {
        if (!this._setClosed()) break;
        this.emit('@dataproducerclose');
        this.safeEmit('dataproducerclose');
        this._observer.safeEmit('close');
        break;
      }
      case 'dataproducerpause': {
        if (this._dataProducerPaused) break;
        this._dataProducerPaused = true;
        this.safeEmit('dataproducerpause');
        if (!this._paused) this._observer.safeEmit('pause');
        break;
      }
      case 'dataproducerresume': {
        if (!this._dataProducerPaused) break;
        this._dataProducerPaused = false;
        this.safeEmit('dataproducerresume');
        if (!this._paused) this._observer.safeEmit('resume');
        break;
      }
      case 'sctpsendbufferfull':
        this.safeEmit('sctpsendbufferfull');
        break;
      case 'bufferedamountlow':
        this.safeEmit('bufferedamountlow', data && data.bufferedAmount);
        break;
      case 'message': {
        if (this._closed) break;
        const decoded = sctp.decodeMessage(data);
        if (!decoded) {
          logger.error('ignoring invalid "message" event payload');
          break;
        }
        this.safeEmit('message', decoded.message, decoded.ppid);
        break;
      }
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
  }
}

module.exports = { DataConsumer };
