'use strict';

// A stand-in for lib/Channel in the Node-layer unit tests: it records every
// request and answers from a table, so the JS classes can be checked (their
// payloads, events and close cascades) without the engine.
const { EnhancedEventEmitter } = require('../lib/EnhancedEventEmitter');
const { errorFromEngine } = require('../lib/errors');

class FakeChannel extends EnhancedEventEmitter {
  /**
   * answers: method → value, or (handlerId, data) → value; a value of the
   * form {error: {name, message}} is thrown as the engine error.
   */
  constructor(answers = {}) {
    super();
    this.answers = answers;
    this.requests = [];
    this._closed = false;
  }

  get closed() {
    return this._closed;
  }

  close() {
    this._closed = true;
  }

  requestSync(method, handlerId, data) {
    if (this._closed) throw errorFromEngine({ name: 'InvalidStateError', message: 'Channel closed' });
    this.requests.push({ method, handlerId, data });
    let answer = this.answers[method];
    if (typeof answer === 'function') answer = answer(handlerId, data);
    if (answer && answer.error) throw errorFromEngine(answer.error);
    // What the real channel does: JSON out, JSON in.
    return answer === undefined ? undefined : JSON.parse(JSON.stringify(answer));
  }

  async request(method, handlerId, data) {
    return this.requestSync(method, handlerId, data);
  }

  /** The requests of one method, in order. */
  sent(method) {
    return this.requests.filter((r) => r.method === method);
  }

  /** An engine event as the real channel emits it. */
  fire(target, event, data) {
    this.emit(target, event, data);
  }
}

module.exports = { FakeChannel };
