'use strict';

// The release build for the other architecture: scripts/prebuild.js
// cross-compiles the engine and the N-API shim for linux-arm64, checks that
// they export their entry points, and runs a router with media through them
// under qemu-user with npm's arm64 Node (fetched by scripts/test.js before
// the network namespace, into GOSFU_ARM64_NODE). Needs Debian's
// gcc-aarch64-linux-gnu and qemu-user-static (.ci/run installs them): skipped
// without them, except with CI=true.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');

function missing() {
  const need = [];
  for (const cmd of ['aarch64-linux-gnu-gcc', 'qemu-aarch64-static']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) need.push(cmd);
  }
  const node = process.env.GOSFU_ARM64_NODE;
  if (!node || !fs.existsSync(node)) need.push('an arm64 Node (GOSFU_ARM64_NODE, set by npm test)');
  return need;
}

describe('prebuilt engine for linux-arm64', function () {
  this.timeout(600000);
  let dest;

  before(function () {
    if (process.arch !== 'x64') {
      console.log(`      the cross build runs on x64 hosts (this is ${process.arch}): skipping`);
      this.skip();
    }
    const need = missing();
    if (need.length > 0) {
      if (process.env.CI === 'true') throw new Error(`missing for the arm64 build: ${need.join(', ')}`);
      console.log(`      missing ${need.join(', ')}: skipping`);
      this.skip();
    }
    dest = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-prebuild-'));
  });

  after(() => {
    if (dest) fs.rmSync(dest, { recursive: true, force: true });
  });

  it('cross-compiles, exports its entry points and forwards media under qemu-user', () => {
    const res = spawnSync(process.execPath, ['scripts/prebuild.js', '--arch', 'arm64', '--dest', dest, '--check'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off' },
    });
    const out = `${res.stdout}${res.stderr}`;
    assert.equal(res.status, 0, out);
    const dir = path.join(dest, 'prebuilds', 'linux-arm64');
    for (const f of ['libgosfu.so', 'gosfu.napi.glibc.node']) {
      const elf = fs.readFileSync(path.join(dir, f)).subarray(0, 20);
      // ELF, 64-bit, e_machine 183 (AArch64).
      assert.equal(elf.toString('latin1', 1, 4), 'ELF', f);
      assert.equal(elf.readUInt16LE(18), 183, `${f} is not an AArch64 binary`);
    }
    // The README promises glibc 2.34: no symbol of a later version.
    for (const f of ['libgosfu.so', 'gosfu.napi.glibc.node']) {
      const dump = spawnSync('aarch64-linux-gnu-objdump', ['-T', path.join(dir, f)], { encoding: 'utf8' });
      assert.equal(dump.status, 0, dump.stderr);
      const newest = [...dump.stdout.matchAll(/GLIBC_2\.(\d+)/g)].reduce((m, x) => Math.max(m, Number(x[1])), 0);
      assert.ok(newest > 0 && newest <= 34, `${f} needs GLIBC_2.${newest}`);
    }
    assert.match(out, /linux-arm64: symbols present/);
    assert.match(out, /media through the arm64 engine: 44 bytes/);
  });
});
