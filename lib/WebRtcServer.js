'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Logger } = require('./Logger');

const logger = new Logger('WebRtcServer');

/**
 * Shared UDP/TCP ports for many WebRtcTransports: the engine routes each
 * packet to its transport by ICE username fragment, then by tuple.
 */
class WebRtcServer extends EnhancedEventEmitter {
  constructor({ internal, channel, appData }) {
    super();
    logger.debug('constructor()');
    this._internal = internal;
    this._channel = channel;
    this._closed = false;
    this._appData = appData || {};
    this._observer = new EnhancedEventEmitter();
    this._webRtcTransports = new Map();
    this.on('listenererror', (eventName, error) => {
      logger.error(`event listener threw an error [eventName:${eventName}]:`, error);
    });
  }

  get id() {
    return this._internal.webRtcServerId;
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
  get webRtcTransportsForTesting() {
    return this._webRtcTransports;
  }

  close() {
    if (this._closed) return;
    logger.debug('close()');
    this._closed = true;
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
    if (this._closed) return;
    logger.debug('workerClosed()');
    this._closed = true;
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
