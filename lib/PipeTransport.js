'use strict';

const { Logger } = require('./Logger');
const { Transport } = require('./Transport');
const { Consumer } = require('./Consumer');
const { NotFoundError } = require('./errors');
const { normalizeTuple } = require('./PlainTransport');
const utils = require('./utils');
const numbers = require('./numbers');

const logger = new Logger('PipeTransport');

/**
 * A UDP link to another router (of this or another worker, or another
 * host) carrying every stream of its producers: pipeToRouter() uses a pair
 * of them. Optionally SRTP (AEAD_AES_256_GCM, keys exchanged with
 * connect()) and RTX.
 */
class PipeTransport extends Transport {
  constructor(options) {
    super(options);
    logger.debug('constructor()');
    const { data } = options;
    this._data = {
      tuple: normalizeTuple(data.tuple),
      sctpParameters: data.sctpParameters,
      sctpState: data.sctpState,
      sctpNegotiatedCapabilities: undefined,
      rtx: Boolean(data.rtx),
      srtpParameters: data.srtpParameters,
    };
  }

  get type() {
    return 'pipe';
  }

  get tuple() {
    return utils.clone(this._data.tuple);
  }

  get sctpParameters() {
    return utils.clone(this._data.sctpParameters);
  }

  get sctpState() {
    return this._data.sctpState;
  }

  get sctpNegotiatedCapabilities() {
    return utils.clone(this._data.sctpNegotiatedCapabilities);
  }

  get srtpParameters() {
    return utils.clone(this._data.srtpParameters);
  }

  close() {
    if (this._closed) return;
    if (this._data.sctpState) this._data.sctpState = 'closed';
    super.close();
  }

  routerClosed() {
    if (this._closed) return;
    if (this._data.sctpState) this._data.sctpState = 'closed';
    super.routerClosed();
  }

  async dump() {
    const dump = await super.dump();
    if (dump && typeof dump === 'object' && dump.tuple) dump.tuple = normalizeTuple(dump.tuple);
    return dump;
  }

  async getStats() {
    const stats = await super.getStats();
    if (Array.isArray(stats)) {
      for (const s of stats) {
        if (s && s.tuple) s.tuple = normalizeTuple(s.tuple);
      }
    }
    return stats;
  }

  /**
   * Sets the remote endpoint and, with SRTP, the remote keys. The engine
   * validates them.
   */
  async connect({ ip, port, srtpParameters } = {}) {
    logger.debug('connect()');
    numbers.checkRemotePort(port, 'port');
    this._checkNotClosed('connect');
    const request = {};
    if (ip !== undefined) request.ip = ip;
    if (port !== undefined) request.port = port;
    if (srtpParameters !== undefined) request.srtpParameters = srtpParameters;
    const response = await this._channel.request('transport.connect', this.id, request);
    if (response && response.tuple) this._data.tuple = normalizeTuple(response.tuple);
  }

  /**
   * Creates a pipe consumer: every stream of the producer, with the RTP
   * parameters the far end produces with (no remote capabilities needed).
   */
  async consume({ producerId, appData } = {}) {
    logger.debug('consume()');
    if (!producerId || typeof producerId !== 'string') {
      throw new TypeError('missing producerId');
    }
    utils.checkAppData(appData);
    this._checkNotClosed('consume');
    const producer = this._getProducerById ? this._getProducerById(producerId) : undefined;
    if (!producer) throw new NotFoundError(`Producer with id "${producerId}" not found`);

    const consumerId = utils.generateUUIDv4();
    const response = await this._channel.request('transport.consume', this.id, {
      consumerId,
      producerId,
      paused: false,
      ignoreDtx: false,
      pipe: true,
    });
    const consumer = new Consumer({
      internal: { ...this._internal, consumerId },
      data: {
        producerId,
        kind: producer.kind,
        rtpParameters: response.rtpParameters,
        type: 'pipe',
      },
      channel: this._channel,
      appData,
      paused: Boolean(response.paused),
      producerPaused: Boolean(response.producerPaused),
    });
    this._consumers.set(consumer.id, consumer);
    consumer.on('@close', () => this._consumers.delete(consumer.id));
    consumer.on('@producerclose', () => this._consumers.delete(consumer.id));
    this._observer.safeEmit('newconsumer', consumer);
    return consumer;
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'tuple': {
        const tuple = normalizeTuple(data && data.tuple);
        this._data.tuple = tuple;
        this.safeEmit('tuple', tuple);
        this._observer.safeEmit('tuple', tuple);
        break;
      }
      default:
        super._onEngineEvent(event, data);
    }
  }
}

module.exports = { PipeTransport };
