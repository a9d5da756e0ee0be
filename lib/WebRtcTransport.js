'use strict';

const { Logger } = require('./Logger');
const { Transport } = require('./Transport');
const utils = require('./utils');

const logger = new Logger('WebRtcTransport');

/**
 * A transport to a WebRTC endpoint: ICE-lite, DTLS-SRTP, RTP/RTCP bundled
 * on the selected ICE tuple (UDP or TCP).
 */
class WebRtcTransport extends Transport {
  constructor(options) {
    super(options);
    logger.debug('constructor()');
    const { data } = options;
    this._data = {
      iceRole: data.iceRole,
      iceParameters: data.iceParameters,
      iceCandidates: data.iceCandidates,
      iceState: data.iceState,
      iceSelectedTuple: data.iceSelectedTuple,
      dtlsParameters: data.dtlsParameters,
      dtlsState: data.dtlsState,
      dtlsRemoteCert: data.dtlsRemoteCert,
      sctpParameters: data.sctpParameters,
      sctpState: data.sctpState,
      sctpNegotiatedCapabilities: undefined,
    };
  }

  get type() {
    return 'webrtc';
  }

  get iceRole() {
    return this._data.iceRole;
  }

  get iceParameters() {
    return utils.clone(this._data.iceParameters);
  }

  get iceCandidates() {
    return utils.clone(this._data.iceCandidates);
  }

  get iceState() {
    return this._data.iceState;
  }

  get iceSelectedTuple() {
    return utils.clone(this._data.iceSelectedTuple);
  }

  get dtlsParameters() {
    return utils.clone(this._data.dtlsParameters);
  }

  get dtlsState() {
    return this._data.dtlsState;
  }

  get dtlsRemoteCert() {
    return this._data.dtlsRemoteCert;
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

  _markClosed() {
    this._data.iceState = 'closed';
    this._data.iceSelectedTuple = undefined;
    this._data.dtlsState = 'closed';
    if (this._data.sctpState) this._data.sctpState = 'closed';
  }

  close() {
    if (this._closed) return;
    this._markClosed();
    super.close();
  }

  routerClosed() {
    if (this._closed) return;
    this._markClosed();
    super.routerClosed();
  }

  listenServerClosed() {
    if (this._closed) return;
    this._markClosed();
    super.listenServerClosed();
  }

  /**
   * Gives the remote DTLS parameters: the local DTLS role follows from the
   * remote one and the handshake starts once ICE is connected.
   */
  async connect({ dtlsParameters } = {}) {
    logger.debug('connect()');
    this._checkNotClosed('connect');
    if (!dtlsParameters || typeof dtlsParameters !== 'object') {
      throw new TypeError('missing dtlsParameters');
    }
    // Serialised right away, not kept: no clone needed.
    const response = await this._channel.request('transport.connect', this.id, { dtlsParameters });
    if (response && response.dtlsLocalRole) {
      this._data.dtlsParameters.role = response.dtlsLocalRole;
    }
  }

  /** New local ICE credentials (ICE restart). */
  async restartIce() {
    logger.debug('restartIce()');
    this._checkNotClosed('restartIce');
    const iceParameters = await this._channel.request('transport.restartIce', this.id);
    this._data.iceParameters = iceParameters;
    return utils.clone(iceParameters);
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'icestatechange': {
        const iceState = data.iceState;
        this._data.iceState = iceState;
        this.safeEmit('icestatechange', iceState);
        this._observer.safeEmit('icestatechange', iceState);
        break;
      }
      case 'iceselectedtuplechange': {
        const tuple = data.iceSelectedTuple;
        this._data.iceSelectedTuple = tuple;
        this.safeEmit('iceselectedtuplechange', utils.clone(tuple));
        this._observer.safeEmit('iceselectedtuplechange', utils.clone(tuple));
        break;
      }
      case 'dtlsstatechange': {
        const dtlsState = data.dtlsState;
        this._data.dtlsState = dtlsState;
        if (dtlsState === 'connected') this._data.dtlsRemoteCert = data.dtlsRemoteCert;
        this.safeEmit('dtlsstatechange', dtlsState);
        this._observer.safeEmit('dtlsstatechange', dtlsState);
        break;
      }
      default:
        super._onEngineEvent(event, data);
    }
  }
}

module.exports = { WebRtcTransport };
