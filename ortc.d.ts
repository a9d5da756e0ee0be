// gosfu/ortc: mediasoup 3.27's 'mediasoup/ortc' helpers, answered by the
// engine's ORTC code in-process (serializeRtpMapping, which encodes for
// mediasoup's flatbuffers worker channel, has no counterpart).

import type {
  RtpCapabilities,
  RouterRtpCapabilities,
  RouterRtpCodecCapability,
  RtpParameters,
  SctpStreamParameters,
} from './types';

/** How a producer's payload types and encodings map into a router. */
export type RtpCodecsEncodingsMapping = {
  codecs: {
    payloadType: number;
    mappedPayloadType: number;
  }[];
  encodings: {
    ssrc?: number;
    rid?: string;
    mappedSsrc: number;
  }[];
};

/** Validates RTP capabilities and adds the defaults missing; throws TypeError if invalid. */
export declare function validateAndNormalizeRtpCapabilities(caps: RtpCapabilities | RouterRtpCapabilities): void;

/** Validates RTP parameters and adds the defaults missing; throws TypeError if invalid. */
export declare function validateAndNormalizeRtpParameters(params: RtpParameters): void;

/** Validates SCTP stream parameters and adds the defaults missing; throws TypeError if invalid. */
export declare function validateAndNormalizeSctpStreamParameters(params: SctpStreamParameters): void;

/** The RTP capabilities of a router created with these media codecs. */
export declare function generateRouterRtpCapabilities(mediaCodecs?: RouterRtpCodecCapability[]): RtpCapabilities;

/** How a producer's payload types and encodings map into a router with capabilities `caps`. */
export declare function getProducerRtpParametersMapping(params: RtpParameters, caps: RtpCapabilities): RtpCodecsEncodingsMapping;

/** The RTP parameters consumers of such a producer consume from. */
export declare function getConsumableRtpParameters(
  kind: string,
  params: RtpParameters,
  caps: RtpCapabilities,
  rtpMapping: RtpCodecsEncodingsMapping
): RtpParameters;

/**
 * Whether an endpoint with the given RTP capabilities can consume a producer
 * whose consumable RTP parameters are given (producer.consumableRtpParameters).
 * Throws TypeError if the capabilities are invalid.
 */
export declare function canConsume(consumableParams: RtpParameters, caps: RtpCapabilities): boolean;

/** A consumer's RTP parameters for an endpoint with `remoteRtpCapabilities`. */
export declare function getConsumerRtpParameters({
  consumableRtpParameters,
  remoteRtpCapabilities,
  pipe,
  enableRtx,
}: {
  consumableRtpParameters: RtpParameters;
  remoteRtpCapabilities: RtpCapabilities;
  pipe: boolean;
  enableRtx: boolean;
}): RtpParameters;

/** A pipe consumer's RTP parameters. */
export declare function getPipeConsumerRtpParameters({
  consumableRtpParameters,
  enableRtx,
}: {
  consumableRtpParameters: RtpParameters;
  enableRtx: boolean;
}): RtpParameters;
