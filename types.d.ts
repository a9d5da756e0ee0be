// gosfu/types: every type of mediasoup 3.27.1's 'mediasoup/types' with its
// shape, so that a typed mediasoup application compiles against gosfu by
// changing its imports; plus gosfu's additions, marked "gosfu extension"
// (optional where mediasoup's object has no such field). Unlike mediasoup's,
// the classes (Worker, Router, errors...) are also runtime values here.

import { EnhancedEventEmitter } from './extras';

export { EnhancedEventEmitter };
export { UnsupportedError, WorkerClosedError, InvalidStateError, NotFoundError } from './errors';

// ---------------------------------------------------------------- common

export type AppData = { [key: string]: unknown };

type Only<T, U> = { [P in keyof T]: T[P] } & { [P in keyof U]?: never };
/** Exactly one of T and U. */
export type Either<T, U> = Only<T, U> | Only<U, T>;

type Events = Record<string, any[]>;


// ---------------------------------------------------------------- index

export type ObserverEvents = {
  newworker: [Worker];
};

export type Observer = EnhancedEventEmitter<ObserverEvents>;

/** The shape of require('gosfu') (its values; gosfu also has types, errors, ortc and extras). */
export interface Index {
  version: string;
  observer: EnhancedEventEmitter<ObserverEvents>;
  workerBin: string;
  setLogEventListeners: (listeners?: LogEventListeners) => void;
  createWorker: <WorkerAppData extends AppData = AppData>(
    options?: WorkerSettings<WorkerAppData>,
  ) => Promise<Worker<WorkerAppData>>;
  getSupportedRtpCapabilities: () => RouterRtpCapabilities;
  parseScalabilityMode: (scalabilityMode?: string) => ScalabilityMode;
}

export type LogEventListeners = {
  ondebug?: (namespace: string, log: string) => void;
  onwarn?: (namespace: string, log: string) => void;
  onerror?: (namespace: string, log: string, error?: Error) => void;
};

export type ScalabilityMode = {
  spatialLayers: number;
  temporalLayers: number;
  ksvc: boolean;
};

// ------------------------------------------------------- RTP parameters

export type MediaKind = 'audio' | 'video';

export type RtpCapabilities = {
  codecs?: RtpCodecCapability[];
  headerExtensions?: RtpHeaderExtension[];
};

export type RouterRtpCapabilities = Omit<RtpCapabilities, 'codecs'> & {
  codecs?: RouterRtpCodecCapability[];
};

export type RtpCodecCapability = {
  kind: MediaKind;
  mimeType: string;
  preferredPayloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
  rtcpFeedback?: RtcpFeedback[];
};

export type RouterRtpCodecCapability = Omit<RtpCodecCapability, 'preferredPayloadType'> & {
  preferredPayloadType?: number;
};

export type RtpHeaderExtensionDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type RtpHeaderExtensionUri =
  | 'urn:ietf:params:rtp-hdrext:sdes:mid'
  | 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id'
  | 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id'
  | 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'
  | 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'
  | 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'
  | 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension'
  | 'urn:3gpp:video-orientation'
  | 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time'
  | 'urn:ietf:params:rtp-hdrext:toffset'
  | 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay'
  | 'urn:mediasoup:params:rtp-hdrext:packet-id';

export type RtpHeaderExtension = {
  kind: MediaKind;
  uri: RtpHeaderExtensionUri;
  preferredId: number;
  preferredEncrypt?: boolean;
  direction?: RtpHeaderExtensionDirection;
};

export type RtpParameters = {
  mid?: string;
  codecs: RtpCodecParameters[];
  headerExtensions?: RtpHeaderExtensionParameters[];
  encodings?: RtpEncodingParameters[];
  rtcp?: RtcpParameters;
  msid?: string;
};

export type RtpCodecParameters = {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
  rtcpFeedback?: RtcpFeedback[];
};

export type RtcpFeedback = {
  type: string;
  parameter?: string;
};

export type RtpEncodingParameters = {
  ssrc?: number;
  rid?: string;
  codecPayloadType?: number;
  rtx?: { ssrc: number };
  dtx?: boolean;
  scalabilityMode?: string;
  maxBitrate?: number;
};

export type RtpHeaderExtensionParameters = {
  uri: RtpHeaderExtensionUri;
  id: number;
  encrypt?: boolean;
  parameters?: Record<string, unknown>;
};

export type RtcpParameters = {
  cname?: string;
  reducedSize?: boolean;
};

// ------------------------------------------------- SRTP / SCTP parameters

export type SrtpCryptoSuite =
  | 'AEAD_AES_256_GCM'
  | 'AEAD_AES_128_GCM'
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32';

export type SrtpParameters = {
  cryptoSuite: SrtpCryptoSuite;
  keyBase64: string;
};

/**
 * Number of SCTP streams: OS (outgoing) and MIS (max incoming). Not used
 * by mediasoup 3.27 any more (the association offers 65535 each way); kept
 * for SctpCapabilities and older code.
 */
export type NumSctpStreams = {
  OS: number;
  MIS: number;
};

/** The SCTP capabilities of an endpoint (mediasoup-client's device.sctpCapabilities). */
export type SctpCapabilities = {
  numStreams: NumSctpStreams;
};

/** The SCTP association of a transport (enableSctp). */
export type SctpParameters = {
  /** SCTP source port of the transport (5000). */
  port: number;
  /** Maximum size of messages sent by DataConsumers (bytes). */
  maxSendMessageSize: number;
  /** Maximum size of messages received by DataProducers (bytes). */
  maxReceiveMessageSize: number;
  /** Maximum SCTP send buffer used by DataConsumers (bytes). */
  sendBufferSize: number;
  /** Per stream send queue size limit (bytes). */
  perStreamSendQueueLimit: number;
  /** Maximum receiver window buffer size (bytes). */
  maxReceiverWindowBufferSize: number;
  /** Whether this is a WebRTC DataChannel association (true in WebRtcTransports only). */
  isDataChannel: boolean;
  /** Backwards compatibility: always 65535. */
  OS: number;
  /** Backwards compatibility: always 65535. */
  MIS: number;
  /** Backwards compatibility: maxReceiveMessageSize. */
  maxMessageSize: number;
};

export type SctpNegotiatedCapabilities = {
  negotiatedMaxOutboundStreams: number;
  negotiatedMaxInboundStreams: number;
};

export type SctpState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

/**
 * The reliability of an SCTP stream. If ordered is true, maxPacketLifeTime
 * and maxRetransmits must be unset; if ordered is false, at most one of
 * them is set.
 */
export type SctpStreamParameters = {
  /** SCTP stream id (0 to 65534). */
  streamId: number;
  /** Whether messages are delivered in order (and reliably). Default true. */
  ordered?: boolean;
  /** When not ordered: time (ms) after which a message is no longer retransmitted. */
  maxPacketLifeTime?: number;
  /** When not ordered: maximum number of retransmissions of a message. */
  maxRetransmits?: number;
};

export type SctpListenerDump = {
  streamIdTable: { key: number; value: string }[];
};

