'use strict';

// Child process (and worker thread) scenarios for test/test-native.js: each
// one does something that could take a whole process down, so it runs away
// from mocha. Results are printed as JSON lines on stdout.
const path = require('node:path');
const { Worker: Thread, isMainThread, parentPort, workerData } = require('node:worker_threads');

const gosfu = require(path.join(__dirname, '..', '..'));
const { pollUntil } = require('./index');

const scenario = isMainThread ? process.argv[2] : workerData.scenario;

function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

function closeAndWait(worker) {
  const p = once(worker, 'subprocessclose');
  worker.close();
  return p;
}

const scenarios = {
  // A listener on the engine's event stream throws: the exception must reach
  // process 'uncaughtException', and later events must still be delivered.
  async 'throw-in-event'() {
    const caught = [];
    process.on('uncaughtException', (error) => caught.push(error.message));
    const worker = await gosfu.createWorker({ logLevel: 'debug' });
    const seen = [];
    let thrown = false;
    worker.channel.on('worker', (event, data) => {
      seen.push(data.msg);
      if (!thrown) {
        thrown = true;
        throw new Error(`thrown from an engine event: ${data.msg}`);
      }
    });
    const router1 = await worker.createRouter();
    while (!seen.includes(`router created [id:${router1.id}]`)) await new Promise((r) => setTimeout(r, 5));
    // The event loop is still fine: more requests and events.
    const router2 = await worker.createRouter();
    while (!seen.includes(`router created [id:${router2.id}]`)) await new Promise((r) => setTimeout(r, 5));
    out({ caught, seen, router1: router1.id, router2: router2.id, dump: (await worker.dump()).routerIds.length });
    await closeAndWait(worker);
  },

  // Same, with nobody handling uncaught exceptions: Node's default applies.
  async 'throw-unhandled'() {
    const worker = await gosfu.createWorker({ logLevel: 'debug' });
    worker.channel.on('worker', () => {
      throw new Error('thrown from an engine event, unhandled');
    });
    out({ ready: true });
  },

  // process.exit() while a worker is open and busy.
  async 'exit-open'() {
    const worker = await gosfu.createWorker({ logLevel: 'debug' });
    await worker.createRouter();
    for (let i = 0; i < 200; i++) {
      worker.channel.requestAsync('worker.createRouter', undefined, { routerId: `exit-${i}` }).catch(() => {});
    }
    out({ exiting: true });
    setImmediate(() => process.exit(0));
  },

  // An open worker keeps the process alive.
  async 'stay-alive'() {
    const worker = await gosfu.createWorker();
    await worker.createRouter();
    out({ ready: true, closed: worker.closed });
  },

  // A closed worker does not.
  async 'close-exits'() {
    const worker = await gosfu.createWorker({ logLevel: 'debug' });
    await worker.createRouter();
    await worker.createRouter();
    worker.close();
    out({ closed: worker.closed });
  },

  // 100 workers created, used and closed: every one must let go of the event
  // loop, or the process never exits.
  async 'many-workers'() {
    const closed = [];
    for (let i = 0; i < 100; i++) {
      const worker = await gosfu.createWorker({ logLevel: i % 2 ? 'debug' : 'error' });
      await worker.createRouter({
        mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
      });
      await worker.dump();
      closed.push(once(worker, 'subprocessclose'));
      worker.close();
    }
    await Promise.all(closed);
    out({ closed: closed.length });
  },

  // A gosfu worker inside a worker_threads thread (and one in the main thread).
  async thread() {
    const main = await gosfu.createWorker();
    const thread = new Thread(__filename, { workerData: { scenario: 'in-thread' } });
    const messages = [];
    thread.on('message', (m) => messages.push(m));
    thread.on('error', (error) => out({ threadError: error.message }));
    const [code] = await once(thread, 'exit');
    const dump = await main.dump();
    await closeAndWait(main);
    out({ code, messages, mainPid: process.pid, mainDump: dump.pid });
  },

  async 'in-thread'() {
    const worker = await gosfu.createWorker({ logLevel: 'debug' });
    const logs = [];
    worker.channel.on('worker', (event, data) => logs.push(data.msg));
    const router = await worker.createRouter();
    const dump = await worker.dump();
    while (!logs.includes(`router created [id:${router.id}]`)) await new Promise((r) => setTimeout(r, 5));
    await closeAndWait(worker);
    parentPort.postMessage({
      pid: worker.pid, routerIds: dump.routerIds, routerId: router.id, closed: worker.closed, subprocessClosed: worker.subprocessClosed,
    });
  },

  // A thread terminated while its gosfu worker is open and logging.
  async 'thread-terminate'() {
    const main = await gosfu.createWorker();
    const thread = new Thread(__filename, { workerData: { scenario: 'in-thread-open' } });
    await once(thread, 'message');
    // Let the thread's worker run (and log) for a moment: terminate() must
    // hit it mid-work, not right after start-up.
    await new Promise((r) => setTimeout(r, 50));
    const code = await thread.terminate();
    // The main thread's engine still works.
    const router = await main.createRouter();
    const dump = await main.dump();
    await closeAndWait(main);
    out({ code, ok: dump.routerIds.includes(router.id) });
  },

  // Node installs signal handlers when it first needs them (SIGCHLD at the
  // first child process, others for process.on()): after the engine is up,
  // they must get SA_ONSTACK (src/addon.c) so that a signal taken by a
  // thread running Go code does not run on a goroutine's stack.
  async 'signal-stacks'() {
    const native = require(path.join(__dirname, '..', '..', 'lib', 'native.js'));
    const worker = await gosfu.createWorker();
    const before = native.unprotectedSignals();
    const child = require('node:child_process').spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    process.on('SIGUSR2', () => {});
    const installed = native.unprotectedSignals();
    // The shim's guard looks every 100 ms.
    const after = await pollUntil(() => native.unprotectedSignals(), (list) => list.length === 0, 5000,
      'SA_ONSTACK on every handler', 20).catch(() => native.unprotectedSignals());
    await closeAndWait(worker);
    out({ before, installed, after });
  },

  async 'in-thread-open'() {
    const worker = await gosfu.createWorker({ logLevel: 'debug' });
    const timer = setInterval(() => {
      worker.channel.requestAsync('worker.createRouter', undefined, { routerId: `t-${Date.now()}-${Math.random()}` }).catch(() => {});
    }, 1);
    void timer;
    parentPort.postMessage('ready');
  },
};

const run = scenarios[scenario];
if (!run) {
  process.stderr.write(`unknown scenario ${scenario}\n`);
  process.exit(2);
}
run().catch((error) => {
  process.stderr.write(`scenario ${scenario} failed: ${error.stack}\n`);
  process.exit(3);
});
