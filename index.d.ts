// TypeScript declarations for gosfu's public API: the part of mediasoup v3's
// API gosfu implements, with mediasoup 3.27's names and shapes so that typed
// mediasoup applications compile against it unchanged. The types are in
// types.d.ts ('gosfu/types').

import * as types from './types';

export { types };

/** The error classes ('gosfu/errors'). */
export * as errors from './errors';

/** ORTC helpers ('gosfu/ortc'). */
export * as ortc from './ortc';

/** EnhancedEventEmitter and enhancedOnce ('gosfu/extras'). */
export * as extras from './extras';

/** The gosfu version. */
export declare const version: string;

/** Emits 'newworker' (worker). */
export declare const observer: types.Observer;

/**
 * Absolute path of the engine library (libgosfu.so) this process loads:
 * gosfu's counterpart of mediasoup's worker binary. Workers run inside this
 * process, so createWorker() ignores its workerBin setting.
 */
export declare const workerBin: string;

/** Routes gosfu's logs to the given listeners; with none, stops. */
export declare function setLogEventListeners(listeners?: types.LogEventListeners): void;

/** Creates a Worker: an engine instance running inside this process. */
export declare function createWorker<WorkerAppData extends types.AppData = types.AppData>(
  settings?: types.WorkerSettings<WorkerAppData>,
): Promise<types.Worker<WorkerAppData>>;

/** A fresh copy of the RTP capabilities gosfu supports. */
export declare function getSupportedRtpCapabilities(): types.RouterRtpCapabilities;

/** Parses an SVC scalability mode such as 'L3T3_KEY'. */
export declare function parseScalabilityMode(scalabilityMode?: string): types.ScalabilityMode;
