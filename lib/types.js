'use strict';

// Runtime classes, as mediasoup's `types` export exposes them.
const { UnsupportedError, InvalidStateError } = require('./errors');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Worker } = require('./Worker');
const { Router } = require('./Router');

module.exports = {
  UnsupportedError,
  InvalidStateError,
  EnhancedEventEmitter,
  Worker,
  Router,
};
