'use strict';

const { Channel } = require('./Channel');
const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const { PlainTransport } = require('./PlainTransport');
const { PipeTransport } = require('./PipeTransport');
const { DirectTransport } = require('./DirectTransport');
const { WebRtcTransport } = require('./WebRtcTransport');
const { AudioLevelObserver } = require('./AudioLevelObserver');
const { ActiveSpeakerObserver } = require('./ActiveSpeakerObserver');
const { NotFoundError } = require('./errors');
const utils = require('./utils');
const numbers = require('./numbers');

const logger = new Logger('Router');

/**
 * A media room: producers of its transports can be consumed by consumers on
 * any of its transports.
 */
class Router extends EngineObject {
  constructor({ internal, data, channel, appData }) {
    super({ logger, kind: 'Router', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._data = data;
    this._transports = new Map();
    this._producers = new Map();
    this._rtpObservers = new Map();
    this._dataProducers = new Map();
    // Pipe transport pair promises by the id of the other router, shared
    // by both routers (pipeToRouter() creates one pair per router pair).
    this._mapRouterPairPipeTransportPairPromise = new Map();
  }

  get id() {
    return this._internal.routerId;
  }

  get rtpCapabilities() {
    return utils.clone(this._data.rtpCapabilities);
  }

  /**
   * Replaces the router's media codecs: rtpCapabilities changes, and
   * producers created from now on are mapped to the new capabilities
   * (existing producers and consumers keep theirs). Throws as createRouter()
   * does for bad codecs.
   */
  updateMediaCodecs(mediaCodecs) {
    logger.debug('updateMediaCodecs()');
    const { rtpCapabilities } = this._closed
      ? { rtpCapabilities: Channel.globalRequest('generateRouterRtpCapabilities', { value: mediaCodecs }) }
      : this._channel.requestSync('router.updateMediaCodecs', this.id, { mediaCodecs });
    this._data.rtpCapabilities = rtpCapabilities;
  }

  /** Just for testing purposes. */
  get transportsForTesting() {
    return this._transports;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
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
    if (!this._setClosed()) return;
    logger.debug('workerClosed()');
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
    maxSendMessageSize = 262144,
    maxReceiveMessageSize = 262144,
    sctpSendBufferSize = 2000000,
    sctpPerStreamSendQueueLimit = 2000000,
    sctpMaxReceiverWindowBufferSize = 5242880,
    sctpDefaultStreamBufferedAmountLowThreshold = 1024,
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
      ...sctpOptions({
        enableSctp,
        maxSendMessageSize,
        maxReceiveMessageSize,
        sctpSendBufferSize,
        sctpPerStreamSendQueueLimit,
        sctpMaxReceiverWindowBufferSize,
        sctpDefaultStreamBufferedAmountLowThreshold,
      }),
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
      getDataProducerById: (dataProducerId) => this._dataProducers.get(dataProducerId),
    });
    this._registerTransport(transport);
    return transport;
  }

  /**
   * Creates a DirectTransport: no network, the application sends and
   * receives the RTP/RTCP packets and the data messages itself.
   */
  async createDirectTransport({
    maxSendMessageSize = 262144,
    maxReceiveMessageSize = 262144,
    appData,
  } = {}) {
    logger.debug('createDirectTransport()');
    utils.checkAppData(appData);
    numbers.checkInteger(maxSendMessageSize, 'maxSendMessageSize', 0, numbers.UINT32_MAX);
    numbers.checkInteger(maxReceiveMessageSize, 'maxReceiveMessageSize', 0, numbers.UINT32_MAX);
    this._checkNotClosed('createDirectTransport');
    const transportId = utils.generateUUIDv4();
    const data = await this._channel.request('router.createDirectTransport', this.id, {
      transportId,
      maxSendMessageSize,
      maxReceiveMessageSize,
    });
    const transport = new DirectTransport({
      internal: { routerId: this.id, transportId },
      data: data || {},
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
      getDataProducerById: (dataProducerId) => this._dataProducers.get(dataProducerId),
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
    maxSendMessageSize = 262144,
    maxReceiveMessageSize = 262144,
    sctpSendBufferSize = 2000000,
    sctpPerStreamSendQueueLimit = 2000000,
    sctpMaxReceiverWindowBufferSize = 5242880,
    sctpDefaultStreamBufferedAmountLowThreshold = 1024,
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
      initialAvailableOutgoingBitrate: numbers.checkBitrate(
        initialAvailableOutgoingBitrate,
        `wrong initialAvailableOutgoingBitrate (must be <= ${numbers.MAX_BITRATE})`,
      ),
      ...sctpOptions({
        enableSctp,
        maxSendMessageSize,
        maxReceiveMessageSize,
        sctpSendBufferSize,
        sctpPerStreamSendQueueLimit,
        sctpMaxReceiverWindowBufferSize,
        sctpDefaultStreamBufferedAmountLowThreshold,
      }),
      iceConsentTimeout: numbers.checkInteger(iceConsentTimeout, 'iceConsentTimeout', 0, numbers.UINT8_MAX),
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
      getDataProducerById: (dataProducerId) => this._dataProducers.get(dataProducerId),
    });
    this._registerTransport(transport);
    if (webRtcServer) webRtcServer.handleWebRtcTransport(transport);
    return transport;
  }

