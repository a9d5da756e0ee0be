'use strict';

const path = require('path');
const { EnhancedEventEmitter } = require('./lib/EnhancedEventEmitter');
const { Logger } = require('./lib/Logger');
const { Channel } = require('./lib/Channel');
const { Worker } = require('./lib/Worker');
const { parseScalabilityMode } = require('./lib/scalabilityModes');
const utils = require('./lib/utils');
const types = require('./lib/types');
const errors = require('./errors');
const ortc = require('./ortc');
const extras = require('./extras');

const logger = new Logger();

/** The gosfu version (package.json). */
const version = require('./package.json').version;

/**
 * The engine library this process loaded (libgosfu.so, beside the addon:
 * build/Release or the platform's prebuild), in the place of mediasoup's
 * worker binary. Workers run in-process, so createWorker() ignores its
 * workerBin setting.
 */
const workerBin = path.join(path.dirname(require('node-gyp-build').path(__dirname)), 'libgosfu.so');

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

// mediasoup 3.27's top-level names, plus types (there, types only).
module.exports = {
  version,
  observer,
  workerBin,
  createWorker,
  getSupportedRtpCapabilities,
  parseScalabilityMode,
  setLogEventListeners,
  types,
  errors,
  ortc,
  extras,
};
