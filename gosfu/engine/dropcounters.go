package engine

import "sync/atomic"

// maxPionDatagram is the largest DTLS or SCTP datagram pion reads whole
// (its 8192-byte inbound buffers truncate anything longer): larger ones are
// dropped as oversized before they are copied into a queue.
const maxPionDatagram = 8192

// Limits mediasoup puts on what Node hands to the engine: a packet given to
// producer.send() must fit its 64 KiB buffer and one given to
// DirectTransport.sendRtcp() an MTU (1500) plus 100 bytes.
const (
	maxProducerSendSize = 65536
	maxDirectRtcpSize   = 1500 + 100
)

// dropCounters counts, per cause, what a transport received and dropped,
// so that an operator can see malformed input or an attack in dump()
// ("packetsDropped"). The packet paths only do atomic increments: no lock,
// no allocation.
type dropCounters struct {
	// unknownTuple: from a tuple ICE did not validate (WebRTC) or other
	// than the remote one (Plain, Pipe).
	unknownTuple atomic.Uint64
	// srtp: SRTP/SRTCP before the keys are known, or failing
	// authentication or the replay check.
	srtp atomic.Uint64
	// dtlsQueue: DTLS records with no DTLS session yet, or while its
	// bounded queue is full.
	dtlsQueue atomic.Uint64
	// dtlsInvalid: datagrams with a forged ChangeCipherSpec or an
	// unencrypted (epoch 0) record other than handshake or alert.
	dtlsInvalid atomic.Uint64
	// stun: STUN messages that are malformed, unauthenticated or not
	// binding requests.
	stun atomic.Uint64
	// rtp: RTP that does not parse as mediasoup's parser requires
	// (header, CSRCs, extensions, padding).
	rtp atomic.Uint64
	// rtcp: RTCP that does not parse.
	rtcp atomic.Uint64
	// unknownSsrc: RTP for which no producer or stream exists.
	unknownSsrc atomic.Uint64
	// emptyPayload: RTP without payload (padding only), which consumers
	// do not forward, as mediasoup does. Senders probing bandwidth send
	// such packets: this one rises in normal operation.
	emptyPayload atomic.Uint64
	// oversized: DTLS or SCTP datagrams longer than pion reads, and
	// producer.send()/sendRtcp() packets over mediasoup's limits.
	oversized atomic.Uint64
	// unknownType: datagrams no demultiplexing rule (RFC 7983) matches,
	// RTP of another version included.
	unknownType atomic.Uint64
}

// fillDump sets m["packetsDropped"], keeping entries a link already put
// there (such as its own queue counters).
func (d *dropCounters) fillDump(m map[string]any) {
	pd, _ := m["packetsDropped"].(map[string]any)
	if pd == nil {
		pd = make(map[string]any, 12)
		m["packetsDropped"] = pd
	}
	pd["unknownTuple"] = d.unknownTuple.Load()
	pd["srtp"] = d.srtp.Load()
	pd["dtlsQueue"] = d.dtlsQueue.Load()
	pd["dtlsInvalid"] = d.dtlsInvalid.Load()
	pd["stunInvalid"] = d.stun.Load()
	pd["rtpInvalid"] = d.rtp.Load()
	pd["rtcpInvalid"] = d.rtcp.Load()
	pd["unknownSsrc"] = d.unknownSsrc.Load()
	pd["emptyPayload"] = d.emptyPayload.Load()
	pd["oversized"] = d.oversized.Load()
	pd["unknownType"] = d.unknownType.Load()
}
