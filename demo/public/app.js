'use strict';

// The gosfu room page: joins the room through the WebSocket on /ws,
// publishes camera (simulcast: three encodings) and microphone, shows every
// participant in a grid sized to the window, and chats over DataChannels (one
// DataProducer labelled 'chat' on the send transport; a DataConsumer of
// every other participant's on the receive transport).
//
// What an SFU evaluator wants to see is drawn on top:
// - each tile's live figures, from the browser's getStats() of that
//   consumer's receiver (bitrate, resolution, frames/s, loss, RTT) and from
//   the server (the simulcast/SVC layer it forwards, 'layerschange'), with a
//   control to choose the layer (consumer.setPreferredLayers on the server);
// - the dominant speaker's tile highlighted (the server's
//   ActiveSpeakerObserver);
// - the server's view (/api/stats: getStats() of every transport, producer
//   and consumer) in a panel, with the SFU's bitrate over time.
//
// URL parameters: name, res (capture height: 360, 540, 720 (default), 1080),
// fps (default 30), codec (vp8 (default, simulcast), h264 (simulcast), vp9
// (SVC L3T3_KEY)), stats=0 and figures=0 start with those hidden.
//
// Bundled with mediasoup-client by esbuild (demo/bundle.js's options) and
// served as /app.js: by demo/server.js at start-up in the repository, at npm
// pack (demo/dist/app.js) for an installed package. No build step for the
// user, nothing fetched from the internet.

const mediasoupClient = require('mediasoup-client');

const $ = (id) => document.getElementById(id);

/** Request/response and notifications over one WebSocket (JSON). */
class Signalling {
  constructor(url) {
    this.socket = new WebSocket(url);
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener('open', () => resolve(), { once: true });
      this.socket.addEventListener('error', () => reject(new Error('WebSocket error')), { once: true });
    });
    this.socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.response) {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.ok) pending.resolve(message.data);
        else pending.reject(new Error(message.error));
      } else if (message.notification) {
        const handler = this.handlers.get(message.method);
        if (handler) {
          Promise.resolve()
            .then(() => handler(message.data))
            .catch((error) => console.error(`notification ${message.method} failed:`, error));
        }
      }
    });
    this.socket.addEventListener('close', () => {
      for (const pending of this.pending.values()) pending.reject(new Error('signalling closed'));
      this.pending.clear();
      if (this.onclose) this.onclose();
    });
  }

  request(method, data) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ request: true, id, method, data }));
    });
  }

  on(method, handler) {
    this.handlers.set(method, handler);
  }
}


const params = new URLSearchParams(window.location.search);

/** What the camera is asked for, and how it is sent. */
const media = (() => {
  const height = [360, 540, 720, 1080].includes(Number(params.get('res'))) ? Number(params.get('res')) : 720;
  const fps = Math.min(Math.max(Number(params.get('fps')) || 30, 5), 60);
  const codec = ['vp8', 'vp9', 'h264'].includes(params.get('codec')) ? params.get('codec') : 'vp8';
  return {
    width: Math.round((height * 16) / 9), height, fps, codec,
  };
})();

// Simulcast as mediasoup's demo sends it: three encodings of the camera at
// 1/4, 1/2 and full size (Chromium drops the top ones of small captures:
// two layers at 360p), each with three temporal layers.
const SIMULCAST_ENCODINGS = [
  { scaleResolutionDownBy: 4, maxBitrate: 150000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 2, maxBitrate: 500000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 1, maxBitrate: 1500000, scalabilityMode: 'L1T3' },
];
const SVC_ENCODINGS = [{ scalabilityMode: 'L3T3_KEY', maxBitrate: 1500000 }];

const state = {
  peerId: undefined,
  displayName: undefined,
  peers: new Map(), // peerId -> { id, displayName, tile, video, audio, figuresEl, layerControl, consumers: Map, figures, sample }
  consumers: new Map(), // consumerId -> { consumer, peerId }
  // What the server says of each of our consumers (it may say it before
  // recvTransport.consume() resolves here): consumerId -> { type,
  // spatialLayers, temporalLayers, currentLayers, preferredLayers, score }.
  serverConsumers: new Map(),
  producers: {}, // kind -> Producer
  local: { figures: undefined, sample: undefined },
  dominantPeerId: undefined,
  dominantSpeakerEvents: 0, // 'dominantspeaker' notifications received
  chat: {
    dataProducer: undefined, // ours, label 'chat'
    dataConsumers: new Map(), // dataConsumerId -> { dataConsumer, peerId }
    messages: [], // { from, text, self, time }
  },
  serverStats: undefined, // the last /api/stats snapshot
  grid: { cols: 1, tileW: 0, tileH: 0 },
  joined: false,
  error: undefined,
  signalling: undefined,
};

/** Creates an element: el('td', { className: 'num' }, 'text', child…). */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined) continue;
      if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** Bits per second, short: 850 kb/s, 1.24 Mb/s. */
function fmtBitrate(bps) {
  if (bps === undefined || bps === null || Number.isNaN(bps)) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 1 : 2)} Mb/s`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)} kb/s`;
  return `${Math.round(bps)} b/s`;
}

