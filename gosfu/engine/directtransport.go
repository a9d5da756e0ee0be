package engine

import (
	"encoding/json"
)

// directLink is the network half of a DirectTransport: the Node process.
// Producers get packets through producer.send(), consumers hand theirs to
// JavaScript as binary 'rtp' events.
type directLink struct {
	t                     *Transport
	maxSendMessageSize    int
	maxReceiveMessageSize int
}

// directLink returns the link of a direct transport.
func (t *Transport) directLink() *directLink {
	l, _ := t.link.(*directLink)
	return l
}

func (r *Router) createDirectTransport(data []byte) (any, error) {
	var req struct {
		TransportID           string  `json:"transportId"`
		MaxSendMessageSize    float64 `json:"maxSendMessageSize"`
		MaxReceiveMessageSize float64 `json:"maxReceiveMessageSize"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, TypeErrorf("invalid request: %v", err)
	}
	send, err := sizeOption("maxSendMessageSize", req.MaxSendMessageSize, defaultSctpMaxMessageSize)
	if err != nil {
		return nil, err
	}
	recv, err := sizeOption("maxReceiveMessageSize", req.MaxReceiveMessageSize, defaultSctpMaxMessageSize)
	if err != nil {
		return nil, err
	}
	t := newTransport(r, req.TransportID, "direct")
	l := &directLink{t: t, maxSendMessageSize: send, maxReceiveMessageSize: recv}
	t.link = l
	if err := t.register(); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (l *directLink) sendRtp(c *Consumer, b []byte) bool {
	// The event payload is copied by the shim before this returns.
	l.t.w.Emit(c.id, "rtp", b, true)
	return true
}

func (l *directLink) sendRtcp(b []byte) bool {
	l.t.w.Emit(l.t.id, "rtcp", b, true)
	return true
}

func (l *directLink) connected() bool { return true }

func (l *directLink) handleRequest(method string, data []byte) (any, bool, error) {
	switch method {
	case "transport.connect":
		return nil, true, nil
	case "transport.sendRtcp":
		if len(data) > maxDirectRtcpSize {
			// Counted as received, then dropped, as mediasoup does.
			l.t.recvStats.add(len(data), trafficOther, l.t.w.nowMs())
			l.t.drops.oversized.Add(1)
			return nil, true, nil
		}
		l.t.ReceiveRtcp(data, l.t.w.nowMs())
		return nil, true, nil
	case "transport.setMaxIncomingBitrate", "transport.setMaxOutgoingBitrate", "transport.setMinOutgoingBitrate":
		return nil, true, UnsupportedErrorf("%s() not implemented in DirectTransport", method[len("transport."):])
	}
	return nil, false, nil
}

func (l *directLink) fillDump(m map[string]any) {
	m["maxSendMessageSize"] = l.maxSendMessageSize
	m["maxReceiveMessageSize"] = l.maxReceiveMessageSize
}

func (l *directLink) fillStats(m map[string]any) {
	m["type"] = "direct-transport"
}

func (l *directLink) close() {}
