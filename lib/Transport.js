'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const { Producer } = require('./Producer');
const { Consumer, normalizeLayers } = require('./Consumer');
const { DataProducer } = require('./DataProducer');
const { DataConsumer } = require('./DataConsumer');
const { UnsupportedError, NotFoundError } = require('./errors');
const sctp = require('./sctp');
const utils = require('./utils');
const numbers = require('./numbers');

const logger = new Logger('Transport');

/** Streams of an SCTP association (stream ids 0 to 65534, as mediasoup's table). */
const MAX_SCTP_STREAMS = 65535;

/** label/protocol as a string (mediasoup's encoder takes null and undefined as ''). */
function stringOption(value) {
  return value === undefined || value === null ? '' : String(value);
}

/** mediasoup's worker message for a bitrate out of its range. */
const BITRATE_RANGE_MESSAGE = `bitrate must be <= ${numbers.MAX_BITRATE} or 0 (unlimited)`;

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
class Transport extends EngineObject {
  constructor({
    internal, channel, appData, getProducerById, getDataProducerById,
  }) {
    super({ logger, kind: 'Transport', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._getProducerById = getProducerById;
    this._getDataProducerById = getDataProducerById;
    this._producers = new Map();
    this._consumers = new Map();
    this._dataProducers = new Map();
    this._dataConsumers = new Map();
    // Data consumers' SCTP stream ids (allocated on first use).
    this._sctpStreamIds = undefined;
    this._nextSctpStreamId = 0;
    this._sctpNegotiatedMaxOutboundStreams = undefined;
    this._subscribe(this._internal.transportId);
  }

  get id() {
    return this._internal.transportId;
  }

  /** Just for testing purposes. */
  get channelForTesting() {
    return this._channel;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    this._channel
      .request('router.closeTransport', this._internal.routerId, { transportId: this.id })
      .catch((error) => logger.debug(`close() | engine request failed: ${error}`));
    this._closeChildren(true);
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by the Router when it closes (or its Worker does). */
  routerClosed() {
    if (!this._setClosed()) return;
    logger.debug('routerClosed()');
    // The Router already forgets its producers: nothing to tell it.
    this._closeChildren(false);
    this.safeEmit('routerclose');
    this._observer.safeEmit('close');
  }

  /** Called by the listen server (WebRtcServer) this transport uses when it closes. */
  listenServerClosed() {
    if (!this._setClosed()) return;
    logger.debug('listenServerClosed()');
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
    const value = numbers.checkBitrate(bitrate, BITRATE_RANGE_MESSAGE);
    this._checkNotClosed('setMaxIncomingBitrate');
    await this._channel.request('transport.setMaxIncomingBitrate', this.id, { bitrate: value });
  }

  async setMaxOutgoingBitrate(bitrate) {
    logger.debug(`setMaxOutgoingBitrate() [bitrate:${bitrate}]`);
    const value = numbers.checkBitrate(bitrate, BITRATE_RANGE_MESSAGE);
    this._checkNotClosed('setMaxOutgoingBitrate');
    await this._channel.request('transport.setMaxOutgoingBitrate', this.id, { bitrate: value });
  }

  async setMinOutgoingBitrate(bitrate) {
    logger.debug(`setMinOutgoingBitrate() [bitrate:${bitrate}]`);
    const value = numbers.checkBitrate(bitrate, BITRATE_RANGE_MESSAGE);
    this._checkNotClosed('setMinOutgoingBitrate');
    await this._channel.request('transport.setMinOutgoingBitrate', this.id, { bitrate: value });
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
    // 0, NaN and the other falsy values mean none, as they do in mediasoup.
    if (keyFrameRequestDelay) {
      numbers.checkInteger(keyFrameRequestDelay, 'keyFrameRequestDelay', 0, numbers.UINT32_MAX);
    }
    this._checkNotClosed('produce');

    const producerId = id || utils.generateUUIDv4();
    const request = {
      producerId,
      kind,
      // The engine validates and normalises them (and sets the CNAME). Not
      // cloned: the request is serialised within this call and the producer
      // keeps the engine's copy, never this object.
      rtpParameters,
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
    if (preferredLayers && typeof preferredLayers === 'object') {
      const { spatialLayer, temporalLayer } = preferredLayers;
      if (typeof spatialLayer === 'number') {
        numbers.checkInteger(spatialLayer, 'preferredLayers.spatialLayer', 0, numbers.UINT8_MAX);
      }
      if (typeof temporalLayer === 'number') {
        numbers.checkInteger(temporalLayer, 'preferredLayers.temporalLayer', 0, numbers.UINT8_MAX);
      }
    }
    this._checkNotClosed('consume');

    const consumerId = utils.generateUUIDv4();
    // The engine validates the capabilities, finds the producer (NotFoundError
    // otherwise), computes the consumer RTP parameters and assigns the MID.
    const request = {
      consumerId,
      producerId,
      // Serialised right away, not kept: no clone needed.
      rtpCapabilities,
      paused: Boolean(paused),
      ignoreDtx: Boolean(ignoreDtx),
      pipe: Boolean(pipe),
    };
    if (mid) request.mid = mid;
    if (preferredLayers !== undefined && preferredLayers !== null) request.preferredLayers = preferredLayers;
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

  /**
   * Creates a DataProducer: an SCTP stream the endpoint sends on (its
   * sctpStreamParameters are required), or on a DirectTransport a producer
   * the application feeds with dataProducer.send().
   */
  async produceData({
    id = undefined,
    sctpStreamParameters,
    label = '',
    protocol = '',
    paused = false,
    appData,
  } = {}) {
    logger.debug('produceData()');
    if (id && this._dataProducers.has(id)) {
      throw new TypeError(`a DataProducer with same id "${id}" already exists`);
    }
    utils.checkAppData(appData);
    let type;
    let streamParameters = utils.clone(sctpStreamParameters);
    if (this.type !== 'direct') {
      type = 'sctp';
      sctp.validateSctpStreamParameters(streamParameters);
    } else {
      type = 'direct';
      if (sctpStreamParameters) {
        logger.warn('produceData() | sctpStreamParameters are ignored when producing data on a DirectTransport');
        streamParameters = undefined;
      }
    }
    this._checkNotClosed('produceData');

    const dataProducerId = id !== undefined && id !== null ? id : utils.generateUUIDv4();
    const request = {
      dataProducerId,
      type,
      label: stringOption(label),
      protocol: stringOption(protocol),
      paused: Boolean(paused),
    };
    if (streamParameters) request.sctpStreamParameters = sctp.serializeSctpStreamParameters(streamParameters);
    const dump = sctp.parseDataProducerDump(
      await this._channel.request('transport.produceData', this.id, request),
    );

    const dataProducer = new DataProducer({
      internal: { ...this._internal, dataProducerId },
      data: {
        type: dump.type,
        sctpStreamParameters: dump.sctpStreamParameters,
        label: dump.label,
        protocol: dump.protocol,
      },
      channel: this._channel,
      paused: Boolean(paused),
      appData,
    });
    this._dataProducers.set(dataProducer.id, dataProducer);
    dataProducer.on('@close', () => {
      this._dataProducers.delete(dataProducer.id);
      this.emit('@dataproducerclose', dataProducer);
    });
    this.emit('@newdataproducer', dataProducer);
    this._observer.safeEmit('newdataproducer', dataProducer);
    return dataProducer;
  }

  /**
   * Creates a DataConsumer of a data producer of the router. On an SCTP
   * transport it gets a free stream id of this transport and the producer's
   * reliability (or the given one); on a DirectTransport it emits 'message'.
   */
  async consumeData({
    dataProducerId,
    ordered,
    maxPacketLifeTime,
    maxRetransmits,
    paused = false,
    subchannels,
    appData,
  } = {}) {
    logger.debug('consumeData()');
    if (!dataProducerId || typeof dataProducerId !== 'string') {
      throw new TypeError('missing dataProducerId');
    }
    utils.checkAppData(appData);
    // Checked before a stream id is taken for it.
    numbers.checkOptionalInteger(maxPacketLifeTime, 'maxPacketLifeTime', 0, numbers.UINT16_MAX);
    numbers.checkOptionalInteger(maxRetransmits, 'maxRetransmits', 0, numbers.UINT16_MAX);
    if (Array.isArray(subchannels)) numbers.checkIntegerArray(subchannels, 'subchannels', 0, numbers.UINT16_MAX);
    this._checkNotClosed('consumeData');
    const dataProducer = this._getDataProducerById ? this._getDataProducerById(dataProducerId) : undefined;
    if (!dataProducer) {
      throw new NotFoundError(`DataProducer with id "${dataProducerId}" not found`);
    }

    let type;
    let sctpStreamParameters;
    let sctpStreamId;
    if (this.type === 'direct') {
      type = 'direct';
      if (ordered !== undefined || maxPacketLifeTime !== undefined || maxRetransmits !== undefined) {
        logger.warn('consumeData() | ordered, maxPacketLifeTime and maxRetransmits are ignored when consuming data on a DirectTransport');
      }
    } else {
      type = 'sctp';
      // The producer's reliability unless the caller sets its own; a direct
      // producer has none (reliable and ordered then).
      sctpStreamId = this._allocateSctpStreamId();
      sctpStreamParameters = dataProducer.sctpStreamParameters || { ordered: true };
      sctpStreamParameters.streamId = sctpStreamId;
      if (ordered !== undefined) {
        sctpStreamParameters.ordered = ordered;
        if (ordered) {
          sctpStreamParameters.maxPacketLifeTime = undefined;
          sctpStreamParameters.maxRetransmits = undefined;
        }
      }
      if (!ordered) {
        if (maxPacketLifeTime !== undefined) {
          sctpStreamParameters.ordered = false;
          sctpStreamParameters.maxPacketLifeTime = maxPacketLifeTime;
        }
        if (maxRetransmits !== undefined) {
          sctpStreamParameters.ordered = false;
          sctpStreamParameters.maxRetransmits = maxRetransmits;
        }
      }
    }

    const dataConsumerId = utils.generateUUIDv4();
    const request = {
      dataConsumerId,
      dataProducerId,
      type,
      label: dataProducer.label,
      protocol: dataProducer.protocol,
      paused: Boolean(paused),
      subchannels: Array.isArray(subchannels) ? subchannels : [],
    };
    if (sctpStreamParameters) request.sctpStreamParameters = sctp.serializeSctpStreamParameters(sctpStreamParameters);
    let dump;
    try {
      dump = sctp.parseDataConsumerDump(await this._channel.request('transport.consumeData', this.id, request));
    } catch (error) {
      this._releaseSctpStreamId(sctpStreamId);
      throw error;
    }

    const dataConsumer = new DataConsumer({
      internal: { ...this._internal, dataConsumerId },
      data: {
        dataProducerId: dump.dataProducerId,
        type: dump.type,
        sctpStreamParameters: dump.sctpStreamParameters,
        label: dump.label,
        protocol: dump.protocol,
        bufferedAmountLowThreshold: dump.bufferedAmountLowThreshold,
      },
      channel: this._channel,
      paused: dump.paused,
      dataProducerPaused: dump.dataProducerPaused,
      subchannels: dump.subchannels,
      appData,
    });
    this._dataConsumers.set(dataConsumer.id, dataConsumer);
    const forget = () => {
      this._dataConsumers.delete(dataConsumer.id);
      this._releaseSctpStreamId(sctpStreamId);
    };
    dataConsumer.on('@close', forget);
    dataConsumer.on('@dataproducerclose', forget);
    this._observer.safeEmit('newdataconsumer', dataConsumer);
    return dataConsumer;
  }

  /**
   * A free SCTP stream id for a new data consumer: the next one after the
   * last given, wrapping, restarting from 0 when it would exceed the
   * negotiated number of outbound streams.
   */
  _allocateSctpStreamId() {
    if (!this._sctpStreamIds) {
      // One slot per possible stream of an SCTP association.
      this._sctpStreamIds = Buffer.alloc(MAX_SCTP_STREAMS, 0);
      this._nextSctpStreamId = 0;
    }
    if (this._sctpNegotiatedMaxOutboundStreams !== undefined
      && this._nextSctpStreamId + 1 > this._sctpNegotiatedMaxOutboundStreams) {
      logger.warn('SCTP negotiated max outbound streams is lower than next SCTP streamId + 1, restarting from 0');
      this._nextSctpStreamId = 0;
    }
    for (let i = 0; i < MAX_SCTP_STREAMS; i++) {
      const streamId = (this._nextSctpStreamId + i) % MAX_SCTP_STREAMS;
      if (this._sctpStreamIds[streamId] === 0) {
        this._sctpStreamIds[streamId] = 1;
        this._nextSctpStreamId = streamId + 1;
        return streamId;
      }
    }
    throw new Error('no sctpStreamId available');
  }

  _releaseSctpStreamId(streamId) {
    if (this._sctpStreamIds && streamId !== undefined) this._sctpStreamIds[streamId] = 0;
  }

  /** Subclasses with SCTP call it on 'sctpnegotiatedcapabilities'. */
  _handleSctpNegotiatedCapabilities(capabilities) {
    this._sctpNegotiatedMaxOutboundStreams = capabilities.negotiatedMaxOutboundStreams;
  }

  /** Engine events for this transport; subclasses handle theirs first. */
  _onEngineEvent(event, data) {
    switch (event) {
      // SCTP transports (WebRtc, Plain, Pipe) keep their SCTP state in _data.
      case 'sctpstatechange': {
        const sctpState = data && data.sctpState;
        this._data.sctpState = sctpState;
        this.safeEmit('sctpstatechange', sctpState);
        this._observer.safeEmit('sctpstatechange', sctpState);
        break;
      }
      case 'sctpnegotiatedcapabilities': {
        // No event for the application (as in mediasoup): the getter and
        // the stream ids of new data consumers follow it.
        const capabilities = {
          negotiatedMaxOutboundStreams: data && data.negotiatedMaxOutboundStreams,
          negotiatedMaxInboundStreams: data && data.negotiatedMaxInboundStreams,
        };
        this._data.sctpNegotiatedCapabilities = capabilities;
        this._handleSctpNegotiatedCapabilities(capabilities);
        break;
      }
      case 'trace':
        this.safeEmit('trace', data);
        this._observer.safeEmit('trace', data);
        break;
      default:
        logger.error(`ignoring unknown event "${event}"`);
    }
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
