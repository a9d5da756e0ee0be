'use strict';

const debug = require('debug');

const APP_NAME = 'gosfu';

/**
 * Logs through the `debug` package under `gosfu:*` namespaces and, when
 * setLogEventListeners() installed them, to the application's listeners.
 */
class Logger {
  static setListeners(listeners) {
    Logger.listeners = listeners || {};
  }

  constructor(prefix) {
    const base = prefix ? `${APP_NAME}:${prefix}` : APP_NAME;
    this._debug = debug(base);
    this._warn = debug(prefix ? `${APP_NAME}:WARN:${prefix}` : `${APP_NAME}:WARN`);
    this._error = debug(prefix ? `${APP_NAME}:ERROR:${prefix}` : `${APP_NAME}:ERROR`);
    /* eslint-disable no-console */
    this._debug.log = console.debug.bind(console);
    this._warn.log = console.warn.bind(console);
    this._error.log = console.error.bind(console);
    /* eslint-enable no-console */
  }

  debug(log) {
    this._debug(log);
    callListener('ondebug', this._debug.namespace, log);
  }

  warn(log) {
    this._warn(log);
    callListener('onwarn', this._warn.namespace, log);
  }

  error(log, error) {
    if (error) this._error(log, error);
    else this._error(log);
    callListener('onerror', this._error.namespace, log, error);
  }
}

Logger.listeners = {};

function callListener(name, namespace, log, error) {
  const fn = Logger.listeners[name];
  if (typeof fn !== 'function') return;
  try {
    if (error !== undefined) fn(namespace, log, error);
    else fn(namespace, log);
  } catch (ignored) {
    // An application log listener must not break the library.
  }
}

module.exports = { Logger };
