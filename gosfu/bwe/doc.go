// Package bwe holds the bandwidth estimation of gosfu.
//
// SendSide is Google Congestion Control (draft-ietf-rmcat-gcc-02, as
// libwebrtc's goog_cc and mediasoup implement it) on the sending side,
// driven by transport-cc feedback:
//
//   - SendHistory records every sent packet by transport-wide sequence
//     number and turns each rtcp.TransportLayerCC into PacketResults;
//   - a delay-based estimate: packets grouped into 5 ms send bursts, the
//     slope of the smoothed queuing delay over the last 20 groups
//     (trendline) against an adaptive threshold gives the path usage,
//     and an AIMD controller follows it (about +8 %/s far from the
//     link capacity, additive near it, 0.85 × acked bitrate on overuse);
//   - a loss-based estimate: +8 %/s under 2 % loss, hold up to 10 %,
//     cut by (1 - loss/2) above;
//   - an application-limited rule: without a probe result the estimate
//     never climbs past 1.5 × the acked bitrate + 10 kbit/s;
//   - a probe controller: initial probes at 3× and 6× the start rate,
//     then probes towards what the allocation desires (SetDesired),
//     backing off while they fail. A probe result lifts the estimate;
//     a probe that saturated the link bounds it, and the overuse the probe
//     itself causes is not acted on.
//
// The estimate is the minimum of the delay- and loss-based ones within
// [min, max].
//
// ReceiveSide is the same delay-based estimate computed on the receiving
// side from abs-send-time, for senders that negotiated goog-remb instead
// of transport-cc. RembEstimator is a simpler loss-based receive-side
// estimate (grow under 2 % loss, hold to 10 %, cut above), which follows
// the incoming bitrate and loss of the streams.
//
// Nothing here touches a socket or reads a clock: callers pass times in
// microseconds, and the engine sends REMB and transport-cc feedback
// (gosfu/engine/bwefeedback.go).
package bwe
