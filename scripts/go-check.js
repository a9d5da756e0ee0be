'use strict';

// Checks that a Go toolchain new enough for the engine is on PATH and says
// what is missing in one clear line otherwise.
const { execFileSync } = require('child_process');

const MIN_MAJOR = 1;
const MIN_MINOR = 26;

function goBinary() {
  return process.env.GOSFU_GO || 'go';
}

function checkGo() {
  let out;
  try {
    out = execFileSync(goBinary(), ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return `gosfu: Go >= ${MIN_MAJOR}.${MIN_MINOR} is required to build the engine, but no 'go' command was found on PATH (install Go or set GOSFU_GO)`;
  }
  const m = /go(\d+)\.(\d+)/.exec(out);
  if (!m) {
    return `gosfu: cannot read the Go version from '${out.trim()}'`;
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < MIN_MAJOR || (major === MIN_MAJOR && minor < MIN_MINOR)) {
    return `gosfu: Go >= ${MIN_MAJOR}.${MIN_MINOR} is required to build the engine, found go${major}.${minor}`;
  }
  return null;
}

module.exports = { checkGo, goBinary };

if (require.main === module) {
  const problem = checkGo();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
