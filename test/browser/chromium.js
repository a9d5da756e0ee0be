'use strict';

// Harness for tests (and the demo's test) that drive Debian's Chromium with
// playwright-core: finding the binary, launching it with the flags that make
// WebRTC work on loopback, bundling page scripts with esbuild and serving
// them from a tiny HTTP server on 127.0.0.1.
//
// Run everything that does ICE inside ../shared/tools/netns (loopback only).

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

/**
 * The flags measured to work (see shared/README.md). No --disable-features:
 * Chromium honours only the last one and Playwright passes its own.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  // Keep timers and media running at full rate in background/occluded pages.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch (error) {
    return false;
  }
}

/**
 * The full path of the Chromium binary: $GOSFU_CHROMIUM, else `chromium` (or
 * chromium-browser) on PATH, else /usr/bin/chromium; undefined when none.
 */
function findChromium() {
  if (process.env.GOSFU_CHROMIUM) {
    return isExecutable(process.env.GOSFU_CHROMIUM) ? process.env.GOSFU_CHROMIUM : undefined;
  }
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return isExecutable('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

/**
 * For mocha suites: returns the Chromium path, or calls `ctx.skip()` (with a
 * message on stderr) when there is none, except under CI=true where a missing
 * Chromium is an error.
 */
function requireChromium(ctx, what = 'browser tests') {
  const chromium = findChromium();
  if (chromium) return chromium;
  const message = `${what}: Chromium not found (install Debian's "chromium" or set GOSFU_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true, so this is a failure`);
  process.stderr.write(`  skipping ${message}\n`);
  ctx.skip();
  return undefined;
}

/**
 * Launches Chromium with a fresh profile. Resolves with
 * { context, newPage(), close() }; close() also removes the profile.
 */
async function launch({ args = [], headless = true } = {}) {
  const { chromium } = require('playwright-core');
  const executablePath = findChromium();
  if (!executablePath) throw new Error('Chromium not found');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless,
      args: CHROMIUM_ARGS.concat(args),
      permissions: ['camera', 'microphone'],
      timeout: 60000,
    });
  } catch (error) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  let closed = false;
  return {
    context,
    async newPage() {
      // A persistent context starts with one blank page: use it first.
      const blank = context.pages().find((p) => p.url() === 'about:blank' && !p.__gosfuUsed);
      const page = blank || (await context.newPage());
      page.__gosfuUsed = true;
      if (process.env.GOSFU_BROWSER_DEBUG) {
        page.on('console', (msg) => process.stderr.write(`[page ${msg.type()}] ${msg.text()}\n`));
        page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.stack || error}\n`));
      }
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        fs.rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Bundles `entry` for the browser (esbuild --bundle --format=iife
 * --platform=browser) into `outfile` and returns `outfile`.
 */
async function bundle(entry, outfile, { minify = false, define } = {}) {
  const esbuild = require('esbuild');
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110'],
    minify,
    sourcemap: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"', ...(define || {}) },
  });
  return outfile;
}

let testBundlePromise;

/** The test page's bundle (test/browser/page.js), built once per process. */
function testPageBundle() {
  if (!testBundlePromise) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-page-'));
    testBundlePromise = bundle(path.join(__dirname, 'page.js'), path.join(dir, 'page.js'))
      .then((file) => fs.readFileSync(file, 'utf8'))
      .finally(() => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return testBundlePromise;
}

/**
 * Serves fixed bodies: `files` maps URL paths ('/', '/page.js') to
 * { type, body }. Resolves with { url, port, close() } on 127.0.0.1.
 */
function serve(files) {
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url, 'http://x').pathname;
    const file = files[urlPath];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    res.end(file.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/`,
        port,
        close: () => new Promise((r) => {
          if (server.closeAllConnections) server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

const TEST_PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>gosfu test page</title></head>
<body><script src="/page.js"></script></body></html>
`;

/** Serves the test page (bundled on first use). Resolves as serve() does. */
async function serveTestPage() {
  const js = await testPageBundle();
  return serve({
    '/': { type: 'text/html; charset=utf-8', body: TEST_PAGE_HTML },
    '/page.js': { type: 'text/javascript; charset=utf-8', body: js },
  });
}

/**
 * Opens the test page in a new tab of `browser` (from launch()), with
 * `onSignal(method, data)` exposed to it as window.gosfuSignal and, if
 * given, `initScript` (a function) run in the page before its own scripts.
 * Resolves with the Playwright page once window.gosfu is there.
 */
async function openTestPage(browser, url, onSignal, { initScript } = {}) {
  const page = await browser.newPage();
  if (initScript) await page.addInitScript(initScript);
  await page.exposeFunction('gosfuSignal', async (method, data) => {
    try {
      const result = await onSignal(method, data);
      return result === undefined ? null : result;
    } catch (error) {
      // Exposed functions reject in the page with the message only.
      throw new Error(`${method}: ${error && error.message}`);
    }
  });
  await page.goto(url);
  await page.waitForFunction(() => window.gosfuReady === true, null, { timeout: 20000 });
  return page;
}

/**
 * Warns when network interfaces other than loopback are visible: Chromium
 * and the SFU would gather candidates on them. WebRTC suites are meant to
 * run inside ../shared/tools/netns (npm test does so).
 */
function warnOutsideNetns() {
  const outside = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (addrs.some((a) => !a.internal)) outside.push(name);
  }
  if (outside.length > 0) {
    process.stderr.write(
      `  warning: network interfaces other than loopback are visible (${outside.join(', ')}); `
      + 'run this suite inside ../shared/tools/netns\n',
    );
  }
}

/**
 * The server side of the test page's signalling, as an app answers
 * mediasoup-client's transport events: `connect`, `produce` and
 * `produceData` on the transport of that id in `serverTransports`; new
 * producers and data producers are added to the given maps (by id).
 */
function serverSignalHandler(serverTransports, { producers, dataProducers } = {}) {
  return async (method, data) => {
    const transport = serverTransports.get(data.transportId);
    if (!transport) throw new Error(`unknown transport ${data.transportId}`);
    switch (method) {
      case 'connect':
        await transport.connect({ dtlsParameters: data.dtlsParameters });
        return {};
      case 'produce': {
        const producer = await transport.produce({
          kind: data.kind, rtpParameters: data.rtpParameters, appData: data.appData,
        });
        if (producers) producers.set(producer.id, producer);
        return { id: producer.id };
      }
      case 'produceData': {
        const dataProducer = await transport.produceData({
          sctpStreamParameters: data.sctpStreamParameters,
          label: data.label,
          protocol: data.protocol,
          appData: data.appData,
        });
        if (dataProducers) dataProducers.set(dataProducer.id, dataProducer);
        return { id: dataProducer.id };
      }
      default:
        throw new Error(`unknown method ${method}`);
    }
  };
}

module.exports = {
  CHROMIUM_ARGS,
  findChromium,
  requireChromium,
  warnOutsideNetns,
  launch,
  bundle,
  serve,
  serveTestPage,
  openTestPage,
  serverSignalHandler,
  testPageBundle,
};
