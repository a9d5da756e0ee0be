'use strict';

// The room demo (npm start): starts demo/server.js on a free port and opens
// three Chromium pages (alice, bob, carol) that publish their fake camera as
// simulcast and their fake microphone. Checked, from the pages as a person
// sees them and from the server:
// - everyone sees everyone's live video in a grid that fills the window;
// - each remote tile's overlay shows live figures from getStats() (bitrate
//   above 0 and changing, the resolution the <video> shows, frames/s, loss,
//   RTT) and the simulcast layer the server forwards;
// - the server's ActiveSpeakerObserver reaches the pages ('dominantspeaker')
//   and some tile carries the highlight;
// - choosing layer 0 in a tile's control makes the server forward layer 0
//   (the overlay's layer and resolution go down), 'best' brings it back;
// - chat over DataChannels;
// - the server stats panel lists every transport, producer and consumer with
//   a bitrate above 0, and its chart has points;
// - a screenshot is kept in test/artifacts/demo.png;
// - camera off dims the tile, a leaving participant leaves the grid, and
//   the server shuts down cleanly on SIGTERM.
// Runs inside ../shared/tools/netns like the other browser tests; skipped
// without Chromium unless CI=true.
//
// The pages capture 960x540 at 15 frames/s (three simulcast layers, 240x135
// to 960x540): three pages encoding and decoding 720p at 30 frames/s do not
// fit on a 2-core machine. GOSFU_DEMO_RES / GOSFU_DEMO_FPS override it.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { requireChromium, launch } = require('./browser/chromium');

const { pollUntil } = require('./helpers');

const RES = Number(process.env.GOSFU_DEMO_RES || 540);
const FPS = Number(process.env.GOSFU_DEMO_FPS || 15);
const ARTIFACTS = path.join(__dirname, 'artifacts');

/** Starts the demo with PORT=0; resolves with { child, url, output() }. */
function startDemo() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'demo', 'server.js')], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', MEDIA_IP: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not print its URL within 30 s; output:\n${output}`));
    }, 30000);
    const onData = (chunk) => {
      output += chunk;
      const match = /gosfu demo: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code ?? signal}) before printing its URL; output:\n${output}`));
    });
  });
}

function waitExit(child, ms) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => reject(new Error(`the demo did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

const NAMES = ['alice', 'bob', 'carol'];

