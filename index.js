'use strict';

const { EnhancedEventEmitter } = require('./lib/EnhancedEventEmitter');
const { Logger } = require('./lib/Logger');
const { Channel } = require('./lib/Channel');
const { Worker } = require('./lib/Worker');
const { parseScalabilityMode } = require('./lib/scalabilityModes');
const utils = require('./lib/utils');
const types = require('./lib/types');

const logger = new Logger();

/** The gosfu version (package.json). */
const version = require('./package.json').version;

/** Emits 'newworker' (worker). */
const observer = new EnhancedEventEmitter();

/**
 * Routes gosfu's logs (the Node layer's and the engine's) to the given
 * listeners; called with nothing, it removes them.
 */
function setLogEventListeners(listeners) {
  logger.debug('setLogEventListeners()');
  Logger.setListeners({
    ondebug: listeners && listeners.ondebug,
    onwarn: listeners && listeners.onwarn,
    onerror: listeners && listeners.onerror,
  });
}

/**
 * Creates a Worker: an engine instance running inside this process.
 */
async function createWorker({
  logLevel = 'error',
  logTags,
  rtcMinPort = 10000,
  rtcMaxPort = 59999,
  dtlsCertificateFile,
  dtlsPrivateKeyFile,
  appData,
} = {}) {
  logger.debug('createWorker()');
  utils.checkAppData(appData);
  const worker = new Worker({
    logLevel, logTags, rtcMinPort, rtcMaxPort, dtlsCertificateFile, dtlsPrivateKeyFile, appData,
  });
  observer.safeEmit('newworker', worker);
  return worker;
}

/**
 * A fresh copy of the RTP capabilities gosfu supports.
 */
function getSupportedRtpCapabilities() {
  return Channel.globalRequest('getSupportedRtpCapabilities');
}

module.exports = {
  version,
  observer,
  createWorker,
  getSupportedRtpCapabilities,
  parseScalabilityMode,
  setLogEventListeners,
  types,
};