// ------------------------------------------------------- RTP stream stats

export type BaseRtpStreamStats = {
  timestamp: number;
  ssrc: number;
  rtxSsrc?: number;
  rid?: string;
  kind: string;
  mimeType: string;
  packetsLost: number;
  fractionLost: number;
  jitter: number;
  packetsDiscarded: number;
  packetsRetransmitted: number;
  packetsRepaired: number;
  nackCount: number;
  nackPacketCount: number;
  pliCount: number;
  firCount: number;
  roundTripTime?: number;
  rtxPacketsDiscarded?: number;
  score: number;
};

export type RtpStreamRecvStats = BaseRtpStreamStats & {
  type: string;
  packetCount: number;
  byteCount: number;
  bitrate: number;
  bitrateByLayer: BitrateByLayer;
};

/** Bitrate per layer ('<spatial>.<temporal>'). */
export type BitrateByLayer = {
  [key: string]: number;
};

export type RtpStreamSendStats = BaseRtpStreamStats & {
  type: string;
  packetCount: number;
  byteCount: number;
  bitrate: number;
};

// ---------------------------------------------------------------- Worker

export type WorkerLogLevel = 'debug' | 'warn' | 'error' | 'none';

export type WorkerLogTag =
  | 'info' | 'ice' | 'dtls' | 'rtp' | 'srtp' | 'rtcp' | 'rtx' | 'bwe' | 'score' | 'simulcast' | 'svc' | 'sctp'
  | 'message';

export type WorkerSettings<WorkerAppData extends AppData = AppData> = {
  logLevel?: WorkerLogLevel;
  logTags?: WorkerLogTag[];
  rtcMinPort?: number;
  rtcMaxPort?: number;
  dtlsCertificateFile?: string;
  dtlsPrivateKeyFile?: string;
  /** Ignored: gosfu's workers run inside this process (see workerBin). */
  workerBin?: string;
  /** Ignored: gosfu's bandwidth estimation is not libwebrtc's. */
  libwebrtcFieldTrials?: string;
  appData?: WorkerAppData;
};

export type WorkerUpdateableSettings<T extends AppData = AppData> =
  Pick<WorkerSettings<T>, 'logLevel' | 'logTags'>;

export type WorkerResourceUsage = {
  ru_utime: number;
  ru_stime: number;
  ru_maxrss: number;
  ru_ixrss: number;
  ru_idrss: number;
  ru_isrss: number;
  ru_minflt: number;
  ru_majflt: number;
  ru_nswap: number;
  ru_inblock: number;
  ru_oublock: number;
  ru_msgsnd: number;
  ru_msgrcv: number;
  ru_nsignals: number;
  ru_nvcsw: number;
  ru_nivcsw: number;
  /** gosfu extension (always set): live goroutines of the Go runtime (shared by all workers). */
  goroutines?: number;
  /** gosfu extension (always set): bytes in in-use Go heap spans (Go's MemStats.HeapInuse). */
  goHeapInuse?: number;
  /** gosfu extension (always set): bytes the Go runtime has mapped (Go's MemStats.Sys). */
  goSys?: number;
};

export type WorkerDump = {
  pid: number;
  webRtcServerIds: string[];
  routerIds: string[];
  channelMessageHandlers: {
    channelRequestHandlers: string[];
    channelNotificationHandlers: string[];
  };
  /** gosfu extension (always set): the engine→JS event queue (docs/engine-protocol.md, "Event queue"). */
  eventQueue?: WorkerEventQueueDump;
};

/**
 * gosfu extension: the bound of the queue of events from the engine to
 * JavaScript, and the events it dropped while full. Only high-rate kinds
 * are ever dropped; lifecycle events are always delivered.
 */
export type WorkerEventQueueDump = {
  /** Queued events beyond which droppable events are dropped. */
  maxEvents: number;
  /** Queued bytes (payloads and overhead) beyond which droppable events are dropped. */
  maxBytes: number;
  /** Dropped events per kind (event name). */
  dropped: {
    rtp: number;
    rtcp: number;
    message: number;
    trace: number;
    log: number;
    score: number;
    volumes: number;
    videoorientationchange: number;
    sctpsendbufferfull: number;
  };
};

export type WorkerEvents = {
  died: [Error];
  subprocessclose: [];
  // Internal events (mediasoup's; gosfu's Worker never emits these two).
  '@success': [];
  '@failure': [Error];
};

export type WorkerObserverEvents = {
  close: [];
  newrouter: [Router];
  newwebrtcserver: [WebRtcServer];
};

export type WorkerObserver = EnhancedEventEmitter<WorkerObserverEvents>;

/** An engine instance, running inside this process (pid is process.pid). */
export class Worker<WorkerAppData extends AppData = AppData> extends EnhancedEventEmitter<WorkerEvents> {
  private constructor();
  get pid(): number;
  get closed(): boolean;
  get died(): boolean;
  get subprocessClosed(): boolean;
  get appData(): WorkerAppData;
  set appData(appData: WorkerAppData);
  get observer(): WorkerObserver;
  close(): void;
  dump(): Promise<WorkerDump>;
  getResourceUsage(): Promise<WorkerResourceUsage>;
  updateSettings(options?: WorkerUpdateableSettings<WorkerAppData>): Promise<void>;
  createRouter<RouterAppData extends AppData = AppData>(
    options?: RouterOptions<RouterAppData>,
  ): Promise<Router<RouterAppData>>;
  createWebRtcServer<WebRtcServerAppData extends AppData = AppData>(
    options: WebRtcServerOptions<WebRtcServerAppData>,
  ): Promise<WebRtcServer<WebRtcServerAppData>>;
}

// ---------------------------------------------------------------- Router

export type RouterOptions<RouterAppData extends AppData = AppData> = {
  mediaCodecs?: RouterRtpCodecCapability[];
  appData?: RouterAppData;
};

export type RouterDump = {
  id: string;
  transportIds: string[];
  rtpObserverIds: string[];
  mapProducerIdConsumerIds: { key: string; values: string[] }[];
  mapConsumerIdProducerId: { key: string; value: string }[];
  mapProducerIdObserverIds: { key: string; values: string[] }[];
  mapDataProducerIdDataConsumerIds: { key: string; values: string[] }[];
  mapDataConsumerIdDataProducerId: { key: string; value: string }[];
};

export type RouterEvents = {
  workerclose: [];
  // Internal events (as mediasoup's).
  '@close': [];
};

export type RouterObserverEvents = {
  close: [];
  newtransport: [Transport];
  newrtpobserver: [RtpObserver];
};

export type RouterObserver = EnhancedEventEmitter<RouterObserverEvents>;

