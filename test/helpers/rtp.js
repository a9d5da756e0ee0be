'use strict';

// Hand-built RTP/RTCP for the media plane suites: packets are written and
// parsed here byte by byte (RFC 3550, RFC 4585, RFC 4588, RFC 7741) so the
// tests do not share code with the engine they check.

/** An RTP packet: version 2, no padding, no CSRC, no extension. */
function rtpPacket({
  payloadType, seq, timestamp, ssrc, marker = false, payload,
}) {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | payloadType;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([header, payload]);
}

/** Whether a datagram is RTCP (RFC 5761 demultiplexing: PT 192..223). */
function isRtcp(buf) {
  return buf.length >= 8 && buf[0] >> 6 === 2 && buf[1] >= 192 && buf[1] <= 223;
}

/** Parses an RTP packet (header fields and payload), or null. */
function parseRtp(buf) {
  if (buf.length < 12 || buf[0] >> 6 !== 2 || isRtcp(buf)) return null;
  let offset = 12 + 4 * (buf[0] & 0x0f);
  let extension;
  if (buf[0] & 0x10) {
    if (buf.length < offset + 4) return null;
    extension = { profile: buf.readUInt16BE(offset), length: buf.readUInt16BE(offset + 2) };
    offset += 4 + 4 * extension.length;
  }
  let end = buf.length;
  if (buf[0] & 0x20) end -= buf[buf.length - 1];
  if (offset > end) return null;
  return {
    marker: Boolean(buf[1] & 0x80),
    payloadType: buf[1] & 0x7f,
    seq: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    extension,
    payload: buf.subarray(offset, end),
  };
}

/**
 * A synthetic VP8 RTP payload (RFC 7741) of a packet of frame: a 1-byte
 * payload descriptor (S=1, PID=0 on the first packet of a frame, 0 after),
 * then, on a first packet, the VP8 payload header byte whose bit 0 (P) is 0
 * for a key frame and 1 for an inter frame; a 4-byte packet index the
 * receiver checks, and filler.
 */
function vp8Payload({
  index, start, keyFrame, size = 100,
}) {
  const payload = Buffer.alloc(Math.max(size, 6), 0xab);
  payload[0] = start ? 0x10 : 0x00;
  payload[1] = start ? (keyFrame ? 0x00 : 0x01) : 0x5a;
  payload.writeUInt32BE(index >>> 0, 2);
  return payload;
}

/** The packet index vp8Payload() wrote (payload of the media packet). */
function vp8PayloadIndex(payload) {
  return payload.readUInt32BE(2);
}

/** Whether vp8Payload() marked the payload as the start of a key frame. */
function vp8PayloadIsKeyFrame(payload) {
  return (payload[0] & 0x10) !== 0 && (payload[0] & 0x0f) === 0 && (payload[1] & 0x01) === 0;
}

/**
 * Splits a compound RTCP packet into {pt, fmt, ssrc (sender), body (the
 * whole sub-packet)} entries, and decodes SR (200), RR (201), SDES (202),
 * Generic NACK (205/1), PLI (206/1) and FIR (206/4).
 */
function parseRtcp(buf) {
  const out = [];
  let offset = 0;
  while (offset + 4 <= buf.length) {
    const length = 4 * (buf.readUInt16BE(offset + 2) + 1);
    if (buf[offset] >> 6 !== 2 || offset + length > buf.length) break;
    const body = buf.subarray(offset, offset + length);
    const pt = body[1];
    const fmt = body[0] & 0x1f;
    const entry = { pt, fmt, body };
    if (length >= 8) entry.ssrc = body.readUInt32BE(4);
    if (pt === 200 && length >= 28) {
      entry.type = 'sr';
      entry.ntpSeconds = body.readUInt32BE(8);
      entry.ntpFraction = body.readUInt32BE(12);
      entry.rtpTimestamp = body.readUInt32BE(16);
      entry.packetCount = body.readUInt32BE(20);
      entry.octetCount = body.readUInt32BE(24);
      entry.reports = parseReportBlocks(body, 28, fmt);
    } else if (pt === 201) {
      entry.type = 'rr';
      entry.reports = parseReportBlocks(body, 8, fmt);
    } else if (pt === 202) {
      entry.type = 'sdes';
      entry.chunks = parseSdes(body, fmt);
    } else if (pt === 205 && fmt === 1 && length >= 12) {
      entry.type = 'nack';
      entry.mediaSsrc = body.readUInt32BE(8);
      entry.seqs = [];
      for (let o = 12; o + 4 <= length; o += 4) {
        const pid = body.readUInt16BE(o);
        const blp = body.readUInt16BE(o + 2);
        entry.seqs.push(pid);
        for (let i = 0; i < 16; i++) {
          if (blp & (1 << i)) entry.seqs.push((pid + i + 1) & 0xffff);
        }
      }
    } else if (pt === 206 && fmt === 1 && length >= 12) {
      entry.type = 'pli';
      entry.mediaSsrc = body.readUInt32BE(8);
    } else if (pt === 206 && fmt === 4 && length >= 12) {
      entry.type = 'fir';
      entry.mediaSsrc = body.readUInt32BE(8);
      entry.entries = [];
      for (let o = 12; o + 8 <= length; o += 8) {
        entry.entries.push({ ssrc: body.readUInt32BE(o), seq: body[o + 4] });
      }
    }
    out.push(entry);
    offset += length;
  }
  return out;
}

