'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError } = require('./errors');

/**
 * Base of the API objects backed by an engine entity (Worker, WebRtcServer,
 * Router, transports, producers, consumers, data producers/consumers, RTP
 * observers): the plumbing mediasoup's classes all share, in one place.
 *
 * - appData: read/write, `{}` when not given (createX() type-checks it);
 * - observer: an EnhancedEventEmitter for monitoring;
 * - closed, _setClosed() (once only), and _checkNotClosed() throwing
 *   mediasoup's InvalidStateError "<Class> closed [method:<name>]";
 * - a throwing listener of safeEmit() is logged by the subclass's logger;
 * - _subscribe()/_unsubscribe(): the engine events addressed to this object.
 */
class EngineObject extends EnhancedEventEmitter {
  /**
   * @param {object} options
   * @param {import('./Logger').Logger} [options.logger] Logs listener errors
   *   under the subclass's name; none: the subclass logs them itself.
   * @param {string} [options.kind] Class name used in InvalidStateError.
   * @param {object} [options.appData]
   * @param {EnhancedEventEmitter} [options.observer] Shared by a class
   *   hierarchy that adds observer events; a new one when not given.
   * @param {object} [options.channel]
   */
  constructor({ logger, kind, appData, observer, channel } = {}) {
    super();
    this._kind = kind;
    this._channel = channel;
    this._closed = false;
    this._appData = appData || {};
    this._observer = observer || new EnhancedEventEmitter();
    this._channelEventName = undefined;
    this._onChannelEvent = undefined;
    if (logger) {
      this.on('listenererror', (eventName, error) => {
        logger.error(`event listener threw an error [eventName:${eventName}]:`, error);
      });
    }
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

  /**
   * Marks the object closed and stops its engine events. Returns false when
   * it already was closed: every close path (close(), a parent closing, an
   * engine event) then does nothing, and each runs its side effects once.
   */
  _setClosed() {
    if (this._closed) return false;
    this._closed = true;
    this._unsubscribe();
    return true;
  }

  _checkNotClosed(method) {
    if (this._closed) throw new InvalidStateError(`${this._kind} closed [method:${method}]`);
  }

  /** Routes the channel's events for `id` to this._onEngineEvent(). */
  _subscribe(id) {
    this._channelEventName = id;
    this._onChannelEvent = (event, data) => this._onEngineEvent(event, data);
    this._channel.on(id, this._onChannelEvent);
  }

  _unsubscribe() {
    if (this._onChannelEvent) this._channel.removeListener(this._channelEventName, this._onChannelEvent);
  }
}

module.exports = { EngineObject };
