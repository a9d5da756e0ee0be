'use strict';

// npm test: the mocha suite, then the Go tests (with the race detector),
// then one line "N passed, N failed, N skipped" with the totals of both.
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

const root = path.join(__dirname, '..');

function run(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, ...opts });
    child.on('error', (error) => {
      console.error(`cannot run ${cmd}: ${error.message}`);
      resolve(127);
    });
    child.on('close', (code) => resolve(code === null ? 1 : code));
    if (opts && opts.onLine) {
      readline.createInterface({ input: child.stdout }).on('line', opts.onLine);
    }
  });
}

/** One mocha process; resolves with its { passed, failed, skipped }. */
async function mochaRun(bin, args) {
  const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-test-')), 'mocha.json');
  const mochaBin = require.resolve('mocha/bin/mocha.js');
  const code = await run(bin, [mochaBin, '--reporter', path.join(root, 'test', 'reporter.js'), ...args], {
    stdio: 'inherit', env: { ...process.env, GOSFU_MOCHA_SUMMARY: summary },
  });
  let counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    counts = JSON.parse(fs.readFileSync(summary, 'utf8'));
  } catch (error) {
    console.error('mocha did not report its totals');
    counts.failed++;
  }
  if (code !== 0 && counts.failed === 0) counts.failed++;
  return counts;
}

async function mocha(totals, node = { bin: process.execPath }) {
  const extra = process.argv.slice(2);
  const args = [];
  if (node.major) {
    console.log(`\n== the JS tests on Node ${node.major} (${node.bin}), without ${ONCE.join(', ')}`);
    for (const file of ONCE) args.push('--ignore', file);
  }
  // Files named on the command line run as mocha would run them.
  const alone = extra.length === 0 ? ALONE : [];
  for (const file of alone) args.push('--ignore', file);
  const counts = await mochaRun(node.bin, args.concat(extra));
  for (const file of alone) {
    const c = await mochaRun(node.bin, ['--no-config', '--timeout', '60000', '--exit', file]);
    for (const k of Object.keys(counts)) counts[k] += c[k];
  }
  if (node.major) console.log(`Node ${node.major}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
}

// The Node majors maintained today: the JS tests run on each of them
// besides the Node running this script (GOSFU_NODE_MAJORS overrides the
// list; empty skips). Their binaries are npm's node-linux-<arch> packages,
// fetched once into node_modules/.cache (before the network namespace,
// which has no network).
const NODE_MAJORS = (process.env.GOSFU_NODE_MAJORS ?? '22,24,26').split(',').filter(Boolean);
// Run on the first Node only: what it measures is the engine and Chromium
// under shaping, not Node, and two minutes a run.
const ONCE = ['test/test-bwe-browser.js'];
// Run in a mocha process of their own: they measure the process's memory,
// which after hundreds of tests in one process carries the allocator's
// state (test-event-queue's flood: +60-80 MiB of anonymous memory on Node
// 24, with the Go and V8 heaps flat; +2-12 MiB in a fresh process).
const ALONE = ['test/test-event-queue.js'];

/**
 * The Node binary of npm's node-<platform>-<arch>@major package, fetched
 * into node_modules/.cache/gosfu-node once: { bin } or { error }.
 */
function fetchNode(arch, major) {
  const { spawnSync } = require('child_process');
  const dir = path.join(root, 'node_modules', '.cache', 'gosfu-node', `${process.platform}-${arch}-${major}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const pkg = `node-${process.platform}-${arch}@${major}`;
    const res = spawnSync('npm', ['pack', '--silent', pkg], { cwd: dir, encoding: 'utf8' });
    const tgz = res.status === 0 ? res.stdout.trim().split('\n').pop() : '';
    if (!tgz || spawnSync('tar', ['xzf', tgz], { cwd: dir }).status !== 0 || !fs.existsSync(bin)) {
      return { error: `cannot fetch ${pkg} from the npm registry: ${(res.stderr || '').trim().split('\n').pop()}` };
    }
    fs.rmSync(path.join(dir, tgz));
  }
  return { bin };
}

/**
 * The other majors' Node binaries ({ nodes: [{ major, bin }] } or
 * { error }), and an arm64 Node for the cross-built engine's test
 * (test-prebuild.js, under qemu-user) in GOSFU_ARM64_NODE.
 */
function fetchNodes() {
  const own = process.versions.node.split('.')[0];
  const nodes = [];
  for (const major of NODE_MAJORS.filter((m) => m !== own)) {
    const { bin, error } = fetchNode(process.arch, major);
    if (error) return { error };
    nodes.push({ major, bin });
  }
  if (process.arch === 'x64' && !process.env.GOSFU_ARM64_NODE) {
    const { bin } = fetchNode('arm64', own);
    if (bin) process.env.GOSFU_ARM64_NODE = bin;
  }
  fetchMediasoup();
  return { nodes };
}