/** A media room: producers of its transports can be consumed on any of its transports. */
export class Router<RouterAppData extends AppData = AppData> extends EnhancedEventEmitter<RouterEvents> {
  private constructor();
  get id(): string;
  get closed(): boolean;
  get rtpCapabilities(): RtpCapabilities;
  get appData(): RouterAppData;
  set appData(appData: RouterAppData);
  get observer(): RouterObserver;
  close(): void;
  workerClosed(): void;
  dump(): Promise<RouterDump>;
  createWebRtcTransport<WebRtcTransportAppData extends AppData = AppData>(
    options: WebRtcTransportOptions<WebRtcTransportAppData>,
  ): Promise<WebRtcTransport<WebRtcTransportAppData>>;
  createPlainTransport<PlainTransportAppData extends AppData = AppData>(
    options: PlainTransportOptions<PlainTransportAppData>,
  ): Promise<PlainTransport<PlainTransportAppData>>;
  createDirectTransport<DirectTransportAppData extends AppData = AppData>(
    options?: DirectTransportOptions<DirectTransportAppData>,
  ): Promise<DirectTransport<DirectTransportAppData>>;
  canConsume(options: { producerId: string; rtpCapabilities: RtpCapabilities }): boolean;
  /**
   * Replaces the router's media codecs: rtpCapabilities changes, and
   * producers created from now on are mapped to the new capabilities.
   */
  updateMediaCodecs(mediaCodecs: RouterRtpCodecCapability[]): void;
  createPipeTransport<PipeTransportAppData extends AppData = AppData>(
    options: PipeTransportOptions<PipeTransportAppData>,
  ): Promise<PipeTransport<PipeTransportAppData>>;
  /** Pipes a Producer or a DataProducer into another Router (of this or another Worker). */
  pipeToRouter(options: PipeToRouterOptions): Promise<PipeToRouterResult>;
  createActiveSpeakerObserver<ActiveSpeakerObserverAppData extends AppData = AppData>(
    options?: ActiveSpeakerObserverOptions<ActiveSpeakerObserverAppData>,
  ): Promise<ActiveSpeakerObserver<ActiveSpeakerObserverAppData>>;
  createAudioLevelObserver<AudioLevelObserverAppData extends AppData = AppData>(
    options?: AudioLevelObserverOptions<AudioLevelObserverAppData>,
  ): Promise<AudioLevelObserver<AudioLevelObserverAppData>>;
}

// ----------------------------------------------------------- RtpObserver

export type RtpObserverType = 'audiolevel' | 'activespeaker';

export type RtpObserverEvents = {
  routerclose: [];
  // Internal events (as mediasoup's).
  '@close': [];
};

export type RtpObserverObserverEvents = {
  close: [];
  pause: [];
  resume: [];
  addproducer: [Producer];
  removeproducer: [Producer];
};

export type RtpObserverObserver = EnhancedEventEmitter<RtpObserverObserverEvents>;

export type RtpObserverAddRemoveProducerOptions = {
  producerId: string;
};

/** Watches the audio levels of the audio producers added to it. */
export class RtpObserver<
  RtpObserverAppData extends AppData = AppData,
  E extends RtpObserverEvents = RtpObserverEvents,
  O extends EnhancedEventEmitter<any> = RtpObserverObserver,
> extends EnhancedEventEmitter<E> {
  protected constructor();
  get id(): string;
  get closed(): boolean;
  get type(): RtpObserverType;
  get paused(): boolean;
  get appData(): RtpObserverAppData;
  set appData(appData: RtpObserverAppData);
  get observer(): O;
  close(): void;
  routerClosed(): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  addProducer(options: RtpObserverAddRemoveProducerOptions): Promise<void>;
  removeProducer(options: RtpObserverAddRemoveProducerOptions): Promise<void>;
}

export type AudioLevelObserverOptions<AudioLevelObserverAppData extends AppData = AppData> = {
  /** Maximum number of entries in a 'volumes' event. Default 1. */
  maxEntries?: number;
  /** Minimum average volume (dBov, -127 to 0) of a 'volumes' entry. Default -80. */
  threshold?: number;
  /** Interval in ms (250 to 5000). Default 1000. */
  interval?: number;
  appData?: AudioLevelObserverAppData;
};

export type AudioLevelObserverVolume = {
  producer: Producer;
  /** Average volume (dBov, -127 to 0) of the producer in the last interval. */
  volume: number;
};

export type AudioLevelObserverEvents = RtpObserverEvents & {
  volumes: [AudioLevelObserverVolume[]];
  silence: [];
};

export type AudioLevelObserverObserverEvents = RtpObserverObserverEvents & {
  volumes: [AudioLevelObserverVolume[]];
  silence: [];
};

export type AudioLevelObserverObserver = EnhancedEventEmitter<AudioLevelObserverObserverEvents>;

export class AudioLevelObserver<AudioLevelObserverAppData extends AppData = AppData>
  extends RtpObserver<AudioLevelObserverAppData, AudioLevelObserverEvents, AudioLevelObserverObserver> {
  get type(): 'audiolevel';
}

export type ActiveSpeakerObserverOptions<ActiveSpeakerObserverAppData extends AppData = AppData> = {
  /** Interval in ms (100 to 5000). Default 300. */
  interval?: number;
  appData?: ActiveSpeakerObserverAppData;
};

export type ActiveSpeakerObserverDominantSpeaker = {
  producer: Producer;
};

export type ActiveSpeakerObserverEvents = RtpObserverEvents & {
  dominantspeaker: [ActiveSpeakerObserverDominantSpeaker];
};

export type ActiveSpeakerObserverObserverEvents = RtpObserverObserverEvents & {
  dominantspeaker: [ActiveSpeakerObserverDominantSpeaker];
};

export type ActiveSpeakerObserverObserver = EnhancedEventEmitter<ActiveSpeakerObserverObserverEvents>;

export class ActiveSpeakerObserver<ActiveSpeakerObserverAppData extends AppData = AppData>
  extends RtpObserver<ActiveSpeakerObserverAppData, ActiveSpeakerObserverEvents, ActiveSpeakerObserverObserver> {
  get type(): 'activespeaker';
}

// ------------------------------------------------------------- Transport

export type TransportType = 'webrtc' | 'plain' | 'pipe' | 'direct';

export type TransportProtocol = 'udp' | 'tcp';

export type TransportPortRange = {
  min: number;
  max: number;
};

export type TransportSocketFlags = {
  ipv6Only?: boolean;
  udpReusePort?: boolean;
};

export type TransportListenInfo = {
  protocol: TransportProtocol;
  ip: string;
  /** @deprecated Use announcedAddress. */
  announcedIp?: string;
  announcedAddress?: string;
  exposeInternalIp?: boolean;
  port?: number;
  portRange?: TransportPortRange;
  flags?: TransportSocketFlags;
  sendBufferSize?: number;
  recvBufferSize?: number;
};

/** @deprecated Use TransportListenInfo. */
export type TransportListenIp = {
  ip: string;
  announcedIp?: string;
};

export type TransportTuple = {
  /** @deprecated Use localAddress. */
  localIp: string;
  localAddress: string;
  localPort: number;
  remoteIp?: string;
  remotePort?: number;
  protocol: TransportProtocol;
};

export type RecvRtpHeaderExtensions = {
  mid?: number;
  rid?: number;
  rrid?: number;
  absSendTime?: number;
  transportWideCc01?: number;
};

