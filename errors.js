'use strict';

// gosfu/errors: mediasoup 3.27's 'mediasoup/errors' (UnsupportedError,
// WorkerClosedError, NotFoundError), plus gosfu's InvalidStateError.
const { UnsupportedError, WorkerClosedError, InvalidStateError, NotFoundError } = require('./lib/errors');

module.exports = { UnsupportedError, WorkerClosedError, InvalidStateError, NotFoundError };
