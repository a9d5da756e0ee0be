'use strict';

const { randomUUID } = require('crypto');

/** Deep clone of JSON-compatible data (undefined stays undefined). */
function clone(value) {
  if (value === undefined) return undefined;
  if (Number.isNaN(value)) return NaN;
  if (typeof structuredClone === 'function') return structuredClone(value);
  return JSON.parse(JSON.stringify(value));
}

function generateUUIDv4() {
  return randomUUID();
}

/** mediasoup's rule for appData: absent or a plain object. */
function checkAppData(appData) {
  if (appData && typeof appData !== 'object') {
    throw new TypeError('if given, appData must be an object');
  }
}

module.exports = { clone, generateUUIDv4, checkAppData };
