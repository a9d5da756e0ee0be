'use strict';

const { Logger } = require('./Logger');
const { Transport } = require('./Transport');
const { UnsupportedError } = require('./errors');

const logger = new Logger('DirectTransport');

/**
 * A transport with no network: the application injects RTP with
 * producer.send() and RTCP with sendRtcp(), and receives consumers' RTP as
 * 'rtp' events and the transport's RTCP as 'rtcp' events.
 */
class DirectTransport extends Transport {
  constructor(options) {
    super(options);
    logger.debug('constructor()');
    this._data = {};
  }

  get type() {
    return 'direct';
  }

  async connect() {
    logger.debug('connect()');
  }

  // eslint-disable-next-line no-unused-vars
  async setMaxIncomingBitrate(bitrate) {
    throw new UnsupportedError('setMaxIncomingBitrate() not implemented in DirectTransport');
  }

  // eslint-disable-next-line no-unused-vars
  async setMaxOutgoingBitrate(bitrate) {
    throw new UnsupportedError('setMaxOutgoingBitrate() not implemented in DirectTransport');
  }

  // eslint-disable-next-line no-unused-vars
  async setMinOutgoingBitrate(bitrate) {
    throw new UnsupportedError('setMinOutgoingBitrate() not implemented in DirectTransport');
  }

  /**
   * Injects an RTCP packet as if it came from the remote endpoint. Nothing is
   * reported back: on a closed transport, or if the engine rejects it, the
   * packet is dropped (as a mediasoup notification would be).
   */
  sendRtcp(rtcpPacket) {
    if (!Buffer.isBuffer(rtcpPacket)) throw new TypeError('rtcpPacket must be a Buffer');
    if (this._closed) return;
    try {
      this._channel.requestSync('transport.sendRtcp', this.id, rtcpPacket);
    } catch (error) {
      if (this._channel.closed) throw error;
      logger.warn(`sendRtcp() | packet dropped: ${error}`);
    }
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'rtcp':
        if (this._closed) break;
        this.safeEmit('rtcp', data);
        break;
      default:
        super._onEngineEvent(event, data);
    }
  }
}

module.exports = { DirectTransport };
