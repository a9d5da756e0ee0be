'use strict';

const { Logger } = require('./Logger');
const { Transport } = require('./Transport');
const utils = require('./utils');
const numbers = require('./numbers');

const logger = new Logger('PlainTransport');

/**
 * A transport tuple in mediasoup's shape: localIp (deprecated) mirrors
 * localAddress, remotePort is 0 until a remote is known.
 */
function normalizeTuple(tuple) {
  if (!tuple || typeof tuple !== 'object') return undefined;
  const localAddress = tuple.localAddress !== undefined ? tuple.localAddress : tuple.localIp;
  return {
    localIp: localAddress,
    localAddress,
    localPort: tuple.localPort,
    remoteIp: tuple.remoteIp || undefined,
    remotePort: tuple.remotePort || 0,
    protocol: tuple.protocol,
  };
}

/**
 * RTP and RTCP over plain UDP (optionally SRTP), with a remote endpoint set
 * by connect() or, in comedia mode, learnt from the first packet.
 */
class PlainTransport extends Transport {
  constructor(options) {
    super(options);
    logger.debug('constructor()');
    const { data } = options;
    this._data = {
      rtcpMux: data.rtcpMux,
      comedia: data.comedia,
      tuple: normalizeTuple(data.tuple),
      rtcpTuple: normalizeTuple(data.rtcpTuple),
      sctpParameters: data.sctpParameters,
      sctpState: data.sctpState,
      sctpNegotiatedCapabilities: undefined,
      srtpParameters: data.srtpParameters,
    };
  }

  get type() {
    return 'plain';
  }

  get tuple() {
    return utils.clone(this._data.tuple);
  }

  get rtcpTuple() {
    return utils.clone(this._data.rtcpTuple);
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
    if (dump && typeof dump === 'object') {
      if (dump.tuple) dump.tuple = normalizeTuple(dump.tuple);
      if (dump.rtcpTuple) dump.rtcpTuple = normalizeTuple(dump.rtcpTuple);
    }
    return dump;
  }

  async getStats() {
    const stats = await super.getStats();
    if (Array.isArray(stats)) {
      for (const s of stats) {
        if (s && s.tuple) s.tuple = normalizeTuple(s.tuple);
        if (s && s.rtcpTuple) s.rtcpTuple = normalizeTuple(s.rtcpTuple);
      }
    }
    return stats;
  }

  /**
   * Sets the remote endpoint (not needed in comedia mode) and, with SRTP,
   * the remote keys. The engine validates them.
   */
  async connect({ ip, port, rtcpPort, srtpParameters } = {}) {
    logger.debug('connect()');
    numbers.checkRemotePort(port, 'port');
    numbers.checkRemotePort(rtcpPort, 'rtcpPort');
    this._checkNotClosed('connect');
    const request = {};
    if (ip !== undefined) request.ip = ip;
    if (port !== undefined) request.port = port;
    if (rtcpPort !== undefined) request.rtcpPort = rtcpPort;
    if (srtpParameters !== undefined) request.srtpParameters = srtpParameters;
    const response = await this._channel.request('transport.connect', this.id, request);
    if (response && response.tuple) this._data.tuple = normalizeTuple(response.tuple);
    if (response && response.rtcpTuple) this._data.rtcpTuple = normalizeTuple(response.rtcpTuple);
    if (response && response.srtpParameters) this._data.srtpParameters = response.srtpParameters;
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
      case 'rtcptuple': {
        const rtcpTuple = normalizeTuple(data && data.rtcpTuple);
        this._data.rtcpTuple = rtcpTuple;
        this.safeEmit('rtcptuple', rtcpTuple);
        this._observer.safeEmit('rtcptuple', rtcpTuple);
        break;
      }
      default:
        super._onEngineEvent(event, data);
    }
  }
}

module.exports = { PlainTransport, normalizeTuple };
