'use strict';

// Helpers for the suites that exchange media with a real ffmpeg: finding the
// program (skip, or fail under CI=true, when it is missing), running it,
// waiting for its sockets, writing receive SDPs and reading its frame hashes.
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

let cachedPath;

/** The ffmpeg executable ($FFMPEG, then $PATH, then /usr/bin), or null. */
function ffmpegPath() {
  if (cachedPath !== undefined) return cachedPath;
  const candidates = [];
  if (process.env.FFMPEG) candidates.push(process.env.FFMPEG);
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir) candidates.push(path.join(dir, 'ffmpeg'));
  }
  candidates.push('/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg');
  cachedPath = null;
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) {
        cachedPath = candidate;
        break;
      }
    } catch (error) {
      // Not there.
    }
  }
  return cachedPath;
}

/**
 * Call at the top of a test (or a before hook) with mocha's `this`: skips
 * when ffmpeg is missing, except under CI=true where that is a failure.
 */
function requireFfmpeg(ctx) {
  if (ffmpegPath()) return ffmpegPath();
  if (process.env.CI === 'true') {
    throw new Error('ffmpeg is required under CI=true but was not found (install the Debian "ffmpeg" package)');
  }
  // eslint-disable-next-line no-console
  console.log('      (skipped: ffmpeg not found; install it or set $FFMPEG)');
  ctx.skip();
  return null;
}

/**
 * Runs ffmpeg with `args`. Returns {child, args, stdout(), stderr(), exited
 * (promise of {code, signal}), stop(ms)}. stop() sends SIGINT (ffmpeg then
 * flushes its outputs and exits), SIGKILL after `ms`.
 */
function runFfmpeg(args) {
  const fullArgs = ['-hide_banner', '-nostdin', '-y', ...args];
  const child = spawn(ffmpegPath(), fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    // Keep the tail only: the progress lines of a long run add up.
    if (stderr.length > 200000) stderr = stderr.slice(-100000);
  });
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.on('error', (error) => {
      exitInfo = { code: -1, signal: null, error };
      resolve(exitInfo);
    });
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  async function stop(ms = 3000) {
    if (exitInfo) return exitInfo;
    // The first SIGINT ends ffmpeg's main loop, but a demuxer blocked on a
    // silent socket only gives up on the second (ffmpeg's interrupt callback
    // fires once more signals came than the one it expects).
    child.kill('SIGINT');
    const again = setTimeout(() => {
      if (!exitInfo) child.kill('SIGINT');
    }, 200);
    const timer = setTimeout(() => {
      if (!exitInfo) child.kill('SIGKILL');
    }, ms);
    const info = await exited;
    clearTimeout(again);
    clearTimeout(timer);
    return info;
  }
  return {
    child,
    args: fullArgs,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop,
    get running() {
      return exitInfo === undefined;
    },
  };
}

/** Whether the UDP port can be bound on ip right now (resolves to a boolean). */
function udpPortFree(port, ip = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, ip, () => socket.close(() => resolve(true)));
  });
}

/**
 * An even UDP port P such that P and P + 1 are both free on loopback (an
 * ffmpeg SDP receiver binds P for RTP and P + 1 for RTCP).
 */
async function freeUdpPortPair() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 10000);
    if ((await udpPortFree(port)) && (await udpPortFree(port + 1))) return port;
  }
  throw new Error('no free UDP port pair found');
}

/**
 * Resolves once something has bound the UDP port (binding it ourselves then
 * fails); rejects after `ms`, or as soon as `proc` (a runFfmpeg result) exits.
 */
async function waitUdpPortBound(port, proc, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    // ffmpeg binds the wildcard address: a loopback bind then fails too.
    if (!(await udpPortFree(port)) || !(await udpPortFree(port, '0.0.0.0'))) return;
    if (proc && !proc.running) {
      throw new Error(`ffmpeg exited before binding port ${port}:\n${proc.stderr().slice(-3000)}`);
    }
    if (Date.now() > deadline) throw new Error(`timeout waiting for UDP port ${port} to be bound`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A receive SDP for ffmpeg's sdp demuxer, one m-line per entry of `media`:
 * {kind, port, rtpParameters (a consumer's), srtpKeyBase64?}. Only the media
 * codec (the first non-RTX one) is listed: ffmpeg sends no NACKs, so the
 * consumer never retransmits.
 */
function receiveSdp(media) {
  const lines = [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=gosfu-test',
    'c=IN IP4 127.0.0.1',
    't=0 0',
  ];
  for (const m of media) {
    const codec = m.rtpParameters.codecs.find((c) => !/\/rtx$/i.test(c.mimeType));
    const [, name] = codec.mimeType.split('/');
    const profile = m.srtpKeyBase64 ? 'RTP/SAVP' : 'RTP/AVP';
    lines.push(`m=${m.kind} ${m.port} ${profile} ${codec.payloadType}`);
    let rtpmap = `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}`;
    if (codec.channels && codec.channels > 1) rtpmap += `/${codec.channels}`;
    lines.push(rtpmap);
    const fmtp = Object.entries(codec.parameters || {}).map(([k, v]) => `${k}=${v}`).join(';');
    if (fmtp) lines.push(`a=fmtp:${codec.payloadType} ${fmtp}`);
    if (m.srtpKeyBase64) lines.push(`a=crypto:1 ${m.cryptoSuite || 'AES_CM_128_HMAC_SHA1_80'} inline:${m.srtpKeyBase64}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Parses the output of ffmpeg's framecrc/framemd5 muxers: per output stream
 * index, the number of decoded frames and the sum of their durations (for
 * audio: samples, as the audio time base is 1/sample_rate).
 */
function parseFrameHashes(text) {
  const streams = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 6) continue;
    const index = Number(fields[0]);
    const duration = Number(fields[3]);
    if (!Number.isInteger(index)) continue;
    const s = streams.get(index) || { frames: 0, duration: 0, sizes: new Set() };
    s.frames++;
    if (Number.isFinite(duration)) s.duration += duration;
    s.sizes.add(Number(fields[4]));
    streams.set(index, s);
  }
  return streams;
}

/** The `#tb`/`#codec_id` style header of a framecrc/framemd5 output, by stream index. */
function parseFrameHashHeader(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = /^#(\w+) (\d+): (.*)$/.exec(line);
    if (!m) continue;
    const entry = out.get(Number(m[2])) || {};
    entry[m[1]] = m[3].trim();
    out.set(Number(m[2]), entry);
  }
  return out;
}

module.exports = {
  ffmpegPath,
  requireFfmpeg,
  runFfmpeg,
  udpPortFree,
  freeUdpPortPair,
  waitUdpPortBound,
  receiveSdp,
  parseFrameHashes,
  parseFrameHashHeader,
};
