'use strict';

// The published package builds and loads in another app: npm pack, then
// npm install of the tarball into a scratch app (offline: the test runs in
// a network namespace without registry access, so dependencies come from
// npm's cache and Go modules from the module cache), then require('gosfu').
// A tarball that carries the prebuilt engine for this platform
// (scripts/prebuild.js) installs and forwards media with neither Go nor a C
// compiler on PATH, and runs the room demo from the installed package with
// none of the devDependencies (its bundles, demo/dist/, are made at npm pack).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawn, spawnSync } = require('child_process');
const WebSocket = require('ws');
const { SMOKE } = require('../scripts/prebuild');

const root = path.join(__dirname, '..');

function npm(args, cwd, env) {
  const npmCli = process.env.npm_execpath && fs.existsSync(process.env.npm_execpath)
    ? [process.execPath, [process.env.npm_execpath]]
    : ['npm', []];
  return execFileSync(npmCli[0], [...npmCli[1], ...args], {
    cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A bin directory with links to every program on PATH except Go and C
 * compilers, for a PATH on which neither can be found.
 */
function pathWithoutToolchains(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const banned = /^(go|gofmt|cc|c\+\+|cpp|gcc|g\+\+|clang|clang\+\+|make|ld|as)(-[\d.]+)?$|-(gcc|g\+\+|cc)(-[\d.]+)?$/;
  const dirs = [path.dirname(process.execPath), ...(process.env.PATH || '').split(path.delimiter)];
  for (const d of dirs) {
    let names = [];
    try { names = fs.readdirSync(d); } catch (e) { continue; }
    for (const name of names) {
      const link = path.join(bin, name);
      if (banned.test(name) || fs.existsSync(link)) continue;
      try { fs.symlinkSync(path.join(d, name), link); } catch (e) { /* a race or a dangling entry */ }
    }
  }
  for (const tool of ['go', 'cc', 'gcc']) {
    const res = spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } });
    assert.notEqual(res.status, 0, `${tool} still on the test PATH`);
  }
  return bin;
}

/** A scratch app directory with its package.json. */
function scratchApp(dir, name) {
  const app = path.join(dir, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `scratch-${name}`, version: '1.0.0', private: true }));
  return app;
}