export type RtpListenerDump = {
  ssrcTable: { key: number; value: string }[];
  midTable: { key: number; value: string }[];
  ridTable: { key: number; value: string }[];
};

/**
 * gosfu extension: packets a transport received and dropped, per cause
 * (see docs/engine-protocol.md, "Dropped packets").
 */
export type TransportPacketsDropped = {
  /** From a tuple ICE did not validate, or other than the remote one. */
  unknownTuple: number;
  /** SRTP/SRTCP before the keys, or failing authentication or replay check. */
  srtp: number;
  /** DTLS records with no DTLS session yet, or while its queue is full. */
  dtlsQueue: number;
  /** DTLS datagrams with a forged ChangeCipherSpec or an unencrypted (epoch 0) record other than handshake or alert. */
  dtlsInvalid: number;
  /** Malformed, unauthenticated or non-binding-request STUN. */
  stunInvalid: number;
  /** RTP that mediasoup's parser rejects (header, CSRCs, extensions, padding). */
  rtpInvalid: number;
  /** RTCP that does not parse. */
  rtcpInvalid: number;
  /** RTP for which no producer or stream exists. */
  unknownSsrc: number;
  /** RTP without payload (padding only): not forwarded; rises with bandwidth probes. */
  emptyPayload: number;
  /** DTLS/SCTP datagrams over 8192 bytes; producer.send()/sendRtcp() over mediasoup's limits. */
  oversized: number;
  /** Datagrams no RFC 7983 demultiplexing rule matches. */
  unknownType: number;
  /** WebRtcTransport: outgoing packets dropped on a full ICE-TCP send queue. */
  tcpSendQueueFull?: number;
  /** WebRtcTransport, own TCP listeners: ICE-TCP connections that ended inside an RFC 4571 frame or whose first frame was not STUN. */
  tcpFraming?: number;
  /** WebRtc, Plain and Pipe transports: outgoing packets dropped because the UDP socket's send buffer was full (sends never wait). */
  udpSendBufferFull?: number;
  [counter: string]: number | undefined;
};

export type BaseTransportDump = {
  id: string;
  producerIds: string[];
  consumerIds: string[];
  mapSsrcConsumerId: { key: number; value: string }[];
  mapRtxSsrcConsumerId: { key: number; value: string }[];
  recvRtpHeaderExtensions: RecvRtpHeaderExtensions;
  rtpListener: RtpListenerDump;
  maxSendMessageSize: number;
  maxReceiveMessageSize: number;
  dataProducerIds: string[];
  dataConsumerIds: string[];
  sctpParameters?: SctpParameters;
  sctpState?: SctpState;
  sctpNegotiatedCapabilities?: SctpNegotiatedCapabilities;
  sctpListener?: SctpListenerDump;
  traceEventTypes?: string[];
  /** gosfu extension (always set). */
  packetsDropped?: TransportPacketsDropped;
  [key: string]: unknown;
};

export type BaseTransportStats = {
  transportId: string;
  timestamp: number;
  sctpState?: SctpState;
  bytesReceived: number;
  recvBitrate: number;
  bytesSent: number;
  sendBitrate: number;
  rtpBytesReceived: number;
  rtpRecvBitrate: number;
  rtpBytesSent: number;
  rtpSendBitrate: number;
  rtxBytesReceived: number;
  rtxRecvBitrate: number;
  rtxBytesSent: number;
  rtxSendBitrate: number;
  probationBytesSent: number;
  probationSendBitrate: number;
  availableOutgoingBitrate?: number;
  availableIncomingBitrate?: number;
  maxIncomingBitrate?: number;
  maxOutgoingBitrate?: number;
  minOutgoingBitrate?: number;
  rtpPacketLossReceived?: number;
  rtpPacketLossSent?: number;
};

export type TransportTraceEventType = 'probation' | 'bwe';

export type TransportTraceEventData = {
  type: TransportTraceEventType;
  timestamp: number;
  direction: 'in' | 'out';
  info: unknown;
};

export type TransportEvents = {
  routerclose: [];
  listenserverclose: [];
  trace: [TransportTraceEventData];
  // Internal events (as mediasoup's).
  '@close': [];
  '@newproducer': [Producer];
  '@producerclose': [Producer];
  '@newdataproducer': [DataProducer];
  '@dataproducerclose': [DataProducer];
  '@listenserverclose': [];
};

export type TransportObserverEvents = {
  close: [];
  newproducer: [Producer];
  newconsumer: [Consumer];
  newdataproducer: [DataProducer];
  newdataconsumer: [DataConsumer];
  trace: [TransportTraceEventData];
};

export type TransportObserver = EnhancedEventEmitter<TransportObserverEvents>;

/** What every transport kind shares. */
export abstract class Transport<
  TransportAppData extends AppData = AppData,
  E extends TransportEvents = TransportEvents,
  O extends TransportObserver = TransportObserver,
> extends EnhancedEventEmitter<E> {
  protected constructor();
  get id(): string;
  get closed(): boolean;
  abstract get type(): TransportType;
  get appData(): TransportAppData;
  set appData(appData: TransportAppData);
  get observer(): O;
  close(): void;
  routerClosed(): void;
  listenServerClosed(): void;
  dump(): Promise<unknown>;
  getStats(): Promise<unknown[]>;
  connect(params: unknown): Promise<void>;
  setMaxIncomingBitrate(bitrate: number): Promise<void>;
  setMaxOutgoingBitrate(bitrate: number): Promise<void>;
  setMinOutgoingBitrate(bitrate: number): Promise<void>;
  enableTraceEvent(types?: TransportTraceEventType[]): Promise<void>;
  produce<ProducerAppData extends AppData = AppData>(
    options: ProducerOptions<ProducerAppData>,
  ): Promise<Producer<ProducerAppData>>;
  consume<ConsumerAppData extends AppData = AppData>(
    options: ConsumerOptions<ConsumerAppData>,
  ): Promise<Consumer<ConsumerAppData>>;
  produceData<DataProducerAppData extends AppData = AppData>(
    options?: DataProducerOptions<DataProducerAppData>,
  ): Promise<DataProducer<DataProducerAppData>>;
  consumeData<DataConsumerAppData extends AppData = AppData>(
    options: DataConsumerOptions<DataConsumerAppData>,
  ): Promise<DataConsumer<DataConsumerAppData>>;
}

/**
 * SCTP options of createWebRtcTransport(), createPlainTransport(),
 * createPipeTransport() and pipeToRouter().
 */
