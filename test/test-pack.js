'use strict';

// The published package builds and loads in another app: npm pack, then
// npm install of the tarball into a scratch app (offline: the test runs in
// a network namespace without registry access, so dependencies come from
// npm's cache and Go modules from the module cache), then require('gosfu').
// A tarball that carries the prebuilt engine for this platform
// (scripts/prebuild.js) installs and forwards media with neither Go nor a C
// compiler on PATH.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
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
      prebuilt = path.join(dest, npm(['pack', '--silent', '--pack-destination', dest], pkg).trim().split('\n').pop());
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

    it('--build-from-source builds from source: without Go it stops with one clear line', () => {
      const app = scratchApp(dir, 'from-source-app');
      const res = install(app, { npm_config_build_from_source: 'true' });
      assert.notEqual(res.status, 0, 'the install succeeded without Go');
      assert.match(`${res.stdout}${res.stderr}`, /gosfu: Go >= 1\.26 is required to build the engine, but no 'go' command was found on PATH/);
    });
  });
});
