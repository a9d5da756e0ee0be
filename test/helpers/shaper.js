'use strict';

// Link shaping for bandwidth-estimation tests: tc (iproute2) on the loopback
// interface of the test's network namespace (../shared/tools/netns), and a
// small UDP relay that delays one direction.
//
// The kernel here has no netem, so the shaping is an htb root on lo whose
// default class is unshaped, plus one capped class per shaped leg, fed by a
// u32 filter on the UDP source port (e.g. the SFU's port for SFU → client).
// Each capped class has a small burst (~200 bytes: packets leave one by one
// at the capped rate, as on a real link; a larger burst lets probe clusters
// out at line rate and fools an estimator) and a bounded tail-drop queue
// (bfifo, ~500 ms at the cap: without a bound, an SFU that ignores
// congestion is only delayed, never starved).
//
// Nothing here may run outside a network namespace: shaping the host's lo
// would disturb everything else on the machine. isolatedNetns() tells.

const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

/** The full path of tc, or undefined. $GOSFU_TC overrides the search. */
function findTc() {
  const candidates = process.env.GOSFU_TC ? [process.env.GOSFU_TC]
    : (process.env.PATH || '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'tc'))
      .concat(['/usr/sbin/tc', '/sbin/tc']);
  for (const file of candidates) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch (error) {
      // not this one
    }
  }
  return undefined;
}

/**
 * True when the only network interfaces with addresses are loopback ones,
 * i.e. the process runs in a namespace like ../shared/tools/netns makes.
 */
function isolatedNetns() {
  return Object.values(os.networkInterfaces()).every((addrs) => addrs.every((a) => a.internal));
}

function run(tc, args) {
  return new Promise((resolve, reject) => {
    // Async: a relay and Playwright share this event loop.
    execFile(tc, args, { timeout: 10000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`tc ${args.join(' ')}: ${(stderr || error.message).trim()}`));
        return;
      }
      resolve(stdout);
    });
  });
}

const ROOT = '1:';
const DEFAULT_CLASS = '1:2';
const UNSHAPED = '10gbit';

/**
 * An htb tree on one device. setup() installs the root (replacing any root
 * qdisc already there); cap() adds a shaped leg; lift() removes it (its
 * packets fall back to the unshaped default class); teardown() removes the
 * whole tree and never throws.
 */
class Shaper {
  /**
   * @param {object} [options]
   * @param {string} [options.dev='lo']
   * @param {string} [options.tc] path of tc (default: findTc())
   */
  constructor({ dev = 'lo', tc = findTc() } = {}) {
    if (!tc) throw new Error('tc not found');
    this.dev = dev;
    this.tc = tc;
    this.legs = new Map(); // sport -> { minor, kbit, queueBytes }
    this.nextMinor = 16;
    this.installed = false;
  }

  async setup() {
    // A leftover tree (an earlier run that died) is replaced.
    await run(this.tc, ['qdisc', 'del', 'dev', this.dev, 'root']).catch(() => {});
    await run(this.tc, ['qdisc', 'add', 'dev', this.dev, 'root', 'handle', ROOT, 'htb', 'default', '2']);
    this.installed = true;
    // quantum given explicitly: r2q would make it far too big at 10gbit.
    await run(this.tc, ['class', 'add', 'dev', this.dev, 'parent', ROOT, 'classid', DEFAULT_CLASS,
      'htb', 'rate', UNSHAPED, 'quantum', '60000']);
  }

  /**
   * Caps UDP packets whose source port is `sport` at `kbit` kbit/s.
   * queueMs sizes the tail-drop queue (bytes = queueMs at the cap, at least
   * 3 full packets); burst is in bytes. Resolves with the leg's
   * { sport, kbit, queueBytes, handle } (handle: the bfifo's, for stats()).
   */
  async cap(sport, kbit, { queueMs = 500, burst = 200 } = {}) {
    if (!this.installed) throw new Error('Shaper.setup() first');
    if (this.legs.has(sport)) throw new Error(`port ${sport} is already capped`);
    const minor = this.nextMinor++;
    const classid = `1:${minor.toString(16)}`;
    const handle = `${minor.toString(16)}:`;
    const queueBytes = Math.max(3 * 1500, Math.round((kbit * 1000 / 8) * (queueMs / 1000)));
    await run(this.tc, ['class', 'add', 'dev', this.dev, 'parent', ROOT, 'classid', classid,
      'htb', 'rate', `${kbit}kbit`, 'ceil', `${kbit}kbit`, 'burst', `${burst}b`, 'cburst', `${burst}b`,
      'quantum', '1500']);
    await run(this.tc, ['qdisc', 'add', 'dev', this.dev, 'parent', classid, 'handle', handle,
      'bfifo', 'limit', String(queueBytes)]);
    // One filter priority per leg, so that lift() deletes exactly this one.
    await run(this.tc, ['filter', 'add', 'dev', this.dev, 'parent', ROOT, 'protocol', 'ip', 'prio', String(minor),
      'u32', 'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'sport', String(sport), '0xffff',
      'flowid', classid]);
    const leg = {
      sport, kbit, queueBytes, handle, classid, minor,
    };
    this.legs.set(sport, leg);
    return leg;
  }