export type TransportSctpOptions = {
  /** Create an SCTP association. Default false (true in pipeToRouter()). */
  enableSctp?: boolean;
  /** Maximum size of messages sent by DataConsumers (bytes). Default 262144. */
  maxSendMessageSize?: number;
  /** Maximum size of messages received by DataProducers (bytes). Default 262144. */
  maxReceiveMessageSize?: number;
  /** Maximum SCTP send buffer used by DataConsumers (bytes). Default 2000000. */
  sctpSendBufferSize?: number;
  /** Per stream send queue size limit (bytes). Default 2000000. */
  sctpPerStreamSendQueueLimit?: number;
  /** Maximum receiver window buffer size (bytes). Default 5242880. */
  sctpMaxReceiverWindowBufferSize?: number;
  /**
   * Buffered amount (bytes) at or below which a DataConsumer emits
   * 'bufferedamountlow' (dataConsumer.setBufferedAmountLowThreshold()
   * overrides it). Default 1024.
   */
  sctpDefaultStreamBufferedAmountLowThreshold?: number;
  /** @deprecated Ignored (as in mediasoup 3.27). */
  numSctpStreams?: NumSctpStreams;
  /** @deprecated Ignored (as in mediasoup 3.27); use maxReceiveMessageSize. */
  maxSctpMessageSize?: number;
};

// -------------------------------------------------------- PlainTransport

export type PlainTransportOptions<PlainTransportAppData extends AppData = AppData> = {
  rtcpMux?: boolean;
  comedia?: boolean;
  enableSrtp?: boolean;
  srtpCryptoSuite?: SrtpCryptoSuite;
  appData?: PlainTransportAppData;
} & TransportSctpOptions & Either<
  { listenInfo: TransportListenInfo; rtcpListenInfo?: TransportListenInfo },
  { listenIp: TransportListenIp | string; port?: number }
>;

export type PlainTransportDump = BaseTransportDump & {
  rtcpMux: boolean;
  comedia: boolean;
  tuple: TransportTuple;
  rtcpTuple?: TransportTuple;
  srtpParameters?: SrtpParameters;
};

export type PlainTransportStat = BaseTransportStats & {
  type: string;
  rtcpMux: boolean;
  comedia: boolean;
  tuple: TransportTuple;
  rtcpTuple?: TransportTuple;
};

export type PlainTransportEvents = TransportEvents & {
  tuple: [TransportTuple];
  rtcptuple: [TransportTuple];
  sctpstatechange: [SctpState];
};

export type PlainTransportObserverEvents = TransportObserverEvents & {
  tuple: [TransportTuple];
  rtcptuple: [TransportTuple];
  sctpstatechange: [SctpState];
};

export type PlainTransportObserver = EnhancedEventEmitter<PlainTransportObserverEvents>;

/** RTP/RTCP over plain UDP, optionally SRTP. */
export class PlainTransport<PlainTransportAppData extends AppData = AppData>
  extends Transport<PlainTransportAppData, PlainTransportEvents, PlainTransportObserver> {
  private constructor();
  get type(): 'plain';
  get tuple(): TransportTuple;
  get rtcpTuple(): TransportTuple | undefined;
  get sctpParameters(): SctpParameters | undefined;
  get sctpState(): SctpState | undefined;
  get sctpNegotiatedCapabilities(): SctpNegotiatedCapabilities | undefined;
  get srtpParameters(): SrtpParameters | undefined;
  dump(): Promise<PlainTransportDump>;
  getStats(): Promise<PlainTransportStat[]>;
  connect(params: {
    ip?: string;
    port?: number;
    rtcpPort?: number;
    srtpParameters?: SrtpParameters;
  }): Promise<void>;
}

// --------------------------------------------------------- PipeTransport

export type PipeTransportOptions<PipeTransportAppData extends AppData = AppData> = {
  enableRtx?: boolean;
  enableSrtp?: boolean;
  appData?: PipeTransportAppData;
} & TransportSctpOptions & Either<{ listenInfo: TransportListenInfo }, { listenIp: TransportListenIp | string; port?: number }>;

/** transport.consume() options of a PipeTransport. */
export type PipeConsumerOptions<ConsumerAppData extends AppData = AppData> = {
  producerId: string;
  appData?: ConsumerAppData;
};

export type PipeToRouterOptions = {
  /** The Producer to pipe (or dataProducerId). */
  producerId?: string;
  /** The DataProducer to pipe (or producerId). */
  dataProducerId?: string;
  router: Router;
  /** Same id for the pipe (Data)Producer as for the original. Default true. */
  keepId?: boolean;
  enableRtx?: boolean;
  enableSrtp?: boolean;
} & TransportSctpOptions & Either<{ listenInfo: TransportListenInfo }, { listenIp?: TransportListenIp | string }>;

export type PipeToRouterResult = {
  /** The Consumer created in this Router (producerId). */
  pipeConsumer?: Consumer;
  /** The Producer created in the target Router (producerId). */
  pipeProducer?: Producer;
  /** The DataConsumer created in this Router (dataProducerId). */
  pipeDataConsumer?: DataConsumer;
  /** The DataProducer created in the target Router (dataProducerId). */
  pipeDataProducer?: DataProducer;
};

/** The two PipeTransports linking a pair of routers, by router id. */
export type PipeTransportPair = {
  [key: string]: PipeTransport;
};

export type PipeTransportDump = BaseTransportDump & {
  tuple: TransportTuple;
  rtx: boolean;
  srtpParameters?: SrtpParameters;
};

export type PipeTransportStat = BaseTransportStats & {
  type: string;
  tuple: TransportTuple;
};

export type PipeTransportEvents = TransportEvents & {
  sctpstatechange: [SctpState];
};

export type PipeTransportObserverEvents = TransportObserverEvents & {
  sctpstatechange: [SctpState];
};

export type PipeTransportObserver = EnhancedEventEmitter<PipeTransportObserverEvents>;

/** A UDP link to another router carrying every stream of its producers (optionally SRTP and RTX). */
export class PipeTransport<PipeTransportAppData extends AppData = AppData>
  extends Transport<PipeTransportAppData, PipeTransportEvents, PipeTransportObserver> {
  private constructor();
  get type(): 'pipe';
  get tuple(): TransportTuple;
  get sctpParameters(): SctpParameters | undefined;
  get sctpState(): SctpState | undefined;
  get sctpNegotiatedCapabilities(): SctpNegotiatedCapabilities | undefined;
  get srtpParameters(): SrtpParameters | undefined;
  dump(): Promise<PipeTransportDump>;
  getStats(): Promise<PipeTransportStat[]>;
  connect(params: { ip: string; port: number; srtpParameters?: SrtpParameters }): Promise<void>;
  consume<ConsumerAppData extends AppData = AppData>(
    options: PipeConsumerOptions<ConsumerAppData>,
  ): Promise<Consumer<ConsumerAppData>>;
}

// ------------------------------------------------------- WebRtcTransport

export type IceState = 'new' | 'connected' | 'completed' | 'disconnected' | 'closed';

export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export type DtlsRole = 'auto' | 'client' | 'server';

export type FingerprintAlgorithm = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';

export type DtlsFingerprint = {
  algorithm: FingerprintAlgorithm;
  value: string;
};

export type DtlsParameters = {
  role?: DtlsRole;
  fingerprints: DtlsFingerprint[];
};

export type IceParameters = {
  usernameFragment: string;
  password: string;
  iceLite?: boolean;
};