/** Axis labels: 500k, 1.5M. */
function fmtAxis(bps) {
  if (bps >= 1e6) return `${Number((bps / 1e6).toFixed(1))}M`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)}k`;
  return `${bps}`;
}

function fmtMs(seconds) {
  if (seconds === undefined || seconds === null) return '–';
  return `${Math.round(seconds * 1000)} ms`;
}

/** The server's RTTs (ms, from RTCP): 0.9 ms, 23 ms. */
function fmtRttMs(ms) {
  if (typeof ms !== 'number' || ms <= 0) return '–';
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

function fmtLayers(layers) {
  if (!layers || layers.spatialLayer === undefined || layers.spatialLayer === null) return '–';
  const t = layers.temporalLayer === undefined || layers.temporalLayer === null ? '' : ` T${layers.temporalLayer}`;
  return `S${layers.spatialLayer}${t}`;
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind || ''}`;
}

// ---------------------------------------------------------------------------
// The grid: tiles of 16:9 as large as the stage allows for their number. A
// CSS grid of half-columns, each tile spanning two, so that a last row that
// is not full is centred.

const TILE_ASPECT = 16 / 9;
const GRID_GAP = 10;
const GRID_PADDING = 10;
const MIN_TILE_WIDTH = 200;

function layoutGrid() {
  const grid = $('grid');
  const n = grid.querySelectorAll('.tile').length || 1;
  const width = grid.clientWidth - 2 * GRID_PADDING;
  const height = grid.clientHeight - 2 * GRID_PADDING;
  if (width <= 0 || height <= 0) return;
  let best = { cols: 1, w: 0, h: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    let w = (width - GRID_GAP * (cols - 1)) / cols;
    let h = (height - GRID_GAP * (rows - 1)) / rows;
    if (w / h > TILE_ASPECT) w = h * TILE_ASPECT;
    else h = w / TILE_ASPECT;
    if (w > best.w) best = { cols, w, h };
  }
  // Too many for the window: keep them legible and let the grid scroll.
  if (best.w < MIN_TILE_WIDTH) {
    const cols = Math.max(1, Math.floor((width + GRID_GAP) / (MIN_TILE_WIDTH + GRID_GAP)));
    best = { cols, w: MIN_TILE_WIDTH, h: MIN_TILE_WIDTH / TILE_ASPECT };
  }
  const tileW = Math.floor(best.w);
  grid.style.setProperty('--half-cols', String(2 * best.cols));
  grid.style.setProperty('--half-w', `${(tileW - GRID_GAP) / 2}px`);
  grid.style.setProperty('--tile-h', `${Math.floor(best.h)}px`);
  const tiles = [...grid.querySelectorAll('.tile')];
  const inLastRow = tiles.length % best.cols;
  tiles.forEach((tile, i) => {
    const first = inLastRow && i === tiles.length - inLastRow;
    tile.style.gridColumn = first ? `${best.cols - inLastRow + 1} / span 2` : '';
  });
  state.grid = { cols: best.cols, tileW, tileH: Math.floor(best.h) };
}

// ---------------------------------------------------------------------------
// Participants and their tiles.

function renderParticipants() {
  const list = $('participants');
  list.textContent = '';
  const me = el('li', { className: 'me' }, state.displayName);
  me.classList.toggle('speaker', state.peerId !== undefined && state.dominantPeerId === state.peerId);
  list.appendChild(me);
  for (const peer of state.peers.values()) {
    const li = el('li', { dataset: { peerId: peer.id } }, peer.displayName);
    li.classList.toggle('speaker', state.dominantPeerId === peer.id);
    list.appendChild(li);
  }
  $('count').textContent = `(${state.peers.size + 1})`;
  $('alone-hint').hidden = !state.joined || state.peers.size > 0;
}

function showDominantSpeaker() {
  $('local-tile').classList.toggle('speaker', state.peerId !== undefined && state.dominantPeerId === state.peerId);
  for (const peer of state.peers.values()) peer.tile.classList.toggle('speaker', state.dominantPeerId === peer.id);
  renderParticipants();
}

function addPeer({ id, displayName }) {
  if (state.peers.has(id)) return state.peers.get(id);
  const video = el('video', { autoplay: true, playsInline: true, muted: true }); // sound: the <audio>
  const audio = el('audio', { autoplay: true });
  const figuresEl = el('div', { className: 'figures' });
  const caption = el('figcaption', null, displayName);
  const tile = el('figure', { className: 'tile remote', dataset: { peerId: id } }, video, audio, figuresEl, caption);
  $('grid').appendChild(tile);
  const peer = {
    id,
    displayName,
    tile,
    video,
    audio,
    caption,
    figuresEl,
    layerControl: undefined,
    consumers: new Map(),
    figures: undefined,
    sample: undefined,
  };
  state.peers.set(id, peer);
  tile.classList.toggle('speaker', state.dominantPeerId === id);
  renderParticipants();
  layoutGrid();
  return peer;
}

function setPeerName(peer, displayName) {
  peer.displayName = displayName;
  peer.caption.textContent = displayName;
}

function removePeer(peerId) {
  const peer = state.peers.get(peerId);
  if (!peer) return;
  for (const consumerId of peer.consumers.keys()) closeConsumer(consumerId);
  for (const [id, entry] of state.chat.dataConsumers) {
    if (entry.peerId === peerId) closeDataConsumer(id);
  }
  peer.tile.remove();
  state.peers.delete(peerId);
  if (state.dominantPeerId === peerId) state.dominantPeerId = undefined;
  renderParticipants();
  layoutGrid();
}

function attach(peer) {
  const tracks = (kind) => [...peer.consumers.values()].filter((c) => c.kind === kind).map((c) => c.track);
  const videoTracks = tracks('video');
  const audioTracks = tracks('audio');
  peer.video.srcObject = videoTracks.length ? new MediaStream(videoTracks) : null;
  peer.audio.srcObject = audioTracks.length ? new MediaStream(audioTracks) : null;
  peer.video.play().catch(() => {});
  if (audioTracks.length) {
    peer.audio.play().catch(() => {
      // Autoplay with sound needs a user gesture in some browsers.
      const button = $('enable-sound');
      button.hidden = false;
      button.onclick = () => {
        for (const p of state.peers.values()) p.audio.play().catch(() => {});
        button.hidden = true;
      };
    });
  }
}

