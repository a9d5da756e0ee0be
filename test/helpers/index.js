'use strict';

// Shared helpers for the mocha suites. Nothing here is an assertion library:
// tests use node:assert; these only wait for things and run children.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, fork } = require('node:child_process');

/**
 * Resolves with the arguments of the next `event` on `emitter`; rejects if it
 * does not come within `ms`.
 */
function waitFor(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent);
      reject(new Error(`timeout waiting for "${event}" (${ms} ms)`));
    }, ms);
    function onEvent(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, onEvent);
  });
}

/**
 * Resolves once `predicate()` is true (polled every `interval` ms; it may
 * return a promise, e.g. one reading stats); rejects after `ms`.
 */
async function waitUntil(predicate, ms = 5000, what = 'condition', interval = 5) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what} (${ms} ms)`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/**
 * Resolves with `read()`'s value once two reads `interval` ms apart give the
 * same value (compared as JSON): for counters that rise while packets are
 * still in flight. Rejects after `ms`.
 */
async function waitStable(read, ms = 10000, what = 'stable value', interval = 200) {
  const deadline = Date.now() + ms;
  let last = JSON.stringify(await read());
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, interval));
    const value = await read();
    const json = JSON.stringify(value);
    if (json === last) return value;
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what} (${ms} ms); last value: ${json}`);
    last = json;
  }
}

/** Closes a gosfu worker and waits for its 'subprocessclose'. */
async function closeWorker(worker) {
  if (!worker || worker.subprocessClosed) return;
  const done = waitFor(worker, 'subprocessclose');
  worker.close();
  await done;
}

/**
 * Asserts that `error` is exactly of class `Class` (by constructor and by
 * name) and carries exactly `message` (a string, or a RegExp when the
 * message embeds a random id).
 */
function assertError(error, Class, message) {
  assert.ok(error instanceof Error, `expected an Error, got ${error}`);
  assert.equal(error.constructor, Class, `expected ${Class.name}, got ${error.constructor.name}: ${error.message}`);
  assert.equal(error.constructor.name, Class.name);
  if (message instanceof RegExp) assert.match(error.message, message);
  else assert.equal(error.message, message);
}

/** Asserts that `promise` (or the promise `fn()` returns) rejects as assertError checks. */
async function assertRejects(promiseOrFn, Class, message) {
  let error;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected a rejection with ${Class.name}: ${message}`);
  assertError(error, Class, message);
  return error;
}

/** Asserts that `fn()` throws synchronously as assertError checks. */
function assertThrows(fn, Class, message) {
  let error;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected a throw of ${Class.name}: ${message}`);
  assertError(error, Class, message);
  return error;
}

/** A fresh temporary directory, removed by the returned cleanup function. */
function tmpDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-test-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes a self-signed certificate and its private key (PEM) into `dir` with
 * the openssl command and returns their paths. Also writes a second key that
 * does not match the certificate.
 */
function makeDtlsFiles(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const otherKey = path.join(dir, 'other-key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gosfu-test',
  ], { stdio: 'pipe' });
  execFileSync('openssl', [
    'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKey,
  ], { stdio: 'pipe' });
  return { cert, key, otherKey };
}

/**
 * Forks a helper script (test/helpers/<name>) with `args` and collects its
 * output. Options: timeout (ms, the child is SIGKILLed then), onSpawn(child),
 * execArgv.
 */
function runChild(name, args = [], { timeout = 20000, onSpawn, execArgv = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, name), args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv,
      env: { ...process.env, DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    if (onSpawn) onSpawn(child);
  });
}

/** The JSON lines a child printed, parsed. */
function jsonLines(stdout) {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/**
 * Calls `fn` every `interval` ms until `predicate(value)` holds and returns
 * that value; throws, naming `what` and the last value, after `ms`.
 */
async function pollUntil(fn, predicate, ms, what, interval = 250) {
  const deadline = Date.now() + ms;
  let value;
  for (;;) {
    value = await fn();
    if (predicate(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timeout (${ms} ms) waiting for ${what}; last value: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

module.exports = {
  waitFor,
  waitUntil,
  pollUntil,
  waitStable,
  closeWorker,
  assertError,
  assertRejects,
  assertThrows,
  tmpDir,
  makeDtlsFiles,
  runChild,
  jsonLines,
};
