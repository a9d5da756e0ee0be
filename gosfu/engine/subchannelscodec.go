package engine

import "encoding/binary"

// Across a PipeTransport a message keeps its subchannels: the sending pipe
// DataConsumer puts them in front of the payload and the receiving
// PipeTransport takes them off for its DataProducer's consumers. The
// layout is mediasoup's, so gosfu and mediasoup routers pipe to each other:
//
//	u64 magic|flags | u16 n | n × u16 subchannels | [u16 required] | [u16 ignored] | payload
//
// (big-endian; flags 0x2: required given, 0x1: ignored given).
const (
	subchannelsMagic        uint64 = 0xA5F09CB3D6E1F28C
	subchannelsRequiredFlag uint64 = 0x2
	subchannelsIgnoredFlag  uint64 = 0x1
	subchannelsFlags               = subchannelsRequiredFlag | subchannelsIgnoredFlag
)

// encodeSubchannels appends the encoded message to dst[:0]; ok is false
// (and nothing is encoded) when there is nothing to carry.
func encodeSubchannels(dst, msg []byte, subchannels []uint16, required, ignored *uint16) (out []byte, ok bool) {
	if len(subchannels) == 0 && required == nil && ignored == nil {
		return nil, false
	}
	if len(subchannels) > 0xffff {
		return nil, false
	}
	magic := subchannelsMagic
	if required != nil {
		magic |= subchannelsRequiredFlag
	}
	if ignored != nil {
		magic |= subchannelsIgnoredFlag
	}
	out = binary.BigEndian.AppendUint64(dst[:0], magic)
	out = binary.BigEndian.AppendUint16(out, uint16(len(subchannels)))
	for _, s := range subchannels {
		out = binary.BigEndian.AppendUint16(out, s)
	}
	if required != nil {
		out = binary.BigEndian.AppendUint16(out, *required)
	}
	if ignored != nil {
		out = binary.BigEndian.AppendUint16(out, *ignored)
	}
	return append(out, msg...), true
}

// decodeSubchannels takes the subchannel header off a message received on
// a PipeTransport; a message without one (or too short for what its header
// announces) is returned as it is.
func decodeSubchannels(msg []byte) (payload []byte, subchannels []uint16, required, ignored *uint16) {
	if len(msg) < 10 {
		return msg, nil, nil, nil
	}
	magic := binary.BigEndian.Uint64(msg)
	if magic&^subchannelsFlags != subchannelsMagic {
		return msg, nil, nil, nil
	}
	n := int(binary.BigEndian.Uint16(msg[8:]))
	need := 10 + 2*n
	if magic&subchannelsRequiredFlag != 0 {
		need += 2
	}
	if magic&subchannelsIgnoredFlag != 0 {
		need += 2
	}
	if len(msg) < need {
		return msg, nil, nil, nil
	}
	off := 10
	if n > 0 {
		subchannels = make([]uint16, n)
		for i := range subchannels {
			subchannels[i] = binary.BigEndian.Uint16(msg[off:])
			off += 2
		}
	}
	if magic&subchannelsRequiredFlag != 0 {
		v := binary.BigEndian.Uint16(msg[off:])
		required = &v
		off += 2
	}
	if magic&subchannelsIgnoredFlag != 0 {
		v := binary.BigEndian.Uint16(msg[off:])
		ignored = &v
		off += 2
	}
	return msg[off:], subchannels, required, ignored
}
