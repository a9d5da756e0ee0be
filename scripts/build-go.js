'use strict';

// Builds the Go engine as a C shared library into the given directory.
// Called by binding.gyp; also usable by hand: node scripts/build-go.js build/Release
const path = require('path');
const { spawnSync } = require('child_process');
const { checkGo, goBinary } = require('./go-check');

const outDir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'build', 'Release'));
const root = path.join(__dirname, '..');

const problem = checkGo();
if (problem) {
  console.error(problem);
  process.exit(1);
}

const args = ['build', '-buildmode=c-shared', '-trimpath', '-ldflags=-s -w',
  '-o', path.join(outDir, 'libgosfu.so'), './capi'];
const env = { ...process.env, CGO_ENABLED: '1' };
const res = spawnSync(goBinary(), args, { cwd: root, stdio: 'inherit', env });
if (res.error) {
  console.error(`gosfu: cannot run go build: ${res.error.message}`);
  process.exit(1);
}
if (res.status !== 0) {
  console.error('gosfu: building the Go engine failed (see the errors above)');
  process.exit(res.status || 1);
}
