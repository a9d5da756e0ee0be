'use strict';

// The install script says in one clear line what is missing, and the
// native build sees every Go source.
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

  it('every file Go compiles into the library is an input of the go_build action', () => {
    const root = path.join(__dirname, '..');
    const listed = spawnSync(process.execPath, [path.join(root, 'scripts', 'go-sources.js')], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const inputs = new Set(listed.stdout.trim().split('\n'));
    // The module's own packages the library links, with the files of each.
    const tmpl = '{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}\n{{end}}'
      + '{{range .CgoFiles}}{{$d}}/{{.}}\n{{end}}{{range .HFiles}}{{$d}}/{{.}}\n{{end}}{{end}}';
    const res = spawnSync('go', ['list', '-deps', '-f', tmpl, './capi'], { cwd: root, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const compiled = res.stdout.split('\n').filter((f) => f.startsWith(`${root}/`))
      .map((f) => path.relative(root, f));
    assert.ok(compiled.includes('gosfu/engine/worker.go'), `go list found: ${compiled.join(' ')}`);
    const missing = compiled.filter((f) => !inputs.has(f));
    assert.deepEqual(missing, []);
    for (const f of ['go.mod', 'go.sum']) assert.ok(inputs.has(f), f);
  });
});
