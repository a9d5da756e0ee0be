'use strict';

const { Channel } = require('./Channel');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');
const { PlainTransport } = require('./PlainTransport');
const { DirectTransport } = require('./DirectTransport');
const { WebRtcTransport } = require('./WebRtcTransport');
const { InvalidStateError, UnsupportedError } = require('./errors');
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
    return utils.clone(this._data.rtpCapabilities);
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
   * Creates a PlainTransport: RTP/RTCP over plain UDP (optionally SRTP).
   * listenIp (+ port) is mediasoup's deprecated form of listenInfo.
   */
  async createPlainTransport({
    listenInfo,
    rtcpListenInfo,
    listenIp,
    port,
    rtcpMux = true,
    comedia = false,
    enableSctp = false,
    numSctpStreams = { OS: 1024, MIS: 1024 },
    maxSctpMessageSize = 262144,
    sctpSendBufferSize = 262144,
    enableSrtp = false,
    srtpCryptoSuite = 'AES_CM_128_HMAC_SHA1_80',
    appData,
  } = {}) {
    logger.debug('createPlainTransport()');
    if (!listenInfo && !listenIp) {
      throw new TypeError('missing listenInfo and listenIp (one of them is mandatory)');
    } else if (listenInfo && listenIp) {
      throw new TypeError('only one of listenInfo and listenIp must be given');
    }
    utils.checkAppData(appData);
    if (rtcpMux && rtcpListenInfo) {
      logger.warn('createPlainTransport() | ignoring rtcpMux since rtcpListenInfo is given');
      rtcpMux = false;
    }
    if (listenIp) {
      if (typeof listenIp === 'string') listenIp = { ip: listenIp };
      listenInfo = {
        protocol: 'udp',
        ip: listenIp.ip,
        announcedAddress: listenIp.announcedIp,
        port,
      };
    }
    const request = {
      transportId: utils.generateUUIDv4(),
      listenInfo: normalizeListenInfo(listenInfo, 'listenInfo'),
      rtcpMux: Boolean(rtcpMux),
      comedia: Boolean(comedia),
      enableSctp: Boolean(enableSctp),
      numSctpStreams: utils.clone(numSctpStreams),
      maxSctpMessageSize,
      sctpSendBufferSize,
      enableSrtp: Boolean(enableSrtp),
      srtpCryptoSuite,
    };
    if (rtcpListenInfo) request.rtcpListenInfo = normalizeListenInfo(rtcpListenInfo, 'rtcpListenInfo');
    this._checkNotClosed('createPlainTransport');
    const data = await this._channel.request('router.createPlainTransport', this.id, request);
    const transport = new PlainTransport({
      internal: { routerId: this.id, transportId: request.transportId },
      data,
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
    });
    this._registerTransport(transport);
    return transport;
  }

  /**
   * Creates a DirectTransport: no network, the application sends and
   * receives the RTP/RTCP packets itself.
   */
  async createDirectTransport({ maxMessageSize = 262144, appData } = {}) {
    logger.debug('createDirectTransport()');
    utils.checkAppData(appData);
    this._checkNotClosed('createDirectTransport');
    const transportId = utils.generateUUIDv4();
    const data = await this._channel.request('router.createDirectTransport', this.id, {
      transportId,
      maxMessageSize,
    });
    const transport = new DirectTransport({
      internal: { routerId: this.id, transportId },
      data: data || {},
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
    });
    this._registerTransport(transport);
    return transport;
  }

  /**
   * Creates a WebRtcTransport on its own ports (listenInfos, or the
   * deprecated listenIps) or on a WebRtcServer's.
   */
  async createWebRtcTransport({
    webRtcServer,
    listenInfos,
    listenIps,
    port,
    enableUdp,
    enableTcp,
    preferUdp = false,
    preferTcp = false,
    initialAvailableOutgoingBitrate = 600000,
    enableSctp = false,
    numSctpStreams = { OS: 1024, MIS: 1024 },
    maxSctpMessageSize = 262144,
    sctpSendBufferSize = 262144,
    iceConsentTimeout = 30,
    appData,
  } = {}) {
    logger.debug('createWebRtcTransport()');
    if (!webRtcServer && !Array.isArray(listenInfos) && !Array.isArray(listenIps)) {
      throw new TypeError('missing webRtcServer, listenInfos and listenIps (one of them is mandatory)');
    } else if (webRtcServer && listenInfos && listenIps) {
      throw new TypeError('only one of webRtcServer, listenInfos and listenIps must be given');
    }
    utils.checkAppData(appData);
    if (webRtcServer) {
      if (enableUdp === undefined) enableUdp = true;
      if (enableTcp === undefined) enableTcp = true;
    } else {
      if (enableUdp === undefined) enableUdp = true;
      if (enableTcp === undefined) enableTcp = false;
    }
    if (listenIps) {
      // Deprecated form: one entry per IP and enabled protocol, preferred first.
      const ips = listenIps.map((listenIp) => (typeof listenIp === 'string' ? { ip: listenIp } : listenIp));
      const protocols = [];
      if (enableUdp && (preferUdp || !enableTcp || !preferTcp)) {
        protocols.push('udp');
        if (enableTcp) protocols.push('tcp');
      } else if (enableTcp && ((preferTcp && !preferUdp) || !enableUdp)) {
        protocols.push('tcp');
        if (enableUdp) protocols.push('udp');
      }
      listenInfos = [];
      for (const listenIp of ips) {
        for (const protocol of protocols) {
          listenInfos.push({ protocol, ip: listenIp.ip, announcedAddress: listenIp.announcedIp, port });
        }
      }
    }
    this._checkNotClosed('createWebRtcTransport');
    const transportId = utils.generateUUIDv4();
    const request = {
      transportId,
      enableUdp: Boolean(enableUdp),
      enableTcp: Boolean(enableTcp),
      preferUdp: Boolean(preferUdp),
      preferTcp: Boolean(preferTcp),
      initialAvailableOutgoingBitrate,
      enableSctp: Boolean(enableSctp),
      numSctpStreams: utils.clone(numSctpStreams),
      maxSctpMessageSize,
      sctpSendBufferSize,
      iceConsentTimeout,
    };
    if (webRtcServer) {
      request.webRtcServerId = webRtcServer.id;
    } else {
      request.listenInfos = listenInfos.map((info, i) => normalizeListenInfo(info, `listenInfos[${i}]`));
    }
    const data = await this._channel.request('router.createWebRtcTransport', this.id, request);
    const transport = new WebRtcTransport({
      internal: { routerId: this.id, transportId },
      data,
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
    });
    this._registerTransport(transport);
    if (webRtcServer) webRtcServer.handleWebRtcTransport(transport);
    return transport;
  }

  // Not implemented yet: they reject with UnsupportedError rather than
  // leaving a mediasoup app with "is not a function".

  async createPipeTransport() {
    throw new UnsupportedError('createPipeTransport() not implemented yet');
  }

  async pipeToRouter() {
    throw new UnsupportedError('pipeToRouter() not implemented yet');
  }

  async createActiveSpeakerObserver() {
    throw new UnsupportedError('createActiveSpeakerObserver() not implemented yet');
  }

  async createAudioLevelObserver() {
    throw new UnsupportedError('createAudioLevelObserver() not implemented yet');
  }

  /** Tracks a new transport and the producers it creates or loses. */
  _registerTransport(transport) {
    this._transports.set(transport.id, transport);
    transport.on('@close', () => this._transports.delete(transport.id));
    transport.on('@listenserverclose', () => this._transports.delete(transport.id));
    transport.on('@newproducer', (producer) => this._producers.set(producer.id, producer));
    transport.on('@producerclose', (producer) => this._producers.delete(producer.id));
    transport.on('@newdataproducer', (dataProducer) => this._dataProducers.set(dataProducer.id, dataProducer));
    transport.on('@dataproducerclose', (dataProducer) => this._dataProducers.delete(dataProducer.id));
    this._observer.safeEmit('newtransport', transport);
  }

  _checkNotClosed(method) {
    if (this._closed) throw new InvalidStateError(`Router closed [method:${method}]`);
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

/**
 * The listen info the engine gets: mediasoup's fields, with the deprecated
 * announcedIp folded into announcedAddress. The engine validates the values.
 */
function normalizeListenInfo(info, name) {
  if (!info || typeof info !== 'object' || Array.isArray(info)) {
    throw new TypeError(`${name} must be an object`);
  }
  const out = { protocol: info.protocol, ip: info.ip };
  const announcedAddress = info.announcedAddress !== undefined ? info.announcedAddress : info.announcedIp;
  if (announcedAddress !== undefined) out.announcedAddress = announcedAddress;
  if (info.exposeInternalIp !== undefined) out.exposeInternalIp = Boolean(info.exposeInternalIp);
  for (const key of ['port', 'portRange', 'flags', 'sendBufferSize', 'recvBufferSize']) {
    if (info[key] !== undefined) out[key] = utils.clone(info[key]);
  }
  return out;
}

module.exports = { Router };