export type IceCandidate = {
  foundation: string;
  priority: number;
  /** @deprecated Use address. */
  ip: string;
  address: string;
  protocol: TransportProtocol;
  port: number;
  type: IceCandidateType;
  tcpType?: IceCandidateTcpType;
};

export type IceRole = 'controlled' | 'controlling';

export type IceCandidateType = 'host';

export type IceCandidateTcpType = 'passive';

export type WebRtcTransportOptions<WebRtcTransportAppData extends AppData = AppData> = {
  enableUdp?: boolean;
  enableTcp?: boolean;
  preferUdp?: boolean;
  preferTcp?: boolean;
  initialAvailableOutgoingBitrate?: number;
  iceConsentTimeout?: number;
  appData?: WebRtcTransportAppData;
} & TransportSctpOptions & Either<
  Either<{ listenInfos: TransportListenInfo[] }, { listenIps: (TransportListenIp | string)[]; port?: number }>,
  { webRtcServer: WebRtcServer }
>;

export type WebRtcTransportDump = BaseTransportDump & {
  iceRole: 'controlled';
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  iceState: IceState;
  iceSelectedTuple?: TransportTuple;
  dtlsParameters: DtlsParameters;
  dtlsState: DtlsState;
  dtlsRemoteCert?: string;
};

export type WebRtcTransportStat = BaseTransportStats & {
  type: string;
  iceRole: string;
  iceState: IceState;
  iceSelectedTuple?: TransportTuple;
  dtlsState: DtlsState;
};

export type WebRtcTransportEvents = TransportEvents & {
  icestatechange: [IceState];
  iceselectedtuplechange: [TransportTuple];
  dtlsstatechange: [DtlsState];
  sctpstatechange: [SctpState];
};

export type WebRtcTransportObserverEvents = TransportObserverEvents & {
  icestatechange: [IceState];
  iceselectedtuplechange: [TransportTuple];
  dtlsstatechange: [DtlsState];
  sctpstatechange: [SctpState];
};

export type WebRtcTransportObserver = EnhancedEventEmitter<WebRtcTransportObserverEvents>;

/** A WebRTC endpoint: ICE-lite, DTLS-SRTP, bundled RTP/RTCP. */
export class WebRtcTransport<WebRtcTransportAppData extends AppData = AppData>
  extends Transport<WebRtcTransportAppData, WebRtcTransportEvents, WebRtcTransportObserver> {
  private constructor();
  get type(): 'webrtc';
  get iceRole(): 'controlled';
  get iceParameters(): IceParameters;
  get iceCandidates(): IceCandidate[];
  get iceState(): IceState;
  get iceSelectedTuple(): TransportTuple | undefined;
  get dtlsParameters(): DtlsParameters;
  get dtlsState(): DtlsState;
  get dtlsRemoteCert(): string | undefined;
  get sctpParameters(): SctpParameters | undefined;
  get sctpState(): SctpState | undefined;
  /** Set once the SCTP association is connected. */
  get sctpNegotiatedCapabilities(): SctpNegotiatedCapabilities | undefined;
  dump(): Promise<WebRtcTransportDump>;
  getStats(): Promise<WebRtcTransportStat[]>;
  connect(params: { dtlsParameters: DtlsParameters }): Promise<void>;
  restartIce(): Promise<IceParameters>;
}

// ---------------------------------------------------------- WebRtcServer

export type WebRtcServerOptions<WebRtcServerAppData extends AppData = AppData> = {
  listenInfos: TransportListenInfo[];
  appData?: WebRtcServerAppData;
};

export type WebRtcServerListenInfo = TransportListenInfo;

export type IpPort = {
  ip: string;
  port: number;
};

export type IceUserNameFragment = {
  localIceUsernameFragment: string;
  webRtcTransportId: string;
};

/**
 * gosfu extension: what a WebRtcServer's sockets received and could give
 * to no transport (see docs/engine-protocol.md, "WebRtcServer").
 */
export type WebRtcServerPacketsDropped = {
  /** STUN whose USERNAME names no transport's local ufrag. */
  unknownUfrag: number;
  /** Other packets from a tuple no transport validated. */
  unknownTuple: number;
  /** STUN that does not decode or has no USERNAME. */
  stunInvalid: number;
  /** ICE-TCP connections that ended inside an RFC 4571 frame or whose first frame was not STUN. */
  tcpFraming: number;
  [counter: string]: number;
};

export type WebRtcServerDump = {
  id: string;
  udpSockets: IpPort[];
  tcpServers: IpPort[];
  webRtcTransportIds: string[];
  localIceUsernameFragments: IceUserNameFragment[];
  /** gosfu extension (always set): the tuples the server routes, and to which transport. */
  tupleHashes?: { tuple: TransportTuple; webRtcTransportId: string }[];
  /** gosfu extension (always set). */
  packetsDropped?: WebRtcServerPacketsDropped;
};

export type WebRtcServerEvents = {
  workerclose: [];
  // Internal events (as mediasoup's).
  '@close': [];
};

export type WebRtcServerObserverEvents = {
  close: [];
  webrtctransporthandled: [WebRtcTransport];
  webrtctransportunhandled: [WebRtcTransport];
};

export type WebRtcServerObserver = EnhancedEventEmitter<WebRtcServerObserverEvents>;

/** Shared UDP/TCP ports for many WebRtcTransports. */
export class WebRtcServer<WebRtcServerAppData extends AppData = AppData>
  extends EnhancedEventEmitter<WebRtcServerEvents> {
  private constructor();
  get id(): string;
  get closed(): boolean;
  get appData(): WebRtcServerAppData;
  set appData(appData: WebRtcServerAppData);
  get observer(): WebRtcServerObserver;
  close(): void;
  workerClosed(): void;
  dump(): Promise<WebRtcServerDump>;
  /** Internal: called by router.createWebRtcTransport(). */
  handleWebRtcTransport(webRtcTransport: WebRtcTransport): void;
}

// ------------------------------------------------------- DirectTransport

export type DirectTransportOptions<DirectTransportAppData extends AppData = AppData> = {
  /** Maximum size of messages sent by DataConsumers (bytes). Default 262144. */
  maxSendMessageSize?: number;
  /** Maximum size of messages received by DataProducers (bytes). Default 262144. */
  maxReceiveMessageSize?: number;
  /** @deprecated Ignored (as in mediasoup 3.27); use maxReceiveMessageSize. */
  maxMessageSize?: number;
  appData?: DirectTransportAppData;
};

export type DirectTransportDump = BaseTransportDump;

export type DirectTransportStat = BaseTransportStats & {
  type: string;
};

export type DirectTransportEvents = TransportEvents & {
  rtcp: [Buffer];
};

export type DirectTransportObserverEvents = TransportObserverEvents & {
  rtcp: [Buffer];
};

export type DirectTransportObserver = EnhancedEventEmitter<DirectTransportObserverEvents>;

