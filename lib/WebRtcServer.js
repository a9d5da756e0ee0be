'use strict';

const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');

const logger = new Logger('WebRtcServer');

/**
 * Shared UDP/TCP ports for many WebRtcTransports: the engine routes each
 * packet to its transport by ICE username fragment, then by tuple.
 */
class WebRtcServer extends EngineObject {
  constructor({ internal, channel, appData }) {
    super({ logger, kind: 'WebRtcServer', appData, channel });
    logger.debug('constructor()');
    this._internal = internal;
    this._webRtcTransports = new Map();
  }

  get id() {
    return this._internal.webRtcServerId;
  }

  /** Just for testing purposes. */
  get webRtcTransportsForTesting() {
    return this._webRtcTransports;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    // The transports learn it first, then the engine drops the sockets.
    for (const transport of this._webRtcTransports.values()) {
      transport.listenServerClosed();
      this._observer.safeEmit('webrtctransportunhandled', transport);
    }
    this._webRtcTransports.clear();
    this._channel
      .request('worker.closeWebRtcServer', undefined, { webRtcServerId: this.id })
      .catch((error) => logger.debug(`close() | engine request failed: ${error}`));
    this.emit('@close');
    this._observer.safeEmit('close');
  }

  /** Called by the Worker when it closes or dies. */
  workerClosed() {
    if (!this._setClosed()) return;
    logger.debug('workerClosed()');
    this._webRtcTransports.clear();
    this.safeEmit('workerclose');
    this._observer.safeEmit('close');
  }

  async dump() {
    logger.debug('dump()');
    return this._channel.request('webRtcServer.dump', this.id);
  }

  /** Called by the Router for each WebRtcTransport created on this server. */
  handleWebRtcTransport(transport) {
    this._webRtcTransports.set(transport.id, transport);
    this._observer.safeEmit('webrtctransporthandled', transport);
    transport.on('@close', () => {
      this._webRtcTransports.delete(transport.id);
      this._observer.safeEmit('webrtctransportunhandled', transport);
    });
  }
}

module.exports = { WebRtcServer };
