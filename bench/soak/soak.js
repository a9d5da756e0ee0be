'use strict';

// Soak: headless Chromium clients join and leave the demo room for a while;
// the SFU process (bench/soak/server.js) samples its RSS, heaps, goroutines,
// fds, live engine objects and forwarded packets. At the end: a summary and
// a growth check (non-zero exit when it fails). Run through bench/soak/run.sh
// (inside ../shared/tools/netns: every packet stays on loopback).
//
//   node bench/soak/soak.js [--duration 30m] [--clients 3] [--churn 6]
//     [--interval 10] [--out DIR] [--max-rss-slope 100] [--max-goroutine-slope 200]
//     [--max-fd-slope 100] [--max-idle-goroutines 10] [--max-idle-fds 10]
//     [--max-failed 0.1]
//
// --churn is joins per minute over all clients: each client stays for a
// random lifetime, uniform in [0.5, 1.5] × clients × 60 / churn seconds,
// then closes its page and a new one takes its place.

const fs = require('node:fs');
const path = require('node:path');
const { fork } = require('node:child_process');

const { launch, findChromium } = require('../../test/browser/chromium');

const DEFAULTS = {
  duration: '30m',
  clients: 3,
  churn: 6,
  interval: 10,
  out: path.join(__dirname, 'results'),
  'max-rss-slope': 100, // MB per hour
  'max-goroutine-slope': 200, // per hour
  'max-fd-slope': 100, // per hour
  'max-idle-goroutines': 10, // idle after the run vs idle before
  'max-idle-fds': 10,
  'max-failed': 0.1, // share of clients that failed to join
};

function usageError(message) {
  return Object.assign(new Error(message), { usage: true });
}

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !(match[1] in DEFAULTS)) {
      if (arg === '--help' || arg === '-h') {
        console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 16).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
        process.exit(0);
      }
      throw usageError(`unknown argument ${arg} (--help)`);
    }
    const value = match[2] !== undefined ? match[2] : argv[++i];
    if (value === undefined) throw usageError(`${arg} needs a value`);
    opts[match[1]] = value;
  }
  opts.durationS = parseDuration(String(opts.duration));
  for (const key of Object.keys(DEFAULTS)) {
    if (key === 'duration' || key === 'out') continue;
    opts[key] = Number(opts[key]);
    if (!Number.isFinite(opts[key]) || opts[key] < 0) throw usageError(`--${key}: not a number >= 0`);
  }
  if (opts.clients < 1 || opts.churn <= 0 || opts.interval <= 0) throw usageError('--clients, --churn and --interval must be > 0');
  return opts;
}

function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text);
  if (!match) throw usageError(`--duration ${text}: expected e.g. 300, 300s, 5m, 1h`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] || 's'];
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const stamp = () => new Date().toISOString().slice(11, 19);

/**
 * Least squares of y on [1, t, load]: returns the coefficient of t (growth
 * per unit of t with the load held constant) and the plain slope of y on t.
 */
function slopes(rows, key, loadKey) {
  const n = rows.length;
  if (n < 3) return { slope: NaN, adjusted: NaN };
  const t = rows.map((r) => r.t / 3600);
  const y = rows.map((r) => r[key]);
  const l = rows.map((r) => r[loadKey]);
  const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
  const mt = mean(t); const my = mean(y); const ml = mean(l);
  let stt = 0; let sll = 0; let stl = 0; let sty = 0; let sly = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i] - mt; const dl = l[i] - ml; const dy = y[i] - my;
    stt += dt * dt; sll += dl * dl; stl += dt * dl; sty += dt * dy; sly += dl * dy;
  }
  const slope = stt > 0 ? sty / stt : NaN;
  const det = stt * sll - stl * stl;
  const adjusted = det > 1e-12 * stt * sll && sll > 0 ? (sty * sll - sly * stl) / det : slope;
  return { slope, adjusted };
}

