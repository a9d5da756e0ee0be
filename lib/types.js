'use strict';

// The runtime classes of the types mediasoup's `types` export names (there,
// types only).
const {
  UnsupportedError, WorkerClosedError, InvalidStateError, NotFoundError,
} = require('./errors');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { Worker } = require('./Worker');
const { Router } = require('./Router');
const { Transport } = require('./Transport');
const { PlainTransport } = require('./PlainTransport');
const { PipeTransport } = require('./PipeTransport');
const { DirectTransport } = require('./DirectTransport');
const { WebRtcTransport } = require('./WebRtcTransport');
const { WebRtcServer } = require('./WebRtcServer');
const { Producer } = require('./Producer');
const { Consumer } = require('./Consumer');
const { DataProducer } = require('./DataProducer');
const { DataConsumer } = require('./DataConsumer');
const { RtpObserver } = require('./RtpObserver');
const { AudioLevelObserver } = require('./AudioLevelObserver');
const { ActiveSpeakerObserver } = require('./ActiveSpeakerObserver');

module.exports = {
  UnsupportedError,
  WorkerClosedError,
  InvalidStateError,
  NotFoundError,
  EnhancedEventEmitter,
  Worker,
  Router,
  Transport,
  PlainTransport,
  PipeTransport,
  DirectTransport,
  WebRtcTransport,
  WebRtcServer,
  Producer,
  Consumer,
  DataProducer,
  DataConsumer,
  RtpObserver,
  AudioLevelObserver,
  ActiveSpeakerObserver,
};
