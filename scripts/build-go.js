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
// Go 1.26's default garbage collector (Green Tea) crashed the engine once
// here with "fatal error: index out of range" in tryDeferToSpanScan while
// scanning a goroutine stack, as reported in golang/go#80799: a runtime
// fatal error cannot be recovered and would end the Node process. Build
// with the classic collector; a toolchain that no longer knows the
// experiment builds with its default.
const experiments = (process.env.GOEXPERIMENT || '').split(',').filter(Boolean);
const env = { ...process.env, CGO_ENABLED: '1', GOEXPERIMENT: experiments.concat('nogreenteagc').join(',') };
let res = spawnSync(goBinary(), args, { cwd: root, stdio: 'inherit', env });
if (!res.error && res.status !== 0 && !experiments.includes('nogreenteagc')) {
  console.error('gosfu: retrying the Go build without GOEXPERIMENT=nogreenteagc');
  res = spawnSync(goBinary(), args, { cwd: root, stdio: 'inherit', env: { ...env, GOEXPERIMENT: experiments.join(',') } });
}
if (res.error) {
  console.error(`gosfu: cannot run go build: ${res.error.message}`);
  process.exit(1);
}
if (res.status !== 0) {
  console.error('gosfu: building the Go engine failed (see the errors above)');
  process.exit(res.status || 1);
}
