'use strict';

// The install script says in one clear line what is missing.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const check = path.join(__dirname, '..', 'scripts', 'go-check.js');

function runCheck(goPath) {
  return spawnSync(process.execPath, [check], { env: { ...process.env, GOSFU_GO: goPath }, encoding: 'utf8' });
}

describe('build prerequisites', () => {
  let dir;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-build-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('no Go found: one clear line', () => {
    const res = runCheck(path.join(dir, 'no-such-go'));
    assert.equal(res.status, 1);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^gosfu: Go >= 1\.26 is required to build the engine, but no 'go' command was found/);
  });

  it('Go too old: one clear line naming the version found', () => {
    const fake = path.join(dir, 'go');
    fs.writeFileSync(fake, '#!/bin/sh\necho "go version go1.21.4 linux/amd64"\n', { mode: 0o755 });
    const res = runCheck(fake);
    assert.equal(res.status, 1);
    assert.equal(res.stderr.trim(), 'gosfu: Go >= 1.26 is required to build the engine, found go1.21');
  });

  it('the Go on PATH is accepted', () => {
    const res = spawnSync(process.execPath, [check], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
  });
});
