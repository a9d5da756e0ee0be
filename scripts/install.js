'use strict';

// npm install hook: builds the Go engine and the N-API shim with node-gyp
// against the headers of the running Node (no header download).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { checkGo } = require('./go-check');

const root = path.join(__dirname, '..');

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

const problem = checkGo();
if (problem) fail(problem);

const nodedir = path.resolve(process.execPath, '..', '..');
if (!fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) {
  fail(`gosfu: Node headers not found under ${nodedir}/include/node (install the Node development headers)`);
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try { candidates.push(require.resolve('node-gyp/bin/node-gyp.js')); } catch (e) { /* not installed locally */ }
  const npmDir = path.join(nodedir, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  candidates.push(npmDir);
  return candidates.find((c) => c && fs.existsSync(c));
}

const gyp = findNodeGyp();
if (!gyp) fail('gosfu: node-gyp not found (it ships with npm; set npm_config_node_gyp to its bin/node-gyp.js)');

const res = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: root, stdio: 'inherit', env: process.env,
});
if (res.status !== 0) fail('gosfu: building the native addon failed (see the errors above)');