function closeConsumer(consumerId) {
  const entry = state.consumers.get(consumerId);
  state.serverConsumers.delete(consumerId);
  if (!entry) return;
  state.consumers.delete(consumerId);
  entry.consumer.close();
  const peer = state.peers.get(entry.peerId);
  if (peer) {
    peer.consumers.delete(consumerId);
    attach(peer);
    if (entry.consumer.kind === 'video') setLayerControl(peer, undefined);
  }
}

function videoConsumerOf(peer) {
  return [...peer.consumers.values()].find((c) => c.kind === 'video');
}

// ---------------------------------------------------------------------------
// Layers: the server forwards one spatial/temporal layer of a simulcast or
// SVC producer to each consumer; the tile's control asks for another.

function layerCounts(rtpParameters) {
  const encoding = (rtpParameters.encodings || [])[0] || {};
  const { spatialLayers, temporalLayers } = mediasoupClient.parseScalabilityMode(encoding.scalabilityMode);
  return { spatialLayers, temporalLayers };
}

const LAYER_NAMES = ['low', 'mid', 'high', 'top'];

/** Shows (or removes, without a consumer) the layer control of a tile. */
function setLayerControl(peer, consumer) {
  if (peer.layerControl) {
    peer.layerControl.remove();
    peer.layerControl = undefined;
  }
  const info = consumer && state.serverConsumers.get(consumer.id);
  if (!info || info.spatialLayers < 2) return;
  const select = el('select', { className: 'layer-select', title: 'The spatial layer this page receives' });
  select.append(el('option', { value: 'auto' }, 'best'));
  for (let s = info.spatialLayers - 1; s >= 0; s--) {
    select.append(el('option', { value: String(s) }, `S${s} ${LAYER_NAMES[s] || ''}`.trim()));
  }
  select.addEventListener('change', async () => {
    const spatialLayer = select.value === 'auto' ? info.spatialLayers - 1 : Number(select.value);
    select.disabled = true;
    try {
      const answer = await state.signalling.request('setConsumerPreferredLayers', {
        consumerId: consumer.id, spatialLayer, temporalLayer: info.temporalLayers - 1,
      });
      info.preferredLayers = answer.preferredLayers;
      if (answer.currentLayers) info.currentLayers = answer.currentLayers;
    } catch (error) {
      console.error('setConsumerPreferredLayers failed:', error);
    } finally {
      select.disabled = false;
    }
  });
  peer.layerControl = el('label', { className: 'layer-control' }, 'layer', select);
  peer.tile.appendChild(peer.layerControl);
}

// ---------------------------------------------------------------------------
// Live figures: every second, from the browser's getStats() of each
// consumer's receiver (and of our producers' senders for our own tile).

/** The selected candidate pair's RTT (seconds) in a stats report. */
function candidatePairRtt(report) {
  let pairId;
  report.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  let rtt;
  report.forEach((s) => {
    if (s.type !== 'candidate-pair') return;
    if ((pairId && s.id === pairId) || (!pairId && s.nominated && s.state === 'succeeded')) {
      if (typeof s.currentRoundTripTime === 'number') rtt = s.currentRoundTripTime;
    }
  });
  return rtt;
}

async function remoteFigures(peer) {
  const now = performance.now();
  const sample = {
    at: now, videoBytes: 0, audioBytes: 0, packetsReceived: 0, packetsLost: 0, framesDecoded: 0,
  };
  const figures = {
    width: 0, height: 0, fps: 0, rtt: undefined, hasVideo: false, hasAudio: false,
  };
  for (const consumer of peer.consumers.values()) {
    if (consumer.closed) continue;
    const ssrc = consumer.rtpParameters.encodings[0].ssrc;
    const report = await consumer.getStats();
    report.forEach((s) => {
      // Only the consumer's own stream (mediasoup-style SFUs may send
      // probation packets on another SSRC).
      if (s.type !== 'inbound-rtp' || (ssrc && s.ssrc !== ssrc)) return;
      if (consumer.kind === 'video') {
        figures.hasVideo = true;
        sample.videoBytes += s.bytesReceived || 0;
        sample.packetsReceived += s.packetsReceived || 0;
        sample.packetsLost += Math.max(0, s.packetsLost || 0);
        sample.framesDecoded += s.framesDecoded || 0;
        figures.width = s.frameWidth || 0;
        figures.height = s.frameHeight || 0;
        figures.fps = s.framesPerSecond || 0;
      } else {
        figures.hasAudio = true;
        sample.audioBytes += s.bytesReceived || 0;
      }
    });
    const rtt = candidatePairRtt(report);
    if (rtt !== undefined) figures.rtt = rtt;
  }
  const prev = peer.sample;
  if (prev && now > prev.at) {
    const seconds = (now - prev.at) / 1000;
    figures.videoBitrate = Math.max(0, ((sample.videoBytes - prev.videoBytes) * 8) / seconds);
    figures.audioBitrate = Math.max(0, ((sample.audioBytes - prev.audioBytes) * 8) / seconds);
    figures.bitrate = figures.videoBitrate + figures.audioBitrate;
    const lost = Math.max(0, sample.packetsLost - prev.packetsLost);
    const received = Math.max(0, sample.packetsReceived - prev.packetsReceived);
    figures.lossPercent = lost + received > 0 ? (100 * lost) / (lost + received) : 0;
  }
  figures.packetsLost = sample.packetsLost;
  figures.framesDecoded = sample.framesDecoded;
  peer.sample = sample;
  const videoConsumer = videoConsumerOf(peer);
  const info = videoConsumer && state.serverConsumers.get(videoConsumer.id);
  if (info) {
    figures.type = info.type;
    figures.spatialLayers = info.spatialLayers;
    figures.currentLayers = info.currentLayers;
    figures.preferredLayers = info.preferredLayers;
    figures.score = info.score ? info.score.score : undefined;
  }
  figures.updatedAt = Date.now();
  peer.figures = figures;
  return figures;
}

