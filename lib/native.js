'use strict';

const path = require('path');

// The addon links libgosfu.so, found beside it through its rpath.
const candidates = [
  path.join(__dirname, '..', 'build', 'Release', 'gosfu.node'),
  path.join(__dirname, '..', 'build', 'Debug', 'gosfu.node'),
];

let binding;
let lastError;
for (const file of candidates) {
  try {
    binding = require(file);
    break;
  } catch (error) {
    lastError = error;
  }
}
if (!binding) {
  const error = new Error(`gosfu: the native addon is not built (run npm install): ${lastError && lastError.message}`);
  throw error;
}

module.exports = binding;