describe('demo (npm start): the room in Chromium', function () {
  this.timeout(60000);

  let browser;
  let demo;
  const pages = {};

  /** A page's overlay of another participant's tile. */
  const overlayOf = async (page, name) => (await page.evaluate(() => window.demo.overlays()))
    .find((o) => o.displayName === name);

  before(async function () {
    this.timeout(60000);
    requireChromium(this, 'demo browser test');
    demo = await startDemo();
    browser = await launch();
  });

  after(async function () {
    this.timeout(20000);
    if (browser) await browser.close().catch(() => {});
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGKILL');
      await waitExit(demo.child, 5000).catch(() => {});
    }
  });

  it('serves the page, the bundled script and the server stats', async () => {
    const page = await (await fetch(demo.url)).text();
    assert.match(page, /<script src="\/app.js"><\/script>/);
    const script = await fetch(new URL('/app.js', demo.url));
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);
    assert.ok((await script.text()).length > 10000, 'the bundle includes mediasoup-client');
    assert.equal((await fetch(new URL('/nope', demo.url))).status, 404);
    const stats = await fetch(new URL('/api/stats', demo.url));
    assert.equal(stats.status, 200);
    const snapshot = await stats.json();
    assert.deepEqual(snapshot.peers, []);
    assert.equal(snapshot.totals.peers, 0);
    assert.ok(Array.isArray(snapshot.history));
  });

  it('three participants see each other\'s live video in a grid that fills the window', async function () {
    this.timeout(60000);
    for (const name of NAMES) {
      pages[name] = await browser.newPage();
      if (name === 'alice') await pages[name].setViewportSize({ width: 1440, height: 900 });
      await pages[name].goto(`${demo.url}?name=${name}&res=${RES}&fps=${FPS}`);
    }
    for (const [name, page] of Object.entries(pages)) {
      const others = NAMES.filter((n) => n !== name);
      await page.waitForFunction(() => window.demo && (window.demo.state.joined || window.demo.state.error),
        null, { timeout: 20000 });
      const error = await page.evaluate(() => window.demo.state.error);
      assert.equal(error, undefined, `${name}'s page failed: ${error}`);
      // The participant list shows the others.
      await page.waitForFunction((o) => o.every((n) => [...document.querySelectorAll('#participants li')]
        .some((li) => li.textContent === n)), others, { timeout: 20000 });
      // Their videos play: a size, time advancing, frames decoded.
      const first = await pollUntil(() => page.evaluate(() => window.demo.remoteStats()),
        (list) => list.length === 2 && list.every((r) => r.videoWidth > 0 && r.framesDecoded > 0), 30000,
        `${name} to show the others' video`);
      assert.deepEqual(first.map((r) => r.displayName).sort(), others);
      await pollUntil(() => page.evaluate(() => window.demo.remoteStats()),
        (list) => list.every((r) => {
          const before = first.find((f) => f.peerId === r.peerId);
          return r.currentTime > before.currentTime + 0.5 && r.framesDecoded >= before.framesDecoded + 5
            && r.audioPacketsReceived > 0;
        }), 20000, `${name}'s view of the others to advance`);
    }
    // The grid: three tiles side by side or 2+1, as large as the stage
    // allows, all inside the window.
    const grid = await pages.alice.evaluate(() => {
      const stage = document.querySelector('#grid').getBoundingClientRect();
      const tiles = [...document.querySelectorAll('#grid .tile')].map((t) => t.getBoundingClientRect());
      return {
        cols: window.demo.state.grid.cols,
        stage: { width: stage.width, height: stage.height },
        tiles: tiles.map((r) => ({
          left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height,
        })),
        within: tiles.every((r) => r.left >= stage.left && r.right <= stage.right + 1
          && r.top >= stage.top && r.bottom <= stage.bottom + 1),
      };
    });
    assert.equal(grid.tiles.length, 3, JSON.stringify(grid));
    assert.ok(grid.within, `tiles outside the stage: ${JSON.stringify(grid)}`);
    const widest = Math.max(...grid.tiles.map((t) => t.width));
    assert.ok(grid.cols >= 2 && widest > grid.stage.width / 3 - 20, `tiles fill the stage: ${JSON.stringify(grid)}`);
    for (const t of grid.tiles) assert.ok(Math.abs(t.width / t.height - 16 / 9) < 0.05, JSON.stringify(t));
  });

  it('each tile\'s overlay shows live figures: bitrate, resolution, frames/s, loss, RTT, layer', async function () {
    this.timeout(30000);
    for (const [name, page] of Object.entries(pages)) {
      for (const other of NAMES.filter((n) => n !== name)) {
        const live = (o) => o && o.bitrate > 0 && o.fps > 0 && o.width > 0
          && o.width === o.videoWidth && o.height === o.videoHeight
          && o.rtt !== undefined && o.lossPercent !== undefined
          && o.type === 'simulcast' && o.currentLayers && o.currentLayers.spatialLayer >= 0;
        const first = await pollUntil(() => overlayOf(page, other), live, 20000,
          `${name}'s overlay of ${other} to show live figures`);
        // The figures are those of the tile, on screen.
        assert.match(first.text, new RegExp(`▼ [\\d.]+ [kM]b/s`), first.text);
        assert.ok(first.text.includes(`${first.width}×${first.height}`), first.text);
        assert.match(first.text, /\d+ fps/);
        assert.match(first.text, /loss \d+\.\d%/);
        assert.match(first.text, /rtt \d+ ms/);
        assert.match(first.text, /simulcast S\d T\d/);
        assert.deepEqual(first.layerControl, ['auto', '2', '1', '0']);
        // …and they move: the next sample's bitrate differs.
        await pollUntil(() => overlayOf(page, other),
          (o) => live(o) && o.updatedAt > first.updatedAt && o.bitrate !== first.bitrate, 10000,
          `${name}'s overlay of ${other} to change`);
      }
      // Its own tile shows what it sends.
      const local = await pollUntil(() => page.evaluate(() => document.querySelector('#local-figures').textContent),
        (text) => /▲ [\d.]+ [kM]b\/s/.test(text) && /\d+×\d+/.test(text), 10000, `${name}'s own figures`);
      assert.match(local, /vp8 simulcast/);
    }
  });

  it('the dominant speaker (ActiveSpeakerObserver) is highlighted', async function () {
    this.timeout(30000);
    // Chromium's fake microphone beeps: some participant becomes dominant,
    // the server pushes 'dominantspeaker' to every page, and the tile of that
    // participant (another's or one's own) carries the highlight.
    for (const [name, page] of Object.entries(pages)) {
      const seen = await pollUntil(() => page.evaluate(() => ({
        events: window.demo.state.dominantSpeakerEvents,
        dominant: window.demo.state.dominantPeerId,
        me: window.demo.state.peerId,
        highlighted: [...document.querySelectorAll('#grid .tile.speaker')]
          .map((t) => (t.id === 'local-tile' ? window.demo.state.peerId : t.dataset.peerId)),
      })), (s) => s.dominant !== undefined && s.highlighted.length === 1, 20000,
      `${name} to highlight the dominant speaker`);
      assert.deepEqual(seen.highlighted, [seen.dominant], JSON.stringify(seen));
    }
    const events = await Promise.all(Object.values(pages).map((p) => p.evaluate(() => window.demo.state.dominantSpeakerEvents)));
    assert.ok(events.some((n) => n > 0), `no 'dominantspeaker' notification reached a page: ${events}`);
  });

  it('the layer control of a tile chooses the simulcast layer received', async function () {
    this.timeout(40000);
    const alice = pages.alice;
    // Bob sends three layers; once alice receives one above the lowest...
    const high = await pollUntil(() => overlayOf(alice, 'bob'),
      (o) => o.currentLayers && o.currentLayers.spatialLayer >= 1 && o.width === o.videoWidth && o.fps > 0, 25000,
      'alice to receive a layer of bob above the lowest');
    // ...she chooses layer 0: the server forwards layer 0 and the overlay's
    // layer and resolution go down.
    await alice.selectOption(`.tile.remote[data-peer-id="${high.peerId}"] select.layer-select`, '0');
    const low = await pollUntil(() => overlayOf(alice, 'bob'),
      (o) => o.currentLayers && o.currentLayers.spatialLayer === 0 && o.preferredLayers
        && o.preferredLayers.spatialLayer === 0 && o.width > 0 && o.width < high.width
        && o.width === o.videoWidth, 20000, 'alice\'s overlay of bob to show layer 0');
    assert.match(low.text, /simulcast S0 T\d/);
    assert.match(low.text, /pref S0/);
    // 'best' asks for the top layer again: the layer goes back up.
    await alice.selectOption(`.tile.remote[data-peer-id="${high.peerId}"] select.layer-select`, 'auto');
    await pollUntil(() => overlayOf(alice, 'bob'),
      (o) => o.currentLayers && o.currentLayers.spatialLayer >= 1 && o.preferredLayers.spatialLayer === 2,
      20000, 'alice\'s overlay of bob to go back up');
  });

  it('participants chat over DataChannels', async function () {
    this.timeout(30000);
    for (const [name, page] of Object.entries(pages)) {
      const others = NAMES.filter((n) => n !== name);
      await page.waitForFunction((o) => {
        const chat = window.demo.chatState();
        return chat.producer && chat.producer.readyState === 'open'
          && o.every((n) => chat.consumers.some((c) => c.displayName === n && c.readyState === 'open'));
      }, others, { timeout: 20000 });
      assert.equal(await page.isEnabled('#chat-input'), true);
    }
    const shows = (page, from, text) => page.waitForFunction(({ f, t }) => [...document.querySelectorAll('#chat-messages li')]
      .some((li) => li.querySelector('.from').textContent === f && li.querySelector('.text').textContent === t),
    { f: from, t: text }, { timeout: 10000 });

    // Alice types and presses Enter: the message shows in every page.
    await pages.alice.fill('#chat-input', 'héllo everyone ✓');
    await pages.alice.press('#chat-input', 'Enter');
    for (const page of Object.values(pages)) await shows(page, 'alice', 'héllo everyone ✓');
    assert.equal(await pages.alice.inputValue('#chat-input'), '');

    // Bob answers with the Send button, twice: both arrive, in order, as text.
    for (const text of ['hi alice', '<b>not bold</b>']) {
      await pages.bob.fill('#chat-input', text);
      await pages.bob.click('#chat-send');
    }
    await shows(pages.alice, 'bob', '<b>not bold</b>');
    await shows(pages.carol, 'bob', '<b>not bold</b>');
    const aliceList = await pages.alice.evaluate(() => [...document.querySelectorAll('#chat-messages li')]
      .map((li) => `${li.querySelector('.from').textContent}: ${li.querySelector('.text').textContent}`));
    assert.deepEqual(aliceList, ['alice: héllo everyone ✓', 'bob: hi alice', 'bob: <b>not bold</b>']);
    assert.equal(await pages.alice.evaluate(() => document.querySelector('#chat-messages b')), null, 'text, not HTML');
    assert.deepEqual(await pages.bob.evaluate(() => window.demo.chatState().messages), [
      { from: 'alice', text: 'héllo everyone ✓', self: false },
      { from: 'bob', text: 'hi alice', self: true },
      { from: 'bob', text: '<b>not bold</b>', self: true },
    ]);
    await pages.carol.fill('#chat-input', 'carol here');
    await pages.carol.press('#chat-input', 'Enter');
    await shows(pages.alice, 'carol', 'carol here');
  });

  it('the stats panel shows the server\'s transports, producers and consumers, with a chart', async function () {
    this.timeout(30000);
    const panel = await pollUntil(() => pages.alice.evaluate(() => window.demo.statsPanel()),
      (p) => p.shown && p.transports.length === 6 && p.producers.length === 6 && p.consumers.length === 12
        && [...p.transports, ...p.producers, ...p.consumers].every((r) => r.bitrate > 0)
        && p.chart.recv >= 3 && p.chart.send >= 3, 20000,
      'alice\'s stats panel to list 6 transports, 6 producers, 12 consumers with bitrates and a chart');
    assert.match(panel.summary, /peers 3 · transports 6 · producers 6 · consumers 12/);
    assert.ok(panel.producers.some((r) => /simulcast/.test(r.text) && /r0 .*r1 /.test(r.text)), JSON.stringify(panel.producers));
    assert.ok(panel.consumers.some((r) => /S\d T\d \/ S2 T2/.test(r.text)), JSON.stringify(panel.consumers));
    // The page's figures agree with the server's JSON.
    const snapshot = await pages.alice.evaluate(() => window.demo.state.serverStats);
    assert.equal(snapshot.totals.peers, 3);
    assert.ok(snapshot.totals.recvBitrate > 0 && snapshot.totals.sendBitrate > 0, JSON.stringify(snapshot.totals));
    // The panel hides and shows again.
    await pages.alice.click('#toggle-stats');
    assert.equal(await pages.alice.isHidden('#stats-panel'), true);
    await pages.alice.click('#toggle-stats');
    assert.equal(await pages.alice.isVisible('#stats-panel'), true);
  });

  it('keeps a screenshot of the room as a test artifact', async function () {
    this.timeout(30000);
    const alice = pages.alice;
    // Alice watches carol at the middle layer, so that the picture shows
    // two layers side by side.
    const carol = await overlayOf(alice, 'carol');
    await alice.selectOption(`.tile.remote[data-peer-id="${carol.peerId}"] select.layer-select`, '1');
    await pollUntil(() => overlayOf(alice, 'carol'), (o) => o.currentLayers && o.currentLayers.spatialLayer === 1
      && o.width === o.videoWidth && o.bitrate > 0, 20000, 'alice\'s view of carol at layer 1');
    // Every overlay live and the chart drawn before the picture.
    await pollUntil(() => alice.evaluate(() => ({
      overlays: window.demo.overlays(),
      panel: window.demo.statsPanel(),
      local: document.querySelector('#local-figures').textContent,
    })), (s) => s.overlays.length === 2 && s.overlays.every((o) => o.bitrate > 0 && o.videoWidth > 0)
      && s.panel.chart.recv >= 3 && s.local.includes('▲'), 15000, 'alice\'s page to be complete');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'demo.png');
    await alice.screenshot({ path: file });
    assert.ok(fs.statSync(file).size > 10000);
    process.stdout.write(`      screenshot: ${path.relative(process.cwd(), file)}\n`);
  });

  it('camera off dims the tile; a participant who leaves leaves the grid', async function () {
    this.timeout(30000);
    const { alice, bob, carol } = pages;
    const aliceId = await alice.evaluate(() => window.demo.state.peerId);
    const aliceTile = `.tile.remote[data-peer-id="${aliceId}"]`;
    await alice.click('#toggle-camera');
    await alice.waitForFunction(() => document.querySelector('#toggle-camera').textContent === 'Camera on',
      null, { timeout: 5000 });
    await bob.waitForSelector(`${aliceTile}.paused`, { timeout: 5000 });
    await alice.click('#toggle-camera');
    await bob.waitForSelector(`${aliceTile}:not(.paused)`, { timeout: 5000 });
    const beforeResume = (await bob.evaluate(() => window.demo.remoteStats())).find((r) => r.displayName === 'alice');
    await pollUntil(() => bob.evaluate(() => window.demo.remoteStats()),
      (list) => list.find((r) => r.displayName === 'alice').framesDecoded >= beforeResume.framesDecoded + 5, 10000,
      'bob to decode alice again after camera on');

    // Carol leaves: the others' grids, lists and chats follow.
    await carol.close();
    delete pages.carol;
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => document.querySelectorAll('.tile.remote').length === 1
        && document.querySelectorAll('#participants li').length === 2
        && window.demo.chatState().consumers.length === 1, null, { timeout: 10000 });
    }
    await pollUntil(() => alice.evaluate(() => window.demo.statsPanel()),
      (p) => p.transports.length === 4 && p.consumers.length === 4, 10000, 'the stats panel to forget carol');
    await bob.close();
    await alice.close();
  });

  it('shuts down cleanly on SIGTERM', async () => {
    demo.child.kill('SIGTERM');
    const { code, signal } = await waitExit(demo.child, 8000);
    assert.equal(signal, null, demo.output());
    assert.equal(code, 0, demo.output());
  });
});