function parseReportBlocks(body, offset, count) {
  const reports = [];
  for (let i = 0; i < count && offset + 24 <= body.length; i++, offset += 24) {
    reports.push({
      ssrc: body.readUInt32BE(offset),
      fractionLost: body[offset + 4],
      highestSeq: body.readUInt32BE(offset + 8),
    });
  }
  return reports;
}

function parseSdes(body, count) {
  const chunks = [];
  let offset = 4;
  for (let i = 0; i < count && offset + 4 <= body.length; i++) {
    const chunk = { ssrc: body.readUInt32BE(offset), items: {} };
    offset += 4;
    while (offset < body.length && body[offset] !== 0) {
      const type = body[offset];
      const len = body[offset + 1];
      chunk.items[type] = body.subarray(offset + 2, offset + 2 + len).toString();
      offset += 2 + len;
    }
    offset = (offset + 4) & ~3; // the null item, then padding to 32 bits
    chunks.push(chunk);
  }
  return chunks;
}

/**
 * A Generic NACK (RFC 4585 §6.2.1: PT=205, FMT=1) for `seqs` of mediaSsrc,
 * packed into PID + BLP items.
 */
function rtcpNack(senderSsrc, mediaSsrc, seqs) {
  const sorted = [...new Set(seqs.map((s) => s & 0xffff))].sort((a, b) => a - b);
  const items = [];
  for (const seq of sorted) {
    const last = items[items.length - 1];
    const diff = last ? (seq - last.pid) & 0xffff : 0;
    if (last && diff >= 1 && diff <= 16) last.blp |= 1 << (diff - 1);
    else items.push({ pid: seq, blp: 0 });
  }
  const buf = Buffer.alloc(12 + 4 * items.length);
  buf[0] = 0x80 | 1;
  buf[1] = 205;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  items.forEach((item, i) => {
    buf.writeUInt16BE(item.pid, 12 + 4 * i);
    buf.writeUInt16BE(item.blp, 14 + 4 * i);
  });
  return buf;
}

/** A Picture Loss Indication (RFC 4585 §6.3.1: PT=206, FMT=1). */
function rtcpPli(senderSsrc, mediaSsrc) {
  const buf = Buffer.alloc(12);
  buf[0] = 0x80 | 1;
  buf[1] = 206;
  buf.writeUInt16BE(2, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  return buf;
}

/** A receiver report (PT=201) with no report blocks. */
function rtcpEmptyRr(senderSsrc) {
  const buf = Buffer.alloc(8);
  buf[0] = 0x80;
  buf[1] = 201;
  buf.writeUInt16BE(1, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  return buf;
}

/** An RTX packet (RFC 4588): the original sequence number, then the payload. */
function rtxPacket({
  payloadType, seq, ssrc, original,
}) {
  const osn = Buffer.alloc(2);
  osn.writeUInt16BE(original.seq, 0);
  return rtpPacket({
    payloadType,
    seq,
    timestamp: original.timestamp,
    ssrc,
    marker: original.marker,
    payload: Buffer.concat([osn, original.payload]),
  });
}

/**
 * Generates a synthetic VP8 stream: `packetsPerFrame` packets a frame, the
 * first frame (and any after requestKeyFrame()) a key frame, marker on each
 * frame's last packet; every packet is kept (by sequence number) for
 * retransmission.
 */
class Vp8Stream {
  constructor({
    ssrc, payloadType, firstSeq = 1000, firstTimestamp = 90000, packetsPerFrame = 3, frameTicks = 1800, size = 100,
  }) {
    this.ssrc = ssrc;
    this.payloadType = payloadType;
    this.seq = firstSeq;
    this.timestamp = firstTimestamp;
    this.packetsPerFrame = packetsPerFrame;
    this.frameTicks = frameTicks;
    this.size = size;
    this.index = 0;
    this.keyFrameNext = true;
    this.keyFrameIndices = [];
    this.sent = new Map(); // seq → {seq, timestamp, marker, payload, index, keyFrame}
  }

  requestKeyFrame() {
    this.keyFrameNext = true;
  }

  /** The packets of the next frame, as {packet (Buffer), info}. */
  nextFrame() {
    const keyFrame = this.keyFrameNext;
    this.keyFrameNext = false;
    const out = [];
    for (let i = 0; i < this.packetsPerFrame; i++) {
      const info = {
        seq: this.seq & 0xffff,
        timestamp: this.timestamp,
        marker: i === this.packetsPerFrame - 1,
        index: this.index,
        keyFrame: keyFrame && i === 0,
        payload: vp8Payload({
          index: this.index, start: i === 0, keyFrame, size: this.size,
        }),
      };
      if (info.keyFrame) this.keyFrameIndices.push(info.index);
      this.sent.set(info.seq, info);
      out.push({
        packet: rtpPacket({
          payloadType: this.payloadType,
          seq: info.seq,
          timestamp: info.timestamp,
          ssrc: this.ssrc,
          marker: info.marker,
          payload: info.payload,
        }),
        info,
      });
      this.seq++;
      this.index++;
    }
    this.timestamp += this.frameTicks;
    return out;
  }
}

module.exports = {
  rtpPacket,
  isRtcp,
  parseRtp,
  vp8Payload,
  vp8PayloadIndex,
  vp8PayloadIsKeyFrame,
  parseRtcp,
  rtcpNack,
  rtcpPli,
  rtcpEmptyRr,
  rtxPacket,
  Vp8Stream,
};