/** A transport with no network: the application sends and receives the packets. */
export class DirectTransport<DirectTransportAppData extends AppData = AppData>
  extends Transport<DirectTransportAppData, DirectTransportEvents, DirectTransportObserver> {
  private constructor();
  get type(): 'direct';
  dump(): Promise<DirectTransportDump>;
  getStats(): Promise<DirectTransportStat[]>;
  connect(): Promise<void>;
  /** Rejects with UnsupportedError. */
  setMaxIncomingBitrate(bitrate: number): Promise<void>;
  /** Rejects with UnsupportedError. */
  setMaxOutgoingBitrate(bitrate: number): Promise<void>;
  /** Rejects with UnsupportedError. */
  setMinOutgoingBitrate(bitrate: number): Promise<void>;
  sendRtcp(rtcpPacket: Buffer): void;
}

// -------------------------------------------------------------- Producer

export type ProducerOptions<ProducerAppData extends AppData = AppData> = {
  id?: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  paused?: boolean;
  keyFrameRequestDelay?: number;
  enableMediasoupPacketIdHeaderExtension?: boolean;
  appData?: ProducerAppData;
};

export type ProducerType = 'simple' | 'simulcast' | 'svc';

export type ProducerScore = {
  encodingIdx: number;
  ssrc: number;
  rid?: string;
  score: number;
};

export type ProducerVideoOrientation = {
  camera: boolean;
  flip: boolean;
  rotation: number;
};

export type ProducerDump = {
  id: string;
  kind: string;
  type: ProducerType;
  rtpParameters: RtpParameters;
  rtpMapping: unknown;
  rtpStreams: unknown;
  traceEventTypes: string[];
  paused: boolean;
};

export type ProducerStat = RtpStreamRecvStats;

export type ProducerTraceEventType = 'rtp' | 'keyframe' | 'nack' | 'pli' | 'fir' | 'sr';

export type ProducerTraceEventData = {
  type: ProducerTraceEventType;
  timestamp: number;
  direction: 'in' | 'out';
  info: Record<string, unknown>;
};

export type ProducerEvents = {
  transportclose: [];
  score: [ProducerScore[]];
  videoorientationchange: [ProducerVideoOrientation];
  trace: [ProducerTraceEventData];
  // Internal events (as mediasoup's).
  '@close': [];
};

export type ProducerObserverEvents = {
  close: [];
  pause: [];
  resume: [];
  score: [ProducerScore[]];
  videoorientationchange: [ProducerVideoOrientation];
  trace: [ProducerTraceEventData];
};

export type ProducerObserver = EnhancedEventEmitter<ProducerObserverEvents>;

