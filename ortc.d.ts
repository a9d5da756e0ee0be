// gosfu/ortc: the part of mediasoup 3.27's 'mediasoup/ortc' that gosfu's
// engine answers in-process (its ORTC logic is in Go, gosfu/ortc).

import type { RtpCapabilities, RtpParameters } from './types';

/**
 * Whether an endpoint with the given RTP capabilities can consume a producer
 * whose consumable RTP parameters are given (producer.consumableRtpParameters).
 * Throws TypeError if the capabilities are invalid.
 */
export declare function canConsume(consumableParams: RtpParameters, caps: RtpCapabilities): boolean;
