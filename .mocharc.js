'use strict';

module.exports = {
  spec: ['test/test-*.js'],
  timeout: 60000,
  exit: true,
};