function row(...cells) {
  return el('div', { className: 'row' }, ...cells);
}

function cell(className, ...text) {
  return el('span', { className }, ...text);
}

function renderRemoteFigures(peer) {
  const f = peer.figures;
  if (!f) return;
  const rows = [
    row(
      cell('in', `▼ ${fmtBitrate(f.bitrate)}`),
      f.hasVideo ? cell('', f.width ? `${f.width}×${f.height}` : '–×–') : cell('k', 'no video'),
      f.hasVideo ? cell('', `${Math.round(f.fps)} fps`) : undefined,
    ),
    row(
      cell(f.lossPercent > 2 ? 'warn' : '', cell('k', 'loss '),
        f.lossPercent === undefined ? '–' : `${f.lossPercent.toFixed(1)}%`),
      cell('', cell('k', 'rtt '), fmtMs(f.rtt)),
      f.score !== undefined ? cell('', cell('k', 'score '), String(f.score)) : undefined,
    ),
  ];
  if (f.type === 'simulcast' || f.type === 'svc') {
    rows.push(row(
      cell('layer', `${f.type} ${fmtLayers(f.currentLayers)}`),
      cell('k', `of ${f.spatialLayers} · pref ${fmtLayers(f.preferredLayers)}`),
    ));
  } else if (f.type) {
    rows.push(row(cell('k', `${f.type} (no layers)`)));
  }
  peer.figuresEl.replaceChildren(...rows);
}

async function localFigures() {
  const now = performance.now();
  const figures = { encodings: [], rtt: undefined };
  const sample = { at: now, bytes: 0 };
  for (const producer of Object.values(state.producers)) {
    if (producer.closed) continue;
    const report = await producer.getStats();
    report.forEach((s) => {
      if (s.type !== 'outbound-rtp') return;
      sample.bytes += s.bytesSent || 0;
      if (producer.kind === 'video') {
        figures.encodings.push({
          rid: s.rid,
          width: s.frameWidth || 0,
          height: s.frameHeight || 0,
          fps: s.framesPerSecond || 0,
          active: s.active !== false && (s.frameWidth || 0) > 0,
          limitation: s.qualityLimitationReason,
        });
      }
    });
    const rtt = candidatePairRtt(report);
    if (rtt !== undefined) figures.rtt = rtt;
  }
  const prev = state.local.sample;
  if (prev && now > prev.at) figures.bitrate = Math.max(0, ((sample.bytes - prev.bytes) * 8) / ((now - prev.at) / 1000));
  state.local.sample = sample;
  figures.encodings.sort((a, b) => String(a.rid).localeCompare(String(b.rid)));
  state.local.figures = figures;
  return figures;
}

function renderLocalFigures() {
  const f = state.local.figures;
  if (!f) return;
  const active = f.encodings.filter((e) => e.active);
  const top = active[active.length - 1];
  const limitation = f.encodings.map((e) => e.limitation).find((l) => l && l !== 'none');
  const rows = [
    row(
      cell('out', `▲ ${fmtBitrate(f.bitrate)}`),
      top ? cell('', `${top.width}×${top.height}`) : undefined,
      top ? cell('', `${Math.round(top.fps)} fps`) : undefined,
    ),
  ];
  if (f.encodings.length > 1) {
    const heights = active.map((e) => `${e.height}p`).join(' · ');
    rows.push(row(cell('layer', `${media.codec} simulcast`), cell('k', heights || 'starting')));
  } else if (f.encodings.length === 1) {
    rows.push(row(cell('layer', `${media.codec}${media.codec === 'vp9' ? ' SVC L3T3' : ''}`)));
  }
  rows.push(row(
    cell('', cell('k', 'rtt '), fmtMs(f.rtt)),
    limitation ? cell('warn', `limited: ${limitation}`) : undefined,
  ));
  $('local-figures').replaceChildren(...rows);
}

async function updateFigures() {
  for (const peer of [...state.peers.values()]) {
    try {
      await remoteFigures(peer);
      renderRemoteFigures(peer);
    } catch (error) {
      // A consumer closed while its stats were read: next round.
    }
  }
  try {
    await localFigures();
    renderLocalFigures();
  } catch (error) {
    // idem
  }
}

// ---------------------------------------------------------------------------
// The server's view: /api/stats polled every second while the panel shows.

const CHART_WINDOW_MS = 120000;

/** Round grid lines (2 to 5 of them) that cover `value` (at least 100 kb/s). */
function niceScale(value) {
  const v = Math.max(value, 100000);
  const magnitude = 10 ** Math.floor(Math.log10(v / 5));
  for (const m of [1, 2, 2.5, 5, 10, 20]) {
    const step = m * magnitude;
    const lines = Math.ceil(v / step);
    if (lines <= 5) return { step, lines: Math.max(lines, 2) };
  }
  return { step: v / 4, lines: 4 };
}