  /** Removes the cap on `sport` (its filter, class and queue). */
  async lift(sport) {
    const leg = this.legs.get(sport);
    if (!leg) return;
    this.legs.delete(sport);
    await run(this.tc, ['filter', 'del', 'dev', this.dev, 'parent', ROOT, 'protocol', 'ip', 'prio', String(leg.minor)]);
    // The class goes too; its queue is drained or dropped with it.
    await run(this.tc, ['class', 'del', 'dev', this.dev, 'classid', leg.classid]).catch(() => {});
  }

  /**
   * Counters of each capped leg's queue, by source port:
   * { [sport]: { bytes, packets, drops, backlog } } (bytes/packets sent out
   * of the queue, drops at its tail, backlog in bytes).
   */
  async stats() {
    const out = {};
    if (this.legs.size === 0) return out;
    const qdiscs = JSON.parse(await run(this.tc, ['-s', '-j', 'qdisc', 'show', 'dev', this.dev]));
    for (const leg of this.legs.values()) {
      const q = qdiscs.find((x) => x.handle === leg.handle);
      if (q) {
        out[leg.sport] = {
          bytes: q.bytes, packets: q.packets, drops: q.drops, backlog: q.backlog,
        };
      }
    }
    return out;
  }

  /** Removes the tree; safe to call twice and after a failed setup(). */
  async teardown() {
    this.legs.clear();
    if (!this.installed) return;
    this.installed = false;
    await run(this.tc, ['qdisc', 'del', 'dev', this.dev, 'root']).catch(() => {});
  }
}

/**
 * A UDP relay that delays the packets of one direction, so that a shaped leg
 * also has a propagation delay (no netem here). The client is told that the
 * server is at the relay's port; the server sees the relay's outer socket as
 * the client. Packets server → client are held `delayMs`; client → server
 * pass at once. One client at a time (the last address heard from).
 *
 * Resolves with { port, outerPort, stats, close() }; stats counts packets
 * up (client → server) and down, and how late the held ones left
 * ({ held, lateSumMs, maxLateMs }).
 */
async function createDelayRelay({ serverIp = '127.0.0.1', serverPort, delayMs = 50 }) {
  const inner = dgram.createSocket('udp4'); // facing the client
  const outer = dgram.createSocket('udp4'); // facing the server
  const bind = (sock) => new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      sock.removeListener('error', reject);
      resolve(sock.address().port);
    });
  });
  const port = await bind(inner);
  const outerPort = await bind(outer);
  // Send errors (e.g. ECONNREFUSED once a peer closed) are not failures.
  inner.on('error', () => {});
  outer.on('error', () => {});
  // lateMs: how much later than due the held packets left (event-loop
  // load shows here as extra delay and jitter).
  const stats = {
    up: 0, down: 0, held: 0, lateSumMs: 0, maxLateMs: 0,
  };
  let client;
  let closed = false;
  // Constant delay keeps order: a FIFO with one timer for its head.
  const queue = [];
  let head = 0;
  let timer;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (head < queue.length && queue[head].at <= now) {
      const { at, msg } = queue[head];
      queue[head++] = undefined;
      const late = now - at;
      stats.held++;
      stats.lateSumMs += late;
      if (late > stats.maxLateMs) stats.maxLateMs = late;
      if (client && !closed) inner.send(msg, client.port, client.address);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (head < queue.length && !closed) {
      timer = setTimeout(flush, Math.max(0, queue[head].at - performance.now()));
    }
  };
  inner.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    stats.up++;
    outer.send(msg, serverPort, serverIp);
  });
  outer.on('message', (msg) => {
    stats.down++;
    if (delayMs <= 0) {
      if (client) inner.send(msg, client.port, client.address);
      return;
    }
    queue.push({ at: performance.now() + delayMs, msg });
    if (!timer) timer = setTimeout(flush, delayMs);
  });
  return {
    port,
    outerPort,
    stats,
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      inner.close();
      outer.close();
    },
  };
}

module.exports = {
  findTc,
  isolatedNetns,
  Shaper,
  createDelayRelay,
};
