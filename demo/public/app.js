'use strict';

// The gosfu room page: joins the room through the WebSocket on /ws, publishes
// camera and microphone, shows every other participant, and chats over
// DataChannels (one DataProducer labelled 'chat' on the send transport; a
// DataConsumer of every other participant's on the receive transport).
// Bundled with mediasoup-client by demo/server.js (esbuild) and served as
// /app.js.

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

const state = {
  peerId: undefined,
  displayName: undefined,
  peers: new Map(), // peerId -> { id, displayName, tile, consumers: Map }
  consumers: new Map(), // consumerId -> { consumer, peerId }
  producers: {}, // kind -> Producer
  chat: {
    dataProducer: undefined, // ours, label 'chat'
    dataConsumers: new Map(), // dataConsumerId -> { dataConsumer, peerId }
    messages: [], // { from, text, self, time }
  },
  joined: false,
  error: undefined,
};

function setStatus(text, kind) {
  const el = $('status');
  el.textContent = text;
  el.className = `status ${kind || ''}`;
}

function renderParticipants() {
  const list = $('participants');
  list.textContent = '';
  const me = document.createElement('li');
  me.className = 'me';
  me.textContent = state.displayName;
  list.appendChild(me);
  for (const peer of state.peers.values()) {
    const li = document.createElement('li');
    li.dataset.peerId = peer.id;
    li.textContent = peer.displayName;
    list.appendChild(li);
  }
  $('count').textContent = `(${state.peers.size + 1})`;
}

function addPeer({ id, displayName }) {
  if (state.peers.has(id)) return state.peers.get(id);
  const tile = document.createElement('figure');
  tile.className = 'tile remote';
  tile.dataset.peerId = id;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // sound goes through the <audio> element
  const audio = document.createElement('audio');
  audio.autoplay = true;
  const caption = document.createElement('figcaption');
  caption.textContent = displayName;
  tile.append(video, audio, caption);
  $('grid').appendChild(tile);
  const peer = {
    id, displayName, tile, video, audio, consumers: new Map(),
  };
  state.peers.set(id, peer);
  renderParticipants();
  return peer;
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
  renderParticipants();
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
  if (!entry) return;
  state.consumers.delete(consumerId);
  entry.consumer.close();
  const peer = state.peers.get(entry.peerId);
  if (peer) {
    peer.consumers.delete(consumerId);
    attach(peer);
  }
}

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

async function main() {
  const params = new URLSearchParams(window.location.search);
  state.displayName = params.get('name') || `guest-${Math.floor(Math.random() * 9000) + 1000}`;
  $('local-name').textContent = `${state.displayName} (you)`;
  renderParticipants();
  // Never let the chat form navigate (its real handler comes with the chat).
  $('chat-form').addEventListener('submit', (event) => event.preventDefault());

  const wsUrl = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/ws`;
  const signalling = new Signalling(wsUrl);
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

  // Consumers arrive paused; resume them once they are set up here.
  signalling.on('newConsumer', async ({
    peerId, producerId, id, kind, rtpParameters, producerPaused,
  }) => {
    const peer = state.peers.get(peerId) || addPeer({ id: peerId, displayName: '…' });
    const consumer = await recvTransport.consume({
      id, producerId, kind, rtpParameters, appData: { peerId },
    });
    state.consumers.set(consumer.id, { consumer, peerId });
    peer.consumers.set(consumer.id, consumer);
    peer.tile.classList.toggle('paused', kind === 'video' && producerPaused);
    attach(peer);
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
    const peer = addPeer(info);
    peer.displayName = info.displayName;
    peer.tile.querySelector('figcaption').textContent = info.displayName;
    renderParticipants();
  });
  signalling.on('peerClosed', ({ peerId }) => removePeer(peerId));

  const joined = await signalling.request('join', {
    displayName: state.displayName,
    rtpCapabilities: device.rtpCapabilities,
  });
  state.peerId = joined.peerId;
  for (const info of joined.peers) {
    const peer = addPeer(info);
    peer.displayName = info.displayName;
    peer.tile.querySelector('figcaption').textContent = info.displayName;
  }
  renderParticipants();
  state.joined = true;
  setStatus('in the room', 'ok');

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
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20 } },
    });
  } catch (error) {
    setStatus(`in the room (no camera/microphone: ${error.message})`, 'error');
    return;
  }
  $('local-video').srcObject = stream;
  for (const track of stream.getTracks()) {
    if (!device.canProduce(track.kind)) continue;
    state.producers[track.kind] = await sendTransport.produce({ track, appData: { source: track.kind } });
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

/** For tests and the curious: what this page shows of every other participant. */
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

/** For tests: the chat's DataChannels and messages. */
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

window.demo = { state, remoteStats, chatState };
main().catch((error) => {
  state.error = String(error && error.message);
  console.error(error);
  setStatus(`error: ${state.error}`, 'error');
});
