// gosfu/extras: as mediasoup 3.27's 'mediasoup/extras'.

import { EventEmitter } from 'node:events';

type Events = Record<string, any[]>;

/**
 * EventEmitter with typed events; safeEmit() turns a throwing listener
 * into a 'listenererror' event (eventName, error).
 */
export declare class EnhancedEventEmitter<
  E extends Events = Events,
  BuiltInEvents extends Events = { listenererror: [keyof E, Error] },
  E2 extends Events = E & BuiltInEvents,
> extends EventEmitter {
  constructor();
  emit<K extends keyof E2 & string>(eventName: K, ...args: E2[K]): boolean;
  safeEmit<K extends keyof E2 & string>(eventName: K, ...args: E2[K]): boolean;
  on<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  off<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  addListener<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  prependListener<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  once<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  prependOnceListener<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  removeListener<K extends keyof E2 & string>(eventName: K, listener: (...args: E2[K]) => void): this;
  removeAllListeners<K extends keyof E2 & string>(eventName?: K): this;
  listenerCount<K extends keyof E2 & string>(eventName: K): number;
  listeners<K extends keyof E2 & string>(eventName: K): ((...args: any[]) => void)[];
  rawListeners<K extends keyof E2 & string>(eventName: K): ((...args: any[]) => void)[];
}

/**
 * events.once() typed by the emitter's event map: resolves with the
 * arguments of the next `eventName` event (rejects on an 'error' event).
 *
 * @example await enhancedOnce<ConsumerEvents>(consumer, 'producerpause');
 */
export declare function enhancedOnce<E extends Events = Events>(
  emitter: EnhancedEventEmitter<E>,
  eventName: keyof E & string,
  options?: { signal?: AbortSignal },
): Promise<any[]>;

export {};
