'use strict';

// The room demo (npm start): starts demo/server.js on a free port, opens two
// Chromium pages and checks that each shows the other's live video, that the
// participant lists follow, that a chat message typed in one page appears in
// the other (DataChannels through gosfu), and that the server shuts down
// cleanly on SIGTERM. Runs inside ../shared/tools/netns like the other
// browser tests; skipped without Chromium unless CI=true.

const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { requireChromium, launch } = require('./browser/chromium');

const { pollUntil } = require('./helpers');

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

describe('demo (npm start): the room in Chromium', function () {
  this.timeout(60000);

  let browser;
  let demo;

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

  it('serves the page and the bundled script', async () => {
    const page = await (await fetch(demo.url)).text();
    assert.match(page, /<script src="\/app.js"><\/script>/);
    const script = await fetch(new URL('/app.js', demo.url));
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);
    assert.ok((await script.text()).length > 10000, 'the bundle includes mediasoup-client');
    assert.equal((await fetch(new URL('/nope', demo.url))).status, 404);
  });

  it('two participants see each other\'s live video', async function () {
    this.timeout(60000);
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    const pages = { alice, bob };
    for (const [name, page] of Object.entries(pages)) {
      await page.goto(`${demo.url}?name=${name}`);
    }
    for (const [name, page] of Object.entries(pages)) {
      const other = name === 'alice' ? 'bob' : 'alice';
      await page.waitForFunction(() => window.demo && (window.demo.state.joined || window.demo.state.error),
        null, { timeout: 20000 });
      const error = await page.evaluate(() => window.demo.state.error);
      assert.equal(error, undefined, `${name}'s page failed: ${error}`);
      // The participant list shows the other one.
      await page.waitForFunction((o) => [...document.querySelectorAll('#participants li')]
        .some((li) => li.textContent === o), other, { timeout: 20000 });
      // The other one's video plays: it has a size, its time advances and
      // frames are decoded.
      const first = await pollUntil(() => page.evaluate(() => window.demo.remoteStats()),
        (list) => list.length === 1 && list[0].videoWidth > 0 && list[0].framesDecoded > 0, 25000,
        `${name} to show ${other}'s video`);
      assert.equal(first[0].displayName, other);
      await pollUntil(() => page.evaluate(() => window.demo.remoteStats()),
        (list) => list[0].currentTime > first[0].currentTime + 0.5
          && list[0].framesDecoded >= first[0].framesDecoded + 10
          && list[0].audioPacketsReceived > 0, 15000,
        `${name}'s view of ${other} to advance`);
      const shown = await page.evaluate(() => {
        const video = document.querySelector('.tile.remote video');
        return { width: video.videoWidth, height: video.videoHeight, paused: video.paused };
      });
      assert.ok(shown.width > 0 && shown.height > 0, JSON.stringify(shown));
      assert.equal(shown.paused, false);
    }

    // Alice turns her camera off (producer paused on the server): Bob's tile
    // of her dims; on again, it comes back.
    await alice.evaluate(() => document.querySelector('#toggle-camera').click());
    await alice.waitForFunction(() => document.querySelector('#toggle-camera').textContent === 'Camera on',
      null, { timeout: 5000 });
    await bob.waitForSelector('.tile.remote.paused', { timeout: 5000 });
    await alice.evaluate(() => document.querySelector('#toggle-camera').click());
    await bob.waitForSelector('.tile.remote:not(.paused)', { timeout: 5000 });
    const beforeResume = (await bob.evaluate(() => window.demo.remoteStats()))[0].framesDecoded;
    await pollUntil(() => bob.evaluate(() => window.demo.remoteStats()),
      (list) => list[0].framesDecoded >= beforeResume + 10, 10000, 'bob to decode alice again after camera on');

    // Bob leaves: Alice's list and grid follow.
    await bob.close();
    await alice.waitForFunction(() => !document.querySelector('.tile.remote')
      && document.querySelectorAll('#participants li').length === 1, null, { timeout: 10000 });
    await alice.close();
  });

  it('two participants chat over DataChannels', async function () {
    this.timeout(60000);
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    const pages = { alice, bob };
    try {
      for (const [name, page] of Object.entries(pages)) await page.goto(`${demo.url}?name=${name}`);
      for (const [name, page] of Object.entries(pages)) {
        const other = name === 'alice' ? 'bob' : 'alice';
        await page.waitForFunction(() => window.demo && (window.demo.state.joined || window.demo.state.error),
          null, { timeout: 20000 });
        const error = await page.evaluate(() => window.demo.state.error);
        assert.equal(error, undefined, `${name}'s page failed: ${error}`);
        // Its chat DataProducer is open (the text box is enabled) and it has
        // an open DataConsumer of the other one's.
        await page.waitForFunction((o) => {
          const chat = window.demo.chatState();
          return chat.producer && chat.producer.readyState === 'open'
            && chat.consumers.some((c) => c.displayName === o && c.readyState === 'open');
        }, other, { timeout: 20000 });
        assert.equal(await page.isEnabled('#chat-input'), true);
        const chat = await page.evaluate(() => window.demo.chatState());
        assert.equal(chat.consumers.length, 1, JSON.stringify(chat));
      }

      const shows = (page, from, text) => page.waitForFunction(({ f, t }) => [...document.querySelectorAll('#chat-messages li')]
        .some((li) => li.querySelector('.from').textContent === f && li.querySelector('.text').textContent === t),
      { f: from, t: text }, { timeout: 10000 });

      // Alice types and presses Enter: the message shows in both pages.
      await alice.fill('#chat-input', 'hello bob 👋');
      await alice.press('#chat-input', 'Enter');
      await shows(bob, 'alice', 'hello bob 👋');
      await shows(alice, 'alice', 'hello bob 👋');
      assert.equal(await alice.inputValue('#chat-input'), '');

      // Bob answers with the Send button, twice: both arrive, in order.
      for (const text of ['hi alice', '<b>not bold</b>']) {
        await bob.fill('#chat-input', text);
        await bob.click('#chat-send');
      }
      await shows(alice, 'bob', '<b>not bold</b>');
      const aliceList = await alice.evaluate(() => [...document.querySelectorAll('#chat-messages li')]
        .map((li) => `${li.querySelector('.from').textContent}: ${li.querySelector('.text').textContent}`));
      assert.deepEqual(aliceList, ['alice: hello bob 👋', 'bob: hi alice', 'bob: <b>not bold</b>']);
      assert.equal(await alice.evaluate(() => document.querySelector('#chat-messages b')), null, 'text, not HTML');
      const bobList = await bob.evaluate(() => window.demo.chatState().messages);
      assert.deepEqual(bobList, [
        { from: 'alice', text: 'hello bob 👋', self: false },
        { from: 'bob', text: 'hi alice', self: true },
        { from: 'bob', text: '<b>not bold</b>', self: true },
      ]);

      // Bob leaves: Alice's DataConsumer of his chat goes away.
      await bob.close();
      await alice.waitForFunction(() => window.demo.chatState().consumers.length === 0, null, { timeout: 10000 });
    } finally {
      for (const page of Object.values(pages)) await page.close().catch(() => {});
    }
  });

  it('shuts down cleanly on SIGTERM', async () => {
    demo.child.kill('SIGTERM');
    const { code, signal } = await waitExit(demo.child, 8000);
    assert.equal(signal, null, demo.output());
    assert.equal(code, 0, demo.output());
  });
});
