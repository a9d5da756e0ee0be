// Package rtpstream holds the per-stream RTP/RTCP state of the forwarding
// engine, modelled on mediasoup's RtpStreamRecv / RtpStreamSend:
//
//   - RecvStream: one incoming stream of a producer. RFC 3550 sequence
//     validation, counters, interarrival jitter, bitrate, receiver reports,
//     sender report bookkeeping (NTP/RTP mapping for lip sync), score, NACK
//     generation and key frame request packets.
//   - SendStream: one outgoing stream of a consumer. Retransmission buffer,
//     NACK handling with RTX (RFC 4588) encoding, receiver report processing
//     (RTT, loss, score) and sender report generation.
//   - RetransmissionBuffer, NackGenerator, KeyFrameRequestManager: the
//     building blocks above, usable on their own.
//   - SharedPacket, SharedRef: one reference-counted, pooled copy of each
//     packet a producer fans out, which every consumer's retransmission
//     buffer points at (a slot keeps only the consumer's own header and the
//     start of the payload, see PayloadPrefix).
//
// Nothing here owns a socket, a goroutine or a timer: every method that
// depends on time takes the current time from the caller (nowMs, in
// milliseconds from any monotonic origin, the same origin for every call on
// a given object; wall clock time is only needed to stamp sender reports).
// Periodic work (NACK retries, key frame request retries, inactivity checks)
// is done by calling the corresponding method from the caller's own timer.
//
// Concurrency: a stream may be driven from several goroutines, one call at
// a time: a consumer's SendStream gets packets from its producer's
// transport goroutine, NACKs and receiver reports from its own
// transport's and sender report requests from that transport's timer; the
// caller serialises them (the engine under its consumer's lock). RecvStream and SendStream also guard their state with
// their own small mutex, so accessors (Stats, Score, RTT, ...) may be
// called from any goroutine at any time, and a SendStream's resends read
// its buffer under that mutex, so they are safe even against packets
// stored, and Close, on other goroutines. Callbacks are never invoked while
// that mutex is held. RetransmissionBuffer, NackGenerator and
// KeyFrameRequestManager have no lock: their owner serialises calls.
package rtpstream
