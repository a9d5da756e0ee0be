'use strict';

// Engine faults (Go panics) must never take Node down: a panic in a request
// rejects that request with an Error; a panic in an engine goroutine emits
// 'died' on that worker only. The engine's fault injection hook is enabled
// by GOSFU_FAULT_INJECTION=1, so these run in a child process.
const assert = require('assert');
const { spawn } = require('child_process');
const path = require('path');

const CHILD = `
const gosfu = require(${JSON.stringify(path.join(__dirname, '..'))});
(async () => {
  const out = {};
  const w1 = await gosfu.createWorker();
  const w2 = await gosfu.createWorker();
  try {
    await w1.channel.request('worker.injectFault', undefined, { where: 'request' });
    out.request = 'resolved';
  } catch (error) {
    out.request = { name: error.constructor.name, message: error.message };
  }
  out.aliveAfterRequestFault = !w1.closed && (await w1.dump()).pid === process.pid;
  const died = new Promise((resolve) => w1.on('died', resolve));
  const subprocessclose = new Promise((resolve) => w1.on('subprocessclose', resolve));
  await w1.channel.request('worker.injectFault', undefined, { where: 'goroutine' });
  const error = await died;
  await subprocessclose;
  out.died = { name: error.constructor.name, message: error.message, closed: w1.closed, flag: w1.died };
  out.otherWorker = (await w2.createRouter()).closed === false;
  try { await w1.dump(); out.afterDeath = 'resolved'; } catch (e) { out.afterDeath = e.constructor.name; }
  w2.close();
  process.send(out);
})().catch((e) => { process.send({ fatal: String(e && e.stack) }); });
`;

function runChild(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let message;
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('message', (m) => { message = m; });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, message, stderr }));
  });
}

describe('engine faults', function () {
  this.timeout(20000);

  it('a panic in a request rejects it; a panic in a goroutine emits died on that worker only', async () => {
    const { code, signal, message, stderr } = await runChild({ GOSFU_FAULT_INJECTION: '1' });
    assert.ok(message, `no report from the child (code ${code}, signal ${signal}): ${stderr}`);
    assert.ok(!message.fatal, message.fatal);
    assert.deepEqual(message.request, {
      name: 'Error',
      message: 'internal error in worker.injectFault: injected fault in a request',
    });
    assert.equal(message.aliveAfterRequestFault, true);
    assert.equal(message.died.name, 'Error');
    assert.match(message.died.message, /injected fault in an engine goroutine/);
    assert.equal(message.died.closed, true);
    assert.equal(message.died.flag, true);
    assert.equal(message.otherWorker, true);
    assert.equal(message.afterDeath, 'WorkerClosedError');
    assert.equal(code, 0, stderr);
    assert.equal(signal, null);
  });

  it('the fault hook does not exist unless enabled', async () => {
    const gosfu = require('../');
    const worker = await gosfu.createWorker();
    try {
      await assert.rejects(
        worker.channel.request('worker.injectFault', undefined, { where: 'request' }),
        (error) => error.constructor.name === 'Error' && error.message === "unknown method 'worker.injectFault'");
    } finally {
      worker.close();
    }
  });
});
