'use strict';

// npm install hook. A package with a prebuild for this platform
// (prebuilds/<platform>-<arch>/, made by scripts/prebuild.js) needs nothing
// more: this checks that it loads and stops. Otherwise, or with
// --build-from-source (npm_config_build_from_source) or
// GOSFU_BUILD_FROM_SOURCE=1, it builds the Go engine and the N-API shim with
// node-gyp against the headers of the running Node (no header download).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { checkGo } = require('./go-check');

const root = path.join(__dirname, '..');

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

// A git checkout is a developer's tree: it always builds what it has (its
// prebuilds/, from npm run release, would hide source changes).
const fromSource = process.env.npm_config_build_from_source === 'true'
  || process.env.GOSFU_BUILD_FROM_SOURCE === '1'
  || fs.existsSync(path.join(root, '.git'));

/** Whether a prebuild for this platform loads (in a child: a failed dlopen stays there). */
function prebuildLoads() {
  if (!fs.existsSync(path.join(root, 'prebuilds'))) return false;
  const res = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(root, 'lib', 'native.js'))})`], {
    env: { ...process.env, PREBUILDS_ONLY: '1' }, encoding: 'utf8',
  });
  if (res.status !== 0) {
    console.error(`gosfu: the prebuilt engine does not load here, building from source:\n${(res.stderr || '').trim().split('\n').slice(-3).join('\n')}`);
    return false;
  }
  return true;
}

if (!fromSource && prebuildLoads()) {
  console.log(`gosfu: using the prebuilt engine for ${process.platform}-${process.arch}`);
  process.exit(0);
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
