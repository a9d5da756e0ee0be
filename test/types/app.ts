// A small program that uses gosfu's API the way a mediasoup 3.27 TypeScript
// application does; test/test-types.js runs `tsc -p test/types` on it so that
// index.d.ts stays complete and strict-clean. It is type-checked, never run.

import * as mediasoup from 'gosfu';
import { types } from 'gosfu';

type PeerAppData = { peerId: string; displayName?: string };

const mediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
];

function onWarn(namespace: string, log: string): void {
  console.warn(namespace, log);
}

export async function run(): Promise<void> {
  mediasoup.setLogEventListeners({ onwarn: onWarn });
  mediasoup.observer.on('newworker', (w: types.Worker) => console.log(w.pid));
  const version: string = mediasoup.version;
  const caps: types.RouterRtpCapabilities = mediasoup.getSupportedRtpCapabilities();
  const mode: types.ScalabilityMode = mediasoup.parseScalabilityMode('L1T3');
  console.log(version, caps.codecs?.length, mode.temporalLayers);

  // Worker.
  const worker = await mediasoup.createWorker<{ region: string }>({
    logLevel: 'warn',
    logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp'],
    rtcMinPort: 40000,
    rtcMaxPort: 49999,
    appData: { region: 'eu' },
  });
  const region: string = worker.appData.region;
  worker.on('died', (error: Error) => console.error(error.message));
  worker.on('listenererror', (eventName, error: Error) => console.error(eventName, error));
  worker.observer.on('close', () => {});
  worker.observer.on('newrouter', (r: types.Router) => console.log(r.id));
  worker.observer.on('newwebrtcserver', (s: types.WebRtcServer) => console.log(s.id));
  const usage: types.WorkerResourceUsage = await worker.getResourceUsage();
  const workerDump: types.WorkerDump = await worker.dump();
  console.log(region, usage.ru_utime, workerDump.pid, worker.pid, worker.closed, worker.died);
  await worker.updateSettings({ logLevel: 'debug', logTags: ['rtp'] });

  // WebRtcServer.
  const webRtcServer = await worker.createWebRtcServer<PeerAppData>({
    listenInfos: [
      { protocol: 'udp', ip: '127.0.0.1', port: 44444 },
      { protocol: 'tcp', ip: '0.0.0.0', announcedAddress: 'example.com', port: 44444 },
    ],
    appData: { peerId: 'server' },
  });
  const serverDump: types.WebRtcServerDump = await webRtcServer.dump();
  console.log(serverDump.id, webRtcServer.closed);

  // Router.
  const router: types.Router<{ room: string }> = await worker.createRouter({
    mediaCodecs,
    appData: { room: 'lobby' },
  });
  router.observer.on('newtransport', (t: types.Transport) => console.log(t.id));
  router.observer.on('newrtpobserver', (o: types.RtpObserver) => console.log(o.id));
  router.on('workerclose', () => {});
  const routerCaps: types.RtpCapabilities = router.rtpCapabilities;
  const routerDump: types.RouterDump = await router.dump();
  console.log(routerCaps.headerExtensions, routerDump.id, router.appData.room);

  // WebRtcTransport, with and without a WebRtcServer.
  const webRtcTransportOptions: types.WebRtcTransportOptions<PeerAppData> = {
    listenInfos: [{ protocol: 'udp', ip: '0.0.0.0', announcedAddress: '192.0.2.1' }],
    enableUdp: true,
    enableTcp: true,
    preferUdp: true,
    initialAvailableOutgoingBitrate: 1000000,
    enableSctp: true,
    numSctpStreams: { OS: 1024, MIS: 1024 },
    maxSctpMessageSize: 262144,
    appData: { peerId: 'alice' },
  };
  const sendTransport = await router.createWebRtcTransport(webRtcTransportOptions);
  const recvTransport = await router.createWebRtcTransport<PeerAppData>({
    webRtcServer,
    appData: { peerId: 'bob' },
  });
  const iceParameters: types.IceParameters = sendTransport.iceParameters;
  const iceCandidates: types.IceCandidate[] = sendTransport.iceCandidates;
  const dtlsParameters: types.DtlsParameters = sendTransport.dtlsParameters;
  const sctpParameters: types.SctpParameters | undefined = sendTransport.sctpParameters;
  const iceState: types.IceState = sendTransport.iceState;
  const dtlsState: types.DtlsState = sendTransport.dtlsState;
  const sctpState: types.SctpState | undefined = sendTransport.sctpState;
  const tuple: types.TransportTuple | undefined = sendTransport.iceSelectedTuple;
  console.log(iceParameters, iceCandidates, sctpParameters, iceState, dtlsState, sctpState, tuple);
  sendTransport.on('icestatechange', (state: types.IceState) => console.log(state));
  sendTransport.on('iceselectedtuplechange', (t: types.TransportTuple) => console.log(t.localPort));
  sendTransport.on('dtlsstatechange', (state: types.DtlsState) => {
    if (state === 'closed') sendTransport.close();
  });
  sendTransport.on('sctpstatechange', (state: types.SctpState) => console.log(state));
  sendTransport.on('routerclose', () => {});
  sendTransport.observer.on('newproducer', (p: types.Producer) => console.log(p.id));
  sendTransport.observer.on('newconsumer', (c: types.Consumer) => console.log(c.id));
  sendTransport.observer.on('newdataproducer', (p: types.DataProducer) => console.log(p.id));
  sendTransport.observer.on('newdataconsumer', (c: types.DataConsumer) => console.log(c.id));
  await sendTransport.connect({ dtlsParameters: { role: 'client', fingerprints: dtlsParameters.fingerprints } });
  const newIce: types.IceParameters = await sendTransport.restartIce();
  await sendTransport.setMaxIncomingBitrate(1500000);
  await sendTransport.setMaxOutgoingBitrate(2000000);
  await sendTransport.setMinOutgoingBitrate(100000);
  await sendTransport.enableTraceEvent(['bwe', 'probation']);
  const webRtcStats: types.WebRtcTransportStat[] = await sendTransport.getStats();
  const transportDump: types.WebRtcTransportDump = await sendTransport.dump();
  console.log(newIce.usernameFragment, webRtcStats[0]?.bytesReceived, transportDump.iceRole, recvTransport.appData.peerId);

  // Producer.
  const rtpParameters: types.RtpParameters = {
    mid: '0',
    codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }] }],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 },
    ],
    encodings: [
      { ssrc: 1111, rid: 'r0', scalabilityMode: 'L1T3', maxBitrate: 100000 },
      { rtx: { ssrc: 2222 }, dtx: false },
    ],
    rtcp: { cname: 'abc', reducedSize: true },
  };
  const producer = await sendTransport.produce<PeerAppData>({
    kind: 'video',
    rtpParameters,
    paused: false,
    keyFrameRequestDelay: 1000,
    appData: { peerId: 'alice' },
  });
  const kind: types.MediaKind = producer.kind;
  const producerType: types.ProducerType = producer.type;
  const score: types.ProducerScore[] = producer.score;
  producer.on('score', (s: types.ProducerScore[]) => console.log(s[0]?.score));
  producer.on('videoorientationchange', (o: types.ProducerVideoOrientation) => console.log(o.rotation));
  producer.on('trace', (t: types.ProducerTraceEventData) => console.log(t.type));
  producer.on('transportclose', () => {});
  producer.observer.on('pause', () => {});
  producer.observer.on('resume', () => {});
  producer.observer.on('close', () => {});
  await producer.pause();
  await producer.resume();
  await producer.enableTraceEvent(['keyframe', 'rtp']);
  producer.send(Buffer.alloc(10));
  const producerStats: types.ProducerStat[] = await producer.getStats();
  const producerDump: types.ProducerDump = await producer.dump();
  producer.appData = { peerId: 'carol' };
  console.log(kind, producerType, score, producerStats, producerDump.id, producer.paused, producer.closed);

  // Consumer.
  if (!router.canConsume({ producerId: producer.id, rtpCapabilities: routerCaps })) return;
  const consumer = await recvTransport.consume<PeerAppData>({
    producerId: producer.id,
    rtpCapabilities: routerCaps,
    paused: true,
    preferredLayers: { spatialLayer: 2, temporalLayer: 1 },
    ignoreDtx: true,
    enableRtx: true,
    mid: '3',
    appData: { peerId: 'bob' },
  });
  const consumerType: types.ConsumerType = consumer.type;
  const consumerScore: types.ConsumerScore = consumer.score;
  const layers: types.ConsumerLayers | undefined = consumer.currentLayers;
  const preferred: types.ConsumerLayers | undefined = consumer.preferredLayers;
  const priority: number = consumer.priority;
  consumer.on('score', (s: types.ConsumerScore) => console.log(s.producerScores));
  consumer.on('layerschange', (l?: types.ConsumerLayers) => console.log(l?.spatialLayer));
  consumer.on('producerpause', () => {});
  consumer.on('producerresume', () => {});
  consumer.on('producerclose', () => {});
  consumer.on('transportclose', () => {});
  consumer.on('trace', (t: types.ConsumerTraceEventData) => console.log(t.timestamp));
  consumer.on('rtp', (packet: Buffer) => console.log(packet.length));
  consumer.observer.on('layerschange', () => {});
  await consumer.resume();
  await consumer.setPreferredLayers({ spatialLayer: 0 });
  await consumer.setPriority(2);
  await consumer.unsetPriority();
  await consumer.requestKeyFrame();
  await consumer.enableTraceEvent(['pli', 'fir']);
  const consumerStats: (types.ConsumerStat | types.ProducerStat)[] = await consumer.getStats();
  const consumerDump: types.ConsumerDump = await consumer.dump();
  console.log(consumerType, consumerScore, layers, preferred, priority, consumerStats, consumerDump.id,
    consumer.producerPaused, consumer.rtpParameters.encodings);

  // DataProducer / DataConsumer.
  const dataProducer = await sendTransport.produceData<PeerAppData>({
    sctpStreamParameters: { streamId: 0, ordered: false, maxRetransmits: 1 },
    label: 'chat',
    protocol: 'json',
    appData: { peerId: 'alice' },
  });
  const dataProducerType: types.DataProducerType = dataProducer.type;
  dataProducer.observer.on('pause', () => {});
  await dataProducer.pause();
  await dataProducer.resume();
  const dataProducerStats: types.DataProducerStat[] = await dataProducer.getStats();
  const dataProducerDump: types.DataProducerDump = await dataProducer.dump();
  const dataConsumer = await recvTransport.consumeData<PeerAppData>({
    dataProducerId: dataProducer.id,
    ordered: true,
    subchannels: [1, 2],
    appData: { peerId: 'bob' },
  });
  dataConsumer.on('message', (message: Buffer, ppid: number) => console.log(message.length, ppid));
  dataConsumer.on('bufferedamountlow', (bufferedAmount: number) => console.log(bufferedAmount));
  dataConsumer.on('sctpsendbufferfull', () => {});
  dataConsumer.on('dataproducerclose', () => {});
  dataConsumer.on('dataproducerpause', () => {});
  await dataConsumer.setBufferedAmountLowThreshold(1000);
  const bufferedAmount: number = await dataConsumer.getBufferedAmount();
  await dataConsumer.setSubchannels([3]);
  await dataConsumer.addSubchannel(4);
  await dataConsumer.removeSubchannel(3);
  const dataConsumerStats: types.DataConsumerStat[] = await dataConsumer.getStats();
  const dataConsumerDump: types.DataConsumerDump = await dataConsumer.dump();
  const sctpStream: types.SctpStreamParameters | undefined = dataConsumer.sctpStreamParameters;
  console.log(dataProducerType, dataProducerStats, dataProducerDump.id, bufferedAmount,
    dataConsumerStats, dataConsumerDump.id, sctpStream, dataConsumer.subchannels, dataConsumer.label);

  // PlainTransport.
  const plainOptions: types.PlainTransportOptions<PeerAppData> = {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1', portRange: { min: 20000, max: 20100 } },
    rtcpMux: false,
    comedia: true,
    enableSrtp: true,
    srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
    appData: { peerId: 'ffmpeg' },
  };
  const plain = await router.createPlainTransport(plainOptions);
  const plainTuple: types.TransportTuple = plain.tuple;
  const rtcpTuple: types.TransportTuple | undefined = plain.rtcpTuple;
  const srtp: types.SrtpParameters | undefined = plain.srtpParameters;
  plain.on('tuple', (t: types.TransportTuple) => console.log(t.remoteIp));
  plain.on('rtcptuple', (t: types.TransportTuple) => console.log(t.remotePort));
  await plain.connect({ ip: '127.0.0.1', port: 5004, rtcpPort: 5005, srtpParameters: srtp });
  const plainStats: types.PlainTransportStat[] = await plain.getStats();
  console.log(plainTuple.localPort, rtcpTuple, plainStats);

  // PipeTransport and pipeToRouter.
  const router2 = await worker.createRouter({ mediaCodecs });
  const pipeOptions: types.PipeTransportOptions<PeerAppData> = {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    enableSctp: true,
    enableRtx: true,
    enableSrtp: false,
    appData: { peerId: 'pipe' },
  };
  const pipe = await router.createPipeTransport(pipeOptions);
  await pipe.connect({ ip: '127.0.0.1', port: 40001 });
  const pipeConsumer = await pipe.consume({ producerId: producer.id });
  const pipeStats: types.PipeTransportStat[] = await pipe.getStats();
  const piped: types.PipeToRouterResult = await router.pipeToRouter({
    producerId: producer.id,
    router: router2,
    keepId: true,
  });
  console.log(pipe.tuple, pipeConsumer.type, pipeStats, piped.pipeConsumer?.id, piped.pipeProducer?.id);

  // DirectTransport.
  const direct = await router.createDirectTransport<PeerAppData>({
    maxMessageSize: 262144,
    appData: { peerId: 'server-side' },
  });
  direct.on('rtcp', (packet: Buffer) => console.log(packet.length));
  direct.sendRtcp(Buffer.alloc(8));
  const directProducer = await direct.produce({ kind: 'audio', rtpParameters });
  const directDataProducer = await direct.produceData();
  directDataProducer.send('hello', 51);
  directDataProducer.send(Buffer.from('bin'));
  const directStats: types.DirectTransportStat[] = await direct.getStats();
  console.log(directProducer.id, directStats);

  // RtpObservers.
  const audioLevelObserver = await router.createAudioLevelObserver({
    maxEntries: 1,
    threshold: -80,
    interval: 800,
    appData: { peerId: 'observer' },
  });
  audioLevelObserver.on('volumes', (volumes: types.AudioLevelObserverVolume[]) => {
    const v = volumes[0];
    if (v) console.log(v.producer.id, v.volume);
  });
  audioLevelObserver.on('silence', () => {});
  audioLevelObserver.observer.on('volumes', (volumes) => console.log(volumes.length));
  await audioLevelObserver.addProducer({ producerId: directProducer.id });
  await audioLevelObserver.removeProducer({ producerId: directProducer.id });
  await audioLevelObserver.pause();
  await audioLevelObserver.resume();
  const activeSpeakerObserver = await router.createActiveSpeakerObserver({ interval: 300 });
  activeSpeakerObserver.on('dominantspeaker', (speaker: types.ActiveSpeakerObserverDominantSpeaker) =>
    console.log(speaker.producer.id));
  console.log(audioLevelObserver.paused, activeSpeakerObserver.closed);

  // Errors.
  try {
    await recvTransport.consume({ producerId: 'nope', rtpCapabilities: routerCaps });
  } catch (error) {
    if (error instanceof types.NotFoundError || error instanceof types.UnsupportedError) {
      console.log(error.message);
    } else if (error instanceof types.InvalidStateError) {
      console.log(error.name);
    }
  }

  // Generic appData, typed through createX<AppData>() and typed casts.
  const typedTransport = sendTransport as types.WebRtcTransport<PeerAppData>;
  const peerId: string = typedTransport.appData.peerId;
  const transports = new Map<string, types.Transport>();
  transports.set(peerId, plain);
  transports.set('direct', direct);
  transports.set('pipe', pipe);
  for (const t of transports.values()) t.close();

  router.close();
  router2.close();
  webRtcServer.close();
  worker.close();
}