/** The SFU's total bitrate in and out over the last two minutes (inline SVG). */
function renderChart(snapshot) {
  const chart = $('stats-chart');
  const width = Math.max(chart.clientWidth, 100);
  const height = Math.max(chart.clientHeight, 60);
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const left = 38;
  const right = 6;
  const top = 8;
  const bottom = 16;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const { history } = snapshot;
  const end = snapshot.time;
  // Two minutes, or less (in steps of 30 s) while the history is shorter.
  const span = history.length ? end - history[0].t : 0;
  const windowMs = Math.min(CHART_WINDOW_MS, Math.max(30000, Math.ceil(span / 30000) * 30000));
  const start = end - windowMs;
  const points = history.filter((p) => p.t >= start);
  const { step, lines } = niceScale(Math.max(0, ...points.map((p) => Math.max(p.recv, p.send))) * 1.05);
  const max = lines * step;
  const x = (t) => left + ((t - start) / windowMs) * plotW;
  const y = (v) => top + plotH - (v / max) * plotH;
  const nodes = [];
  for (let i = 0; i <= lines; i++) {
    const v = step * i;
    nodes.push(svg('line', {
      class: 'grid-line', x1: left, x2: width - right, y1: y(v), y2: y(v),
    }));
    nodes.push(svg('text', {
      class: 'axis-label', x: left - 4, y: y(v) + 3, 'text-anchor': 'end',
    }, fmtAxis(v)));
  }
  const ago = (ms) => (ms >= 60000 && ms % 60000 === 0 ? `−${ms / 60000} min` : `−${ms / 1000} s`);
  for (const [label, t] of [[ago(windowMs), start], [ago(windowMs / 2), start + windowMs / 2], ['now', end]]) {
    let anchor = 'middle';
    if (t === start) anchor = 'start';
    else if (t === end) anchor = 'end';
    nodes.push(svg('text', {
      class: 'axis-label', x: x(t), y: height - 4, 'text-anchor': anchor,
    }, label));
  }
  for (const key of ['recv', 'send']) {
    const coords = points.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`);
    if (coords.length >= 2) {
      const base = y(0).toFixed(1);
      const area = [`${x(points[0].t).toFixed(1)},${base}`, ...coords, `${x(points[points.length - 1].t).toFixed(1)},${base}`];
      nodes.push(svg('polygon', { class: key, points: area.join(' ') }));
    }
    nodes.push(svg('polyline', { class: key, points: coords.join(' '), 'data-count': String(coords.length) }));
  }
  chart.replaceChildren(...nodes);
  $('legend-recv').textContent = fmtBitrate(snapshot.totals.recvBitrate);
  $('legend-send').textContent = fmtBitrate(snapshot.totals.sendBitrate);
}

function sparkline(values, width = 64, height = 14) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  return svg('svg', {
    class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`,
  }, svg('polyline', { points: points.join(' ') }));
}

function stateCell(value, good) {
  if (!value) return el('td', null, '–');
  let className = '';
  if (good.includes(value)) className = 'state-ok';
  else if (['failed', 'disconnected', 'closed'].includes(value)) className = 'state-bad';
  return el('td', { className }, value);
}

function table(caption, headings, rows) {
  return el(
    'table',
    null,
    el('caption', null, caption),
    el('thead', null, el('tr', null, ...headings.map(([text, num]) => el('th', { className: num ? 'num' : '' }, text)))),
    el('tbody', null, ...rows),
  );
}

function renderStatsTables(snapshot) {
  const nameOf = (peer) => (peer.id === state.peerId ? `${peer.displayName} (you)` : peer.displayName);
  const transports = [];
  const producers = [];
  const consumers = [];
  for (const peer of snapshot.peers) {
    const mine = peer.id === state.peerId ? 'mine' : '';
    for (const t of peer.transports) {
      transports.push(el(
        'tr',
        { className: mine, dataset: { kind: 'transport', id: t.id, bitrate: String(t.recvBitrate + t.sendBitrate) } },
        el('td', null, nameOf(peer)),
        el('td', null, t.direction),
        stateCell(t.iceState, ['connected', 'completed']),
        stateCell(t.dtlsState, ['connected']),
        el('td', null, t.tuple || '–'),
        el('td', { className: 'num' }, fmtBitrate(t.recvBitrate)),
        el('td', { className: 'num' }, fmtBitrate(t.sendBitrate)),
        el('td', { className: 'num' }, t.direction === 'recv' ? fmtBitrate(t.availableOutgoingBitrate) : ''),
        el('td', null, sparkline(t.history || [])),
      ));
    }
    for (const p of peer.producers) {
      const streams = p.streams.length > 1
        ? p.streams.map((s) => `${s.rid || s.ssrc} ${fmtAxis(s.bitrate)}`).join(' · ')
        : `${p.streams.length} stream`;
      const scores = p.streams.map((s) => (s.score === undefined ? '–' : s.score)).join('/');
      producers.push(el(
        'tr',
        { className: mine, dataset: { kind: 'producer', id: p.id, bitrate: String(p.bitrate) } },
        el('td', null, nameOf(peer)),
        el('td', null, p.kind),
        el('td', null, p.paused ? `${p.type} (paused)` : p.type),
        el('td', null, streams),
        el('td', { className: 'num' }, scores),
        el('td', { className: 'num' }, fmtBitrate(p.bitrate)),
      ));
    }
    for (const c of peer.consumers) {
      let layers = '';
      if (c.type === 'simulcast' || c.type === 'svc') layers = `${fmtLayers(c.currentLayers)} / ${fmtLayers(c.preferredLayers)}`;
      consumers.push(el(
        'tr',
        { className: mine, dataset: { kind: 'consumer', id: c.id, bitrate: String(c.bitrate) } },
        el('td', null, nameOf(peer)),
        el('td', null, c.producerPeerName || '…'),
        el('td', null, c.kind),
        el('td', null, c.paused || c.producerPaused ? `${c.type} (paused)` : c.type),
        el('td', null, layers),
        el('td', { className: 'num' }, c.score ? `${c.score.score}/${c.score.producerScore}` : '–'),
        el('td', { className: 'num' }, fmtRttMs(c.roundTripTime)),
        el('td', { className: 'num' }, fmtBitrate(c.bitrate)),
      ));
    }
  }
  $('stats-tables').replaceChildren(
    table('Transports', [['peer'], ['dir'], ['ICE'], ['DTLS'], ['tuple'], ['in', 1], ['out', 1], ['est. out', 1], ['']],
      transports),
    table('Producers', [['peer'], ['kind'], ['type'], ['streams'], ['score', 1], ['bitrate', 1]], producers),
    table('Consumers', [['subscriber'], ['publisher'], ['kind'], ['type'], ['layer / pref'], ['score', 1], ['rtt', 1],
      ['bitrate', 1]], consumers),
  );
}

