'use strict';

/**
 * Something is not supported (a codec the router lacks, a method a transport
 * kind cannot do).
 */
class UnsupportedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnsupportedError';
    Error.captureStackTrace(this, UnsupportedError);
  }
}

/**
 * A method was called on an object in the wrong state (most often: closed).
 */
class InvalidStateError extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidStateError';
    Error.captureStackTrace(this, InvalidStateError);
  }
}

/**
 * A method was called on a closed Worker, or a request was pending when it
 * closed (mediasoup 3.27's class); an InvalidStateError too.
 */
class WorkerClosedError extends InvalidStateError {
  constructor(message) {
    super(message);
    this.name = 'WorkerClosedError';
    Error.captureStackTrace(this, WorkerClosedError);
  }
}

/**
 * A referenced entity (a Producer, a DataProducer…) does not exist.
 */
class NotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NotFoundError';
    Error.captureStackTrace(this, NotFoundError);
  }
}

/**
 * Builds the JS error for an engine failure {name, message}.
 */
function errorFromEngine({ name, message } = {}) {
  switch (name) {
    case 'TypeError': return new TypeError(message);
    case 'UnsupportedError': return new UnsupportedError(message);
    case 'InvalidStateError': return new InvalidStateError(message);
    case 'WorkerClosedError': return new WorkerClosedError(message);
    case 'NotFoundError': return new NotFoundError(message);
    default: return new Error(message);
  }
}

module.exports = {
  UnsupportedError, InvalidStateError, WorkerClosedError, NotFoundError, errorFromEngine,
};
