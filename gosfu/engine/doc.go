// Package engine is the worker of gosfu: a Worker owns Routers and, below
// them, transports, producers, consumers, data producers and data
// consumers and RTP observers. It answers the requests of the Node layer
// (worker.go, router.go, subchannelscodec.go) and emits events towards it
// (eventqueue.go).
//
// Every packet passes through it, on the goroutine that read it (and, for
// a producer with many consumers, helpers that share its fan-out), in this
// order:
//
//   - socket: a transport's link reads its sockets — webrtctransport.go
//     (ICE over UDP and TCP; webrtcserver.go when a WebRtcServer shares
//     them, tcpgate.go before ICE admits a TCP connection),
//     plaintransport.go, pipetransport.go; directtransport.go takes
//     packets from Node instead.
//   - transport demux: demux.go tells STUN (gosfu/ice), DTLS
//     (dtlsfilter.go, then dtlstransport.go), RTP, RTCP and SCTP apart;
//     SRTP is removed with the contexts of srtpsession.go; then
//     Transport.ReceiveRtp and ReceiveRtcp (transport.go) check the packet,
//     bwefeedback.go records its transport-wide sequence number and
//     rtplistener.go finds its producer.
//   - producer: producer.go keeps the receive state of each stream
//     (gosfu/rtpstream: NACK, key frame requests, reports, scores), feeds
//     RTP observers (rtpobserver.go) and hands the packet to every
//     consumer (fanout.go: from 32 consumers, spread over GOMAXPROCS
//     goroutines when one cannot keep up, the reading one waiting for
//     them). Consumers that keep
//     packets for retransmission point at one shared copy per packet
//     (gosfu/rtpstream's SharedPacket).
//   - consumers: consumer.go holds what every consumer type shares and
//     calls its type's part — simpleconsumer.go, simulcastconsumer.go,
//     svcconsumer.go, pipeconsumer.go — which chooses the layers to
//     forward (gosfu/layerselect); the shared part rewrites sequence
//     numbers and timestamps (gosfu/seqmanager) and keeps the send state
//     for NACK/RTX.
//   - transport send: Transport.sendRtp (transport.go) hands the packet to
//     congestioncontrol.go when the consumer negotiated transport-cc or
//     goog-remb: the pacer (gosfu/pacer) lets it go now or queues it, and
//     it gets its transport-wide sequence number and is recorded for the
//     estimator (gosfu/bwe) as it leaves. The transport link protects it
//     (SRTP) and writes it without waiting (gosfu/netio), on a send socket
//     outside Go's poller when the transport owns its port; what does not
//     fit is dropped and counted (dropcounters.go).
//
// RTCP from consumers' remotes goes the other way, from the transport that
// received it to the consumer and, for key frame requests, its producer.
// SCTP (sctpassociation.go, sctpudpconn.go) carries the messages of data
// producers to data consumers (dataproducer.go, dataconsumer.go). Each
// transport runs its periodic work — reports, NACK, transport-cc feedback
// and REMB (bwefeedback.go), and the congestion control's pacing, probes
// and allocation of the estimate among consumers (congestioncontrol.go,
// gosfu/streamallocator) — on timers that re-arm themselves
// (transporttimers.go); transport-cc feedback
// from the remote reaches the estimator in Transport.ReceiveRtcp.
package engine
