// gosfu/errors: mediasoup 3.27's 'mediasoup/errors', plus InvalidStateError.

/** Something is not supported (a codec the router lacks, a method a transport kind cannot do). */
export declare class UnsupportedError extends Error {
  constructor(message: string);
}

/**
 * gosfu: a method was called on an object in the wrong state (most often:
 * closed). mediasoup 3.27 has no such class; a closed Worker's
 * WorkerClosedError is one.
 */
export declare class InvalidStateError extends Error {
  constructor(message: string);
}

/** A method was called on a closed Worker (or a request was pending when it closed). */
export declare class WorkerClosedError extends InvalidStateError {
  constructor(message: string);
}

/** A referenced entity (for instance the producer of transport.consume()) does not exist. */
export declare class NotFoundError extends Error {
  constructor(message: string);
}
