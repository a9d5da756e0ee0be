'use strict';

// The published package builds and loads in another app: npm pack, then
// npm install of the tarball into a scratch app (offline: the test runs in
// a network namespace without registry access, so dependencies come from
// npm's cache and Go modules from the module cache), then require('gosfu').
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.join(__dirname, '..');

function npm(args, cwd, env) {
  const npmCli = process.env.npm_execpath && fs.existsSync(process.env.npm_execpath)
    ? [process.execPath, [process.env.npm_execpath]]
    : ['npm', []];
  return execFileSync(npmCli[0], [...npmCli[1], ...args], {
    cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('npm pack', function () {
  this.timeout(300000);
  let dir;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-pack-'));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball installs into a scratch app and require("gosfu") works there', () => {
    const out = npm(['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop();
    const tarball = path.join(dir, out);
    assert.ok(fs.existsSync(tarball), `no tarball ${tarball}`);
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true }));
    npm(['install', '--offline', '--no-audit', '--no-fund', tarball], app, {
      // Modules come from the local cache only.
      GOFLAGS: '-mod=mod', GOPROXY: 'off',
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
});