function renderStatsSummary(snapshot) {
  const { totals } = snapshot;
  const item = (label, value) => el('span', null, `${label} `, el('b', null, value));
  const parts = [
    item('peers', totals.peers),
    item('transports', totals.transports),
    item('producers', totals.producers),
    item('consumers', totals.consumers),
    item('SFU process CPU', `${snapshot.process.cpuPercent}%`),
    item('RSS', `${snapshot.process.rssMB} MB`),
  ];
  const nodes = [];
  parts.forEach((part, i) => {
    if (i) nodes.push(' · ');
    nodes.push(part);
  });
  $('stats-summary').replaceChildren(...nodes);
}

async function updateServerStats() {
  const response = await fetch('/api/stats', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/api/stats: ${response.status}`);
  const snapshot = await response.json();
  state.serverStats = snapshot;
  renderStatsSummary(snapshot);
  renderChart(snapshot);
  renderStatsTables(snapshot);
}

function statsPanelShown() {
  return !$('stats-panel').hidden;
}

/** One round of figures and server stats a second, never two at once. */
function startTicker() {
  const tick = async () => {
    await updateFigures();
    if (statsPanelShown()) {
      try {
        await updateServerStats();
      } catch (error) {
        $('stats-summary').textContent = `server stats unavailable: ${error.message}`;
      }
    }
    setTimeout(tick, 1000);
  };
  tick();
}

function setupViewToggles() {
  const bind = (id, apply, initial) => {
    const button = $(id);
    const set = (on) => {
      button.setAttribute('aria-pressed', String(on));
      apply(on);
    };
    set(initial);
    button.addEventListener('click', () => set(button.getAttribute('aria-pressed') !== 'true'));
  };
  bind('toggle-stats', (on) => {
    $('stats-panel').hidden = !on;
    layoutGrid();
    if (on && state.serverStats) renderChart(state.serverStats);
  }, params.get('stats') !== '0');
  bind('toggle-figures', (on) => document.body.classList.toggle('no-figures', !on), params.get('figures') !== '0');
}

// ---------------------------------------------------------------------------
// Chat over DataChannels.

/** The longest chat message sent (characters); the transports allow 262144 bytes. */
const CHAT_MAX_LENGTH = 2000;

function displayNameOf(peerId) {
  const peer = state.peers.get(peerId);
  return peer ? peer.displayName : '…';
}

function addChatMessage({ from, text, self = false }) {
  const message = {
    from, text, self, time: Date.now(),
  };
  state.chat.messages.push(message);
  const list = $('chat-messages');
  const li = document.createElement('li');
  li.className = self ? 'self' : '';
  const fromEl = document.createElement('span');
  fromEl.className = 'from';
  fromEl.textContent = from;
  const textEl = document.createElement('span');
  textEl.className = 'text';
  textEl.textContent = text;
  li.append(fromEl, textEl);
  list.appendChild(li);
  list.scrollTop = list.scrollHeight;
}

function closeDataConsumer(dataConsumerId) {
  const entry = state.chat.dataConsumers.get(dataConsumerId);
  if (!entry) return;
  state.chat.dataConsumers.delete(dataConsumerId);
  entry.dataConsumer.close();
}

/** Our chat DataProducer; the text box is enabled once its DataChannel is open. */
async function setupChat(sendTransport) {
  const input = $('chat-input');
  const button = $('chat-send');
  const dataProducer = await sendTransport.produceData({ ordered: true, label: 'chat', protocol: 'text' });
  state.chat.dataProducer = dataProducer;
  const enable = (on) => {
    input.disabled = !on;
    button.disabled = !on;
  };
  dataProducer.on('open', () => enable(true));
  dataProducer.on('close', () => enable(false));
  dataProducer.on('transportclose', () => enable(false));
  if (dataProducer.readyState === 'open') enable(true);
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim().slice(0, CHAT_MAX_LENGTH);
    if (!text || dataProducer.closed || dataProducer.readyState !== 'open') return;
    dataProducer.send(text);
    addChatMessage({ from: state.displayName, text, self: true });
    input.value = '';
    input.focus();
  });
}

// ---------------------------------------------------------------------------
// Joining, publishing, consuming.

async function main() {
  state.displayName = params.get('name') || `guest-${Math.floor(Math.random() * 9000) + 1000}`;
  $('local-name').textContent = `${state.displayName} (you)`;
  renderParticipants();
  setupViewToggles();
  new ResizeObserver(() => layoutGrid()).observe($('grid'));
  layoutGrid();
  // Never let the chat form navigate (its real handler comes with the chat).
  $('chat-form').addEventListener('submit', (event) => event.preventDefault());

  const wsUrl = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/ws`;
  const signalling = new Signalling(wsUrl);
  state.signalling = signalling;
  signalling.onclose = () => setStatus('disconnected', 'error');
  await signalling.opened;
  setStatus('connected, joining…');

  const routerRtpCapabilities = await signalling.request('getRouterRtpCapabilities');
  const { Device } = mediasoupClient;
  const device = typeof Device.factory === 'function' ? await Device.factory() : new Device();
  await device.load({ routerRtpCapabilities });

  async function createTransport(direction) {
    const info = await signalling.request('createWebRtcTransport', { direction });
    const options = {
      id: info.id,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
      sctpParameters: info.sctpParameters,
      iceServers: [],
    };
    const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      signalling.request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters })
        .then(callback, errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        signalling.request('produce', {
          transportId: transport.id, kind, rtpParameters, appData,
        }).then(callback, errback);
      });
      transport.on('producedata', ({
        sctpStreamParameters, label, protocol, appData,
      }, callback, errback) => {
        signalling.request('produceData', {
          transportId: transport.id, sctpStreamParameters, label, protocol, appData,
        }).then(callback, errback);
      });
    }
    transport.on('connectionstatechange', (connectionState) => {
      if (connectionState === 'failed') setStatus(`${direction} transport failed`, 'error');
    });
    return transport;
  }

  const sendTransport = await createTransport('send');
  const recvTransport = await createTransport('recv');

  const serverConsumer = (consumerId) => {
    let info = state.serverConsumers.get(consumerId);
    if (!info) {
      info = {
        type: undefined,
        spatialLayers: 1,
        temporalLayers: 1,
        currentLayers: undefined,
        preferredLayers: undefined,
        score: undefined,
      };
      state.serverConsumers.set(consumerId, info);
    }
    return info;
  };

  // Consumers arrive paused; resume them once they are set up here.
  signalling.on('newConsumer', async ({
    peerId, producerId, id, kind, type, rtpParameters, producerPaused, preferredLayers, currentLayers, score,
  }) => {
    const info = serverConsumer(id);
    Object.assign(info, { type, ...layerCounts(rtpParameters) });
    if (info.preferredLayers === undefined) info.preferredLayers = preferredLayers;
    if (info.currentLayers === undefined) info.currentLayers = currentLayers;
    if (info.score === undefined) info.score = score;
    const peer = state.peers.get(peerId) || addPeer({ id: peerId, displayName: '…' });
    const consumer = await recvTransport.consume({
      id, producerId, kind, rtpParameters, appData: { peerId },
    });
    state.consumers.set(consumer.id, { consumer, peerId });
    peer.consumers.set(consumer.id, consumer);
    peer.tile.classList.toggle('paused', kind === 'video' && producerPaused);
    attach(peer);
    if (kind === 'video') setLayerControl(peer, consumer);
    await signalling.request('resumeConsumer', { consumerId: consumer.id });
  });
  signalling.on('consumerClosed', ({ consumerId }) => closeConsumer(consumerId));
  signalling.on('consumerPaused', ({ consumerId }) => {
    const entry = state.consumers.get(consumerId);
    if (entry && entry.consumer.kind === 'video') {
      const peer = state.peers.get(entry.peerId);
      if (peer) peer.tile.classList.add('paused');
    }
  });
  signalling.on('consumerResumed', ({ consumerId }) => {
    const entry = state.consumers.get(consumerId);
    if (entry && entry.consumer.kind === 'video') {
      const peer = state.peers.get(entry.peerId);
      if (peer) peer.tile.classList.remove('paused');
    }
  });
  signalling.on('consumerLayersChanged', ({ consumerId, spatialLayer, temporalLayer }) => {
    const info = serverConsumer(consumerId);
    info.currentLayers = spatialLayer === null
      ? undefined
      : { spatialLayer, temporalLayer: temporalLayer === null ? undefined : temporalLayer };
    info.layersChanges = (info.layersChanges || 0) + 1;
  });
  signalling.on('consumerScore', ({ consumerId, score }) => {
    serverConsumer(consumerId).score = score;
  });
  signalling.on('dominantspeaker', ({ peerId }) => {
    state.dominantSpeakerEvents++;
    state.dominantPeerId = peerId;
    showDominantSpeaker();
  });
  // Chat: a DataConsumer of every other participant's 'chat' DataProducer.
  signalling.on('newDataConsumer', async ({
    peerId, dataProducerId, id, sctpStreamParameters, label, protocol,
  }) => {
    const dataConsumer = await recvTransport.consumeData({
      id, dataProducerId, sctpStreamParameters, label, protocol, appData: { peerId },
    });
    state.chat.dataConsumers.set(dataConsumer.id, { dataConsumer, peerId });
    dataConsumer.on('message', (data) => {
      if (typeof data !== 'string') return; // the chat is text only
      addChatMessage({ from: displayNameOf(peerId), text: data.slice(0, CHAT_MAX_LENGTH) });
    });
    dataConsumer.on('close', () => state.chat.dataConsumers.delete(dataConsumer.id));
    dataConsumer.on('transportclose', () => state.chat.dataConsumers.delete(dataConsumer.id));
  });
  signalling.on('dataConsumerClosed', ({ dataConsumerId }) => closeDataConsumer(dataConsumerId));
  signalling.on('newPeer', (info) => {
    setPeerName(addPeer(info), info.displayName);
    renderParticipants();
  });
  signalling.on('peerClosed', ({ peerId }) => removePeer(peerId));

  const joined = await signalling.request('join', {
    displayName: state.displayName,
    rtpCapabilities: device.rtpCapabilities,
  });
  state.peerId = joined.peerId;
  for (const info of joined.peers) setPeerName(addPeer(info), info.displayName);
  state.dominantPeerId = joined.dominantPeerId;
  showDominantSpeaker();
  state.joined = true;
  $('room-url').textContent = `${window.location.origin}/`;
  renderParticipants();
  setStatus('in the room', 'ok');
  startTicker();

  // The chat works without camera or microphone.
  try {
    await setupChat(sendTransport);
  } catch (error) {
    console.error('chat unavailable:', error);
    $('chat-input').placeholder = `chat unavailable: ${error.message}`;
  }

  // Publish camera and microphone.
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: media.width }, height: { ideal: media.height }, frameRate: { ideal: media.fps } },
    });
  } catch (error) {
    setStatus(`in the room (no camera/microphone: ${error.message})`, 'error');
    return;
  }
  $('local-video').srcObject = stream;
  for (const track of stream.getTracks()) {
    if (!device.canProduce(track.kind)) continue;
    const options = { track, appData: { source: track.kind } };
    if (track.kind === 'video') {
      const codec = device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === `video/${media.codec}`);
      if (codec) options.codec = codec;
      options.encodings = media.codec === 'vp9' && codec ? SVC_ENCODINGS : SIMULCAST_ENCODINGS;
      options.codecOptions = { videoGoogleStartBitrate: 1000 };
    }
    state.producers[track.kind] = await sendTransport.produce(options);
  }
  setupToggle('toggle-camera', 'video', ['Camera off', 'Camera on'], signalling);
  setupToggle('toggle-mic', 'audio', ['Mute', 'Unmute'], signalling);
}

