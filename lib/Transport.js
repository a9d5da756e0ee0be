'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');
const { Producer } = require('./Producer');
const { Consumer, normalizeLayers } = require('./Consumer');
const { InvalidStateError, UnsupportedError } = require('./errors');
const utils = require('./utils');

const logger = new Logger('Transport');

function checkTraceTypes(types) {
  if (!Array.isArray(types)) throw new TypeError('types must be an array');
  if (types.some((type) => typeof type !== 'string')) throw new TypeError('every type must be a string');
}

/**
 * What every transport kind shares: its producers and consumers, the close
 * cascade and the requests the engine answers the same way for all of them.
 * The subclasses (PlainTransport, DirectTransport…) add their own state and
 * events.
 *
 * RTP parameter validation, producer/consumer RTP mapping, the RTCP CNAME of
 * producers and consumer MIDs are the engine's work (mediasoup does them in
 * its Node layer): here only the argument checks mediasoup makes before that
 * are done.
 */
class Transport extends EnhancedEventEmitter {
  constructor({ internal, channel, appData, getProducerById }) {
    super();
    logger.debug('constructor()');
    this._internal = internal;
    this._channel = channel;
    this._closed = false;
    this._appData = appData || {};
    this._getProducerById = getProducerById;
    this._observer = new EnhancedEventEmitter();
    this._producers = new Map();
    this._consumers = new Map();
    this._dataProducers = new Map();
    this._dataConsumers = new Map();
    this._onChannelEvent = (event, data) => this._onEngineEvent(event, data);
    this._channel.on(this._internal.transportId, this._onChannelEvent);
    this.on('listenererror', (eventName, error) => {
      logger.error(`event listener threw an error [eventName:${eventName}]:`, error);
    });
  }

  get id() {
    return this._internal.transportId;
  }