  /**
   * Creates a PipeTransport: a UDP link to another router (optionally SRTP
   * and RTX). listenIp (+ port) is mediasoup's deprecated form of listenInfo.
   */
  async createPipeTransport({
    listenInfo,
    listenIp,
    port,
    enableSctp = false,
    maxSendMessageSize = 262144,
    maxReceiveMessageSize = 262144,
    sctpSendBufferSize = 2000000,
    sctpPerStreamSendQueueLimit = 2000000,
    sctpMaxReceiverWindowBufferSize = 5242880,
    sctpDefaultStreamBufferedAmountLowThreshold = 1024,
    enableRtx = false,
    enableSrtp = false,
    appData,
  } = {}) {
    logger.debug('createPipeTransport()');
    if (!listenInfo && !listenIp) {
      throw new TypeError('missing listenInfo and listenIp (one of them is mandatory)');
    } else if (listenInfo && listenIp) {
      throw new TypeError('only one of listenInfo and listenIp must be given');
    }
    utils.checkAppData(appData);
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
      ...sctpOptions({
        enableSctp,
        maxSendMessageSize,
        maxReceiveMessageSize,
        sctpSendBufferSize,
        sctpPerStreamSendQueueLimit,
        sctpMaxReceiverWindowBufferSize,
        sctpDefaultStreamBufferedAmountLowThreshold,
      }),
      enableRtx: Boolean(enableRtx),
      enableSrtp: Boolean(enableSrtp),
    };
    this._checkNotClosed('createPipeTransport');
    const data = await this._channel.request('router.createPipeTransport', this.id, request);
    const transport = new PipeTransport({
      internal: { routerId: this.id, transportId: request.transportId },
      data,
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
      getDataProducerById: (dataProducerId) => this._dataProducers.get(dataProducerId),
    });
    this._registerTransport(transport);
    return transport;
  }

  /**
   * Makes a producer (or data producer) of this router available in another
   * router: a pipe consumer (data consumer) here and a producer (data
   * producer) with the same id (unless keepId is false) there, over a pair
   * of connected PipeTransports created on first use and shared by later
   * calls for the same two routers.
   */
  async pipeToRouter({
    producerId,
    dataProducerId,
    router,
    keepId = true,
    listenInfo,
    listenIp,
    enableSctp = true,
    maxSendMessageSize = 262144,
    maxReceiveMessageSize = 262144,
    sctpSendBufferSize = 2000000,
    sctpPerStreamSendQueueLimit = 2000000,
    sctpMaxReceiverWindowBufferSize = 5242880,
    sctpDefaultStreamBufferedAmountLowThreshold = 1024,
    enableRtx = false,
    enableSrtp = false,
  } = {}) {
    logger.debug('pipeToRouter()');
    if (!listenInfo && !listenIp) {
      listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
    }
    if (listenInfo && listenIp) {
      throw new TypeError('only one of listenInfo and listenIp must be given');
    } else if (!producerId && !dataProducerId) {
      throw new TypeError('missing producerId or dataProducerId');
    } else if (producerId && dataProducerId) {
      throw new TypeError('just producerId or dataProducerId can be given');
    } else if (!router) {
      throw new TypeError('missing router');
    } else if (router === this) {
      throw new TypeError('cannot use this Router as destination');
    }
    if (listenIp) {
      if (typeof listenIp === 'string') listenIp = { ip: listenIp };
      listenInfo = { protocol: 'udp', ip: listenIp.ip, announcedAddress: listenIp.announcedIp };
    }
    let producer;
    let dataProducer;
    if (producerId) {
      producer = this._producers.get(producerId);
      if (!producer) throw new NotFoundError('Producer not found');
    } else {
      dataProducer = this._dataProducers.get(dataProducerId);
      if (!dataProducer) throw new NotFoundError('DataProducer not found');
    }

    const pipeTransportPair = await this._getPipeTransportPair(router, {
      listenInfo,
      enableSctp,
      maxSendMessageSize,
      maxReceiveMessageSize,
      sctpSendBufferSize,
      sctpPerStreamSendQueueLimit,
      sctpMaxReceiverWindowBufferSize,
      sctpDefaultStreamBufferedAmountLowThreshold,
      enableRtx,
      enableSrtp,
    });
    const localPipeTransport = pipeTransportPair[this.id];
    const remotePipeTransport = pipeTransportPair[router.id];

    if (producer) return this._pipeProducer(producer, localPipeTransport, remotePipeTransport, keepId);
    return this._pipeDataProducer(dataProducer, localPipeTransport, remotePipeTransport, keepId);
  }

  /** Pipe consumer here, pipe producer there; pause, resume and close follow. */
  async _pipeProducer(producer, localPipeTransport, remotePipeTransport, keepId) {
    let pipeConsumer;
    let pipeProducer;
    try {
      pipeConsumer = await localPipeTransport.consume({ producerId: producer.id });
      pipeProducer = await remotePipeTransport.produce({
        id: keepId ? producer.id : utils.generateUUIDv4(),
        kind: pipeConsumer.kind,
        rtpParameters: pipeConsumer.rtpParameters,
        paused: pipeConsumer.producerPaused,
        appData: producer.appData,
      });
      if (producer.closed) throw new NotFoundError('original Producer closed');
      // The producer may have been paused or resumed in the meanwhile.
      if (pipeProducer.paused !== producer.paused) {
        if (producer.paused) await pipeProducer.pause();
        else await pipeProducer.resume();
      }
      const consumer = pipeConsumer;
      const pipedProducer = pipeProducer;
      const follow = (promise, what) => promise.catch((error) => logger.debug(`pipeToRouter() | ${what} failed: ${error}`));
      consumer.observer.on('close', () => pipedProducer.close());
      consumer.observer.on('pause', () => void follow(pipedProducer.pause(), 'pipe Producer pause'));
      consumer.observer.on('resume', () => void follow(pipedProducer.resume(), 'pipe Producer resume'));
      pipedProducer.observer.on('close', () => consumer.close());
      return { pipeConsumer, pipeProducer };
    } catch (error) {
      logger.error('pipeToRouter() | error creating pipe Consumer/Producer pair:', error);
      if (pipeConsumer) pipeConsumer.close();
      if (pipeProducer) pipeProducer.close();
      throw error;
    }
  }

  /**
   * Pipe data consumer here (an SCTP stream of the local pipe transport),
   * pipe data producer there on the same stream; close follows both ways.
   */
  async _pipeDataProducer(dataProducer, localPipeTransport, remotePipeTransport, keepId) {
    let pipeDataConsumer;
    let pipeDataProducer;
    try {
      pipeDataConsumer = await localPipeTransport.consumeData({ dataProducerId: dataProducer.id });
      pipeDataProducer = await remotePipeTransport.produceData({
        id: keepId ? dataProducer.id : utils.generateUUIDv4(),
        sctpStreamParameters: pipeDataConsumer.sctpStreamParameters,
        label: pipeDataConsumer.label,
        protocol: pipeDataConsumer.protocol,
        appData: dataProducer.appData,
      });
      if (dataProducer.closed) throw new NotFoundError('original DataProducer closed');
      const dataConsumer = pipeDataConsumer;
      const pipedDataProducer = pipeDataProducer;
      dataConsumer.observer.on('close', () => pipedDataProducer.close());
      pipedDataProducer.observer.on('close', () => dataConsumer.close());
      return { pipeDataConsumer, pipeDataProducer };
    } catch (error) {
      logger.error('pipeToRouter() | error creating pipe DataConsumer/DataProducer pair:', error);
      if (pipeDataConsumer) pipeDataConsumer.close();
      if (pipeDataProducer) pipeDataProducer.close();
      throw error;
    }
  }

  /**
   * The connected PipeTransport pair between this router and router: the
   * one being created or in use for this router pair, or a new one.
   */
  async _getPipeTransportPair(router, options) {
    const pipeTransportPairKey = router.id;
    const existing = this._mapRouterPairPipeTransportPairPromise.get(pipeTransportPairKey);
    if (existing) return existing;

    const pipeTransportPairPromise = this._createPipeTransportPair(router, options);
    // Whoever waits for the pair gets its failure; this handler only keeps a
    // failure nobody waits for (see below) from being an unhandled rejection.
    pipeTransportPairPromise.catch(() => {});
    this._mapRouterPairPipeTransportPairPromise.set(pipeTransportPairKey, pipeTransportPairPromise);
    try {
      router.addPipeTransportPair(this.id, pipeTransportPairPromise);
    } catch (error) {
      // Not a usable router: undo, without leaving a transport behind.
      this._mapRouterPairPipeTransportPairPromise.delete(pipeTransportPairKey);
      const pair = await pipeTransportPairPromise.catch(() => undefined);
      if (pair) {
        for (const transport of Object.values(pair)) transport.close();
      }
      throw error;
    }
    return pipeTransportPairPromise;
  }

  /** Creates and connects the PipeTransport pair between this router and router. */
  async _createPipeTransportPair(router, options) {
    const pipeTransportPairKey = router.id;
    let localPipeTransport;
    let remotePipeTransport;
    try {
      // Both creations run to their end (a throwing one included) so that a
      // transport created while the other failed can be closed below.
      const settle = (create) => Promise.resolve()
        .then(create)
        .then((transport) => ({ transport }), (error) => ({ error }));
      const [local, remote] = await Promise.all([
        settle(() => this.createPipeTransport(options)),
        settle(() => router.createPipeTransport(options)),
      ]);
      localPipeTransport = local.transport;
      remotePipeTransport = remote.transport;
      if (local.error) throw local.error;
      if (remote.error) throw remote.error;
      await Promise.all([
        localPipeTransport.connect({
          ip: remotePipeTransport.tuple.localAddress,
          port: remotePipeTransport.tuple.localPort,
          srtpParameters: remotePipeTransport.srtpParameters,
        }),
        remotePipeTransport.connect({
          ip: localPipeTransport.tuple.localAddress,
          port: localPipeTransport.tuple.localPort,
          srtpParameters: localPipeTransport.srtpParameters,
        }),
      ]);
    } catch (error) {
      logger.error('pipeToRouter() | error creating PipeTransport pair:', error);
      if (localPipeTransport) localPipeTransport.close();
      if (remotePipeTransport) remotePipeTransport.close();
      this._mapRouterPairPipeTransportPairPromise.delete(pipeTransportPairKey);
      throw error instanceof Error ? error : new Error(String(error));
    }
    localPipeTransport.observer.on('close', () => {
      remotePipeTransport.close();
      this._mapRouterPairPipeTransportPairPromise.delete(pipeTransportPairKey);
    });
    remotePipeTransport.observer.on('close', () => {
      localPipeTransport.close();
      this._mapRouterPairPipeTransportPairPromise.delete(pipeTransportPairKey);
    });
    return { [this.id]: localPipeTransport, [router.id]: remotePipeTransport };
  }

  /**
   * Internal: the other router of a pipeToRouter() shares the pair promise
   * under this router's id.
   */
  addPipeTransportPair(pipeTransportPairKey, pipeTransportPairPromise) {
    if (this._mapRouterPairPipeTransportPairPromise.has(pipeTransportPairKey)) {
      throw new Error('given pipeTransportPairKey already exists in this Router');
    }
    this._mapRouterPairPipeTransportPairPromise.set(pipeTransportPairKey, pipeTransportPairPromise);
    pipeTransportPairPromise
      .then((pipeTransportPair) => {
        pipeTransportPair[this.id].observer.on('close', () => {
          this._mapRouterPairPipeTransportPairPromise.delete(pipeTransportPairKey);
        });
      })
      .catch(() => {
        this._mapRouterPairPipeTransportPairPromise.delete(pipeTransportPairKey);
      });
  }

  /**
   * Creates an ActiveSpeakerObserver: 'dominantspeaker' when the dominant
   * speaker among its audio producers changes.
   */
  async createActiveSpeakerObserver({ interval = 300, appData } = {}) {
    logger.debug('createActiveSpeakerObserver()');
    if (typeof interval !== 'number') {
      throw new TypeError('if given, interval must be an number');
    }
    numbers.checkInteger(interval, 'interval', 0, numbers.UINT16_MAX);
    utils.checkAppData(appData);
    this._checkNotClosed('createActiveSpeakerObserver');
    const rtpObserverId = utils.generateUUIDv4();
    await this._channel.request('router.createActiveSpeakerObserver', this.id, { rtpObserverId, interval });
    return this._registerRtpObserver(new ActiveSpeakerObserver({
      internal: { routerId: this.id, rtpObserverId },
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
    }));
  }

  /**
   * Creates an AudioLevelObserver: 'volumes' of its loudest audio producers
   * every interval, 'silence' when none is above threshold.
   */
  async createAudioLevelObserver({
    maxEntries = 1, threshold = -80, interval = 1000, appData,
  } = {}) {
    logger.debug('createAudioLevelObserver()');
    if (typeof maxEntries !== 'number' || maxEntries <= 0) {
      throw new TypeError('if given, maxEntries must be a positive number');
    } else if (typeof threshold !== 'number' || threshold < -127 || threshold > 0) {
      throw new TypeError('if given, threshole must be a negative number greater than -127');
    } else if (typeof interval !== 'number') {
      throw new TypeError('if given, interval must be an number');
    }
    // mediasoup's checks above let NaN and fractions through.
    numbers.checkInteger(maxEntries, 'maxEntries', 1, numbers.UINT16_MAX);
    numbers.checkInteger(threshold, 'threshold', -127, 0);
    numbers.checkInteger(interval, 'interval', 0, numbers.UINT16_MAX);
    utils.checkAppData(appData);
    this._checkNotClosed('createAudioLevelObserver');
    const rtpObserverId = utils.generateUUIDv4();
    await this._channel.request('router.createAudioLevelObserver', this.id, {
      rtpObserverId, maxEntries, threshold, interval,
    });
    return this._registerRtpObserver(new AudioLevelObserver({
      internal: { routerId: this.id, rtpObserverId },
      channel: this._channel,
      appData,
      getProducerById: (producerId) => this._producers.get(producerId),
    }));
  }

  _registerRtpObserver(rtpObserver) {
    this._rtpObservers.set(rtpObserver.id, rtpObserver);
    rtpObserver.on('@close', () => this._rtpObservers.delete(rtpObserver.id));
    this._observer.safeEmit('newrtpobserver', rtpObserver);
    return rtpObserver;
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
 * The SCTP options of a transport creation request, with mediasoup's
 * defaults already applied by the caller. The legacy numSctpStreams and
 * maxSctpMessageSize are not among them: mediasoup 3.27 ignores them too
 * (the association always offers 65535 streams each way), so they never
 * reach the engine. Each size must be an integer in [0, 2^32-1] (0: the
 * engine's default), as mediasoup's uint32 fields would wrap the others.
 */
function sctpOptions({
  enableSctp,
  maxSendMessageSize,
  maxReceiveMessageSize,
  sctpSendBufferSize,
  sctpPerStreamSendQueueLimit,
  sctpMaxReceiverWindowBufferSize,
  sctpDefaultStreamBufferedAmountLowThreshold,
}) {
  const sizes = {
    maxSendMessageSize,
    maxReceiveMessageSize,
    sctpSendBufferSize,
    sctpPerStreamSendQueueLimit,
    sctpMaxReceiverWindowBufferSize,
    sctpDefaultStreamBufferedAmountLowThreshold,
  };
  for (const [name, value] of Object.entries(sizes)) numbers.checkInteger(value, name, 0, numbers.UINT32_MAX);
  return {
    enableSctp: Boolean(enableSctp),
    maxSendMessageSize,
    maxReceiveMessageSize,
    sctpSendBufferSize,
    sctpPerStreamSendQueueLimit,
    sctpMaxReceiverWindowBufferSize,
    sctpDefaultStreamBufferedAmountLowThreshold,
  };
}

/**
 * The listen info the engine gets: mediasoup's fields, with the deprecated
 * announcedIp folded into announcedAddress. The engine validates the values.
 */
function normalizeListenInfo(info, name) {
  if (!info || typeof info !== 'object' || Array.isArray(info)) {
    throw new TypeError(`${name} must be an object`);
  }
  numbers.checkListenInfoNumbers(info);
  const out = { protocol: info.protocol, ip: info.ip };
  const announcedAddress = info.announcedAddress !== undefined ? info.announcedAddress : info.announcedIp;
  if (announcedAddress !== undefined) out.announcedAddress = announcedAddress;
  if (info.exposeInternalIp !== undefined) out.exposeInternalIp = Boolean(info.exposeInternalIp);
  for (const key of ['port', 'portRange', 'flags', 'sendBufferSize', 'recvBufferSize']) {
    if (info[key] !== undefined) out[key] = info[key];
  }
  return out;
}

module.exports = { Router };