/**
 * mediasoup 3.27.1's package (sources and types only: npm pack runs no
 * install script), for test-package-surface.js's comparison of every type's
 * shape: MEDIASOUP_PACKAGE_DIR.
 */
function fetchMediasoup() {
  if (process.env.MEDIASOUP_PACKAGE_DIR) return;
  const { spawnSync } = require('child_process');
  const dir = path.join(root, 'node_modules', '.cache', 'mediasoup-3.27.1');
  const pkg = path.join(dir, 'package');
  if (!fs.existsSync(path.join(pkg, 'node', 'lib', 'types.d.ts'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const res = spawnSync('npm', ['pack', '--silent', 'mediasoup@3.27.1'], { cwd: dir, encoding: 'utf8' });
    const tgz = res.status === 0 ? res.stdout.trim().split('\n').pop() : '';
    if (!tgz || spawnSync('tar', ['xzf', tgz], { cwd: dir }).status !== 0) return;
    fs.rmSync(path.join(dir, tgz));
  }
  process.env.MEDIASOUP_PACKAGE_DIR = pkg;
}

// The Go suite runs under the race detector; the tests that count
// allocations, meaningless there (they skip), run again without it.
const goRuns = [
  { label: 'go test', args: ['test', '-race', '-count=1', '-json', './...'] },
  { label: 'go test (allocations, no -race)', args: ['test', '-count=1', '-json', '-run', '^TestForwardAllocations$', './gosfu/engine/'] },
];

async function goTests(totals, { label, args }) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const failedOutput = new Map();
  const code = await run(process.env.GOSFU_GO || 'go', args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    onLine: (line) => {
      let ev;
      try {
        ev = JSON.parse(line);
      } catch (e) {
        console.log(line);
        return;
      }
      const key = `${ev.Package} ${ev.Test || ''}`;
      if (ev.Action === 'output') {
        if (!ev.Test && /^(ok|FAIL|\?)\s/.test(ev.Output)) process.stdout.write(ev.Output);
        const buf = failedOutput.get(key) || [];
        buf.push(ev.Output);
        failedOutput.set(key, buf);
        return;
      }
      if (!ev.Test) {
        if (ev.Action === 'fail') {
          // A package that fails to build or fails outside any test.
          process.stdout.write((failedOutput.get(key) || []).join(''));
        }
        failedOutput.delete(key);
        return;
      }
      if (ev.Action === 'pass') counts.passed++;
      else if (ev.Action === 'skip') counts.skipped++;
      else if (ev.Action === 'fail') {
        counts.failed++;
        process.stdout.write((failedOutput.get(key) || []).join(''));
      }
      if (ev.Action === 'pass' || ev.Action === 'skip' || ev.Action === 'fail') failedOutput.delete(key);
    },
  });
  if (code !== 0 && counts.failed === 0) counts.failed++;
  console.log(`${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
}

// WebRTC tests (Chromium, pion clients) must only see loopback: run the
// whole suite inside the loopback-only network namespace from ../shared
// when it exists. Modules are fetched first, since the namespace has no
// network.
function maybeReexecInNetns() {
  if (process.env.GOSFU_IN_NETNS === '1' || process.env.GOSFU_NO_NETNS === '1') return;
  const netns = path.join(root, '..', 'shared', 'tools', 'netns');
  if (!fs.existsSync(netns)) {
    console.log('note: ../shared/tools/netns not found: running tests in the current network namespace');
    return;
  }
  const { spawnSync } = require('child_process');
  const probe = spawnSync(netns, ['true'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    console.log('note: cannot create a network namespace here: running tests in the current one');
    return;
  }
  const go = process.env.GOSFU_GO || 'go';
  spawnSync(go, ['list', '-deps', '-test', './...'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const nodes = JSON.stringify(fetchNodes());
  const res = spawnSync(netns, [process.execPath, __filename, ...process.argv.slice(2)], {
    cwd: root, stdio: 'inherit', env: { ...process.env, GOSFU_IN_NETNS: '1', GOSFU_TEST_NODES: nodes },
  });
  process.exit(res.status === null ? 1 : res.status);
}

(async () => {
  maybeReexecInNetns();
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const only = process.env.GOSFU_TEST_ONLY; // 'js' or 'go' for quick local runs
  if (only !== 'go') {
    const { nodes, error } = process.env.GOSFU_TEST_NODES ? JSON.parse(process.env.GOSFU_TEST_NODES) : fetchNodes();
    await mocha(totals);
    if (error && process.env.CI === 'true') {
      console.log(`FAIL: ${error}`);
      totals.failed++;
    } else if (error) {
      console.log(`note: ${error}: the JS tests ran on Node ${process.versions.node} only`);
    }
    for (const node of nodes || []) await mocha(totals, node);
  }
  if (only !== 'js') {
    for (const goRun of goRuns) await goTests(totals, goRun);
  }
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exit(totals.failed > 0 ? 1 : 0);
})();