function setupToggle(buttonId, kind, labels, signalling) {
  const producer = state.producers[kind];
  const button = $(buttonId);
  if (!producer) return;
  button.disabled = false;
  button.onclick = async () => {
    button.disabled = true;
    try {
      if (producer.paused) {
        producer.resume();
        await signalling.request('resumeProducer', { producerId: producer.id });
      } else {
        producer.pause();
        await signalling.request('pauseProducer', { producerId: producer.id });
      }
      button.textContent = labels[producer.paused ? 1 : 0];
    } finally {
      button.disabled = false;
    }
  };
}


// ---------------------------------------------------------------------------
// For tests and the curious (window.demo in the console).

/** What this page shows of every other participant. */
async function remoteStats() {
  const out = [];
  for (const peer of state.peers.values()) {
    const entry = {
      peerId: peer.id,
      displayName: peer.displayName,
      videoWidth: peer.video.videoWidth,
      videoHeight: peer.video.videoHeight,
      currentTime: peer.video.currentTime,
      framesDecoded: 0,
      audioPacketsReceived: 0,
    };
    for (const consumer of peer.consumers.values()) {
      const report = await consumer.getStats();
      report.forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (consumer.kind === 'video') entry.framesDecoded += s.framesDecoded || 0;
        else entry.audioPacketsReceived += s.packetsReceived || 0;
      });
    }
    out.push(entry);
  }
  return out;
}

