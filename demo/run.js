#!/usr/bin/env node
'use strict';

// The room demo from wherever gosfu is: `npx gosfu-demo` (the package's
// "bin") or `node node_modules/gosfu/demo/run.js` in an app that installed
// it, `node demo/run.js` in the repository. Environment as demo/server.js.
//
// In the repository, whose node_modules has the devDependencies
// demo/server.js needs (ws; esbuild and mediasoup-client to bundle the page),
// it runs demo/server.js, as `npm start` does. Anywhere else it runs
// demo/dist/server.js, the bundle npm pack made (demo/bundle.js), which
// needs nothing but gosfu: an app's own ws or mediasoup-client, of whatever
// version, are not picked up.

const fs = require('node:fs');
const path = require('node:path');

const ownModules = path.join(fs.realpathSync(path.join(__dirname, '..')), 'node_modules') + path.sep;

function ownDevDependency(name) {
  try {
    return require.resolve(name, { paths: [__dirname] }).startsWith(ownModules);
  } catch (error) {
    return false;
  }
}

const fromSource = ['ws', 'esbuild', 'mediasoup-client'].every(ownDevDependency);
const server = path.join(__dirname, fromSource ? 'server.js' : path.join('dist', 'server.js'));
if (!fs.existsSync(server)) {
  console.error(`gosfu demo: ${server} is missing: in the repository, npm install (the devDependencies) or node demo/bundle.js`);
  process.exit(1);
}
require(server).main();
