'use strict';

const native = require('./native');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { WorkerClosedError, errorFromEngine } = require('./errors');
const { Logger } = require('./Logger');

const logger = new Logger('Channel');

function encode(data) {
  if (data === undefined) return undefined;
  if (Buffer.isBuffer(data) || data instanceof Uint8Array) return data;
  return JSON.stringify(data);
}

function decode(payload) {
  if (payload === undefined || Buffer.isBuffer(payload)) return payload;
  return JSON.parse(payload);
}

function rethrow(error, method) {
  if (error && error.code === 'GOSFU_ENGINE_ERROR') {
    let info;
    try {
      info = JSON.parse(error.message);
    } catch (e) {
      info = { name: 'Error', message: error.message };
    }
    const engineError = errorFromEngine(info);
    if (method) logger.warn(`request failed [method:${method}]: ${engineError.message}`);
    throw engineError;
  }
  throw error;
}

/**
 * The link to one engine instance (a Worker) in the Go library. Events are
 * emitted with the target id as event name: channel.on(id, (event, data) => …).
 *
 * Every request method serialises its data before it returns (or before its
 * promise is created): callers put the application's objects in a request
 * as they are, without cloning them, and keep the parsed response, never
 * the request.
 */
class Channel extends EnhancedEventEmitter {
  /**
   * onWorkerEvent, if given, listens to the 'worker' target from the start:
   * it also gets the logs of an engine whose creation fails.
   */
  constructor(settings, onWorkerEvent) {
    super();
    this._closed = false;
    this._pending = new Map();
    this._nextId = 0;
    if (onWorkerEvent) this.on('worker', onWorkerEvent);
    try {
      this._engine = native.createEngine(JSON.stringify(settings), (target, event, payload) => {
        this._onEvent(target, event, payload);
      });
    } catch (error) {
      rethrow(error);
    }
  }

  get closed() {
    return this._closed;
  }

  /**
   * Synchronous request for quick, non-blocking engine methods.
   */
  requestSync(method, handlerId, data) {
    if (this._closed) throw new WorkerClosedError(`Channel closed, cannot send request [method:${method}]`);
    let out;
    try {
      out = native.request(this._engine, method, handlerId || '', encode(data));
    } catch (error) {
      rethrow(error, method);
    }
    return out === undefined ? undefined : JSON.parse(out);
  }

  /**
   * Promise-returning request: quick methods answer synchronously inside
   * the engine, so this settles without a thread hop.
   */
  async request(method, handlerId, data) {
    return this.requestSync(method, handlerId, data);
  }

  /**
   * Request answered from an engine goroutine: for methods that may wait.
   */
  requestAsync(method, handlerId, data) {
    if (this._closed) {
      return Promise.reject(new WorkerClosedError(`Channel closed, cannot send request [method:${method}]`));
    }
    const id = (this._nextId = (this._nextId + 1) >>> 0);
    return new Promise((resolve, reject) => {
      this._pending.set(String(id), { resolve, reject, method });
      let sent;
      try {
        sent = native.requestAsync(this._engine, id, method, handlerId || '', encode(data));
      } catch (error) {
        this._pending.delete(String(id));
        reject(error);
        return;
      }
      if (!sent) {
        this._pending.delete(String(id));
        reject(new WorkerClosedError(`Channel closed, cannot send request [method:${method}]`));
      }
    });
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    native.closeEngine(this._engine);
    for (const { reject, method } of this._pending.values()) {
      reject(new WorkerClosedError(`Channel closed, pending request aborted [method:${method}]`));
    }
    this._pending.clear();
  }

  _onEvent(target, event, payload) {
    if (event.charCodeAt(0) === 64 /* @ */) {
      const sent = this._pending.get(target);
      if (!sent) return;
      this._pending.delete(target);
      if (event === '@ok') {
        sent.resolve(decode(payload));
      } else {
        const error = errorFromEngine(decode(payload));
        logger.warn(`request failed [method:${sent.method}]: ${error.message}`);
        sent.reject(error);
      }
      return;
    }
    let data;
    try {
      data = decode(payload);
    } catch (error) {
      logger.error(`invalid event payload [target:${target}, event:${event}]`, error);
      return;
    }
    // A throwing listener propagates to uncaughtException through the shim.
    this.emit(target, event, data);
  }

  /**
   * Engine-less request (ORTC helpers).
   */
  static globalRequest(method, data) {
    let out;
    try {
      out = native.request(null, method, '', encode(data));
    } catch (error) {
      rethrow(error);
    }
    return out === undefined ? undefined : JSON.parse(out);
  }
}

module.exports = { Channel };