/** The chat's DataChannels and messages. */
function chatState() {
  const { dataProducer } = state.chat;
  return {
    producer: dataProducer ? { id: dataProducer.id, readyState: dataProducer.readyState } : undefined,
    consumers: [...state.chat.dataConsumers.values()].map(({ dataConsumer, peerId }) => ({
      id: dataConsumer.id,
      peerId,
      displayName: displayNameOf(peerId),
      readyState: dataConsumer.readyState,
    })),
    messages: state.chat.messages.map(({ from, text, self }) => ({ from, text, self })),
  };
}

/**
 * Each remote tile's overlay: the figures it shows (as numbers), its text,
 * the video element's size and whether it carries the speaker highlight.
 */
function overlays() {
  return [...state.peers.values()].map((peer) => ({
    peerId: peer.id,
    displayName: peer.displayName,
    ...(peer.figures || {}),
    text: peer.figuresEl.textContent,
    videoWidth: peer.video.videoWidth,
    videoHeight: peer.video.videoHeight,
    speaker: peer.tile.classList.contains('speaker'),
    layerControl: peer.layerControl ? [...peer.layerControl.querySelectorAll('option')].map((o) => o.value) : [],
  }));
}

/** The stats panel as shown: rows by kind and the chart's point counts. */
function statsPanel() {
  const rows = (kind) => [...document.querySelectorAll(`#stats-tables tr[data-kind="${kind}"]`)]
    .map((tr) => ({ id: tr.dataset.id, bitrate: Number(tr.dataset.bitrate), text: tr.textContent }));
  const count = (cls) => {
    const line = document.querySelector(`#stats-chart polyline.${cls}`);
    return line ? Number(line.dataset.count) : 0;
  };
  return {
    shown: statsPanelShown(),
    transports: rows('transport'),
    producers: rows('producer'),
    consumers: rows('consumer'),
    chart: { recv: count('recv'), send: count('send') },
    summary: $('stats-summary').textContent,
  };
}

window.demo = {
  state, media, remoteStats, chatState, overlays, statsPanel, layoutGrid,
};
main().catch((error) => {
  state.error = String(error && error.message);
  console.error(error);
  setStatus(`error: ${state.error}`, 'error');
});