/** Media an endpoint sends into a transport. */
export class Producer<ProducerAppData extends AppData = AppData> extends EnhancedEventEmitter<ProducerEvents> {
  private constructor();
  get id(): string;
  get closed(): boolean;
  get kind(): MediaKind;
  get rtpParameters(): RtpParameters;
  get type(): ProducerType;
  /** Internal: the parameters consumers of this producer are built from. */
  get consumableRtpParameters(): RtpParameters;
  get paused(): boolean;
  get score(): ProducerScore[];
  get appData(): ProducerAppData;
  set appData(appData: ProducerAppData);
  get observer(): ProducerObserver;
  close(): void;
  transportClosed(): void;
  dump(): Promise<ProducerDump>;
  getStats(): Promise<ProducerStat[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  enableTraceEvent(types?: ProducerTraceEventType[]): Promise<void>;
  /** DirectTransport producers: injects an RTP packet. */
  send(rtpPacket: Buffer): void;
}

// -------------------------------------------------------------- Consumer

export type ConsumerOptions<ConsumerAppData extends AppData = AppData> = {
  producerId: string;
  rtpCapabilities: RtpCapabilities;
  paused?: boolean;
  mid?: string;
  preferredLayers?: ConsumerLayers;
  enableRtx?: boolean;
  ignoreDtx?: boolean;
  pipe?: boolean;
  appData?: ConsumerAppData;
};

export type ConsumerType = 'simple' | 'simulcast' | 'svc' | 'pipe';

export type ConsumerScore = {
  score: number;
  producerScore: number;
  producerScores: number[];
};

export type ConsumerLayers = {
  spatialLayer: number;
  temporalLayer?: number;
};

/** consumer.dump(). */
export type ConsumerDump = SimpleConsumerDump | SimulcastConsumerDump | SvcConsumerDump | PipeConsumerDump;

export type BaseConsumerDump = {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  consumableRtpEncodings?: RtpEncodingParameters[];
  supportedCodecPayloadTypes: number[];
  traceEventTypes: string[];
  paused: boolean;
  producerPaused: boolean;
  priority: number;
};

export type SimpleConsumerDump = BaseConsumerDump & {
  type: string;
  rtpStream: RtpStreamDump;
};

export type SimulcastConsumerDump = BaseConsumerDump & {
  type: string;
  rtpStream: RtpStreamDump;
  preferredSpatialLayer: number;
  targetSpatialLayer: number;
  currentSpatialLayer: number;
  preferredTemporalLayer: number;
  targetTemporalLayer: number;
  currentTemporalLayer: number;
};

export type SvcConsumerDump = SimulcastConsumerDump;

export type PipeConsumerDump = BaseConsumerDump & {
  type: string;
  rtpStreams: RtpStreamDump[];
};

export type RtpStreamDump = {
  params: RtpStreamParametersDump;
  score: number;
  rtxStream?: RtxStreamDump;
};

export type RtpStreamParametersDump = {
  encodingIdx: number;
  ssrc: number;
  payloadType: number;
  mimeType: string;
  clockRate: number;
  rid?: string;
  cname: string;
  rtxSsrc?: number;
  rtxPayloadType?: number;
  useNack: boolean;
  usePli: boolean;
  useFir: boolean;
  useInBandFec: boolean;
  useDtx: boolean;
  spatialLayers: number;
  temporalLayers: number;
};

export type RtxStreamDump = {
  params: RtxStreamParameters;
};

export type RtxStreamParameters = {
  ssrc: number;
  payloadType: number;
  mimeType: string;
  clockRate: number;
  rrid?: string;
  cname: string;
};

export type ConsumerStat = RtpStreamSendStats;

export type ConsumerTraceEventType = 'rtp' | 'keyframe' | 'nack' | 'pli' | 'fir';

export type ConsumerTraceEventData = {
  type: ConsumerTraceEventType;
  timestamp: number;
  direction: 'in' | 'out';
  info: Record<string, unknown>;
};

export type ConsumerEvents = {
  transportclose: [];
  producerclose: [];
  producerpause: [];
  producerresume: [];
  score: [ConsumerScore];
  layerschange: [ConsumerLayers?];
  trace: [ConsumerTraceEventData];
  rtp: [Buffer];
  // Internal events (as mediasoup's).
  '@close': [];
  '@producerclose': [];
};

export type ConsumerObserverEvents = {
  close: [];
  pause: [];
  resume: [];
  score: [ConsumerScore];
  layerschange: [ConsumerLayers?];
  trace: [ConsumerTraceEventData];
};

export type ConsumerObserver = EnhancedEventEmitter<ConsumerObserverEvents>;

/** Media of a producer forwarded to an endpoint through a transport. */
export class Consumer<ConsumerAppData extends AppData = AppData> extends EnhancedEventEmitter<ConsumerEvents> {
  private constructor();
  get id(): string;
  get producerId(): string;
  get closed(): boolean;
  get kind(): MediaKind;
  get rtpParameters(): RtpParameters;
  get type(): ConsumerType;
  get paused(): boolean;
  get producerPaused(): boolean;
  get priority(): number;
  get score(): ConsumerScore;
  get preferredLayers(): ConsumerLayers | undefined;
  get currentLayers(): ConsumerLayers | undefined;
  get appData(): ConsumerAppData;
  set appData(appData: ConsumerAppData);
  get observer(): ConsumerObserver;
  close(): void;
  transportClosed(): void;
  dump(): Promise<ConsumerDump>;
  getStats(): Promise<(ConsumerStat | ProducerStat)[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  setPreferredLayers(layers: ConsumerLayers): Promise<void>;
  setPriority(priority: number): Promise<void>;
  unsetPriority(): Promise<void>;
  requestKeyFrame(): Promise<void>;
  enableTraceEvent(types?: ConsumerTraceEventType[]): Promise<void>;
}

// ---------------------------------------------------------- DataProducer

export type DataProducerOptions<DataProducerAppData extends AppData = AppData> = {
  /** DataProducer id (for Router.pipeToRouter()). */
  id?: string;
  /** How the endpoint sends over SCTP (required except on a DirectTransport, where it is ignored). */
  sctpStreamParameters?: SctpStreamParameters;
  /** DataChannel label. Default ''. */
  label?: string;
  /** DataChannel sub-protocol. Default ''. */
  protocol?: string;
  /** Start paused. Default false. */
  paused?: boolean;
  appData?: DataProducerAppData;
};

export type DataProducerType = 'sctp' | 'direct';

export type DataProducerDump = {
  id: string;
  paused: boolean;
  type: DataProducerType;
  sctpStreamParameters?: SctpStreamParameters;
  label: string;
  protocol: string;
};

export type DataProducerStat = {
  type: string;
  timestamp: number;
  label: string;
  protocol: string;
  messagesReceived: number;
  bytesReceived: number;
};

export type DataProducerEvents = {
  transportclose: [];
  // Internal events (as mediasoup's).
  '@close': [];
};

export type DataProducerObserverEvents = {
  close: [];
  pause: [];
  resume: [];
};

export type DataProducerObserver = EnhancedEventEmitter<DataProducerObserverEvents>;

/** Data messages an endpoint sends into a transport (an SCTP stream, or send() on a DirectTransport). */
export class DataProducer<DataProducerAppData extends AppData = AppData>
  extends EnhancedEventEmitter<DataProducerEvents> {
  private constructor();
  get id(): string;
  get closed(): boolean;
  get type(): DataProducerType;
  get sctpStreamParameters(): SctpStreamParameters | undefined;
  get label(): string;
  get protocol(): string;
  get paused(): boolean;
  get appData(): DataProducerAppData;
  set appData(appData: DataProducerAppData);
  get observer(): DataProducerObserver;
  close(): void;
  transportClosed(): void;
  dump(): Promise<DataProducerDump>;
  getStats(): Promise<DataProducerStat[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /**
   * DirectTransport data producers: injects a message. Without ppid: 51
   * (string), 53 (Buffer), 56/57 (empty). Only data consumers subscribed to
   * one of subchannels (if given), to requiredSubchannel (if given) and not
   * to ignoredSubchannel (if given) get it.
   */
  send(
    message: string | Buffer,
    ppid?: number,
    subchannels?: number[],
    requiredSubchannel?: number,
    ignoredSubchannel?: number,
  ): void;
}

// ---------------------------------------------------------- DataConsumer

export type DataConsumerOptions<DataConsumerAppData extends AppData = AppData> = {
  /** The DataProducer to consume. */
  dataProducerId: string;
  /** SCTP only: in-order (reliable) delivery. Default: the DataProducer's ('sctp'), or true ('direct'). */
  ordered?: boolean;
  /** SCTP only, not ordered: retransmission time limit (ms). Default: the DataProducer's. */
  maxPacketLifeTime?: number;
  /** SCTP only, not ordered: retransmission count limit. Default: the DataProducer's. */
  maxRetransmits?: number;
  /** Start paused. Default false. */
  paused?: boolean;
  /** Subchannels (0 to 65535) this data consumer subscribes to. */
  subchannels?: number[];
  appData?: DataConsumerAppData;
};

export type DataConsumerType = 'sctp' | 'direct';

export type DataConsumerDump = {
  id: string;
  paused: boolean;
  dataProducerPaused: boolean;
  subchannels: number[];
  dataProducerId: string;
  type: DataConsumerType;
  sctpStreamParameters?: SctpStreamParameters;
  label: string;
  protocol: string;
  bufferedAmount: number;
  bufferedAmountLowThreshold: number;
};

export type DataConsumerStat = {
  type: string;
  timestamp: number;
  label: string;
  protocol: string;
  messagesSent: number;
  bytesSent: number;
  bufferedAmount: number;
};

export type DataConsumerEvents = {
  transportclose: [];
  dataproducerclose: [];
  dataproducerpause: [];
  dataproducerresume: [];
  /** DirectTransport data consumers: a message and its PPID. */
  message: [Buffer, number];
  sctpsendbufferfull: [];
  bufferedamountlow: [number];
  // Internal events (as mediasoup's).
  '@close': [];
  '@dataproducerclose': [];
};

export type DataConsumerObserverEvents = {
  close: [];
  pause: [];
  resume: [];
};

export type DataConsumerObserver = EnhancedEventEmitter<DataConsumerObserverEvents>;

/** Messages of a DataProducer forwarded to an endpoint (an SCTP stream, or 'message' on a DirectTransport). */
export class DataConsumer<DataConsumerAppData extends AppData = AppData>
  extends EnhancedEventEmitter<DataConsumerEvents> {
  private constructor();
  get id(): string;
  get dataProducerId(): string;
  get closed(): boolean;
  get type(): DataConsumerType;
  get sctpStreamParameters(): SctpStreamParameters | undefined;
  get label(): string;
  get protocol(): string;
  get paused(): boolean;
  get dataProducerPaused(): boolean;
  get subchannels(): number[];
  get appData(): DataConsumerAppData;
  set appData(appData: DataConsumerAppData);
  get observer(): DataConsumerObserver;
  close(): void;
  transportClosed(): void;
  dump(): Promise<DataConsumerDump>;
  getStats(): Promise<DataConsumerStat[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  setBufferedAmountLowThreshold(threshold: number): Promise<void>;
  getBufferedAmount(): Promise<number>;
  /** SCTP data consumers: sends a message; resolves with the buffered amount. */
  send(message: string | Buffer, ppid?: number): Promise<number>;
  setSubchannels(subchannels: number[]): Promise<void>;
  addSubchannel(subchannel: number): Promise<void>;
  removeSubchannel(subchannel: number): Promise<void>;
}
export {};
