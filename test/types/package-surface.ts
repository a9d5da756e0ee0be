// The package's subpath modules as a mediasoup 3.27 TypeScript application
// imports them ('mediasoup/types' -> 'gosfu/types', ...).
// test/test-package-surface.js compiles this file with tsc --strict and
// moduleResolution node16 (so package.json "exports" decides what resolves),
// once as CommonJS (.ts) and once as ESM (.mts). Type-checked, never run.

import * as mediasoup from 'gosfu';
import { createWorker, types as typesNamespace, workerBin } from 'gosfu';
import type {
  AppData,
  BaseConsumerDump,
  BitrateByLayer,
  ConsumerDump,
  IceCandidateTcpType,
  IceCandidateType,
  IceRole,
  Index,
  PipeConsumerDump,
  PipeConsumerOptions,
  PipeTransportPair,
  Router,
  RouterRtpCodecCapability,
  RtpStreamDump,
  RtxStreamParameters,
  SimulcastConsumerDump,
  TransportEvents,
  WebRtcServerListenInfo,
  Worker,
  WorkerEvents,
  WorkerSettings,
} from 'gosfu/types';
import { UnsupportedError, WorkerClosedError, NotFoundError } from 'gosfu/errors';
import * as ortc from 'gosfu/ortc';
import { EnhancedEventEmitter, enhancedOnce } from 'gosfu/extras';

// The module itself has mediasoup's Index shape.
const index: Index = mediasoup;
const bin: string = workerBin;

const settings: WorkerSettings<{ region: string }> = {
  logLevel: 'warn',
  // Accepted as mediasoup's, ignored by gosfu.
  workerBin: '/usr/local/bin/mediasoup-worker',
  libwebrtcFieldTrials: 'WebRTC-Bwe-AlrLimitedBackoff/Enabled/',
  appData: { region: 'eu' },
};

const listenInfo: WebRtcServerListenInfo = { protocol: 'udp', ip: '127.0.0.1', port: 0 };
const iceRole: IceRole = 'controlled';
const candidateType: IceCandidateType = 'host';
const tcpType: IceCandidateTcpType = 'passive';
const byLayer: BitrateByLayer = { '0.0': 1000, '1.2': 2000 };

function describeConsumerDump(dump: ConsumerDump): string {
  const base: BaseConsumerDump = dump;
  if ('rtpStreams' in dump) {
    const pipe: PipeConsumerDump = dump;
    return `${base.id} pipe ${pipe.rtpStreams.length}`;
  }
  const stream: RtpStreamDump = dump.rtpStream;
  const rtx: RtxStreamParameters | undefined = stream.rtxStream?.params;
  if ('currentSpatialLayer' in dump) {
    const simulcast: SimulcastConsumerDump = dump;
    return `${base.id} ${simulcast.currentSpatialLayer}/${simulcast.currentTemporalLayer} ${rtx?.ssrc}`;
  }
  return `${base.id} ${stream.params.ssrc} ${stream.params.useNack} ${rtx?.rrid}`;
}

function describeError(error: unknown): string {
  if (error instanceof WorkerClosedError) return 'worker closed';
  if (error instanceof UnsupportedError) return 'unsupported';
  if (error instanceof NotFoundError) return 'not found';
  if (error instanceof mediasoup.errors.WorkerClosedError) return 'unreachable';
  return String(error);
}

export async function run(): Promise<void> {
  const worker: Worker<{ region: string }> = await createWorker(settings);
  const workerEvents: EnhancedEventEmitter<WorkerEvents> = worker;
  const mediaCodecs: RouterRtpCodecCapability[] = [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  ];
  const routerA: Router<AppData> = await worker.createRouter({ mediaCodecs });
  const routerB = await worker.createRouter({ mediaCodecs });
  const pair: PipeTransportPair = {};
  const { pipeConsumer } = await routerA.pipeToRouter({ producerId: 'p', router: routerB });
  const transport = await routerA.createPipeTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
  pair[routerA.id] = transport;
  const options: PipeConsumerOptions<{ peer: string }> = { producerId: 'p', appData: { peer: 'x' } };
  const consumer = await transport.consume(options);
  const peer: string = consumer.appData.peer;
  console.log(describeConsumerDump(await consumer.dump()), pipeConsumer?.id, peer);

  // enhancedOnce with an event map, as mediasoup's docs show it.
  const [closed] = await Promise.all([
    enhancedOnce<TransportEvents>(transport, 'routerclose'),
    Promise.resolve(routerA.close()),
  ]);
  const ok: boolean = ortc.canConsume(consumer.rtpParameters, routerB.rtpCapabilities);
  const emitter = new EnhancedEventEmitter<{ tick: [number] }>();
  emitter.on('tick', (n: number) => console.log(n));
  emitter.safeEmit('tick', 1);
  console.log(index.version, bin, iceRole, candidateType, tcpType, byLayer, listenInfo, closed, ok);
  console.log(typesNamespace.Worker.name, workerEvents.listenerCount('died'), describeError(new Error('x')));
  worker.close();
}
