'use strict';

// The soak's SFU process (forked by bench/soak/soak.js, with an IPC channel):
// the room demo (demo/server.js) plus a monitor that samples this process
// every `interval` seconds and sends each sample to the parent. The SFU runs
// alone in its process so that RSS, heap and fds are the SFU's, not the
// browser driver's (playwright keeps its own state in the parent).
//
// Messages from the parent: { type: 'sample' } (sample now, e.g. after all
// clients left), { type: 'stop' } (close the room and the worker, send the
// last sample, exit).

const fs = require('node:fs');

const gosfu = require('../..');
const demo = require('../../demo/server');

const MB = 1024 * 1024;
const interval = Number(process.env.SOAK_INTERVAL || 10) * 1000;

let worker;
gosfu.observer.once('newworker', (w) => {
  worker = w;
});

/** Cumulative packets (RTP) and messages (SCTP) sent by consumers. */
const forwarded = {
  packets: 0,
  messages: 0,
  // consumer id -> last packetCount / messagesSent seen.
  lastPackets: new Map(),
  lastMessages: new Map(),
};

/**
 * Adds what every live consumer sent since the previous sample. A consumer
 * that closes between two samples loses what it sent after the previous
 * one, so the totals are a lower bound.
 */
async function countForwarded(room) {
  const consumers = [];
  const dataConsumers = [];
  for (const peer of room.peers.values()) {
    consumers.push(...peer.consumers.values());
    dataConsumers.push(...peer.dataConsumers.values());
  }
  const seen = new Set();
  const seenData = new Set();
  await Promise.all([
    ...consumers.map(async (consumer) => {
      const stats = await consumer.getStats().catch(() => []);
      const out = stats.find((s) => s.type === 'outbound-rtp');
      if (!out) return;
      seen.add(consumer.id);
      const last = forwarded.lastPackets.get(consumer.id) || 0;
      forwarded.packets += Math.max(0, out.packetCount - last);
      forwarded.lastPackets.set(consumer.id, out.packetCount);
    }),
    ...dataConsumers.map(async (dataConsumer) => {
      const stats = await dataConsumer.getStats().catch(() => []);
      if (!stats[0]) return;
      seenData.add(dataConsumer.id);
      const last = forwarded.lastMessages.get(dataConsumer.id) || 0;
      forwarded.messages += Math.max(0, stats[0].messagesSent - last);
      forwarded.lastMessages.set(dataConsumer.id, stats[0].messagesSent);
    }),
  ]);
  // Forget closed consumers (the maps must not grow with churn).
  for (const id of forwarded.lastPackets.keys()) if (!seen.has(id)) forwarded.lastPackets.delete(id);
  for (const id of forwarded.lastMessages.keys()) if (!seenData.has(id)) forwarded.lastMessages.delete(id);
}

/** Engine-side object counts, from worker.dump() and router.dump(). */
async function engineCounts() {
  const counts = {
    routers: 0, transports: 0, producers: 0, consumers: 0, dataProducers: 0, dataConsumers: 0,
  };
  const workerDump = await worker.dump();
  counts.routers = workerDump.routerIds.length;
  for (const router of routers) {
    if (router.closed) continue;
    const dump = await router.dump();
    counts.transports += dump.transportIds.length;
    counts.producers += dump.mapProducerIdConsumerIds.length;
    counts.consumers += dump.mapConsumerIdProducerId.length;
    counts.dataProducers += dump.mapDataProducerIdDataConsumerIds.length;
    counts.dataConsumers += dump.mapDataConsumerIdDataProducerId.length;
  }
  return counts;
}

const routers = new Set();
const startedAt = Date.now();

async function sample(room, label) {
  await countForwarded(room);
  // With --expose-gc (soak.js passes it) the JS heap figures are what is
  // live, not what the next GC would free: growth shows up at once.
  if (global.gc) global.gc();
  const mem = process.memoryUsage();
  const usage = await worker.getResourceUsage();
  const counts = await engineCounts();
  const round = (x, digits = 1) => Number(x.toFixed(digits));
  return {
    label,
    t: round((Date.now() - startedAt) / 1000),
    peers: [...room.peers.values()].filter((p) => p.joined).length,
    rssMB: round(mem.rss / MB),
    heapUsedMB: round(mem.heapUsed / MB),
    externalMB: round(mem.external / MB),
    goroutines: usage.goroutines,
    goHeapInuseMB: round(usage.goHeapInuse / MB),
    goSysMB: round(usage.goSys / MB),
    fds: fs.readdirSync('/proc/self/fd').length,
    ...counts,
    cpuS: round((usage.ru_utime + usage.ru_stime) / 1000),
    packetsForwarded: forwarded.packets,
    messagesForwarded: forwarded.messages,
  };
}

async function main() {
  const room = await demo.start({ port: 0, logLevel: process.env.LOG_LEVEL || 'warn' });
  if (!worker) throw new Error('no worker seen on gosfu.observer');
  routers.add(room.room.router);
  worker.observer.on('newrouter', (router) => routers.add(router));
  console.log(`gosfu demo: ${room.url} (pid ${process.pid})`);

  // Samples run one at a time (countForwarded keeps per-consumer state); a
  // periodic tick is skipped while one is still running.
  let chain = Promise.resolve();
  let pending = 0;
  const send = (label) => {
    if (pending > 0 && label === 'periodic') return chain;
    pending++;
    chain = chain.then(async () => {
      try {
        process.send({ type: 'sample', sample: await sample(room.room, label) });
      } catch (error) {
        process.send({ type: 'error', error: String(error && error.stack) });
      } finally {
        pending--;
      }
    });
    return chain;
  };
  const timer = setInterval(() => send('periodic'), interval);
  process.send({ type: 'ready', url: room.url, pid: process.pid });
  await send('start');

  process.on('message', async (message) => {
    if (message.type === 'sample') {
      await send(message.label || 'requested');
    } else if (message.type === 'stop') {
      clearInterval(timer);
      await chain;
      await room.close();
      process.send({ type: 'stopped' }, () => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(1));
}

main().catch((error) => {
  console.error(`soak server failed: ${error.stack || error}`);
  process.exit(1);
});
