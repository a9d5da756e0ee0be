'use strict';

const { Channel } = require('./Channel');
const { EngineObject } = require('./EngineObject');
const { Logger } = require('./Logger');
const { Router } = require('./Router');
const { WebRtcServer } = require('./WebRtcServer');
const utils = require('./utils');
const numbers = require('./numbers');

const logger = new Logger('Worker');
const engineLoggers = new Map();

function engineLogger(name) {
  let l = engineLoggers.get(name);
  if (!l) {
    l = new Logger(`worker:${name}`);
    engineLoggers.set(name, l);
  }
  return l;
}

/**
 * A media engine instance. Unlike mediasoup there is no subprocess: the
 * engine runs inside this Node process (pid is process.pid), on all cores.
 */
class Worker extends EngineObject {
  constructor({ logLevel, logTags, rtcMinPort, rtcMaxPort, dtlsCertificateFile, dtlsPrivateKeyFile, appData } = {}) {
    super({ logger, kind: 'Worker', appData });
    logger.debug('constructor()');
    // Only well-typed settings reach the engine, as only those reach a
    // mediasoup worker's command line.
    const settings = {};
    if (typeof logLevel === 'string' && logLevel) settings.logLevel = logLevel;
    if (Array.isArray(logTags) && logTags.length > 0) settings.logTags = logTags.filter((t) => typeof t === 'string');
    if (typeof rtcMinPort === 'number' && !Number.isNaN(rtcMinPort)) settings.rtcMinPort = rtcMinPort;
    if (typeof rtcMaxPort === 'number' && !Number.isNaN(rtcMaxPort)) settings.rtcMaxPort = rtcMaxPort;
    if (typeof dtlsCertificateFile === 'string' && dtlsCertificateFile) settings.dtlsCertificateFile = dtlsCertificateFile;
    if (typeof dtlsPrivateKeyFile === 'string' && dtlsPrivateKeyFile) settings.dtlsPrivateKeyFile = dtlsPrivateKeyFile;
    // JSON would turn ±Infinity into null (no setting); a mediasoup worker
    // fails to parse it.
    if (!Number.isFinite(settings.rtcMinPort ?? 0) || !Number.isFinite(settings.rtcMaxPort ?? 0)) {
      throw new TypeError('wrong settings');
    }

    this._died = false;
    this._subprocessClosed = false;
    this._routers = new Set();
    this._webRtcServers = new Set();
    this._channel = new Channel(settings, (event, data) => this._onEngineEvent(event, data));
  }

  get pid() {
    return process.pid;
  }

  get died() {
    return this._died;
  }

  get subprocessClosed() {
    return this._subprocessClosed;
  }

  /** Internal: the channel to the engine. */
  get channel() {
    return this._channel;
  }

  /** Just for testing purposes. */
  get routersForTesting() {
    return this._routers;
  }

  /** Just for testing purposes. */
  get webRtcServersForTesting() {
    return this._webRtcServers;
  }

  close() {
    if (!this._setClosed()) return;
    logger.debug('close()');
    for (const router of this._routers) router.workerClosed();
    this._routers.clear();
    for (const server of this._webRtcServers) server.workerClosed();
    this._webRtcServers.clear();
    this._channel.close();
    this._observer.safeEmit('close');
    // There is no subprocess; mediasoup apps still wait for this event.
    setImmediate(() => this._emitSubprocessClose());
  }

  _emitSubprocessClose() {
    if (this._subprocessClosed) return;
    this._subprocessClosed = true;
    this.safeEmit('subprocessclose');
  }

  async dump() {
    logger.debug('dump()');
    return this._channel.request('worker.dump');
  }

  async getResourceUsage() {
    logger.debug('getResourceUsage()');
    return this._channel.request('worker.getResourceUsage');
  }

  async updateSettings({ logLevel, logTags } = {}) {
    logger.debug('updateSettings()');
    const data = {};
    if (logLevel !== undefined) data.logLevel = logLevel;
    if (logTags !== undefined) data.logTags = logTags;
    await this._channel.request('worker.updateSettings', undefined, data);
  }

  async createWebRtcServer({ listenInfos, appData } = {}) {
    logger.debug('createWebRtcServer()');
    utils.checkAppData(appData);
    if (!Array.isArray(listenInfos) || listenInfos.length === 0) {
      throw new TypeError('missing listenInfos');
    }
    for (const info of listenInfos) {
      if (info && typeof info === 'object') numbers.checkListenInfoNumbers(info);
    }
    const webRtcServerId = utils.generateUUIDv4();
    await this._channel.request('worker.createWebRtcServer', undefined, {
      webRtcServerId,
      listenInfos: listenInfos.map((info) => ({
        protocol: info.protocol,
        ip: info.ip,
        announcedAddress: info.announcedAddress !== undefined ? info.announcedAddress : info.announcedIp,
        port: info.port,
        portRange: info.portRange,
        flags: info.flags,
        sendBufferSize: info.sendBufferSize,
        recvBufferSize: info.recvBufferSize,
      })),
    });
    const webRtcServer = new WebRtcServer({
      internal: { webRtcServerId },
      channel: this._channel,
      appData,
    });
    this._webRtcServers.add(webRtcServer);
    webRtcServer.on('@close', () => this._webRtcServers.delete(webRtcServer));
    this._observer.safeEmit('newwebrtcserver', webRtcServer);
    return webRtcServer;
  }

  async createRouter({ mediaCodecs, appData } = {}) {
    logger.debug('createRouter()');
    utils.checkAppData(appData);
    if (mediaCodecs !== undefined && !Array.isArray(mediaCodecs)) {
      throw new TypeError('mediaCodecs must be an Array');
    }
    const routerId = utils.generateUUIDv4();
    const data = await this._channel.request('worker.createRouter', undefined, {
      routerId,
      mediaCodecs,
    });
    const router = new Router({
      internal: { routerId },
      data,
      channel: this._channel,
      appData,
    });
    this._routers.add(router);
    router.on('@close', () => this._routers.delete(router));
    this._observer.safeEmit('newrouter', router);
    return router;
  }

  _onEngineEvent(event, data) {
    switch (event) {
      case 'log': {
        const l = engineLogger(data.name);
        if (data.level === 'error') l.error(data.msg);
        else if (data.level === 'warn') l.warn(data.msg);
        else l.debug(data.msg);
        break;
      }
      case 'died':
        this._workerDied(new Error(data && data.message ? data.message : 'engine died'));
        break;
      default:
        logger.error(`ignoring unknown engine event "${event}"`);
    }
  }

  _workerDied(error) {
    if (!this._setClosed()) return;
    logger.debug(`workerDied() [error:${error}]`);
    this._died = true;
    this._subprocessClosed = true;
    this._channel.close();
    for (const router of this._routers) router.workerClosed();
    this._routers.clear();
    for (const server of this._webRtcServers) server.workerClosed();
    this._webRtcServers.clear();
    this.safeEmit('died', error);
    this.safeEmit('subprocessclose');
    this._observer.safeEmit('close');
  }
}

module.exports = { Worker };
