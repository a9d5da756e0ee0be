'use strict';

// The Node/Go boundary: exceptions thrown from engine events, many engines,
// closing under load, process exit, worker threads, event-loop liveness.
const assert = require('node:assert/strict');

const gosfu = require('../');
const {
  waitFor, closeWorker, assertRejects, runChild, jsonLines,
} = require('./helpers');

const { WorkerClosedError } = gosfu.types;

const CHILD = 'native-child.js';

describe('native boundary', () => {
  describe('signal handlers Node installs after the engine', () => {
    it('get SA_ONSTACK (SIGCHLD at the first child process, SIGUSR2 for process.on())', async () => {
      const res = await runChild(CHILD, ['signal-stacks']);
      assert.equal(res.timedOut, false, `child hung: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.code, 0);
      const [result] = jsonLines(res.stdout);
      // Installed by libuv without the flag (what made the engine crash)...
      assert.ok(result.installed.includes(17) || result.installed.includes(12),
        `libuv's handlers had SA_ONSTACK already: ${JSON.stringify(result)}`);
      // ...and fixed by the shim.
      assert.deepEqual(result.after, []);
    });
  });

  describe('exceptions thrown in engine event listeners', () => {
    it("reach process 'uncaughtException' and later events still arrive", async () => {
      const res = await runChild(CHILD, ['throw-in-event']);
      assert.equal(res.timedOut, false, `child hung: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.code, 0);
      const [result] = jsonLines(res.stdout);
      assert.deepEqual(result.caught, ['thrown from an engine event: worker started [logLevel:debug]']);
      assert.deepEqual(result.seen, [
        'worker started [logLevel:debug]',
        `router created [id:${result.router1}]`,
        `router created [id:${result.router2}]`,
      ]);
      assert.equal(result.dump, 2);
    });

    it("crash the process as any uncaught exception when nobody handles 'uncaughtException'", async () => {
      const res = await runChild(CHILD, ['throw-unhandled']);
      assert.equal(res.timedOut, false, `child hung: ${res.stdout} ${res.stderr}`);
      assert.equal(res.signal, null);
      assert.equal(res.code, 1);
      assert.deepEqual(jsonLines(res.stdout), [{ ready: true }]);
      assert.match(res.stderr, /Error: thrown from an engine event, unhandled/);
      // A JS exception, not a native crash.
      assert.doesNotMatch(res.stderr, /SIGSEGV|SIGABRT|fatal error|panic:/);
    });
  });

  describe('many workers', () => {
    it('creates, uses and closes 100 workers in a loop (in this process)', async () => {
      const done = [];
      for (let i = 0; i < 100; i++) {
        const worker = await gosfu.createWorker({ logLevel: i % 2 ? 'debug' : 'error' });
        const router = await worker.createRouter();
        assert.deepEqual((await worker.dump()).routerIds, [router.id]);
        done.push(waitFor(worker, 'subprocessclose'));
        worker.close();
        assert.equal(router.closed, true);
      }
      await Promise.all(done);
      const worker = await gosfu.createWorker();
      assert.deepEqual((await worker.dump()).routerIds, []);
      await closeWorker(worker);
    });

    it('lets the process exit by itself after 100 workers were closed (nothing left holding the event loop)', async () => {
      const res = await runChild(CHILD, ['many-workers'], { timeout: 15000 });
      assert.equal(res.timedOut, false, `child did not exit: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.code, 0);
      assert.deepEqual(jsonLines(res.stdout), [{ closed: 100 }]);
    });
  });

  describe('closing during an event flood', () => {
    it('is safe: pending requests are aborted and no event arrives after close()', async () => {
      for (let round = 0; round < 5; round++) {
        const worker = await gosfu.createWorker({ logLevel: 'debug' });
        let afterClose = 0;
        let closedFlag = false;
        worker.channel.on('worker', () => {
          if (closedFlag) afterClose++;
        });
        const pending = [];
        for (let i = 0; i < 1000; i++) {
          pending.push(worker.channel.requestAsync('worker.createRouter', undefined, { routerId: `flood-${round}-${i}` })
            .then(() => 'ok', (error) => error));
        }
        const routers = [];
        for (let i = 0; i < 100; i++) routers.push(await worker.createRouter());
        // Close once the first answers are in, while the rest are in flight.
        await Promise.race(pending);
        worker.close();
        closedFlag = true;
        assert.ok(routers.every((r) => r.closed));
        const results = await Promise.all(pending);
        for (const result of results) {
          if (result === 'ok') continue;
          assert.equal(result.constructor, WorkerClosedError);
          assert.equal(result.message, 'Channel closed, pending request aborted [method:worker.createRouter]');
        }
        assert.equal(results.length, 1000);
        assert.ok(results.filter((r) => r === 'ok').length >= 1);
        await waitFor(worker, 'subprocessclose');
        // Negative check: no late event after close.
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(afterClose, 0);
        await assertRejects(worker.channel.requestAsync('worker.dump'), WorkerClosedError,
          'Channel closed, cannot send request [method:worker.dump]');
      }
      // The engine is still healthy.
      const worker = await gosfu.createWorker();
      assert.deepEqual((await worker.dump()).routerIds, []);
      await closeWorker(worker);
    });
  });

  describe('process exit', () => {
    it('process.exit() with an open, busy worker exits cleanly with code 0', async () => {
      const res = await runChild(CHILD, ['exit-open']);
      assert.equal(res.timedOut, false, `child hung: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.signal, null);
      assert.equal(res.code, 0);
      assert.deepEqual(jsonLines(res.stdout), [{ exiting: true }]);
    });

    it('a process with an open worker stays alive', async () => {
      let child;
      let aliveAfter1s;
      const res = await runChild(CHILD, ['stay-alive'], {
        timeout: 10000,
        onSpawn: (c) => {
          child = c;
          c.stdout.once('data', () => {
            setTimeout(() => {
              aliveAfter1s = child.exitCode === null && child.signalCode === null;
              child.kill('SIGTERM');
            }, 1000);
          });
        },
      });
      assert.equal(aliveAfter1s, true);
      assert.equal(res.timedOut, false);
      assert.equal(res.signal, 'SIGTERM');
      assert.deepEqual(jsonLines(res.stdout), [{ ready: true, closed: false }]);
    });

    it('a process whose worker was closed exits by itself', async () => {
      const started = Date.now();
      const res = await runChild(CHILD, ['close-exits'], { timeout: 10000 });
      assert.equal(res.timedOut, false, `child did not exit: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.code, 0);
      assert.deepEqual(jsonLines(res.stdout), [{ closed: true }]);
      assert.ok(Date.now() - started < 5000);
    });
  });

  describe('worker_threads', () => {
    it('a worker in a thread can be created, used and closed, and the thread exits cleanly', async () => {
      const res = await runChild(CHILD, ['thread']);
      assert.equal(res.timedOut, false, `child hung: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.code, 0);
      const [result] = jsonLines(res.stdout);
      assert.equal(result.code, 0);
      assert.equal(result.mainDump, result.mainPid);
      assert.equal(result.messages.length, 1);
      const [m] = result.messages;
      assert.equal(m.pid, result.mainPid);
      assert.deepEqual(m.routerIds, [m.routerId]);
      assert.equal(m.closed, true);
      assert.equal(m.subprocessClosed, true);
    });

    it('terminating a thread whose worker is open and busy is safe', async () => {
      const res = await runChild(CHILD, ['thread-terminate']);
      assert.equal(res.timedOut, false, `child hung: ${res.stdout} ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.signal, null);
      assert.equal(res.code, 0);
      assert.deepEqual(jsonLines(res.stdout), [{ code: 1, ok: true }]);
    });
  });
});
