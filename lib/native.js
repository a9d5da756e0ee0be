'use strict';

const path = require('path');

// The addon: build/Release (built from source by npm install) or, failing
// that, the prebuild for this platform under prebuilds/<platform>-<arch>/
// (node-gyp-build's convention). The addon links libgosfu.so, found beside
// it through its rpath.
const root = path.join(__dirname, '..');

let binding;
try {
  binding = require('node-gyp-build')(root);
} catch (error) {
  throw new Error(`gosfu: no native engine for ${process.platform}-${process.arch} (run npm install,`
    + ` or npm install --build-from-source with Go and a C compiler): ${error.message}`);
}

module.exports = binding;