function startServer(opts, logFile) {
  const child = fork(path.join(__dirname, 'server.js'), [], {
    env: { ...process.env, SOAK_INTERVAL: String(opts.interval), DEBUG: process.env.DEBUG || '' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: ['--expose-gc'], // heapUsed/external sampled after a full GC: live memory only
  });
  const log = fs.createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return child;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!findChromium()) throw new Error('Chromium not found (install Debian\'s "chromium" or set GOSFU_CHROMIUM)');
  fs.mkdirSync(opts.out, { recursive: true });
  const csvFile = path.join(opts.out, 'samples.csv');
  const summaryFile = path.join(opts.out, 'summary.json');
  const serverLog = path.join(opts.out, 'server.log');

  const meanLifetime = (opts.clients * 60) / opts.churn;
  console.log(`soak: ${opts.durationS} s, ${opts.clients} clients, ${opts.churn} joins/min `
    + `(lifetime ${(meanLifetime * 0.5).toFixed(0)}-${(meanLifetime * 1.5).toFixed(0)} s), `
    + `sample every ${opts.interval} s -> ${opts.out}`);

  const server = startServer(opts, serverLog);
  const samples = [];
  let csv;
  const waiters = [];
  const serverExit = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  let stopping = false;
  server.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`soak: the SFU process exited (${code ?? signal}); see ${serverLog}`);
      process.exit(2);
    }
  });
  server.on('message', (message) => {
    if (message.type === 'sample') {
      const s = message.sample;
      samples.push(s);
      if (!csv) {
        csv = fs.createWriteStream(csvFile);
        csv.write(`${Object.keys(s).join(',')}\n`);
      }
      csv.write(`${Object.values(s).join(',')}\n`);
      console.log(`[${stamp()}] t=${s.t}s ${s.label} peers=${s.peers} rss=${s.rssMB}MB heap=${s.heapUsedMB}MB `
        + `goroutines=${s.goroutines} goHeap=${s.goHeapInuseMB}MB fds=${s.fds} transports=${s.transports} `
        + `consumers=${s.consumers} pkts=${s.packetsForwarded} msgs=${s.messagesForwarded}`);
    } else if (message.type === 'error') {
      console.error(`soak: sample failed: ${message.error}`);
    }
    for (const w of waiters.splice(0)) w(message);
  });
  const waitMessage = (predicate) => new Promise((resolve) => {
    const check = (m) => (predicate(m) ? resolve(m) : waiters.push(check));
    waiters.push(check);
  });
  const ready = await waitMessage((m) => m.type === 'ready');
  const isStart = (s) => s.label === 'start';
  const idleStart = samples.find(isStart)
    || (await waitMessage((m) => m.type === 'sample' && isStart(m.sample))).sample;
  console.log(`soak: SFU pid ${ready.pid} at ${ready.url}`);

  // One Chromium for the whole run; relaunched (once, for all slots) if it
  // dies. Its context is persistent, so 'close' is the way to see that.
  let browser;
  let relaunching;
  async function launchBrowser() {
    const b = await launch();
    b.context.on('close', () => { b.gone = true; });
    return b;
  }
  browser = await launchBrowser();
  const stats = {
    joined: 0, failed: 0, failures: [], remoteViews: 0, remoteViewsWithVideo: 0, remoteViewsWithAudio: 0,
    browserRestarts: 0,
  };
  const deadline = Date.now() + opts.durationS * 1000;
  let clientNo = 0;

  async function runClient(slot) {
    const n = ++clientNo;
    const lifetimeMs = Math.min(meanLifetime * (0.5 + Math.random()) * 1000, Math.max(0, deadline - Date.now()));
    let page;
    try {
      if (relaunching) await relaunching;
      page = await browser.newPage();
      const leaveAt = Date.now() + lifetimeMs;
      await page.goto(`${ready.url}?name=soak-${n}`, { timeout: 30000 });
      await page.waitForFunction(() => window.demo && (window.demo.state.joined || window.demo.state.error),
        null, { timeout: 30000 });
      const error = await page.evaluate(() => window.demo.state.error);
      if (error) throw new Error(`page error: ${error}`);
      // Media is published after joining: wait for the producers, so that
      // each client publishes audio+video before it may leave.
      await page.waitForFunction(() => window.demo.state.producers.audio && window.demo.state.producers.video,
        null, { timeout: 30000 });
      stats.joined++;
      // DataChannel traffic: one chat message a second.
      await page.evaluate((name) => {
        let i = 0;
        setInterval(() => {
          const dp = window.demo.state.chat.dataProducer;
          if (dp && dp.readyState === 'open') dp.send(`${name} says ${i++}`);
        }, 1000);
      }, `soak-${n}`);
      const rest = leaveAt - Date.now();
      if (rest > 0) await sleep(rest); // the client's lifetime
      // What it saw of the others: remote tiles with decoded video / audio.
      const remotes = await page.evaluate(() => window.demo.remoteStats());
      for (const r of remotes) {
        stats.remoteViews++;
        if (r.framesDecoded > 0) stats.remoteViewsWithVideo++;
        if (r.audioPacketsReceived > 0) stats.remoteViewsWithAudio++;
      }
    } catch (error) {
      stats.failed++;
      if (stats.failures.length < 20) stats.failures.push(`client ${n} (slot ${slot}): ${String(error.message).split('\n')[0]}`);
      console.error(`[${stamp()}] client ${n} failed: ${String(error.message).split('\n')[0]}`);
      if (browser.gone) {
        if (!relaunching) {
          console.error(`[${stamp()}] Chromium is gone: relaunching it`);
          stats.browserRestarts++;
          relaunching = (async () => {
            await browser.close().catch(() => {});
            browser = await launchBrowser();
          })().finally(() => { relaunching = undefined; });
        }
        await relaunching;
        page = undefined;
      }
    } finally {
      if (page) await page.close().catch(() => {});
    }
  }

  async function slotLoop(slot) {
    // Stagger the first joins so that leaves spread out.
    await sleep((slot * meanLifetime * 1000) / opts.clients / 2);
    while (Date.now() < deadline - 5000) await runClient(slot);
  }

  const startedAt = Date.now();
  await Promise.all(Array.from({ length: opts.clients }, (_, slot) => slotLoop(slot)));
  await browser.close().catch(() => {});
  const soakS = (Date.now() - startedAt) / 1000;

  // Idle again: wait for the engine's objects to go, then for the goroutines
  // to settle (transport goroutines exit shortly after close), up to 30 s.
  let idleEnd;
  for (let i = 0; i < 30; i++) {
    server.send({ type: 'sample', label: 'idle-end' });
    idleEnd = (await waitMessage((m) => m.type === 'sample' && m.sample.label === 'idle-end')).sample;
    if (idleEnd.transports === 0 && idleEnd.goroutines <= idleStart.goroutines + opts['max-idle-goroutines']
      && idleEnd.fds <= idleStart.fds + opts['max-idle-fds']) break;
    await sleep(1000);
  }
  stopping = true;
  server.send({ type: 'stop' });
  await Promise.race([serverExit, sleep(10000)]);
  if (server.exitCode === null) server.kill('SIGKILL');
  if (csv) await new Promise((resolve) => { csv.end(resolve); });

  // Summary.
  const periodic = samples.filter((s) => s.label === 'periodic');
  const secondHalf = periodic.filter((s) => s.t >= periodic[0].t + (periodic[periodic.length - 1].t - periodic[0].t) / 2);
  const keys = ['rssMB', 'heapUsedMB', 'externalMB', 'goHeapInuseMB', 'goSysMB', 'goroutines', 'fds',
    'peers', 'transports', 'producers', 'consumers', 'dataConsumers'];
  const metrics = {};
  for (const key of keys) {
    const values = periodic.map((s) => s[key]);
    const { slope, adjusted } = slopes(secondHalf, key, 'transports');
    metrics[key] = {
      idleStart: idleStart[key],
      first: values[0],
      last: values[values.length - 1],
      min: Math.min(...values),
      max: Math.max(...values),
      idleEnd: idleEnd[key],
      slopePerHour: Number(slope.toFixed(2)),
      slopePerHourLoadAdjusted: Number(adjusted.toFixed(2)),
    };
  }
  const last = samples[samples.length - 1];
  const checks = [
    ['RSS growth (second half, MB/h)', metrics.rssMB.slopePerHourLoadAdjusted, opts['max-rss-slope']],
    ['goroutine growth (second half, /h)', metrics.goroutines.slopePerHourLoadAdjusted, opts['max-goroutine-slope']],
    ['fd growth (second half, /h)', metrics.fds.slopePerHourLoadAdjusted, opts['max-fd-slope']],
    ['goroutines idle end - idle start', idleEnd.goroutines - idleStart.goroutines, opts['max-idle-goroutines']],
    ['fds idle end - idle start', idleEnd.fds - idleStart.fds, opts['max-idle-fds']],
    ['engine objects left (transports+producers+consumers+data)',
      idleEnd.transports + idleEnd.producers + idleEnd.consumers + idleEnd.dataProducers + idleEnd.dataConsumers, 0],
    ['failed clients (share)', Number((stats.failed / Math.max(1, stats.joined + stats.failed)).toFixed(3)), opts['max-failed']],
  ].map(([what, value, max]) => ({ what, value, max, ok: Number.isFinite(value) ? value <= max : false }));
  const packetsForwarded = last.packetsForwarded;
  checks.push({ what: 'packets forwarded', value: packetsForwarded, min: 1, ok: packetsForwarded > 0 });

  const summary = {
    options: {
      durationS: opts.durationS, clients: opts.clients, churnPerMin: opts.churn, intervalS: opts.interval,
    },
    soakS: Number(soakS.toFixed(0)),
    samples: periodic.length,
    clients: stats,
    packetsForwarded,
    packetsPerSecond: Number((packetsForwarded / soakS).toFixed(0)),
    messagesForwarded: last.messagesForwarded,
    cpuS: last.cpuS,
    loadavg: require('node:os').loadavg().map((x) => Number(x.toFixed(2))),
    metrics,
    checks,
    ok: checks.every((c) => c.ok),
  };
  fs.writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);

  console.log(`\nsoak summary (${summary.soakS} s, ${stats.joined} clients joined, ${stats.failed} failed, `
    + `${packetsForwarded} RTP packets and ${summary.messagesForwarded} messages forwarded, SFU CPU ${last.cpuS} s)`);
  console.log(`remote views with video ${stats.remoteViewsWithVideo}/${stats.remoteViews}, `
    + `with audio ${stats.remoteViewsWithAudio}/${stats.remoteViews}`);
  console.log('| metric | idle start | first | last | max | idle end | slope 2nd half /h | load-adjusted /h |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [key, m] of Object.entries(metrics)) {
    console.log(`| ${key} | ${m.idleStart} | ${m.first} | ${m.last} | ${m.max} | ${m.idleEnd} | ${m.slopePerHour} | ${m.slopePerHourLoadAdjusted} |`);
  }
  console.log('\nchecks:');
  for (const c of checks) {
    console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.value} (${c.max !== undefined ? `max ${c.max}` : `min ${c.min}`})`);
  }
  console.log(`\n${summary.ok ? 'PASS' : 'FAIL'}: samples in ${csvFile}, summary in ${summaryFile}, SFU log in ${serverLog}`);
  process.exit(summary.ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`soak failed: ${error.usage ? error.message : error.stack || error}`);
  process.exit(2);
});