  get closed() {
    return this._closed;
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
  get channelForTesting() {
    return this._channel;
  }

  close() {
    if (this._closed) return;
    logger.debug('close()');
    this._closed = true;
    this._unsubscribe();
    this._channel
      .request('router.closeTransport', this._internal.routerId, { transportId: this.id })
      .catch((error) => logger.debug(`close() | engine request failed: ${error}`));
    this._closeChildren(true);
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by the Router when it closes (or its Worker does). */
  routerClosed() {
    if (this._closed) return;
    logger.debug('routerClosed()');
    this._closed = true;
    this._unsubscribe();
    // The Router already forgets its producers: nothing to tell it.
    this._closeChildren(false);
    this.safeEmit('routerclose');
    this._observer.safeEmit('close');
  }

  /** Called by the listen server (WebRtcServer) this transport uses when it closes. */
  listenServerClosed() {
    if (this._closed) return;
    logger.debug('listenServerClosed()');
    this._closed = true;
    this._unsubscribe();
    this._closeChildren(false);
    // The Router learns it through this event (the listen server closed us).
    this.emit('@listenserverclose');
    this.safeEmit('listenserverclose');
    this._observer.safeEmit('close');
  }

  async dump() {
    logger.debug('dump()');
    this._checkNotClosed('dump');
    return this._channel.request('transport.dump', this.id);
  }

  async getStats() {
    logger.debug('getStats()');
    this._checkNotClosed('getStats');
    return this._channel.request('transport.getStats', this.id);
  }

  // eslint-disable-next-line no-unused-vars
  async connect(params) {
    throw new UnsupportedError('connect() not implemented in this transport');
  }

  async setMaxIncomingBitrate(bitrate) {
    logger.debug(`setMaxIncomingBitrate() [bitrate:${bitrate}]`);
    this._checkNotClosed('setMaxIncomingBitrate');
    await this._channel.request('transport.setMaxIncomingBitrate', this.id, { bitrate });
  }

  async setMaxOutgoingBitrate(bitrate) {
    logger.debug(`setMaxOutgoingBitrate() [bitrate:${bitrate}]`);
    this._checkNotClosed('setMaxOutgoingBitrate');
    await this._channel.request('transport.setMaxOutgoingBitrate', this.id, { bitrate });
  }

  async setMinOutgoingBitrate(bitrate) {
    logger.debug(`setMinOutgoingBitrate() [bitrate:${bitrate}]`);
    this._checkNotClosed('setMinOutgoingBitrate');
    await this._channel.request('transport.setMinOutgoingBitrate', this.id, { bitrate });
  }

  async enableTraceEvent(types = []) {
    logger.debug('enableTraceEvent()');
    checkTraceTypes(types);
    this._checkNotClosed('enableTraceEvent');
    // Unknown types are ignored by the engine.
    await this._channel.request('transport.enableTraceEvent', this.id, { types });
  }

  async produce({
    id = undefined,
    kind,
    rtpParameters,
    paused = false,
    keyFrameRequestDelay,
    enableMediasoupPacketIdHeaderExtension,
    appData,
  } = {}) {
    logger.debug('produce()');
    if (id && this._producers.has(id)) {
      throw new TypeError(`a Producer with same id "${id}" already exists`);
    } else if (kind !== 'audio' && kind !== 'video') {
      throw new TypeError(`invalid kind "${kind}"`);
    }
    utils.checkAppData(appData);
    if (id !== undefined && typeof id !== 'string') {
      throw new TypeError('if given, id must be a string');
    }
    this._checkNotClosed('produce');

    const producerId = id || utils.generateUUIDv4();
    const request = {
      producerId,
      kind,
      // The engine validates and normalises them (and sets the CNAME).
      rtpParameters: utils.clone(rtpParameters),
      paused: Boolean(paused),
      keyFrameRequestDelay: keyFrameRequestDelay || 0,
    };
    if (enableMediasoupPacketIdHeaderExtension) request.enableMediasoupPacketIdHeaderExtension = true;
    const response = await this._channel.request('transport.produce', this.id, request);

    const producer = new Producer({
      internal: { ...this._internal, producerId },
      data: {
        kind,
        rtpParameters: response.rtpParameters,
        type: response.type,
        consumableRtpParameters: response.consumableRtpParameters,
      },
      channel: this._channel,
      appData,
      paused: Boolean(paused),
    });
    this._producers.set(producer.id, producer);
    producer.on('@close', () => {
      this._producers.delete(producer.id);
      this.emit('@producerclose', producer);
    });
    this.emit('@newproducer', producer);
    this._observer.safeEmit('newproducer', producer);
    return producer;
  }

  async consume({
    producerId,
    rtpCapabilities,
    paused = false,
    mid,
    preferredLayers,
    ignoreDtx = false,
    enableRtx,
    pipe = false,
    appData,
  } = {}) {
    logger.debug('consume()');
    if (!producerId || typeof producerId !== 'string') {
      throw new TypeError('missing producerId');
    }
    utils.checkAppData(appData);
    if (mid && (typeof mid !== 'string' || mid.length === 0)) {
      throw new TypeError('if given, mid must be non empty string');
    }
    this._checkNotClosed('consume');

    const consumerId = utils.generateUUIDv4();
    // The engine validates the capabilities, finds the producer (NotFoundError
    // otherwise), computes the consumer RTP parameters and assigns the MID.
    const request = {
      consumerId,
      producerId,
      rtpCapabilities: utils.clone(rtpCapabilities),
      paused: Boolean(paused),
      ignoreDtx: Boolean(ignoreDtx),
      pipe: Boolean(pipe),
    };
    if (mid) request.mid = mid;
    if (preferredLayers !== undefined && preferredLayers !== null) request.preferredLayers = utils.clone(preferredLayers);
    if (enableRtx !== undefined) request.enableRtx = Boolean(enableRtx);
    const response = await this._channel.request('transport.consume', this.id, request);

    const producer = this._getProducerById ? this._getProducerById(producerId) : undefined;
    const consumer = new Consumer({
      internal: { ...this._internal, consumerId },
      data: {
        producerId,
        kind: response.kind || (producer && producer.kind),
        rtpParameters: response.rtpParameters,
        type: response.type || (pipe ? 'pipe' : producer && producer.type),
      },
      channel: this._channel,
      appData,
      paused: Boolean(response.paused),
      producerPaused: Boolean(response.producerPaused),
      score: response.score || undefined,
      preferredLayers: normalizeLayers(response.preferredLayers),
    });
    this._consumers.set(consumer.id, consumer);
    consumer.on('@close', () => this._consumers.delete(consumer.id));
    consumer.on('@producerclose', () => this._consumers.delete(consumer.id));
    this._observer.safeEmit('newconsumer', consumer);
    return consumer;
  }

  // SCTP and DataChannel support (DataProducer/DataConsumer) comes in a later
  // issue: until then these reject.

  async produceData() {
    logger.debug('produceData()');
    this._checkNotClosed('produceData');
    throw new UnsupportedError('produceData() not implemented yet');
  }

  async consumeData() {
    logger.debug('consumeData()');
    this._checkNotClosed('consumeData');
    throw new UnsupportedError('consumeData() not implemented yet');
  }

  /** Engine events for this transport; subclasses handle theirs first. */
  _onEngineEvent(event, data) {
    switch (event) {
      case 'trace':
        this.safeEmit('trace', data);
        this._observer.safeEmit('trace', data);
        break;
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
  }

  _checkNotClosed(method) {
    if (this._closed) throw new InvalidStateError(`Transport closed [method:${method}]`);
  }

  _unsubscribe() {
    this._channel.removeListener(this._internal.transportId, this._onChannelEvent);
  }

  _closeChildren(tellRouter) {
    for (const producer of this._producers.values()) {
      producer.transportClosed();
      if (tellRouter) this.emit('@producerclose', producer);
    }
    this._producers.clear();
    for (const consumer of this._consumers.values()) consumer.transportClosed();
    this._consumers.clear();
    for (const dataProducer of this._dataProducers.values()) {
      dataProducer.transportClosed();
      if (tellRouter) this.emit('@dataproducerclose', dataProducer);
    }
    this._dataProducers.clear();
    for (const dataConsumer of this._dataConsumers.values()) dataConsumer.transportClosed();
    this._dataConsumers.clear();
  }
}

module.exports = { Transport };