describe('npm pack', function () {
  this.timeout(300000);
  let dir;
  let tarball;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-pack-'));
    const out = npm(['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop();
    tarball = path.join(dir, out);
    assert.ok(fs.existsSync(tarball), `no tarball ${tarball}`);
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball builds from source in a scratch app and require("gosfu") works there', () => {
    const app = scratchApp(dir, 'app');
    npm(['install', '--offline', '--no-audit', '--no-fund', tarball], app, {
      // Modules come from the local cache only; a tree with prebuilds
      // (npm run release) packs them: build anyway.
      GOFLAGS: '-mod=mod', GOPROXY: 'off', npm_config_build_from_source: 'true',
    });
    const script = `
      const gosfu = require('gosfu');
      (async () => {
        const worker = await gosfu.createWorker();
        const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
        const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
        console.log(JSON.stringify({ version: gosfu.version, codec: router.rtpCapabilities.codecs[0].mimeType, port: transport.tuple.localPort, pid: worker.pid === process.pid }));
        worker.close();
      })();
    `;
    const result = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' }).trim());
    assert.equal(result.version, require('../package.json').version);
    assert.equal(result.codec, 'audio/opus');
    assert.ok(result.port > 0);
    assert.equal(result.pid, true);
    // The app got the built library next to the addon, not a copy of ours.
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'gosfu', 'build', 'Release', 'libgosfu.so')));
  });

  describe('with the prebuilt engine', () => {
    let prebuilt;
    let bin;

    before(() => {
      // The release build of the tarball's own sources: its prebuild for
      // this platform, then npm pack again.
      const pkg = path.join(dir, 'package');
      execFileSync('tar', ['xzf', tarball, '-C', dir]);
      execFileSync(process.execPath, ['scripts/prebuild.js', '--arch', process.arch], {
        cwd: pkg, env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off' }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      const dest = path.join(dir, 'prebuilt');
      fs.mkdirSync(dest);
      // --ignore-scripts: "prepack" (demo/bundle.js) needs esbuild, a
      // devDependency, which this extracted package lacks; the demo/dist/ it
      // would make is already there, made by the first npm pack's prepack
      // from these same sources.
      assert.ok(fs.existsSync(path.join(pkg, 'demo', 'dist', 'server.js')), 'the tarball has no demo/dist/');
      prebuilt = path.join(dest, npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', dest], pkg).trim().split('\n').pop());
      bin = pathWithoutToolchains(dir);
    });

    function install(app, env) {
      const npmCli = process.env.npm_execpath && fs.existsSync(process.env.npm_execpath)
        ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
      const cleanEnv = { ...process.env, PATH: bin, ...env };
      for (const k of ['CC', 'CXX', 'GOSFU_GO', 'GOROOT']) delete cleanEnv[k];
      return spawnSync(npmCli[0], [...npmCli[1], 'install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', prebuilt], {
        cwd: app, env: cleanEnv, encoding: 'utf8',
      });
    }

    it('installs with no Go and no C compiler on PATH, and forwards media', () => {
      const app = scratchApp(dir, 'prebuilt-app');
      const res = install(app, {});
      assert.equal(res.status, 0, `npm install failed:\n${res.stdout}\n${res.stderr}`);
      assert.match(`${res.stdout}${res.stderr}`, new RegExp(`using the prebuilt engine for linux-${process.arch}`));
      const installed = path.join(app, 'node_modules', 'gosfu');
      assert.ok(!fs.existsSync(path.join(installed, 'build')), 'the install built from source');
      const out = execFileSync(process.execPath, ['-e', SMOKE, installed], { cwd: app, encoding: 'utf8', env: { ...process.env, PATH: bin } });
      assert.match(out, new RegExp(`media through the ${process.arch} engine: 44 bytes`));
    });

    it('runs the demo from the installed package, without its devDependencies', async () => {
      const app = scratchApp(dir, 'demo-app');
      const res = install(app, {});
      assert.equal(res.status, 0, `npm install failed:\n${res.stdout}\n${res.stderr}`);
      const installed = path.join(app, 'node_modules', 'gosfu');
      // npx gosfu-demo runs this link to demo/run.js.
      fs.accessSync(path.join(app, 'node_modules', '.bin', 'gosfu-demo'), fs.constants.X_OK);
      for (const name of ['esbuild', 'mediasoup-client', 'ws']) {
        for (const modules of [path.join(app, 'node_modules'), path.join(installed, 'node_modules')]) {
          assert.ok(!fs.existsSync(path.join(modules, name)), `${name} was installed in ${modules}`);
        }
      }

      const env = { ...process.env, PATH: bin, PORT: '0', HOST: '127.0.0.1', MEDIA_IP: '127.0.0.1' };
      delete env.NODE_PATH;
      const child = spawn(process.execPath, [path.join('node_modules', 'gosfu', 'demo', 'run.js')], {
        cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      let socket;
      try {
        const url = await new Promise((resolve, reject) => {
          const onData = (chunk) => {
            output += chunk;
            const match = /gosfu demo: (http:\/\/\S+)/.exec(output);
            if (match) resolve(match[1]);
          };
          child.stdout.setEncoding('utf8').on('data', onData);
          child.stderr.setEncoding('utf8').on('data', onData);
          exited.then(({ code, signal }) => reject(new Error(`the demo exited (${code ?? signal}) before printing its URL:\n${output}`)));
        });

        const page = await fetch(url);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /<script src="\/app.js"><\/script>/);
        const script = await fetch(new URL('/app.js', url));
        assert.equal(script.status, 200);
        assert.match(script.headers.get('content-type'), /javascript/);
        const js = Buffer.from(await script.arrayBuffer());
        // The page bundle made at npm pack, with mediasoup-client in it.
        assert.ok(js.equals(fs.readFileSync(path.join(installed, 'demo', 'dist', 'app.js'))), 'not demo/dist/app.js');
        const clientVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'mediasoup-client', 'package.json'), 'utf8')).version;
        assert.ok(js.includes('mediasoup-client') && js.includes(`"${clientVersion}"`), 'the page script lacks mediasoup-client');

        // The signalling, as the page uses it.
        socket = new WebSocket(new URL('/ws', url.replace(/^http/, 'ws')));
        await new Promise((resolve, reject) => {
          socket.once('open', resolve);
          socket.once('error', reject);
        });
        const pending = new Map();
        socket.on('message', (raw) => {
          const message = JSON.parse(raw);
          if (message.response && pending.has(message.id)) pending.get(message.id)(message);
        });
        let nextId = 1;
        const request = (method, data = {}) => new Promise((resolve, reject) => {
          const id = nextId++;
          pending.set(id, (message) => (message.ok ? resolve(message.data) : reject(new Error(`${method}: ${message.error}`))));
          socket.send(JSON.stringify({ request: true, id, method, data }));
        });
        const rtpCapabilities = await request('getRouterRtpCapabilities');
        const mimeTypes = rtpCapabilities.codecs.map((c) => c.mimeType);
        for (const mimeType of ['audio/opus', 'video/VP8', 'video/VP9', 'video/H264']) assert.ok(mimeTypes.includes(mimeType), `no ${mimeType} in ${mimeTypes}`);
        const transport = await request('createWebRtcTransport', { direction: 'send' });
        assert.ok(transport.iceCandidates.length > 0 && transport.dtlsParameters.fingerprints.length > 0);
        const joined = await request('join', { displayName: 'packed', rtpCapabilities });
        assert.equal(typeof joined.peerId, 'string');
        const stats = await (await fetch(new URL('/api/stats', url))).json();
        assert.equal(stats.totals.peers, 1);
        assert.equal(stats.totals.transports, 1);
        assert.equal(stats.engine.version, require('../package.json').version);

        child.kill('SIGTERM');
        assert.deepEqual(await exited, { code: 0, signal: null }, output);
        assert.match(output, /SIGTERM: shutting down[\s\S]*bye/);
      } finally {
        if (socket) socket.terminate();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    it('--build-from-source builds from source: without Go it stops with one clear line', () => {
      const app = scratchApp(dir, 'from-source-app');
      const res = install(app, { npm_config_build_from_source: 'true' });
      assert.notEqual(res.status, 0, 'the install succeeded without Go');
      assert.match(`${res.stdout}${res.stderr}`, /gosfu: Go >= 1\.26 is required to build the engine, but no 'go' command was found on PATH/);
    });
  });
});
