'use strict';

// Prints the inputs of the Go build, one per line, for binding.gyp's
// go_build action: every non-test Go source and C header under capi/ and
// gosfu/, plus go.mod and go.sum. The directories are listed too, so a
// source file added after configure (which changes its directory's mtime)
// also triggers a rebuild. A file removed after configure needs a new
// `node-gyp configure` (install.js runs `node-gyp rebuild`).
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

function walk(dir, out) {
  out.push(dir);
  const entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      // testdata is never compiled into the library.
      if (e.name !== 'testdata' && !e.name.startsWith('.')) walk(rel, out);
    } else if ((e.name.endsWith('.go') && !e.name.endsWith('_test.go')) || e.name.endsWith('.h')
        || e.name.endsWith('.c')) {
      out.push(rel);
    }
  }
  return out;
}

const inputs = ['go.mod', 'go.sum', ...walk('capi', []), ...walk('gosfu', [])];
process.stdout.write(`${inputs.join('\n')}\n`);
